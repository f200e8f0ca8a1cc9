// Batches across processes through a real Redis (Debian's redis-server,
// started here on 127.0.0.1 with a free port, stopped after): two workers
// give the records of a local batch, and a worker killed with SIGKILL
// mid-run loses nothing: its run is taken again and every run is recorded
// exactly once.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { THEMES, freePort, records, scratch, semfieldIn, stableById, start, until, writeIn } from './cli-helpers';

const tmp = scratch('semfield-queue-');
let redis: ChildProcess, url = '';

beforeAll(async () => {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    redis.on('error', (e) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${e.message}`)));
    const t0 = Date.now();
    const poll = () => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), resolve()));
      c.on('error', () => (Date.now() - t0 > 10000 ? reject(new Error('redis-server did not listen')) : setTimeout(poll, 50)));
    };
    poll();
  });
  url = `redis://127.0.0.1:${port}`;
});

afterAll(() => redis?.kill('SIGTERM'));

const workers: ReturnType<typeof start>[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.kill('SIGKILL');
    await w.done;
  }
});

function worker(name: string, env: NodeJS.ProcessEnv = {}) {
  const w = start(tmp, ['worker', url, '--queue-name', name], { SEMFIELD_THREADS: '1', ...env });
  workers.push(w);
  return w;
}

test('two workers through Redis give the records and pictures of a local batch', async () => {
  const file = writeIn(tmp, 'q.json', {
    name: 'q', input: { kind: 'vocabulary', themes: THEMES }, sweep: { kappa: [4, 8, 12, 16, 20, 24] },
    pipeline: [{ op: 'field', grid: 128, kappa: '$kappa' }, { op: 'basins' }, { op: 'spectrum', a: 'music', b: 'weather', count: 30 }],
  });
  const local = path.join(tmp, 'out-local'), queued = path.join(tmp, 'out-queued');
  expect(semfieldIn(tmp, ['run', file, '--out', local, '--workers', '1']).status).toBe(0);
  const a = worker('q1'), b = worker('q1');
  const r = start(tmp, ['run', file, '--out', queued, '--queue', url, '--queue-name', 'q1']);
  expect(await r.done).toBe(0);
  expect(r.err()).toMatch(/6 run\(s\) queued on redis:\/\/127\.0\.0\.1:\d+ \(queue 'q1'\)/);
  const recs = records(queued);
  expect(recs).toHaveLength(6);
  expect(new Map([...stableById(recs)].sort())).toEqual(new Map([...stableById(records(local))].sort()));
  for (const rec of recs) for (const p of rec.pictures) expect(fs.readFileSync(path.join(queued, p)).equals(fs.readFileSync(path.join(local, p)))).toBe(true);
  // Both workers took runs.
  await until('the workers to report', () => /done in/.test(a.out()) && /done in/.test(b.out()), 5000).catch(() => {});
  expect((a.out().match(/done in/g) ?? []).length + (b.out().match(/done in/g) ?? []).length).toBe(6);
  // Resuming the finished batch enqueues nothing.
  const again = semfieldIn(tmp, ['run', file, '--out', queued, '--queue', url, '--queue-name', 'q1', '--resume']);
  expect(again.status).toBe(0);
  expect(again.stdout).toMatch(/0 run\(s\) done, 6 skipped/);
}, 120000);

test('a worker killed with SIGKILL mid-run: the run is taken again and recorded exactly once', async () => {
  const file = writeIn(tmp, 'k.json', {
    name: 'k', input: { kind: 'vocabulary', themes: THEMES }, sweep: { kappa: [4, 8, 12, 16, 20, 24, 28, 32] },
    pipeline: [{ op: 'field', grid: 512, kappa: '$kappa' }, { op: 'basins' }],
  });
  const out = path.join(tmp, 'out-killed');
  const env = { SEMFIELD_QUEUE_LOCK_MS: '1500' };
  const victim = worker('q2', env), other = worker('q2', env);
  const r = start(tmp, ['run', file, '--out', out, '--queue', url, '--queue-name', 'q2']);
  // Once the victim has finished one run it holds the next: kill it there.
  await until('a first run on the victim', () => /done in/.test(victim.out()));
  victim.kill('SIGKILL');
  expect(await r.done).toBe(0);
  expect(r.err()).toMatch(/its worker stopped answering \(the job's lock expired\); the run goes back to the queue/);
  const recs = records(out);
  expect(recs).toHaveLength(8);
  expect(new Set(recs.map((x) => x.id)).size).toBe(8);
  expect(recs.every((x) => x.status === 'done')).toBe(true);
  expect((other.out().match(/done in/g) ?? []).length).toBeGreaterThanOrEqual(8 - (victim.out().match(/done in/g) ?? []).length);
}, 120000);

test('an unreachable Redis is a clear error', () => {
  const file = writeIn(tmp, 'u.json', { name: 'u', input: { kind: 'vocabulary', first: 10 }, pipeline: [{ op: 'condense' }] });
  const r = semfieldIn(tmp, ['run', file, '--out', path.join(tmp, 'out-u'), '--queue', 'redis://127.0.0.1:1']);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  expect(semfieldIn(tmp, ['worker', 'http://x']).stderr).toMatch(/take a Redis URL/);
});
