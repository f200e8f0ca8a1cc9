/**
 * 64 simultaneous asynchronous operations of mixed kinds give bit for bit the
 * answers they give one at a time, and the event loop keeps turning while
 * they run (a 2 ms timer never waits 20 ms). The batch runs up to three
 * times and the best run counts: a stall caused by the addon would show in
 * every run, while a garbage-collection pause of the runtime itself (the test
 * process holds the other suites' data too) may hit one.
 */
import { condense, deposit, interpolate, laplacian, points, potential } from '../lib';

const f32 = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s));
const grid = { n: [128, 128] };
const jobs: (() => Promise<ArrayLike<number>>)[] = [];
for (let k = 0; k < 8; k++) {
  const rho = f32(128 * 128, k);
  const pos = f32(2000, k).map((v) => 0.5 + 0.45 * v);
  const x = f32(400 * 8, k);
  jobs.push(
    async () => (await potential(rho, grid, { kappa: k })).phi,
    () => deposit(pos, grid),
    () => interpolate(rho, pos, grid),
    () => laplacian(rho, grid),
    async () => (await condense(rho, grid)).labels,
    () => points.potential(x, x, { d: 8, kernel: { kind: 'gaussian', sigma: 1 + k } }),
    () => points.attention(x, x, x, { d: 8, heads: 2, kernel: { kind: k % 2 ? 'energy' : 'dot' } }),
    async () => (await points.induce(x, { d: 8, labeled: Int32Array.from([0, 7, 99]), values: Float32Array.from([1, 0, -1]), kernel: { kind: 'gaussian', sigma: 2 } })).values,
  );
}

test('64 mixed operations at once: the same answers as one by one; no event-loop stall over 20 ms', async () => {
  expect(jobs).toHaveLength(64);
  const alone: ArrayLike<number>[] = [];
  for (const job of jobs) alone.push(await job());

  let best = Infinity;
  for (let run = 0; run < 3 && best >= 20; run++) {
    // The 64 calls are started first: their synchronous part (validation,
    // queueing the work) is the caller's own time, not a stall while the
    // work runs, and must not count in the first interval.
    const started = jobs.map((job) => job());
    let last = performance.now(), worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 2);
    const together = await Promise.all(started);
    clearInterval(timer);
    together.forEach((r, i) => expect(Buffer.from(new Uint8Array((r as Float32Array).buffer)).equals(Buffer.from(new Uint8Array((alone[i] as Float32Array).buffer)))).toBe(true));
    best = Math.min(best, worst);
  }
  // Under the sanitizers everything, the event loop included, runs several
  // times slower: there only the answers are checked.
  if (!process.env.SEMFIELD_SANITIZED) expect(best).toBeLessThan(20);
});
