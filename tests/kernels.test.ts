/**
 * Every kernel of lib/kernels.ts in every points operation that takes it,
 * against fp64 references computed here from the kernel's definition:
 * potential, energy, distanceMatrix ('cross', and 'mmd' for the positive
 * definite ones), induce (kernels of positive weights: a dense fp64 solve of
 * (D - W)_UU f_U = W_UL f_L) and attention (logit beta G(r)). A kernel the
 * table gains without a reference here fails the first test; an operation
 * refuses, with E_RANGE, a kernel without the property it needs.
 */
import { Kernel, SemfieldError, points } from '../lib';
import { KERNEL_TABLE, KERNELS } from '../lib/kernels';
import type { RealKernel } from '../lib/points';
import { errorOf, rng } from './helpers';

// Each kernel's definition in fp64 and an example of its parameters.
const REFERENCE: Record<Kernel['kind'], { example: Kernel; G: (r2: number) => number }> = {
  coulomb: { example: { kind: 'coulomb', eps: 0.2 }, G: (r2) => 1 / Math.sqrt(r2 + 0.04) },
  yukawa: { example: { kind: 'yukawa', kappa: 0.6, eps: 0.2 }, G: (r2) => Math.exp(-0.6 * Math.sqrt(r2)) / Math.sqrt(r2 + 0.04) },
  gaussian: { example: { kind: 'gaussian', sigma: 1.3 }, G: (r2) => Math.exp(-r2 / (2 * 1.3 * 1.3)) },
  energy: { example: { kind: 'energy' }, G: (r2) => -Math.sqrt(r2) },
  matern32: {
    example: { kind: 'matern32', length: 1.7 },
    G: (r2) => {
      const a = (Math.sqrt(3) * Math.sqrt(r2)) / 1.7;
      return (1 + a) * Math.exp(-a);
    },
  },
  matern52: {
    example: { kind: 'matern52', length: 1.7 },
    G: (r2) => {
      const a = (Math.sqrt(5) * Math.sqrt(r2)) / 1.7;
      return (1 + a + (a * a) / 3) * Math.exp(-a);
    },
  },
  laplacian: { example: { kind: 'laplacian', length: 2.1 }, G: (r2) => Math.exp(-Math.sqrt(r2) / 2.1) },
  helmholtz: { example: { kind: 'helmholtz', k: [2, 0.1], eps: 0.2 }, G: () => NaN },
};

function cloud(n: number, d: number, seed: number, shift = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * d }, () => shift + 2 * r() - 1);
}

function r2of(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += (a[i * d + k] - b[j * d + k]) ** 2;
  return s;
}

// sum_i a_i sum_j b_j G(r_ij) / (sum a sum b), and the scale sum |a_i b_j G|.
function meanG(G: (r2: number) => number, A: Float32Array, B: Float32Array, d: number): { v: number; scale: number } {
  let v = 0, scale = 0;
  const na = A.length / d, nb = B.length / d;
  for (let i = 0; i < na; i++)
    for (let j = 0; j < nb; j++) {
      const g = G(r2of(A, i, B, j, d));
      v += g;
      scale += Math.abs(g);
    }
  return { v: v / (na * nb), scale: scale / (na * nb) };
}

// Dense Gaussian elimination with partial pivoting, fp64.
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

test('every kernel of the table has a reference here', () => {
  expect(Object.keys(REFERENCE).sort()).toEqual([...KERNELS].sort());
});

const REAL = KERNELS.filter((k) => !KERNEL_TABLE[k].complex);

describe.each(REAL)('kernel %s', (kind) => {
  const { example, G } = REFERENCE[kind];
  const kernel = example as RealKernel;
  const d = 5;
  const X = cloud(70, d, 1), Y = cloud(45, d, 2, 0.3);

  test('potential and energy == fp64', async () => {
    const w = Float32Array.from({ length: 70 }, (_, j) => 0.2 + (j % 7) * 0.1);
    const phi = await points.potential(X, Y, { d, kernel, weights: w });
    for (let i = 0; i < 45; i++) {
      let ref = 0, scale = 0;
      for (let j = 0; j < 70; j++) {
        const g = w[j] * G(r2of(Y, i, X, j, d));
        ref += g;
        scale += Math.abs(g);
      }
      expect(Math.abs(phi[i] - ref) / scale).toBeLessThan(1e-5);
    }
    const e = await points.energy(X, Y, { d, kernel });
    const ref = meanG(G, X, Y, d);
    expect(Math.abs(e / (70 * 45) - ref.v) / ref.scale).toBeLessThan(1e-5);
  });

  test("distanceMatrix 'cross' (and 'mmd' when positive definite) == fp64", async () => {
    const x = new Float32Array([...X, ...Y]);
    const offsets = Int32Array.from([0, 70, 115]);
    const C = await points.distanceMatrix(x, offsets, { d, metric: 'cross', kernel });
    const xx = meanG(G, X, X, d), yy = meanG(G, Y, Y, d), xy = meanG(G, X, Y, d);
    expect(Math.abs(C.values[1] - xy.v) / xy.scale).toBeLessThan(1e-5);
    expect(Math.abs(C.values[0] - xx.v) / xx.scale).toBeLessThan(1e-5);
    if (KERNEL_TABLE[kind].definite) {
      const M = await points.distanceMatrix(x, offsets, { d, metric: 'mmd', kernel });
      const mmd = await points.mmd(X, Y, { d, kernel });
      const ref = xx.v + yy.v - 2 * xy.v;
      const scale = xx.scale + yy.scale + 2 * xy.scale;
      expect(Math.abs(M.values[1] - ref) / scale).toBeLessThan(1e-5);
      expect(Math.abs(mmd - ref) / scale).toBeLessThan(1e-5);
      expect(mmd).toBeGreaterThan(0);
    } else {
      const err = await errorOf(() => points.mmd(X, Y, { d, kernel }));
      expect((err as SemfieldError).code).toBe('E_RANGE');
    }
  });

  test('induce == a dense fp64 solve (kernels of positive weights)', async () => {
    const n = 40;
    const P = cloud(n, 3, 3);
    const labeled = Int32Array.from([0, 7, 19, 33]);
    const values = Float32Array.from([1, 0, 0, 1, 1, 0, 0.5, 0.5]);
    if (!KERNEL_TABLE[kind].positive) {
      const err = await errorOf(() => points.induce(P, { d: 3, labeled, values, kernel }));
      expect((err as SemfieldError).code).toBe('E_RANGE');
      return;
    }
    const r = await points.induce(P, { d: 3, labeled, values, kernel, tol: 1e-10 });
    const U = Array.from({ length: n }, (_, i) => i).filter((i) => !labeled.includes(i));
    const W = (i: number, j: number) => (i === j ? 0 : G(r2of(P, i, P, j, 3)));
    for (let c = 0; c < 2; c++) {
      const A = U.map((i) => U.map((j) => (i === j ? U.length && Array.from({ length: n }, (_, q) => W(i, q)).reduce((a, b) => a + b, 0) : -W(i, j))));
      const b = U.map((i) => Array.from(labeled).reduce((s, l, q) => s + W(i, l) * values[q * 2 + c], 0));
      const f = solve(A, b);
      U.forEach((i, a) => expect(Math.abs(r.values[i * 2 + c] - f[a])).toBeLessThan(1e-4));
    }
  });

  test('attention with logit beta G(r) == fp64', async () => {
    const n = 9, m = 31, dv = 3;
    const Q = cloud(n * d, 1, 4), K = cloud(m * d, 1, 5), V = cloud(m * dv, 1, 6);
    const out = await points.attention(Q, K, V, { d, kernel, ...(kind === 'gaussian' ? {} : { beta: 1.5 }) });
    for (let i = 0; i < n; i++) {
      const s = Array.from({ length: m }, (_, j) => {
        const r2 = r2of(Q, i, K, j, d);
        return kind === 'gaussian' ? Math.log(G(r2)) : 1.5 * G(r2);
      });
      const mx = Math.max(...s);
      const p = s.map((v) => Math.exp(v - mx));
      const z = p.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dv; c++) {
        const ref = p.reduce((a, pj, j) => a + pj * V[j * dv + c], 0) / z;
        expect(Math.abs(out[i * dv + c] - ref)).toBeLessThan(2e-5);
      }
    }
  });
});
