/**
 * The fractal codec (partitioned IFS; Jacquin 1992, Fisher 1995). An image
 * or field of any size is cut into range blocks by a quadtree (maxBlock
 * down to minBlock; the edges padded to whole blocks, the padding never
 * coded beyond the edge blocks and cropped on decoding); each range is
 * coded as an isometry (one of 8) of a domain block twice its size,
 * averaged down, under a gray map s * D + o with |s| < 1 (31 levels k / 16)
 * and o coded through the range's mean (8 bits), or as its mean alone.
 *
 * The tree is chosen in one of two ways: a tolerance (a block whose best map
 * misses it is split), or a budget in bytes or bits per pixel, met within
 * 3% by rate-distortion optimisation (each block a leaf or split, whichever
 * costs less squared error plus lambda times its bits; lambda found by
 * bisection on the true coded size). The code is range-coded with adaptive
 * models: split flags by level and neighbourhood, scale codes by level, each
 * mean as a residual from its left and upper neighbours' means.
 *
 * Decoding iterates the maps from zero to their fixed point, clamped to the
 * coded value range, at 0.5, 1, 2 or 4 times the size (the code has no
 * resolution of its own). An 8- or 16-bit image keeps its type: its range is
 * the type's, and decoding also gives the rounded pixels. The binary layout
 * is described in native/fractal/codec_format.h; reading checks every size
 * and code.
 */
import { fromNative } from './errors';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun, native } from './native';
import { finiteNumber, integer, invalid, oneOf, options, typedKind, typedOf } from './validate';

/** Images the codec takes: floats, or 8- or 16-bit pixels. */
export type CodecImage = Float32Array | Uint8Array | Uint8ClampedArray | Uint16Array;

export interface EncodeOptions extends RunOptions {
  /** Any size from 1 x 1. */
  width: number;
  height: number;
  /**
   * RMS error per block (in the image's units) above which a block is split
   * (default 0: split down to minBlock). At most one of tolerance, bytes and
   * bpp.
   */
  tolerance?: number;
  /** A budget for the whole code, header included: its size is within 3% of it (or below, when even minBlock everywhere needs fewer). */
  bytes?: number;
  /** The same budget in bits per pixel of the image (bytes = bpp * width * height / 8). */
  bpp?: number;
  /** Smallest and largest range block: powers of two, 4 <= minBlock <= maxBlock <= 32 (default 4 and 16). */
  minBlock?: number;
  maxBlock?: number;
  /**
   * 'classified' (default): domains are grouped by the brightness order of
   * their quadrants and a range searches its own group and the reversed one
   * (1/12 of the work). 'exhaustive': every domain under every isometry.
   */
  search?: 'classified' | 'exhaustive';
  /** Domain lattice step: 'half' (half the range size, default), 'range' (the range size: a quarter of the domains, about 3x faster, 0.2 to 0.8 dB lower on photographs) or 'domain' (the domain size). */
  domainStep?: 'range' | 'half' | 'domain';
  /** The value range coded, [lo, hi] (default: the type's range for 8- and 16-bit pixels, else the image's minimum and maximum). */
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
  /** Under a budget: the rate-distortion multiplier chosen (squared error per bit, in units of the value range squared). */
  lambda?: number;
}

const TYPES = { Float32Array: 0, Uint8Array: 1, Uint8ClampedArray: 1, Uint16Array: 2 } as const;
const TYPE_NAMES = ['float32', 'uint8', 'uint16'] as const;

const STEPS = ['domain', 'range', 'half'] as const;

/** Encodes an image or field [height, width] (row-major, x fastest). */
export async function encode(image: CodecImage, opts: EncodeOptions): Promise<EncodedImage> {
  const op = 'fractal.encode';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with width and height');
  const o = options<EncodeOptions>(op, opts, [...RUN_OPTION_KEYS, 'width', 'height', 'tolerance', 'bytes', 'bpp', 'minBlock', 'maxBlock', 'search', 'domainStep', 'range', 'onProgress']);
  const width = integer(op, 'width', o.width, 1, 65536), height = integer(op, 'height', o.height, 1, 65536);
  const kind = typedKind(image);
  if (kind === undefined || !(kind in TYPES)) throw invalid('E_TYPE', op, 'image', 'a Float32Array, Uint8Array, Uint8ClampedArray or Uint16Array', image);
  const valueType = TYPES[kind as keyof typeof TYPES];
  const src = image as CodecImage;
  if ((src.buffer as ArrayBuffer & { detached?: boolean }).detached) throw invalid('E_TYPE', op, 'image', 'not detached');
  if (src.length !== width * height) throw invalid('E_SHAPE', op, 'image', `of length width * height = ${width * height}`, image);
  const img = valueType === 0 ? (src as Float32Array) : Float32Array.from(src);
  const minBlock = o.minBlock === undefined ? 4 : integer(op, 'minBlock', o.minBlock, 4, 32);
  const maxBlock = o.maxBlock === undefined ? Math.max(16, minBlock) : integer(op, 'maxBlock', o.maxBlock, 4, 32);
  for (const [name, v] of [['minBlock', minBlock], ['maxBlock', maxBlock]] as const)
    if ((v & (v - 1)) !== 0) throw invalid('E_RANGE', op, name, 'a power of two (4, 8, 16 or 32)', v);
  if (minBlock > maxBlock) throw invalid('E_RANGE', op, 'minBlock', `at most maxBlock = ${maxBlock}`, minBlock);
  const given = (['tolerance', 'bytes', 'bpp'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) throw invalid('E_RANGE', op, given[1], `not given together with ${given[0]} (one of tolerance, bytes, bpp)`, o[given[1]]);
  const tolerance = o.tolerance === undefined ? 0 : finiteNumber(op, 'tolerance', o.tolerance, 0);
  let targetBytes = 0, targetName = 'bytes';
  if (o.bytes !== undefined) targetBytes = finiteNumber(op, 'bytes', o.bytes, 0, Infinity, true);
  if (o.bpp !== undefined) (targetBytes = (finiteNumber(op, 'bpp', o.bpp, 0, Infinity, true) * width * height) / 8), (targetName = `bpp = ${o.bpp}`);
  const search = o.search === undefined ? 'classified' : oneOf(op, 'search', o.search, ['classified', 'exhaustive'] as const);
  const step = o.domainStep === undefined ? 'half' : oneOf(op, 'domainStep', o.domainStep, STEPS);
  const args: Record<string, unknown> = {
    image: img, width, height, minBlock, maxBlock, tolerance, targetBytes, targetName, valueType,
    classified: search === 'classified', stepCode: STEPS.indexOf(step),
  };
  if (valueType !== 0) (args.lo = 0), (args.hi = valueType === 1 ? 255 : 65535);
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
  const out: EncodedImage = {
    code: r.code, bytes: r.code.length, bitsPerPixel: (8 * r.code.length) / (width * height),
    leaves: r.leaves, leavesPerSize: r.leavesPerSize, collageRmse: r.collageRmse,
  };
  if (targetBytes > 0) out.lambda = r.lambda;
  return out;
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
  /** [height, width], x fastest, within the coded range [lo, hi]. */
  image: Float32Array;
  /** The value type of the image that was coded. */
  valueType: 'float32' | 'uint8' | 'uint16';
  /** For 8- and 16-bit images: the image rounded to the type. */
  pixels?: Uint8Array | Uint16Array;
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
  /** Bytes of the range-coded stream after the 40-byte header. */
  bytes: number;
  valueType: 'float32' | 'uint8' | 'uint16';
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
  const valueType = TYPE_NAMES[r.valueType as 0 | 1 | 2];
  const out: DecodedImage = { image: r.image, valueType, width: r.width, height: r.height, iterations: r.changes.length, changes: r.changes };
  if (valueType !== 'float32') {
    const px = valueType === 'uint8' ? new Uint8Array(r.image.length) : new Uint16Array(r.image.length);
    for (let i = 0; i < px.length; i++) px[i] = Math.round(r.image[i]);
    out.pixels = px;
  }
  return out;
}

const PEAKS: Record<string, number> = { Uint8Array: 255, Uint8ClampedArray: 255, Uint16Array: 65535, Float32Array: 255, Float64Array: 255 };

/** Images psnr compares: the codec's types and Float64Array. */
export type PsnrImage = CodecImage | Float64Array;

/**
 * Peak signal-to-noise ratio in dB of b against a (equal lengths; each a
 * Float32Array, Float64Array, Uint8Array, Uint8ClampedArray or Uint16Array).
 * The peak comes from a's type: 255 for 8-bit pixels, 65535 for 16-bit, and
 * 255 for floats (8-bit values held as floats) unless peak is given.
 */
export function psnr(a: PsnrImage, b: PsnrImage, peak?: number): number {
  const op = 'fractal.psnr';
  const ka = typedKind(a), kb = typedKind(b);
  if (ka === undefined || !(ka in PEAKS)) throw invalid('E_TYPE', op, 'a', 'a Float32Array, Float64Array, Uint8Array, Uint8ClampedArray or Uint16Array', a);
  if (kb === undefined || !(kb in PEAKS)) throw invalid('E_TYPE', op, 'b', 'a Float32Array, Float64Array, Uint8Array, Uint8ClampedArray or Uint16Array', b);
  if (a.length === 0) throw invalid('E_SHAPE', op, 'a', 'not empty', a);
  if (b.length !== a.length) throw invalid('E_SHAPE', op, 'b', `of the length of a, ${a.length}`, b);
  const p = peak === undefined ? PEAKS[ka] : finiteNumber(op, 'peak', peak, 0, Infinity, true);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (!Number.isFinite(d)) throw invalid('E_NONFINITE', op, Number.isFinite(a[i]) ? `b[${i}]` : `a[${i}]`, 'finite', Number.isFinite(a[i]) ? b[i] : a[i]);
    s += d * d;
  }
  const mse = s / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((p * p) / mse);
}
