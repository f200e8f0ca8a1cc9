/**
 * The points view: in embedding space (any dimension d) no grid exists, so the
 * semantic field is the PDE's Green's function summed over the concepts.
 * Every operation is one pass of the pair engine: tiled, the N x M matrix of
 * pairs is never stored. Kernels are named the same way everywhere,
 * `kernel: { kind, ...parameters }` (see lib/kernels.ts for the list); an
 * option an operation would ignore is an error, not a silent no-op.
 */
import { SemfieldError } from './errors';
import { Kernel, RealKernel, nativeKernel } from './kernels';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { boolean, finiteNumber, float32, integer, invalid, isPlainObject, oneOf, options, typedOf } from './validate';

export type { Kernel, RealKernel } from './kernels';
export { KERNELS } from './kernels';

function progressOf<F extends (...a: number[]) => void>(op: string, v: unknown): F | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', v);
  return v as F;
}

function rowsOf(op: string, name: string, v: unknown, d: number): number {
  const a = float32(op, name, v);
  if (a.length === 0) throw invalid('E_SHAPE', op, name, 'non-empty');
  if (a.length % d !== 0) throw invalid('E_SHAPE', op, name, `[N, ${d}] (a multiple of d = ${d} long)`, a);
  return a.length / d;
}

/** Optional weights, one per point; a measure's weights (`measure`) must also be finite and non-negative. */
function weightsOf(op: string, name: string, v: unknown, n: number, measure = false): Float32Array | undefined {
  if (v === undefined) return undefined;
  const w = float32(op, name, v, n);
  if (measure)
    for (let i = 0; i < w.length; i++) {
      if (!Number.isFinite(w[i])) throw invalid('E_NONFINITE', op, `${name}[${i}]`, 'finite', w[i]);
      if (w[i] < 0) throw invalid('E_RANGE', op, `${name}[${i}]`, 'non-negative (a weight of a distribution)', w[i]);
    }
  return w;
}

function offsetsOf(op: string, name: string, v: unknown, n: number): Int32Array {
  const o = typedOf(op, name, v, Int32Array);
  if (o.length < 2) throw invalid('E_SHAPE', op, name, 'at least [0, N] (one set)', o);
  if (o[0] !== 0) throw invalid('E_SHAPE', op, `${name}[0]`, '0', o[0]);
  for (let s = 0; s + 1 < o.length; s++)
    if (o[s + 1] <= o[s]) throw invalid('E_SHAPE', op, name, `strictly increasing (set ${s} is empty)`, `${o[s]} then ${o[s + 1]}`);
  if (o[o.length - 1] !== n) throw invalid('E_SHAPE', op, `${name}[${o.length - 1}]`, `the number of points ${n}`, o[o.length - 1]);
  return o;
}

export interface PotentialPointsOptions extends RunOptions {
  /** Dimension of every point. */
  d: number;
  kernel: Kernel;
  /** Charge of each source (default 1). */
  weights?: Float32Array;
}

/**
 * phi_i = sum_j w_j G(|t_i - s_j|) at every target: Float64Array [n], or for
 * helmholtz [n, 2] holding (re, im).
 */
export async function potential(sources: Float32Array, targets: Float32Array, opts: PotentialPointsOptions): Promise<Float64Array> {
  const op = 'points.potential';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d and kernel');
  const o = options<PotentialPointsOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'kernel', 'weights']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const m = rowsOf(op, 'sources', sources, d);
  rowsOf(op, 'targets', targets, d);
  const args: Record<string, unknown> = { d, sources, targets, kernel: nativeKernel(op, o.kernel) };
  const w = weightsOf(op, 'weights', o.weights, m);
  if (w) args.weights = w;
  return callAsync(op, (a, x) => a.kernelSum(x), args, checkRun(op, o));
}

export interface EnergyOptions extends RunOptions {
  d: number;
  kernel: RealKernel;
  /** Weights of A and of B (default 1 each). */
  wa?: Float32Array;
  wb?: Float32Array;
}

/** Interaction energy sum_i sum_j a_i b_j G(r_ij) of two weighted sets (real kernels). */
export async function energy(A: Float32Array, B: Float32Array, opts: EnergyOptions): Promise<number> {
  const op = 'points.energy';
  const { d, nb, kernel, wa, wb, o } = energyArgs(op, A, B, opts);
  const args: Record<string, unknown> = { d, sources: A, targets: B, kernel };
  if (wa) args.weights = wa;
  const phi = await callAsync(op, (a, x) => a.kernelSum(x), args, checkRun(op, o));
  let total = 0;
  for (let j = 0; j < nb; j++) total += (wb ? wb[j] : 1) * phi[j];
  return total;
}

function energyArgs(op: string, A: Float32Array, B: Float32Array, opts: EnergyOptions) {
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d and kernel');
  const o = options<EnergyOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'kernel', 'wa', 'wb']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const na = rowsOf(op, 'A', A, d), nb = rowsOf(op, 'B', B, d);
  const kernel = nativeKernel(op, o.kernel, 'real');
  const wa = weightsOf(op, 'wa', o.wa, na), wb = weightsOf(op, 'wb', o.wb, nb);
  return { d, na, nb, kernel, wa, wb, o };
}

export interface SetOptions extends RunOptions {
  d: number;
  /** Weights of X and of Y (default 1 each; normalised per set, must be >= 0). */
  wx?: Float32Array;
  wy?: Float32Array;
}

async function pairOfSets(op: string, metric: number, X: Float32Array, Y: Float32Array, o: Partial<SetOptions>, kernel: Record<string, string | number>): Promise<number> {
  const d = integer(op, 'd', o.d, 1, 65536);
  const nx = rowsOf(op, 'X', X, d), ny = rowsOf(op, 'Y', Y, d);
  const args: Record<string, unknown> = {
    d, metric, kernel, x: Y, offsets: Int32Array.from([0, ny]), qx: X, qoffsets: Int32Array.from([0, nx]),
  };
  const wx = weightsOf(op, 'wx', o.wx, nx, true), wy = weightsOf(op, 'wy', o.wy, ny, true);
  if (wy) args.weights = wy;
  if (wx) args.qweights = wx;
  const out = await callAsync(op, (a, x) => a.setMatrix(x), args, checkRun(op, o));
  return out[0];
}

/**
 * Energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| between weighted sets
 * (Szekely; >= 0, 0 only for equal distributions). In 1D it is the square of
 * scipy.stats.energy_distance.
 */
export async function energyDistance(X: Float32Array, Y: Float32Array, opts: SetOptions): Promise<number> {
  const op = 'points.energyDistance';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<SetOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'wx', 'wy']);
  return pairOfSets(op, 0, X, Y, o, { kind: 'energy' });
}

/** Squared maximum mean discrepancy E k(X,X') + E k(Y,Y') - 2E k(X,Y) (biased form) for a positive-definite kernel. */
export async function mmd(X: Float32Array, Y: Float32Array, opts: SetOptions & { kernel: RealKernel }): Promise<number> {
  const op = 'points.mmd';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d and kernel');
  const o = options<SetOptions & { kernel: RealKernel }>(op, opts, [...RUN_OPTION_KEYS, 'd', 'wx', 'wy', 'kernel']);
  return pairOfSets(op, 1, X, Y, o, nativeKernel(op, o.kernel, 'definite'));
}

export interface DistanceMatrixOptions extends RunOptions {
  d: number;
  /** 'energy' (energy distance, the default), 'mmd' (squared MMD) or 'cross' (E k(X, Y)). */
  metric?: 'energy' | 'mmd' | 'cross';
  /** Kernel of 'mmd' (positive definite) and 'cross' (any real kernel); 'energy' takes none. */
  kernel?: RealKernel;
  /** Weight of every point (>= 0; normalised per set). */
  weights?: Float32Array;
  /** Rows: these sets against the sets (default: the sets against themselves). */
  query?: { x: Float32Array; offsets: Int32Array; weights?: Float32Array };
  /** Called as set totals complete with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface DistanceMatrix {
  /** [rows, cols], row-major. */
  values: Float64Array;
  rows: number;
  cols: number;
}

/**
 * Distances between many ragged point sets (a document is the set of its
 * chunk vectors): points [N, d] with offsets [S + 1] marking the sets.
 */
export async function distanceMatrix(x: Float32Array, offsets: Int32Array, opts: DistanceMatrixOptions): Promise<DistanceMatrix> {
  const op = 'points.distanceMatrix';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<DistanceMatrixOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'metric', 'kernel', 'weights', 'query', 'onProgress']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const n = rowsOf(op, 'x', x, d);
  const off = offsetsOf(op, 'offsets', offsets, n);
  const metric = o.metric === undefined ? 'energy' : oneOf(op, 'metric', o.metric, ['energy', 'mmd', 'cross'] as const);
  let kernel: Record<string, string | number> = { kind: 'energy' };
  if (metric === 'energy') {
    if (o.kernel !== undefined) throw invalid('E_RANGE', op, 'kernel', "absent for metric 'energy' (the energy distance has its own kernel, -r)", o.kernel);
  } else {
    if (o.kernel === undefined) throw invalid('E_TYPE', op, 'kernel', `given for metric '${metric}'`);
    kernel = nativeKernel(op, o.kernel, metric === 'mmd' ? 'definite' : 'real');
  }
  const args: Record<string, unknown> = { d, x, offsets: off, metric: ['energy', 'mmd', 'cross'].indexOf(metric), kernel };
  const w = weightsOf(op, 'weights', o.weights, n, true);
  if (w) args.weights = w;
  let rows = off.length - 1;
  if (o.query !== undefined) {
    const q = options<{ x: Float32Array; offsets: Int32Array; weights?: Float32Array }>(op, o.query, ['x', 'offsets', 'weights']);
    const qn = rowsOf(op, 'query.x', q.x, d);
    const qoff = offsetsOf(op, 'query.offsets', q.offsets, qn);
    args.qx = q.x;
    args.qoffsets = qoff;
    const qw = weightsOf(op, 'query.weights', q.weights, qn, true);
    if (qw) args.qweights = qw;
    rows = qoff.length - 1;
  }
  const cb = progressOf(op, o.onProgress);
  const values = await callAsync(op, (a, y) => a.setMatrix(y), args, checkRun(op, o), cb && ((_f, done, total) => cb(done, total)));
  return { values, rows, cols: off.length - 1 };
}

/** Attention's logit: beta q.k ('dot'), or the field interaction of a kernel. */
export type AttentionKernel = { kind: 'dot' } | RealKernel;

export interface AttentionOptions extends RunOptions {
  /** Dimension of queries and keys. */
  d: number;
  /** Batch and heads: Q is [batch, heads, N, d], K [batch, heads, M, d], V [batch, heads, M, dv]. */
  batch?: number;
  heads?: number;
  /**
   * The logit of query q and key k (default { kind: 'dot' }): 'dot' beta q.k
   * (the baseline); 'gaussian' -|q - k|^2 / (2 sigma^2) (the kernel's log:
   * dot attention plus a per-key bias, beta not taken); any other kernel
   * beta G(|q - k|), e.g. energy -beta r, coulomb beta / sqrt(r^2 + eps^2).
   */
  kernel?: AttentionKernel;
  /** Logit scale (default 1/sqrt(d) for 'dot', 1 for the other kernels; not taken by 'gaussian'). */
  beta?: number;
  /**
   * Causal masking. true or 'bottom-right' (the default alignment, as
   * FlashAttention 2.1 and later): query i sees key j <= i + M - N, so the
   * last query sees every key (decoding with a cache). 'top-left' (as
   * PyTorch's is_causal): query i sees key j <= i.
   */
  causal?: boolean | 'bottom-right' | 'top-left';
  /** Padding: 1 where key j of batch b may be seen [batch, M]. */
  keyMask?: Uint8Array;
  /** Added to every logit of key j [batch, heads, M]. */
  keyBias?: Float32Array;
}

const MOVED_TO_KERNEL = ['kind', 'sigma', 'eps', 'kappa'];

/** attention's output with the log-sum-exp of each query's logits (returnLse: true). */
export interface AttentionWithLse {
  /** [batch, heads, N, dv] */
  out: Float32Array;
  /** log sum_j exp(logit_ij) per query [batch, heads, N]; -Infinity for a query that sees no key. */
  lse: Float32Array;
}

/**
 * Field attention: softmax over keys of the field interaction of query and
 * key, weighting the values; online softmax over tiles of keys (the N x M
 * logits never exist). A query that sees no key gets zeros.
 * Returns [batch, heads, N, dv]; with returnLse: true, { out, lse }, the
 * statistics attentionGrad can reuse (option saved) instead of running the
 * forward pass again.
 */
export async function attention(Q: Float32Array, K: Float32Array, V: Float32Array, opts: AttentionOptions & { returnLse: true }): Promise<AttentionWithLse>;
export async function attention(Q: Float32Array, K: Float32Array, V: Float32Array, opts: AttentionOptions & { returnLse?: false }): Promise<Float32Array>;
export async function attention(Q: Float32Array, K: Float32Array, V: Float32Array, opts: AttentionOptions & { returnLse: boolean }): Promise<Float32Array | AttentionWithLse>;
export async function attention(Q: Float32Array, K: Float32Array, V: Float32Array, opts: AttentionOptions & { returnLse?: boolean }): Promise<Float32Array | AttentionWithLse> {
  const op = 'points.attention';
  const { args, run } = attentionArgs(op, Q, K, V, opts, ['returnLse']);
  const o = opts as { returnLse?: unknown };
  if (o.returnLse !== undefined && boolean(op, 'returnLse', o.returnLse)) args.returnLse = true;
  return callAsync(op, (a, x) => a.attention(x), args, run);
}

export interface AttentionGradOptions extends AttentionOptions {
  /**
   * The forward pass's { out, lse } for the same Q, K, V and options
   * (attention with returnLse: true), as FlashAttention's backward keeps
   * them: the backward then skips the forward pass (about a third of its
   * time). Statistics of other inputs give wrong gradients, as there.
   */
  saved?: AttentionWithLse;
}

export interface AttentionGrad {
  /** d(sum dOut * out) / dQ [batch, heads, N, d], / dK [batch, heads, M, d], / dV [batch, heads, M, dv]. */
  dQ: Float32Array;
  dK: Float32Array;
  dV: Float32Array;
  /** The derivative with respect to the logit's own parameter, per (batch, head): beta, or sigma for gaussian. */
  dParam: Float64Array;
  param: 'beta' | 'sigma';
}

/**
 * The gradients of attention: given dOut = dL/d(out) [batch, heads, N, dv],
 * dQ, dK, dV and the logit parameter's derivative, for every kernel, masks
 * and both causal alignments. Fused and tiled like the forward pass: the
 * logits are recomputed from each query's log-sum-exp, the N x M matrix never
 * exists (memory O(N + M)).
 */
export async function attentionGrad(Q: Float32Array, K: Float32Array, V: Float32Array, dOut: Float32Array, opts: AttentionGradOptions): Promise<AttentionGrad> {
  const op = 'points.attentionGrad';
  const { args, run, n, dv, bh } = attentionArgs(op, Q, K, V, opts, ['saved']);
  args.dout = float32(op, 'dOut', dOut, bh * n * dv);
  const saved = (opts as { saved?: unknown }).saved;
  if (saved !== undefined) {
    if (!isPlainObject(saved)) throw invalid('E_TYPE', op, 'saved', "attention's { out, lse } (returnLse: true)", saved);
    for (const k of Object.keys(saved))
      if (k !== 'out' && k !== 'lse') throw new SemfieldError('E_TYPE', `${op}: unknown field '${k}' of saved (known: out, lse)`);
    const sv = saved as Partial<AttentionWithLse>;
    args.out = float32(op, 'saved.out', sv.out, bh * n * dv);
    args.lse = float32(op, 'saved.lse', sv.lse, bh * n);
    const lse = args.lse as Float32Array;
    for (let i = 0; i < lse.length; i++)
      if (Number.isNaN(lse[i]) || lse[i] === Infinity) throw invalid('E_NONFINITE', op, `saved.lse[${i}]`, 'finite, or -Infinity for a query that sees no key', lse[i]);
  }
  const r = await callAsync(op, (a, x) => a.attentionGrad(x), args, run);
  return { ...r, param: (args.kernel as { kind: string }).kind === 'gaussian' ? 'sigma' : 'beta' };
}

function attentionArgs(op: string, Q: Float32Array, K: Float32Array, V: Float32Array, opts: AttentionOptions, more: string[] = []): { args: Record<string, unknown>; run: RunOptions; n: number; dv: number; bh: number } {
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  if (isPlainObject(opts))
    for (const key of MOVED_TO_KERNEL)
      if (key in opts) throw new SemfieldError('E_TYPE', `${op}: option '${key}' is given inside kernel, e.g. kernel: { kind: 'gaussian', sigma: 1 }`);
  const o = options<AttentionOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'batch', 'heads', 'kernel', 'beta', 'causal', 'keyMask', 'keyBias', ...more]);
  const d = integer(op, 'd', o.d, 1, 65536);
  const batch = o.batch === undefined ? 1 : integer(op, 'batch', o.batch, 1, 1 << 20);
  const heads = o.heads === undefined ? 1 : integer(op, 'heads', o.heads, 1, 1 << 16);
  const bh = batch * heads;
  const shape = (name: string, a: unknown, unit: number): number => {
    const t = float32(op, name, a);
    if (t.length === 0 || t.length % (bh * unit) !== 0) throw invalid('E_SHAPE', op, name, `[batch=${batch}, heads=${heads}, rows, ${unit}]`, t);
    return t.length / (bh * unit);
  };
  const n = shape('Q', Q, d), m = shape('K', K, d);
  shape('V', V, m);
  const kernel = o.kernel === undefined ? { kind: 'dot' } : nativeKernel(op, o.kernel, 'real', ['dot']);
  if (kernel.kind === 'gaussian' && o.beta !== undefined)
    throw invalid('E_RANGE', op, 'beta', "absent for kernel 'gaussian' (its logit -r^2 / (2 sigma^2) has its scale in sigma)", o.beta);
  const beta = o.beta === undefined ? (kernel.kind === 'dot' ? 1 / Math.sqrt(d) : 1) : finiteNumber(op, 'beta', o.beta);
  let causal = 0;
  if (o.causal !== undefined && o.causal !== false) {
    const c = o.causal === true ? 'bottom-right' : oneOf(op, 'causal', o.causal, ['bottom-right', 'top-left'] as const);
    causal = c === 'bottom-right' ? 1 : 2;
  }
  if (causal === 1 && m < n) throw invalid('E_SHAPE', op, 'K', `at least N = ${n} keys per head for bottom-right causal attention`, m);
  const args: Record<string, unknown> = { q: Q, k: K, v: V, d, batch, heads, beta, kernel, causal };
  if (o.keyMask !== undefined) args.mask = typedOf(op, 'keyMask', o.keyMask, Uint8Array, batch * m);
  if (o.keyBias !== undefined) args.bias = float32(op, 'keyBias', o.keyBias, bh * m);
  return { args, run: checkRun(op, o), n, dv: V.length / (bh * m), bh };
}

export interface ResonanceOptions extends RunOptions {
  d: number;
  /** Weights of A and B (default 1). */
  wa?: Float32Array;
  wb?: Float32Array;
  /** Damping g >= 0, screening kappa >= 0, wave speed c > 0 (defaults 0, 0, 1): the names of the mesh's resonance. */
  damping?: number;
  kappa?: number;
  c?: number;
  /** Softening (default 1e-3). */
  eps?: number;
}

export interface ResonanceSpectrum {
  /** The frequencies swept. */
  w: Float64Array;
  /** R_AB(w) = |sum a_i b_j G_w(r_ij)|. */
  R: Float64Array;
  /** The complex sums (re, im) per frequency. */
  re: Float64Array;
  im: Float64Array;
}

/**
 * The resonance spectrum of two weighted sets: R_AB(w) = |sum_ij a_i b_j G_w(r_ij)|
 * with G_w the damped helmholtz kernel, k(w) = sqrt(w^2 + i g w - kappa^2) / c,
 * Im k >= 0. At w = 0 it is the yukawa energy with screening kappa / c.
 */
export async function resonance(A: Float32Array, B: Float32Array, w: Float64Array | readonly number[], opts: ResonanceOptions): Promise<ResonanceSpectrum> {
  const op = 'points.resonance';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  if (isPlainObject(opts) && 'g' in opts) throw new SemfieldError('E_TYPE', `${op}: the damping is named 'damping' (as in the mesh's resonance), not 'g'`);
  const o = options<ResonanceOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'wa', 'wb', 'damping', 'kappa', 'c', 'eps']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const na = rowsOf(op, 'A', A, d), nb = rowsOf(op, 'B', B, d);
  // Elements are checked before any conversion (Float64Array.from would coerce anything).
  const raw: ArrayLike<unknown> = Array.isArray(w) ? w : typedOf(op, 'w', w, Float64Array);
  if (raw.length === 0) throw invalid('E_SHAPE', op, 'w', 'non-empty');
  for (let i = 0; i < raw.length; i++) finiteNumber(op, `w[${i}]`, raw[i]);
  const ws = Float64Array.from(raw as ArrayLike<number>);
  const args: Record<string, unknown> = { d, a: A, b: B, w: ws };
  const wa = weightsOf(op, 'wa', o.wa, na), wb = weightsOf(op, 'wb', o.wb, nb);
  if (wa) args.wa = wa;
  if (wb) args.wb = wb;
  if (o.damping !== undefined) args.g = finiteNumber(op, 'damping', o.damping, 0);
  if (o.kappa !== undefined) args.kappa = finiteNumber(op, 'kappa', o.kappa, 0);
  if (o.c !== undefined) args.c = finiteNumber(op, 'c', o.c, 0, Infinity, true);
  if (o.eps !== undefined) args.eps = finiteNumber(op, 'eps', o.eps, 0, Infinity, true);
  const z = await callAsync(op, (a, x) => a.resonance(x), args, checkRun(op, o));
  const re = new Float64Array(ws.length), im = new Float64Array(ws.length), R = new Float64Array(ws.length);
  for (let q = 0; q < ws.length; q++) {
    re[q] = z[2 * q];
    im[q] = z[2 * q + 1];
    R[q] = Math.hypot(re[q], im[q]);
  }
  return { w: ws, R, re, im };
}

/** Mean-shift kernels: the gaussian of width sigma, or the flat ball of a radius. */
export type CondenseKernel = { kind: 'gaussian'; sigma: number } | { kind: 'flat'; radius: number };

export interface CondensePointsOptions extends RunOptions {
  d: number;
  /** Weight of each point (default 1, >= 0). */
  weights?: Float32Array;
  /**
   * { kind: 'gaussian', sigma }: climbs phi(x) = -sum w_j exp(-|x - x_j|^2 / (2 sigma^2));
   * { kind: 'flat', radius }: the mean of the ball of that radius, as
   * sklearn.cluster.MeanShift(bandwidth=radius, bin_seeding=False).
   */
  kernel: CondenseKernel;
  /** A seed stops when it moves less than tol * sigma (or radius) (default 1e-3). */
  tol?: number;
  /** A converged seed within merge of a stronger centre joins it (default: sigma or radius). */
  merge?: number;
  maxIter?: number;
  /** Called after each step with (iteration, seeds still moving). */
  onProgress?: (iteration: number, moving: number) => void;
}

export interface CondensedPoints {
  /** Stable nodes [k, d], strongest first. */
  centers: Float64Array;
  k: number;
  /** Nearest centre of every point [N]. */
  labels: Int32Array;
  /** Weight of the points of each centre [k]. */
  mass: Float64Array;
  /** phi at each centre: -sum_j w_j G(|c - x_j|) [k]. */
  potential: Float64Array;
  /** Kernel sum at each centre's last step (the order of the centres) [k]. */
  intensity: Float64Array;
  iterations: number;
}

/**
 * Condensation in embedding space: the stable nodes of the field of the
 * points by mean shift from every point. Seeds are ordered by intensity
 * (then coordinates, descending); a seed within `merge` of a centre already
 * taken joins it; every point is labelled with its nearest centre.
 */
export async function condense(X: Float32Array, opts: CondensePointsOptions): Promise<CondensedPoints> {
  const op = 'points.condense';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d and kernel');
  if (isPlainObject(opts) && 'bandwidth' in opts)
    throw new SemfieldError('E_TYPE', `${op}: the bandwidth is given inside kernel: { kind: 'gaussian', sigma } or { kind: 'flat', radius }`);
  const o = options<CondensePointsOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'weights', 'kernel', 'tol', 'merge', 'maxIter', 'onProgress']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const n = rowsOf(op, 'X', X, d);
  const k = o.kernel;
  if (!isPlainObject(k)) throw invalid('E_TYPE', op, 'kernel', "{ kind: 'gaussian', sigma } or { kind: 'flat', radius }", k);
  const kind = oneOf(op, 'kernel.kind', k.kind, ['gaussian', 'flat'] as const);
  const width = kind === 'gaussian' ? 'sigma' : 'radius';
  for (const key of Object.keys(k))
    if (key !== 'kind' && key !== width) throw new SemfieldError('E_RANGE', `${op}: kernel '${kind}' takes no option '${key}' (it takes: kind, ${width})`);
  const args: Record<string, unknown> = { d, x: X, kernel: kind, bandwidth: finiteNumber(op, `kernel.${width}`, (k as Record<string, unknown>)[width], 0, Infinity, true) };
  const w = weightsOf(op, 'weights', o.weights, n, true);
  if (w) args.weights = w;
  if (o.tol !== undefined) args.tol = finiteNumber(op, 'tol', o.tol, 0, 1, true);
  if (o.merge !== undefined) args.merge = finiteNumber(op, 'merge', o.merge, 0);
  if (o.maxIter !== undefined) args.maxIter = integer(op, 'maxIter', o.maxIter, 1, 100000);
  const cb = progressOf(op, o.onProgress);
  const r = await callAsync(op, (a, x) => a.meanShift(x), args, checkRun(op, o), cb && ((_f, it, moving) => cb(it, moving)));
  return { ...r, k: r.intensity.length };
}

export interface InduceOptions extends RunOptions {
  d: number;
  /** Indices of the labelled points (distinct). */
  labeled: Int32Array;
  /** Their values [labeled, channels]: one channel for a scalar, one per class for one-hot labels. */
  values: Float32Array;
  /** Edge weights W_ij = G(r_ij): a kernel of positive weights (any real kernel but energy). */
  kernel: RealKernel;
  /** Keep only edges between k nearest neighbours (symmetrised); default: all pairs, matrix-free. */
  knn?: number;
  /**
   * Relative residual of every channel (default 1e-8), and the iteration cap
   * (default 1000). A solve whose residual stops falling (by 10% in 30 steps)
   * ends early with the best iterate: fp32 pair sums allow about 1e-9.
   */
  tol?: number;
  maxIter?: number;
  /** Resolve with converged: false instead of rejecting with E_NOT_CONVERGED. */
  allowNotConverged?: boolean;
  /** Called after each CG step with (iteration, worst relative residual). */
  onProgress?: (iteration: number, residual: number) => void;
}

export interface Induced {
  /** The harmonic function at every point [N, channels] (the given values on the labelled points). */
  values: Float32Array;
  channels: number;
  /** argmax over channels per point (the induced class of one-hot values). */
  labels: Int32Array;
  iterations: number;
  residual: number;
  converged: boolean;
}

/**
 * Induction: the harmonic function on the kernel graph that takes the given
 * values on the labelled points, (D - W)_UU f_U = W_UL f_L, by matrix-free
 * Jacobi-preconditioned conjugate gradients (label propagation's fixed point).
 */
export async function induce(X: Float32Array, opts: InduceOptions): Promise<Induced> {
  const op = 'points.induce';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d, labeled and values');
  const o = options<InduceOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'labeled', 'values', 'kernel', 'knn', 'tol', 'maxIter', 'allowNotConverged', 'onProgress']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const n = rowsOf(op, 'X', X, d);
  const labeled = typedOf(op, 'labeled', o.labeled, Int32Array);
  if (labeled.length === 0) throw invalid('E_SHAPE', op, 'labeled', 'at least one point index');
  const values = float32(op, 'values', o.values);
  if (values.length === 0 || values.length % labeled.length !== 0) throw invalid('E_SHAPE', op, 'values', `[${labeled.length}, channels]`, values);
  const channels = values.length / labeled.length;
  if (o.kernel === undefined) throw invalid('E_TYPE', op, 'kernel', "given, e.g. { kind: 'gaussian', sigma: 1 }");
  const kernel = nativeKernel(op, o.kernel, 'positive');
  const args: Record<string, unknown> = { d, x: X, labeled, values, kernel };
  if (o.knn !== undefined) args.knn = integer(op, 'knn', o.knn, 1, Math.max(1, n - 1));
  if (o.tol !== undefined) args.tol = finiteNumber(op, 'tol', o.tol, 0, 1, true);
  if (o.maxIter !== undefined) args.maxIter = integer(op, 'maxIter', o.maxIter, 1, 1000000);
  const allow = o.allowNotConverged === undefined ? false : boolean(op, 'allowNotConverged', o.allowNotConverged);
  const cb = progressOf(op, o.onProgress);
  const r = await callAsync(op, (a, x) => a.induce(x), args, checkRun(op, o), cb && ((_f, it, res) => cb(it, res)));
  if (!r.converged && !allow) {
    const stalled = r.iterations < (o.maxIter ?? 1000)
      ? ' (the residual stopped falling: the fp32 pair sums allow about 1e-9 on a large graph; raise tol)'
      : ' (raise maxIter or tol)';
    throw new SemfieldError('E_NOT_CONVERGED', `${op}: relative residual ${r.residual.toExponential(3)} > tol after ${r.iterations} iterations${stalled}`, r);
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < channels; c++) if (r.values[i * channels + c] > r.values[i * channels + best]) best = c;
    labels[i] = best;
  }
  return { ...r, channels, labels };
}

// ---------------------------------------------------------------------------
// Gradients. Every one is assembled from gradient sums of the pair engine,
// g_i = sum_j w_j h(r_ij) (x_i - y_j) with h = G'(r) / r (the kernel's own
// derivative, cuda/pairs_k.h): tiled, O(N + M) memory. Where G has a cusp at
// r = 0 (energy, laplacian) the subgradient there is 0, never NaN.

async function gradSums(op: string, d: number, targets: Float32Array, sources: Float32Array, weights: Float32Array | undefined, kernel: Record<string, string | number>, run: RunOptions): Promise<Float64Array> {
  const args: Record<string, unknown> = { d, sources, targets, kernel };
  if (weights) args.weights = weights;
  return callAsync(op, (a, x) => a.kernelGrad(x), args, run);
}

export interface EnergyGrad {
  /** E = sum_ij a_i b_j G(|x_i - y_j|). */
  value: number;
  /** dE/dA [na, d] and dE/dB [nb, d]. */
  dA: Float64Array;
  dB: Float64Array;
  /** dE/da [na] and dE/db [nb]: the potentials each point sits in. */
  dwa: Float64Array;
  dwb: Float64Array;
}

/** The interaction energy of two weighted sets and its gradient with respect to both sets and both weights (real kernels). */
export async function energyGrad(A: Float32Array, B: Float32Array, opts: EnergyOptions): Promise<EnergyGrad> {
  const op = 'points.energyGrad';
  const { d, na, nb, kernel, wa, wb, o } = energyArgs(op, A, B, opts);
  const run = checkRun(op, o);
  const sum = (targets: Float32Array, sources: Float32Array, weights?: Float32Array) =>
    callAsync(op, (a, x) => a.kernelSum(x), { d, sources, targets, kernel, ...(weights ? { weights } : {}) }, run);
  const [gA, gB, dwa, dwb] = await Promise.all([gradSums(op, d, A, B, wb, kernel, run), gradSums(op, d, B, A, wa, kernel, run), sum(A, B, wb), sum(B, A, wa)]);
  for (let i = 0; i < na; i++) for (let k = 0; k < d; k++) gA[i * d + k] *= wa ? wa[i] : 1;
  for (let j = 0; j < nb; j++) for (let k = 0; k < d; k++) gB[j * d + k] *= wb ? wb[j] : 1;
  let value = 0;
  for (let i = 0; i < na; i++) value += (wa ? wa[i] : 1) * dwa[i];
  return { value, dA: gA, dB: gB, dwa, dwb };
}

export interface SetGrad {
  /** The gradient of the discrepancy with respect to X [nx, d] and Y [ny, d] (two views of one buffer). */
  dX: Float64Array;
  dY: Float64Array;
}

function normalised(op: string, name: string, w: Float32Array | undefined, n: number): Float32Array {
  let total = 0;
  if (w) for (let i = 0; i < n; i++) {
    if (w[i] < 0) throw invalid('E_RANGE', op, `${name}[${i}]`, '>= 0', w[i]);
    total += w[i];
  }
  else total = n;
  if (!(total > 0)) throw invalid('E_RANGE', op, name, 'of positive total weight');
  return Float32Array.from({ length: n }, (_, i) => (w ? w[i] : 1) / total);
}

// D = T(X,X) + T(Y,Y) - 2 T(X,Y) with T the mean of G under the normalised
// weights a, b is sum_kl s_k s_l G(|z_k - z_l|) over Z = [X; Y] with s = [a; -b]:
// dD/dz_k = 2 s_k g_k, g_k = sum_l s_l h(r_kl) (z_k - z_l), one gradient sum
// of Z against itself (self: each pair taken once for both its points).
async function discrepancyGrad(op: string, X: Float32Array, Y: Float32Array, o: Partial<SetOptions>, kernel: Record<string, string | number>): Promise<SetGrad> {
  const d = integer(op, 'd', o.d, 1, 65536);
  const nx = rowsOf(op, 'X', X, d), ny = rowsOf(op, 'Y', Y, d);
  const a = normalised(op, 'wx', weightsOf(op, 'wx', o.wx, nx), nx), b = normalised(op, 'wy', weightsOf(op, 'wy', o.wy, ny), ny);
  const Z = new Float32Array((nx + ny) * d);
  Z.set(X);
  Z.set(Y, nx * d);
  const sw = new Float32Array(nx + ny);
  sw.set(a);
  for (let j = 0; j < ny; j++) sw[nx + j] = -b[j];
  const run = checkRun(op, o as RunOptions & Record<string, unknown>);
  // (self: the gradient of sum_kl s_k s_l G(r_kl) itself, 2 s_k g_k; dX and dY are views of one buffer.)
  const g: Float64Array = await callAsync(op, (x, args) => x.kernelGrad(args), { d, sources: Z, weights: sw, kernel, self: true }, run);
  return { dX: g.subarray(0, nx * d), dY: g.subarray(nx * d) };
}

/** The gradient of the energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| with respect to both sets (weights normalised per set). */
export async function energyDistanceGrad(X: Float32Array, Y: Float32Array, opts: SetOptions): Promise<SetGrad> {
  const op = 'points.energyDistanceGrad';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<SetOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'wx', 'wy']);
  return discrepancyGrad(op, X, Y, o, { kind: 'energy' });
}

/** The gradient of the squared MMD E k(X,X') + E k(Y,Y') - 2E k(X,Y) with respect to both sets (positive definite kernels). */
export async function mmdGrad(X: Float32Array, Y: Float32Array, opts: SetOptions & { kernel: RealKernel }): Promise<SetGrad> {
  const op = 'points.mmdGrad';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d and kernel');
  const o = options<SetOptions & { kernel: RealKernel }>(op, opts, [...RUN_OPTION_KEYS, 'd', 'wx', 'wy', 'kernel']);
  return discrepancyGrad(op, X, Y, o, nativeKernel(op, o.kernel, 'definite'));
}

export interface FlowOptions extends RunOptions {
  d: number;
  /** 'mmd' (the MMD gradient flow of Arbel et al., 2019; needs kernel) or 'energy' (the energy distance; default). */
  metric?: 'energy' | 'mmd';
  /** The kernel of 'mmd' (positive definite). */
  kernel?: RealKernel;
  /**
   * Step size tau of x_i <- x_i - tau dD/dx_i (default nx / 2 times 0.5 for
   * mmd, 0.05 for energy: with equal weights, a step of 0.5 or 0.05 along the
   * witness function's gradient) and number of steps (default 100).
   */
  step?: number;
  steps?: number;
  /**
   * Noise injection (Arbel et al.): the gradient is taken at x + noise * u,
   * u standard normal, the noise level halving every `noiseHalfLife` steps
   * (default 0: none; half life default steps / 4).
   */
  noise?: number;
  noiseHalfLife?: number;
  /** Seed of the noise (default 1). */
  seed?: number;
  /** Keep the particles every `every` steps (default: steps / 10, at least 1), and at the end. */
  every?: number;
  /** Weights of the particles and of the target set (default 1 each; normalised). */
  wx?: Float32Array;
  wy?: Float32Array;
  /** Called after each step with (step, discrepancy). */
  onProgress?: (step: number, discrepancy: number) => void;
}

export interface Flow {
  /** The particles after the last step [nx, d]. */
  X: Float32Array;
  /** Snapshots [nx, d] and the steps they were taken at (0 first, the last step last). */
  snapshots: Float32Array[];
  at: number[];
  /** The discrepancy (energy distance or squared MMD) to Y before each step and after the last [steps + 1]. */
  discrepancy: Float64Array;
}

/**
 * Particles X flow down the gradient of the discrepancy D to the target set Y
 * (SPEC: x_i <- x_i - tau dD/dx_i, D the squared MMD or the energy distance):
 * dD/dx_i = 2 a_i grad w(x_i), w(x) = sum_j a_j G(|x - x_j|) - sum_j b_j G(|x - y_j|)
 * the witness function (the MMD gradient flow of Arbel et al., 2019, with
 * G = -r for the energy distance). An AbortSignal stops it between steps.
 */
export async function flow(X: Float32Array, Y: Float32Array, opts: FlowOptions): Promise<Flow> {
  const op = 'points.flow';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<FlowOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'metric', 'kernel', 'step', 'steps', 'noise', 'noiseHalfLife', 'seed', 'every', 'wx', 'wy', 'onProgress']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const nx = rowsOf(op, 'X', X, d), ny = rowsOf(op, 'Y', Y, d);
  const metric = o.metric === undefined ? 'energy' : oneOf(op, 'metric', o.metric, ['energy', 'mmd'] as const);
  let kernel: Record<string, string | number> = { kind: 'energy' };
  if (metric === 'mmd') {
    if (o.kernel === undefined) throw invalid('E_TYPE', op, 'kernel', "given for metric 'mmd'");
    kernel = nativeKernel(op, o.kernel, 'definite');
  } else if (o.kernel !== undefined) throw invalid('E_RANGE', op, 'kernel', "absent for metric 'energy'", o.kernel);
  const steps = o.steps === undefined ? 100 : integer(op, 'steps', o.steps, 0, 1e7);
  const step = o.step === undefined ? (nx / 2) * (metric === 'mmd' ? 0.5 : 0.05) : finiteNumber(op, 'step', o.step, 0, Infinity, true);
  const noise = o.noise === undefined ? 0 : finiteNumber(op, 'noise', o.noise, 0);
  const half = o.noiseHalfLife === undefined ? Math.max(1, steps / 4) : finiteNumber(op, 'noiseHalfLife', o.noiseHalfLife, 0, Infinity, true);
  const every = o.every === undefined ? Math.max(1, Math.round(steps / 10)) : integer(op, 'every', o.every, 1, 1e7);
  let seed = (o.seed === undefined ? 1 : integer(op, 'seed', o.seed, 0, 2 ** 32 - 1)) >>> 0;
  const cb = progressOf<(s: number, v: number) => void>(op, o.onProgress);
  const a = normalised(op, 'wx', weightsOf(op, 'wx', o.wx, nx), nx), b = normalised(op, 'wy', weightsOf(op, 'wy', o.wy, ny), ny);
  const run = checkRun(op, o);
  const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const x = Float32Array.from(X);
  const Z = new Float32Array((nx + ny) * d);
  Z.set(Y, nx * d);
  const w = new Float32Array(nx + ny);
  for (let i = 0; i < nx; i++) w[i] = a[i];
  for (let j = 0; j < ny; j++) w[nx + j] = -b[j];
  const measure = async (): Promise<number> => {
    const args: Record<string, unknown> = { d, metric: metric === 'mmd' ? 1 : 0, kernel, x: Y, offsets: Int32Array.from([0, ny]), qx: x, qoffsets: Int32Array.from([0, nx]), weights: b, qweights: a };
    return (await callAsync(op, (n, v) => n.setMatrix(v), args, run))[0];
  };
  const discrepancy = new Float64Array(steps + 1);
  const snapshots: Float32Array[] = [Float32Array.from(x)], at = [0];
  for (let s = 0; s < steps; s++) {
    discrepancy[s] = await measure();
    if (cb) cb(s, discrepancy[s]);
    Z.set(x);
    let probe = x;
    const level = noise * 0.5 ** (s / half);
    if (level > 0) probe = x.map((v) => v + level * gauss());
    const g = await gradSums(op, d, probe, Z, w, kernel, run);
    for (let i = 0; i < nx; i++) for (let k = 0; k < d; k++) x[i * d + k] -= step * 2 * a[i] * g[i * d + k];
    for (let i = 0; i < nx * d; i++) if (!Number.isFinite(x[i])) throw new SemfieldError('E_NONFINITE', `${op}: the particles left the float range at step ${s + 1} (lower step)`);
    if ((s + 1) % every === 0 || s + 1 === steps) {
      snapshots.push(Float32Array.from(x));
      at.push(s + 1);
    }
  }
  discrepancy[steps] = await measure();
  if (cb) cb(steps, discrepancy[steps]);
  return { X: x, snapshots, at, discrepancy };
}
