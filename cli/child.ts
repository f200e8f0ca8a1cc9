/**
 * A local worker process (cli/pool.ts): takes runs from the coordinator over
 * IPC and sends back each run's record and pictures. It ignores SIGINT (a
 * Ctrl-C reaches the whole process group; the coordinator decides) and
 * exits when the coordinator goes away.
 */
import type { Run } from './experiment';
import { executeRun, isAbort, lostRecord } from './execute';
import type { Dataset } from './inputs';
import type { ToChild } from './pool';

let data: Dataset | undefined, experiment = '', backend: 'auto' | 'cpu' | 'cuda' | undefined;
let current: AbortController | undefined;
let lastStatus = 0;

process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(0));

const send = (m: unknown) => {
  if (process.connected) process.send!(m);
};

async function run(r: Run): Promise<void> {
  current = new AbortController();
  try {
    const result = await executeRun(r, {
      data: data!, experiment, backend, signal: current.signal,
      status: (what) => {
        const now = Date.now();
        if (now - lastStatus > 100) (lastStatus = now), send({ type: 'status', what });
      },
    });
    send({ type: 'result', result });
  } catch (e) {
    if (isAbort(e)) send({ type: 'aborted' });
    else send({ type: 'result', result: { record: lostRecord(r, experiment, 'E_INTERNAL', e instanceof Error ? e.message : String(e)), files: [] } });
  } finally {
    current = undefined;
  }
}

process.on('message', (m: ToChild) => {
  if (m.type === 'init') {
    data = m.data as Dataset;
    experiment = m.experiment;
    backend = m.backend as typeof backend;
  } else if (m.type === 'run') void run(m.run);
  else if (m.type === 'abort') {
    if (current) current.abort();
    else send({ type: 'aborted' });
  } else if (m.type === 'exit') process.exit(0);
});
