/**
 * Electromagnetic induction of meaning: Maxwell's equations by the Yee FDTD
 * scheme (units c0 = eps0 = mu0 = 1) in 2D (TMz: Ez, Hx, Hy; TEz: Ex, Ey,
 * Hz) and 3D, with relative permittivity eps_r(x) >= 1, conductivity
 * sigma(x) >= 0, current sources J(x, t) = profile(x) f(t), and per-axis
 * boundaries 'periodic', 'pec' (perfect conductor) or 'cpml' (a graded
 * absorbing layer ending in PEC). Probes record a field component at a
 * position; an emf loop records the loop integral of E along a closed path
 * of grid edges, so that the voltage a driven current loop induces in
 * another can be measured. Courant: dt <= h / sqrt(dim), else E_CFL.
 *
 * Positions are in domain units, as in every mesh operation: the domain is
 * [0, n[0] h] x [0, n[1] h] (x [0, n[2] h]) with h = 1 / n[0] unless given,
 * the rule of GridSpec. A probe's value is its component interpolated
 * linearly (cloud in cell, as wave's probes) from that component's own
 * staggered points; a loop's vertices must be grid nodes (multiples of h).
 *
 * Component positions in cell (i, j, k), in units of h: Ex (i+1/2, j, k),
 * Ey (i, j+1/2, k), Ez (i, j, k+1/2), Hx (i, j+1/2, k+1/2), Hy (i+1/2, j,
 * k+1/2), Hz (i+1/2, j+1/2, k). E is recorded at whole steps, H half a step
 * earlier.
 */
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, isPlainObject, oneOf, options } from './validate';

export type YeeBoundary = 'periodic' | 'pec' | 'cpml';
export type Component = 'Ex' | 'Ey' | 'Ez' | 'Hx' | 'Hy' | 'Hz';
const COMPONENTS: readonly Component[] = ['Ex', 'Ey', 'Ez', 'Hx', 'Hy', 'Hz'];
const BOUNDARIES: readonly YeeBoundary[] = ['periodic', 'pec', 'cpml'];
/** The components each mode evolves. */
const ACTIVE: Record<string, readonly Component[]> = { TMz: ['Ez', 'Hx', 'Hy'], TEz: ['Ex', 'Ey', 'Hz'], '3D': COMPONENTS };
/** Where each component lives in its cell, in units of h (Ex Ey Ez Hx Hy Hz). */
const STAGGER = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];

export interface MaxwellOptions extends RunOptions {
  /** Cells per axis [nx, ny] or [nx, ny, nz]; cell size h (default 1 / nx). */
  n: readonly number[];
  h?: number;
  /** Per axis or for all (default 'pec'). */
  boundary?: YeeBoundary | readonly YeeBoundary[];
  /** 'TMz' (default in 2D) or 'TEz'; '3D' in 3D. */
  mode?: 'TMz' | 'TEz' | '3D';
  dt: number;
  steps: number;
  /** Relative permittivity and conductivity per cell: [cells] or [B, cells]. */
  eps?: Float32Array;
  sigma?: Float32Array;
  /** CPML: cells per layer (default 10), sigma_max (default 3.2 / h), kappa_max (1), alpha (0). */
  pml?: { cells?: number; sigma?: number; kappa?: number; alpha?: number };
  /** Current sources: component 'x' | 'y' | 'z', profile [cells], f(t) at t = (n + 1/2) dt (values [steps] or a function). */
  sources?: { component: 'x' | 'y' | 'z'; profile: Float32Array; f: Float32Array | ((t: number) => number) }[];
  /** Probes: a component at a position [x, y] or [x, y, z] in domain units (linear interpolation). */
  probes?: { component: Component; at: readonly number[] }[];
  /** Closed loops of grid nodes given by their positions [[x, y(, z)], ...] (multiples of h), first = last, segments along one axis. */
  loops?: (readonly (readonly number[])[])[];
  /** Initial fields [6, cells] (Ex Ey Ez Hx Hy Hz; default 0), or [B, 6, cells] for a batch. */
  init?: Float32Array;
  /**
   * Fields run as one batch (default 1): init, eps and sigma may hold one
   * field each ([B, ...]) or one for all; sources, probes and loops are
   * shared. Every output gains a leading B.
   */
  batch?: number;
  energyEvery?: number;
  every?: number;
  /**
   * Called every 64 steps of each field with the steps taken over the whole
   * batch (a batch of small fields runs side by side; the count never goes
   * back).
   */
  onProgress?: (step: number) => void;
}

export interface MaxwellResult {
  /** The final fields [B, 6, cells]: Ex Ey Ez Hx Hy Hz. */
  fields: Float32Array;
  /** [B, steps + 1, P]. */
  probes: Float32Array;
  /** Loop integrals of E [B, steps + 1, L]. */
  emf: Float32Array;
  /**
   * 1/2 sum (eps E(n-1) . E(n) + H(n-1/2)^2) h^dim every energyEvery steps.
   * Without losses the Yee scheme conserves it exactly in exact arithmetic;
   * the fields are stored in fp32 (the sum is taken in fp64), so the reported
   * W drifts by rounding, about 1e-7 of W over 2000 steps.
   */
  energy?: Float64Array;
  /** [B, steps / every + 1, 6, cells]. */
  snapshots?: Float32Array;
  backend: 'cpu' | 'cuda';
}

const KEYS = [...RUN_OPTION_KEYS, 'batch', 'n', 'h', 'boundary', 'mode', 'dt', 'steps', 'eps', 'sigma', 'pml', 'sources', 'probes', 'loops', 'init', 'energyEvery', 'every', 'onProgress'];

export async function maxwell(opts: MaxwellOptions): Promise<MaxwellResult> {
  const op = 'maxwell';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with n, dt and steps');
  const o = options<MaxwellOptions>(op, opts, KEYS);
  if (!Array.isArray(o.n) || (o.n.length !== 2 && o.n.length !== 3)) throw invalid('E_TYPE', op, 'n', '[nx, ny] or [nx, ny, nz]', o.n);
  const n = o.n.map((v, i) => integer(op, `n[${i}]`, v, 2, 65536));
  const dim = n.length, cells = n.reduce((a, b) => a * b, 1);
  if (cells > 2 ** 28) throw invalid('E_TOO_LARGE', op, 'n', 'at most 2^28 cells', cells);
  const h = o.h === undefined ? 1 / n[0] : finiteNumber(op, 'h', o.h, 0, Infinity, true);
  const b = o.boundary ?? 'pec';
  const bc = (Array.isArray(b) ? b : new Array(dim).fill(b)).map((v: unknown, i: number) => BOUNDARIES.indexOf(oneOf(op, `boundary[${i}]`, v, BOUNDARIES)));
  if (bc.length !== dim) throw invalid('E_SHAPE', op, 'boundary', `one per axis (${dim})`, b);
  const mode = o.mode === undefined ? (dim === 3 ? '3D' : 'TMz') : oneOf(op, 'mode', o.mode, dim === 3 ? (['3D'] as const) : (['TMz', 'TEz'] as const));
  const dt = finiteNumber(op, 'dt', o.dt, 0, Infinity, true);
  if (dt > (h / Math.sqrt(dim)) * (1 + 1e-12)) throw invalid('E_CFL', op, 'dt', `at most h / sqrt(dim) = ${(h / Math.sqrt(dim)).toPrecision(6)} (Courant)`, dt);
  const steps = integer(op, 'steps', o.steps, 0, 1e8);
  const batch = o.batch === undefined ? 1 : integer(op, 'batch', o.batch, 1, 65536);
  const args: Record<string, unknown> = { grid: { dim, n, h, bc }, mode, dt, steps, batch };
  const perField = (name: string, v: unknown, one: number) => {
    const a = float32(op, name, v);
    if (a.length !== one && a.length !== one * batch) throw invalid('E_SHAPE', op, name, batch === 1 ? `of length ${one}` : `of length ${one} or ${one * batch} (batch ${batch})`, a);
    return a;
  };
  if (o.eps !== undefined) args.eps = perField('eps', o.eps, cells);
  if (o.sigma !== undefined) args.sigma = perField('sigma', o.sigma, cells);
  if (o.init !== undefined) args.init = perField('init', o.init, 6 * cells);
  if (o.pml !== undefined) {
    const p = options<{ cells: number; sigma: number; kappa: number; alpha: number }>(op, o.pml, ['cells', 'sigma', 'kappa', 'alpha']);
    if (p.cells !== undefined) args.pmlCells = integer(op, 'pml.cells', p.cells, 1, 4096);
    if (p.sigma !== undefined) args.pmlSigma = finiteNumber(op, 'pml.sigma', p.sigma, 0);
    if (p.kappa !== undefined) args.pmlKappa = finiteNumber(op, 'pml.kappa', p.kappa, 1);
    if (p.alpha !== undefined) args.pmlAlpha = finiteNumber(op, 'pml.alpha', p.alpha, 0);
  }
  if (o.sources !== undefined) {
    if (!Array.isArray(o.sources)) throw invalid('E_TYPE', op, 'sources', 'an array', o.sources);
    args.sources = o.sources.map((s, i) => {
      const name = `sources[${i}]`;
      if (!isPlainObject(s)) throw invalid('E_TYPE', op, name, 'an object { component, profile, f }', s);
      const component = ['x', 'y', 'z'].indexOf(oneOf(op, `${name}.component`, s.component, ['x', 'y', 'z'] as const));
      const profile = float32(op, `${name}.profile`, s.profile, cells);
      let f: Float32Array;
      if (typeof s.f === 'function') {
        const fn = s.f;
        f = Float32Array.from({ length: steps }, (_, k) => {
          const v = fn((k + 0.5) * dt);
          if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid('E_NONFINITE', op, `${name}.f(${(k + 0.5) * dt})`, 'a finite number', v);
          return v;
        });
      } else f = float32(op, `${name}.f`, s.f, steps);
      return { component, profile, f };
    });
  }
  // Each probe is read from the 2^dim staggered points of its component around it (clamped at a
  // wall, wrapped on a periodic axis), weighted by cloud in cell; the addon records those points.
  let taps: { weights: number[]; first: number }[] | undefined;
  if (o.probes !== undefined) {
    if (!Array.isArray(o.probes)) throw invalid('E_TYPE', op, 'probes', 'an array', o.probes);
    if (o.probes.length > 65536) throw invalid('E_TOO_LARGE', op, 'probes', 'at most 65536 probes', o.probes.length);
    const points: number[] = [];
    taps = o.probes.map((q, i) => {
      if (!isPlainObject(q)) throw invalid('E_TYPE', op, `probes[${i}]`, 'an object { component, at }', q);
      const c = COMPONENTS.indexOf(oneOf(op, `probes[${i}].component`, q.component, COMPONENTS));
      if (!ACTIVE[mode].includes(COMPONENTS[c])) throw invalid('E_RANGE', op, `probes[${i}].component`, `a component of mode ${mode} (${ACTIVE[mode].join(', ')})`, q.component);
      if (!Array.isArray(q.at) || q.at.length !== dim) throw invalid('E_SHAPE', op, `probes[${i}].at`, `a position of ${dim} coordinates`, q.at);
      const axes = q.at.map((v: unknown, k: number) => {
        const x = finiteNumber(op, `probes[${i}].at[${k}]`, v);
        if (x < 0 || x > n[k] * h) throw invalid('E_RANGE', op, `probes[${i}].at[${k}]`, `in the domain [0, ${n[k] * h}]`, x);
        const u = x / h - STAGGER[c][k], i0 = Math.floor(u), t = u - i0;
        const at = (j: number) => (bc[k] === BOUNDARIES.indexOf('periodic') ? ((j % n[k]) + n[k]) % n[k] : Math.min(n[k] - 1, Math.max(0, j)));
        return [[at(i0), 1 - t], [at(i0 + 1), t]] as [number, number][];
      });
      const first = points.length / 4, weights: number[] = [];
      for (let corner = 0; corner < 1 << dim; corner++) {
        let w = 1;
        const idx = [0, 0, 0];
        for (let k = 0; k < dim; k++) {
          const [j, wk] = axes[k][(corner >> k) & 1];
          idx[k] = j;
          w *= wk;
        }
        points.push(c, idx[0], idx[1], idx[2]);
        weights.push(w);
      }
      return { weights, first };
    });
    args.probes = Int32Array.from(points);
  }
  if (o.loops !== undefined) {
    if (!Array.isArray(o.loops)) throw invalid('E_TYPE', op, 'loops', 'an array of vertex lists', o.loops);
    args.loops = o.loops.map((loop, l) => {
      if (!Array.isArray(loop) || loop.length < 5) throw invalid('E_SHAPE', op, `loops[${l}]`, 'at least 5 vertices (4 corners and the first again)', loop);
      if (loop.length > 1 << 20) throw invalid('E_TOO_LARGE', op, `loops[${l}]`, 'at most 2^20 vertices', loop.length);
      const v = new Int32Array(3 * loop.length);
      loop.forEach((q: unknown, s: number) => {
        if (!Array.isArray(q) || q.length !== dim) throw invalid('E_SHAPE', op, `loops[${l}][${s}]`, `a position of ${dim} coordinates`, q);
        q.forEach((x: unknown, k: number) => {
          const name = `loops[${l}][${s}][${k}]`;
          const u = finiteNumber(op, name, x) / h, j = Math.round(u);
          if (Math.abs(u - j) > 1e-6 * Math.max(1, Math.abs(u))) throw invalid('E_RANGE', op, name, `a grid node, a multiple of h = ${h}`, x);
          if (j < 0 || j > n[k]) throw invalid('E_RANGE', op, name, `in the domain [0, ${n[k] * h}]`, x);
          v[3 * s + k] = j;
        });
      });
      return v;
    });
  }
  if (o.energyEvery !== undefined) args.energyEvery = integer(op, 'energyEvery', o.energyEvery, 0, 1e8);
  if (o.every !== undefined) args.every = integer(op, 'every', o.every, 0, 1e8);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
  const cb = o.onProgress;
  const r = await callAsync(op, (a, x) => a.maxwell(x), args, checkRun(op, o), cb ? (_f, s) => cb(s) : undefined);
  if (!taps) return r;
  // The recorded points, [B, steps + 1, 2^dim P], combined into the probes, [B, steps + 1, P].
  const per = 1 << dim, P = taps.length, rows = r.probes.length / (per * P);
  const probes = new Float32Array(rows * P);
  for (let t = 0; t < rows; t++)
    taps.forEach((tap, p) => {
      let v = 0;
      for (let q = 0; q < per; q++) if (tap.weights[q]) v += tap.weights[q] * r.probes[t * per * P + tap.first + q];
      probes[t * P + p] = v;
    });
  return { ...r, probes };
}
