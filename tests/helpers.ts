/** Shared by the tests: analytic fields on cell-centred grids and norms. */
import { spawnSync } from 'node:child_process';

export type Fn = (x: number, y: number, z: number) => number;

/** Samples f at the cell centres of an n^dim grid of cell size h, x fastest. */
export function sample(n: number[], h: number, f: Fn): Float32Array {
  const nz = n[2] ?? 1;
  const out = new Float32Array(n[0] * n[1] * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < n[1]; y++)
      for (let x = 0; x < n[0]; x++) out[(z * n[1] + y) * n[0] + x] = f((x + 0.5) * h, (y + 0.5) * h, (z + 0.5) * h);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Geometric mean of successive residual ratios over cycles [from, to). */
export function convergenceFactor(history: Float64Array, from = 1, to = history.length): number {
  const k = Math.min(to, history.length) - 1;
  return Math.pow(history[k] / history[from - 1], 1 / (k - from + 1));
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether Debian's python3 with numpy, scipy and scikit-learn is there for the peer checks.
 * CI installs them (.ci/run), so there a missing peer is a failure, not a skip.
 */
export function havePythonPeers(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import numpy, scipy, sklearn'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (process.env.CI) throw new Error('CI needs /usr/bin/python3 with numpy, scipy and scikit-learn (apt-get install python3-numpy python3-scipy python3-sklearn)');
  return false;
}

/** Runs a Python snippet under Debian's python3 (numpy, scipy) and parses its JSON output. */
export function python<T>(code: string, input: unknown): T {
  const r = spawnSync('/usr/bin/python3', ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The error a call rejects or throws with (undefined if it succeeds). */
export async function errorOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  return undefined;
}
