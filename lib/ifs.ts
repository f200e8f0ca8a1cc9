/**
 * Iterated function systems: maps x -> A_i x + b_i with probabilities p_i in
 * a space of 1 to 8 dimensions. Every map must be a contraction (spectral
 * norm of A_i below 1, else E_NOT_CONTRACTIVE).
 *
 * - unfold(ifs, depth): all m^depth compositions applied to a start point,
 *   in address order: the base-m digits of a point's index are its address,
 *   most significant digit = outermost map, so the index is the hierarchy.
 * - chaosGame(ifs, n): n points of the attractor from a counter-based RNG
 *   (Philox4x32-10): the same seed gives the same points on CPU and CUDA.
 * - render(ifs, n): the chaos game's points binned on a grid, without
 *   storing them.
 */
import { SemfieldError } from './errors';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, integer, invalid, isPlainObject, options } from './validate';

/** One affine map: A row-major [dim, dim] (or rows), b [dim], probability p (default: proportional to |det A|). */
export interface AffineMap {
  A: readonly number[] | readonly (readonly number[])[];
  b: readonly number[];
  p?: number;
}

export interface Ifs {
  /** Dimension of the space (1..8). */
  dim: number;
  maps: readonly AffineMap[];
}

/** The addon's form: A [m, dim, dim], b [m, dim], p [m]. */
export interface PackedIfs {
  dd: number;
  m: number;
  A: Float32Array;
  b: Float32Array;
  p: Float64Array;
}

function det(a: number[], n: number): number {
  const m = a.slice();
  let d = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (m[piv * n + c] === 0) return 0;
    if (piv !== c) {
      for (let j = 0; j < n; j++) [m[c * n + j], m[piv * n + j]] = [m[piv * n + j], m[c * n + j]];
      d = -d;
    }
    d *= m[c * n + c];
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / m[c * n + c];
      for (let j = c; j < n; j++) m[r * n + j] -= f * m[c * n + j];
    }
  }
  return d;
}

/** An IFS checked and packed as the addon takes it (E_TYPE, E_SHAPE, E_RANGE or E_NOT_CONTRACTIVE for a bad one). */
export function packIfs(ifs: Ifs): PackedIfs {
  return packIfsFor('fractal.packIfs', ifs);
}

/** packIfs with errors naming the operation `op`. */
export function packIfsFor(op: string, ifs: unknown): PackedIfs {
  if (!isPlainObject(ifs)) throw invalid('E_TYPE', op, 'ifs', 'an object { dim, maps }', ifs);
  const dd = integer(op, 'ifs.dim', ifs.dim, 1, 8);
  const maps = ifs.maps;
  if (!Array.isArray(maps) || maps.length === 0) throw invalid('E_TYPE', op, 'ifs.maps', 'a non-empty array of { A, b, p? }', maps);
  if (maps.length > 64) throw invalid('E_RANGE', op, 'ifs.maps', 'at most 64 maps', maps);
  const m = maps.length;
  const A = new Float32Array(m * dd * dd), b = new Float32Array(m * dd), p = new Float64Array(m);
  let anyP = false, allP = true;
  maps.forEach((map: unknown, i: number) => {
    const name = `ifs.maps[${i}]`;
    if (!isPlainObject(map)) throw invalid('E_TYPE', op, name, 'an object { A, b, p? }', map);
    for (const k of Object.keys(map)) if (!['A', 'b', 'p'].includes(k)) throw new SemfieldError('E_TYPE', `${op}: unknown key '${k}' in ${name} (known: A, b, p)`);
    const flat = Array.isArray(map.A) && map.A.every(Array.isArray) ? (map.A as number[][]).flat() : map.A;
    if (!Array.isArray(flat) || flat.length !== dd * dd) throw invalid('E_SHAPE', op, `${name}.A`, `${dd * dd} numbers (a ${dd} x ${dd} matrix)`, map.A);
    if (!Array.isArray(map.b) || map.b.length !== dd) throw invalid('E_SHAPE', op, `${name}.b`, `${dd} numbers`, map.b);
    flat.forEach((v: unknown, k: number) => (A[i * dd * dd + k] = finiteNumber(op, `${name}.A[${k}]`, v)));
    (map.b as unknown[]).forEach((v, k) => (b[i * dd + k] = finiteNumber(op, `${name}.b[${k}]`, v)));
    if (map.p !== undefined) {
      p[i] = finiteNumber(op, `${name}.p`, map.p, 0);
      anyP = true;
    } else {
      allP = false;
    }
  });
  if (anyP && !allP) throw invalid('E_TYPE', op, 'ifs.maps', 'either all with p or none');
  if (!anyP) {
    // The natural choice: each map's share of the attractor's volume.
    let total = 0;
    for (let i = 0; i < m; i++) total += (p[i] = Math.abs(det(Array.from(A.subarray(i * dd * dd, (i + 1) * dd * dd)), dd)));
    if (total === 0) p.fill(1);
  } else if (p.every((v) => v === 0)) {
    throw invalid('E_RANGE', op, 'ifs.maps[].p', 'not all 0');
  }
  return { dd, m, A, b, p };
}

/** Similarity maps x -> r x + (1 - r) c_i in 2D (the usual self-similar sets). */
function similar(r: number, centres: number[][], rot = 0): AffineMap[] {
  const c = Math.cos(rot) * r, s = Math.sin(rot) * r;
  return centres.map((q) => ({ A: [c, -s, s, c], b: [q[0] - (c * q[0] - s * q[1]), q[1] - (s * q[0] + c * q[1])] }));
}

/** Classic attractors with known dimensions (the SPEC's checks). */
export const presets = {
  /** Sierpinski triangle, dimension log 3 / log 2 = 1.585. */
  sierpinski(): Ifs {
    return { dim: 2, maps: similar(0.5, [[0, 0], [1, 0], [0.5, Math.sqrt(3) / 2]]) };
  },
  /** Middle-thirds Cantor set on [0, 1], dimension log 2 / log 3 = 0.631. */
  cantor(): Ifs {
    return { dim: 1, maps: [{ A: [1 / 3], b: [0] }, { A: [1 / 3], b: [2 / 3] }] };
  },
  /** Koch curve from (0, 0) to (1, 0), dimension log 4 / log 3 = 1.262. */
  koch(): Ifs {
    const r = 1 / 3, a = Math.PI / 3;
    const rot = (t: number, bx: number, by: number): AffineMap => ({
      A: [r * Math.cos(t), -r * Math.sin(t), r * Math.sin(t), r * Math.cos(t)], b: [bx, by],
    });
    return { dim: 2, maps: [rot(0, 0, 0), rot(a, 1 / 3, 0), rot(-a, 0.5, Math.sqrt(3) / 6), rot(0, 2 / 3, 0)] };
  },
  /**
   * Heighway's dragon: z -> (1 + i) z / 2 and z -> 1 - (1 - i) z / 2. A
   * filled set (dimension 2) whose boundary has dimension 1.5236.
   */
  dragon(): Ifs {
    return { dim: 2, maps: [{ A: [0.5, -0.5, 0.5, 0.5], b: [0, 0] }, { A: [-0.5, -0.5, 0.5, -0.5], b: [1, 0] }] };
  },
  /** The unit square as four half-size copies, dimension 2. */
  square(): Ifs {
    return { dim: 2, maps: similar(0.5, [[0, 0], [1, 0], [0, 1], [1, 1]]) };
  },
  /** Barnsley's fern (probabilities 0.01, 0.85, 0.07, 0.07). */
  fern(): Ifs {
    return {
      dim: 2,
      maps: [
        { A: [0, 0, 0, 0.16], b: [0, 0], p: 0.01 },
        { A: [0.85, 0.04, -0.04, 0.85], b: [0, 1.6], p: 0.85 },
        { A: [0.2, -0.26, 0.23, 0.22], b: [0, 1.6], p: 0.07 },
        { A: [-0.15, 0.28, 0.26, 0.24], b: [0, 0.44], p: 0.07 },
      ],
    };
  },
};

export interface UnfoldOptions extends RunOptions {
  /** First point (default: the fixed point of map 0, which lies on the attractor). */
  start?: readonly number[];
}

/** All m^depth compositions of the maps applied to the start point: Float32Array [m^depth, dim]. */
export async function unfold(ifs: Ifs, depth: number, opts: UnfoldOptions = {}): Promise<Float32Array> {
  const op = 'fractal.unfold';
  const o = options<UnfoldOptions>(op, opts, [...RUN_OPTION_KEYS, 'start']);
  const f = packIfsFor(op, ifs);
  integer(op, 'depth', depth, 0, 64);
  if (f.m ** depth * f.dd > 2 ** 30) throw invalid('E_TOO_LARGE', op, 'depth', `such that m^depth * dim <= 2^30 (m = ${f.m})`, depth);
  const args: Record<string, unknown> = { A: f.A, b: f.b, m: f.m, dd: f.dd, depth };
  if (o.start !== undefined) {
    if (!Array.isArray(o.start) || o.start.length !== f.dd) throw invalid('E_SHAPE', op, 'start', `${f.dd} numbers`, o.start);
    args.start = Float32Array.from(o.start.map((v, k) => finiteNumber(op, `start[${k}]`, v)));
  }
  return callAsync(op, (a, x) => a.unfold(x), args, checkRun(op, o));
}

export interface ChaosOptions extends RunOptions {
  /** Seed of the Philox stream (integer in [0, 2^53], default 0). */
  seed?: number;
  /** Steps each chain discards before keeping points (default 64). */
  burnIn?: number;
  /**
   * Independent chains (default 4096): chain c keeps points
   * [c * ceil(n / chains), ...). Part of the stream's definition: the same
   * (seed, chains) gives the same points on every backend.
   */
  chains?: number;
  /** Called with the fraction done. */
  onProgress?: (fraction: number) => void;
}

const CHAOS_KEYS = [...RUN_OPTION_KEYS, 'seed', 'burnIn', 'chains', 'onProgress'] as const;

function chaosArgs(op: string, f: PackedIfs, n: number, o: Partial<ChaosOptions>, maxN: number): Record<string, unknown> {
  integer(op, 'n', n, 1, maxN);
  const args: Record<string, unknown> = { A: f.A, b: f.b, m: f.m, dd: f.dd, probabilities: f.p, n };
  if (o.seed !== undefined) args.seed = integer(op, 'seed', o.seed, 0, 2 ** 53);
  if (o.burnIn !== undefined) args.burnIn = integer(op, 'burnIn', o.burnIn, 0, 2 ** 20);
  if (o.chains !== undefined) args.chains = integer(op, 'chains', o.chains, 1, 2 ** 24);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
  return args;
}

/** n points of the attractor by the chaos game: Float32Array [n, dim]. */
export async function chaosGame(ifs: Ifs, n: number, opts: ChaosOptions = {}): Promise<Float32Array> {
  const op = 'fractal.chaosGame';
  const o = options<ChaosOptions>(op, opts, CHAOS_KEYS);
  const f = packIfsFor(op, ifs);
  if (Number.isInteger(n) && n * f.dd > 2 ** 30) throw invalid('E_TOO_LARGE', op, 'n', `at most ${Math.floor(2 ** 30 / f.dd)} points (use render for more)`, n);
  const args = chaosArgs(op, f, n, o, 2 ** 31);
  const cb = o.onProgress;
  return callAsync(op, (a, x) => a.chaosGame(x) as Promise<Float32Array>, args, checkRun(op, o), cb ? (_f, _s, v) => cb(v) : undefined);
}

export interface RenderOptions extends ChaosOptions {
  /** Cells per axis (default 512 each). */
  size?: readonly number[];
  /** The box rendered (default: the attractor's bounding box, from an unfolding, with a 1% margin). */
  lo?: readonly number[];
  hi?: readonly number[];
}

export interface Rendering {
  /** Fraction of the n points in each cell, x fastest: Float32Array [cells]. */
  density: Float32Array;
  /** Points in each cell (exact integers). */
  counts: Float64Array;
  size: number[];
  lo: number[];
  hi: number[];
  /** Fraction of the points that fell inside the box. */
  inside: number;
}

/**
 * The attractor's bounding box: that of 2^16 chaos-game points (seed 0) and
 * of an unfolding to about 4096 addresses, grown by 2% per side. Points of
 * rarely visited tips can still fall outside; pass lo and hi to fix the box.
 */
async function bounds(f: PackedIfs, ifs: Ifs, run: RunOptions): Promise<{ lo: number[]; hi: number[] }> {
  const depth = Math.max(1, Math.floor(Math.log(4096) / Math.log(Math.max(2, f.m))));
  const sets = [await unfold(ifs, depth, run), await chaosGame(ifs, 65536, { ...run, chains: 256 })];
  const lo = new Array(f.dd).fill(Infinity), hi = new Array(f.dd).fill(-Infinity);
  for (const pts of sets)
    for (let i = 0; i < pts.length; i++) {
      const k = i % f.dd;
      lo[k] = Math.min(lo[k], pts[i]);
      hi[k] = Math.max(hi[k], pts[i]);
    }
  for (let k = 0; k < f.dd; k++) {
    const pad = 0.02 * Math.max(hi[k] - lo[k], 1e-6);
    lo[k] -= pad;
    hi[k] += pad;
  }
  return { lo, hi };
}

/** The chaos game binned on a grid (1 to 3 dimensions): up to 2^42 points, never stored. */
export async function render(ifs: Ifs, n: number, opts: RenderOptions = {}): Promise<Rendering> {
  const op = 'fractal.render';
  const o = options<RenderOptions>(op, opts, [...CHAOS_KEYS, 'size', 'lo', 'hi']);
  const f = packIfsFor(op, ifs);
  if (f.dd > 3) throw invalid('E_RANGE', op, 'ifs.dim', 'at most 3 to render', f.dd);
  const args = chaosArgs(op, f, n, o, 2 ** 42);
  const size = o.size === undefined ? new Array(f.dd).fill(512) : o.size;
  if (!Array.isArray(size) || size.length !== f.dd) throw invalid('E_SHAPE', op, 'size', `${f.dd} cell counts`, size);
  size.forEach((v, k) => integer(op, `size[${k}]`, v, 1, 65536));
  if (size.reduce((a: number, b: number) => a * b, 1) > 2 ** 28) throw invalid('E_TOO_LARGE', op, 'size', 'at most 2^28 cells');
  const run = checkRun(op, o);
  let lo: number[], hi: number[];
  if (o.lo !== undefined || o.hi !== undefined) {
    if (o.lo === undefined || o.hi === undefined) throw invalid('E_TYPE', op, 'lo and hi', 'given together');
    if (!Array.isArray(o.lo) || o.lo.length !== f.dd) throw invalid('E_SHAPE', op, 'lo', `${f.dd} numbers`, o.lo);
    if (!Array.isArray(o.hi) || o.hi.length !== f.dd) throw invalid('E_SHAPE', op, 'hi', `${f.dd} numbers`, o.hi);
    lo = o.lo.map((v, k) => finiteNumber(op, `lo[${k}]`, v));
    hi = o.hi.map((v, k) => {
      const x = finiteNumber(op, `hi[${k}]`, v);
      if (!(x > lo[k])) throw invalid('E_RANGE', op, `hi[${k}]`, `above lo[${k}] = ${lo[k]}`, x);
      return x;
    });
  } else {
    ({ lo, hi } = await bounds(f, ifs, run));
  }
  args.render = { n: size, lo, hi };
  const cb = o.onProgress;
  const counts = (await callAsync(op, (a, x) => a.chaosGame(x), args, run, cb ? (_f, _s, v) => cb(v) : undefined)) as Float64Array;
  const density = new Float32Array(counts.length);
  let inside = 0;
  for (let i = 0; i < counts.length; i++) {
    density[i] = counts[i] / n;
    inside += counts[i];
  }
  return { density, counts, size: [...size], lo, hi, inside: inside / n };
}
