/**
 * Meaning as waves: the damped Klein-Gordon equation
 *   u_tt + damping u_t = c^2 lap u - kappa^2 u + s(x) f(t)
 * on the mesh by leapfrog (second order in time and space, the potential
 * solver's stencil and boundaries), for a batch of fields at once.
 * Stability needs dt <= 1 / sqrt(c^2 dim / h^2 + kappa^2 / 4) (for kappa = 0
 * the CFL condition c dt sqrt(sum 1/h^2) <= 1), else E_CFL. Without damping
 * and source the discrete energy
 *   E = 1/2 sum [((u+ - u) / dt)^2 + c^2 u+ (-lap u) + kappa^2 u+ u] h^dim
 * is conserved by the scheme in exact arithmetic; with fp32 fields the
 * reported E drifts by rounding.
 */
import { GridSpec, batchOf, nativeGrid, checkGrid } from './grid';
import { RUN_OPTION_KEYS, RunOptions, callAsync, checkRun } from './native';
import { finiteNumber, float32, integer, invalid, options } from './validate';

export interface WaveOptions extends RunOptions {
  /** Time step and number of steps. */
  dt: number;
  steps: number;
  /** Wave speed (default 1), screening kappa (default 0), damping g (default 0). */
  c?: number;
  kappa?: number;
  damping?: number;
  /** Initial velocity [B, cells] (default 0), or the field one step before u0 (to continue a run). */
  v0?: Float32Array;
  uPrev?: Float32Array;
  /** Source s(x): [cells] for every field or [B, cells]; and its time profile f(t_n), t_n = n dt. */
  source?: Float32Array;
  /** [steps] (or [B, steps]) values, or a function of t (default f = 1). */
  f?: Float32Array | ((t: number) => number);
  /** Probe positions [P, dim] in domain units: u there at every step (cloud-in-cell). */
  probes?: Float32Array;
  /** Keep the field every `every` steps (and at step 0). */
  every?: number;
  /** Record the discrete energy every `energyEvery` steps (and at step 0). */
  energyEvery?: number;
  /** Called every 64 steps with (field, step). */
  onProgress?: (field: number, step: number) => void;
}

export interface WaveResult {
  /** The fields after the last step [B, cells], and one step before (pass as uPrev to continue). */
  u: Float32Array;
  uPrev: Float32Array;
  /** Shape `[B, steps + 1, P]`; probe p of field b at step n sits at index (b * (steps + 1) + n) * P + p. */
  probes?: Float32Array;
  /** [B, steps / every + 1, cells]. */
  snapshots?: Float32Array;
  /** [B, steps / energyEvery + 1]. */
  energy?: Float64Array;
  batch: number;
  backend: 'cpu' | 'cuda';
}

const KEYS = [...RUN_OPTION_KEYS, 'dt', 'steps', 'c', 'kappa', 'damping', 'v0', 'uPrev', 'source', 'f', 'probes', 'every', 'energyEvery', 'onProgress'];

export async function wave(u0: Float32Array, gridSpec: GridSpec, opts: WaveOptions): Promise<WaveResult> {
  const op = 'wave';
  if (opts === undefined) throw invalid('E_TYPE', op, 'options', 'an object with dt and steps');
  const o = options<WaveOptions>(op, opts, KEYS);
  const grid = checkGrid(op, gridSpec);
  float32(op, 'u0', u0);
  const batch = batchOf(op, 'u0', u0.length, grid);
  const N = grid.cells;
  const dt = finiteNumber(op, 'dt', o.dt, 0, Infinity, true);
  const steps = integer(op, 'steps', o.steps, 0, 1e8);
  const c = o.c === undefined ? 1 : finiteNumber(op, 'c', o.c, 0, Infinity, true);
  const kappa = o.kappa === undefined ? 0 : finiteNumber(op, 'kappa', o.kappa, 0);
  const damping = o.damping === undefined ? 0 : finiteNumber(op, 'damping', o.damping, 0);
  const limit = 1 / Math.sqrt((c * c * grid.dim) / (grid.h * grid.h) + (kappa * kappa) / 4);
  if (dt > limit * (1 + 1e-12))
    throw invalid('E_CFL', op, 'dt', `at most ${limit.toPrecision(6)} for stability (c dt sqrt(sum 1/h^2) = ${((c * dt * Math.sqrt(grid.dim)) / grid.h).toPrecision(4)}; with kappa the bound is 1 / sqrt(c^2 dim / h^2 + kappa^2 / 4))`, dt);
  const args: Record<string, unknown> = { grid: nativeGrid(grid), batch, u0, dt, steps, c, kappa, damping };
  if (o.v0 !== undefined) args.v0 = float32(op, 'v0', o.v0, N * batch);
  if (o.uPrev !== undefined) {
    if (o.v0 !== undefined) throw invalid('E_TYPE', op, 'v0 and uPrev', 'not given together');
    args.uPrev = float32(op, 'uPrev', o.uPrev, N * batch);
  }
  if (o.source !== undefined) {
    const s = float32(op, 'source', o.source);
    if (s.length !== N && s.length !== N * batch) throw invalid('E_SHAPE', op, 'source', `of length ${N} or ${N * batch}`, s);
    args.source = s;
  }
  if (o.f !== undefined) {
    if (o.source === undefined) throw invalid('E_TYPE', op, 'f', 'given with a source');
    if (typeof o.f === 'function') {
      const fn = o.f;
      args.f = Float32Array.from({ length: steps }, (_, n) => {
        const v = fn(n * dt);
        if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid('E_NONFINITE', op, `f(${n * dt})`, 'a finite number', v);
        return v;
      });
    } else {
      const f = float32(op, 'f', o.f);
      if (f.length !== steps && f.length !== steps * batch) throw invalid('E_SHAPE', op, 'f', `of length steps = ${steps} or batch * steps`, f);
      args.f = f;
    }
  }
  if (o.probes !== undefined) {
    const p = float32(op, 'probes', o.probes);
    if (p.length % grid.dim) throw invalid('E_SHAPE', op, 'probes', `[P, ${grid.dim}] positions`, p);
    args.probes = p;
  }
  if (o.every !== undefined) args.every = integer(op, 'every', o.every, 0, 1e8);
  if (o.energyEvery !== undefined) args.energyEvery = integer(op, 'energyEvery', o.energyEvery, 0, 1e8);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalid('E_TYPE', op, 'onProgress', 'a function', o.onProgress);
  const cb = o.onProgress;
  const r = await callAsync(op, (a, x) => a.wave(x), args, checkRun(op, o), cb ? (f, n) => cb(f, n) : undefined);
  return { ...r, batch };
}
