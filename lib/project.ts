/**
 * From embeddings to positions: PCA of [N, d] embeddings (top-k axes by
 * deterministic randomized subspace iteration, fp64), optionally fitted into
 * a grid's domain. The returned transform maps new embeddings into the same
 * space, so a query lands where the vocabulary's field can be read.
 */
import { GridSpec, checkGrid } from './grid';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, options } from './validate';

export interface ProjectOptions extends RunOptions {
  /** Dimension of each embedding (required). */
  d: number;
  /** Components kept (default: the grid's dimension, else 2). */
  k?: number;
  /** Fit the coordinates into this grid's domain (isotropic scale, centred). */
  grid?: GridSpec;
  /** Fraction of the domain left empty on each side (default 0.1). */
  margin?: number;
  /** Seed of the random start (default 0). Same seed, same result. */
  seed?: number;
  /** Subspace iterations at most (default 200) and the Ritz-value tolerance (default 1e-13). */
  maxIter?: number;
  tol?: number;
}

export interface ProjectionTransform {
  d: number;
  k: number;
  /** Mean embedding [d]. */
  mean: Float64Array;
  /** Principal axes [k, d], unit rows, each with its largest entry positive. */
  components: Float64Array;
  /** Variance along each axis [k] and its share of the total. */
  variance: Float64Array;
  explainedRatio: number[];
  /** position = scale * ((x - mean) . components) + offset. */
  scale: number;
  offset: number[];
  /** Maps new embeddings [M, d] to positions [M, k]. */
  apply(x: Float32Array, opts?: RunOptions): Promise<Float32Array>;
}

export interface Projection {
  /** Positions [N, k]. */
  positions: Float32Array;
  transform: ProjectionTransform;
  iterations: number;
}

export async function project(embeddings: Float32Array, opts: ProjectOptions): Promise<Projection> {
  const op = 'project';
  const o = options<ProjectOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'k', 'grid', 'margin', 'seed', 'maxIter', 'tol']);
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const d = integer(op, 'd', o.d, 1, 65536);
  float32(op, 'embeddings', embeddings);
  if (embeddings.length === 0 || embeddings.length % d !== 0)
    throw invalid('E_SHAPE', op, 'embeddings', `a non-empty [N, ${d}] array (a multiple of ${d} long)`, embeddings);
  const n = embeddings.length / d;
  if (n < 2) throw invalid('E_SHAPE', op, 'embeddings', 'at least 2 rows', n);
  const grid = o.grid === undefined ? undefined : checkGrid(op, o.grid);
  const k = o.k === undefined ? grid?.dim ?? 2 : integer(op, 'k', o.k, 1, Math.min(64, d));
  if (k > d) throw invalid('E_RANGE', op, 'k', `<= d (${d})`, k);
  if (grid && k !== grid.dim) throw invalid('E_RANGE', op, 'k', `equal to the grid's dimension ${grid.dim}`, k);
  const margin = o.margin === undefined ? 0.1 : finiteNumber(op, 'margin', o.margin, 0, 0.5, false);
  if (margin === 0.5) throw invalid('E_RANGE', op, 'margin', 'below 0.5', margin);
  const args: Record<string, unknown> = { x: embeddings, n, d, k };
  if (o.seed !== undefined) args.seed = integer(op, 'seed', o.seed, 0, Number.MAX_SAFE_INTEGER);
  if (o.maxIter !== undefined) args.maxIter = integer(op, 'maxIter', o.maxIter, 1, 100000);
  if (o.tol !== undefined) args.tol = finiteNumber(op, 'tol', o.tol, 0, 1, true);
  const run = checkRun(op, o);
  const r = await callAsync(op, (a, x) => a.pca(x), args, run);

  // Fit into the domain: one scale for every axis keeps the geometry.
  let scale = 1;
  const offset = new Array<number>(k).fill(0);
  if (grid) {
    const lo = new Array<number>(k).fill(Infinity), hi = new Array<number>(k).fill(-Infinity);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < k; a++) {
        const v = r.coords[i * k + a];
        if (v < lo[a]) lo[a] = v;
        if (v > hi[a]) hi[a] = v;
      }
    const usable = grid.n.map((m) => m * grid.h * (1 - 2 * margin));
    const ratios = usable.map((u, a) => (hi[a] > lo[a] ? u / (hi[a] - lo[a]) : Infinity));
    scale = Math.min(...ratios);
    if (!Number.isFinite(scale)) scale = 1;
    for (let a = 0; a < k; a++) offset[a] = (grid.n[a] * grid.h) / 2 - (scale * (lo[a] + hi[a])) / 2;
  }
  const positions = r.coords;
  for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) positions[i * k + a] = scale * positions[i * k + a] + offset[a];

  const transform: ProjectionTransform = {
    d,
    k,
    mean: r.mean,
    components: r.components,
    variance: r.variance,
    explainedRatio: Array.from(r.variance, (v) => (r.totalVariance > 0 ? v / r.totalVariance : 0)),
    scale,
    offset,
    async apply(x: Float32Array, runOpts?: RunOptions): Promise<Float32Array> {
      const op2 = 'project.apply';
      const o2 = options<RunOptions>(op2, runOpts, RUN_OPTION_KEYS);
      float32(op2, 'embeddings', x);
      if (x.length === 0 || x.length % d !== 0) throw invalid('E_SHAPE', op2, 'embeddings', `a non-empty [M, ${d}] array`, x);
      const m = x.length / d;
      const out = await callAsync(op2, (a, y) => a.pcaTransform(y), { x, n: m, d, k, mean: r.mean, components: r.components }, checkRun(op2, o2));
      for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) out[i * k + a] = scale * out[i * k + a] + offset[a];
      return out;
    },
  };
  return { positions, transform, iterations: r.iterations };
}
