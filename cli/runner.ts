/**
 * Runs an experiment's batch: one record per run appended to
 * records.ndjson as each run finishes (a whole line at a time), pictures
 * under runs/<id>/, report.html at the end. With resume, runs whose records
 * are already there are skipped, so an interrupted batch continues where it
 * stopped; a last line cut off by a kill is dropped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SemfieldError, device } from '../lib';
import { Experiment, Run, expand, loadExperiment } from './experiment';
import { Dataset, loadInput } from './inputs';
import { writeReport } from './report';
import { RunState, STEP_FNS, StepError } from './steps';

export interface RunRecord {
  id: string;
  index: number;
  experiment: string;
  params: Record<string, number | string | boolean>;
  steps: ({ op: string; headline: string } & Record<string, unknown>)[];
  pictures: string[];
  seconds: number;
  backend: string;
}

export interface BatchOptions {
  out: string;
  resume?: boolean;
  fresh?: boolean;
  backend?: 'auto' | 'cpu' | 'cuda';
  /** Print each run's step headlines (default: when the batch has at most 3 runs). */
  verbose?: boolean;
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A problem with how the command was used (exit status 2). */
export class UsageError extends Error {}

function readRecords(file: string): RunRecord[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const out: RunRecord[] = [];
  let good = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      good += line.length + 1;
      continue;
    }
    try {
      out.push(JSON.parse(line) as RunRecord);
      good += line.length + 1;
    } catch {
      break;  // a line cut off by a kill: it and anything after it are dropped
    }
  }
  if (good < text.length) fs.truncateSync(file, Buffer.byteLength(text.slice(0, good)));
  return out;
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s - 60 * m)).padStart(2, '0')}`;
}

class Progress {
  private last = 0;
  private readonly t0 = Date.now();
  constructor(private readonly err: NodeJS.WritableStream & { isTTY?: boolean }, private readonly total: number) {}
  eta(done: number, spent: number[]): number {
    if (!spent.length) return NaN;
    return (spent.reduce((a, b) => a + b, 0) / spent.length) * (this.total - done);
  }
  show(done: number, spent: number[], what: string, force = false): void {
    if (!this.err.isTTY) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = 24, fill = Math.round((width * done) / Math.max(1, this.total));
    const bar = '#'.repeat(fill) + '-'.repeat(width - fill);
    this.err.write(`\r\x1b[K[${bar}] ${done}/${this.total} runs · ${clock((now - this.t0) / 1000)} elapsed · ETA ${clock(this.eta(done, spent))} · ${what}`.slice(0, 160));
  }
  line(msg: string): void {
    this.err.write(this.err.isTTY ? `\r\x1b[K${msg}\n` : `${msg}\n`);
  }
}

async function runOne(run: Run, data: Dataset, exp: Experiment, o: BatchOptions, status: (s: string) => void): Promise<RunRecord> {
  const t0 = process.hrtime.bigint();
  const rel = path.posix.join('runs', run.id);
  const st: RunState = {
    data, dir: path.join(o.out, rel), rel, backend: o.backend ?? exp.backend, signal: o.signal ?? new AbortController().signal,
    status, pictures: [],
  };
  fs.rmSync(st.dir, { recursive: true, force: true });  // pictures of an interrupted attempt
  const steps: RunRecord['steps'] = [];
  for (const [i, step] of run.pipeline.entries()) {
    status(`run ${run.index + 1}: ${step.op}`);
    try {
      const { op, ...opts } = step;
      const r = await STEP_FNS[op](st, opts);
      steps.push({ op, headline: r.headline, ...r.summary });
    } catch (e) {
      if (e instanceof SemfieldError && e.code === 'E_ABORTED') throw e;
      if (e instanceof StepError || e instanceof SemfieldError) throw new UsageError(`run ${run.index + 1} (${run.id}), pipeline[${i}] (${step.op}): ${e.message}`);
      throw e;
    }
  }
  return {
    id: run.id, index: run.index, experiment: exp.name, params: run.params, steps, pictures: st.pictures,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    backend: st.backend && st.backend !== 'auto' ? st.backend : device.info().auto,
  };
}

export async function runExperiment(file: string, o: BatchOptions): Promise<{ records: RunRecord[]; ran: number; skipped: number; report: string }> {
  const out = process.stdout, err = o.stderr ?? process.stderr, say = o.stdout ?? out;
  const exp = loadExperiment(file);
  const runs = expand(exp);
  fs.mkdirSync(o.out, { recursive: true });
  const recFile = path.join(o.out, 'records.ndjson');
  if (o.fresh) {
    fs.rmSync(recFile, { force: true });
    fs.rmSync(path.join(o.out, 'runs'), { recursive: true, force: true });
  }
  const existing = readRecords(recFile);
  if (existing.length && !o.resume)
    throw new UsageError(`${recFile} already holds ${existing.length} record(s): pass --resume to continue that batch, or --fresh to start over`);
  const other = existing.find((r) => r.experiment !== exp.name);
  if (other) throw new UsageError(`${recFile} holds records of experiment '${other.experiment}', not '${exp.name}': use another --out, or --fresh`);
  const ids = new Set(runs.map((r) => r.id));
  const done = new Map(existing.filter((r) => ids.has(r.id)).map((r) => [r.id, r]));
  const todo = runs.filter((r) => !done.has(r.id));
  const data = loadInput(exp.input, path.dirname(path.resolve(file)));
  fs.writeFileSync(path.join(o.out, 'experiment.json'), JSON.stringify(exp, null, 2));
  const verbose = o.verbose ?? runs.length <= 3;
  say.write(`${exp.name}: ${runs.length} run${runs.length === 1 ? '' : 's'} (${done.size} already recorded), input ${data.source}, ${data.n} x ${data.d}; output ${o.out}\n`);
  const progress = new Progress(err, runs.length);
  const spent: number[] = [];
  let finished = done.size;
  for (const run of todo) {
    const rec = await runOne(run, data, exp, o, (what) => progress.show(finished, spent, what));
    fs.appendFileSync(recFile, JSON.stringify(rec) + '\n');
    done.set(rec.id, rec);
    spent.push(rec.seconds);
    finished++;
    progress.line(`run ${run.index + 1}/${runs.length} ${rec.id} ${Object.entries(run.params).map(([k, v]) => `${k}=${v}`).join(' ')} done in ${rec.seconds.toFixed(2)} s (ETA ${clock(progress.eta(finished, spent))})`);
    if (verbose) for (const s of rec.steps) say.write(`  ${s.op.padEnd(10)} ${s.headline}\n`);
  }
  progress.show(finished, spent, 'done', true);
  if (err.isTTY) err.write('\n');
  const records = runs.map((r) => done.get(r.id)!);
  const report = writeReport(o.out, exp.name, exp.description, records);
  say.write(`${todo.length} run(s) done, ${done.size - todo.length} skipped; ${recFile}, ${report}\n`);
  return { records, ran: todo.length, skipped: runs.length - todo.length, report };
}
