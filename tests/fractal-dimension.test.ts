// Fractal dimension: SPEC's four sets within 0.03 by box counting, masks,
// and the correlation dimension with its pair counts checked exactly.
import { SemfieldError, fractal } from '../lib';
import { errorOf, rng } from './helpers';

const { presets } = fractal;

describe('fractal.boxDimension of chaos-game points (n = 10^5)', () => {
  test.each([
    ['Sierpinski triangle', presets.sierpinski(), 2, Math.log(3) / Math.log(2)],
    ['Cantor set', presets.cantor(), 1, Math.log(2) / Math.log(3)],
    ['Koch curve', presets.koch(), 2, Math.log(4) / Math.log(3)],
    ['filled square', presets.square(), 2, 2],
  ])('%s', async (_name, ifs, d, truth) => {
    const pts = await fractal.chaosGame(ifs, 100000, { seed: 11 });
    const f = await fractal.boxDimension(pts, { d });
    expect(Math.abs(f.dimension - truth)).toBeLessThan(0.03);
    expect(f.r2).toBeGreaterThan(0.999);
    expect(f.range[1] / f.range[0]).toBeGreaterThan(8);  // at least three octaves fitted
    let used = 0;
    f.used.forEach((u, i) => {
      used += u;
      if (u) expect(f.values[i]).toBeLessThanOrEqual(100000 / 10);
    });
    expect(used).toBeGreaterThanOrEqual(6);
  });

  test('a given scale range is honoured; uniform points in a cube give 3', async () => {
    const r = rng(3);
    const cube = Float32Array.from({ length: 3 * 200000 }, () => r());
    const f = await fractal.boxDimension(cube, { d: 3, scales: [0.05, 0.3] });
    expect(f.range[0]).toBeGreaterThanOrEqual(0.05);
    expect(f.range[1]).toBeLessThanOrEqual(0.3);
    expect(Math.abs(f.dimension - 3)).toBeLessThan(0.03);
  });
});

describe('fractal.boxDimensionMask', () => {
  test('a filled square is 2, a line 1, the Sierpinski triangle rendered at 1024^2 1.585', async () => {
    const n = 256;
    const full = new Uint8Array(n * n).fill(1);
    expect((await fractal.boxDimensionMask(full, { shape: [n, n] })).dimension).toBeCloseTo(2, 10);
    const line = new Uint8Array(n * n);
    for (let x = 0; x < n; x++) line[100 * n + x] = 1;
    expect((await fractal.boxDimensionMask(line, { shape: [n, n] })).dimension).toBeCloseTo(1, 10);
    const pts = await fractal.unfold(presets.sierpinski(), 10, { start: [0, 0] });
    const N = 1024, mask = new Uint8Array(N * N);
    for (let i = 0; i < pts.length / 2; i++) mask[Math.min(N - 1, Math.floor(pts[2 * i + 1] * N)) * N + Math.min(N - 1, Math.floor(pts[2 * i] * N))] = 1;
    const f = await fractal.boxDimensionMask(mask, { shape: [N, N] });
    expect(Math.abs(f.dimension - Math.log(3) / Math.log(2))).toBeLessThan(0.03);
  });

  test('3D masks', async () => {
    const n = 64, cube = new Uint8Array(n * n * n).fill(1);
    expect((await fractal.boxDimensionMask(cube, { shape: [n, n, n] })).dimension).toBeCloseTo(3, 10);
  });
});

describe('fractal.boundary and the automatic scale range', () => {
  test('the boundary of a filled square is its outline; of a cube, its faces', () => {
    const n = 10, sq = new Uint8Array(n * n);
    for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) sq[y * n + x] = 1;
    const b = fractal.boundary(sq, { shape: [n, n] });
    let count = 0;
    b.forEach((v, i) => {
      count += v;
      const x = i % n, y = Math.floor(i / n);
      expect(v).toBe(sq[i] && (x === 2 || x === 7 || y === 2 || y === 7) ? 1 : 0);
    });
    expect(count).toBe(20);
    const cube = new Uint8Array(6 * 6 * 6).fill(1);
    let faces = 0;
    fractal.boundary(cube, { shape: [6, 6, 6] }).forEach((v) => (faces += v));
    expect(faces).toBe(6 ** 3 - 4 ** 3);
  });

  test('straightRange keeps the widest straight run of a bent curve', () => {
    // y = 1.5 x up to x = 6, then flattening (like a rendered boundary's finest scales).
    const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], y = x.map((v) => (v <= 6 ? 1.5 * v : 9 + 0.8 * (v - 6)));
    const used = fractal.straightRange(x, y, x.map(() => 1));
    expect(Array.from(used)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(fractal.fitLine(x, y, used).slope).toBeCloseTo(1.5, 10);
  });

  test.each([
    ["Heighway's dragon", presets.dragon(), 1.5236],
    ['the Sierpinski triangle', presets.sierpinski(), Math.log(3) / Math.log(2)],
  ])('the boundary of %s rendered at 2048^2, with default options', async (_name, ifs, truth) => {
    const N = 2048;
    const r = await fractal.render(ifs, 2e7, { size: [N, N], seed: 1 });
    const mask = Uint8Array.from(r.counts, (c) => (c > 0 ? 1 : 0));
    const f = await fractal.boxDimensionMask(fractal.boundary(mask, { shape: [N, N] }), { shape: [N, N] });
    expect(Math.abs(f.dimension - truth)).toBeLessThan(0.03);
    expect(f.range[1] / f.range[0]).toBeGreaterThanOrEqual(8);  // three octaves at least, reported
  });
});

describe('fractal.correlationDimension', () => {
  test('pair counts equal a brute-force count with the same fp32 distances', async () => {
    const r = rng(8);
    const d = 3, n = 300;
    const x = Float32Array.from({ length: n * d }, () => r());
    const f = await fractal.correlationDimension(x, { d, bins: 16, radii: [0.05, 1], minPairs: 1 });
    const f32 = Math.fround;
    const edges2 = Array.from(f.scales, (e) => f32(e * e));
    const cum = new Float64Array(16);
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) {
          const t = f32(x[i * d + k] - x[j * d + k]);
          s = f32(t * t + s);
        }
        for (let b = 0; b < 16; b++) if (s < edges2[b]) cum[b]++;
      }
    const pairs = (n * (n - 1)) / 2;
    for (let b = 0; b < 16; b++) expect(f.values[b] * pairs).toBeCloseTo(cum[b], 6);
  });

  test('Sierpinski triangle (5000 points) within 0.05; filled square near 2', async () => {
    const tri = await fractal.chaosGame(presets.sierpinski(), 5000, { seed: 2 });
    const a = await fractal.correlationDimension(tri, { d: 2 });
    expect(Math.abs(a.dimension - Math.log(3) / Math.log(2))).toBeLessThan(0.05);
    expect(a.r2).toBeGreaterThan(0.99);
    const sq = await fractal.chaosGame(presets.square(), 5000, { seed: 2 });
    const b = await fractal.correlationDimension(sq, { d: 2 });
    expect(Math.abs(b.dimension - 2)).toBeLessThan(0.06);
  });
});

describe('dimension errors', () => {
  const pts = Float32Array.from([0, 0, 1, 1, 2, 2]);
  test.each([
    ['no extent', () => fractal.boxDimension(Float32Array.from([1, 1, 1, 1]), { d: 2 }), 'E_RANGE'],
    ['a NaN', () => fractal.boxDimension(Float32Array.from([0, NaN]), { d: 2 }), 'E_NONFINITE'],
    ['ragged points', () => fractal.boxDimension(Float32Array.from([0, 1, 2]), { d: 2 }), 'E_SHAPE'],
    ['too few scales', () => fractal.boxDimension(pts, { d: 2 }), 'E_RANGE'],
    ['an inverted range', () => fractal.boxDimension(pts, { d: 2, scales: [1, 0.1] }), 'E_RANGE'],
    ['an empty mask', () => fractal.boxDimensionMask(new Uint8Array(64), { shape: [8, 8] }), 'E_RANGE'],
    ['a mask of the wrong size', () => fractal.boxDimensionMask(new Uint8Array(10), { shape: [8, 8] }), 'E_SHAPE'],
    ['a boundary of a mask of the wrong size', async () => fractal.boundary(new Uint8Array(10), { shape: [3, 3] }), 'E_SHAPE'],
    ['a boundary of a 1D shape', async () => fractal.boundary(new Uint8Array(10), { shape: [10] }), 'E_TYPE'],
    ['one point', () => fractal.correlationDimension(Float32Array.from([0, 0]), { d: 2 }), 'E_SHAPE'],
    ['too many bins', () => fractal.correlationDimension(pts, { d: 2, bins: 500 }), 'E_RANGE'],
  ])('%s', async (_n, call, code) => {
    const e = await errorOf(call);
    expect(e).toBeInstanceOf(SemfieldError);
    expect((e as SemfieldError).code).toBe(code);
  });
});
