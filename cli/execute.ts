/**
 * One run of a batch, wherever it executes (the command's own process, a
 * local worker process, or a remote worker taking jobs from Redis): the
 * pipeline's steps in order, giving a record and the pictures as bytes. It
 * writes nothing: the coordinating process writes records and pictures, so
 * a killed worker can lose no file and leave none half-written.
 *
 * A step that fails makes a failed record (with the error's code and
 * message and the steps done before it); only an abort (E_ABORTED) leaves
 * the run without a record, to be run again on --resume.
 */
import * as path from 'node:path';
import { SemfieldError, device } from '../lib';
import type { Run } from './experiment';
import type { Dataset } from './inputs';
import { Figure, RunState, STEP_FNS, StepError } from './steps';

export interface RunRecord {
  id: string;
  index: number;
  experiment: string;
  params: Record<string, number | string | boolean>;
  /** 'done', or 'failed' with error set. */
  status: 'done' | 'failed';
  steps: ({ op: string; headline: string } & Record<string, unknown>)[];
  pictures: string[];
  /** Each picture with its chart's specification (a script, for the report's interactive copy) and a caption. */
  figures: Figure[];
  error?: { step: number; op: string; code: string; message: string };
  seconds: number;
  backend: string;
}

export interface RunResult {
  record: RunRecord;
  /** Pictures, paths relative to the output folder (as listed in record.pictures). */
  files: { path: string; data: Uint8Array }[];
}

export interface RunContext {
  data: Dataset;
  experiment: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  signal: AbortSignal;
  status?: (what: string) => void;
}

/** The code a failed run's record carries for an error. */
export function errorCode(e: unknown): string {
  if (e instanceof SemfieldError) return e.code;
  if (e instanceof StepError) return 'E_STEP';
  return 'E_INTERNAL';
}

export function isAbort(e: unknown): boolean {
  return e instanceof SemfieldError && e.code === 'E_ABORTED';
}

export async function executeRun(run: Run, ctx: RunContext): Promise<RunResult> {
  const t0 = process.hrtime.bigint();
  const rel = path.posix.join('runs', run.id);
  const st: RunState = { data: ctx.data, rel, backend: ctx.backend, signal: ctx.signal, status: ctx.status ?? (() => {}), pictures: [], files: [], figures: [] };
  const steps: RunRecord['steps'] = [];
  let error: RunRecord['error'];
  for (const [i, step] of run.pipeline.entries()) {
    st.status(`run ${run.index + 1}: ${step.op}`);
    try {
      const { op, ...opts } = step;
      const r = await STEP_FNS[op](st, opts);
      steps.push({ op, headline: r.headline, ...r.summary });
    } catch (e) {
      if (isAbort(e) || ctx.signal.aborted) throw e instanceof SemfieldError ? e : new SemfieldError('E_ABORTED', 'the run was interrupted');
      error = { step: i, op: step.op, code: errorCode(e), message: e instanceof Error ? e.message : String(e) };
      break;
    }
  }
  const record: RunRecord = {
    id: run.id, index: run.index, experiment: ctx.experiment, params: run.params,
    status: error ? 'failed' : 'done', steps, pictures: st.pictures, figures: st.figures, ...(error ? { error } : {}),
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    backend: ctx.backend && ctx.backend !== 'auto' ? ctx.backend : device.info().auto,
  };
  return { record, files: st.files };
}

/** The record of a run that could not be run to its end by any worker. */
export function lostRecord(run: Run, experiment: string, code: string, message: string): RunRecord {
  return { id: run.id, index: run.index, experiment, params: run.params, status: 'failed', steps: [], pictures: [], figures: [], error: { step: -1, op: '', code, message }, seconds: 0, backend: 'none' };
}
