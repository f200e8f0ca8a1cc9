/**
 * The semantic field on a mesh: concepts deposited as charge, the potential
 * they create, its field, its operators, and the basins it condenses into.
 * Every function validates its arguments here, then runs off the main thread.
 */
import { SemfieldError } from './errors';
import { Grid, GridSpec, batchOf, centreOf, nativeGrid, checkGrid } from './grid';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { boolean, finiteNumber, float32, integer, invalid, oneOf, options, typedOf } from './validate';

function positionsOf(op: string, v: unknown, grid: Grid): { positions: Float32Array; points: number } {
  const positions = float32(op, 'positions', v);
  if (positions.length === 0) throw invalid('E_SHAPE', op, 'positions', 'non-empty');
  if (positions.length % grid.dim !== 0) throw invalid('E_SHAPE', op, 'positions', `a multiple of ${grid.dim} long ([N, ${grid.dim}])`, positions);
  return { positions, points: positions.length / grid.dim };
}

// ---------------------------------------------------------------- deposit

export interface DepositOptions extends RunOptions {
  /** Charge of each point (default 1). */
  charges?: Float32Array;
  /** Field each point goes to, for batches (default: all in field 0). */
  fieldOf?: Int32Array;
  /** Number of fields (default 1; > 1 needs fieldOf). */
  batch?: number;
}

/**
 * Cloud-in-cell deposition of point charges into a charge density
 * rho [batch, cells] (charge per unit volume: sum(rho) h^dim = sum(charges),
 * exactly up to fp32 rounding of each cell). positions: [N, dim] in domain
 * units; on non-periodic axes they must lie in [0, n h], on periodic ones they
 * wrap. Deterministic: charges accumulate in 64-bit fixed point.
 */
export async function deposit(positions: Float32Array, gridSpec: GridSpec, opts?: DepositOptions): Promise<Float32Array> {
  const op = 'deposit';
  const o = options<DepositOptions>(op, opts, [...RUN_OPTION_KEYS, 'charges', 'fieldOf', 'batch']);
  const grid = checkGrid(op, gridSpec);
  const { points } = positionsOf(op, positions, grid);
  const batch = o.batch === undefined ? 1 : integer(op, 'batch', o.batch, 1, 1 << 24);
  if (batch * grid.cells > 2 ** 31) throw invalid('E_TOO_LARGE', op, 'batch', `at most ${2 ** 31} cells in all`, batch * grid.cells);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), positions, batch };
  if (o.charges !== undefined) args.charges = float32(op, 'charges', o.charges, points);
  if (o.fieldOf !== undefined) args.fieldOf = typedOf(op, 'fieldOf', o.fieldOf, Int32Array, points);
  else if (batch > 1) throw invalid('E_SHAPE', op, 'fieldOf', 'given when batch > 1');
  return callAsync(op, (a, x) => a.deposit(x), args, checkRun(op, o));
}

// ------------------------------------------------------------ interpolate

export interface InterpolateOptions extends RunOptions {
  /** Field each point samples; without it every point samples every field. */
  fieldOf?: Int32Array;
}

/**
 * Cloud-in-cell interpolation of fields [B, cells] at points [N, dim]: the
 * adjoint of deposit (sum_c deposit(q)_c f_c h^dim = sum_i q_i interpolate(f)_i).
 * Returns [N] with fieldOf, else [B, N].
 */
export async function interpolate(field: Float32Array, positions: Float32Array, gridSpec: GridSpec, opts?: InterpolateOptions): Promise<Float32Array> {
  const op = 'interpolate';
  const o = options<InterpolateOptions>(op, opts, [...RUN_OPTION_KEYS, 'fieldOf']);
  const grid = checkGrid(op, gridSpec);
  float32(op, 'field', field);
  const batch = batchOf(op, 'field', field.length, grid);
  const { points } = positionsOf(op, positions, grid);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), field, positions, batch };
  if (o.fieldOf !== undefined) args.fieldOf = typedOf(op, 'fieldOf', o.fieldOf, Int32Array, points);
  return callAsync(op, (a, x) => a.interpolate(x), args, checkRun(op, o));
}

// --------------------------------------------------------------- potential

export interface Anchors {
  /** 1 where the potential is held fixed: [cells] (all fields) or [B, cells]. */
  mask: Uint8Array;
  /** The held values, same shape as mask (default 0). */
  values?: Float32Array;
}

export interface PotentialOptions extends RunOptions {
  /** Screening: solves (-lap + kappa^2) phi = rho (default 0: Poisson). */
  kappa?: number;
  /**
   * Stop when ||rho - A phi|| <= tol ||rho|| (default 1e-6; L2 over free
   * cells), or 'discretization': stop after one full multigrid cycle, whose
   * error against the exact discrete solution is below the discretisation
   * error (measured on manufactured solutions, every boundary, 2D to 1024^2
   * and 3D to 128^3: 0.002 to 0.37 of it, flat in n), for about the price of
   * 1.3 V-cycles. With anchors
   * full multigrid does not apply and 'discretization' means tol 1e-6.
   */
  tol?: number | 'discretization';
  /** V-cycles at most (default 50). */
  maxCycles?: number;
  /**
   * Red-black over-relaxation sweeps (factor 1.15) before / after the coarse correction (default
   * 2 / 2; with tol 'discretization' the full multigrid cycle post-smooths once unless
   * postSmooth is given).
   */
  preSmooth?: number;
  postSmooth?: number;
  /** Interior cells held at fixed values (conductors). */
  anchors?: Anchors;
  /** Also compute E = -grad phi (default true). */
  field?: boolean;
  /** Resolve with converged: false instead of rejecting with E_NOT_CONVERGED. */
  allowNotConverged?: boolean;
  /** Called after each cycle with (field, cycle, relative residual). */
  onProgress?: (field: number, cycle: number, residual: number) => void;
}

export interface SolveStats {
  /** V-cycles done. */
  cycles: number;
  /** Final ||rho - A phi|| / ||rho|| (of the fp64 iterate the fp32 phi is rounded from). */
  residual: number;
  converged: boolean;
  /**
   * On a singular problem (no Dirichlet axis, kappa = 0, no anchors) only
   * zero-mean rho has a solution: this mean was subtracted from rho, and phi
   * is returned with zero mean. 0 otherwise.
   */
  meanRemoved: number;
  /** U = 1/2 sum rho phi h^dim. */
  energy: number;
  /** Relative residual before each cycle and at the end. */
  history: Float64Array;
}

export interface PotentialResult {
  /** phi [B, cells]. */
  phi: Float32Array;
  /** E = -grad phi [B, dim, cells] (unless field: false). */
  E?: Float32Array;
  /** Per field: the solver's statistics. */
  fields: SolveStats[];
  backend: 'cpu' | 'cuda';
}

const POTENTIAL_KEYS = [...RUN_OPTION_KEYS, 'kappa', 'tol', 'maxCycles', 'preSmooth', 'postSmooth', 'anchors', 'field', 'allowNotConverged', 'onProgress'];

/**
 * The semantic potential of a charge density rho [B, cells]: solves
 * (-lap + kappa^2) phi = rho with the 5-point (2D) or 7-point (3D) stencil
 * by geometric multigrid (V-cycles of red-black over-relaxation, cell-centred
 * transfers, fp32 cycles inside an fp64 defect correction).
 */
export async function potential(rho: Float32Array, gridSpec: GridSpec, opts?: PotentialOptions): Promise<PotentialResult> {
  const op = 'potential';
  const o = options<PotentialOptions>(op, opts, POTENTIAL_KEYS);
  const grid = checkGrid(op, gridSpec);
  float32(op, 'rho', rho);
  const batch = batchOf(op, 'rho', rho.length, grid);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), rho, batch };
  if (o.kappa !== undefined) args.kappa = finiteNumber(op, 'kappa', o.kappa, 0);
  if (o.tol === 'discretization') args.discretization = true;
  else if (typeof o.tol === 'string') throw invalid('E_TYPE', op, 'tol', "a number in (0, 1) or 'discretization'", o.tol);
  else if (o.tol !== undefined) args.tol = finiteNumber(op, 'tol', o.tol, 0, 1, true);
  if (o.maxCycles !== undefined) args.maxCycles = integer(op, 'maxCycles', o.maxCycles, 1, 10000);
  if (o.preSmooth !== undefined) args.preSmooth = integer(op, 'preSmooth', o.preSmooth, 1, 16);
  if (o.postSmooth !== undefined) args.postSmooth = integer(op, 'postSmooth', o.postSmooth, 1, 16);
  args.field = o.field === undefined ? true : boolean(op, 'field', o.field);
  const allow = o.allowNotConverged === undefined ? false : boolean(op, 'allowNotConverged', o.allowNotConverged);
  if (o.anchors !== undefined) {
    const an = options<Anchors>(op, o.anchors, ['mask', 'values']);
    const mask = typedOf(op, 'anchors.mask', an.mask, Uint8Array);
    if (mask.length !== grid.cells && mask.length !== grid.cells * batch)
      throw invalid('E_SHAPE', op, 'anchors.mask', `of length ${grid.cells} or ${grid.cells * batch}`, mask);
    args.mask = mask;
    if (an.values !== undefined) args.anchor = float32(op, 'anchors.values', an.values, mask.length);
  }
  let progress: ((...v: number[]) => void) | undefined;
  if (o.onProgress !== undefined) {
    if (typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
    const cb = o.onProgress;
    progress = (f, c, r) => cb(f, c, r);
  }
  const r = await callAsync(op, (a, x) => a.potential(x), args, checkRun(op, o), progress);
  const fields = r.fields;
  const bad = fields.findIndex((s) => !s.converged);
  if (bad >= 0 && !allow) {
    const s = fields[bad];
    throw new SemfieldError(
      'E_NOT_CONVERGED',
      `${op}: field ${bad} did not converge: relative residual ${s.residual.toExponential(3)} > tol after ${s.cycles} cycles (raise maxCycles or tol, or pass allowNotConverged)`,
      { fields },
    );
  }
  return { phi: r.phi, E: r.E, fields, backend: r.backend };
}

// --------------------------------------------------------------- operators

export type DiffOp = 'grad' | 'div' | 'curl' | 'laplacian';

async function diff(op: DiffOp, input: Float32Array, gridSpec: GridSpec, opts: RunOptions | undefined, inComps: (dim: number) => number): Promise<Float32Array> {
  const o = options<RunOptions>(op, opts, RUN_OPTION_KEYS);
  const grid = checkGrid(op, gridSpec);
  float32(op, 'input', input);
  const batch = batchOf(op, 'input', input.length, grid, inComps(grid.dim));
  const need = op === 'laplacian' ? 4 : 3;
  grid.n.forEach((n, a) => {
    if (grid.boundary[a] !== 'periodic' && n < need)
      throw invalid('E_RANGE', op, `grid.n[${a}]`, `>= ${need} on a non-periodic axis`, n);
  });
  return callAsync(op, (a, x) => a.diff(x), { grid: nativeGrid(grid), op, input, batch }, checkRun(op, o));
}

// The operators are second-order differences: central inside and across
// periodic faces, one-sided second-order at other boundaries (no boundary
// value needed, so non-periodic axes need at least 3 cells, 4 for laplacian).

/** grad u: scalar fields [B, cells] to vector fields [B, dim, cells]. */
export const grad = (u: Float32Array, grid: GridSpec, opts?: RunOptions) => diff('grad', u, grid, opts, () => 1);
/** div v: vector fields [B, dim, cells] to scalar fields. The condensation rate of a flow is -div. */
export const div = (v: Float32Array, grid: GridSpec, opts?: RunOptions) => diff('div', v, grid, opts, (d) => d);
/** curl v: 2D [B, 2, cells] to the scalar dvy/dx - dvx/dy; 3D [B, 3, cells] to [B, 3, cells]. Circulation. */
export const curl = (v: Float32Array, grid: GridSpec, opts?: RunOptions) => diff('curl', v, grid, opts, (d) => d);
/** lap u: scalar fields to scalar fields. */
export const laplacian = (u: Float32Array, grid: GridSpec, opts?: RunOptions) => diff('laplacian', u, grid, opts, () => 1);

// ---------------------------------------------------------------- condense

export interface CondenseOptions extends RunOptions {
  /** Charge density [B, cells] whose integral over each basin is its mass. */
  rho?: Float32Array;
  /** Find the minima (default) or the maxima of the field. */
  seek?: 'min' | 'max';
}

export interface Basin {
  /** Index of the extremum within its field. */
  cell: number;
  /** Centre of that cell in domain units. */
  position: number[];
  /** Field value there. */
  value: number;
  /** Strictly beyond every neighbour (false: the first cell of a plateau). */
  strict: boolean;
  /** Integral of rho over the basin (0 without rho). */
  mass: number;
  /** Cells in the basin. */
  cells: number;
}

export interface CondenseResult {
  /** Basin of every cell [B, cells]: an index into that field's basins. */
  labels: Int32Array;
  /** Per field, basins ordered from the deepest extremum. */
  fields: Basin[][];
}

/**
 * Stable nodes of a field on the mesh: every cell points to its lowest
 * neighbour (8 in 2D, 26 in 3D) when lower, ties broken by the lower cell
 * index; pointer jumping sends each cell to its extremum, whose basin it
 * joins. seek: 'max' condenses onto peaks (the wells of -phi).
 */
export async function condense(field: Float32Array, gridSpec: GridSpec, opts?: CondenseOptions): Promise<CondenseResult> {
  const op = 'condense';
  const o = options<CondenseOptions>(op, opts, [...RUN_OPTION_KEYS, 'rho', 'seek']);
  const grid = checkGrid(op, gridSpec);
  float32(op, 'field', field);
  const batch = batchOf(op, 'field', field.length, grid);
  const seek = o.seek === undefined ? 'min' : oneOf(op, 'seek', o.seek, ['min', 'max'] as const);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), batch, field: seek === 'max' ? field.map((v) => -v) : field };
  if (o.rho !== undefined) args.rho = float32(op, 'rho', o.rho, field.length);
  const r = await callAsync(op, (a, x) => a.condense(x), args, checkRun(op, o));
  const sign = seek === 'max' ? -1 : 1;
  const fields = r.fields.map((f) =>
    Array.from(f.cell, (cell, i) => ({
      cell,
      position: centreOf(grid, cell),
      value: sign * f.value[i],
      strict: f.strict[i] === 1,
      mass: f.mass[i],
      cells: f.cells[i],
    })),
  );
  return { labels: r.labels, fields };
}
