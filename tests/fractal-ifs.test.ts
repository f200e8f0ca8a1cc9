// IFS unfold, the chaos game and rendering, against plain JavaScript
// references: the unfolding's address order, and a second implementation of
// the Philox stream whose points must agree bit for bit (the arithmetic is
// IEEE single precision with explicit fused multiply-adds, the same on every
// backend).
import { SemfieldError, fractal } from '../lib';
import { errorOf } from './helpers';

const { presets } = fractal;

// Philox4x32-10 in BigInt arithmetic.
function philox(ctr: number[], key: number[]): number[] {
  let [c0, c1, c2, c3] = ctr.map(BigInt);
  let [k0, k1] = key.map(BigInt);
  const M0 = 0xd2511f53n, M1 = 0xcd9e8d57n, W0 = 0x9e3779b9n, W1 = 0xbb67ae85n, MASK = 0xffffffffn;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) & MASK;
      k1 = (k1 + W1) & MASK;
    }
    const p0 = M0 * c0, p1 = M1 * c2;
    const n0 = (p1 >> 32n) ^ c1 ^ k0, n2 = (p0 >> 32n) ^ c3 ^ k1;
    [c0, c1, c2, c3] = [n0, p1 & MASK, n2, p0 & MASK];
  }
  return [c0, c1, c2, c3].map(Number);
}

const f32 = Math.fround;
// fmaf: a*b is exact in double for fp32 inputs; one rounding of the sum to
// fp32 (a double rounding only at exact fp32 ties, which these tests avoid).
const fmaf = (a: number, b: number, c: number) => f32(a * b + c);

function packed(ifs: fractal.Ifs) {
  const dd = ifs.dim;
  return ifs.maps.map((m) => ({ A: Float32Array.from((m.A as number[]).flat()), b: Float32Array.from(m.b) })).map((m) => ({ ...m, dd }));
}

function apply(m: { A: Float32Array; b: Float32Array; dd: number }, x: number[]): number[] {
  const y: number[] = [];
  for (let r = 0; r < m.dd; r++) {
    let acc = m.b[r];
    for (let c = 0; c < m.dd; c++) acc = fmaf(m.A[r * m.dd + c], x[c], acc);
    y.push(acc);
  }
  return y;
}

/** The chaos game as SPEC defines it, for one chain. */
function referenceChain(ifs: fractal.Ifs, seed: number, chain: number, start: number[], burnIn: number, keep: number): number[][] {
  const maps = packed(ifs);
  const w = ifs.maps.map((m) => m.p ?? 1);
  const total = w.reduce((a, b) => a + b, 0);
  let cum = 0;
  const thresholds = w.map((p) => ((cum += p / total), Math.min(4294967295, Math.floor(cum * 4294967296))));
  let x = start.map(f32);
  const out: number[][] = [];
  for (let t = 0; t < burnIn + keep; t++) {
    const u = philox([t >> 2, 0, chain, 0], [seed, 0])[t & 3];
    let i = thresholds.findIndex((th, k) => k < maps.length - 1 && u < th);
    if (i < 0) i = maps.length - 1;
    x = apply(maps[i], x);
    if (t >= burnIn) out.push(x);
  }
  return out;
}

describe('fractal.unfold', () => {
  test('point p is the composition named by its base-m digits, outermost map first', async () => {
    const ifs = presets.sierpinski();
    const depth = 4;
    const pts = await fractal.unfold(ifs, depth);
    expect(pts.length).toBe(3 ** depth * 2);
    const maps = packed(ifs);
    const x0 = [0, 0];  // the fixed point of map 0 (scaling about the origin)
    let worst = 0;
    for (let p = 0; p < 3 ** depth; p++) {
      const digits: number[] = [];
      for (let k = 0, q = p; k < depth; k++, q = Math.floor(q / 3)) digits.unshift(q % 3);
      let x = x0;
      for (let k = depth - 1; k >= 0; k--) x = apply(maps[digits[k]], x);  // innermost (last digit) first
      worst = Math.max(worst, Math.abs(x[0] - pts[2 * p]), Math.abs(x[1] - pts[2 * p + 1]));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  test('the hierarchy: the points with first digit i lie in the copy w_i of the attractor', async () => {
    const pts = await fractal.unfold(presets.sierpinski(), 5);
    const third = 3 ** 4;
    for (let p = 0; p < 3 ** 5; p++) {
      const i = Math.floor(p / third), x = pts[2 * p], y = pts[2 * p + 1];
      const corner = [[0, 0], [0.5, 0], [0.25, Math.sqrt(3) / 4]][i];
      expect(x).toBeGreaterThanOrEqual(corner[0] - 1e-6);
      expect(x).toBeLessThanOrEqual(corner[0] + 0.5 + 1e-6);
      expect(y).toBeGreaterThanOrEqual(corner[1] - 1e-6);
      expect(y).toBeLessThanOrEqual(corner[1] + Math.sqrt(3) / 4 + 1e-6);
    }
  });

  test('depth 0 is the start point; a given start is used', async () => {
    expect(Array.from(await fractal.unfold(presets.cantor(), 0, { start: [0.5] }))).toEqual([0.5]);
    const one = await fractal.unfold(presets.cantor(), 1, { start: [0.5] });
    expect(Array.from(one)).toEqual([fmaf(f32(1 / 3), 0.5, 0), fmaf(f32(1 / 3), 0.5, f32(2 / 3))]);
  });

  test('3D: the Menger-like IFS of the cube corners unfolds inside the unit cube', async () => {
    const maps = [];
    for (let k = 0; k < 8; k++) maps.push({ A: [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5], b: [(k & 1) / 2, ((k >> 1) & 1) / 2, ((k >> 2) & 1) / 2] });
    const pts = await fractal.unfold({ dim: 3, maps }, 3);
    expect(pts.length).toBe(512 * 3);
    for (const v of pts) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('fractal.chaosGame', () => {
  test('Philox4x32-10 reference matches the Random123 known answers', () => {
    expect(philox([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  test('every point equals an independent implementation of the stream, bit for bit', async () => {
    const cases: [string, fractal.Ifs][] = [['sierpinski', presets.sierpinski()], ['fern', presets.fern()], ['koch', presets.koch()]];
    for (const [, ifs] of cases) {
      const n = 600, chains = 4, burnIn = 7, seed = 12345;
      const pts = await fractal.chaosGame(ifs, n, { seed, chains, burnIn });
      const per = n / chains;
      // The start: the fixed point of map 0 (fp32 of the exact solve).
      const start = await fractal.unfold(ifs, 0);
      for (let c = 0; c < chains; c++) {
        const ref = referenceChain(ifs, seed, c, Array.from(start), burnIn, per);
        for (let t = 0; t < per; t++) {
          expect(pts[2 * (c * per + t)]).toBe(ref[t][0]);
          expect(pts[2 * (c * per + t) + 1]).toBe(ref[t][1]);
        }
      }
    }
  });

  test('the same seed gives the same points; another seed other points; probabilities are honoured', async () => {
    const a = await fractal.chaosGame(presets.fern(), 20000, { seed: 5 });
    const b = await fractal.chaosGame(presets.fern(), 20000, { seed: 5 });
    const c = await fractal.chaosGame(presets.fern(), 20000, { seed: 6 });
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(c.buffer))).not.toBe(0);
    // Map 0 of the fern sends every point to x = 0, y in [0, 0.16 * 10]:
    // about 1% of the points (binomial, n = 20000: 200 +- 42 at 3 sigma).
    let stem = 0;
    for (let i = 0; i < 20000; i++) if (a[2 * i] === 0) stem++;
    expect(stem).toBeGreaterThan(158);
    expect(stem).toBeLessThan(242);
  });
});

describe('fractal.render', () => {
  test('the density is the histogram of the chaos game with the same seed, exactly', async () => {
    const ifs = presets.sierpinski();
    const n = 50000, size = [64, 48], lo = [-0.1, -0.1], hi = [1.1, 1.0];
    const r = await fractal.render(ifs, n, { seed: 9, size, lo, hi });
    const pts = await fractal.chaosGame(ifs, n, { seed: 9 });
    const counts = new Float64Array(64 * 48);
    const inv = [f32(64 / 1.2), f32(48 / 1.1)], l = [f32(-0.1), f32(-0.1)];
    for (let i = 0; i < n; i++) {
      const fx = f32(f32(pts[2 * i] - l[0]) * inv[0]), fy = f32(f32(pts[2 * i + 1] - l[1]) * inv[1]);
      if (fx >= 0 && fx < 64 && fy >= 0 && fy < 48) counts[Math.floor(fy) * 64 + Math.floor(fx)]++;
    }
    expect(Array.from(r.counts)).toEqual(Array.from(counts));
    for (let c = 0; c < counts.length; c++) expect(r.density[c]).toBeCloseTo(counts[c] / n, 7);
    expect(r.inside).toBe(1);
  });

  test('automatic bounds hold the whole attractor; 1D and 3D render', async () => {
    const fern = await fractal.render(presets.fern(), 200000, { size: [128, 256] });
    expect(fern.inside).toBeGreaterThan(0.9999);
    expect(fern.hi[1]).toBeGreaterThan(9.9);
    const cantor = await fractal.render(presets.cantor(), 100000, { size: [81], lo: [0], hi: [1] });
    // 81 cells of width 1/81: the Cantor set at depth 4 lies in 2^4 = 16 of
    // them, 1/16 of the mass each (only endpoints, on cell edges, may spill).
    const full = cantor.density.filter((v) => v > 0.01);
    expect(full.length).toBe(16);
    expect(full.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.999);
  });

  test('render streams 10^8 points without storing them, and can be aborted', async () => {
    const ac = new AbortController();
    let fractions = 0;
    const p = fractal.render(presets.sierpinski(), 2 ** 40, { size: [32, 32], signal: ac.signal, onProgress: () => void fractions++ });
    setTimeout(() => ac.abort(), 50);
    const e = await errorOf(() => p);
    expect((e as SemfieldError).code).toBe('E_ABORTED');
    const big = await fractal.render(presets.sierpinski(), 1e8, { size: [16, 16], lo: [0, 0], hi: [1, 1] });
    expect(big.inside).toBeCloseTo(1, 12);
  });
});

describe('IFS errors', () => {
  const sq = presets.square();
  test.each([
    ['a map that expands', { dim: 2, maps: [{ A: [1.2, 0, 0, 0.5], b: [0, 0] }] }, 'E_NOT_CONTRACTIVE', /maps\[0\]\.A has spectral norm 1\.2/],
    ['a shear of norm > 1 with eigenvalues < 1', { dim: 2, maps: [{ A: [0.5, 1, 0, 0.5], b: [0, 0] }] }, 'E_NOT_CONTRACTIVE', /spectral norm/],
    ['an isometry', { dim: 1, maps: [{ A: [1], b: [0] }] }, 'E_NOT_CONTRACTIVE', /spectral norm 1/],
    ['a short matrix', { dim: 2, maps: [{ A: [0.5, 0, 0], b: [0, 0] }] }, 'E_SHAPE', /maps\[0\]\.A must be 4 numbers/],
    ['a NaN', { dim: 2, maps: [{ A: [0.5, 0, 0, NaN], b: [0, 0] }] }, 'E_NONFINITE', /maps\[0\]\.A\[3\]/],
    ['a negative probability', { dim: 1, maps: [{ A: [0.5], b: [0], p: -1 }] }, 'E_RANGE', /p must be/],
    ['dim 9', { dim: 9, maps: [] }, 'E_RANGE', /ifs\.dim/],
    ['no maps', { dim: 2, maps: [] }, 'E_TYPE', /ifs\.maps/],
  ])('%s', async (_n, ifs, code, msg) => {
    const e = await errorOf(() => fractal.chaosGame(ifs as fractal.Ifs, 10));
    expect(e).toBeInstanceOf(SemfieldError);
    expect((e as SemfieldError).code).toBe(code);
    expect((e as SemfieldError).message).toMatch(msg);
  });

  test('sizes past the limits and bad options', async () => {
    expect(((await errorOf(() => fractal.unfold(sq, 20))) as SemfieldError).code).toBe('E_TOO_LARGE');
    expect(((await errorOf(() => fractal.chaosGame(sq, 2 ** 30))) as SemfieldError).code).toBe('E_TOO_LARGE');
    expect(((await errorOf(() => fractal.chaosGame(sq, 0))) as SemfieldError).code).toBe('E_RANGE');
    expect(((await errorOf(() => fractal.chaosGame(sq, 10, { seed: -1 }))) as SemfieldError).code).toBe('E_RANGE');
    expect(((await errorOf(() => fractal.chaosGame(sq, 10, { sed: 1 } as never))) as SemfieldError).message).toMatch(/unknown option 'sed'/);
    expect(((await errorOf(() => fractal.render(sq, 10, { size: [1e5, 1e5] }))) as SemfieldError).code).toBe('E_RANGE');
    expect(((await errorOf(() => fractal.render(sq, 10, { lo: [0, 0] }))) as SemfieldError).message).toMatch(/lo and hi/);
    expect(((await errorOf(() => fractal.render(sq, 10, { lo: [0, 0], hi: [1, -1] }))) as SemfieldError).message).toMatch(/hi\[1\]/);
  });
});
