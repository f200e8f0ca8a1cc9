/**
 * The fractal codec (partitioned IFS; Jacquin 1992, Fisher 1995). An image
 * or field is cut into range blocks by a quadtree (maxBlock down to
 * minBlock); each range is coded as an isometry (one of 8) of a domain block
 * twice its size, averaged down, under a gray map s * D + o with |s| < 1
 * (31 levels k / 16) and o coded through the range's mean (8 bits). A block
 * whose best match misses the tolerance is split. Decoding iterates the
 * maps from zero to their fixed point, at 0.5, 1, 2 or 4 times the size
 * (the code has no resolution of its own). The binary layout is described
 * in native/fractal/codec_format.h; reading checks every size and code.
 */
import { fromNative } from './errors';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun, native } from './native';
import { finiteNumber, float32, integer, invalid, oneOf, options, typedOf } from './validate';

export interface EncodeOptions extends RunOptions {
  width: number;
  height: number;
  /** RMS error per block (in the image's units) above which a block is split (default 0: split down to minBlock). */
  tolerance?: number;
  /** Smallest and largest range block: powers of two, 4 <= minBlock <= maxBlock <= 32 (default 4 and 16). */
  minBlock?: number;
  maxBlock?: number;
  /**
   * 'classified' (default): domains are grouped by the brightness order of
   * their quadrants and a range searches its own group and the reversed one
   * (1/12 of the work). 'exhaustive': every domain under every isometry.
   */
  search?: 'classified' | 'exhaustive';
  /** Domain lattice step: 'range' (the range size, default), 'half' (half of it, 4x the domains) or 'domain' (the domain size). */
  domainStep?: 'range' | 'half' | 'domain';
  /** The value range coded, [lo, hi] (default: the image's minimum and maximum). */
  range?: [number, number];
  /** Called with (level, fraction of that level's ranges searched). */
  onProgress?: (level: number, fraction: number) => void;
}

export interface EncodedImage {
  code: Uint8Array;
  bytes: number;
  bitsPerPixel: number;
  leaves: number;
  /** Leaves of each block size, smallest first. */
  leavesPerSize: number[];
  /** RMS error of the quantized maps applied to the image itself (the collage), image units. */
  collageRmse: number;
}

const STEPS = ['domain', 'range', 'half'] as const;

/** Encodes an image or field [height, width] (row-major, x fastest). */
export async function encode(image: Float32Array, opts: EncodeOptions): Promise<EncodedImage> {
  const op = 'fractal.encode';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with width and height');
  const o = options<EncodeOptions>(op, opts, [...RUN_OPTION_KEYS, 'width', 'height', 'tolerance', 'minBlock', 'maxBlock', 'search', 'domainStep', 'range', 'onProgress']);
  const width = integer(op, 'width', o.width, 1, 65536), height = integer(op, 'height', o.height, 1, 65536);
  const img = float32(op, 'image', image, width * height);
  const minBlock = o.minBlock === undefined ? 4 : integer(op, 'minBlock', o.minBlock, 4, 32);
  const maxBlock = o.maxBlock === undefined ? Math.max(16, minBlock) : integer(op, 'maxBlock', o.maxBlock, 4, 32);
  for (const [name, v] of [['minBlock', minBlock], ['maxBlock', maxBlock]] as const)
    if ((v & (v - 1)) !== 0) throw invalid('E_RANGE', op, name, 'a power of two (4, 8, 16 or 32)', v);
  if (minBlock > maxBlock) throw invalid('E_RANGE', op, 'minBlock', `at most maxBlock = ${maxBlock}`, minBlock);
  if (width % maxBlock || height % maxBlock) throw invalid('E_SHAPE', op, 'width and height', `multiples of maxBlock = ${maxBlock}`, `${width} x ${height}`);
  const tolerance = o.tolerance === undefined ? 0 : finiteNumber(op, 'tolerance', o.tolerance, 0);
  const search = o.search === undefined ? 'classified' : oneOf(op, 'search', o.search, ['classified', 'exhaustive'] as const);
  const step = o.domainStep === undefined ? 'range' : oneOf(op, 'domainStep', o.domainStep, STEPS);
  const args: Record<string, unknown> = {
    image: img, width, height, minBlock, maxBlock, tolerance, classified: search === 'classified', stepCode: STEPS.indexOf(step),
  };
  if (o.range !== undefined) {
    if (!Array.isArray(o.range) || o.range.length !== 2) throw invalid('E_TYPE', op, 'range', '[lo, hi]', o.range);
    const lo = finiteNumber(op, 'range[0]', o.range[0]), hi = finiteNumber(op, 'range[1]', o.range[1]);
    if (!(hi > lo)) throw invalid('E_RANGE', op, 'range[1]', `above range[0] = ${lo}`, hi);
    args.lo = lo;
    args.hi = hi;
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
  const cb = o.onProgress;
  const r = await callAsync(op, (a, x) => a.encode(x), args, checkRun(op, o), cb ? (_f, level, v) => cb(level, v) : undefined);
  return {
    code: r.code, bytes: r.code.length, bitsPerPixel: (8 * r.code.length) / (width * height),
    leaves: r.leaves, leavesPerSize: r.leavesPerSize, collageRmse: r.collageRmse,
  };
}

export interface DecodeOptions extends RunOptions {
  /** Output size relative to the encoded image: 0.5, 1 (default), 2 or 4. */
  scale?: 0.5 | 1 | 2 | 4;
  /** Iterations at most (default 64). */
  maxIterations?: number;
  /** Stop when the RMS change of an iteration falls below this, in image units (default 1e-5 of the value range). */
  tol?: number;
}

export interface DecodedImage {
  /** [height, width], x fastest. */
  image: Float32Array;
  width: number;
  height: number;
  iterations: number;
  /** RMS change of each iteration (image units): falls geometrically. */
  changes: Float64Array;
}

export interface CodeInfo {
  width: number;
  height: number;
  minBlock: number;
  maxBlock: number;
  stepCode: number;
  lo: number;
  hi: number;
  leaves: number;
  bits: number;
}

function codeOf(op: string, code: unknown): Uint8Array {
  return typedOf(op, 'code', code, Uint8Array);
}

/** The header of a code (checked, with its checksum), without decoding it. */
export function codeInfo(code: Uint8Array): CodeInfo {
  const op = 'fractal.codeInfo';
  try {
    return native().codeInfo({ code: codeOf(op, code) });
  } catch (err) {
    throw fromNative(err, op);
  }
}

/** Decodes a code to its fixed point at the chosen scale. */
export async function decode(code: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const op = 'fractal.decode';
  const o = options<DecodeOptions>(op, opts, [...RUN_OPTION_KEYS, 'scale', 'maxIterations', 'tol']);
  const c = codeOf(op, code);
  const scale = o.scale === undefined ? 1 : o.scale;
  if (![0.5, 1, 2, 4].includes(scale)) throw invalid('E_RANGE', op, 'scale', '0.5, 1, 2 or 4', scale);
  const maxIterations = o.maxIterations === undefined ? 64 : integer(op, 'maxIterations', o.maxIterations, 1, 10000);
  const args: Record<string, unknown> = { code: c, scale, maxIterations };
  if (o.tol !== undefined) {
    const info = codeInfo(c);
    args.tol = finiteNumber(op, 'tol', o.tol, 0) / (info.hi - info.lo);
  }
  const r = await callAsync(op, (a, x) => a.decode(x), args, checkRun(op, o));
  return { image: r.image, width: r.width, height: r.height, iterations: r.changes.length, changes: r.changes };
}

/** Peak signal-to-noise ratio in dB of b against a (peak: the value range, default 255). */
export function psnr(a: Float32Array, b: Float32Array, peak = 255): number {
  const op = 'fractal.psnr';
  float32(op, 'a', a);
  float32(op, 'b', b, a.length);
  finiteNumber(op, 'peak', peak, 0, Infinity, true);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  const mse = s / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}
