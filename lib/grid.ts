/**
 * Grids: a batch of cell-centred 2D or 3D meshes. Cell (x, y, z) has its
 * centre at ((x + 1/2) h, (y + 1/2) h, (z + 1/2) h); the domain is
 * [0, nx h] x [0, ny h] (x [0, nz h]). Arrays are batch-first with x fastest:
 * index = ((b * nz + z) * ny + y) * nx + x. Vector fields hold their
 * components one after another: [B, dim, nz, ny, nx].
 */
import { invalid, integer, finiteNumber, isPlainObject, oneOf } from './validate';

export type Boundary = 'periodic' | 'dirichlet' | 'neumann';
export const BOUNDARIES: readonly Boundary[] = ['periodic', 'dirichlet', 'neumann'];

export interface GridSpec {
  /** Cells along each axis: [nx, ny] or [nx, ny, nz], each in [2, 65536]. */
  n: readonly number[];
  /** Cell size, the same along every axis (default 1 / nx: the x extent is 1). */
  h?: number;
  /** Boundary of every axis, or one per axis (default 'dirichlet'). */
  boundary?: Boundary | readonly Boundary[];
}

/** A validated grid as the addon takes it. */
export interface Grid {
  dim: 2 | 3;
  n: number[];
  h: number;
  bc: number[];
  boundary: Boundary[];
  cells: number;
}

/** Cells a single grid may have (2^30) and cells a batch may have (2^31). */
export const MAX_CELLS = 2 ** 30;
export const MAX_BATCH_CELLS = 2 ** 31;

/** Checks a grid as an operation takes it and returns the addon's view of it (errors name `op`). */
export function checkGrid(op: string, spec: unknown): Grid {
  if (!isPlainObject(spec)) throw invalid('E_TYPE', op, 'grid', 'an object {n, h?, boundary?}', spec);
  for (const k of Object.keys(spec))
    if (!['n', 'h', 'boundary'].includes(k)) throw invalid('E_TYPE', op, `grid.${k}`, 'absent (unknown key)');
  const n = spec.n;
  if (!Array.isArray(n)) throw invalid('E_TYPE', op, 'grid.n', 'an array [nx, ny] or [nx, ny, nz]', n);
  if (n.length !== 2 && n.length !== 3) throw invalid('E_SHAPE', op, 'grid.n', 'of length 2 or 3', n);
  const sizes = n.map((v, i) => integer(op, `grid.n[${i}]`, v, 2, 65536));
  const cells = sizes.reduce((a, b) => a * b, 1);
  if (cells > MAX_CELLS) throw invalid('E_TOO_LARGE', op, 'grid', `at most ${MAX_CELLS} cells`, cells);
  const h = spec.h === undefined ? 1 / sizes[0] : finiteNumber(op, 'grid.h', spec.h, 0, Infinity, true);
  const b = spec.boundary ?? 'dirichlet';
  let boundary: Boundary[];
  if (Array.isArray(b)) {
    if (b.length !== sizes.length) throw invalid('E_SHAPE', op, 'grid.boundary', `one boundary per axis (${sizes.length})`, b);
    boundary = b.map((v, i) => oneOf(op, `grid.boundary[${i}]`, v, BOUNDARIES));
  } else {
    boundary = sizes.map(() => oneOf(op, 'grid.boundary', b, BOUNDARIES));
  }
  return {
    dim: sizes.length as 2 | 3,
    n: sizes,
    h,
    bc: boundary.map((x) => BOUNDARIES.indexOf(x)),
    boundary,
    cells,
  };
}

/** The batch size implied by an array holding whole fields of `comps` components. */
export function batchOf(op: string, name: string, length: number, grid: Grid, comps = 1): number {
  const per = grid.cells * comps;
  if (length === 0 || length % per !== 0)
    throw invalid('E_SHAPE', op, name, `a whole number of fields of ${per} values (${comps} x ${grid.n.join(' x ')})`, length);
  const batch = length / per;
  if (batch * grid.cells > MAX_BATCH_CELLS) throw invalid('E_TOO_LARGE', op, name, `at most ${MAX_BATCH_CELLS} cells in all`, batch * grid.cells);
  return batch;
}

/** The addon's view of a grid. */
export function nativeGrid(g: Grid): { dim: number; n: number[]; h: number; bc: number[] } {
  return { dim: g.dim, n: g.n, h: g.h, bc: g.bc };
}

/** A grid as every mesh operation reads it: sizes, cell size, boundaries (E_TYPE, E_RANGE or E_TOO_LARGE for a bad spec). */
export function normalizeGrid(spec: GridSpec): Grid {
  return checkGrid('normalizeGrid', spec);
}

/**
 * The centre, in domain units, of the cell with index `cell` within one
 * field (x fastest). `grid` is a GridSpec or a grid from normalizeGrid.
 */
export function cellCentre(grid: GridSpec | Grid, cell: number): number[] {
  const op = 'cellCentre';
  const spec = isPlainObject(grid) && 'cells' in grid ? { n: grid.n, h: grid.h, boundary: grid.boundary } : grid;
  const g = checkGrid(op, spec);
  return centreOf(g, integer(op, 'cell', cell, 0, g.cells - 1));
}

/** Centre of a cell given by its index within one field. */
export function centreOf(g: Grid, cell: number): number[] {
  const x = cell % g.n[0];
  const y = Math.floor(cell / g.n[0]) % g.n[1];
  const z = Math.floor(cell / (g.n[0] * g.n[1]));
  const c = [(x + 0.5) * g.h, (y + 0.5) * g.h];
  if (g.dim === 3) c.push((z + 0.5) * g.h);
  return c;
}
