/**
 * Benchmarks (npm run bench): the repository's figures against peers, built
 * on `semfield bench` (cli/bench.ts): its measure() (warm-up, then the median
 * of repeated calls) and its limits, measured in this same run; every ratio
 * is taken against a limit or a peer measured in this same run.
 *  - the limits: STREAM triad a = b + s c in the addon (this machine's memory
 *    bandwidth) and the SGEMM inner kernel's rate on every thread;
 *  - ops: `semfield bench` itself over its table of operations at their
 *    default sizes (bench/results/ops.ndjson and roofline.svg);
 *  - multigrid smoother sweep and residual: effective bandwidth (12 bytes per
 *    cell: read u and f, write u or r) as a fraction of the triad measured
 *    just before and after (triadNowGBs: the bandwidth a shared machine
 *    leaves drifts over minutes);
 *  - whole solves, to the discretisation error and to tol 1e-6, in work units
 *    (solve time / one fp32 residual evaluation of the same size) and ns per
 *    cell from 256^2 to 4096^2 and at 64^3, 128^3 and 256^3;
 *  - periodic and Dirichlet 1024^2 Poisson vs scipy.fft in float32 on all
 *    cores (rfft2; the type-II DST) and a 256^2 Dirichlet solve vs
 *    scipy.sparse.linalg.spsolve (Debian python3 packages).
 *  - the fractal operations (bench/fractal.ts);
 *  - the fractal codec at equal bytes against JPEG and the
 *    fast_fractal_compression encoder, PSNR and SSIM (bench/codec.ts);
 *  - waves, FDTD against MEEP and the mesh resonance (bench/waves.ts);
 *  - the semfield command's batches: scheduling overhead per run and
 *    throughput with local and Redis workers (bench/batch.ts).
 *  - gradients against their forward passes (grad): attention's backward,
 *    the energy distance's gradient.
 * `npm run bench -- fractal` (or ops, mesh, points, grad, waves, batch, codec) runs the limits and those
 * sections only. Results: bench/results/latest.json and a table on stdout.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bench as opsBench, formatResults, machineLimits, measure as time } from '../cli/bench';
import { device, points, potential } from '../lib';
import { native } from '../lib/native';
import type { AttentionKernel } from '../lib/points';
import { batchBench } from './batch';
import { codecBench } from './codec';
import { fractalBench } from './fractal';
import { ortAttention } from './ort';
import { wavesBench } from './waves';

interface Row {
  name: string;
  medianMs: number;
  samples: number;
  [key: string]: number | string | boolean;
}

const rows: Row[] = [];

// Runs one benchmark (sync or async) after a few warm-up calls (JIT,
// scratch buffers, pool threads), and returns the median seconds.
async function measure(name: string, fn: () => void | Promise<unknown>, _async = false, minSamples = 15): Promise<number> {
  const t = await time(fn, { warmup: 5, minSamples, minSeconds: 4 });
  process.stdout.write(`  ${name}: ${t.medianMs.toFixed(3)} ms (median of ${t.samples}, spread ${t.spread.toFixed(2)})\n`);
  return t.medianMs / 1e3;
}

function python(args: string[]): { median_s: number; phi_sum_abs: number } | undefined {
  // (each peer prints one JSON object; the fields differ by peer)
  // A current numpy runs slower under this machine's OPENBLAS_CORETYPE and
  // OPENBLAS_L2_SIZE: they are unset for the peer process only.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync('/usr/bin/python3', [path.join(__dirname, '..', '..', 'bench', 'peers.py'), ...args], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    process.stdout.write(`  (peer ${args[0]} unavailable: ${r.stderr.trim().split('\n').pop()})\n`);
    return undefined;
  }
  return JSON.parse(r.stdout);
}

function sumAbs(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += Math.abs(v);
  return s;
}

// The right-hand side peers.py uses, x fastest.
function rhs(n: number): Float32Array {
  const h = 1 / n;
  const a = new Float32Array(n * n);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const X = (x + 0.5) * h, Y = (y + 0.5) * h;
      a[y * n + x] = Math.fround(Math.sin(2 * Math.PI * X) * Math.sin(4 * Math.PI * Y) + 0.3 * Math.cos(6 * Math.PI * X));
    }
  return a;
}

async function main(): Promise<void> {
  const a = native();
  const info = device.info();
  process.stdout.write(`semfield bench — ${os.cpus()[0]?.model ?? 'cpu'}, ${info.threads} threads, backend ${info.auto}\n`);

  const only = process.argv.slice(2);
  const want = (s: string) => only.length === 0 || only.includes(s);
  const dir = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const triadGBs = await limits();
  if (want('ops')) {
    const r = await opsBench({ ops: [], backend: 'auto', out: path.join(dir, 'ops.ndjson'), chart: path.join(dir, 'roofline.svg'), log: (l) => process.stdout.write(l + '\n') });
    process.stdout.write(formatResults(r.limits, r.results));
  }
  if (want('mesh')) await solves(await kernels(a, triadGBs));
  if (want('points')) await pointsBench();
  if (want('grad')) await gradBench();
  if (want('fractal')) await fractalBench({ rows, measure, triadGBs, triadNow, resultsDir: dir });
  if (want('codec')) await codecBench({ rows, measure, triadGBs, triadNow, resultsDir: dir });
  if (want('waves')) await wavesBench({ rows, measure, triadGBs, triadNow, resultsDir: dir });
  if (want('batch')) await batchBench({ rows, measure, triadGBs, triadNow, resultsDir: dir });

  const result = { date: new Date().toISOString(), host: { cpu: os.cpus()[0]?.model, threads: info.threads, node: process.version }, backend: info.auto, rows };
  fs.writeFileSync(path.join(dir, only.length ? `latest-${only.join('-')}.json` : 'latest.json'), JSON.stringify(result, null, 2));

  process.stdout.write('\n');
  const keys = ['GBs', 'triadNowGBs', 'ofTriad', 'movedOfTriad', 'cycles', 'workUnits', 'numpyFftMs', 'speedupVsNumpy', 'scipySpsolveMs', 'speedupVsScipy', 'agreement', 'cellsPerSecond', 'GFLOPs', 'ofNumpyMatmul', 'overDot', 'overForward', 'peerMs', 'speedupVsPeer', 'peakRssMiB', 'pointsPerSecond', 'pairsPerSecond', 'pixelsPerSecond', 'dimension', 'psnr', 'psnrBelowExhaustive', 'bytes', 'ratio', 'bpp', 'peerCellsPerSecond', 'oneCoreSpeedupVsPeer', 'overheadMs', 'runsPerSecond', 'speedupVsOneWorker', 'ofLocal', 'vCycles', 'lanczosSteps', 'worstResidual', 'converged', 'nsPerCell'];
  const fmt = (v: unknown) => (typeof v === 'number' ? (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3)) : String(v ?? ''));
  const cols = keys.filter((k) => rows.some((r) => r[k] !== undefined));
  process.stdout.write(['benchmark'.padEnd(30), 'median ms'.padStart(10), ...cols.map((k) => k.padStart(14))].join(' ') + '\n');
  for (const r of rows) process.stdout.write([r.name.padEnd(30), r.medianMs.toFixed(3).padStart(10), ...cols.map((k) => fmt(r[k]).padStart(14))].join(' ') + '\n');
  process.stdout.write(`\nwritten: bench/results/${only.length ? `latest-${only.join('-')}.json` : 'latest.json'}\n`);
}

// The triad now (BenchContext.triadNow): the median of five calls over the
// limits' arrays (3 x 128 MiB, allocated on first use).
let triadArrays: Float32Array[] | undefined;
function triadNow(): number {
  const n = 1 << 25;
  triadArrays ??= [new Float32Array(n), new Float32Array(n).fill(1), new Float32Array(n).fill(2)];
  const [A, B, C] = triadArrays;
  const a = native();
  a.triad({ a: A, b: B, c: C, s: 3, backend: 'cpu' });
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    a.triad({ a: A, b: B, c: C, s: 3, backend: 'cpu' });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((x, y) => x - y);
  return (12 * n) / (ms[2] / 1e3) / 1e9;
}

// The limits of this machine (semfield bench's): the STREAM triad over
// arrays far larger than the caches, and the SGEMM inner kernel's rate.
// (Each group of benchmarks lives in its own function so its big arrays are
// garbage by the time the next group runs.)
async function limits(): Promise<number> {
  const l = await machineLimits('cpu');
  process.stdout.write(`  triad ${l.triadGBs.toFixed(1)} GB/s, SGEMM kernel ${l.peakGflops.toFixed(0)} GFLOP/s\n`);
  rows.push({ name: 'triad', medianMs: (12 * (1 << 25)) / (l.triadGBs * 1e9) * 1e3, samples: 1 << 25, GBs: l.triadGBs });
  rows.push({ name: 'sgemm kernel', medianMs: 0, samples: 0, GFLOPs: l.peakGflops });
  return l.triadGBs;
}

// Smoother and residual at each size the solves use: a work unit is one
// fine-grid residual evaluation of the same size in the same run.
async function kernels(a: ReturnType<typeof native>, triadGBs: number): Promise<Record<number, number>> {
  const residualMs: Record<number, number> = {};
  for (const n of [256, 1024, 2048, 4096]) {
    const cells = n * n;
    const grid = { dim: 2, n: [n, n], h: 1 / n, bc: [1, 1] };
    const u = new Float32Array(cells), f = new Float32Array(cells).fill(1), r = new Float32Array(cells);
    const t0 = triadNow();
    const tS = await measure(`RB-GS sweep ${n}^2`, () => a.smoothKernel({ grid, u, f, sweeps: 1 }));
    const t1 = triadNow();
    const tR = await measure(`residual ${n}^2`, () => a.residualKernel({ grid, u, f, r }));
    const t2 = triadNow();
    residualMs[n] = tR * 1e3;
    const GS = (12 * cells) / tS / 1e9, GR = (12 * cells) / tR / 1e9;
    rows.push({ name: `smoother ${n}^2`, medianMs: tS * 1e3, samples: cells, GBs: GS, triadNowGBs: (t0 + t1) / 2, ofTriad: GS / ((t0 + t1) / 2) });
    rows.push({ name: `residual ${n}^2`, medianMs: tR * 1e3, samples: cells, GBs: GR, triadNowGBs: (t1 + t2) / 2, ofTriad: GR / ((t1 + t2) / 2) });
  }
  for (const n of [64, 128, 256]) {
    const cells = n ** 3;
    const grid = { dim: 3, n: [n, n, n], h: 1 / n, bc: [1, 1, 1] };
    const u = new Float32Array(cells), f = new Float32Array(cells).fill(1), r = new Float32Array(cells);
    const tR = await measure(`residual ${n}^3`, () => a.residualKernel({ grid, u, f, r }));
    residualMs[-n] = tR * 1e3;
  }
  return residualMs;
}

// Whole solves, in work units (keys: n for n^2, -n for n^3), to the
// discretisation error (one full multigrid cycle) and to tol 1e-6, and the
// 1024^2 ones against scipy.fft in float32 on all cores solving the same
// discrete problem (rfft2 for periodic, the type-II DST for Dirichlet), with
// the largest difference of the two solutions over the largest value.
async function solves(residualMs: Record<number, number>): Promise<void> {
  for (const bc of ['periodic', 'dirichlet'] as const) {
    for (const n of [256, 1024, 2048, 4096]) {
      const rho = rhs(n), g = { n: [n, n], boundary: bc };
      for (const tol of ['discretization', 1e-6] as const) {
        let last = await potential(rho, g, { field: false, tol });
        const t = await measure(`potential ${bc} ${n}^2 tol ${tol}`, () => potential(rho, g, { field: false, tol }).then((r) => (last = r)), true, n >= 2048 ? 5 : 15);
        let peer: Record<string, number> = {};
        if (n === 1024) {
          const out = path.join(os.tmpdir(), `semfield-bench-${process.pid}-${bc}.f32`);
          const p = python([bc === 'periodic' ? 'fft32' : 'dst32', String(n), '15', out]);
          if (p) {
            const theirs = new Float32Array(fs.readFileSync(out).buffer.slice(0));
            fs.rmSync(out, { force: true });
            let diff = 0, top = 0;
            for (let i = 0; i < theirs.length; i++) {
              diff = Math.max(diff, Math.abs(last.phi[i] - theirs[i]));
              top = Math.max(top, Math.abs(theirs[i]));
            }
            peer = { peerMs: p.median_s * 1e3, speedupVsPeer: p.median_s / t, agreement: diff / top };
          }
        }
        rows.push({
          name: `potential ${bc} ${n}^2 ${tol === 'discretization' ? 'disc.' : 'tol 1e-6'}`, medianMs: t * 1e3, samples: n * n,
          cycles: last.fields[0].cycles, workUnits: (t * 1e3) / residualMs[n], nsPerCell: (t * 1e9) / (n * n), ...peer,
        });
      }
    }
  }

  const n2 = 256;
  const rho2 = rhs(n2);
  let last2 = await potential(rho2, { n: [n2, n2] }, { field: false });
  const tSm = await measure(`potential dirichlet ${n2}^2 tol 1e-6`, () => potential(rho2, { n: [n2, n2] }, { field: false }).then((r) => (last2 = r)), true);
  const sps = python(['spsolve', String(n2), '5']);
  rows.push({
    name: `potential dirichlet ${n2}^2 vs spsolve`,
    medianMs: tSm * 1e3,
    samples: n2 * n2,
    ...(sps ? { scipySpsolveMs: sps.median_s * 1e3, speedupVsScipy: sps.median_s / tSm, agreement: Math.abs(sumAbs(last2.phi) - sps.phi_sum_abs) / sps.phi_sum_abs } : {}),
  });

  for (const n3 of [64, 128, 256]) {
    const rho3 = new Float32Array(n3 ** 3).map((_, i) => Math.sin(i * 0.001));
    for (const bc of n3 === 256 ? (['dirichlet'] as const) : (['dirichlet', 'periodic'] as const))
      for (const tol of ['discretization', 1e-6] as const) {
        let last: Awaited<ReturnType<typeof potential>> | undefined;
        const t = await measure(`potential ${bc} ${n3}^3 tol ${tol}`, () => potential(rho3, { n: [n3, n3, n3], boundary: bc }, { field: false, tol }).then((r) => (last = r)), true, n3 === 256 ? 3 : 5);
        rows.push({
          name: `potential ${bc} ${n3}^3 ${tol === 'discretization' ? 'disc.' : 'tol 1e-6'}`, medianMs: t * 1e3, samples: n3 ** 3,
          cycles: last!.fields[0].cycles, workUnits: (t * 1e3) / residualMs[-n3], nsPerCell: (t * 1e9) / n3 ** 3, cellsPerSecond: n3 ** 3 / t,
        });
      }
  }
}

// Deterministic gaussian points (the peers read the same bytes).
function gaussianPoints(n: number, d: number, seed: number, centres = 1, spread = 1): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const c = Array.from({ length: centres }, () => Array.from({ length: d }, () => (u() - 0.5) * 12));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let q = 0; q < d; q++) x[i * d + q] = c[i % centres][q] + spread * g();
  return x;
}

// Writes points (and labels) for a peer to read; removed when the bench exits.
function peerFile(x: Float32Array, labels?: Int32Array): string {
  const f = path.join(os.tmpdir(), `semfield-bench-${process.pid}.f32`);
  fs.writeFileSync(f, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  if (labels) fs.writeFileSync(f + '.labels', Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
  process.once('exit', () => {
    fs.rmSync(f, { force: true });
    fs.rmSync(f + '.labels', { force: true });
  });
  return f;
}

// The points view: pair-kernel throughput against numpy's float32 matmul,
// field attention against dot-product attention, and induce / condense
// against scikit-learn on the same data.
async function pointsBench(): Promise<void> {
  const n = 4096;
  for (const d of [64, 384]) {
    const x = gaussianPoints(n, d, d);
    const file = peerFile(x);
    const mm = python(['matmul', String(n), String(d), '10']) as unknown as { gflops: number } | undefined;
    for (const kernel of [{ kind: 'gaussian', sigma: Math.sqrt(d) }, { kind: 'energy' }] as const) {
      const ours = await points.potential(x, x, { d, kernel });
      const t = await measure(`pair sum ${kernel.kind} ${n}x${n} d=${d}`, () => points.potential(x, x, { d, kernel }), true, 8);
      const gf = (2 * d * n * n) / t / 1e9;
      const p = kernel.kind === 'gaussian' ? 1 / (2 * kernel.sigma ** 2) : 0;
      const np = python(['pairsum', file, String(d), kernel.kind, String(p), '8']) as unknown as { median_s: number; phi: number[] } | undefined;
      let agreement: number | undefined;
      if (np) {
        agreement = 0;
        for (let i = 0; i < n; i++) agreement = Math.max(agreement, Math.abs(ours[i] - np.phi[i]) / Math.abs(np.phi[i]));
      }
      rows.push({
        name: `pairs ${kernel.kind} d=${d}`, medianMs: t * 1e3, samples: n * n, GFLOPs: gf, ...(mm ? { ofNumpyMatmul: gf / mm.gflops } : {}),
        ...(np ? { peerMs: np.median_s * 1e3, speedupVsPeer: np.median_s / t, agreement } : {}),
      });
    }
  }
  {
    const d = 64;
    const Q = gaussianPoints(n, d, 1), K = gaussianPoints(n, d, 2), V = gaussianPoints(n, d, 3);
    const tDot = await measure(`attention dot ${n}x${n} d=${d}`, () => points.attention(Q, K, V, { d }), true, 8);
    const ort = await ortAttention(1, n, n, d, d, device.info().threads);
    let peer: Row | Record<string, never> = {};
    if (ort) {
      const ours = await points.attention(Q, K, V, { d });
      const theirs = await ort.run(Q, K, V);
      let diff = 0;
      for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
      const tOrt = await measure(`onnxruntime-node ${ort.version} attention ${n}x${n} d=${d}`, () => ort.run(Q, K, V), true, 8);
      peer = { name: '', medianMs: 0, samples: 0, peerMs: tOrt * 1e3, speedupVsPeer: tOrt / tDot, agreement: diff };
    } else {
      process.stdout.write('  (onnxruntime-node peer skipped: ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node onnx-proto, or SEMFIELD_ORT_DIR)\n');
    }
    rows.push({ ...peer, name: 'attention dot', medianMs: tDot * 1e3, samples: n * n, GFLOPs: (4 * d * n * n) / tDot / 1e9 });
    const kernels: AttentionKernel[] = [
      { kind: 'gaussian', sigma: 8 }, { kind: 'energy' }, { kind: 'coulomb' }, { kind: 'yukawa', kappa: 0.1 }, { kind: 'matern32', length: 8 },
    ];
    for (const kernel of kernels) {
      const t = await measure(`attention ${kernel.kind} ${n}x${n} d=${d}`, () => points.attention(Q, K, V, { d, kernel }), true, 8);
      rows.push({ name: `attention ${kernel.kind}`, medianMs: t * 1e3, samples: n * n, GFLOPs: (4 * d * n * n) / t / 1e9, overDot: t / tDot });
    }
  }
  {
    // Memory stays O(N + M): a 40000 x 40000 pair sum in a fresh process,
    // whose N x M matrix would be 6.4 GB, against the process's peak RSS.
    const script = `
      const fs = require('fs'); const { points } = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
      const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      const n = 40000, d = 16, x = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.7));
      const before = hwm(), t = process.hrtime.bigint();
      points.potential(x, x, { d, kernel: { kind: 'energy' } }).then(async () => {
        const after = hwm(), ms = Number(process.hrtime.bigint() - t) / 1e6;
        console.log(JSON.stringify({ before, after, ms }));
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (r.status === 0) {
      const m = JSON.parse(r.stdout) as { before: number; after: number; ms: number };
      process.stdout.write(`  pair sum 40000x40000 d=16: ${m.ms.toFixed(0)} ms, peak RSS +${((m.after - m.before) / 2 ** 20).toFixed(1)} MiB (the N x M matrix: 6104 MiB)\n`);
      rows.push({ name: 'pairs 40000^2 memory', medianMs: m.ms, samples: 40000 * 40000, peakRssMiB: (m.after - m.before) / 2 ** 20, GFLOPs: (2 * 16 * 40000 * 40000) / (m.ms / 1e3) / 1e9 });
    }
  }
  for (const N of [2000, 20000]) {
    // The library's default tolerance (1e-8); sklearn's LabelPropagation at
    // tol 1e-10 on its dense N x N kernel (3.2 GB at N = 20000).
    const d = 10, sigma = 1.5;
    const x = gaussianPoints(N, d, 7, 4, 1.2);
    const truth = Int32Array.from({ length: N }, (_, i) => i % 4);
    const y = Int32Array.from(truth, (t, i) => (i % 20 === 0 ? t : -1));
    const labeled = Int32Array.from(Array.from(y.keys()).filter((i) => y[i] >= 0));
    const values = new Float32Array(labeled.length * 4);
    labeled.forEach((i, l) => (values[l * 4 + truth[i]] = 1));
    let ours = await points.induce(x, { d, labeled, values, kernel: { kind: 'gaussian', sigma } });
    const t = await measure(`induce ${N} points d=${d}`, async () => (ours = await points.induce(x, { d, labeled, values, kernel: { kind: 'gaussian', sigma } })), true, N > 5000 ? 3 : 5);
    const lp = python(['labelprop', peerFile(x, y), String(d), String(1 / (2 * sigma * sigma)), N > 5000 ? '1' : '5']) as unknown as { median_s: number; labels: number[] } | undefined;
    rows.push({
      name: `induce ${N} d=${d}`, medianMs: t * 1e3, samples: N,
      ...(lp ? { peerMs: lp.median_s * 1e3, speedupVsPeer: lp.median_s / t, agreement: lp.labels.filter((v, i) => v === ours.labels[i]).length / N } : {}),
    });
  }
  {
    const N = 1500, d = 2, bw = 1.5;
    const x = gaussianPoints(N, d, 9, 5, 0.6);
    let ours = await points.condense(x, { d, kernel: { kind: 'flat', radius: bw } });
    const t = await measure(`condense ${N} points d=${d}`, async () => (ours = await points.condense(x, { d, kernel: { kind: 'flat', radius: bw } })), true, 5);
    const ms = python(['meanshift', peerFile(x), String(d), String(bw)]) as unknown as { median_s: number; labels: number[]; k: number } | undefined;
    rows.push({
      name: `condense ${N} d=${d}`, medianMs: t * 1e3, samples: N,
      ...(ms ? { peerMs: ms.median_s * 1e3, speedupVsPeer: ms.median_s / t, agreement: ms.k === ours.k ? ms.labels.filter((v, i) => v === ours.labels[i]).length / N : 0 } : {}),
    });
  }
}

// The gradients against their forward passes, in one run: attention's
// backward (4096 x 4096, d = 64) with the forward's saved statistics and
// with the forward run again, and the energy distance's gradient.
async function gradBench(): Promise<void> {
  const n = 4096;
  {
    const d = 64;
    const Q = gaussianPoints(n, d, 1), K = gaussianPoints(n, d, 2), V = gaussianPoints(n, d, 3);
    // The backward pass against the forward: with the forward's saved output
    // and log-sum-exp (as FlashAttention's backward takes them), and alone
    // (the forward run again inside).
    const dOut = gaussianPoints(n, d, 4);
    for (const kernel of [{ kind: 'dot' }, { kind: 'gaussian', sigma: 8 }] as AttentionKernel[]) {
      const tf = await measure(`attention ${kernel.kind} ${n}x${n} d=${d}`, () => points.attention(Q, K, V, { d, kernel }), true, 8);
      const saved = await points.attention(Q, K, V, { d, kernel, returnLse: true });
      const ts = await measure(`attentionGrad ${kernel.kind} ${n}x${n} d=${d}, saved statistics`, () => points.attentionGrad(Q, K, V, dOut, { d, kernel, saved }), true, 8);
      const tb = await measure(`attentionGrad ${kernel.kind} ${n}x${n} d=${d}, forward again`, () => points.attentionGrad(Q, K, V, dOut, { d, kernel }), true, 8);
      rows.push({ name: `attentionGrad ${kernel.kind}`, medianMs: ts * 1e3, samples: n * n, overForward: ts / tf });
      rows.push({ name: `attentionGrad ${kernel.kind}, forward again`, medianMs: tb * 1e3, samples: n * n, overForward: tb / tf });
    }
  }
  {
    // The energy distance's gradient against the distance itself.
    const d = 64;
    const X = gaussianPoints(n, d, 5), Y = gaussianPoints(n, d, 6);
    const te = await measure(`energyDistance ${n}x${n} d=${d}`, () => points.energyDistance(X, Y, { d }), true, 8);
    const tg = await measure(`energyDistanceGrad ${n}x${n} d=${d}`, () => points.energyDistanceGrad(X, Y, { d }), true, 8);
    rows.push({ name: 'energyDistance', medianMs: te * 1e3, samples: n * n });
    rows.push({ name: 'energyDistanceGrad', medianMs: tg * 1e3, samples: n * n, overForward: tg / te });
  }
  {
    // Memory stays O(N + M) for the gradients too, each in a fresh process:
    // the energy distance's between two sets of 20000 (its pairs: 40000^2 / 2)
    // and attention's backward at 40000 x 40000, d = 16, against peak RSS.
    for (const op of ['energyDistanceGrad', 'attentionGrad']) {
      const script = `
        const fs = require('fs'); const { points } = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
        const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
        const n = 40000, d = 16, x = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.7));
        const y = Float32Array.from({ length: n * d }, (_, i) => Math.cos(i * 0.3));
        const before = hwm(), t = process.hrtime.bigint();
        const run = ${JSON.stringify(op)} === 'attentionGrad'
          ? points.attentionGrad(x, y, x, y, { d })
          : points.energyDistanceGrad(x.subarray(0, n * d / 2), x.subarray(n * d / 2), { d });
        run.then(() => console.log(JSON.stringify({ before, after: hwm(), ms: Number(process.hrtime.bigint() - t) / 1e6 })));`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${op} memory check: ${r.stderr}`);
      const m = JSON.parse(r.stdout) as { before: number; after: number; ms: number };
      const what = op === 'attentionGrad' ? 'attentionGrad 40000x40000 d=16' : 'energyDistanceGrad 20000 + 20000 d=16';
      process.stdout.write(`  ${what}: ${m.ms.toFixed(0)} ms, peak RSS +${((m.after - m.before) / 2 ** 20).toFixed(1)} MiB\n`);
      rows.push({ name: `${op} 40000 memory`, medianMs: m.ms, samples: 40000 * 40000, peakRssMiB: (m.after - m.before) / 2 ** 20 });
    }
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
