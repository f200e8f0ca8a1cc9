/**
 * Property-based fuzzing of every exported operation (fast-check): each case
 * starts from a valid call and replaces one to three of its arguments or
 * option fields by anything at all (wrong types, wrong kinds of typed array,
 * wrong lengths, NaN/Infinity, huge and negative sizes, detached and shared
 * buffers), runs a few of them concurrently on the same buffers, and demands
 * that each call resolves or fails with a SemfieldError of a known code.
 * CI runs FUZZ_RUNS (default 300) cases per operation; `npm run fuzz` runs the
 * nightly size (100,000 calls in all).
 */
import fc from 'fast-check';
import {
  SemfieldError, condense, curl, deposit, div, fractal, grad, interpolate, laplacian, maxwell, modes, points, potential, project, resonance, wave,
} from '../lib';

const CODES = new Set(['E_TYPE', 'E_SHAPE', 'E_NONFINITE', 'E_RANGE', 'E_CFL', 'E_NOT_CONVERGED', 'E_NOT_CONTRACTIVE', 'E_TOO_LARGE', 'E_DEVICE', 'E_OOM', 'E_ABORTED']);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function detached(): Float32Array {
  const a = new Float32Array(16);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

const special = fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, 1, 0.5, 2 ** 31, 2 ** 53, -(2 ** 31), 1e-300, 65537);
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
);

// A valid code of a 16 x 16 image (made once, before the runs).
let CODE: Uint8Array = new Uint8Array(0);
beforeAll(async () => {
  CODE = (await fractal.encode(Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 0.37)), { width: 16, height: 16, maxBlock: 8 })).code;
});

// A valid call as a tree of arguments; mutations replace nodes by path.
type Tree = Record<string, unknown>;
interface Op {
  name: string;
  valid: () => Tree;
  call: (t: Tree) => Promise<unknown>;
}

const f32 = (n: number, f = (i: number) => Math.sin(i * 0.37)) => Float32Array.from({ length: n }, (_, i) => f(i));
const g2 = () => ({ n: [8, 8], h: 0.125, boundary: 'dirichlet' });
const ops: Op[] = [
  { name: 'potential', valid: () => ({ rho: f32(64), grid: g2(), o: { kappa: 1, tol: 1e-6, maxCycles: 20, anchors: { mask: new Uint8Array(64), values: f32(64) } } }), call: (t) => potential(t.rho as never, t.grid as never, t.o as never) },
  { name: 'deposit', valid: () => ({ p: f32(20, (i) => 0.1 + (i % 7) * 0.1), grid: g2(), o: { charges: f32(10) } }), call: (t) => deposit(t.p as never, t.grid as never, t.o as never) },
  { name: 'interpolate', valid: () => ({ f: f32(64), p: f32(20, (i) => 0.2 + (i % 5) * 0.1), grid: g2(), o: {} }), call: (t) => interpolate(t.f as never, t.p as never, t.grid as never, t.o as never) },
  { name: 'grad', valid: () => ({ u: f32(64), grid: g2() }), call: (t) => grad(t.u as never, t.grid as never) },
  { name: 'div', valid: () => ({ u: f32(128), grid: g2() }), call: (t) => div(t.u as never, t.grid as never) },
  { name: 'curl', valid: () => ({ u: f32(128), grid: { n: [8, 8], boundary: 'periodic' } }), call: (t) => curl(t.u as never, t.grid as never) },
  { name: 'laplacian', valid: () => ({ u: f32(64), grid: g2() }), call: (t) => laplacian(t.u as never, t.grid as never) },
  { name: 'condense', valid: () => ({ f: f32(64), grid: g2(), o: { rho: f32(64), seek: 'max' } }), call: (t) => condense(t.f as never, t.grid as never, t.o as never) },
  { name: 'project', valid: () => ({ x: f32(60), o: { d: 6, k: 2, grid: g2(), seed: 1 } }), call: (t) => project(t.x as never, t.o as never) },
  { name: 'points.potential', valid: () => ({ s: f32(30), t: f32(15), o: { d: 3, kernel: { kind: 'yukawa', kappa: 1, eps: 0.1 }, weights: f32(10) } }), call: (t) => points.potential(t.s as never, t.t as never, t.o as never) },
  { name: 'points.distanceMatrix', valid: () => ({ x: f32(30), off: Int32Array.from([0, 4, 10]), o: { d: 3, metric: 'mmd', kernel: { kind: 'gaussian', sigma: 1 } } }), call: (t) => points.distanceMatrix(t.x as never, t.off as never, t.o as never) },
  { name: 'points.energyDistance', valid: () => ({ x: f32(12), y: f32(9), o: { d: 3, wx: f32(4, () => 1) } }), call: (t) => points.energyDistance(t.x as never, t.y as never, t.o as never) },
  { name: 'points.attention', valid: () => ({ q: f32(24), k: f32(36), v: f32(12), o: { d: 3, heads: 2, kernel: { kind: 'gaussian', sigma: 1 }, causal: true } }), call: (t) => points.attention(t.q as never, t.k as never, t.v as never, t.o as never) },
  { name: 'points.condense', valid: () => ({ x: f32(40), o: { d: 2, kernel: { kind: 'flat', radius: 0.5 } } }), call: (t) => points.condense(t.x as never, t.o as never) },
  { name: 'points.induce', valid: () => ({ x: f32(40), o: { d: 2, labeled: Int32Array.from([0, 3]), values: f32(2), kernel: { kind: 'gaussian', sigma: 1 } } }), call: (t) => points.induce(t.x as never, t.o as never) },
  { name: 'wave', valid: () => ({ u: f32(64), grid: g2(), o: { dt: 0.03, steps: 5, kappa: 1, damping: 0.1, source: f32(64), f: f32(5), probes: f32(4, () => 0.5), every: 2, energyEvery: 1 } }), call: (t) => wave(t.u as never, t.grid as never, t.o as never) },
  { name: 'modes', valid: () => ({ grid: { n: [16, 16] }, o: { k: 2, V: f32(256), tol: 1e-4, maxIter: 50, allowNotConverged: true } }), call: (t) => modes(t.grid as never, t.o as never) },
  { name: 'resonance', valid: () => ({ a: f32(64), grid: g2(), o: { w: [0, 1, 2], rhoB: f32(64), damping: 0.5, maxIter: 50, allowNotConverged: true } }), call: (t) => resonance(t.a as never, t.grid as never, t.o as never) },
  { name: 'maxwell', valid: () => ({ o: { n: [8, 8], batch: 2, dt: 0.04, steps: 4, mode: 'TEz', boundary: ['cpml', 'pec'], pml: { cells: 2 }, eps: f32(64, () => 1.5), sources: [{ component: 'x', profile: f32(64), f: f32(4) }], probes: [{ component: 'Hz', at: [1, 2] }], loops: [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]], energyEvery: 1 } }), call: (t) => maxwell(t.o as never) },
  { name: 'fractal.unfold', valid: () => ({ ifs: fractal.presets.sierpinski(), depth: 3, o: { start: [0.1, 0.2] } }), call: (t) => fractal.unfold(t.ifs as never, t.depth as never, t.o as never) },
  { name: 'fractal.chaosGame', valid: () => ({ ifs: fractal.presets.fern(), n: 100, o: { seed: 3, chains: 4, burnIn: 2 } }), call: (t) => fractal.chaosGame(t.ifs as never, t.n as never, t.o as never) },
  // n stays fixed: a valid n may be up to 2^42 points, minutes of work.
  { name: 'fractal.render', valid: () => ({ ifs: fractal.presets.koch(), o: { size: [8, 4], lo: [0, 0], hi: [1, 0.3], seed: 2 } }), call: (t) => fractal.render(t.ifs as never, 1000, t.o as never) },
  { name: 'fractal.unfoldToken', valid: () => ({ p: f32(12), c: f32(8), o: { d: 4, depth: 2, s: 0.5, beta: 1 } }), call: (t) => fractal.unfoldToken(t.p as never, t.c as never, t.o as never) },
  { name: 'fractal.boxDimension', valid: () => ({ x: f32(400), o: { d: 2, offsets: 2, scales: [0.05, 0.5] } }), call: (t) => fractal.boxDimension(t.x as never, t.o as never) },
  { name: 'fractal.boxDimensionMask', valid: () => ({ m: Uint8Array.from({ length: 4096 }, (_, i) => i % 3), o: { shape: [64, 64], offsets: 4 } }), call: (t) => fractal.boxDimensionMask(t.m as never, t.o as never) },
  { name: 'fractal.correlationDimension', valid: () => ({ x: f32(400), o: { d: 2, bins: 16, radii: [0.01, 1], minPairs: 1 } }), call: (t) => fractal.correlationDimension(t.x as never, t.o as never) },
  { name: 'fractal.encode', valid: () => ({ img: f32(256), o: { width: 16, height: 16, tolerance: 0.1, minBlock: 4, maxBlock: 8 } }), call: (t) => fractal.encode(t.img as never, t.o as never) },
  { name: 'fractal.decode', valid: () => ({ code: CODE, o: { scale: 2, maxIterations: 8 } }), call: (t) => fractal.decode(t.code as never, t.o as never) },
  { name: 'points.resonance', valid: () => ({ a: f32(12), b: f32(9), w: [0, 1], o: { d: 3, damping: 0.1 } }), call: (t) => points.resonance(t.a as never, t.b as never, t.w as never, t.o as never) },
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

async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (e) {
    if (e instanceof SemfieldError && CODES.has(e.code)) return e.code;
    return `unexpected ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
  }
}

export let fuzzCalls = 0;
const stats = new Map<string, number>();
afterAll(() => {
  if (process.env.FUZZ_REPORT) process.stdout.write(`fuzz: ${fuzzCalls} calls; outcomes ${JSON.stringify(Object.fromEntries(stats))}\n`);
});

describe('fuzzing every exported operation', () => {
  for (const op of ops) {
    test(`${op.name}: ${RUNS} mutated calls, 3 at a time on shared buffers`, async () => {
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
          const results = await Promise.all([outcome(() => op.call(t)), outcome(() => op.call(t)), outcome(() => op.call(t))]);
          fuzzCalls += 3;
          for (const r of results) {
            stats.set(r, (stats.get(r) ?? 0) + 1);
            if (r.startsWith('unexpected')) throw new Error(`${op.name}: ${r}`);
          }
        }),
        { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261129) },
      );
      // The unmutated call still works afterwards.
      expect(await outcome(() => op.call(op.valid()))).toBe('ok');
    });
  }
});
