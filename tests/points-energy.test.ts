/**
 * SPEC, Points: kernel sums, interaction energy, energy distance and MMD
 * against straightforward fp64 double loops for d in {2, 3, 50, 384}; D(A, A)
 * = 0, symmetry, non-negativity; 1D energy distance against
 * scipy.stats.energy_distance (which returns the square root); batched ragged
 * sets into a matrix.
 */
import { Kernel, points } from '../lib';
import { errorOf, havePythonPeers, python, rng } from './helpers';

function cloud(n: number, d: number, seed: number, shift = 0, scale = 1): Float32Array {
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return Float32Array.from({ length: n * d }, () => shift + scale * g());
}

function G(k: Kernel, r2: number): [number, number] {
  const r = Math.sqrt(r2);
  switch (k.kind) {
    case 'coulomb': return [1 / Math.sqrt(r2 + (k.eps ?? 1e-3) ** 2), 0];
    case 'yukawa': return [Math.exp(-k.kappa * r) / Math.sqrt(r2 + (k.eps ?? 1e-3) ** 2), 0];
    case 'gaussian': return [Math.exp(-r2 / (2 * k.sigma ** 2)), 0];
    case 'energy': return [-r, 0];
    case 'matern32': {
      const a = (Math.sqrt(3) * r) / k.length;
      return [(1 + a) * Math.exp(-a), 0];
    }
    case 'matern52': {
      const a = (Math.sqrt(5) * r) / k.length;
      return [(1 + a + (a * a) / 3) * Math.exp(-a), 0];
    }
    case 'laplacian': return [Math.exp(-r / k.length), 0];
    case 'helmholtz': {
      const a = Math.exp(-k.k[1] * r) / Math.sqrt(r2 + (k.eps ?? 1e-3) ** 2);
      return [a * Math.cos(k.k[0] * r), a * Math.sin(k.k[0] * r)];
    }
  }
}

function r2of(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[i * d + k] - b[j * d + k];
    s += t * t;
  }
  return s;
}

// fp64 reference potentials and the scale to measure errors against (sum |w G|).
function refPotential(src: Float32Array, w: Float32Array | undefined, tgt: Float32Array, d: number, k: Kernel) {
  const m = src.length / d, n = tgt.length / d;
  const re = new Float64Array(n), im = new Float64Array(n), scale = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const [gr, gi] = G(k, r2of(tgt, i, src, j, d));
      const wj = w ? w[j] : 1;
      re[i] += wj * gr;
      im[i] += wj * gi;
      scale[i] += Math.abs(wj) * Math.hypot(gr, gi);
    }
  return { re, im, scale };
}

const kernels: Kernel[] = [
  { kind: 'coulomb', eps: 0.05 },
  { kind: 'yukawa', kappa: 0.7, eps: 0.05 },
  { kind: 'gaussian', sigma: 1.5 },
  { kind: 'energy' },
  { kind: 'matern32', length: 2 },
  { kind: 'matern52', length: 2 },
  { kind: 'laplacian', length: 3 },
];

describe('points.potential against fp64 double loops', () => {
  for (const d of [2, 3, 50, 384]) {
    test(`d = ${d}: every real kernel to 1e-5 relative, weights of both signs`, async () => {
      const m = d === 384 ? 150 : 400, n = d === 384 ? 70 : 130;
      const src = cloud(m, d, d, 0, 1), tgt = cloud(n, d, d + 1, 0.3, 1.2);
      const r = rng(d + 7);
      const w = Float32Array.from({ length: m }, () => r() * 2 - 0.7);
      for (const k of kernels) {
        // Widths that grow with d, so no kernel is all but 0 at d = 384.
        const k2: Kernel = k.kind === 'gaussian' ? { kind: 'gaussian', sigma: Math.sqrt(d) } : 'length' in k ? { ...k, length: Math.sqrt(d) } : k;
        const out = await points.potential(src, tgt, { d, kernel: k2, weights: w });
        const ref = refPotential(src, w, tgt, d, k2);
        for (let i = 0; i < n; i++) expect(Math.abs(out[i] - ref.re[i]) / ref.scale[i]).toBeLessThan(1e-5);
      }
    });
  }

  test('helmholtz: (re, im) pairs to 1e-5', async () => {
    const d = 3;
    const src = cloud(300, d, 1), tgt = cloud(50, d, 2);
    const k: Kernel = { kind: 'helmholtz', k: [2.5, 0.3], eps: 0.05 };
    const out = await points.potential(src, tgt, { d, kernel: k });
    const ref = refPotential(src, undefined, tgt, d, k);
    for (let i = 0; i < 50; i++) {
      expect(Math.abs(out[2 * i] - ref.re[i]) / ref.scale[i]).toBeLessThan(1e-5);
      expect(Math.abs(out[2 * i + 1] - ref.im[i]) / ref.scale[i]).toBeLessThan(1e-5);
    }
  });

  test('far from the origin with a narrow gaussian (centring keeps |x|^2 + |y|^2 - 2x.y exact enough)', async () => {
    const d = 16;
    const src = cloud(200, d, 3, 1000, 0.05), tgt = cloud(40, d, 4, 1000, 0.05);
    const k: Kernel = { kind: 'gaussian', sigma: 0.1 };
    const out = await points.potential(src, tgt, { d, kernel: k });
    const ref = refPotential(src, undefined, tgt, d, k);
    for (let i = 0; i < 40; i++) expect(Math.abs(out[i] - ref.re[i]) / ref.scale[i]).toBeLessThan(1e-4);
  });
});

describe('energy, energy distance, mmd', () => {
  test('energy(A, B) = sum a_i b_j G(r_ij) to 1e-5', async () => {
    const d = 50;
    const A = cloud(120, d, 5), B = cloud(90, d, 6, 0.5);
    const r = rng(8);
    const wa = Float32Array.from({ length: 120 }, () => r()), wb = Float32Array.from({ length: 90 }, () => r());
    const k: Kernel = { kind: 'yukawa', kappa: 0.2, eps: 0.1 };
    const e = await points.energy(A, B, { d, kernel: k, wa, wb });
    let ref = 0, scale = 0;
    for (let i = 0; i < 120; i++)
      for (let j = 0; j < 90; j++) {
        const g = G(k, r2of(A, i, B, j, d))[0];
        ref += wa[i] * wb[j] * g;
        scale += Math.abs(wa[i] * wb[j] * g);
      }
    expect(Math.abs(e - ref) / scale).toBeLessThan(1e-5);
  });

  function refEnergyDistance(X: Float32Array, Y: Float32Array, d: number, wx?: Float32Array, wy?: Float32Array): number {
    const nx = X.length / d, ny = Y.length / d;
    const ex = (A: Float32Array, na: number, wa: Float32Array | undefined, B: Float32Array, nb: number, wb: Float32Array | undefined) => {
      let s = 0, sa = 0, sb = 0;
      for (let i = 0; i < na; i++) sa += wa ? wa[i] : 1;
      for (let j = 0; j < nb; j++) sb += wb ? wb[j] : 1;
      for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) s += (wa ? wa[i] : 1) * (wb ? wb[j] : 1) * Math.sqrt(r2of(A, i, B, j, d));
      return s / (sa * sb);
    };
    return 2 * ex(X, nx, wx, Y, ny, wy) - ex(X, nx, wx, X, nx, wx) - ex(Y, ny, wy, Y, ny, wy);
  }

  for (const d of [2, 3, 50, 384]) {
    test(`d = ${d}: energy distance vs fp64, D(A, A) = 0, symmetric, >= 0`, async () => {
      const n = d === 384 ? 60 : 150;
      const X = cloud(n, d, 10 + d), Y = cloud(n + 17, d, 20 + d, 0.2, 1.1);
      const r = rng(d);
      const wx = Float32Array.from({ length: n }, () => 0.1 + r());
      const dxy = await points.energyDistance(X, Y, { d, wx });
      const ref = refEnergyDistance(X, Y, d, wx);
      expect(Math.abs(dxy - ref) / ref).toBeLessThan(1e-4);
      expect(dxy).toBeGreaterThan(0);
      const dyx = await points.energyDistance(Y, X, { d, wy: wx });
      expect(Math.abs(dyx - dxy) / dxy).toBeLessThan(1e-6);
      const dxx = await points.energyDistance(X, X, { d });
      expect(Math.abs(dxx)).toBeLessThan(1e-5 * ref);
    });
  }

  (havePythonPeers() ? test : test.skip)('1D: sqrt of the energy distance equals scipy.stats.energy_distance', async () => {
    const r = rng(99);
    const x = Float32Array.from({ length: 300 }, () => r() * 3);
    const y = Float32Array.from({ length: 200 }, () => r() * 2 + 0.5);
    const wx = Float32Array.from({ length: 300 }, () => r() + 0.1);
    const ours = await points.energyDistance(x, y, { d: 1, wx });
    const ref = python<number>(
      'import json,sys; from scipy.stats import energy_distance as e; a=json.load(sys.stdin); print(json.dumps(e(a["x"], a["y"], a["wx"])))',
      { x: Array.from(x), y: Array.from(y), wx: Array.from(wx) },
    );
    expect(Math.abs(Math.sqrt(ours) - ref) / ref).toBeLessThan(1e-5);
  });

  test('mmd^2 with a gaussian kernel vs fp64; MMD(X, X) = 0', async () => {
    const d = 20;
    const X = cloud(100, d, 31), Y = cloud(80, d, 32, 0.3);
    const k: Kernel = { kind: 'gaussian', sigma: 3 };
    const m = await points.mmd(X, Y, { d, kernel: k });
    const mean = (A: Float32Array, B: Float32Array) => {
      let s = 0;
      const na = A.length / d, nb = B.length / d;
      for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) s += G(k, r2of(A, i, B, j, d))[0];
      return s / (na * nb);
    };
    const ref = mean(X, X) + mean(Y, Y) - 2 * mean(X, Y);
    expect(Math.abs(m - ref) / ref).toBeLessThan(1e-4);
    expect(Math.abs(await points.mmd(X, X, { d, kernel: k }))).toBeLessThan(1e-6);
  });
});

describe('distance matrices over ragged sets', () => {
  test('symmetric, zero diagonal, entries equal the pairwise energy distances; query rows match', async () => {
    const d = 8;
    const sizes = [5, 17, 1, 30, 9];
    const offsets = new Int32Array(sizes.length + 1);
    sizes.forEach((s, i) => (offsets[i + 1] = offsets[i] + s));
    const N = offsets[sizes.length];
    const x = new Float32Array(N * d);
    sizes.forEach((s, i) => x.set(cloud(s, d, 40 + i, i * 0.4), offsets[i] * d));
    const D = await points.distanceMatrix(x, offsets, { d });
    expect([D.rows, D.cols]).toEqual([5, 5]);
    for (let p = 0; p < 5; p++) {
      expect(D.values[p * 5 + p]).toBe(0);
      for (let q = 0; q < 5; q++) {
        expect(D.values[p * 5 + q]).toBeCloseTo(D.values[q * 5 + p], 12);
        if (p === q) continue;
        const X = x.subarray(offsets[p] * d, offsets[p + 1] * d), Y = x.subarray(offsets[q] * d, offsets[q + 1] * d);
        const one = await points.energyDistance(X.slice(), Y.slice(), { d });
        expect(Math.abs(D.values[p * 5 + q] - one) / one).toBeLessThan(1e-6);
      }
    }
    const Q = await points.distanceMatrix(x, offsets, { d, query: { x: x.subarray(offsets[3] * d, offsets[4] * d).slice(), offsets: Int32Array.from([0, 30]) } });
    expect([Q.rows, Q.cols]).toEqual([1, 5]);
    for (let q = 0; q < 5; q++) expect(Math.abs(Q.values[q] - D.values[3 * 5 + q])).toBeLessThan(1e-6 * (1 + D.values[3 * 5 + q]));
  });

  test('mmd and cross metrics', async () => {
    const d = 4;
    const x = cloud(40, d, 50);
    const offsets = Int32Array.from([0, 10, 25, 40]);
    const k: Kernel = { kind: 'gaussian', sigma: 1 };
    const M = await points.distanceMatrix(x, offsets, { d, metric: 'mmd', kernel: k });
    const C = await points.distanceMatrix(x, offsets, { d, metric: 'cross', kernel: k });
    for (let p = 0; p < 3; p++)
      for (let q = 0; q < 3; q++) {
        const expectMmd = p === q ? 0 : C.values[p * 3 + p] + C.values[q * 3 + q] - 2 * C.values[p * 3 + q];
        expect(M.values[p * 3 + q]).toBeCloseTo(expectMmd, 10);
      }
  });
});

describe('finite inputs never give NaN', () => {
  test('energy distance of vectors at 1e20 (and 1e-25): scaled before squaring, == fp64', async () => {
    const d = 6;
    for (const amp of [1e20, 1e-25]) {
      const X = cloud(50, d, 61).map((v) => v * amp), Y = cloud(40, d, 62, 0.5).map((v) => v * amp);
      const ours = await points.energyDistance(X, Y, { d });
      const e = (A: Float32Array, B: Float32Array) => {
        let s = 0;
        for (let i = 0; i < A.length / d; i++) for (let j = 0; j < B.length / d; j++) s += Math.sqrt(r2of(A, i, B, j, d));
        return s / ((A.length / d) * (B.length / d));
      };
      const ref = 2 * e(X, Y) - e(X, X) - e(Y, Y);
      expect(Number.isFinite(ours)).toBe(true);
      expect(Math.abs(ours - ref) / ref).toBeLessThan(1e-4);
    }
  });

  test('dot attention of queries and keys at 1e20: logits past fp32 are an error naming the scale', async () => {
    const d = 4;
    const Q = cloud(8, d, 63).map((v) => v * 1e20);
    const err = await errorOf(() => points.attention(Q, Q, Q, { d }));
    expect((err as { code?: string }).code).toBe('E_RANGE');
    expect(String((err as Error).message)).toMatch(/fp32 range/);
    // Energy attention of the same points: finite.
    const out = await points.attention(Q, Q, Q.map((v) => v / 1e20), { d, kernel: { kind: 'energy' }, beta: 1e-20 });
    expect(out.every(Number.isFinite)).toBe(true);
  });

  test('resonance with kappa 1e308: k = i kappa / c, a finite spectrum', async () => {
    const d = 3;
    const A = cloud(10, d, 64);
    const s = await points.resonance(A, A, [0, 1, 1e10], { d, kappa: 1e308, eps: 0.01 });
    // Every pair but the coincident ones is screened to 0: R = n / eps.
    for (const v of s.R) expect(v).toBeCloseTo(10 / 0.01, 6);
    expect([...s.re, ...s.im].every(Number.isFinite)).toBe(true);
  });
});

describe('results past the float range are errors naming the input', () => {
  test('attention values at 3e38 overflow the running sums: E_RANGE naming V', async () => {
    const d = 2;
    const Q = cloud(4, d, 65), K = cloud(40, d, 66), V = new Float32Array(40).fill(3e38);
    const err = await errorOf(() => points.attention(Q, K, V, { d }));
    expect((err as { code?: string }).code).toBe('E_RANGE');
    expect(String((err as Error).message)).toMatch(/V is too large/);
  });
});
