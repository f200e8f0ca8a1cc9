/**
 * Fractal tokens: a token is not a point but a self-similar structure over
 * its sub-meanings. Prototypes P [m, d] (the sub-meanings) and a contraction
 * s in (0, 1) give the maps w_i(x) = s x + (1 - s) p_i. A context c weighs
 * them by pi_i = softmax(beta c . p_i); unfolding to a depth gives the m^depth
 * points w_{a1}(...w_{ak}(x0)) with weights pi_{a1} ... pi_{ak}. Starting from
 * x0 = sum_i pi_i p_i (the invariant measure's mean), the weighted mean of the
 * points is exactly that mean at every depth.
 */
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, options } from './validate';

export interface TokenOptions extends RunOptions {
  /** Dimension of the prototypes and contexts. */
  d: number;
  /** Depth of the unfolding (default 3). */
  depth?: number;
  /** Contraction s in (0, 1) (default 0.5). */
  s?: number;
  /** Inverse temperature of the context's softmax (default 1). */
  beta?: number;
}

export interface UnfoldedToken {
  /** Points [C, m^depth, d]: context c's points, in address order. */
  points: Float32Array;
  /** Weights [C, m^depth]: each context's sum to 1. */
  weights: Float64Array;
  /** Each context's probabilities over the sub-meanings, [C, m]. */
  pi: Float64Array;
  /** Closed-form means sum_i pi_i p_i, [C, d] (fp64). */
  mean: Float64Array;
  contexts: number;
  count: number;
}

/** Unfolds a fractal token under each of C contexts [C, d]. */
export async function unfoldToken(prototypes: Float32Array, contexts: Float32Array, opts: TokenOptions): Promise<UnfoldedToken> {
  const op = 'fractal.unfoldToken';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with d');
  const o = options<TokenOptions>(op, opts, [...RUN_OPTION_KEYS, 'd', 'depth', 's', 'beta']);
  const d = integer(op, 'd', o.d, 1, 65536);
  const P = float32(op, 'prototypes', prototypes);
  if (P.length === 0 || P.length % d !== 0) throw invalid('E_SHAPE', op, 'prototypes', `[m, ${d}] with m >= 1`, P);
  const m = P.length / d;
  if (m > 4096) throw invalid('E_RANGE', op, 'prototypes', 'at most 4096 rows', P);
  const C = float32(op, 'contexts', contexts);
  if (C.length === 0 || C.length % d !== 0) throw invalid('E_SHAPE', op, 'contexts', `[C, ${d}] with C >= 1`, C);
  const depth = o.depth === undefined ? 3 : integer(op, 'depth', o.depth, 0, 64);
  const s = o.s === undefined ? 0.5 : finiteNumber(op, 's', o.s, 0, 1, true);
  const beta = o.beta === undefined ? 1 : finiteNumber(op, 'beta', o.beta);
  const nc = C.length / d, count = m ** depth;
  if (count * d * nc > 2 ** 30) throw invalid('E_TOO_LARGE', op, 'depth', `such that C * m^depth * d <= 2^30 (m = ${m}, d = ${d}, C = ${nc})`, depth);
  const r = await callAsync(op, (a, x) => a.tokenUnfold(x), { prototypes: P, contexts: C, m, d, depth, s, beta }, checkRun(op, o));
  const mean = new Float64Array(nc * d);
  for (let c = 0; c < nc; c++)
    for (let i = 0; i < m; i++) {
      const w = r.pi[c * m + i];
      for (let k = 0; k < d; k++) mean[c * d + k] += w * P[i * d + k];
    }
  return { points: r.points, weights: r.weights, pi: r.pi, mean, contexts: nc, count };
}
