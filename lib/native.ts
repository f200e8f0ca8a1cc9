/**
 * Loads the addon (the portable binary or its best variant for this CPU,
 * each tried in a child process first: binary.ts), and runs every native
 * call through one wrapper: the caller's stack is captured first, the
 * AbortSignal becomes a flag the worker polls, and native errors become
 * SemfieldErrors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CpuReport, loadBinary } from './binary';
import { SemfieldError, fromNative } from './errors';
import type { SolveStats } from './mesh';
import { integer, invalid, oneOf } from './validate';

/** The addon's functions (native/addon.cc). Arguments are validated by lib/ first. */
export interface Addon {
  info(): NativeInfo;
  cpu(): CpuReport;
  potential(args: object): Promise<NativePotential>;
  deposit(args: object): Promise<Float32Array>;
  interpolate(args: object): Promise<Float32Array>;
  diff(args: object): Promise<Float32Array>;
  condense(args: object): Promise<NativeCondense>;
  pca(args: object): Promise<NativePca>;
  pcaTransform(args: object): Promise<Float32Array>;
  kernelSum(args: object): Promise<Float64Array>;
  kernelGrad(args: object): Promise<Float64Array>;
  attentionGrad(args: object): Promise<{ dQ: Float32Array; dK: Float32Array; dV: Float32Array; dParam: Float64Array }>;
  setMatrix(args: object): Promise<Float64Array>;
  attention(args: object): Promise<Float32Array>;
  resonance(args: object): Promise<Float64Array>;
  induce(args: object): Promise<{ values: Float32Array; iterations: number; residual: number; converged: boolean }>;
  meanShift(args: object): Promise<{ centers: Float64Array; intensity: Float64Array; mass: Float64Array; potential: Float64Array; labels: Int32Array; iterations: number }>;
  meshResonance(args: object): Promise<{ table: Float64Array; iterations: Int32Array; residual: Float64Array; converged: Uint8Array; backend: 'cpu' | 'cuda' }>;
  maxwell(args: object): Promise<import('./maxwell').MaxwellResult>;
  modes(args: object): Promise<{ values: Float64Array; vectors: Float32Array; fields: { iterations: number; residual: number; converged: boolean }[]; backend: 'cpu' | 'cuda' }>;
  wave(args: object): Promise<{ u: Float32Array; uPrev: Float32Array; probes?: Float32Array; snapshots?: Float32Array; energy?: Float64Array; backend: 'cpu' | 'cuda' }>;
  unfold(args: object): Promise<Float32Array>;
  chaosGame(args: object): Promise<Float32Array | Float64Array>;
  tokenUnfold(args: object): Promise<{ points: Float32Array; weights: Float64Array; pi: Float64Array }>;
  pairCounts(args: object): Promise<Float64Array>;
  boxCount(args: object): Promise<{ scales: Float64Array; counts: Float64Array }>;
  encode(args: object): Promise<{ code: Uint8Array; leaves: number; leavesPerSize: number[]; collageRmse: number; lo: number; hi: number; lambda: number }>;
  decode(args: object): Promise<{ image: Float32Array; width: number; height: number; valueType: number; changes: Float64Array }>;
  codeInfo(args: object): import('./codec').CodeInfo;
  triad(args: object): void;
  gemmPeak(args: { seconds?: number }): number;
  mallocInUse(): number | null;
  scratch(): { heldBytes: number; capBytes: number; blocks: number };
  releaseScratch(): number;
  _setFault(args: { kind: 'oom' | 'launch' | 'system' | 'sticky' | 'none'; after?: number }): void;
  smoothKernel(args: object): void;
  residualKernel(args: object): void;
}

export interface NativeInfo {
  built: string[];
  cudaDevices: import('./device').CudaDevice[];
  cudaRuntime: number;
  cudaNote: string;
  backendEnv: string;
  threads: number;
  auto: 'cpu' | 'cuda';
  default: string;
  isa: string;
  cpuFeatures: Record<string, boolean>;
}

export interface NativePotential {
  phi: Float32Array;
  E?: Float32Array;
  fields: SolveStats[];
  backend: 'cpu' | 'cuda';
}

export interface NativeCondense {
  labels: Int32Array;
  fields: { cell: Float64Array; value: Float64Array; mass: Float64Array; cells: Float64Array; strict: Uint8Array }[];
}

export interface NativePca {
  mean: Float64Array;
  components: Float64Array;
  variance: Float64Array;
  totalVariance: number;
  iterations: number;
  coords: Float32Array;
}

function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'semfield') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('semfield: cannot find the package root from ' + __dirname);
    dir = up;
  }
}

let addon: Addon | undefined;
let loaded: { file: string; note: string } | undefined;

/** The loaded addon; the first call loads it, or explains why it cannot. */
export function native(): Addon {
  if (addon) return addon;
  const root = packageRoot();
  try {
    const l = loadBinary<Addon>(root);
    loaded = { file: l.file, note: l.note };
    addon = l.addon;
    return addon;
  } catch (err) {
    const m = (err as Error).message;
    throw new SemfieldError(
      'E_DEVICE',
      m.includes('Possible fixes')
        ? `semfield: ${m}`
        : [
            `semfield: the native addon could not be loaded from ${root}: ${m}`,
            'Possible fixes (there is no prebuilt binary for this platform, so semfield compiles one at install, when npm lets it):',
            '- let npm run semfield\'s install script: npm install-scripts approve semfield && npm rebuild semfield',
            '- in a checkout of semfield: npm run build:native (needs cmake or node-gyp, and a C++17 compiler)',
            '- without CUDA on this machine: SEMFIELD_CUDA=OFF npm rebuild semfield',
          ].join('\n'),
    );
  }
}

/** The file of the loaded addon, and why a faster variant was not loaded ('' when nothing stood in the way). */
export function loadedBinary(): { file: string; note: string } {
  native();
  return loaded!;
}

/** Options every asynchronous operation takes. */
export interface RunOptions {
  /** 'auto' (default: SEMFIELD_BACKEND, else CUDA when a GPU is usable, else CPU), 'cpu' or 'cuda'. */
  backend?: 'auto' | 'cpu' | 'cuda';
  /** CUDA device index (default 0). */
  device?: number;
  /** Stops the operation; the promise rejects with E_ABORTED. */
  signal?: AbortSignal;
}

export const RUN_OPTION_KEYS = ['backend', 'device', 'signal'] as const;

/**
 * Calls an asynchronous addon function. args already holds validated inputs;
 * this adds the backend, the abort flag and the progress callback.
 */
export async function callAsync<T>(
  op: string,
  fn: (a: Addon, args: object) => Promise<T>,
  args: Record<string, unknown>,
  run: RunOptions,
  onProgress?: (...values: number[]) => void,
): Promise<T> {
  const stack = new Error().stack;
  const signal = run.signal;
  if (signal?.aborted) throw new SemfieldError('E_ABORTED', `${op}: aborted before it started`);
  const flag = new Int32Array(1);
  const onAbort = () => Atomics.store(flag, 0, 1);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const full: Record<string, unknown> = { ...args, cancel: flag };
    // (Without a backend the addon takes SEMFIELD_BACKEND's, and its messages name the variable.)
    if (run.backend !== undefined) full.backend = run.backend;
    if (run.device !== undefined) full.device = run.device;
    if (onProgress) full.onProgress = onProgress;
    return await fn(native(), full);
  } catch (err) {
    throw fromNative(err, op, stack);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Checks the options every operation shares. */
export function checkRun(op: string, o: RunOptions & Record<string, unknown>): RunOptions {
  if (o.backend !== undefined) oneOf(op, 'backend', o.backend, ['auto', 'cpu', 'cuda'] as const);
  if (o.device !== undefined) integer(op, 'device', o.device, 0, 1024);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalid('E_TYPE', op, 'signal', 'an AbortSignal', o.signal);
  return { backend: o.backend, device: o.device, signal: o.signal };
}
