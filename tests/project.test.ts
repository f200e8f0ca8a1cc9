/**
 * SPEC, Mesh, project: PCA by randomized subspace iteration agrees with an
 * exact eigendecomposition of the covariance (numpy.linalg.eigh, fp64);
 * the transform maps new embeddings into the same space; results fit the
 * grid and are the same for the same seed.
 */
import { loadVocabulary, project } from '../lib';
import { havePythonPeers, python, rng } from './helpers';

// Embeddings with a decaying spectrum (no exact ties), N x d.
function embeddings(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = gauss() * Math.pow(0.8, j) + 0.3 * j;
  // mix the axes so the principal axes are not the coordinate axes
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const a = x[i * d + j], b = x[i * d + ((j + 1) % d)];
      out[i * d + j] = 0.8 * a + 0.6 * b;
    }
  return out;
}

const EIGH = `
import json, sys, numpy as np
a = json.load(sys.stdin)
x = np.array(a['x'], dtype=np.float32).astype(np.float64).reshape(a['n'], a['d'])
c = np.cov(x, rowvar=False)
w, v = np.linalg.eigh(c)
o = np.argsort(w)[::-1][: a['k']]
print(json.dumps({'w': w[o].tolist(), 'v': v[:, o].T.tolist()}))
`;

describe('project (PCA)', () => {
  (havePythonPeers() ? test : test.skip)('eigenvalues to 1e-8 relative and axes to 1e-6 against numpy.linalg.eigh', async () => {
    const n = 2000, d = 24, k = 4;
    const x = embeddings(n, d, 9);
    const ref = python<{ w: number[]; v: number[][] }>(EIGH, { x: Array.from(x), n, d, k });
    const p = await project(x, { d, k });
    for (let c = 0; c < k; c++) {
      expect(Math.abs(p.transform.variance[c] - ref.w[c]) / ref.w[c]).toBeLessThan(1e-8);
      let dot = 0;
      for (let j = 0; j < d; j++) dot += p.transform.components[c * d + j] * ref.v[c][j];
      expect(1 - Math.abs(dot)).toBeLessThan(1e-6);
    }
    const total = p.transform.explainedRatio.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(1);
  });

  test('positions fit the grid domain with the margin, and apply() maps the same data to the same positions', async () => {
    const n = 500, d = 10;
    const x = embeddings(n, d, 3);
    const grid = { n: [64, 32], h: 1 / 64 };
    const p = await project(x, { d, grid, margin: 0.1 });
    expect(p.positions).toHaveLength(n * 2);
    for (let i = 0; i < n; i++) {
      expect(p.positions[2 * i]).toBeGreaterThanOrEqual(0.1 - 1e-6);
      expect(p.positions[2 * i]).toBeLessThanOrEqual(0.9 + 1e-6);
      expect(p.positions[2 * i + 1]).toBeGreaterThanOrEqual(0.05 - 1e-6);
      expect(p.positions[2 * i + 1]).toBeLessThanOrEqual(0.45 + 1e-6);
    }
    const again = await p.transform.apply(x.subarray(0, 20 * d).slice());
    for (let i = 0; i < 40; i++) expect(again[i]).toBeCloseTo(p.positions[i], 5);
  });

  test('same seed, same result; the projection of the bundled vocabulary is stable', async () => {
    const v = loadVocabulary();
    const x = v.vectors.subarray(0, 3000 * v.d).slice();
    const a = await project(x, { d: v.d, seed: 1 });
    const b = await project(x, { d: v.d, seed: 1 });
    expect(Buffer.from(a.positions.buffer).equals(Buffer.from(b.positions.buffer))).toBe(true);
    const c = await project(x, { d: v.d, seed: 2 });
    for (let i = 0; i < a.positions.length; i++) expect(c.positions[i]).toBeCloseTo(a.positions[i], 3);
  });
});
