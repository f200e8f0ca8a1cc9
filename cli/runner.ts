/**
 * Runs an experiment's batch. This process is the batch's only writer: it
 * expands the sweep, skips the runs already recorded, hands the rest to an
 * executor (this process, local worker processes, or workers on other
 * machines through a Redis queue), and for each result writes the pictures
 * and then the record (one whole line) and the report. A failed run is a
 * failed record and the batch goes on; an interrupt leaves every finished
 * record in place for --resume.
 *
 * Exit status of the command (BatchSummary.status): 0 every run done, 3 the
 * batch ended with failed runs, 130 interrupted.
 */
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { Experiment, Run, expand, loadExperiment } from './experiment';
import { RunRecord, RunResult, executeRun } from './execute';
import { Dataset, datasetHash, loadInput } from './inputs';
import { LocalPool } from './pool';
import { redisExecutor } from './queue';
import { writeReport } from './report';
import { OutputFolder, UsageError } from './store';

export { UsageError };
export type { RunRecord };

export interface BatchOptions {
  out: string;
  resume?: boolean;
  fresh?: boolean;
  /** With resume: run the failed runs again (their records are replaced). */
  retryFailed?: boolean;
  backend?: 'auto' | 'cpu' | 'cuda';
  /** Worker processes on this machine (default: as many as the cores allow; 1 runs in this process). */
  workers?: number;
  /** redis://host:port: runs go to the queue, workers anywhere take them. */
  queue?: string;
  queueName?: string;
  /** Run only the runs whose index is i mod n. */
  shard?: { index: number; count: number };
  /** Print each run's step headlines (default: when the batch has at most 3 runs). */
  verbose?: boolean;
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface BatchSummary {
  records: RunRecord[];
  ran: number;
  skipped: number;
  failed: number;
  report: string;
  /** 0 every run done, 3 some failed, 130 interrupted. */
  status: 0 | 3 | 130;
}

/** What an executor needs to run a batch's runs; results come back through onResult, in any order. */
export interface BatchJob {
  experiment: Experiment;
  data: Dataset;
  inputHash: string;
  batch: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  signal: AbortSignal;
  status: (what: string) => void;
  say: (line: string) => void;
}

/** How far report.html may lag behind records.ndjson while a batch runs. */
export const REPORT_LAG_MS = 250;

export type Executor = (todo: Run[], job: BatchJob, onResult: (r: RunResult) => void) => Promise<void>;

/** Runs one after another in this process. */
const inline: Executor = async (todo, job, onResult) => {
  for (const run of todo) {
    if (job.signal.aborted) return;
    onResult(await executeRun(run, { data: job.data, experiment: job.experiment.name, backend: job.backend, signal: job.signal, status: job.status }));
  }
};

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s - 60 * m)).padStart(2, '0')}`;
}

class Progress {
  private last = 0;
  private readonly t0 = Date.now();
  constructor(private readonly err: NodeJS.WritableStream & { isTTY?: boolean }, private readonly total: number, private readonly skipped: number, private readonly workers = 1) {}
  eta(done: number): number {
    // Wall time per run finished by this invocation, times what is left.
    const ran = done - this.skipped;
    return ran > 0 ? ((Date.now() - this.t0) / 1000 / ran) * (this.total - done) : NaN;
  }
  show(done: number, what: string, force = false): void {
    if (!this.err.isTTY) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = 24, fill = Math.round((width * done) / Math.max(1, this.total));
    const bar = '#'.repeat(fill) + '-'.repeat(width - fill);
    const w = this.workers > 1 ? ` · ${this.workers} workers` : '';
    this.err.write(`\r\x1b[K[${bar}] ${done}/${this.total} runs${w} · ${clock((now - this.t0) / 1000)} elapsed · ETA ${clock(this.eta(done))} · ${what}`.slice(0, 160));
  }
  line(msg: string): void {
    this.err.write(this.err.isTTY ? `\r\x1b[K${msg}\n` : `${msg}\n`);
  }
}

/**
 * Worker processes and native threads per run for a batch of `runs`: as many
 * workers as the cores allow given each run's threads (SEMFIELD_THREADS,
 * default 1), or the number asked for; the cores are shared among them.
 */
export function workerPlan(runs: number, asked?: number): { workers: number; threads: number } {
  const cores = Math.max(1, os.availableParallelism());
  const perRun = Number(process.env.SEMFIELD_THREADS) > 0 ? Math.floor(Number(process.env.SEMFIELD_THREADS)) : 1;
  const workers = Math.max(1, Math.min(runs, asked ?? Math.floor(cores / perRun)));
  return { workers, threads: Math.max(1, Math.floor(cores / workers)) };
}

/** A content hash naming the batch in shared places (the Redis queue's job ids). */
function batchKey(exp: Experiment, runs: Run[]): string {
  return crypto.createHash('sha256').update(runs.map((r) => r.id).join(',') + exp.name).digest('hex').slice(0, 16);
}

export async function runExperiment(file: string, o: BatchOptions): Promise<BatchSummary> {
  const err = o.stderr ?? process.stderr, say = o.stdout ?? process.stdout;
  const signal = o.signal ?? new AbortController().signal;
  const exp = loadExperiment(file);
  const folder = OutputFolder.open(o.out);
  // Worker processes start now, while the input is read (sized by the batch before resuming).
  const planned = Object.values(exp.sweep ?? {}).reduce((a, v) => a * v.length, 1) / (o.shard?.count ?? 1);
  const local = o.queue ? undefined : workerPlan(Math.ceil(planned), o.workers);
  const pool = local && local.workers > 1 ? new LocalPool(local.workers, local.threads) : undefined;
  try {
    return await batch(file, exp, folder, o, signal, err, say, local, pool);
  } finally {
    pool?.close();
    folder.close();
  }
}

async function batch(
  file: string, exp: Experiment, folder: OutputFolder, o: BatchOptions, signal: AbortSignal,
  err: NodeJS.WritableStream & { isTTY?: boolean }, say: NodeJS.WritableStream,
  local: { workers: number; threads: number } | undefined, pool: LocalPool | undefined,
): Promise<BatchSummary> {
  const data = await loadInput(exp.input, path.dirname(path.resolve(file)), signal);
  const inputHash = datasetHash(data);
  let runs = expand(exp, inputHash);
  if (o.shard) runs = runs.filter((r) => r.index % o.shard!.count === o.shard!.index);
  if (o.fresh) folder.fresh();
  const read = folder.readRecords();
  for (const p of read.problems) err.write(`semfield: warning: ${p}\n`);
  let existing = read.records;
  if (existing.length && !o.resume)
    throw new UsageError(`${path.join(o.out, 'records.ndjson')} already holds ${existing.length} record(s): pass --resume to continue that batch, or --fresh to start over`);
  const other = existing.find((r) => r.experiment !== exp.name);
  if (other) throw new UsageError(`${path.join(o.out, 'records.ndjson')} holds records of experiment '${other.experiment}', not '${exp.name}': use another --out, or --fresh`);
  if (o.retryFailed) existing = folder.filterRecords(existing, (r) => r.status !== 'failed');
  const ids = new Set(runs.map((r) => r.id));
  const done = new Map(existing.filter((r) => ids.has(r.id)).map((r) => [r.id, r]));
  const todo = runs.filter((r) => !done.has(r.id));
  folder.writeFile('experiment.json', JSON.stringify(exp, null, 2));

  const workers = pool ? Math.min(pool.workers, todo.length) : 1;
  const verbose = o.verbose ?? runs.length <= 3;
  const where = o.queue ? `queue ${o.queue}` : workers > 1 ? `${workers} workers x ${local!.threads} threads` : 'this process';
  say.write(
    `${exp.name}: ${runs.length} run${runs.length === 1 ? '' : 's'}${o.shard ? ` (shard ${o.shard.index}/${o.shard.count})` : ''} (${done.size} already recorded), ` +
      `input ${data.source}, ${data.n} x ${data.d}; ${where}; output ${o.out}\n`,
  );
  const progress = new Progress(err, runs.length, done.size, workers);
  let finished = done.size, failed = [...done.values()].filter((r) => r.status === 'failed').length;
  const ordered = () => runs.filter((r) => done.has(r.id)).map((r) => done.get(r.id)!);
  const report = () => writeReport(folder, exp.name, exp.description, ordered(), runs.length);
  // The report follows the records within REPORT_LAG_MS: rewritten after a run, but not more
  // often than that (a batch of tiny runs would spend its time rewriting it).
  let reported = 0, pendingReport: NodeJS.Timeout | undefined;
  const reportSoon = () => {
    if (pendingReport) return;
    const wait = reported + REPORT_LAG_MS - Date.now();
    const write = () => {
      pendingReport = undefined;
      reported = Date.now();
      report();
    };
    if (wait <= 0) write();
    else pendingReport = setTimeout(write, wait);
  };
  report();

  const onResult = ({ record, files }: RunResult) => {
    if (done.has(record.id) || !ids.has(record.id)) return;  // a retried run that finished twice: recorded once
    for (const f of files) folder.writeFile(f.path, f.data);
    folder.append(record);
    done.set(record.id, record);
    finished++;
    if (record.status === 'failed') failed++;
    const params = Object.entries(record.params).map(([k, v]) => `${k}=${v}`).join(' ');
    const how = record.status === 'failed' ? `FAILED at ${record.error!.op || 'its start'}: ${record.error!.code}: ${record.error!.message}` : `done in ${record.seconds.toFixed(2)} s`;
    progress.line(`run ${record.index + 1}/${runs.length} ${record.id}${params ? ' ' + params : ''} ${how} (ETA ${clock(progress.eta(finished))})`);
    if (verbose) for (const s of record.steps) say.write(`  ${s.op.padEnd(10)} ${s.headline}\n`);
    reportSoon();
  };
  const job: BatchJob = {
    experiment: exp, data, inputHash, batch: batchKey(exp, runs), backend: o.backend ?? exp.backend, signal,
    status: (what) => progress.show(finished, what), say: (l) => progress.line(l),
  };
  if (todo.length) {
    const executor = o.queue ? redisExecutor(o.queue, o.queueName) : pool && workers > 1 ? pool.run : inline;
    try {
      await executor(todo, job, onResult);
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      clearTimeout(pendingReport);
    }
  }
  progress.show(finished, signal.aborted ? 'interrupted' : 'done', true);
  if (err.isTTY) err.write('\n');
  const reportFile = report();
  const ran = finished - (runs.length - todo.length);
  say.write(`${ran} run(s) done, ${runs.length - todo.length} skipped${failed ? `, ${failed} failed` : ''}; ${path.join(o.out, 'records.ndjson')}, ${reportFile}\n`);
  return { records: ordered(), ran, skipped: runs.length - todo.length, failed, report: reportFile, status: signal.aborted && finished < runs.length ? 130 : failed ? 3 : 0 };
}
