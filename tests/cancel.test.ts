/**
 * An AbortSignal stops long work within 100 ms: a large multigrid solve and
 * the long points operations each reject with E_ABORTED soon after abort().
 */
import { SemfieldError, points, potential } from '../lib';

const f32 = (n: number, s = 0) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s));

// Under the sanitizers (scripts/test-asan.sh) work runs several times slower.
const LIMIT = process.env.SEMFIELD_SANITIZED ? 1000 : 100;

async function abortLatency(start: (signal: AbortSignal) => Promise<unknown>, after = 60): Promise<number> {
  const ac = new AbortController();
  const p = start(ac.signal);
  await new Promise((r) => setTimeout(r, after));
  const t0 = performance.now();
  ac.abort();
  const err = await p.then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(SemfieldError);
  expect((err as SemfieldError).code).toBe('E_ABORTED');
  return performance.now() - t0;
}

describe('abort lands within 100 ms', () => {
  test('a 2048^2 multigrid solve (median of 3: the machine is shared, and a garbage collection on the main thread can delay one settle)', async () => {
    const n = 2048;
    const rho = f32(n * n);
    const ms: number[] = [];
    for (let i = 0; i < 3; i++)
      ms.push(await abortLatency((signal) => potential(rho, { n: [n, n] }, { tol: 1e-14, maxCycles: 10000, allowNotConverged: true, signal })));
    expect(ms.sort((a, b) => a - b)[1]).toBeLessThan(LIMIT);
  });

  test('a 40000 x 40000 pair sum, a large induction, mean shift, attention and a set matrix', async () => {
    const d = 8, n = 40000;
    const x = f32(n * d);
    const lat: number[] = [];
    lat.push(await abortLatency((signal) => points.potential(x, x, { d, kernel: { kind: 'energy' }, signal })));
    lat.push(await abortLatency((signal) => points.induce(x, { d, labeled: Int32Array.from([0, 1]), values: Float32Array.from([1, 0]), kernel: { kind: 'gaussian', sigma: 1 }, signal })));
    lat.push(await abortLatency((signal) => points.condense(x.subarray(0, 20000 * d), { d, kernel: { kind: 'gaussian', sigma: 0.5 }, signal })));
    lat.push(await abortLatency((signal) => points.attention(x, x, x, { d, heads: 4, signal })));
    const offsets = Int32Array.from({ length: 401 }, (_, i) => i * 100);
    lat.push(await abortLatency((signal) => points.distanceMatrix(x, offsets, { d, signal })));
    for (const ms of lat) expect(ms).toBeLessThan(LIMIT);
  });
});
