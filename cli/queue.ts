/**
 * Batches across machines on BullMQ over Redis.
 *
 * `semfield run FILE --queue redis://HOST:PORT` stores the input once
 * (semfield:input:<hash>, rows and words), enqueues one job per run with an
 * idempotent id (<batch>-<run id>: enqueueing the same batch again, as
 * --resume does, adds nothing twice), and gathers each job's result (the
 * record as the job's return value, the pictures as binary fields of
 * semfield:files:<job id>) into its output folder, where it alone writes.
 * `semfield worker redis://HOST:PORT` (any number, anywhere) takes jobs. A
 * worker killed mid-run holds the job's lock until it expires
 * (SEMFIELD_QUEUE_LOCK_MS, default 30 s); another worker's stalled-job check
 * then puts the job back, so it runs again elsewhere. The coordinator keeps
 * the first result of each run, so every run is recorded exactly once; a
 * run that stalls or fails 3 times is recorded as failed (E_WORKER_LOST).
 */
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { Run } from './experiment';
import { RunResult, executeRun, lostRecord } from './execute';
import type { Dataset } from './inputs';
import { MAX_ATTEMPTS } from './pool';
import type { Executor } from './runner';
import { UsageError } from './store';

export const DEFAULT_QUEUE = 'semfield';

interface JobData {
  input: string;
  experiment: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  run: Run;
}

/** A job's return value: the record, and the paths of its pictures, whose bytes wait in filesKey(job id). */
interface JobResult {
  record: RunResult['record'];
  files: string[];
}

/** Pictures travel as binary hash fields beside the job (not as base64 in its return value and events). */
const filesKey = (jobId: string) => `semfield:files:${jobId}`;

function lockMs(): number {
  const v = Number(process.env.SEMFIELD_QUEUE_LOCK_MS);
  return Number.isFinite(v) && v >= 500 ? v : 30000;
}

/** A connection to the Redis of url, tried for up to 5 s (a clear error instead of endless retries). */
export async function connect(url: string): Promise<IORedis> {
  if (!/^rediss?:\/\/[^/]+/.test(url)) throw new UsageError(`--queue and worker take a Redis URL such as redis://127.0.0.1:6379 (got '${url}')`);
  const deadline = Date.now() + 5000;
  for (;;) {
    const conn = new IORedis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5000, retryStrategy: () => null });
    let why: Error | undefined;
    conn.on('error', (e) => (why ??= e));  // reported below
    try {
      await conn.connect();
      // From here on, reconnect after a dropped connection as ioredis does by default.
      conn.options.retryStrategy = (times) => Math.min(times * 200, 2000);
      return conn;
    } catch (e) {
      conn.disconnect();
      if (Date.now() > deadline) throw new UsageError(`cannot reach Redis at ${url} (tried for 5 s): ${(why ?? (e as Error)).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const inputKey = (hash: string) => `semfield:input:${hash}`;

async function storeDataset(conn: IORedis, hash: string, data: Dataset): Promise<void> {
  const meta = JSON.stringify({ n: data.n, d: data.d, words: data.words, labels: data.labels, source: data.source });
  const x = Buffer.from(data.x.buffer, data.x.byteOffset, data.x.byteLength);
  await conn.multi().hset(inputKey(hash), 'meta', meta, 'x', x).expire(inputKey(hash), 7 * 86400).exec();
}

async function loadDataset(conn: IORedis, hash: string): Promise<Dataset> {
  const [meta, x] = await Promise.all([conn.hget(inputKey(hash), 'meta'), conn.hgetBuffer(inputKey(hash), 'x')]);
  if (!meta || !x) throw new Error(`the batch's input ${hash.slice(0, 12)} is not in Redis (expired, or another Redis)`);
  const m = JSON.parse(meta);
  const rows = new Float32Array(x.length / 4);
  new Uint8Array(rows.buffer).set(x);
  return { ...m, x: rows };
}

/** The coordinator's side: enqueue the runs and gather their results. */
export function redisExecutor(url: string, name = DEFAULT_QUEUE): Executor {
  return async (todo, job, onResult) => {
    const conn = await connect(url);
    const queue = new Queue<JobData, JobResult>(name, { connection: conn });
    const eventsConn = await connect(url);  // QueueEvents blocks on its own connection
    const events = new QueueEvents(name, { connection: eventsConn });
    let sweep: NodeJS.Timeout | undefined;
    try {
      await events.waitUntilReady();
      await storeDataset(conn, job.inputHash, job.data);
      const pending = new Map(todo.map((r) => [`${job.batch}-${r.id}`, r]));
      await queue.addBulk(
        todo.map((run) => ({
          name: job.experiment.name,
          data: { input: job.inputHash, experiment: job.experiment.name, backend: job.backend, run },
          opts: { jobId: `${job.batch}-${run.id}`, attempts: MAX_ATTEMPTS, removeOnComplete: false, removeOnFail: false },
        })),
      );
      job.say(`${todo.length} run(s) queued on ${url} (queue '${name}'); start workers with: semfield worker ${url}`);
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (e?: unknown) => {
          if (settled) return;
          settled = true;
          job.signal.removeEventListener('abort', onAbort);
          if (e) reject(e);
          else resolve();
        };
        const onAbort = () => finish();
        job.signal.addEventListener('abort', onAbort, { once: true });
        const taking = new Set<string>();
        const record = (id: string, result: RunResult) => {
          pending.delete(id);
          try {
            onResult(result);
          } catch (e) {
            return finish(e);
          }
          queue.remove(id).catch(() => {});
          if (pending.size === 0) finish();
        };
        const take = async (id: string, v: JobResult) => {
          if (!pending.has(id) || taking.has(id)) return;
          taking.add(id);
          try {
            const bytes = v.files.length ? await conn.hgetallBuffer(filesKey(id)) : {};
            const missing = v.files.filter((p) => !bytes[p]);
            if (missing.length) throw new Error(`run ${v.record.id}: pictures missing in Redis (${missing.join(', ')})`);
            if (pending.has(id)) record(id, { record: v.record, files: v.files.map((p) => ({ path: p, data: bytes[p] })) });
            conn.del(filesKey(id)).catch(() => {});
          } catch (e) {
            finish(e);
          } finally {
            taking.delete(id);
          }
        };
        const lost = (id: string, why: string) => {
          const run = pending.get(id);
          if (run) record(id, { record: lostRecord(run, job.experiment.name, 'E_WORKER_LOST', `${why} (${MAX_ATTEMPTS} attempts)`), files: [] });
        };
        // Events first (fast), then a sweep every 2 s for anything an event did not bring.
        events.on('completed', ({ jobId, returnvalue }) => {
          if (pending.has(jobId)) void take(jobId, (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as JobResult);
        });
        const check = async (id: string) => {
          const state = await queue.getJobState(id);
          if (state !== 'completed' && state !== 'failed') return;
          const j = (await Job.fromId(queue, id)) as Job<JobData, JobResult> | undefined;
          if (!j || !pending.has(id)) return;
          if (state === 'completed' && j.returnvalue) await take(id, j.returnvalue);
          else if (state === 'failed') lost(id, `the queue gave up on it: ${j.failedReason}`);
        };
        events.on('stalled', ({ jobId }) => {
          const run = pending.get(jobId);
          if (run) job.say(`run ${run.index + 1} (${run.id}): its worker stopped answering (the job's lock expired); the run goes back to the queue`);
        });
        events.on('failed', ({ jobId }) => {
          if (pending.has(jobId)) check(jobId).catch(() => {});
        });
        const sweepAll = async () => {
          for (const id of [...pending.keys()]) if (!taking.has(id)) await check(id);
        };
        sweep = setInterval(() => void sweepAll().catch(() => {}), 2000);
        void sweepAll().catch(() => {});
        job.status(`waiting for workers on ${url}`);
      });
    } finally {
      if (sweep) clearInterval(sweep);
      await events.close().catch(() => {});
      await queue.close().catch(() => {});
      eventsConn.disconnect();
      conn.disconnect();
    }
  };
}

export interface WorkerOptions {
  queueName?: string;
  concurrency?: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

/** The worker's side: take runs from the queue until the signal aborts (then finish the current run and stop). */
export async function runWorker(url: string, o: WorkerOptions): Promise<number> {
  const conn = await connect(url);
  const name = o.queueName ?? DEFAULT_QUEUE;
  const inputs = new Map<string, Dataset>();
  let ran = 0;
  const worker = new Worker<JobData, JobResult>(
    name,
    async (j) => {
      const { input, experiment, backend, run } = j.data;
      let data = inputs.get(input);
      if (!data) {
        data = await loadDataset(conn, input);
        if (inputs.size >= 4) inputs.delete(inputs.keys().next().value!);
        inputs.set(input, data);
      }
      const { record, files } = await executeRun(run, { data, experiment, backend, signal: new AbortController().signal });
      if (files.length) {
        const key = filesKey(j.id!);
        await conn.multi().del(key).hset(key, ...files.flatMap((f) => [f.path, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength)])).expire(key, 86400).exec();
      }
      ran++;
      o.say(`${experiment}: run ${run.index + 1} (${run.id}) ${record.status === 'done' ? `done in ${record.seconds.toFixed(2)} s` : `FAILED: ${record.error!.code}: ${record.error!.message}`}`);
      return { record, files: files.map((f) => f.path) };
    },
    { connection: conn, concurrency: o.concurrency ?? 1, lockDuration: lockMs(), stalledInterval: lockMs(), maxStalledCount: MAX_ATTEMPTS - 1 },
  );
  worker.on('error', (e) => o.say(`worker: ${e.message}`));
  await worker.waitUntilReady();
  o.say(`semfield worker: taking runs from ${url} (queue '${name}', ${o.concurrency ?? 1} at a time); Ctrl-C stops after the current run`);
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await worker.close();
  conn.disconnect();
  return ran;
}
