/**
 * SPEC, Points, condense: mean shift finds blobs with known centres (ARI >=
 * 0.99); the flat kernel gives sklearn.cluster.MeanShift(bin_seeding=False)'s
 * clusters; mass and potential at the centres.
 */
import { points } from '../lib';
import { havePythonPeers, python, rng } from './helpers';

function blobs(centres: number[][], per: number, spread: number, seed: number): { X: Float32Array; truth: Int32Array } {
  const d = centres[0].length;
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const X = new Float32Array(centres.length * per * d);
  const truth = new Int32Array(centres.length * per);
  centres.forEach((c, k) => {
    for (let i = 0; i < per; i++) {
      const row = k * per + i;
      truth[row] = k;
      for (let q = 0; q < d; q++) X[row * d + q] = c[q] + spread * g();
    }
  });
  return { X, truth };
}

// Adjusted Rand index of two labelings.
function ari(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = new Map<string, number>(), ra = new Map<number, number>(), rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    ra.set(a[i], (ra.get(a[i]) ?? 0) + 1);
    rb.set(b[i], (rb.get(b[i]) ?? 0) + 1);
  }
  const c2 = (x: number) => (x * (x - 1)) / 2;
  let sij = 0, sa = 0, sb = 0;
  table.forEach((v) => (sij += c2(v)));
  ra.forEach((v) => (sa += c2(v)));
  rb.forEach((v) => (sb += c2(v)));
  const expected = (sa * sb) / c2(n);
  return (sij - expected) / ((sa + sb) / 2 - expected);
}

describe('points.condense (mean shift)', () => {
  for (const d of [2, 3, 50]) {
    test(`d = ${d}: gaussian blobs, centres found to within the noise, ARI >= 0.99`, async () => {
      const r = rng(d);
      const centres = Array.from({ length: 4 }, () => Array.from({ length: d }, () => (r() - 0.5) * 20));
      const { X, truth } = blobs(centres, 120, 0.5, d + 3);
      const c = await points.condense(X, { d, kernel: { kind: 'gaussian', sigma: 1.5 } });
      expect(c.k).toBe(4);
      expect(ari(c.labels, truth)).toBeGreaterThanOrEqual(0.99);
      for (let k = 0; k < 4; k++) {
        const found = Array.from(c.centers.subarray(k * d, (k + 1) * d));
        const best = Math.min(...centres.map((t) => Math.hypot(...t.map((v, q) => v - found[q]))));
        expect(best).toBeLessThan(0.25 * Math.sqrt(d / 2 + 1));
      }
      expect(c.mass.reduce((a, b) => a + b, 0)).toBeCloseTo(480, 9);
      for (let k = 1; k < c.k; k++) expect(c.intensity[k]).toBeLessThanOrEqual(c.intensity[k - 1]);
      for (const p of c.potential) expect(p).toBeLessThan(0);
    });
  }

  (havePythonPeers() ? test : test.skip)('flat kernel: the same clusters as sklearn MeanShift(bin_seeding=False)', async () => {
    const d = 2;
    const { X } = blobs([[0, 0], [6, 1], [2, 7], [8, 8]], 60, 0.8, 11);
    const ours = await points.condense(X, { d, kernel: { kind: 'flat', radius: 2 } });
    const ref = python<{ labels: number[]; centers: number[][] }>(
      `import json, sys, numpy as np
from sklearn.cluster import MeanShift
a = json.load(sys.stdin)
x = np.array(a['x'], dtype=np.float32).astype(np.float64).reshape(-1, 2)
m = MeanShift(bandwidth=2, bin_seeding=False).fit(x)
print(json.dumps({'labels': m.labels_.tolist(), 'centers': m.cluster_centers_.tolist()}))`,
      { x: Array.from(X) },
    );
    expect(ours.k).toBe(ref.centers.length);
    expect(ari(ours.labels, ref.labels)).toBeGreaterThanOrEqual(0.99);
    for (let k = 0; k < ours.k; k++) {
      expect(ours.centers[2 * k]).toBeCloseTo(ref.centers[k][0], 3);
      expect(ours.centers[2 * k + 1]).toBeCloseTo(ref.centers[k][1], 3);
    }
  });

  test('weights: a heavy point pulls its centre; mass is the weight of the members', async () => {
    const X = Float32Array.from([0, 0, 1, 0, 10, 10]);
    const w = Float32Array.from([1, 9, 2]);
    const c = await points.condense(X, { d: 2, kernel: { kind: 'gaussian', sigma: 2 }, weights: w });
    expect(c.k).toBe(2);
    expect(c.centers[0]).toBeGreaterThan(0.8);
    expect(Array.from(c.mass)).toEqual([10, 2]);
  });
});

describe('long points calls report progress and stop on abort', () => {
  test('condense, induce and distanceMatrix call onProgress; an aborted signal stops them', async () => {
    const d = 3;
    const X = Float32Array.from({ length: 3000 * d }, (_, i) => Math.sin(i * 1.7) * 4);
    const steps: number[] = [];
    await points.condense(X, { d, kernel: { kind: 'gaussian', sigma: 1 }, onProgress: (it) => steps.push(it) });
    expect(steps.length).toBeGreaterThan(1);
    expect(steps[steps.length - 1]).toBeGreaterThan(steps[0]);
    const res: number[] = [];
    await points.induce(X, { d, labeled: Int32Array.from([0, 1]), values: Float32Array.from([1, 0]), kernel: { kind: 'gaussian', sigma: 1 }, onProgress: (_i, r) => res.push(r) });
    expect(res.length).toBeGreaterThan(1);
    expect(res[res.length - 1]).toBeLessThan(res[0]);
    const done: number[] = [];
    const offsets = Int32Array.from({ length: 31 }, (_, i) => i * 100);
    await points.distanceMatrix(X, offsets, { d, onProgress: (k, total) => done.push(k / total) });
    expect(done[done.length - 1]).toBe(1);
    const ac = new AbortController();
    const p = points.condense(Float32Array.from({ length: 20000 * d }, (_, i) => Math.sin(i)), { d, kernel: { kind: 'gaussian', sigma: 0.5 }, signal: ac.signal, maxIter: 100000, tol: 1e-9 });
    setTimeout(() => ac.abort(), 30);
    await expect(p).rejects.toMatchObject({ code: 'E_ABORTED' });
  });
});
