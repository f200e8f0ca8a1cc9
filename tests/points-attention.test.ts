/**
 * SPEC, Points, attention: every logit kind (dot and every real kernel)
 * against an fp64 reference, with batches, heads, causal masks of both
 * alignments and padding masks; gaussian field attention equals
 * dot-product attention with the key bias -|k|^2 / (2 s^2); V = ones gives
 * ones; a query that sees no key gets zeros.
 */
import { points } from '../lib';
import type { AttentionKernel, AttentionOptions } from '../lib/points';
import { maxAbsDiff, rng } from './helpers';

function randn(len: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: len }, () => scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

interface Shape { B: number; H: number; N: number; M: number; d: number; dv: number }

function reference(Q: Float32Array, K: Float32Array, V: Float32Array, s: Shape, o: AttentionOptions): Float64Array {
  const { B, H, N, M, d, dv } = s;
  const k = (o.kernel ?? { kind: 'dot' }) as AttentionKernel & { sigma?: number; eps?: number; kappa?: number; length?: number };
  const kind = k.kind;
  const beta = o.beta ?? (kind === 'dot' ? 1 / Math.sqrt(d) : 1);
  const eps = k.eps ?? 1e-3;
  const shift = o.causal === 'top-left' ? 0 : M - N;
  const out = new Float64Array(B * H * N * dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      for (let i = 0; i < N; i++) {
        const logits: number[] = [];
        for (let j = 0; j < M; j++) {
          const ok = (!o.keyMask || o.keyMask[b * M + j]) && (!o.causal || j <= i + shift);
          if (!ok) { logits.push(-Infinity); continue; }
          let dot = 0, r2 = 0;
          for (let k = 0; k < d; k++) {
            const q = Q[(bh * N + i) * d + k], kk = K[(bh * M + j) * d + k];
            dot += q * kk;
            r2 += (q - kk) ** 2;
          }
          const r = Math.sqrt(r2);
          let l = 0;
          if (kind === 'dot') l = beta * dot;
          else if (kind === 'gaussian') l = -r2 / (2 * k.sigma! ** 2);
          else if (kind === 'energy') l = -beta * r;
          else if (kind === 'coulomb') l = beta / Math.sqrt(r2 + eps * eps);
          else if (kind === 'yukawa') l = (beta * Math.exp(-k.kappa! * r)) / Math.sqrt(r2 + eps * eps);
          else if (kind === 'matern32') l = beta * (1 + (Math.sqrt(3) * r) / k.length!) * Math.exp((-Math.sqrt(3) * r) / k.length!);
          else if (kind === 'matern52') {
            const a = (Math.sqrt(5) * r) / k.length!;
            l = beta * (1 + a + (a * a) / 3) * Math.exp(-a);
          } else l = beta * Math.exp(-r / k.length!);
          logits.push(l + (o.keyBias ? o.keyBias[bh * M + j] : 0));
        }
        const mx = Math.max(...logits);
        if (mx === -Infinity) continue;
        const p = logits.map((l) => Math.exp(l - mx));
        const z = p.reduce((a, c) => a + c, 0);
        for (let c = 0; c < dv; c++) {
          let acc = 0;
          for (let j = 0; j < M; j++) acc += p[j] * V[(bh * M + j) * dv + c];
          out[(bh * N + i) * dv + c] = acc / z;
        }
      }
    }
  return out;
}

const kinds: [AttentionKernel, Partial<AttentionOptions>][] = [
  [{ kind: 'dot' }, {}],
  [{ kind: 'gaussian', sigma: 2 }, {}],
  [{ kind: 'energy' }, { beta: 0.7 }],
  [{ kind: 'coulomb', eps: 0.3 }, { beta: 2 }],
  [{ kind: 'yukawa', eps: 0.3, kappa: 0.4 }, { beta: 3 }],
  [{ kind: 'matern32', length: 1.5 }, { beta: 2 }],
  [{ kind: 'matern52', length: 1.5 }, { beta: 2 }],
  [{ kind: 'laplacian', length: 2 }, { beta: 3 }],
];

describe('attention against fp64', () => {
  for (const d of [2, 3, 50, 384]) {
    test(`d = ${d}: every kind, batch 2 x 3 heads, with padding`, async () => {
      const s: Shape = { B: 2, H: 3, N: d === 384 ? 9 : 37, M: d === 384 ? 40 : 75, d, dv: 5 };
      const Q = randn(s.B * s.H * s.N * d, d, 0.5), K = randn(s.B * s.H * s.M * d, d + 1, 0.5), V = randn(s.B * s.H * s.M * s.dv, d + 2);
      const keyMask = Uint8Array.from({ length: s.B * s.M }, (_, i) => (i % 7 === 3 ? 0 : 1));
      for (const [kernel, extra] of kinds) {
        const o: AttentionOptions = { d, batch: s.B, heads: s.H, kernel, keyMask, ...extra };
        const out = await points.attention(Q, K, V, o);
        expect(maxAbsDiff(out, reference(Q, K, V, s, o))).toBeLessThan(2e-5);
      }
    });
  }

  test('causal masks with M > N in both alignments, key bias, all-masked rows get zeros', async () => {
    const s: Shape = { B: 1, H: 2, N: 20, M: 50, d: 8, dv: 3 };
    const Q = randn(2 * 20 * 8, 1), K = randn(2 * 50 * 8, 2), V = randn(2 * 50 * 3, 3);
    const keyBias = randn(2 * 50, 4);
    for (const causal of [true, 'bottom-right', 'top-left'] as const)
      for (const [kernel, extra] of kinds) {
        const o: AttentionOptions = { d: 8, heads: 2, kernel, causal, keyBias, ...extra };
        expect(maxAbsDiff(await points.attention(Q, K, V, o), reference(Q, K, V, s, o))).toBeLessThan(2e-5);
      }
    // true is bottom-right: the last query sees every key.
    const t = await points.attention(Q, K, V, { d: 8, heads: 2, causal: true });
    expect(maxAbsDiff(t, await points.attention(Q, K, V, { d: 8, heads: 2, causal: 'bottom-right' }))).toBe(0);
    // top-left also takes fewer keys than queries: query i sees keys j <= i.
    const few: Shape = { B: 1, H: 1, N: 30, M: 12, d: 4, dv: 2 };
    const Qf = randn(30 * 4, 5), Kf = randn(12 * 4, 6), Vf = randn(12 * 2, 7);
    const of: AttentionOptions = { d: 4, causal: 'top-left' };
    expect(maxAbsDiff(await points.attention(Qf, Kf, Vf, of), reference(Qf, Kf, Vf, few, of))).toBeLessThan(2e-5);
    const none = await points.attention(Q, K, V, { d: 8, heads: 2, keyMask: new Uint8Array(50) });
    expect(none.every((v) => v === 0)).toBe(true);
  });
});

describe('identities', () => {
  test('gaussian attention equals dot-product attention with beta = 1/s^2 and key bias -|k|^2/(2 s^2)', async () => {
    const d = 16, N = 64, M = 200, sigma = 1.3;
    const Q = randn(N * d, 7), K = randn(M * d, 8), V = randn(M * 4, 9);
    const bias = new Float32Array(M);
    for (let j = 0; j < M; j++) {
      let k2 = 0;
      for (let k = 0; k < d; k++) k2 += K[j * d + k] ** 2;
      bias[j] = -k2 / (2 * sigma * sigma);
    }
    const g = await points.attention(Q, K, V, { d, kernel: { kind: 'gaussian', sigma } });
    const dp = await points.attention(Q, K, V, { d, kernel: { kind: 'dot' }, beta: 1 / sigma ** 2, keyBias: bias });
    expect(maxAbsDiff(g, dp)).toBeLessThan(1e-5);
  });

  test('V = ones gives ones for every kind', async () => {
    const d = 10, N = 33, M = 70;
    const Q = randn(N * d, 11), K = randn(M * d, 12), V = new Float32Array(M * 2).fill(1);
    for (const [kernel, extra] of kinds) {
      const out = await points.attention(Q, K, V, { d, kernel, ...extra });
      for (const v of out) expect(Math.abs(v - 1)).toBeLessThan(1e-6);
    }
  });

  test('large logits do not overflow (online softmax keeps the running max)', async () => {
    const d = 4, N = 8, M = 300;
    const Q = randn(N * d, 13, 30), K = randn(M * d, 14, 30), V = randn(M, 15);
    const o: AttentionOptions = { d, beta: 1 };
    const out = await points.attention(Q, K, V, o);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(out, reference(Q, K, V, { B: 1, H: 1, N, M, d, dv: 1 }, o))).toBeLessThan(1e-5);
  });
});
