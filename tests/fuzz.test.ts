/**
 * Property-based fuzzing of every exported operation (fast-check): each case
 * starts from a valid call and replaces one to three of its arguments or
 * option fields by anything at all (wrong types, wrong kinds of typed array,
 * wrong lengths, NaN/Infinity, huge and negative sizes, detached and shared
 * buffers), runs a few of them concurrently on the same buffers, and demands
 * that each call resolves or fails with a SemfieldError of a known code.
 * Every exported function is in the table (a test checks it, so a new export
 * is fuzzed from its first day); each call must end within 2 s. The only
 * other errors allowed are those the caller's own objects throw (a throwing
 * getter, a throwing Symbol.toPrimitive).
 * CI runs FUZZ_RUNS (default 700: over 100,000 calls) cases per operation; `npm run fuzz` runs the
 * nightly size (over 100,000 calls in all).
 */
import fc from 'fast-check';
import * as semfield from '../lib';
import {
  SemfieldError, condense, curl, deposit, div, fractal, grad, interpolate, laplacian, maxwell, modes, points, potential, project, resonance, wave,
  cellCentre, chartPng, chartSvg, device, encodePng, fieldChart, fieldToRgb, interiorPeaks, labelsToRgb, lineChart, linePlot, loadVocabulary,
  normalizeGrid, projectionAxes,
} from '../lib';

const CODES = new Set(['E_TYPE', 'E_SHAPE', 'E_NONFINITE', 'E_RANGE', 'E_CFL', 'E_NOT_CONVERGED', 'E_NOT_CONTRACTIVE', 'E_TOO_LARGE', 'E_DEVICE', 'E_OOM', 'E_ABORTED']);
const RUNS = Number(process.env.FUZZ_RUNS ?? 700);
const LIMIT_MS = 2000;

/** What the caller's own objects throw: passed through unchanged, never wrapped. */
class CallerError extends Error {}
const throwingGetter = () => Object.defineProperty({}, 'n', { enumerable: true, get: () => { throw new CallerError('getter'); } });
const throwingPrimitive = () => ({ [Symbol.toPrimitive]: () => { throw new CallerError('toPrimitive'); } });

function detached(): Float32Array {
  const a = new Float32Array(16);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

const special = fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, -0, 1, 0.5, 2 ** 31, 2 ** 53, -(2 ** 31), 1e-300, 1e20, -1e20, 1e300, 65537, 2 ** 30);
const floats = fc.array(fc.oneof(fc.float({ noDefaultInfinity: false }), special.map(Math.fround)), { maxLength: 300 });
const anyTyped = fc.oneof(
  floats.map((v) => Float32Array.from(v)),
  floats.map((v) => Float64Array.from(v)),
  fc.array(fc.integer({ min: -5, max: 300 }), { maxLength: 64 }).map((v) => Int32Array.from(v)),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map((v) => Uint8Array.from(v)),
  fc.constant(null).map(() => detached()),
  fc.integer({ min: 0, max: 64 }).map((n) => new Float32Array(new SharedArrayBuffer(4 * n))),
  fc.integer({ min: 1, max: 64 }).map((n) => new Float32Array(new ArrayBuffer(4 * n + 8), 8, n)),
);
const anything: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, true, false, '', 'cpu', 'cuda', 'auto', 'periodic', 'gaussian', 'flat', 'max'),
  special,
  fc.integer({ min: -1000, max: 100000 }),
  fc.string({ maxLength: 6 }),
  anyTyped,
  fc.array(fc.oneof(fc.integer({ min: -3, max: 70000 }), special), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('kind', 'sigma', 'eps', 'x', 'n', 'mask'), fc.oneof(special, fc.string({ maxLength: 3 })), { maxKeys: 3 }),
  fc.constant({}),
  fc.constant(new AbortController().signal),
  fc.constantFrom(Symbol('s'), 10n, () => 0, new Date(0), /x/, new Map(), [[1, 2], [3]], { x: 1, y: 2, word: 'w' }, '../../etc/passwd', '/'),
  fc.constant(null).map(() => throwingGetter()),
  fc.constant(null).map(() => throwingPrimitive()),
);

/** Options with the harness's abort signal added (unless a mutation put a signal there, or replaced the options). */
function sig(o: unknown, s: AbortSignal): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o) && !ArrayBuffer.isView(o) && !('signal' in o) ? { ...o, signal: s } : o;
}

// A valid code of a 16 x 16 image (made once, before the runs).
let CODE: Uint8Array = new Uint8Array(0);
beforeAll(async () => {
  CODE = (await fractal.encode(Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 0.37)), { width: 16, height: 16, maxBlock: 8 })).code;
});

// A valid call as a tree of arguments; mutations replace nodes by path.
type Tree = Record<string, unknown>;
interface Op {
  name: string;
  /** Share of FUZZ_RUNS (default 1). */
  runs?: number;
  valid: () => Tree;
  /** The call; `s` aborts it when it runs past the time limit. */
  call: (t: Tree, s: AbortSignal) => Promise<unknown>;
}

const f32 = (n: number, f = (i: number) => Math.sin(i * 0.37)) => Float32Array.from({ length: n }, (_, i) => f(i));
const g2 = () => ({ n: [8, 8], h: 0.125, boundary: 'dirichlet' });
const ops: Op[] = [
  { name: 'potential', valid: () => ({ rho: f32(64), grid: g2(), o: { kappa: 1, tol: 1e-6, maxCycles: 20, anchors: { mask: new Uint8Array(64), values: f32(64) } } }), call: (t, s) => potential(t.rho as never, t.grid as never, sig(t.o, s) as never) },
  { name: 'deposit', valid: () => ({ p: f32(20, (i) => 0.1 + (i % 7) * 0.1), grid: g2(), o: { charges: f32(10) } }), call: (t, s) => deposit(t.p as never, t.grid as never, sig(t.o, s) as never) },
  { name: 'interpolate', valid: () => ({ f: f32(64), p: f32(20, (i) => 0.2 + (i % 5) * 0.1), grid: g2(), o: {} }), call: (t, s) => interpolate(t.f as never, t.p as never, t.grid as never, sig(t.o, s) as never) },
  { name: 'grad', valid: () => ({ u: f32(64), grid: g2() }), call: (t) => grad(t.u as never, t.grid as never) },
  { name: 'div', valid: () => ({ u: f32(128), grid: g2() }), call: (t) => div(t.u as never, t.grid as never) },
  { name: 'curl', valid: () => ({ u: f32(128), grid: { n: [8, 8], boundary: 'periodic' } }), call: (t) => curl(t.u as never, t.grid as never) },
  { name: 'laplacian', valid: () => ({ u: f32(64), grid: g2() }), call: (t) => laplacian(t.u as never, t.grid as never) },
  { name: 'condense', valid: () => ({ f: f32(64), grid: g2(), o: { rho: f32(64), seek: 'max' } }), call: (t, s) => condense(t.f as never, t.grid as never, sig(t.o, s) as never) },
  { name: 'project', valid: () => ({ x: f32(60), o: { d: 6, k: 2, grid: g2(), seed: 1 } }), call: (t, s) => project(t.x as never, sig(t.o, s) as never) },
  { name: 'points.potential', valid: () => ({ s: f32(30), t: f32(15), o: { d: 3, kernel: { kind: 'yukawa', kappa: 1, eps: 0.1 }, weights: f32(10) } }), call: (t, s) => points.potential(t.s as never, t.t as never, sig(t.o, s) as never) },
  { name: 'points.distanceMatrix', valid: () => ({ x: f32(30), off: Int32Array.from([0, 4, 10]), o: { d: 3, metric: 'mmd', kernel: { kind: 'gaussian', sigma: 1 } } }), call: (t, s) => points.distanceMatrix(t.x as never, t.off as never, sig(t.o, s) as never) },
  { name: 'points.energyDistance', valid: () => ({ x: f32(12), y: f32(9), o: { d: 3, wx: f32(4, () => 1) } }), call: (t, s) => points.energyDistance(t.x as never, t.y as never, sig(t.o, s) as never) },
  { name: 'points.attention', valid: () => ({ q: f32(24), k: f32(36), v: f32(12), o: { d: 3, heads: 2, kernel: { kind: 'gaussian', sigma: 1 }, causal: true, returnLse: true } }), call: (t, s) => points.attention(t.q as never, t.k as never, t.v as never, sig(t.o, s) as never) },
  { name: 'points.condense', valid: () => ({ x: f32(40), o: { d: 2, kernel: { kind: 'flat', radius: 0.5 } } }), call: (t, s) => points.condense(t.x as never, sig(t.o, s) as never) },
  { name: 'points.induce', valid: () => ({ x: f32(40), o: { d: 2, labeled: Int32Array.from([0, 3]), values: f32(2), kernel: { kind: 'gaussian', sigma: 1 } } }), call: (t, s) => points.induce(t.x as never, sig(t.o, s) as never) },
  { name: 'wave', valid: () => ({ u: f32(64), grid: g2(), o: { dt: 0.03, steps: 5, kappa: 1, damping: 0.1, source: f32(64), f: f32(5), probes: f32(4, () => 0.5), every: 2, energyEvery: 1 } }), call: (t, s) => wave(t.u as never, t.grid as never, sig(t.o, s) as never) },
  { name: 'modes', valid: () => ({ grid: { n: [16, 16] }, o: { k: 2, V: f32(256), tol: 1e-4, maxIter: 50, allowNotConverged: true } }), call: (t, s) => modes(t.grid as never, sig(t.o, s) as never) },
  { name: 'resonance', valid: () => ({ a: f32(64), grid: g2(), o: { w: [0, 1, 2], rhoB: f32(64), damping: 0.5, maxIter: 50, allowNotConverged: true } }), call: (t, s) => resonance(t.a as never, t.grid as never, sig(t.o, s) as never) },
  { name: 'maxwell', valid: () => ({ o: { n: [8, 8], batch: 2, dt: 0.04, steps: 4, mode: 'TEz', boundary: ['cpml', 'pec'], pml: { cells: 2 }, eps: f32(64, () => 1.5), sources: [{ component: 'x', profile: f32(64), f: f32(4) }], probes: [{ component: 'Hz', at: [0.1875, 0.3125] }], loops: [[[0.125, 0.125], [0.375, 0.125], [0.375, 0.375], [0.125, 0.375], [0.125, 0.125]]], energyEvery: 1 } }), call: (t, s) => maxwell(sig(t.o, s) as never) },
  { name: 'fractal.unfold', valid: () => ({ ifs: fractal.presets.sierpinski(), depth: 3, o: { start: [0.1, 0.2] } }), call: (t, s) => fractal.unfold(t.ifs as never, t.depth as never, sig(t.o, s) as never) },
  { name: 'fractal.chaosGame', valid: () => ({ ifs: fractal.presets.fern(), n: 100, o: { seed: 3, chains: 4, burnIn: 2 } }), call: (t, s) => fractal.chaosGame(t.ifs as never, t.n as never, sig(t.o, s) as never) },
  // n stays fixed: a valid n may be up to 2^42 points, minutes of work.
  { name: 'fractal.render', valid: () => ({ ifs: fractal.presets.koch(), o: { size: [8, 4], lo: [0, 0], hi: [1, 0.3], seed: 2 } }), call: (t, s) => fractal.render(t.ifs as never, 1000, sig(t.o, s) as never) },
  { name: 'fractal.unfoldToken', valid: () => ({ p: f32(12), c: f32(8), o: { d: 4, depth: 2, s: 0.5, beta: 1 } }), call: (t, s) => fractal.unfoldToken(t.p as never, t.c as never, sig(t.o, s) as never) },
  { name: 'fractal.boxDimension', valid: () => ({ x: f32(400), o: { d: 2, offsets: 2, scales: [0.05, 0.5] } }), call: (t, s) => fractal.boxDimension(t.x as never, sig(t.o, s) as never) },
  { name: 'fractal.boxDimensionMask', valid: () => ({ m: Uint8Array.from({ length: 4096 }, (_, i) => i % 3), o: { shape: [64, 64], offsets: 4 } }), call: (t, s) => fractal.boxDimensionMask(t.m as never, sig(t.o, s) as never) },
  { name: 'fractal.correlationDimension', valid: () => ({ x: f32(400), o: { d: 2, bins: 16, radii: [0.01, 1], minPairs: 1 } }), call: (t, s) => fractal.correlationDimension(t.x as never, sig(t.o, s) as never) },
  { name: 'fractal.encode', valid: () => ({ img: f32(256), o: { width: 16, height: 16, tolerance: 0.1, minBlock: 4, maxBlock: 8 } }), call: (t, s) => fractal.encode(t.img as never, sig(t.o, s) as never) },
  { name: 'fractal.decode', valid: () => ({ code: CODE, o: { scale: 2, maxIterations: 8 } }), call: (t, s) => fractal.decode(t.code as never, sig(t.o, s) as never) },
  { name: 'points.energy', valid: () => ({ a: f32(12), b: f32(9), o: { d: 3, kernel: { kind: 'coulomb', eps: 0.1 }, wa: f32(4, () => 1) } }), call: (t, s) => points.energy(t.a as never, t.b as never, sig(t.o, s) as never) },
  { name: 'points.mmd', valid: () => ({ x: f32(12), y: f32(9), o: { d: 3, kernel: { kind: 'gaussian', sigma: 1 } } }), call: (t, s) => points.mmd(t.x as never, t.y as never, sig(t.o, s) as never) },
  { name: 'points.attentionGrad', valid: () => ({ q: f32(24), k: f32(36), v: f32(12), g: f32(8), o: { d: 3, heads: 2, kernel: { kind: 'yukawa', kappa: 1, eps: 0.1 }, causal: 'top-left', saved: { out: f32(8), lse: f32(8) } } }), call: (t, s) => points.attentionGrad(t.q as never, t.k as never, t.v as never, t.g as never, sig(t.o, s) as never) },
  { name: 'points.energyGrad', valid: () => ({ a: f32(12), b: f32(9), o: { d: 3, kernel: { kind: 'matern32', length: 1 } } }), call: (t, s) => points.energyGrad(t.a as never, t.b as never, sig(t.o, s) as never) },
  { name: 'points.energyDistanceGrad', valid: () => ({ x: f32(12), y: f32(9), o: { d: 3, wy: f32(3, () => 2) } }), call: (t, s) => points.energyDistanceGrad(t.x as never, t.y as never, sig(t.o, s) as never) },
  { name: 'points.mmdGrad', valid: () => ({ x: f32(12), y: f32(9), o: { d: 3, kernel: { kind: 'gaussian', sigma: 1 } } }), call: (t, s) => points.mmdGrad(t.x as never, t.y as never, sig(t.o, s) as never) },
  { name: 'points.flow', valid: () => ({ x: f32(12), y: f32(9), o: { d: 3, metric: 'mmd', kernel: { kind: 'gaussian', sigma: 1 }, steps: 4, every: 2, noise: 0.1, seed: 2 } }), call: (t, s) => points.flow(t.x as never, t.y as never, sig(t.o, s) as never) },
  { name: 'normalizeGrid', valid: () => ({ g: { n: [8, 4, 2], h: 0.5, boundary: ['periodic', 'dirichlet', 'neumann'] } }), call: async (t) => normalizeGrid(t.g as never) },
  { name: 'cellCentre', valid: () => ({ g: g2(), c: 9 }), call: async (t) => cellCentre(t.g as never, t.c as never) },
  { name: 'device.info', valid: () => ({ unused: 0 }), call: async () => device.info() },
  { name: 'device.scratch', valid: () => ({ unused: 0 }), call: async () => device.scratch() },
  { name: 'device.releaseScratch', valid: () => ({ unused: 0 }), call: async () => device.releaseScratch() },
  { name: 'fractal.presets', valid: () => ({ k: 'fern' }), call: async (t) => (fractal.presets as unknown as Record<string, () => unknown>)[['sierpinski', 'cantor', 'koch', 'square', 'fern'].includes(t.k as string) ? (t.k as string) : 'koch']() },
  { name: 'fractal.packIfs', valid: () => ({ ifs: fractal.presets.fern() }), call: async (t) => fractal.packIfs(t.ifs as never) },
  { name: 'fractal.boundary', valid: () => ({ m: Uint8Array.from({ length: 64 }, (_, i) => i % 3), o: { shape: [8, 8] } }), call: async (t) => fractal.boundary(t.m as never, t.o as never) },
  { name: 'fractal.straightRange', valid: () => ({ x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 9], u: [1, 1, 1, 1, 1] }), call: async (t) => fractal.straightRange(t.x as never, t.y as never, t.u as never) },
  { name: 'fractal.fitLine', valid: () => ({ x: [1, 2, 3, 4], y: Float64Array.from([2, 4.1, 5.9, 8]), u: Uint8Array.from([1, 1, 1, 0]) }), call: async (t) => fractal.fitLine(t.x as never, t.y as never, t.u as never) },
  { name: 'fractal.codeInfo', valid: () => ({ code: CODE }), call: async (t) => fractal.codeInfo(t.code as never) },
  { name: 'fractal.psnr', valid: () => ({ a: f32(16), b: f32(16, (i) => i), peak: 255 }), call: async (t) => fractal.psnr(t.a as never, t.b as never, t.peak as never) },
  { name: 'loadVocabulary', valid: () => ({ file: undefined }), call: async (t) => loadVocabulary(t.file as never) },
  { name: 'encodePng', valid: () => ({ rgb: new Uint8Array(12), w: 2, h: 2 }), call: async (t) => encodePng(t.rgb as never, t.w as never, t.h as never) },
  { name: 'fieldToRgb', valid: () => ({ f: f32(12), w: 4, h: 3 }), call: async (t) => fieldToRgb(t.f as never, t.w as never, t.h as never) },
  { name: 'labelsToRgb', valid: () => ({ l: Int32Array.from({ length: 12 }, (_, i) => i % 3), w: 4, h: 3 }), call: async (t) => labelsToRgb(t.l as never, t.w as never, t.h as never) },
  { name: 'interiorPeaks', valid: () => ({ y: [0, 2, 1, 3, 0] }), call: async (t) => interiorPeaks(t.y as never) },
  { name: 'projectionAxes', valid: () => ({ t: { scale: 2, offset: [0.5, 0.5], explainedRatio: [0.6, 0.3] } }), call: async (t) => projectionAxes(t.t as never) },
  { name: 'fieldChart', valid: () => ({ o: { field: f32(12), nx: 4, ny: 3, title: 't', concepts: [{ x: 0.2, y: 0.3, word: 'a', theme: 'k', mass: 1 }], notes: [{ x: 0.5, y: 0.5, text: 'n' }], domain: [-1, 1], scheme: 'blueorange', edges: new Uint8Array(12), axisMap: { x: [0, 1], y: [0, 2] }, maxLabels: 4, width: 100 } }), call: async (t) => fieldChart(t.o as never) },
  { name: 'lineChart', valid: () => ({ s: [{ name: 'a', x: [1, 2, 3], y: Float32Array.from([3, 1, 2]), dashed: true }], o: { xLabel: 'x', yLabel: 'y', logY: true, title: 't', marks: [{ x: 2, y: 1, label: 'm' }] } }), call: async (t) => lineChart(t.s as never, t.o as never) },
  // The renderers (vega, resvg) cost 0.1-0.4 s a picture: a tenth of the runs.
  { name: 'linePlot', runs: 0.1, valid: () => ({ s: [{ name: 'a', x: [1, 2, 3], y: [3, 1e20, 2] }], o: { xLabel: 'x', yLabel: 'y', width: 60, height: 40 } }), call: (t) => linePlot(t.s as never, t.o as never) },
  { name: 'chartSvg', runs: 0.1, valid: () => ({ spec: { mark: 'point', data: { values: [{ a: 1 }] }, encoding: { x: { field: 'a', type: 'quantitative' } } } }), call: (t) => chartSvg(t.spec as never) },
  { name: 'chartPng', runs: 0.1, valid: () => ({ spec: { mark: 'bar', width: 40, height: 30, data: { values: [{ a: 1 }] }, encoding: { y: { field: 'a', type: 'quantitative' } } }, scale: 1 }), call: (t) => chartPng(t.spec as never, t.scale as never) },
  { name: 'points.resonance', valid: () => ({ a: f32(12), b: f32(9), w: [0, 1], o: { d: 3, damping: 0.1 } }), call: (t, s) => points.resonance(t.a as never, t.b as never, t.w as never, sig(t.o, s) as never) },
];

// Every path to a node of a tree (objects and arrays, not typed arrays).
function paths(t: unknown, prefix: string[] = []): string[][] {
  if (t === null || typeof t !== 'object' || ArrayBuffer.isView(t) || t instanceof AbortSignal) return [prefix];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const k of Object.keys(t as object)) out.push(...paths((t as Record<string, unknown>)[k], [...prefix, k]));
  return out;
}

function setPath(t: Tree, path: string[], v: unknown): void {
  let node = t as Record<string, unknown>;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]] as Record<string, unknown>;
  node[path[path.length - 1]] = v;
}

/**
 * A call's outcome. At LIMIT_MS its signal aborts it (a valid call may ask
 * for minutes of work: 1e6 flow steps, say); it must then stop within
 * ABORT_MS of that abort. Its synchronous part (until it returns its
 * promise) cannot be raced: it is timed, and must take less than LIMIT_MS +
 * ABORT_MS. The abort is timed from when it was delivered: three calls share
 * the event loop, and another's synchronous work can hold a timer back.
 */
const ABORT_MS = 250;
async function outcome(call: (s: AbortSignal) => Promise<unknown>): Promise<string> {
  const t0 = performance.now();
  const ac = new AbortController();
  let abortedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let abortTimer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    abortTimer = setTimeout(() => {
      abortedAt = performance.now();
      ac.abort();
      timer = setTimeout(() => resolve(`unexpected: still running ${ABORT_MS} ms after its abort at ${(abortedAt! - t0).toFixed(0)} ms`), ABORT_MS);
    }, LIMIT_MS);
  });
  try {
    const pending = call(ac.signal);
    const sync = performance.now() - t0;
    if (sync > LIMIT_MS + ABORT_MS) return `unexpected: its synchronous part took ${sync.toFixed(0)} ms`;
    // A call still running ABORT_MS after its abort is caught by the late
    // timer. One that settles first is not timed further: three calls share
    // the event loop, so another call's synchronous work, or this one's own
    // work on its result (a batch of 96160 fields' records), can delay its
    // settling past the bound after the native work stopped in time. The
    // stop itself is timed one call at a time by tests/cancel.test.ts.
    return await Promise.race([pending.then(() => 'ok'), late]);
  } catch (e) {
    if (e instanceof CallerError) return 'caller';
    if (e instanceof SemfieldError && CODES.has(e.code)) return e.code;
    return `unexpected ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
  } finally {
    clearTimeout(timer);
    clearTimeout(abortTimer);
  }
}

export let fuzzCalls = 0;
const stats = new Map<string, number>();
afterAll(() => {
  if (process.env.FUZZ_REPORT) process.stdout.write(`fuzz: ${fuzzCalls} calls; outcomes ${JSON.stringify(Object.fromEntries(stats))}\n`);
});

// Every function the package exports, by its path (fractal.presets counts as one).
function exportedFunctions(o: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const path = prefix + k;
    if (path === 'fractal.presets') out.push(path);
    else if (typeof v === 'function' && !/^[A-Z]/.test(k)) out.push(path);
    else if (isObject(v)) out.push(...exportedFunctions(v as Record<string, unknown>, `${path}.`));
  }
  return out;
}
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

test('every exported function is fuzzed', () => {
  const fuzzed = new Set(ops.map((o) => o.name));
  const all = exportedFunctions(semfield as unknown as Record<string, unknown>);
  expect(all.length).toBeGreaterThan(50);
  expect(all.filter((f) => !fuzzed.has(f))).toEqual([]);
});

describe('fuzzing every exported operation', () => {
  for (const op of ops) {
    const runs = Math.max(5, Math.round(RUNS * (op.runs ?? 1)));
    test(`${op.name}: ${runs} mutated calls, 3 at a time on shared buffers`, async () => {
      const all = paths(op.valid());
      const mutation = fc.array(fc.tuple(fc.integer({ min: 0, max: all.length - 1 }), anything), { minLength: 1, maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(mutation, async (muts) => {
          const t = op.valid();
          for (const [i, v] of muts) {
            try {
              setPath(t, all[i], v);
            } catch {
              /* the parent was replaced by an earlier mutation */
            }
          }
          // The same tree three times at once: the same buffers in flight concurrently.
          const results = await Promise.all([outcome((s) => op.call(t, s)), outcome((s) => op.call(t, s)), outcome((s) => op.call(t, s))]);
          fuzzCalls += 3;
          for (const r of results) {
            stats.set(r, (stats.get(r) ?? 0) + 1);
            if (r.startsWith('unexpected')) throw new Error(`${op.name}: ${r}`);
          }
        }),
        { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
      );
      // The unmutated call still works afterwards.
      expect(await outcome((s) => op.call(op.valid(), s))).toBe('ok');
    });
  }
});
