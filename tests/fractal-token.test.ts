// Fractal tokens: the weighted mean of an unfolding equals the closed form
// sum_i pi_i p_i at every depth; points and weights follow their definition.
import { SemfieldError, fractal } from '../lib';
import { errorOf, rng } from './helpers';

function randomRows(rows: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * d }, () => r() * 2 - 1);
}

describe('fractal.unfoldToken', () => {
  test('weighted mean = sum pi_i p_i (fp64 reference) for d = 384, at depths 0..4, under two contexts', async () => {
    const d = 384, m = 4;
    const P = randomRows(m, d, 1), C = randomRows(2, d, 2);
    for (const depth of [0, 1, 2, 4]) {
      const t = await fractal.unfoldToken(P, C, { d, depth, s: 0.4, beta: 0.3 });
      expect(t.count).toBe(m ** depth);
      for (let c = 0; c < 2; c++) {
        // pi = softmax(beta c.p_i), in fp64 here.
        const logits = Array.from({ length: m }, (_, i) => {
          let s = 0;
          for (let k = 0; k < d; k++) s += C[c * d + k] * P[i * d + k];
          return 0.3 * s;
        });
        const top = Math.max(...logits), z = logits.reduce((a, l) => a + Math.exp(l - top), 0);
        const pi = logits.map((l) => Math.exp(l - top) / z);
        pi.forEach((v, i) => expect(t.pi[c * m + i]).toBeCloseTo(v, 12));
        let wsum = 0;
        const mean = new Float64Array(d);
        for (let p = 0; p < t.count; p++) {
          const w = t.weights[c * t.count + p];
          wsum += w;
          for (let k = 0; k < d; k++) mean[k] += w * t.points[(c * t.count + p) * d + k];
        }
        expect(wsum).toBeCloseTo(1, 12);
        let err = 0, scale = 0;
        for (let k = 0; k < d; k++) {
          let closed = 0;
          for (let i = 0; i < m; i++) closed += pi[i] * P[i * d + k];
          err = Math.max(err, Math.abs(mean[k] - closed));
          scale = Math.max(scale, Math.abs(closed));
          expect(t.mean[c * d + k]).toBeCloseTo(closed, 12);
        }
        expect(err / scale).toBeLessThan(1e-5);
      }
    }
  });

  test('points and weights follow the address: w_{a1}(...w_{ak}(x0)), prod pi_{aj}', async () => {
    const d = 3, m = 3, s = 0.3, depth = 3;
    const P = randomRows(m, d, 3), C = randomRows(1, d, 4);
    const t = await fractal.unfoldToken(P, C, { d, depth, s, beta: 2 });
    for (let p = 0; p < m ** depth; p++) {
      const digits: number[] = [];
      for (let k = 0, q = p; k < depth; k++, q = Math.floor(q / m)) digits.unshift(q % m);
      let x = Array.from(t.mean);
      for (let k = depth - 1; k >= 0; k--) x = x.map((v, j) => s * v + (1 - s) * P[digits[k] * d + j]);
      x.forEach((v, j) => expect(t.points[p * d + j]).toBeCloseTo(v, 5));
      const w = digits.reduce((a, i) => a * t.pi[i], 1);
      expect(t.weights[p]).toBeCloseTo(w, 14);
    }
  });

  test('the context decides which sub-meaning dominates', async () => {
    const d = 2;
    const P = Float32Array.from([1, 0, 0, 1]);  // two sub-meanings
    const t = await fractal.unfoldToken(P, Float32Array.from([5, 0, 0, 5]), { d, depth: 2, beta: 1 });
    expect(t.pi[0]).toBeGreaterThan(0.99);  // context 0 points at p_0
    expect(t.pi[3]).toBeGreaterThan(0.99);  // context 1 at p_1
    expect(t.mean[0]).toBeGreaterThan(0.99);
    expect(t.mean[3]).toBeGreaterThan(0.99);
  });

  test('bad input', async () => {
    const P = randomRows(2, 4, 5), C = randomRows(1, 4, 6);
    const code = async (f: () => unknown) => ((await errorOf(f)) as SemfieldError).code;
    expect(await code(() => fractal.unfoldToken(P, C, { d: 4, s: 1 }))).toBe('E_RANGE');
    expect(await code(() => fractal.unfoldToken(P, C, { d: 3 }))).toBe('E_SHAPE');
    expect(await code(() => fractal.unfoldToken(P, new Float32Array(0), { d: 4 }))).toBe('E_SHAPE');
    expect(await code(() => fractal.unfoldToken(P, C, { d: 4, depth: 40 }))).toBe('E_TOO_LARGE');
    expect(await code(() => fractal.unfoldToken(Float32Array.from([NaN, 0, 0, 0, 0, 0, 0, 0]), C, { d: 4 }))).toBe('E_NONFINITE');
    expect(await code(() => fractal.unfoldToken(P, C, { d: 4, beta: Infinity }))).toBe('E_NONFINITE');
    expect(await code(() => fractal.unfoldToken(P, C, undefined as never))).toBe('E_TYPE');
  });
});
