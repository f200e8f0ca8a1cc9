/**
 * `semfield bench`: microbenchmarks of semfield's operations on this machine,
 * for the people who install the package as much as for this repository
 * (npm run bench builds on the same measure() and limits).
 *
 * Every figure is a median over repeated calls after warm-up (Benchmark.js
 * samples, one call each), with its spread (interquartile range over the
 * median), and is set against the machine's own limits measured in the same
 * run, never against a datasheet alone:
 *  - on the CPU, the STREAM triad a = b + s c over arrays far larger than the
 *    caches (bytes per second), and the rate of an SGEMM inner kernel on
 *    every thread (an 8 x 16 block of C in registers; flop per second);
 *  - on a GPU, the same triad on the device, and the fp32 FMA peak from the
 *    device's properties (multiprocessors x lanes x 2 x clock).
 * An operation with a cost model (bytes and flops per call, written beside
 * it in OPS) gets its arithmetic intensity and its fractions of both limits,
 * which the roofline chart plots; the others report units per second
 * (unknowns, cell updates, points, pixels).
 *
 * Output: a table on stdout, NDJSON (one `limits` line per backend, one
 * `result` line per operation, size and backend) and an SVG roofline chart
 * (vega). `--compare A.ndjson B.ndjson` sets two result files side by side;
 * `--backend both` runs every case on the CPU and on the GPU in one run.
 */
import Benchmark from 'benchmark';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SemfieldError, device, fractal, maxwell, points, potential, wave } from '../lib';
import { chartSvg } from '../lib/chart';
import { native } from '../lib/native';

export type BenchBackend = 'cpu' | 'cuda';

/** Timing of one case: medians and spread of repeated calls, in ms. */
export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Interquartile range over the median. */
  spread: number;
  samples: number;
}

export interface MeasureOptions {
  /** Calls before timing (JIT, scratch buffers, pool threads, device pools). Default 3. */
  warmup?: number;
  /** At least this many timed calls (default 10) ... */
  minSamples?: number;
  /** ... and calls for about this many seconds (default 1). */
  minSeconds?: number;
}

function quantile(sorted: number[], q: number): number {
  const x = q * (sorted.length - 1), i = Math.floor(x), f = x - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * Times fn (sync or async) with Benchmark.js after a few warm-up calls: one
 * call per sample (deferred, so an async call is timed to its end), at
 * least minSamples of them and about minSeconds in all.
 */
export async function measure(fn: () => unknown, opts: MeasureOptions = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 3, minSamples = opts.minSamples ?? 10, minSeconds = opts.minSeconds ?? 1;
  for (let i = 0; i < warmup; i++) await fn();
  const seconds = await new Promise<number[]>((resolve, reject) => {
    const b = new Benchmark({
      minSamples, maxTime: minSeconds, initCount: 1, defer: true,
      fn: (d: Benchmark.Deferred) => Promise.resolve(fn()).then(() => d.resolve(), (e) => { b.abort(); reject(e); }),
    });
    b.on('complete', () => resolve(b.stats.sample));
    b.on('error', () => reject(b.error));
    b.run({ async: true });
  });
  const s = seconds.map((x) => x * 1e3).sort((a, c) => a - c);
  const med = quantile(s, 0.5);
  return { medianMs: med, minMs: s[0], maxMs: s[s.length - 1], spread: med > 0 ? (quantile(s, 0.75) - quantile(s, 0.25)) / med : 0, samples: s.length };
}

/** The limits of one backend, measured in this run. */
export interface Limits {
  type: 'limits';
  backend: BenchBackend;
  /** The CPU model, or the GPU's name. */
  device: string;
  /** STREAM triad bandwidth (GB/s), measured. */
  triadGBs: number;
  /** fp32 peak (GFLOP/s): measured SGEMM inner kernel on the CPU; from the properties on a GPU. */
  peakGflops: number;
  peakSource: 'sgemm-kernel' | 'device-properties';
  threads: number;
}

/** The triad and the flop limit of a backend. */
export async function machineLimits(backend: BenchBackend, opts: MeasureOptions = {}): Promise<Limits> {
  const a = native();
  const info = device.info();
  const n = 1 << 25;  // 3 x 128 MiB: far beyond any cache
  const A = new Float32Array(n), B = new Float32Array(n).fill(1), C = new Float32Array(n).fill(2);
  const reps = backend === 'cuda' ? 20 : 1;  // on a GPU the copies are outside the timed loop
  let triadGBs: number;
  if (backend === 'cuda') {
    // Two calls with different repetition counts: their difference is the
    // kernels alone, without the copies to and from the device.
    const one = await measure(() => a.triad({ a: A, b: B, c: C, s: 3, reps: 1, backend }), { minSamples: 5, minSeconds: 0.5, ...opts });
    const many = await measure(() => a.triad({ a: A, b: B, c: C, s: 3, reps, backend }), { minSamples: 5, minSeconds: 0.5, ...opts });
    triadGBs = (12 * n * (reps - 1)) / ((many.medianMs - one.medianMs) / 1e3) / 1e9;
  } else {
    const t = await measure(() => a.triad({ a: A, b: B, c: C, s: 3, backend }), { minSamples: 10, minSeconds: 1, ...opts });
    triadGBs = (12 * n) / (t.medianMs / 1e3) / 1e9;
  }
  if (backend === 'cuda') {
    const d = info.cudaDevices.find((x) => x.usable) ?? info.cudaDevices[0];
    return { type: 'limits', backend, device: d?.name ?? 'cuda', triadGBs, peakGflops: d?.peakGflops ?? NaN, peakSource: 'device-properties', threads: d?.multiprocessors ?? 0 };
  }
  const peaks: number[] = [];
  for (let i = 0; i < 3; i++) peaks.push(a.gemmPeak({ seconds: 0.3 }));
  peaks.sort((x, y) => x - y);
  return { type: 'limits', backend, device: os.cpus()[0]?.model ?? 'cpu', triadGBs, peakGflops: peaks[1], peakSource: 'sgemm-kernel', threads: info.threads };
}

/** One benchmark case: a call and what it does, for rates and the roofline. */
export interface Case {
  /** e.g. '1024^2, tol 1e-6'. */
  label: string;
  run: () => Promise<unknown> | unknown;
  /** Work items per call and their name (unknowns, cell updates, points, pairs, pixels). */
  units: number;
  unitName: string;
  /** Cost model: bytes to and from memory and flops per call (absent: no roofline point). */
  bytes?: number;
  flops?: number;
}

export interface Op {
  name: string;
  doc: string;
  /** Default sizes, and what a size means. */
  sizes: number[];
  sizeDoc: string;
  /** Backends it runs on (default both). */
  backends?: BenchBackend[];
  make: (size: number, backend: BenchBackend) => Case;
}

const wavy = (n: number, k = 1e-3) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));

/**
 * The operations `semfield bench` knows. Cost models are the data each call
 * must move at least once per sweep or step (fp32) and its arithmetic, so a
 * fraction of the triad near 1 means the kernel runs at the memory's speed.
 */
export const OPS: Op[] = [
  {
    name: 'triad', doc: 'STREAM triad a = b + s c (12 bytes, 2 flops per element)', sizes: [1 << 24], sizeDoc: 'elements',
    make: (n, backend) => {
      const A = new Float32Array(n), B = new Float32Array(n).fill(1), C = new Float32Array(n).fill(2);
      return { label: `${n}`, run: () => native().triad({ a: A, b: B, c: C, s: 3, backend }), units: n, unitName: 'elements', bytes: 12 * n, flops: 2 * n };
    },
  },
  {
    name: 'smooth', doc: 'one red-black Gauss-Seidel sweep of the 2D Poisson operator (12 bytes, 7 flops per cell)', sizes: [1024, 4096], sizeDoc: 'n of an n^2 grid', backends: ['cpu'],
    make: (n) => {
      const grid = { dim: 2, n: [n, n], h: 1 / n, bc: [1, 1] }, u = new Float32Array(n * n), f = new Float32Array(n * n).fill(1);
      return { label: `${n}^2`, run: () => native().smoothKernel({ grid, u, f, sweeps: 1 }), units: n * n, unitName: 'cells', bytes: 12 * n * n, flops: 7 * n * n };
    },
  },
  {
    name: 'residual', doc: 'the 2D Poisson residual r = f - A u (12 bytes, 7 flops per cell)', sizes: [1024, 4096], sizeDoc: 'n of an n^2 grid', backends: ['cpu'],
    make: (n) => {
      const grid = { dim: 2, n: [n, n], h: 1 / n, bc: [1, 1] }, u = new Float32Array(n * n), f = new Float32Array(n * n).fill(1), r = new Float32Array(n * n);
      return { label: `${n}^2`, run: () => native().residualKernel({ grid, u, f, r }), units: n * n, unitName: 'cells', bytes: 12 * n * n, flops: 7 * n * n };
    },
  },
  {
    name: 'potential', doc: 'mesh potential, Dirichlet, to tol 1e-6 (unknowns per second)', sizes: [1024, 2048], sizeDoc: 'n of an n^2 grid',
    make: (n, backend) => {
      const rho = wavy(n * n);
      return { label: `${n}^2, tol 1e-6`, run: () => potential(rho, { n: [n, n] }, { tol: 1e-6, field: false, backend }), units: n * n, unitName: 'unknowns' };
    },
  },
  {
    name: 'potential3d', doc: 'mesh potential in 3D, Dirichlet, to tol 1e-6 (unknowns per second)', sizes: [128, 256], sizeDoc: 'n of an n^3 grid',
    make: (n, backend) => {
      const rho = wavy(n ** 3);
      return { label: `${n}^3, tol 1e-6`, run: () => potential(rho, { n: [n, n, n] }, { tol: 1e-6, field: false, backend }), units: n ** 3, unitName: 'unknowns' };
    },
  },
  {
    name: 'wave', doc: 'the 2D wave equation, 20 leapfrog steps (12 bytes, 8 flops per cell update)', sizes: [1024, 4096], sizeDoc: 'n of an n^2 grid',
    make: (n, backend) => {
      const u0 = wavy(n * n), steps = 20, dt = 0.5 / (Math.SQRT2 * n);
      return { label: `${n}^2 x ${steps}`, run: () => wave(u0, { n: [n, n] }, { dt, steps, backend }), units: n * n * steps, unitName: 'cell updates', bytes: 12 * n * n * steps, flops: 8 * n * n * steps };
    },
  },
  {
    name: 'wave3d', doc: 'the 3D wave equation, 10 leapfrog steps (12 bytes, 10 flops per cell update)', sizes: [128, 256], sizeDoc: 'n of an n^3 grid',
    make: (n, backend) => {
      const u0 = wavy(n ** 3), steps = 10, dt = 0.5 / (Math.sqrt(3) * n);
      return { label: `${n}^3 x ${steps}`, run: () => wave(u0, { n: [n, n, n] }, { dt, steps, backend }), units: n ** 3 * steps, unitName: 'cell updates', bytes: 12 * n ** 3 * steps, flops: 10 * n ** 3 * steps };
    },
  },
  {
    name: 'maxwell3d', doc: '3D Yee FDTD, PEC box, 10 steps (48 bytes: six fields read and written; 36 flops per cell update)', sizes: [128, 256], sizeDoc: 'n of an n^3 grid',
    make: (n, backend) => {
      const h = 1 / n, dt = 0.5 * h / Math.sqrt(3), steps = 10, init = new Float32Array(6 * n ** 3);
      init.set(wavy(n ** 3), 2 * n ** 3);
      return { label: `${n}^3 x ${steps}`, run: () => maxwell({ n: [n, n, n], h, dt, steps, init, backend }), units: n ** 3 * steps, unitName: 'cell updates', bytes: 48 * n ** 3 * steps, flops: 36 * n ** 3 * steps };
    },
  },
  {
    name: 'pairs', doc: 'Gaussian potential of N sources at N targets, d = 16 (pairs per second; 3 d + 12 flops per pair)', sizes: [8192, 32768], sizeDoc: 'N',
    make: (n, backend) => {
      const d = 16, S = wavy(n * d, 0.37), T = wavy(n * d, 0.21);
      return { label: `${n}^2, d=${d}`, run: () => points.potential(S, T, { d, kernel: { kind: 'gaussian', sigma: 2 }, backend }), units: n * n, unitName: 'pairs', bytes: 8 * n * d + 8 * n, flops: (3 * d + 12) * n * n };
    },
  },
  {
    name: 'attention', doc: 'Gaussian field attention, N queries and keys, d = dv = 64 (4 d flops per pair)', sizes: [4096, 16384], sizeDoc: 'N',
    make: (n, backend) => {
      const d = 64, Q = wavy(n * d, 0.37), K = wavy(n * d, 0.21), V = wavy(n * d, 0.11);
      return { label: `${n}^2, d=${d}`, run: () => points.attention(Q, K, V, { d, kernel: { kind: 'gaussian', sigma: 4 }, backend }), units: n * n, unitName: 'pairs', bytes: 16 * n * d, flops: 4 * d * n * n };
    },
  },
  {
    name: 'chaos', doc: "the chaos game on Barnsley's fern (points per second; 8 bytes and about 12 flops per point)", sizes: [1 << 22, 1 << 24], sizeDoc: 'points',
    make: (n, backend) => ({ label: `${n} points`, run: () => fractal.chaosGame(fractal.presets.fern(), n, { seed: 1, backend }), units: n, unitName: 'points', bytes: 8 * n, flops: 12 * n }),
  },
  {
    name: 'render', doc: "the chaos game on Barnsley's fern binned on a 512^2 grid, points never stored (points per second; about 12 flops per point)", sizes: [1 << 26], sizeDoc: 'points',
    make: (n, backend) => ({ label: `${n} points`, run: () => fractal.render(fractal.presets.fern(), n, { seed: 1, backend }), units: n, unitName: 'points' }),
  },
  {
    name: 'encode', doc: 'the fractal codec on a 512^2 image at tolerance 4 (pixels per second)', sizes: [512], sizeDoc: 'n of an n^2 image',
    make: (n, backend) => {
      const img = Float32Array.from({ length: n * n }, (_, i) => 128 + 60 * Math.sin((i % n) * 0.05) * Math.cos(Math.floor(i / n) * 0.03) + 20 * Math.sin(i * 0.7));
      return { label: `${n}^2`, run: () => fractal.encode(img, { width: n, height: n, tolerance: 4, backend }), units: n * n, unitName: 'pixels' };
    },
  },
];

/** One figure: an operation at one size on one backend. */
export interface Result extends Timing {
  type: 'result';
  op: string;
  size: number;
  label: string;
  backend: BenchBackend;
  unitName: string;
  unitsPerSecond: number;
  GBs?: number;
  GFLOPs?: number;
  /** flop per byte, from the cost model. */
  intensity?: number;
  ofTriad?: number;
  ofPeak?: number;
  /** Which limit binds at this intensity (the roofline's), and the fraction of it reached. */
  bound?: 'bandwidth' | 'compute';
  ofRoof?: number;
}

/** A case that could not run (too large for the backend, out of memory, ...): recorded, and the run goes on. */
export interface Failure {
  type: 'failure';
  op: string;
  size: number;
  backend: BenchBackend;
  code: string;
  message: string;
}

/** Runs one case and sets it against the backend's limits. */
export async function runCase(op: Op, size: number, backend: BenchBackend, limits: Limits | undefined, opts: MeasureOptions = {}): Promise<Result> {
  const c = op.make(size, backend);
  const t = await measure(c.run, opts);
  const s = t.medianMs / 1e3;
  const r: Result = { type: 'result', op: op.name, size, label: c.label, backend, ...t, unitName: c.unitName, unitsPerSecond: c.units / s };
  if (c.bytes !== undefined) r.GBs = c.bytes / s / 1e9;
  if (c.flops !== undefined) r.GFLOPs = c.flops / s / 1e9;
  if (c.bytes && c.flops !== undefined) r.intensity = c.flops / c.bytes;
  if (limits && r.GBs !== undefined) r.ofTriad = r.GBs / limits.triadGBs;
  if (limits && r.GFLOPs !== undefined) r.ofPeak = r.GFLOPs / limits.peakGflops;
  if (limits && r.intensity !== undefined && r.GFLOPs !== undefined) {
    const memoryRoof = limits.triadGBs * r.intensity;
    r.bound = memoryRoof < limits.peakGflops ? 'bandwidth' : 'compute';
    r.ofRoof = r.GFLOPs / Math.min(memoryRoof, limits.peakGflops);
  }
  return r;
}

/** Reads an NDJSON file of `semfield bench` (limits and results). */
export function readResults(file: string): { limits: Limits[]; results: Result[] } {
  const limits: Limits[] = [], results: Result[] = [];
  const text = fs.readFileSync(file, 'utf8');
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let o: { type?: string };
    try {
      o = JSON.parse(line);
    } catch {
      throw new BenchUsageError(`${file}:${i + 1} is not JSON (a semfield bench NDJSON file has one object per line)`);
    }
    if (o.type === 'limits') limits.push(o as Limits);
    else if (o.type === 'result') results.push(o as Result);
  });
  if (results.length === 0) throw new BenchUsageError(`${file} has no result lines (was it written by semfield bench --out?)`);
  return { limits, results };
}

export class BenchUsageError extends Error {}

/** The roofline chart of results: achieved GFLOP/s against flop per byte, under each backend's two roofs. */
export function rooflineSpec(limits: Limits[], results: Result[]): Record<string, unknown> {
  const pts = results.filter((r) => r.intensity !== undefined && r.GFLOPs !== undefined);
  const xs = pts.map((r) => r.intensity!);
  const lo = Math.min(0.05, ...xs) / 2, hi = Math.max(100, ...xs) * 2;
  const roofs: { backend: string; x: number; y: number }[] = [];
  for (const l of limits) {
    const knee = l.peakGflops / l.triadGBs;
    for (const x of [lo, Math.min(Math.max(knee, lo), hi), hi]) roofs.push({ backend: `${l.backend} (${l.device})`, x, y: Math.min(l.peakGflops, l.triadGBs * x) });
  }
  const name = (b: string) => `${b} (${limits.find((l) => l.backend === b)?.device ?? b})`;
  return {
    width: 560, height: 380, title: 'semfield roofline (limits measured in the same run)',
    layer: [
      { data: { values: roofs }, mark: { type: 'line', strokeDash: [4, 3] }, encoding: {
        x: { field: 'x', type: 'quantitative', scale: { type: 'log', domain: [lo, hi] }, title: 'arithmetic intensity (flop / byte)' },
        y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: 'GFLOP/s' },
        color: { field: 'backend', type: 'nominal', title: 'backend' } } },
      { data: { values: pts.map((r) => ({ backend: name(r.backend), x: r.intensity, y: r.GFLOPs, label: `${r.op} ${r.label}` })) },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color: { field: 'backend', type: 'nominal' }, tooltip: [{ field: 'label' }, { field: 'y', title: 'GFLOP/s' }] } },
      { data: { values: pts.map((r) => ({ backend: name(r.backend), x: r.intensity, y: r.GFLOPs, label: r.op })) },
        mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' }, color: { field: 'backend', type: 'nominal' } } },
    ],
  };
}

const fmt = (v: number | undefined, digits = 3) =>
  v === undefined || !Number.isFinite(v) ? '' : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(2) : v.toFixed(digits);

/** The table of results, with the limits they are fractions of. */
export function formatResults(limits: Limits[], results: Result[]): string {
  const lines = limits.map((l) => `limits ${l.backend}: ${l.device}, triad ${l.triadGBs.toFixed(1)} GB/s, fp32 peak ${l.peakGflops.toFixed(0)} GFLOP/s (${l.peakSource})`);
  lines.push('');
  const head = ['op'.padEnd(12), 'case'.padEnd(20), 'backend'.padEnd(7), 'median ms'.padStart(10), 'spread'.padStart(7), 'units/s'.padStart(10), 'unit'.padEnd(12), 'GB/s'.padStart(8), 'GFLOP/s'.padStart(9), 'of roof'.padStart(8), 'bound by'];
  lines.push(head.join(' '));
  for (const r of results)
    lines.push([r.op.padEnd(12), r.label.padEnd(20), r.backend.padEnd(7), fmt(r.medianMs).padStart(10), fmt(r.spread, 2).padStart(7), fmt(r.unitsPerSecond).padStart(10), r.unitName.padEnd(12), fmt(r.GBs, 1).padStart(8), fmt(r.GFLOPs, 1).padStart(9), fmt(r.ofRoof, 2).padStart(8), r.bound === 'bandwidth' ? 'triad' : r.bound === 'compute' ? 'fp32 peak' : ''].join(' '));
  return lines.join('\n') + '\n';
}

/** Two sets of results side by side: matched by operation, case and backend (or across backends). */
export function formatComparison(a: Result[], b: Result[], names: [string, string]): string {
  const key = (r: Result, withBackend: boolean) => `${r.op}|${r.label}${withBackend ? '|' + r.backend : ''}`;
  // Across backends when the two sets are one backend each and differ.
  const ba = new Set(a.map((r) => r.backend)), bb = new Set(b.map((r) => r.backend));
  const across = ba.size === 1 && bb.size === 1 && [...ba][0] !== [...bb][0];
  const lines = [['op'.padEnd(12), 'case'.padEnd(20), `${names[0]} ms`.padStart(14), `${names[1]} ms`.padStart(14), 'speedup'.padStart(8)].join(' ')];
  for (const r of a) {
    const s = b.find((x) => key(x, !across) === key(r, !across));
    if (!s) continue;
    lines.push([r.op.padEnd(12), (r.label + (across ? '' : ` ${r.backend}`)).padEnd(20), fmt(r.medianMs).padStart(14), fmt(s.medianMs).padStart(14), fmt(r.medianMs / s.medianMs, 2).padStart(8)].join(' '));
  }
  if (lines.length === 1) lines.push('(no case in common)');
  return lines.join('\n') + '\n';
}

export interface BenchOptions {
  ops: string[];
  /** Sizes for every op, or per op by name (default: each op's own). */
  sizes?: number[] | Record<string, number[]>;
  backend: 'cpu' | 'cuda' | 'auto' | 'both';
  out?: string;
  chart?: string;
  measure?: MeasureOptions;
  log?: (line: string) => void;
}

/** Runs `semfield bench`: returns the limits and results it also writes. */
export async function bench(o: BenchOptions): Promise<{ limits: Limits[]; results: Result[]; failures: Failure[] }> {
  const log = o.log ?? (() => undefined);
  const info = device.info();
  const hasCuda = info.cudaDevices.some((d) => d.usable);
  // 'auto': SEMFIELD_BACKEND's choice when it names one, else what 'auto' picks.
  const auto: BenchBackend = info.default === 'cpu' || info.default === 'cuda' ? info.default : info.auto;
  const backends: BenchBackend[] = o.backend === 'both' ? ['cpu', 'cuda'] : o.backend === 'auto' ? [auto] : [o.backend];
  if (backends.includes('cuda') && !hasCuda) throw new BenchUsageError(`--backend ${o.backend} needs a usable CUDA device: ${info.cudaNote || 'none found'}`);
  const ops = o.ops.length ? o.ops.map((n) => {
    const op = OPS.find((x) => x.name === n);
    if (!op) throw new BenchUsageError(`unknown operation '${n}' (one of ${OPS.map((x) => x.name).join(', ')})`);
    return op;
  }) : OPS;
  const limits: Limits[] = [];
  const results: Result[] = [];
  const failures: Failure[] = [];
  const out = o.out ? fs.openSync(o.out, 'w') : undefined;
  const write = (x: object) => out !== undefined && fs.writeSync(out, JSON.stringify(x) + '\n');
  try {
    for (const b of backends) {
      log(`measuring the limits of ${b} ...`);
      const l = await machineLimits(b);
      limits.push(l);
      write(l);
      log(`  ${l.device}: triad ${l.triadGBs.toFixed(1)} GB/s, fp32 peak ${l.peakGflops.toFixed(0)} GFLOP/s (${l.peakSource})`);
    }
    for (const op of ops)
      for (const size of (Array.isArray(o.sizes) ? o.sizes : o.sizes?.[op.name]) ?? op.sizes)
        for (const b of backends) {
          if (op.backends && !op.backends.includes(b)) continue;
          let r: Result;
          try {
            r = await runCase(op, size, b, limits.find((l) => l.backend === b), o.measure);
          } catch (err) {
            // A case the operation refuses is a result of its own; an abort
            // or a defect ends the run.
            if (!(err instanceof SemfieldError) || err.code === 'E_ABORTED') throw err;
            const f: Failure = { type: 'failure', op: op.name, size, backend: b, code: err.code, message: err.message };
            failures.push(f);
            write(f);
            log(`  ${op.name} at ${size} on ${b}: not measured, ${err.code}: ${err.message}`);
            continue;
          }
          results.push(r);
          write(r);
          log(`  ${op.name} ${r.label} on ${b}: ${fmt(r.medianMs)} ms (spread ${fmt(r.spread, 2)}), ${fmt(r.unitsPerSecond)} ${r.unitName}/s${r.ofRoof !== undefined ? `, ${fmt(r.ofRoof, 2)} of the ${r.bound === 'bandwidth' ? 'triad' : 'fp32 peak'}` : ''}`);
        }
  } finally {
    if (out !== undefined) fs.closeSync(out);
  }
  if (o.chart) fs.writeFileSync(o.chart, await chartSvg(rooflineSpec(limits, results)));
  return { limits, results, failures };
}

export const BENCH_HELP = `  semfield bench [op...] [options]             time operations on this machine
      --backend B        cpu, cuda, auto or both (default auto)
      --sizes N,N,...    sizes for every op named (default: each op's own)
      --min-time S       about S seconds of timed calls per case (default 1)
      --out FILE         write NDJSON: the limits, then one line per result (or failure)
      --chart FILE.svg   write the roofline chart
      --list             the operations, their sizes and cost models
      --compare A B      two NDJSON files side by side (speedup = A / B)
`;

/** The `bench` command's arguments (already split from its options by the caller). */
export async function benchCommand(opts: Map<string, string | true>, args: string[], log: (l: string) => void): Promise<number> {
  if (opts.has('--list')) {
    for (const op of OPS) log(`${op.name.padEnd(12)} ${op.doc}; sizes ${op.sizes.join(', ')} (${op.sizeDoc})${op.backends ? `; ${op.backends.join(', ')} only` : ''}`);
    return 0;
  }
  if (opts.has('--compare')) {
    const files = [opts.get('--compare') as string, ...args];
    if (files.length !== 2) throw new BenchUsageError('--compare takes two NDJSON files');
    const [a, b] = files.map((f) => readResults(f));
    log(formatComparison(a.results, b.results, [path.basename(files[0]), path.basename(files[1])]).trimEnd());
    return 0;
  }
  const backend = (opts.get('--backend') as string | undefined) ?? 'auto';
  if (!['cpu', 'cuda', 'auto', 'both'].includes(backend)) throw new BenchUsageError(`--backend must be cpu, cuda, auto or both (got ${backend})`);
  let sizes: number[] | undefined;
  if (opts.has('--sizes')) {
    sizes = String(opts.get('--sizes')).split(',').map(Number);
    if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new BenchUsageError(`--sizes takes whole numbers separated by commas (got ${opts.get('--sizes')})`);
  }
  let minSeconds: number | undefined;
  if (opts.has('--min-time')) {
    minSeconds = Number(opts.get('--min-time'));
    if (!(minSeconds >= 0 && minSeconds <= 600)) throw new BenchUsageError(`--min-time takes seconds from 0 to 600 (got ${opts.get('--min-time')})`);
  }
  const r = await bench({
    ops: args, sizes, backend: backend as BenchOptions['backend'], out: opts.get('--out') as string | undefined, chart: opts.get('--chart') as string | undefined,
    measure: minSeconds !== undefined ? { minSeconds, minSamples: minSeconds < 0.2 ? 3 : 10, warmup: minSeconds < 0.2 ? 1 : 3 } : undefined,
    log,
  });
  log('');
  log(formatResults(r.limits, r.results).trimEnd());
  if (r.failures.length === 0) return 0;
  log(`${r.failures.length} case${r.failures.length > 1 ? 's' : ''} not measured: ${r.failures.map((f) => `${f.op} at ${f.size} on ${f.backend} (${f.code})`).join(', ')}`);
  return 1;
}
