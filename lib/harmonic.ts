/**
 * Resonance on the mesh: the steady response U of the damped wave equation
 * to a drive rho_A e^{-i w t},
 *   (-c^2 lap + kappa^2 - w^2 - i g w) U = rho_A,
 * and R_AB(w) = |sum rho_B U h^dim| over a sweep of w. The whole sweep shares
 * one Krylov space: shift-and-invert Lanczos on (H + sigma)^-1, H = -c^2 lap
 * + kappa^2, each step one multigrid solve of the positive definite H + sigma,
 * whatever the number of frequencies; every frequency then costs a small
 * tridiagonal solve. Each frequency's residual |rho_A - (H - z) U| is bounded
 * from the recurrence and the inner solves' residuals (native/algo/helmholtz.h),
 * and a frequency is converged when that bound is within tol |rho_A|. With
 * damping g > 0 the operator is never singular; with g = 0 a frequency at an
 * eigenvalue is.
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
  /** Relative residual per frequency (default 1e-8) and Lanczos steps at most, for the whole sweep (default 2000). */
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
  /** Lanczos steps after which each frequency converged (the steps are shared by the sweep). */
  iterations: Int32Array;
  /** The sweep's multigrid cycles divided by its number of frequencies (the same for each). */
  cycles: Float64Array;
  /** Bound on each frequency's relative residual |rho_A - (H - z) U| / |rho_A|. */
  residual: Float64Array;
  /** 1 where residual <= tol; 0 only under allowNotConverged (otherwise E_NOT_CONVERGED). */
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
  const out: MeshResonanceSpectrum = { w: args.w as Float64Array, re: pick(0), im: pick(1), R: pick(2), cycles: pick(3), iterations: r.iterations, residual: r.residual, converged: r.converged, backend: r.backend };
  const bad = out.converged.findIndex((v) => !v);
  if (bad >= 0 && !o.allowNotConverged) {
    const count = out.converged.reduce((n, v) => n + (v ? 0 : 1), 0);
    const damping = (args.damping as number | undefined) ?? 0;
    const why = damping * out.w[bad] > 0
      ? `raise maxIter (${(args.maxIter as number | undefined) ?? 2000} Lanczos steps for the sweep) or tol, or pass allowNotConverged`
      : 'without damping at this w (g w = 0) the operator is singular at its eigenvalues and nearly so beside them; give damping > 0, raise maxIter or tol, or pass allowNotConverged';
    throw new SemfieldError(
      'E_NOT_CONVERGED',
      `${op}: ${count} of ${out.w.length} frequencies did not converge, the first w = ${out.w[bad]}: relative residual ${out.residual[bad].toExponential(3)} > tol ${(args.tol as number | undefined) ?? 1e-8} after ${out.iterations[bad]} Lanczos steps (${why})`,
      { w: out.w[bad], residual: out.residual[bad], iterations: out.iterations[bad] },
    );
  }
  return out;
}
