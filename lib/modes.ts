/**
 * Standing waves of meaning: the lowest k eigenpairs of
 *   H = -c^2 lap + V(x)
 * on the mesh (the potential solver's stencil and boundaries), by LOBPCG
 * preconditioned with a multigrid cycle. V is given per cell, or built from a
 * charge density as V = kappa^2 - strength * rho: wells at concept clusters
 * hold localized modes, the stable nodes of the field.
 */
import { GridSpec, batchOf, nativeGrid, checkGrid } from './grid';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, options } from './validate';
import { SemfieldError } from './errors';

export interface ModesOptions extends RunOptions {
  /** Number of eigenpairs (default 1; at most cells / 4). */
  k?: number;
  /** Wave speed c (default 1). */
  c?: number;
  /** The potential V per cell: [cells] or [B, cells] (default 0). */
  V?: Float32Array;
  /** Or V = kappa^2 - strength * rho from a charge density [cells] or [B, cells]. */
  rho?: Float32Array;
  strength?: number;
  kappa?: number;
  /** Stop when every |H x - lambda x| / (|x| max(|lambda|, c^2 / L^2)) <= tol (default 1e-8). */
  tol?: number;
  maxIter?: number;
  /** Reject with E_NOT_CONVERGED unless set (default false). */
  allowNotConverged?: boolean;
  onProgress?: (field: number, iteration: number, residual: number) => void;
}

export interface ModesResult {
  /** [B, k] ascending. */
  values: Float64Array;
  /** [B, k, cells], each normalized to sum psi^2 h^dim = 1, largest component positive. */
  vectors: Float32Array;
  fields: { iterations: number; residual: number; converged: boolean }[];
  k: number;
  batch: number;
  backend: 'cpu' | 'cuda';
}

const KEYS = [...RUN_OPTION_KEYS, 'k', 'c', 'V', 'rho', 'strength', 'kappa', 'tol', 'maxIter', 'allowNotConverged', 'onProgress'];

export async function modes(gridSpec: GridSpec, opts: ModesOptions = {}): Promise<ModesResult> {
  const op = 'modes';
  const o = options<ModesOptions>(op, opts, KEYS);
  const grid = checkGrid(op, gridSpec);
  const N = grid.cells;
  const k = o.k === undefined ? 1 : integer(op, 'k', o.k, 1, 256);
  if (k * 4 > N) throw invalid('E_RANGE', op, 'k', `at most cells / 4 = ${Math.floor(N / 4)} for this grid`, k);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), k };
  let batch = 1;
  if (o.V !== undefined && o.rho !== undefined) throw invalid('E_TYPE', op, 'V and rho', 'not given together');
  if (o.V !== undefined) {
    const V = float32(op, 'V', o.V);
    batch = batchOf(op, 'V', V.length, grid);
    args.V = V;
  } else if (o.rho !== undefined) {
    const rho = float32(op, 'rho', o.rho);
    batch = batchOf(op, 'rho', rho.length, grid);
    const s = o.strength === undefined ? 1 : finiteNumber(op, 'strength', o.strength);
    const kap = o.kappa === undefined ? 0 : finiteNumber(op, 'kappa', o.kappa, 0);
    const V = new Float32Array(rho.length);
    for (let i = 0; i < rho.length; i++) {
      if (!Number.isFinite(rho[i])) throw invalid('E_NONFINITE', op, `rho[${i}]`, 'finite', rho[i]);
      V[i] = kap * kap - s * rho[i];
    }
    args.V = V;
  } else if (o.strength !== undefined || o.kappa !== undefined) {
    throw invalid('E_TYPE', op, 'strength and kappa', 'given with rho');
  }
  args.batch = batch;
  if (o.c !== undefined) args.c = finiteNumber(op, 'c', o.c, 0, Infinity, true);
  if (o.tol !== undefined) args.tol = finiteNumber(op, 'tol', o.tol, 0, 1, true);
  if (o.maxIter !== undefined) args.maxIter = integer(op, 'maxIter', o.maxIter, 1, 1e6);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
  const cb = o.onProgress;
  const r = await callAsync(op, (a, x) => a.modes(x), args, checkRun(op, o), cb ? (f, i, res) => cb(f, i, res) : undefined);
  const bad = r.fields.findIndex((f) => !f.converged);
  if (bad >= 0 && !o.allowNotConverged)
    throw new SemfieldError('E_NOT_CONVERGED', `${op}: field ${bad} did not converge: residual ${r.fields[bad].residual.toExponential(3)} > tol after ${r.fields[bad].iterations} iterations (raise maxIter or tol, or pass allowNotConverged)`);
  return { ...r, k, batch };
}
