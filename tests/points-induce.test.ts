/**
 * SPEC, Points, induce: the harmonic function on the kernel graph against a
 * dense fp64 solve (numpy) to 1e-4 for N <= 2000, dense and kNN graphs;
 * >= 99% label agreement with sklearn.semi_supervised.LabelPropagation(rbf)
 * at converged settings.
 */
import { points } from '../lib';
import { havePythonPeers, python, rng } from './helpers';

function blobs(k: number, per: number, d: number, spread: number, seed: number) {
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => (r() - 0.5) * 8));
  const X = new Float32Array(k * per * d);
  const truth = new Int32Array(k * per);
  for (let c = 0; c < k; c++)
    for (let i = 0; i < per; i++) {
      truth[c * per + i] = c;
      for (let q = 0; q < d; q++) X[(c * per + i) * d + q] = centres[c][q] + spread * g();
    }
  return { X, truth };
}

const DENSE = `
import json, sys, numpy as np
a = json.load(sys.stdin)
x = np.array(a['x'], dtype=np.float32).astype(np.float64).reshape(-1, a['d'])
n = len(x)
r2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
W = np.exp(-r2 / (2 * a['sigma'] ** 2))
np.fill_diagonal(W, 0)
if a['knn']:
    from sklearn.neighbors import NearestNeighbors
    idx = NearestNeighbors(n_neighbors=a['knn'] + 1).fit(x).kneighbors(x, return_distance=False)[:, 1:]
    M = np.zeros_like(W, dtype=bool)
    for i in range(n): M[i, idx[i]] = True
    W = np.where(M | M.T, W, 0)
L = np.array(a['labeled']); U = np.setdiff1d(np.arange(n), L)
F = np.array(a['values'], dtype=np.float32).astype(np.float64).reshape(len(L), -1)
D = W.sum(1)
A = np.diag(D[U]) - W[np.ix_(U, U)]
fu = np.linalg.solve(A, W[np.ix_(U, L)] @ F)
out = np.zeros((n, F.shape[1])); out[L] = F; out[U] = fu
print(json.dumps(out.ravel().tolist()))
`;

const peers = havePythonPeers();

describe('points.induce', () => {
  (peers ? test : test.skip)('dense matrix-free CG matches a dense fp64 solve to 1e-4 (scalar and one-hot)', async () => {
    for (const [d, channels] of [[2, 1], [20, 3]] as const) {
      const { X, truth } = blobs(3, 200, d, 1.0, d);
      const labeled = Int32Array.from([0, 1, 200, 201, 400, 401, 55, 255]);
      const values = new Float32Array(labeled.length * channels);
      labeled.forEach((i, l) => {
        if (channels === 1) values[l] = truth[i] === 0 ? 1 : truth[i] === 1 ? -1 : 0.5;
        else values[l * channels + truth[i]] = 1;
      });
      const sigma = d === 2 ? 1 : 3;
      const ours = await points.induce(X, { d, labeled, values, kernel: { kind: 'gaussian', sigma }, tol: 1e-10 });
      const ref = python<number[]>(DENSE, { x: Array.from(X), d, sigma, labeled: Array.from(labeled), values: Array.from(values), knn: 0 });
      let err = 0, scale = 0;
      ref.forEach((v, i) => {
        err = Math.max(err, Math.abs(ours.values[i] - v));
        scale = Math.max(scale, Math.abs(v));
      });
      expect(err / scale).toBeLessThan(1e-4);
      expect(ours.converged).toBe(true);
    }
  });

  (peers ? test : test.skip)('kNN graph (symmetrised) matches the dense solve on the same graph to 1e-4', async () => {
    const d = 5;
    const { X, truth } = blobs(2, 300, d, 1.2, 9);
    const labeled = Int32Array.from([3, 310, 17, 444]);
    const values = new Float32Array(labeled.length * 2);
    labeled.forEach((i, l) => (values[l * 2 + truth[i]] = 1));
    const ours = await points.induce(X, { d, labeled, values, kernel: { kind: 'gaussian', sigma: 1.5 }, knn: 10, tol: 1e-10 });
    const ref = python<number[]>(DENSE, { x: Array.from(X), d, sigma: 1.5, labeled: Array.from(labeled), values: Array.from(values), knn: 10 });
    let err = 0;
    ref.forEach((v, i) => (err = Math.max(err, Math.abs(ours.values[i] - v))));
    expect(err).toBeLessThan(1e-4);
  });

  (peers ? test : test.skip)('>= 99% label agreement with sklearn LabelPropagation(kernel=rbf)', async () => {
    const d = 4;
    const { X, truth } = blobs(4, 150, d, 1.3, 21);
    const r = rng(5);
    const picks = Array.from({ length: 600 }, (_, i) => i).filter(() => r() < 0.05);
    const labeled = Int32Array.from(picks);
    const values = new Float32Array(labeled.length * 4);
    labeled.forEach((i, l) => (values[l * 4 + truth[i]] = 1));
    const sigma = 1.0;
    const ours = await points.induce(X, { d, labeled, values, kernel: { kind: 'gaussian', sigma }, tol: 1e-10 });
    const y = new Array(600).fill(-1);
    picks.forEach((i) => (y[i] = truth[i]));
    const theirs = python<number[]>(
      `import json, sys, numpy as np
from sklearn.semi_supervised import LabelPropagation
a = json.load(sys.stdin)
x = np.array(a['x'], dtype=np.float32).astype(np.float64).reshape(-1, a['d'])
m = LabelPropagation(kernel='rbf', gamma=a['gamma'], max_iter=100000, tol=1e-12).fit(x, np.array(a['y']))
print(json.dumps(m.transduction_.tolist()))`,
      { x: Array.from(X), d, gamma: 1 / (2 * sigma * sigma), y },
    );
    let agree = 0;
    for (let i = 0; i < 600; i++) if (ours.labels[i] === theirs[i]) agree++;
    expect(agree / 600).toBeGreaterThanOrEqual(0.99);
  });

  test('bad input: no labels, an index out of range or repeated, a kernel of mixed sign', async () => {
    const X = new Float32Array(20).map((_, i) => i);
    const k = { kind: 'gaussian' as const, sigma: 1 };
    await expect(points.induce(X, { d: 2, labeled: new Int32Array(0), values: new Float32Array(0), kernel: k })).rejects.toMatchObject({ code: 'E_SHAPE' });
    await expect(points.induce(X, { d: 2, labeled: Int32Array.from([10]), values: Float32Array.from([1]), kernel: k })).rejects.toMatchObject({ code: 'E_RANGE' });
    await expect(points.induce(X, { d: 2, labeled: Int32Array.from([1, 1]), values: Float32Array.from([1, 2]), kernel: k })).rejects.toMatchObject({ code: 'E_RANGE' });
    await expect(points.induce(X, { d: 2, labeled: Int32Array.from([1]), values: Float32Array.from([1]), kernel: { kind: 'energy' } })).rejects.toMatchObject({ code: 'E_RANGE' });
    await expect(points.induce(X, { d: 2, labeled: Int32Array.from([1]), values: Float32Array.from([1]), kernel: { kind: 'gaussian', sigma: 1e-3 } })).rejects.toMatchObject({ code: 'E_RANGE' });
  });

  test('a tolerance below what fp32 pair sums allow ends early with the best iterate, not after maxIter', async () => {
    const { X, truth } = blobs(4, 500, 10, 1.2, 77);
    const labeled = Int32Array.from({ length: 100 }, (_, i) => i * 20);
    const values = new Float32Array(100 * 4);
    labeled.forEach((i, l) => (values[l * 4 + truth[i]] = 1));
    const k = { kind: 'gaussian' as const, sigma: 1.5 };
    const r = await points.induce(X, { d: 10, labeled, values, kernel: k, tol: 1e-16, allowNotConverged: true });
    const good = await points.induce(X, { d: 10, labeled, values, kernel: k });
    if (!r.converged) {
      expect(r.iterations).toBeLessThan(200);
      expect(r.residual).toBeLessThan(1e-8);
      await expect(points.induce(X, { d: 10, labeled, values, kernel: k, tol: 1e-16 })).rejects.toMatchObject({ code: 'E_NOT_CONVERGED', message: expect.stringMatching(/stopped falling/) });
    }
    let agree = 0;
    for (let i = 0; i < 2000; i++) if (r.labels[i] === good.labels[i]) agree++;
    expect(agree).toBe(2000);
  });
});
