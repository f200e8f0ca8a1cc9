/**
 * Fractal dimension of point sets and masks, each with the scale range it
 * was fitted over and the quality of the fit.
 *
 * - boxDimension: N(eps), the number of boxes of size eps holding a point,
 *   for a geometric ladder of eps that divides the set's extent into a whole
 *   number of boxes (so a filled region is covered exactly, without a
 *   partial row of boxes at its edge); the slope of log N against log 1/eps.
 *   A single grid over-counts where a box edge cuts the set, so each eps is
 *   counted on several shifted grids and the smallest count kept (the best
 *   cover). The scales with between minBoxes and n / 10 boxes are usable:
 *   coarser ones are dominated by the set's outline, finer ones by the
 *   sample's gaps. Among them the fit takes the widest range over which the
 *   log-log curve is straight (see straightRange), and reports it.
 * - boundary: the cells of a mask on its boundary, so the dimension of an
 *   attractor's boundary can be counted like any other mask.
 * - correlationDimension: C(r), the fraction of pairs closer than r (pair
 *   counts, never a stored matrix); the slope of log C against log r.
 */
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, numberList, options, typedOf } from './validate';

export interface DimensionFit {
  /** The fitted slope. */
  dimension: number;
  intercept: number;
  /** Coefficient of determination of the fit (1 = a perfect line). */
  r2: number;
  /** Standard error of the slope. */
  stderr: number;
  /** The scale range fitted: [smallest, largest] eps or r. */
  range: [number, number];
  /** Every scale measured, largest first (box) or smallest first (correlation). */
  scales: Float64Array;
  /** N(eps) (box counting) or C(r) (correlation) at each scale. */
  values: Float64Array;
  /** 1 where a scale was used in the fit. */
  used: Uint8Array;
}

/** Least-squares line y = a + b x over the used points. */
export function fitLine(x: ArrayLike<number>, y: ArrayLike<number>, used: ArrayLike<number>): { slope: number; intercept: number; r2: number; stderr: number } {
  const op = 'fractal.fitLine';
  numberList(op, 'x', x, 1e8);
  numberList(op, 'y', y, 1e8, x.length);
  numberList(op, 'used', used, 1e8, x.length);
  let k = 0;
  for (let i = 0; i < x.length; i++)
    if (used[i]) {
      k++;
      if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) throw invalid('E_NONFINITE', op, `x[${i}]`, 'a finite number', x[i]);
      if (typeof y[i] !== 'number' || !Number.isFinite(y[i])) throw invalid('E_NONFINITE', op, `y[${i}]`, 'a finite number', y[i]);
    }
  if (k < 2) throw invalid('E_RANGE', op, 'used', 'non-zero at 2 points at least', k);
  const f = line(x, y, used);
  if (!Number.isFinite(f.slope) || !Number.isFinite(f.intercept) || !Number.isFinite(f.stderr))
    throw invalid('E_RANGE', op, 'x', 'spread over a range whose squares are finite, with two distinct marked values at least');
  return f;
}

function line(x: ArrayLike<number>, y: ArrayLike<number>, used: ArrayLike<number>): { slope: number; intercept: number; r2: number; stderr: number } {
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < x.length; i++) if (used[i]) (n++, (sx += x[i]), (sy += y[i]));
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < x.length; i++)
    if (used[i]) {
      sxx += (x[i] - mx) ** 2;
      sxy += (x[i] - mx) * (y[i] - my);
      syy += (y[i] - my) ** 2;
    }
  const slope = sxy / sxx, intercept = my - slope * mx;
  const sse = Math.max(0, syy - slope * sxy);
  return { slope, intercept, r2: syy > 0 ? 1 - sse / syy : 1, stderr: n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : 0 };
}

function fitted(scales: Float64Array, values: Float64Array, used: Uint8Array, x: (s: number) => number, op: string): DimensionFit {
  let count = 0;
  for (const u of used) count += u;
  if (count < 3) throw invalid('E_RANGE', op, 'the scale range', 'wide enough to hold at least 3 scales with usable counts (more points, or a wider range)');
  const xs = Array.from(scales, x), ys = Array.from(values, (v) => Math.log(v));
  const f = line(xs, ys, used);
  let lo = Infinity, hi = -Infinity;
  scales.forEach((s, i) => {
    if (used[i]) (lo = Math.min(lo, s)), (hi = Math.max(hi, s));
  });
  return { dimension: f.slope, intercept: f.intercept, r2: f.r2, stderr: f.stderr, range: [lo, hi], scales, values, used };
}

function scaleRange(op: string, v: unknown): [number, number] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 2) throw invalid('E_TYPE', op, 'scales', 'a range [smallest, largest]', v);
  const lo = finiteNumber(op, 'scales[0]', v[0], 0, Infinity, true), hi = finiteNumber(op, 'scales[1]', v[1], 0, Infinity, true);
  if (!(hi > lo)) throw invalid('E_RANGE', op, 'scales[1]', `above scales[0] = ${lo}`, hi);
  return [lo, hi];
}

/** The bounding box of points [N, d]: its lower corner, largest side and diagonal. */
export function extent(x: Float32Array, d: number): { lo: number[]; size: number; diagonal: number } {
  const lo = new Array(d).fill(Infinity), hi = new Array(d).fill(-Infinity);
  for (let i = 0; i < x.length; i++) {
    const k = i % d;
    if (x[i] < lo[k]) lo[k] = x[i];
    if (x[i] > hi[k]) hi[k] = x[i];
  }
  return { lo, size: Math.max(...hi.map((h, k) => h - lo[k])), diagonal: Math.sqrt(hi.reduce((a, h, k) => a + (h - lo[k]) ** 2, 0)) };
}

export interface BoxDimensionOptions extends RunOptions {
  /** Dimension of the points (1..16). */
  d: number;
  /** Shifted grids per box size (default 16). */
  offsets?: number;
  /**
   * Box sizes to fit over, [smallest, largest]. Default: every size from a
   * quarter of the extent down with between minBoxes and n / 10 boxes (a
   * sample of n points cannot resolve finer scales).
   */
  scales?: [number, number];
  /** Fewest boxes a size needs to be fitted (default min(100, n / 100)). */
  minBoxes?: number;
  /** Box sizes per halving (default 2). */
  perOctave?: number;
  onProgress?: (fraction: number) => void;
}

/** Box-counting dimension of a point set [N, d]. */
export async function boxDimension(points: Float32Array, opts: BoxDimensionOptions): Promise<DimensionFit> {
  const op = 'fractal.boxDimension';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<BoxDimensionOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'offsets', 'scales', 'minBoxes', 'perOctave', 'onProgress']);
  const d = integer(op, 'd', o.d, 1, 16);
  const x = float32(op, 'points', points);
  if (x.length === 0 || x.length % d !== 0) throw invalid('E_SHAPE', op, 'points', `[N, ${d}] with N >= 1`, x);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw invalid('E_NONFINITE', op, `points[${i}]`, 'finite', x[i]);
  const n = x.length / d;
  const { size } = extent(x, d);
  if (!(size > 0)) throw invalid('E_RANGE', op, 'points', 'spread over a non-zero extent');
  const range = scaleRange(op, o.scales);
  const perOctave = o.perOctave === undefined ? 2 : integer(op, 'perOctave', o.perOctave, 1, 16);
  const offsets = o.offsets === undefined ? 16 : integer(op, 'offsets', o.offsets, 1, 1024);
  const minBoxes = o.minBoxes === undefined ? Math.min(100, n / 100) : finiteNumber(op, 'minBoxes', o.minBoxes, 1);
  // eps = extent / M for whole numbers M (the extent grown by 1e-6 so the
  // farthest point falls inside the last box).
  const list: number[] = [];
  for (let k = 0, prev = 0; k < 400 && list.length < 4096; k++) {
    const M = Math.round(4 * 2 ** (k / perOctave)), eps = (size * (1 + 1e-6)) / M;
    if (M === prev || (range && eps > range[1])) continue;
    // Below 2^-20 of the extent, fp32 coordinates no longer resolve the set.
    if ((range && eps < range[0]) || M > 2 ** 20) break;
    list.push(eps);
    prev = M;
  }
  if (list.length === 0) throw invalid('E_RANGE', op, 'scales', `to include a box size extent / M for some whole M (extent ${size})`, o.scales);
  const saturation = n / 10;
  const args = { x, d, scales: Float64Array.from(list), offsets, saturation: range ? 0 : saturation };
  const cb = o.onProgress;
  const r = await callAsync(op, (a, y) => a.boxCount(y), args, checkRun(op, o), cb ? (_f, _s, v) => cb(v) : undefined);
  return range ? boxFit(op, r.scales, r.counts, offsets, 0, Infinity, false) : boxFit(op, r.scales, r.counts, offsets, minBoxes, saturation, true);
}

/**
 * The widest run of consecutive usable points over which y(x) is straight:
 * every point within `tolerance` of the run's least-squares line (natural
 * log units: 0.03 is 3% in the count), and at least `least` points. Of runs
 * equally wide, the straighter one. Marks it in a new `used`; where no run
 * qualifies, every usable point is kept.
 */
export function straightRange(x: ArrayLike<number>, y: ArrayLike<number>, usable: ArrayLike<number>, tolerance = 0.03, least = 4): Uint8Array {
  const op = 'fractal.straightRange';
  numberList(op, 'x', x, 1e6);
  numberList(op, 'y', y, 1e6, x.length);
  numberList(op, 'usable', usable, 1e6, x.length);
  finiteNumber(op, 'tolerance', tolerance, 0, Infinity, true);
  integer(op, 'least', least, 2, 1e6);
  for (let i = 0; i < x.length; i++)
    if (usable[i]) {
      if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) throw invalid('E_NONFINITE', op, `x[${i}]`, 'a finite number', x[i]);
      if (typeof y[i] !== 'number' || !Number.isFinite(y[i])) throw invalid('E_NONFINITE', op, `y[${i}]`, 'a finite number', y[i]);
    }
  return straightest(x, y, usable, tolerance, least);
}

function straightest(x: ArrayLike<number>, y: ArrayLike<number>, usable: ArrayLike<number>, tolerance: number, least: number): Uint8Array {
  const idx: number[] = [];
  for (let i = 0; i < x.length; i++) if (usable[i]) idx.push(i);
  let best: { i: number; j: number; width: number; dev: number } | undefined;
  for (let a = 0; a < idx.length; a++)
    for (let b = a + least - 1; b < idx.length; b++) {
      if (idx[b] - idx[a] !== b - a) break;  // a gap: not consecutive
      const mark = new Uint8Array(x.length);
      for (let k = a; k <= b; k++) mark[idx[k]] = 1;
      const { slope, intercept } = line(x, y, mark);
      let dev = 0;
      for (let k = a; k <= b; k++) dev = Math.max(dev, Math.abs(y[idx[k]] - intercept - slope * x[idx[k]]));
      if (dev > tolerance) continue;
      const width = Math.abs(x[idx[b]] - x[idx[a]]);
      if (!best || width > best.width + 1e-12 || (Math.abs(width - best.width) <= 1e-12 && dev < best.dev)) best = { i: a, j: b, width, dev };
    }
  const used = new Uint8Array(x.length);
  if (best) for (let k = best.i; k <= best.j; k++) used[idx[k]] = 1;
  else for (const i of idx) used[i] = 1;
  return used;
}

/** The set cells of a 2D or 3D mask with an unset (or absent, past the edge) neighbour across a face: its boundary. */
export function boundary(mask: Uint8Array, opts: { shape: readonly number[] }): Uint8Array {
  const op = 'fractal.boundary';
  if (opts === undefined || typeof opts !== 'object') throw invalid('E_TYPE', op, 'options', 'an object with shape');
  const o = options<{ shape: readonly number[] }>(op, opts, ['shape']);
  if (!Array.isArray(o.shape) || o.shape.length < 2 || o.shape.length > 3) throw invalid('E_TYPE', op, 'shape', '[nx, ny] or [nx, ny, nz]', o.shape);
  const [nx, ny, nz = 1] = o.shape.map((v, k) => integer(op, `shape[${k}]`, v, 1, 65536));
  if (nx * ny * nz > 2 ** 31) throw invalid('E_TOO_LARGE', op, 'shape', 'at most 2^31 cells', o.shape);
  const m = typedOf(op, 'mask', mask, Uint8Array, nx * ny * nz);
  const out = new Uint8Array(m.length), sxy = nx * ny;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0, i = z * sxy + y * nx; x < nx; x++, i++) {
        if (!m[i]) continue;
        const edge = x === 0 || x === nx - 1 || y === 0 || y === ny - 1 || (nz > 1 && (z === 0 || z === nz - 1));
        if (edge || !m[i - 1] || !m[i + 1] || !m[i - nx] || !m[i + nx] || (nz > 1 && (!m[i - sxy] || !m[i + sxy]))) out[i] = 1;
      }
  return out;
}

function boxFit(op: string, scales: Float64Array, counts: Float64Array, offsets: number, lo: number, hi: number, auto: boolean): DimensionFit {
  const values = new Float64Array(scales.length);
  let used: Uint8Array = new Uint8Array(scales.length);
  for (let s = 0; s < scales.length; s++) {
    let best = Infinity;
    for (let j = 0; j < offsets; j++) best = Math.min(best, counts[s * offsets + j]);
    values[s] = best;
    used[s] = best >= lo && best <= hi ? 1 : 0;
  }
  if (auto) {
    // Too few scales with enough boxes: fall back on every scale measured.
    if (used.reduce((a, u) => a + u, 0) < 3) used.fill(1);
    used = straightest(Array.from(scales, (e) => -Math.log(e)), Array.from(values, (v) => Math.log(Math.max(v, 1))), used, 0.03, 4);
  }
  return fitted(scales, values, used, (s) => -Math.log(s), op);
}

export interface MaskDimensionOptions extends RunOptions {
  /** Cells per axis, x fastest: [nx, ny] or [nx, ny, nz]. */
  shape: readonly number[];
  /**
   * Box sizes in cells to fit over, [smallest, largest]. Default: of the
   * powers of two from 2 to half the smallest extent, those with at least
   * minBoxes boxes, narrowed to the widest range where the log-log curve is
   * straight (the cell size itself is left out: there every set looks like
   * its pixels).
   */
  scales?: [number, number];
  /** Fewest boxes a size needs to be fitted by default (default min(256, set cells / 16)). */
  minBoxes?: number;
  /** Shifted grids per box size (default 16, at most the box size). */
  offsets?: number;
}

/** Box-counting dimension of the non-zero cells of a 2D or 3D mask (box sizes in cells, powers of two). */
export async function boxDimensionMask(mask: Uint8Array, opts: MaskDimensionOptions): Promise<DimensionFit> {
  const op = 'fractal.boxDimensionMask';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with shape');
  const o = options<MaskDimensionOptions>(op, opts, [...RUN_OPTION_KEYS, 'shape', 'scales', 'offsets', 'minBoxes']);
  if (!Array.isArray(o.shape) || o.shape.length < 2 || o.shape.length > 3) throw invalid('E_TYPE', op, 'shape', '[nx, ny] or [nx, ny, nz]', o.shape);
  const shape = o.shape.map((v, k) => integer(op, `shape[${k}]`, v, 1, 65536));
  const total = shape.reduce((a, b) => a * b, 1);
  const m = typedOf(op, 'mask', mask, Uint8Array, total);
  const d = shape.length;
  let set = 0;
  for (let i = 0; i < m.length; i++) if (m[i]) set++;
  if (set === 0) throw invalid('E_RANGE', op, 'mask', 'holding at least one non-zero cell');
  const x = new Float32Array(set * d);
  let p = 0;
  for (let i = 0; i < m.length; i++)
    if (m[i]) {
      x[p++] = (i % shape[0]) + 0.5;
      x[p++] = (Math.floor(i / shape[0]) % shape[1]) + 0.5;
      if (d === 3) x[p++] = Math.floor(i / (shape[0] * shape[1])) + 0.5;
    }
  const given = scaleRange(op, o.scales);
  const range = given ?? [2, Math.min(...shape) / 2];
  const offsets = o.offsets === undefined ? 16 : integer(op, 'offsets', o.offsets, 1, 1024);
  const minBoxes = o.minBoxes === undefined ? Math.min(256, set / 16) : finiteNumber(op, 'minBoxes', o.minBoxes, 1);
  const list: number[] = [];
  for (let s = 2 ** Math.floor(Math.log2(range[1])); s >= 1 && s >= range[0]; s /= 2) list.push(s);
  if (list.length < 3) throw invalid('E_RANGE', op, 'scales', 'spanning at least 3 powers of two', range);
  const r = await callAsync(op, (a, y) => a.boxCount(y), { x, d, scales: Float64Array.from(list), offsets, integerShifts: true }, checkRun(op, o));
  return given ? boxFit(op, r.scales, r.counts, offsets, 0, Infinity, false) : boxFit(op, r.scales, r.counts, offsets, minBoxes, Infinity, true);
}

export interface CorrelationOptions extends RunOptions {
  d: number;
  /**
   * Radii to fit over, [smallest, largest]. Default: the small-r regime, where
   * at least minPairs pairs but at most 5% of all pairs are closer than r,
   * and r is at most 1/16 of the bounding box's diagonal.
   */
  radii?: [number, number];
  /** Pairs a radius needs to be used (default 1000). */
  minPairs?: number;
  /** Radii measured, log-spaced from 1e-4 of the bounding box's diagonal to the diagonal (default 64, at most 128). */
  bins?: number;
}

/** Correlation dimension of a point set [N, d] from its pair counts. */
export async function correlationDimension(points: Float32Array, opts: CorrelationOptions): Promise<DimensionFit> {
  const op = 'fractal.correlationDimension';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<CorrelationOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'radii', 'minPairs', 'bins']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const x = float32(op, 'points', points);
  if (x.length < 2 * d || x.length % d !== 0) throw invalid('E_SHAPE', op, 'points', `[N, ${d}] with N >= 2`, x);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw invalid('E_NONFINITE', op, `points[${i}]`, 'finite', x[i]);
  const { size, diagonal } = extent(x, d);
  if (!(size > 0)) throw invalid('E_RANGE', op, 'points', 'spread over a non-zero extent');
  const range = o.radii === undefined ? undefined : scaleRange(op, o.radii);
  const bins = o.bins === undefined ? 64 : integer(op, 'bins', o.bins, 2, 128);
  const minPairs = o.minPairs === undefined ? 1000 : finiteNumber(op, 'minPairs', o.minPairs, 1);
  const lo = range ? range[0] : diagonal * 1e-4, hi = range ? range[1] : diagonal;
  const edges = Float64Array.from({ length: bins }, (_, k) => lo * (hi / lo) ** (k / (bins - 1)));
  const counts = await callAsync(op, (a, y) => a.pairCounts(y), { x, d, edges }, checkRun(op, o));
  // counts[k] = pairs with edges[k-1] <= r < edges[k]; C(edges[k]) sums 0..k.
  const n = x.length / d, pairs = (n * (n - 1)) / 2;
  const values = new Float64Array(bins), used = new Uint8Array(bins);
  let cum = 0;
  for (let k = 0; k < bins; k++) {
    cum += counts[k];
    values[k] = cum / pairs;
    used[k] = cum >= minPairs && (range ? true : edges[k] <= diagonal / 16 && cum <= 0.05 * pairs) ? 1 : 0;
  }
  const f = fitted(edges, values.map((v) => (v > 0 ? v : 1)), used, (s) => Math.log(s), op);
  f.values = values;
  return f;
}
