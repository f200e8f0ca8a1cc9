/**
 * Gradients of the points energies against an independent fp64 JavaScript
 * implementation of the same formulas, itself checked against central finite
 * differences of the fp64 energies (odd shapes: N = 37, M = 53, d = 17), for
 * every real kernel; the energy kernel's subgradient 0 at r = 0 (coincident
 * points give finite gradients); and the flow: the discrepancy falls at every
 * step at a small enough step size and ends at a fraction of its start.
 */
import { Kernel, points } from '../lib';
import type { RealKernel } from '../lib/points';
import { errorOf, maxAbsDiff, rng } from './helpers';

function cloud(n: number, d: number, seed: number, shift = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * d }, () => shift + 2 * r() - 1);
}

// G and h = G'(r) / r in fp64, from the definitions.
function Gh(k: RealKernel, r2: number): [number, number] {
  const r = Math.sqrt(r2);
  switch (k.kind) {
    case 'coulomb': {
      const e2 = (k.eps ?? 1e-3) ** 2;
      return [1 / Math.sqrt(r2 + e2), -((r2 + e2) ** -1.5)];
    }
    case 'yukawa': {
      const e2 = (k.eps ?? 1e-3) ** 2, q = 1 / Math.sqrt(r2 + e2), ex = Math.exp(-k.kappa * r);
      return [ex * q, -ex * ((r > 0 ? (k.kappa * q) / r : 0) + q * q * q)];
    }
    case 'gaussian': {
      const c = 1 / (2 * k.sigma ** 2), g = Math.exp(-r2 * c);
      return [g, -2 * c * g];
    }
    case 'energy': return [-r, r > 0 ? -1 / r : 0];
    case 'matern32': {
      const a = (Math.sqrt(3) * r) / k.length;
      return [(1 + a) * Math.exp(-a), (-3 / k.length ** 2) * Math.exp(-a)];
    }
    case 'matern52': {
      const a = (Math.sqrt(5) * r) / k.length;
      return [(1 + a + (a * a) / 3) * Math.exp(-a), (-5 / (3 * k.length ** 2)) * (1 + a) * Math.exp(-a)];
    }
    case 'laplacian': {
      const e = Math.exp(-r / k.length);
      return [e, r > 0 ? -e / (k.length * r) : 0];
    }
  }
}

// E = sum_ij a_i b_j G(|x_i - y_j|) in fp64 (x as numbers, so it can be perturbed).
function energy(k: RealKernel, x: ArrayLike<number>, y: ArrayLike<number>, d: number, a?: ArrayLike<number>, b?: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < x.length / d; i++)
    for (let j = 0; j < y.length / d; j++) {
      let r2 = 0;
      for (let q = 0; q < d; q++) r2 += (x[i * d + q] - y[j * d + q]) ** 2;
      e += (a ? a[i] : 1) * (b ? b[j] : 1) * Gh(k, r2)[0];
    }
  return e;
}

// dE/dx analytically in fp64.
function energyGradRef(k: RealKernel, x: ArrayLike<number>, y: ArrayLike<number>, d: number, a?: ArrayLike<number>, b?: ArrayLike<number>): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length / d; i++)
    for (let j = 0; j < y.length / d; j++) {
      let r2 = 0;
      for (let q = 0; q < d; q++) r2 += (x[i * d + q] - y[j * d + q]) ** 2;
      const h = Gh(k, r2)[1];
      for (let q = 0; q < d; q++) g[i * d + q] += (a ? a[i] : 1) * (b ? b[j] : 1) * h * (x[i * d + q] - y[j * d + q]);
    }
  return g;
}

function discrepancy(k: RealKernel, x: ArrayLike<number>, y: ArrayLike<number>, d: number): number {
  const nx = x.length / d, ny = y.length / d;
  return energy(k, x, x, d) / (nx * nx) + energy(k, y, y, d) / (ny * ny) - (2 * energy(k, x, y, d)) / (nx * ny);
}

const KERNELS: RealKernel[] = [
  { kind: 'coulomb', eps: 0.3 }, { kind: 'yukawa', kappa: 0.5, eps: 0.3 }, { kind: 'gaussian', sigma: 1.2 }, { kind: 'energy' },
  { kind: 'matern32', length: 1.5 }, { kind: 'matern52', length: 1.5 }, { kind: 'laplacian', length: 2 },
];

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(b[i]));
  return maxAbsDiff(a, b) / m;
};

describe.each(KERNELS.map((k) => [k.kind, k] as const))('%s', (_name, kernel) => {
  const d = 17, N = 37, M = 53;
  const A = cloud(N * d, 1, 1), B = cloud(M * d, 1, 2, 0.2);
  const r = rng(3);
  const wa = Float32Array.from({ length: N }, () => 0.2 + r()), wb = Float32Array.from({ length: M }, () => 0.2 + r());

  test('the fp64 reference gradient equals central differences of the fp64 energy', () => {
    const g = energyGradRef(kernel, A, B, d, wa, wb);
    const x = Array.from(A);
    for (const idx of [0, 5, 17 * 11 + 3, N * d - 1]) {
      const h = 1e-5;
      x[idx] += h;
      const up = energy(kernel, x, B, d, wa, wb);
      x[idx] -= 2 * h;
      const down = energy(kernel, x, B, d, wa, wb);
      x[idx] += h;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - g[idx])).toBeLessThan(1e-4 * Math.max(1, Math.abs(g[idx])));
    }
  });

  test('energyGrad == the fp64 reference (both sets and both weights)', async () => {
    const out = await points.energyGrad(A, B, { d, kernel, wa, wb });
    expect(rel(out.dA, energyGradRef(kernel, A, B, d, wa, wb))).toBeLessThan(1e-4);
    expect(rel(out.dB, energyGradRef(kernel, B, A, d, wb, wa))).toBeLessThan(1e-4);
    const e = energy(kernel, A, B, d, wa, wb);
    expect(Math.abs(out.value - e) / Math.abs(e)).toBeLessThan(1e-5);
    // dE/da_i = sum_j b_j G(r_ij)
    const da = new Float64Array(N);
    for (let i = 0; i < N; i++) da[i] = energy(kernel, A.subarray(i * d, (i + 1) * d), B, d, undefined, wb);
    expect(rel(out.dwa, da)).toBeLessThan(1e-5);
  });

  test('the discrepancy gradient (mmd, or the energy distance) == central differences of the fp64 discrepancy', async () => {
    const X = cloud(29 * 5, 1, 4), Y = cloud(31 * 5, 1, 5, 0.4);
    const dd = 5;
    const k: RealKernel = kernel.kind === 'energy' ? { kind: 'energy' } : kernel;
    const out = kernel.kind === 'energy' ? await points.energyDistanceGrad(X, Y, { d: dd }) : await points.mmdGrad(X, Y, { d: dd, kernel: k });
    const x = Array.from(X), y = Array.from(Y);
    for (const [arr, grad, other, first] of [[x, out.dX, y, true], [y, out.dY, x, false]] as const) {
      for (const idx of [0, 7, arr.length - 1]) {
        const h = 1e-5;
        arr[idx] += h;
        const up = first ? discrepancy(k, arr, other, dd) : discrepancy(k, other, arr, dd);
        arr[idx] -= 2 * h;
        const down = first ? discrepancy(k, arr, other, dd) : discrepancy(k, other, arr, dd);
        arr[idx] += h;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - grad[idx])).toBeLessThan(1e-4 * Math.max(Math.abs(fd), 1e-3));
      }
    }
  });
});

describe('cusps and the flow', () => {
  test('coincident points: the energy kernel gives finite gradients (subgradient 0 at r = 0)', async () => {
    const d = 3;
    const X = cloud(10 * d, 1, 6);
    const Y = new Float32Array([...X.subarray(0, 5 * d), ...cloud(5 * d, 1, 7)]);
    const g = await points.energyDistanceGrad(X, Y, { d });
    expect([...g.dX, ...g.dY].every(Number.isFinite)).toBe(true);
    const e = await points.energyGrad(X, X, { d, kernel: { kind: 'laplacian', length: 1 } });
    expect([...e.dA, ...e.dB].every(Number.isFinite)).toBe(true);
    expect(rel(e.dA, energyGradRef({ kind: 'laplacian', length: 1 }, X, X, d))).toBeLessThan(1e-4);
  });

  test('an MMD flow decreases the discrepancy at every step and ends below 5% of its start', async () => {
    const d = 2;
    const X = cloud(60 * d, 1, 8), Y = cloud(80 * d, 1, 9, 3);
    const f = await points.flow(X, Y, { d, metric: 'mmd', kernel: { kind: 'gaussian', sigma: 2 }, step: 60, steps: 60 });
    for (let s = 1; s < f.discrepancy.length; s++) expect(f.discrepancy[s]).toBeLessThanOrEqual(f.discrepancy[s - 1]);
    expect(f.discrepancy[60]).toBeLessThan(0.05 * f.discrepancy[0]);
    expect(f.at[0]).toBe(0);
    expect(f.at[f.at.length - 1]).toBe(60);
    expect(f.snapshots.length).toBe(f.at.length);
  });

  test('an energy-distance flow with noise injection, aborted part way: E_ABORTED', async () => {
    const d = 2;
    const X = cloud(40 * d, 1, 10), Y = cloud(40 * d, 1, 11, 2);
    const f = await points.flow(X, Y, { d, steps: 40, step: 10, noise: 0.1, seed: 3 });
    expect(f.discrepancy[40]).toBeLessThan(0.2 * f.discrepancy[0]);
    const ac = new AbortController();
    const p = points.flow(X, Y, { d, steps: 100000, signal: ac.signal, onProgress: (s) => s === 3 && ac.abort() });
    expect(await errorOf(() => p)).toMatchObject({ code: 'E_ABORTED' });
  });

  test('bad input: a helmholtz or energy kernel for mmd, weights of no total, a kernel given to the energy flow', async () => {
    const X = cloud(12, 1, 12);
    expect(await errorOf(() => points.mmdGrad(X, X, { d: 3, kernel: { kind: 'energy' } }))).toMatchObject({ code: 'E_RANGE' });
    expect(await errorOf(() => points.energyGrad(X, X, { d: 3, kernel: { kind: 'helmholtz', k: [1, 0] } as unknown as Kernel as never }))).toMatchObject({ code: 'E_RANGE' });
    expect(await errorOf(() => points.energyDistanceGrad(X, X, { d: 3, wx: new Float32Array(4) }))).toMatchObject({ code: 'E_RANGE' });
    expect(await errorOf(() => points.flow(X, X, { d: 3, kernel: { kind: 'gaussian', sigma: 1 } }))).toMatchObject({ code: 'E_RANGE' });
  });
});

// ---------------------------------------------------------------------------
// Attention: the fp64 forward in JavaScript, and its central differences.

type AttnKernel = import('../lib/points').AttentionKernel;
interface AShape { B: number; H: number; N: number; M: number; d: number; dv: number }

function attnRef(Q: ArrayLike<number>, K: ArrayLike<number>, V: ArrayLike<number>, s: AShape, kernel: AttnKernel, beta: number, o: { mask?: Uint8Array; bias?: Float32Array; causal?: 'bottom-right' | 'top-left' }): Float64Array {
  const { B, H, N, M, d, dv } = s;
  const out = new Float64Array(B * H * N * dv);
  const shift = o.causal === 'top-left' ? 0 : M - N;
  for (let bh = 0; bh < B * H; bh++)
    for (let i = 0; i < N; i++) {
      const l: number[] = [];
      for (let j = 0; j < M; j++) {
        if ((o.mask && !o.mask[Math.floor(bh / H) * M + j]) || (o.causal && j > i + shift)) { l.push(-Infinity); continue; }
        let dot = 0, r2 = 0;
        for (let k = 0; k < d; k++) {
          const q = Q[(bh * N + i) * d + k], kk = K[(bh * M + j) * d + k];
          dot += q * kk;
          r2 += (q - kk) ** 2;
        }
        const s0 = kernel.kind === 'dot' ? beta * dot : kernel.kind === 'gaussian' ? -r2 / (2 * kernel.sigma ** 2) : beta * Gh(kernel, r2)[0];
        l.push(s0 + (o.bias ? o.bias[bh * M + j] : 0));
      }
      const mx = Math.max(...l);
      if (mx === -Infinity) continue;
      const p = l.map((v) => Math.exp(v - mx));
      const z = p.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dv; c++) out[(bh * N + i) * dv + c] = p.reduce((a, pj, j) => a + pj * V[(bh * M + j) * dv + c], 0) / z;
    }
  return out;
}

describe('attentionGrad against central differences of an fp64 forward', () => {
  const s: AShape = { B: 2, H: 3, N: 37, M: 53, d: 17, dv: 5 };
  const Q = cloud(s.B * s.H * s.N * s.d, 1, 20), K = cloud(s.B * s.H * s.M * s.d, 1, 21), V = cloud(s.B * s.H * s.M * s.dv, 1, 22);
  const mask = Uint8Array.from({ length: s.B * s.M }, (_, i) => (i % 11 === 4 ? 0 : 1));
  const bias = cloud(s.B * s.H * s.M, 1, 23).map((v) => 0.3 * v);
  const dOut = cloud(s.B * s.H * s.N * s.dv, 1, 24);
  const kernels: [AttnKernel, number][] = [
    [{ kind: 'dot' }, 0.4], [{ kind: 'gaussian', sigma: 1.7 }, 1], [{ kind: 'energy' }, 0.8], [{ kind: 'coulomb', eps: 0.5 }, 1.5],
    [{ kind: 'yukawa', kappa: 0.3, eps: 0.5 }, 2], [{ kind: 'matern32', length: 2 }, 2], [{ kind: 'matern52', length: 2 }, 2], [{ kind: 'laplacian', length: 2 }, 2],
  ];
  test.each(kernels.map(([k, b], i) => [k.kind, String((['bottom-right', 'top-left', undefined] as const)[i % 3] ?? 'none'), k, b] as const))('%s, causal %s', async (_n, c, kernel, beta) => {
    const causal = c === 'none' ? undefined : (c as 'bottom-right' | 'top-left');
    const o = { mask, bias, causal: causal as 'bottom-right' | 'top-left' | undefined };
    const opts = { d: s.d, batch: s.B, heads: s.H, kernel, keyMask: mask, keyBias: bias, ...(causal ? { causal } : {}), ...(kernel.kind === 'gaussian' ? {} : { beta }) };
    const g = await points.attentionGrad(Q, K, V, dOut, opts);
    const loss = (q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, kk = kernel, b = beta) => {
      const out = attnRef(q, k, v, s, kk, b, o);
      let l = 0;
      for (let i = 0; i < out.length; i++) l += out[i] * dOut[i];
      return l;
    };
    const check = (name: string, arr: Float32Array, grad: Float32Array, which: number) => {
      const x = Array.from(arr);
      let scale = 0;
      for (const v of grad) scale = Math.max(scale, Math.abs(v));
      const r = rng(which);
      for (let t = 0; t < 12; t++) {
        const idx = Math.floor(r() * x.length);
        const h = 1e-4;
        const args = (): [number[] | Float32Array, number[] | Float32Array, number[] | Float32Array] => (which === 0 ? [x, K, V] : which === 1 ? [Q, x, V] : [Q, K, x]);
        x[idx] += h;
        const up = loss(...args());
        x[idx] -= 2 * h;
        const down = loss(...args());
        x[idx] += h;
        const fd = (up - down) / (2 * h);
        expect({ name, idx, diff: Math.abs(fd - grad[idx]) / scale < 1e-4 }).toEqual({ name, idx, diff: true });
      }
    };
    check('dQ', Q, g.dQ, 0);
    check('dK', K, g.dK, 1);
    check('dV', V, g.dV, 2);
    // The parameter, summed over the heads: d/dbeta or d/dsigma.
    const h = 1e-5;
    const total = g.dParam.reduce((a, b) => a + b, 0);
    const fd = kernel.kind === 'gaussian'
      ? (loss(Q, K, V, { kind: 'gaussian', sigma: kernel.sigma + h }) - loss(Q, K, V, { kind: 'gaussian', sigma: kernel.sigma - h })) / (2 * h)
      : (loss(Q, K, V, kernel, beta + h) - loss(Q, K, V, kernel, beta - h)) / (2 * h);
    expect(Math.abs(total - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
    expect(g.param).toBe(kernel.kind === 'gaussian' ? 'sigma' : 'beta');
  });

  test.each(kernels.map(([k, b]) => [k.kind, k, b] as const))('the gradient of the sum of the outputs (dOut = 1), %s: dV sums each key\'s attention weights, dQ and dK vanish', async (_n, kernel, beta) => {
    const d = 4, n = 9, m = 13;
    const q = cloud(n * d, 1, 30), k = cloud(m * d, 1, 31), v = cloud(m * 2, 1, 32);
    const opts = { d, kernel, ...(kernel.kind === 'gaussian' ? {} : { beta }) };
    const g = await points.attentionGrad(q, k, v, new Float32Array(n * 2).fill(1), opts);
    // sum_i P_ij for each key j, from the fp64 forward with one-hot values.
    for (let j = 0; j < m; j++) {
      const onehot = new Float32Array(m).map((_, t) => (t === j ? 1 : 0));
      const w = attnRef(q, k, onehot, { B: 1, H: 1, N: n, M: m, d, dv: 1 }, kernel, beta, {}).reduce((a, b) => a + b, 0);
      expect(Math.abs(g.dV[j * 2] - w)).toBeLessThan(1e-5);
      expect(Math.abs(g.dV[j * 2 + 1] - w)).toBeLessThan(1e-5);
    }
    // With V = ones as well, every output is 1 whatever Q and K are: dQ = dK = 0.
    const flat = await points.attentionGrad(q, k, new Float32Array(m * 2).fill(1), new Float32Array(n * 2).fill(1), opts);
    for (const x of [...flat.dQ, ...flat.dK]) expect(Math.abs(x)).toBeLessThan(1e-5);
  });
});

describe("attention's saved statistics (returnLse, saved)", () => {
  const s: AShape = { B: 2, H: 3, N: 37, M: 53, d: 17, dv: 5 };
  const Q = cloud(s.B * s.H * s.N * s.d, 1, 40), K = cloud(s.B * s.H * s.M * s.d, 1, 41), V = cloud(s.B * s.H * s.M * s.dv, 1, 42);
  const dOut = cloud(s.B * s.H * s.N * s.dv, 1, 43);
  const mask = new Uint8Array(s.B * s.M).fill(1);
  mask.fill(0, s.M, 2 * s.M);  // the second batch sees no key at all
  const opts = { d: s.d, batch: s.B, heads: s.H, kernel: { kind: 'gaussian', sigma: 1.3 } as const, keyMask: mask };

  test('returnLse gives the output and the log-sum-exp of each query (-Infinity where no key is seen), as an fp64 softmax', async () => {
    const { out, lse } = await points.attention(Q, K, V, { ...opts, returnLse: true });
    // (The statistics need the whole logit; without them gaussian drops |q|^2, the same for every key.)
    const plain = await points.attention(Q, K, V, opts);
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - plain[i])).toBeLessThan(1e-5);
    expect(lse.length).toBe(s.B * s.H * s.N);
    for (let bh = 0; bh < s.B * s.H; bh++)
      for (let i = 0; i < s.N; i++) {
        const at = bh * s.N + i;
        if (bh >= s.H) {
          expect(lse[at]).toBe(-Infinity);
          continue;
        }
        let z = 0;
        for (let j = 0; j < s.M; j++) {
          let r2 = 0;
          for (let k = 0; k < s.d; k++) r2 += (Q[at * s.d + k] - K[(bh * s.M + j) * s.d + k]) ** 2;
          z += Math.exp(-r2 / (2 * 1.3 ** 2));
        }
        expect(Math.abs(lse[at] - Math.log(z))).toBeLessThan(2e-5 * Math.max(1, Math.abs(Math.log(z))));
      }
  });

  test('attentionGrad with the saved statistics gives the same numbers as without', async () => {
    const saved = await points.attention(Q, K, V, { ...opts, returnLse: true });
    const a = await points.attentionGrad(Q, K, V, dOut, opts), b = await points.attentionGrad(Q, K, V, dOut, { ...opts, saved });
    expect(b.dQ).toEqual(a.dQ);
    expect(b.dK).toEqual(a.dK);
    expect(b.dV).toEqual(a.dV);
    expect(b.dParam).toEqual(a.dParam);
  });

  test('at sizes where the keys are cut into chunks (700 x 900, d = 70): one pass == the fp64 gradient of a scalar loss', async () => {
    const n = 700, m = 900, d = 70, dv = 3;
    const q = cloud(n * d, 1, 50).map((v) => 0.3 * v), k = cloud(m * d, 1, 51).map((v) => 0.3 * v), v = cloud(m * dv, 1, 52);
    const go = cloud(n * dv, 1, 53);
    const g = await points.attentionGrad(q, k, v, go, { d, causal: 'top-left' });
    // dQ of query i in fp64: P_ij = softmax_j(beta q_i . k_j), dS = P (dP - D), dq = beta sum_j dS k_j.
    const beta = 1 / Math.sqrt(d);
    for (const i of [0, 1, 63, 64, 333, 699]) {
      const l: number[] = [];
      for (let j = 0; j <= i && j < m; j++) {
        let t = 0;
        for (let c = 0; c < d; c++) t += q[i * d + c] * k[j * d + c];
        l.push(beta * t);
      }
      const mx = Math.max(...l);
      const p = l.map((x) => Math.exp(x - mx));
      const z = p.reduce((a, b) => a + b, 0);
      const dp = p.map((_, j) => go[i * dv] * v[j * dv] + go[i * dv + 1] * v[j * dv + 1] + go[i * dv + 2] * v[j * dv + 2]);
      const D = p.reduce((a, pj, j) => a + (pj / z) * dp[j], 0);
      let worst = 0, scale = 0;
      for (let c = 0; c < d; c++) {
        let ref = 0;
        for (let j = 0; j < p.length; j++) ref += beta * (p[j] / z) * (dp[j] - D) * k[j * d + c];
        worst = Math.max(worst, Math.abs(ref - g.dQ[i * d + c]));
        scale = Math.max(scale, Math.abs(ref));
      }
      expect({ i, ok: worst <= 1e-4 * scale + 1e-7 }).toEqual({ i, ok: true });
    }
  });

  test('bad saved statistics: wrong lengths, unknown fields, NaN or +Infinity in lse, one without the other', async () => {
    const saved = await points.attention(Q, K, V, { ...opts, returnLse: true });
    const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);
    expect(await codeOf(points.attentionGrad(Q, K, V, dOut, { ...opts, saved: { out: saved.out, lse: saved.lse.subarray(1) } }))).toMatch(/^E_SHAPE: .*saved\.lse/);
    expect(await codeOf(points.attentionGrad(Q, K, V, dOut, { ...opts, saved: { out: saved.out.subarray(1), lse: saved.lse } }))).toMatch(/^E_SHAPE: .*saved\.out/);
    expect(await codeOf(points.attentionGrad(Q, K, V, dOut, { ...opts, saved: { ...saved, extra: 1 } as never }))).toMatch(/^E_TYPE: .*extra/);
    expect(await codeOf(points.attentionGrad(Q, K, V, dOut, { ...opts, saved: { out: saved.out } as never }))).toMatch(/^E_TYPE: .*saved\.lse/);
    expect(await codeOf(points.attentionGrad(Q, K, V, dOut, { ...opts, saved: saved.out as never }))).toMatch(/^E_TYPE: .*saved/);
    for (const bad of [NaN, Infinity]) {
      const lse = saved.lse.slice();
      lse[5] = bad;
      expect(await codeOf(points.attentionGrad(Q, K, V, dOut, { ...opts, saved: { out: saved.out, lse } }))).toMatch(/^E_NONFINITE: .*saved\.lse\[5\]/);
    }
    expect(await codeOf(points.attention(Q, K, V, { ...opts, returnLse: 1 as never }))).toMatch(/^E_TYPE: .*returnLse/);
  });
});

describe("the demo's themes", () => {
  test('music flows onto emotions: the squared MMD falls at every step to below 1% of its start', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const demo = require('../examples/demo.json') as { input: { themes: Record<string, string[]> } };
    const { loadVocabulary } = await import('../lib');
    const vocab = loadVocabulary();
    const d = vocab.d;
    const has = (w: string) => vocab.indexOf(w) !== undefined;
    const A = vocab.rows(demo.input.themes.music.filter(has)), B = vocab.rows(demo.input.themes.emotions.filter(has));
    const both = new Float32Array([...A, ...B]), n = both.length / d;
    const dist: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let q = 0; q < d; q++) s += (both[i * d + q] - both[j * d + q]) ** 2;
        dist.push(Math.sqrt(s));
      }
    dist.sort((a, b) => a - b);
    const sigma = dist[dist.length >> 1];
    const f = await points.flow(A, B, { d, metric: 'mmd', kernel: { kind: 'gaussian', sigma }, step: ((A.length / d) / 2) * sigma * sigma, steps: 200 });
    for (let s = 1; s <= 200; s++) expect(f.discrepancy[s]).toBeLessThanOrEqual(f.discrepancy[s - 1] * (1 + 1e-6));
    expect(f.discrepancy[200]).toBeLessThan(0.01 * f.discrepancy[0]);
  });
});
