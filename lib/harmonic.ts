/**
 * Resonance on the mesh: the steady response U of the damped wave equation
 * to a drive rho_A e^{-i w t},
 *   (-c^2 lap + kappa^2 - w^2 - i g w) U = rho_A,
 * and R_AB(w) = |sum rho_B U h^dim| over a sweep of w. Each frequency is
 * solved by BiCGSTAB (complex, fp64) preconditioned by a multigrid cycle of
 * the positive definite -c^2 lap + kappa^2 + w^2. With damping g > 0 the
 * operator is never singular; with g = 0 a frequency at an eigenvalue is.
 */
import { SemfieldError } from './errors';
import { GridSpec, nativeGrid, checkGrid } from './grid';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, options } from './validate';

export interface MeshResonanceOptions extends RunOptions {
  /** Frequencies w >= 0. */
  w: Float64Array | readonly number[];
  /** The receiving density (default rho_A). */
  rhoB?: Float32Array;
  /** Damping g (default 0), screening kappa (default 0), wave speed c (default 1). */
  damping?: number;
  kappa?: number;
  c?: number;
  /** Relative residual per frequency (default 1e-8) and iterations at most (default 2000). */
  tol?: number;
  maxIter?: number;
  allowNotConverged?: boolean;
  onProgress?: (index: number, iteration: number, residual: number) => void;
}

export interface MeshResonanceSpectrum {
  w: Float64Array;
  /** R_AB(w) = |sum rho_B U h^dim| and its real and imaginary parts. */
  R: Float64Array;
  re: Float64Array;
  im: Float64Array;
  /** BiCGSTAB iterations and multigrid cycles spent per frequency. */
  iterations: Int32Array;
  cycles: Float64Array;
  converged: Uint8Array;
  backend: 'cpu' | 'cuda';
}

export async function resonance(rhoA: Float32Array, gridSpec: GridSpec, opts: MeshResonanceOptions): Promise<MeshResonanceSpectrum> {
  const op = 'resonance';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with w');
  const o = options<MeshResonanceOptions>(op, opts, [...RUN_OPTION_KEYS, 'w', 'rhoB', 'damping', 'kappa', 'c', 'tol', 'maxIter', 'allowNotConverged', 'onProgress']);
  const grid = checkGrid(op, gridSpec);
  const a = float32(op, 'rhoA', rhoA, grid.cells);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), rhoA: a };
  if (o.rhoB !== undefined) args.rhoB = float32(op, 'rhoB', o.rhoB, grid.cells);
  const wv = o.w;
  if (!(Array.isArray(wv) || (ArrayBuffer.isView(wv) && (wv as Float64Array).length !== undefined)) || (wv as ArrayLike<number>).length === 0)
    throw invalid('E_TYPE', op, 'w', 'a non-empty array of frequencies', wv);
  args.w = Float64Array.from(wv as ArrayLike<number>, (v, i) => finiteNumber(op, `w[${i}]`, v, 0));
  if (o.damping !== undefined) args.damping = finiteNumber(op, 'damping', o.damping, 0);
  if (o.kappa !== undefined) args.kappa = finiteNumber(op, 'kappa', o.kappa, 0);
  if (o.c !== undefined) args.c = finiteNumber(op, 'c', o.c, 0, Infinity, true);
  if (o.tol !== undefined) args.tol = finiteNumber(op, 'tol', o.tol, 0, 1, true);
  if (o.maxIter !== undefined) args.maxIter = integer(op, 'maxIter', o.maxIter, 1, 1e6);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
  const cb = o.onProgress;
  const r = await callAsync(op, (ad, x) => ad.meshResonance(x), args, checkRun(op, o), cb ? (i, it, res) => cb(i, it, res) : undefined);
  const W = (args.w as Float64Array).length, t = r.table;
  const pick = (k: number) => Float64Array.from({ length: W }, (_, i) => t[4 * i + k]);
  const out: MeshResonanceSpectrum = { w: args.w as Float64Array, re: pick(0), im: pick(1), R: pick(2), cycles: pick(3), iterations: r.iterations, converged: r.converged, backend: r.backend };
  const bad = out.converged.findIndex((v) => !v);
  if (bad >= 0 && !o.allowNotConverged)
    throw new SemfieldError('E_NOT_CONVERGED', `${op}: w = ${out.w[bad]} did not converge in ${out.iterations[bad]} iterations (the operator is singular or nearly so at an eigenvalue without damping; raise damping or maxIter, or pass allowNotConverged)`);
  return out;
}
