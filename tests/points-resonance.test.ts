/**
 * SPEC, Points, resonance: R_AB(w) against an fp64 double loop, k(w) with
 * Im k >= 0, and at w = 0 the yukawa energy with screening kappa / c.
 */
import { points } from '../lib';
import { rng } from './helpers';

function cloud(n: number, d: number, seed: number, shift = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * d }, () => shift + r() * 2 - 1);
}

function reference(A: Float32Array, B: Float32Array, d: number, w: number, g: number, kappa: number, c: number, eps: number) {
  // k = sqrt(w^2 + i g w - kappa^2) / c with Im k >= 0
  const zr = w * w - kappa * kappa, zi = g * w;
  const m = Math.sqrt(Math.hypot(zr, zi)), th = Math.atan2(zi, zr) / 2;
  let kre = (m * Math.cos(th)) / c, kim = (m * Math.sin(th)) / c;
  if (kim < 0) { kre = -kre; kim = -kim; }
  let re = 0, im = 0;
  for (let i = 0; i < A.length / d; i++)
    for (let j = 0; j < B.length / d; j++) {
      let r2 = 0;
      for (let k = 0; k < d; k++) r2 += (A[i * d + k] - B[j * d + k]) ** 2;
      const r = Math.sqrt(r2), a = Math.exp(-kim * r) / Math.sqrt(r2 + eps * eps);
      re += a * Math.cos(kre * r);
      im += a * Math.sin(kre * r);
    }
  return Math.hypot(re, im);
}

describe('points.resonance', () => {
  for (const d of [2, 3, 50, 384]) {
    test(`d = ${d}: the spectrum over a sweep of w matches fp64 to 1e-5`, async () => {
      const A = cloud(d === 384 ? 20 : 60, d, d), B = cloud(d === 384 ? 15 : 45, d, d + 1, 0.5);
      const w = [0, 0.5, 1, 2, 3.5, 7];
      const s = await points.resonance(A, B, w, { d, damping: 0.3, kappa: 0.2, c: 1.5, eps: 0.05 });
      w.forEach((wq, q) => {
        const ref = reference(A, B, d, wq, 0.3, 0.2, 1.5, 0.05);
        expect(Math.abs(s.R[q] - ref) / ref).toBeLessThan(1e-5);
      });
    });
  }

  test('at w = 0 it equals the yukawa energy with kappa / c', async () => {
    const d = 10;
    const A = cloud(80, d, 3), B = cloud(70, d, 4);
    const s = await points.resonance(A, B, [0], { d, kappa: 1.2, c: 2, eps: 0.01 });
    const e = await points.energy(A, B, { d, kernel: { kind: 'yukawa', kappa: 0.6, eps: 0.01 } });
    expect(Math.abs(s.R[0] - e) / e).toBeLessThan(1e-5);
    expect(Math.abs(s.im[0])).toBeLessThan(1e-9 * e);
  });

  test('damping lowers the peak: R falls with g at a fixed w', async () => {
    const d = 3;
    const A = cloud(30, d, 5), B = cloud(30, d, 6);
    const lo = await points.resonance(A, B, [2], { d, damping: 0.1 });
    const hi = await points.resonance(A, B, [2], { d, damping: 2 });
    expect(hi.R[0]).toBeLessThan(lo.R[0]);
  });
});
