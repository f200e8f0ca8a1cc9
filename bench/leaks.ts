/**
 * Leak check (npm run leaks): 10,000 calls of each operation on small
 * inputs; the C heap in use (glibc's mallinfo2), V8's external memory and RSS
 * are sampled after a warm-up and at the end (after a full GC when node runs
 * with --expose-gc). The C heap and external memory must stay within 5% (plus
 * 1 MiB) of their warmed-up values; RSS, which also holds pages V8 and the
 * allocator keep for reuse, is reported beside them. Prints a table; exits
 * non-zero on a leak.
 */
import {
  condense, curl, deposit, div, fractal, grad, interpolate, laplacian, maxwell, modes, points, potential, project, resonance, wave,
} from '../lib';
import { native } from '../lib/native';

const CALLS = Number(process.env.LEAK_CALLS ?? 10000);
const f32 = (n: number, f = (i: number) => Math.sin(i * 0.37)) => Float32Array.from({ length: n }, (_, i) => f(i));
const g = { n: [16, 16] };
const rho = f32(256), pos = f32(40, (i) => 0.2 + 0.6 * ((i * 0.618) % 1)), vec = f32(512), x = f32(64 * 4);

const CODE = fractal.encode(rho, { width: 16, height: 16, maxBlock: 8 }).then((e) => e.code);

const ops: [string, () => Promise<unknown>][] = [
  ['potential', () => potential(rho, g, { kappa: 1, anchors: { mask: Uint8Array.from({ length: 256 }, (_, i) => (i === 100 ? 1 : 0)) } })],
  ['deposit', () => deposit(pos, g)],
  ['interpolate', () => interpolate(rho, pos, g)],
  ['grad', () => grad(rho, g)],
  ['div', () => div(vec, g)],
  ['curl', () => curl(vec, g)],
  ['laplacian', () => laplacian(rho, g)],
  ['condense', () => condense(rho, g, { rho })],
  ['project', () => project(x, { d: 4, k: 2 })],
  ['points.potential', () => points.potential(x, x, { d: 4, kernel: { kind: 'gaussian', sigma: 1 } })],
  ['points.distanceMatrix', () => points.distanceMatrix(x, Int32Array.from([0, 20, 64]), { d: 4 })],
  ['points.attention', () => points.attention(x, x, x, { d: 4, kernel: { kind: 'energy' } })],
  ['points.condense', () => points.condense(x, { d: 4, kernel: { kind: 'gaussian', sigma: 0.8 } })],
  ['points.induce', () => points.induce(x, { d: 4, labeled: Int32Array.from([0, 5]), values: Float32Array.from([1, 0]), kernel: { kind: 'gaussian', sigma: 1 } })],
  ['points.resonance', () => points.resonance(x, x, [0, 1, 2], { d: 4, damping: 0.1 })],
  ['wave', () => wave(rho, g, { dt: 0.02, steps: 10, probes: pos.subarray(0, 4), energyEvery: 5 })],
  ['modes', () => modes(g, { k: 2, V: rho, tol: 1e-6 })],
  ['resonance', () => resonance(rho, g, { w: [0, 2], damping: 1 })],
  ['maxwell', () => maxwell({ n: [16, 16], dt: 0.02, steps: 10, mode: 'TEz', boundary: 'cpml', pml: { cells: 3 }, probes: [{ component: 'Hz', at: [3.5 / 16, 3.5 / 16] }], loops: [[[4, 4], [8, 4], [8, 8], [4, 8], [4, 4]].map((v) => v.map((k) => k / 16))], energyEvery: 5 })],
  ['fractal.unfold', () => fractal.unfold(fractal.presets.sierpinski(), 4)],
  ['fractal.chaosGame', () => fractal.chaosGame(fractal.presets.fern(), 500, { chains: 16 })],
  ['fractal.render', () => fractal.render(fractal.presets.koch(), 2000, { size: [16, 8], lo: [0, 0], hi: [1, 0.3] })],
  ['fractal.unfoldToken', () => fractal.unfoldToken(x.subarray(0, 12), x.subarray(0, 8), { d: 4, depth: 3 })],
  ['fractal.boxDimension', () => fractal.boxDimension(x, { d: 2, offsets: 2, scales: [0.05, 1] })],
  ['fractal.correlation', () => fractal.correlationDimension(x, { d: 2, bins: 16, radii: [0.01, 2], minPairs: 1 })],
  ['fractal.encode', () => fractal.encode(rho, { width: 16, height: 16, maxBlock: 8 })],
  ['fractal.decode', () => CODE.then((c) => fractal.decode(c, { scale: 2 }))],
  ['refused code', () => fractal.decode(new Uint8Array(40)).catch(() => undefined)],
  ['refused call', () => potential(f32(255), g).catch(() => undefined)],
];

// A full GC, a turn of the loop for the finalizers that free results'
// external buffers, and another GC.
async function sample() {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, external: m.external, heap: native().mallocInUse() ?? 0 };
}

async function main(): Promise<void> {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  let failed = false;
  process.stdout.write(`leak check: ${CALLS} calls per operation${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for exact figures)'}\n`);
  process.stdout.write(`${'operation'.padEnd(24)} ${'C heap MiB'.padStart(11)} ${'end'.padStart(8)} ${'growth'.padStart(8)} ${'external MiB'.padStart(13)} ${'end'.padStart(6)} ${'rss MiB'.padStart(8)} ${'end'.padStart(6)}\n`);
  for (const [name, op] of ops) {
    for (let i = 0; i < CALLS / 10; i++) await op();  // warm-up: caches, pools, JIT
    const a = await sample();
    for (let i = 0; i < CALLS; i++) await op();
    const b = await sample();
    const gh = (b.heap - a.heap) / Math.max(a.heap, 1);
    const ok = b.heap <= a.heap * 1.05 + 2 ** 20 && b.external <= a.external * 1.05 + 2 ** 20;
    failed ||= !ok;
    process.stdout.write(
      `${name.padEnd(24)} ${mib(a.heap).padStart(11)} ${mib(b.heap).padStart(8)} ${(100 * gh).toFixed(1).padStart(7)}% ${mib(a.external).padStart(13)} ${mib(b.external).padStart(6)} ${mib(a.rss).padStart(8)} ${mib(b.rss).padStart(6)}${ok ? '' : '  LEAK?'}\n`,
    );
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`leak check failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
