/**
 * Local worker processes: a bounded pool of child processes (fork, V8
 * serialization over IPC), each with its share of the native threads,
 * taking one run at a time from the coordinator's queue. A worker that dies
 * mid-run (a crash, the OOM killer, a kill) is replaced and its run handed
 * out again, up to 3 attempts in all; after that the run is recorded as
 * failed with E_WORKER_LOST. Workers write nothing: results come back to the
 * coordinator, which writes them.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { Run } from './experiment';
import { lostRecord } from './execute';
import type { Executor } from './runner';

/** Attempts a run gets when its worker process dies under it. */
export const MAX_ATTEMPTS = 3;

export type ToChild =
  | { type: 'init'; data: unknown; experiment: string; backend?: string }
  | { type: 'run'; run: Run }
  | { type: 'abort' }
  | { type: 'exit' };

/**
 * A pool whose processes start at once (loading the addon and the steps
 * while the coordinator still reads the input); run() hands them the batch.
 * Processes not needed (fewer runs than workers) are let go.
 */
export class LocalPool {
  private readonly idle: ChildProcess[] = [];

  constructor(readonly workers: number, readonly threads: number) {
    for (let i = 0; i < workers; i++) this.idle.push(this.fork());
  }

  private fork(): ChildProcess {
    return fork(path.join(__dirname, 'child.js'), [], {
      serialization: 'advanced',
      env: { ...process.env, SEMFIELD_THREADS: String(this.threads) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  /** Ends the processes that were never given work. */
  close(): void {
    for (const c of this.idle.splice(0)) c.kill('SIGKILL');
  }

  readonly run: Executor = (todo, job, onResult) =>
    new Promise<void>((resolve, reject) => {
      const queue = [...todo];
      const attempts = new Map<string, number>();
      const holding = new Map<ChildProcess, Run | undefined>();
      let stopping = false, failure: unknown, spawns = 0, killTimer: NodeJS.Timeout | undefined;
      const send = (c: ChildProcess, m: ToChild) => {
        if (c.connected) c.send(m);
      };
      const next = (c: ChildProcess) => {
        const run = stopping ? undefined : queue.shift();
        holding.set(c, run);
        send(c, run ? { type: 'run', run } : { type: 'exit' });
      };
      const stop = () => {
        if (stopping) return;
        stopping = true;
        for (const c of holding.keys()) send(c, { type: 'abort' });
        // Workers finish their abort within a fraction of a second; past 10 s they are killed.
        killTimer = setTimeout(() => {
          for (const c of holding.keys()) c.kill('SIGKILL');
        }, 10000);
        killTimer.unref();
      };
      const spawn = (c = this.fork()) => {
        spawns++;
        holding.set(c, undefined);
        send(c, { type: 'init', data: job.data, experiment: job.experiment.name, backend: job.backend });
        next(c);
        c.on('message', (m: { type: string; what?: string; result?: never }) => {
          if (m.type === 'status') job.status(m.what!);
          else if (m.type === 'result') {
            try {
              onResult(m.result!);
            } catch (e) {
              failure ??= e;
              stop();
            }
            next(c);
          } else if (m.type === 'aborted') {
            holding.set(c, undefined);
            send(c, { type: 'exit' });
          }
        });
        c.on('error', (e) => job.say(`worker process: ${e.message}`));
        c.on('exit', (code, sig) => {
          const run = holding.get(c);
          holding.delete(c);
          if (run && !stopping) {
            const n = (attempts.get(run.id) ?? 0) + 1;
            attempts.set(run.id, n);
            const how = `worker process ${c.pid} ended (${sig ?? `exit ${code}`}) during run ${run.index + 1}`;
            if (n < MAX_ATTEMPTS) {
              job.say(`${how}: it runs again (attempt ${n + 1} of ${MAX_ATTEMPTS})`);
              queue.unshift(run);
            } else {
              try {
                onResult({ record: lostRecord(run, job.experiment.name, 'E_WORKER_LOST', `${how}, ${n} times`), files: [] });
              } catch (e) {
                failure ??= e;
                stop();
              }
            }
          }
          // Keep the pool full while runs wait (bounded: a worker that cannot start stops the batch).
          if (!stopping && queue.length && holding.size < this.workers) {
            if (spawns < this.workers + MAX_ATTEMPTS * todo.length) spawn();
            else {
              failure ??= new Error(`worker processes keep ending before they take a run (last: ${sig ?? `exit ${code}`})`);
              stop();
            }
          }
          if (holding.size === 0) {
            if (killTimer) clearTimeout(killTimer);
            job.signal.removeEventListener('abort', stop);
            if (failure) reject(failure);
            else resolve();
          }
        });
      };
      job.signal.addEventListener('abort', stop, { once: true });
      const started = this.idle.splice(0, Math.min(this.workers, queue.length));
      this.close();
      for (const c of started) spawn(c);
      if (holding.size === 0) resolve();
    });
}
