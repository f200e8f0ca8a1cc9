/**
 * The semfield command's batches, as a user runs them (the command in a
 * child process; for Redis, a redis-server on a free loopback port and
 * `semfield worker` processes started before the clock starts):
 *  - scheduling overhead per run: tiny runs (mean shift of 24 words, about
 *    a millisecond), the wall time per extra run between a batch of 20 and
 *    one of 420 (medians of 5), less the runs' own time (divided by the
 *    workers); a difference of medians, so values within about a
 *    millisecond of zero are noise;
 *  - throughput of a 200-run sweep of small fields (64^2 field and basins)
 *    with 1 and 2 local workers, and through Redis with 2 workers against
 *    the local 2 (medians of 3 batches each).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchContext } from './fractal';

const BIN = path.join(__dirname, '..', '..', 'bin', 'semfield.js');
const THEMES = {
  animals: ['dog', 'cat', 'horse', 'cow', 'pig', 'sheep', 'wolf', 'bear'],
  music: ['guitar', 'piano', 'violin', 'drum', 'jazz', 'song', 'album', 'band'],
  weather: ['rain', 'snow', 'wind', 'storm', 'cloud', 'thunder', 'fog', 'frost'],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Wall seconds of one batch, and the sum of its runs' own seconds. */
function batch(dir: string, file: string, args: string[]): { wall: number; runSeconds: number; runs: number } {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, 'run', file, '--out', out, ...args], { encoding: 'utf8', env: { ...process.env, SEMFIELD_BACKEND: 'cpu' } });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`semfield run ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const recs = fs.readFileSync(path.join(out, 'records.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  fs.rmSync(out, { recursive: true, force: true });
  return { wall, runSeconds: recs.reduce((a, x) => a + x.seconds, 0), runs: recs.length };
}

function experiment(dir: string, name: string, runs: number, pipeline: unknown[]): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, input: { kind: 'vocabulary', themes: THEMES }, sweep: { i: Array.from({ length: runs }, (_, i) => i) }, pipeline }));
  return file;
}

export async function batchBench(ctx: BenchContext): Promise<void> {
  process.stdout.write('\nbatches (the semfield command)\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semfield-bench-batch-'));
  let redis: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  try {
    const tiny = [{ op: 'condense' }];
    const small = [{ op: 'field', grid: 64 }, { op: 'basins' }];
    const tiny20 = experiment(dir, 'tiny20', 20, tiny), tiny420 = experiment(dir, 'tiny420', 420, tiny), small200 = experiment(dir, 'small200', 200, small);

    const overhead = (name: string, args: string[], nworkers: number) => {
      const reps = [0, 1, 2, 3, 4];
      const a = reps.map(() => batch(dir, tiny20, args)), b = reps.map(() => batch(dir, tiny420, args));
      const slope = (median(b.map((x) => x.wall)) - median(a.map((x) => x.wall))) / 400;
      const own = median(b.map((x) => x.runSeconds / x.runs)) / nworkers;
      const ms = (slope - own) * 1e3;
      ctx.rows.push({ name, medianMs: slope * 1e3, samples: reps.length, overheadMs: ms });
      process.stdout.write(`  ${name}: ${(slope * 1e3).toFixed(2)} ms per extra run, ${ms.toFixed(2)} ms of it scheduling${Math.abs(ms) < 1 ? ' (within the noise of zero)' : ''}\n`);
    };
    const throughput = (name: string, args: string[], extra: Record<string, number> = {}) => {
      const t = median([0, 1, 2].map(() => batch(dir, small200, args).wall));
      ctx.rows.push({ name, medianMs: t * 1e3, samples: 3, runsPerSecond: 200 / t, ...extra });
      process.stdout.write(`  ${name}: ${(t).toFixed(2)} s, ${(200 / t).toFixed(1)} runs/s\n`);
      return t;
    };

    overhead('batch overhead, 1 worker', ['--workers', '1'], 1);
    overhead('batch overhead, 2 workers', ['--workers', '2'], 2);
    const t1 = throughput('batch 200 fields, 1 worker', ['--workers', '1']);
    const t2 = throughput('batch 200 fields, 2 workers', ['--workers', '2']);
    ctx.rows[ctx.rows.length - 1].speedupVsOneWorker = t1 / t2;
    process.stdout.write(`  2 workers over 1: ${(t1 / t2).toFixed(2)}x\n`);

    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const up = await new Promise<boolean>((resolve) => {
      redis!.on('error', () => resolve(false));
      const t0 = Date.now();
      const poll = () => {
        const c = net.connect(port, '127.0.0.1', () => (c.end(), resolve(true)));
        c.on('error', () => (Date.now() - t0 > 10000 ? resolve(false) : setTimeout(poll, 50)));
      };
      poll();
    });
    if (!up) {
      process.stdout.write('  (redis-server unavailable: the Redis figures are skipped)\n');
      return;
    }
    const url = `redis://127.0.0.1:${port}`;
    const startWorkers = async (n: number, threads: number) => {
      for (const w of workers.splice(0)) w.kill('SIGKILL');
      for (let i = 0; i < n; i++)
        workers.push(spawn(process.execPath, [BIN, 'worker', url], { stdio: 'ignore', env: { ...process.env, SEMFIELD_BACKEND: 'cpu', SEMFIELD_THREADS: String(threads) } }));
      await new Promise((r) => setTimeout(r, 1500));  // connected and waiting
    };
    await startWorkers(1, os.availableParallelism());
    overhead('batch overhead, Redis 1 worker', ['--queue', url], 1);
    await startWorkers(2, Math.max(1, Math.floor(os.availableParallelism() / 2)));
    const tr = throughput('batch 200 fields, Redis 2 workers', ['--queue', url]);
    ctx.rows[ctx.rows.length - 1].ofLocal = t2 / tr;
    process.stdout.write(`  Redis 2 workers against local 2: ${(t2 / tr).toFixed(2)} of the throughput\n`);
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
