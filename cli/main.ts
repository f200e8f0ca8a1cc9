/**
 * The semfield command (usage in HELP below).
 *
 * Exit status: 0 done, 1 a failure of semfield itself (an output folder it
 * cannot write, an unreachable Redis mid-batch), 2 bad usage or a bad
 * experiment file (the message names the field), 3 the batch ran to its end
 * but some runs failed (each is a failed record with its error), 130
 * interrupted (rerun with --resume to continue).
 */
import * as path from 'node:path';
import { SemfieldError, device } from '../lib';
import { BENCH_HELP, BenchUsageError, benchCommand } from './bench';
import { ExperimentError, VERSION, stepsMarkdown } from './experiment';
import { InputError } from './inputs';
import { merge } from './merge';
import { runWorker } from './queue';
import { UsageError, runExperiment } from './runner';

const HELP = `semfield ${VERSION} — semantic fields from the command line

  semfield run <experiment.json> [options]   run an experiment's batch
      --out DIR          output folder (default: out/<experiment file name>)
      --resume           continue a batch: skip the runs already in records.ndjson
      --retry-failed     with --resume: run the failed runs again
      --fresh            remove what semfield wrote in the folder and start over
      --backend B        cpu, cuda or auto (default: the file's, else auto)
      --workers N        runs at a time on this machine, each in its own process
                         (default: as many as the cores allow; 1 runs in this process)
      --queue URL        send the runs to workers through Redis (redis://host:port)
      --queue-name NAME  the queue's name (default semfield)
      --shard I/N        run only the runs whose index is I mod N (I from 0; I may be
                         'env': JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or SEMFIELD_SHARD_INDEX)
      --verbose          print every run's step headlines (default for <= 3 runs)
  semfield worker <redis://host:port> [--queue-name NAME] [--concurrency N]
                                              take runs from a queue until Ctrl-C
  semfield merge --out DIR <shard folder>...  combine the folders of a sharded batch
  semfield steps [--markdown]                 the pipeline steps, their options and defaults
  semfield info                               backends, devices, threads
${BENCH_HELP}  semfield --version | help

Outputs: records.ndjson (one JSON record per run), runs/<id>/*.png, report.html.
Exit status: 0 done, 1 semfield failed, 2 bad usage or file, 3 some runs failed, 130 interrupted.
`;

function info(): void {
  const i = device.info();
  process.stdout.write(
    [
      `semfield ${VERSION}`,
      `backends built: ${i.built.join(', ')}`,
      `auto picks:     ${i.auto}`,
      `default:        ${i.default}${i.backendEnv ? ` (SEMFIELD_BACKEND=${i.backendEnv})` : ''}`,
      `CPU threads:    ${i.threads}`,
      `CUDA devices:   ${i.cudaDevices.length ? i.cudaDevices.map((d) => `#${d.index} ${d.name} (${d.memoryGiB.toFixed(1)} GiB, compute ${d.computeCapability.toFixed(1)}${d.usable ? '' : `, lost: ${d.lost}`})`).join(', ') : `none (${i.cudaNote || 'not built'})`}`,
      ...(i.cudaDevices.length && i.cudaNote ? [`                ${i.cudaNote}`] : []),
      '',
    ].join('\n'),
  );
}

/** Flags and values of a command line: value options take the next word. */
function parse(rest: string[], flags: string[], values: string[]): { opts: Map<string, string | true>; args: string[] } {
  const opts = new Map<string, string | true>(), args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (flags.includes(a)) opts.set(a, true);
    else if (values.includes(a)) {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      opts.set(a, v);
    } else if (a.startsWith('--')) {
      const known = [...flags, ...values];
      const near = known.find((k) => k.startsWith(a) || a.startsWith(k));
      throw new UsageError(`unknown option ${a}${near ? ` (did you mean ${near}?)` : ''}`);
    } else args.push(a);
  }
  return { opts, args };
}

function positiveInt(name: string, v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 4096) throw new UsageError(`${name} must be a whole number from 1 to 4096 (got ${v})`);
  return n;
}

function shard(v: string | true | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+|env)\/(\d+)$/.exec(String(v));
  if (!m) throw new UsageError(`--shard takes I/N, such as 0/4 (got ${v})`);
  const count = Number(m[2]);
  let index: number;
  if (m[1] === 'env') {
    const name = ['SEMFIELD_SHARD_INDEX', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'].find((k) => process.env[k] !== undefined);
    if (!name) throw new UsageError('--shard env/N: none of SEMFIELD_SHARD_INDEX, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set');
    index = Number(process.env[name]);
    if (!Number.isInteger(index)) throw new UsageError(`--shard env/N: ${name} = '${process.env[name]}' is not a whole number`);
  } else index = Number(m[1]);
  if (count < 1 || index < 0 || index >= count) throw new UsageError(`--shard ${index}/${count}: the index must be from 0 to ${count - 1}`);
  return { index, count };
}

/** An AbortController that the first SIGINT/SIGTERM aborts (with a message); the second ends the process. */
function interrupts(message: string): { signal: AbortSignal; interrupted: () => boolean; done: () => void } {
  const ac = new AbortController();
  const on = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write(`\n${message}\n`);
    ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    interrupted: () => ac.signal.aborted,
    done: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (cmd === 'info') {
    info();
    return 0;
  }
  if (cmd === 'steps') {
    const { opts } = parse(rest, ['--markdown'], []);
    process.stdout.write(opts.has('--markdown') ? stepsMarkdown() : stepsMarkdown().replace(/^\| ?|\|$/gm, '').replace(/`/g, ''));
    return 0;
  }
  if (cmd === 'worker') {
    const { opts, args } = parse(rest, [], ['--queue-name', '--concurrency']);
    if (args.length !== 1) throw new UsageError('worker needs one Redis URL, such as redis://127.0.0.1:6379');
    const int = interrupts('stopping: the current run finishes first (Ctrl-C again to stop at once)');
    try {
      await runWorker(args[0], { queueName: opts.get('--queue-name') as string | undefined, concurrency: positiveInt('--concurrency', opts.get('--concurrency')), signal: int.signal, say: (l) => process.stdout.write(l + '\n') });
      return 0;
    } finally {
      int.done();
    }
  }
  if (cmd === 'bench') {
    const { opts, args } = parse(rest, ['--list'], ['--backend', '--sizes', '--min-time', '--out', '--chart', '--compare']);
    try {
      return await benchCommand(opts, args, (l) => process.stdout.write(l + '\n'));
    } catch (e) {
      if (e instanceof BenchUsageError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (cmd === 'merge') {
    const { opts, args } = parse(rest, [], ['--out']);
    if (!opts.has('--out')) throw new UsageError('merge needs --out DIR, the folder to combine the shards into');
    merge(opts.get('--out') as string, args, (l) => process.stdout.write(l + '\n'));
    return 0;
  }
  if (cmd !== 'run') {
    const near = ['run', 'worker', 'merge', 'steps', 'info', 'bench', 'help'].find((c) => c[0] === cmd[0]);
    throw new UsageError(`unknown command '${cmd}' (run, worker, merge, steps, info, bench or help)${near ? `; did you mean '${near}'?` : ''}`);
  }
  const { opts, args } = parse(rest, ['--resume', '--fresh', '--retry-failed', '--verbose'], ['--out', '--backend', '--workers', '--queue', '--queue-name', '--shard']);
  if (args.length === 0) throw new UsageError('run needs an experiment file');
  if (args.length > 1) throw new UsageError(`unexpected argument ${args[1]}`);
  const file = args[0];
  const backend = opts.get('--backend');
  if (backend !== undefined && backend !== 'auto' && backend !== 'cpu' && backend !== 'cuda') throw new UsageError(`--backend must be auto, cpu or cuda (got ${backend})`);
  if (opts.has('--resume') && opts.has('--fresh')) throw new UsageError('--resume and --fresh exclude each other');
  if (opts.has('--retry-failed') && !opts.has('--resume')) throw new UsageError('--retry-failed goes with --resume');
  if (opts.has('--queue') && opts.has('--workers')) throw new UsageError('--workers is for this machine; with --queue, start workers with semfield worker');
  const int = interrupts('interrupted: stopping the current runs (records so far are kept; rerun with --resume)');
  try {
    const r = await runExperiment(file, {
      out: (opts.get('--out') as string | undefined) ?? path.join('out', path.basename(file).replace(/\.json$/, '')),
      resume: opts.has('--resume'), fresh: opts.has('--fresh'), retryFailed: opts.has('--retry-failed'),
      backend: backend as 'auto' | 'cpu' | 'cuda' | undefined,
      workers: positiveInt('--workers', opts.get('--workers')),
      queue: opts.get('--queue') as string | undefined, queueName: opts.get('--queue-name') as string | undefined,
      shard: shard(opts.get('--shard')),
      verbose: opts.has('--verbose') ? true : undefined,
      signal: int.signal,
    });
    return r.status;
  } catch (e) {
    if (int.interrupted() && e instanceof SemfieldError && e.code === 'E_ABORTED') return 130;
    throw e;
  } finally {
    int.done();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    if (e instanceof ExperimentError || e instanceof UsageError || e instanceof InputError) {
      process.stderr.write(`semfield: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof SemfieldError) {
      process.stderr.write(`semfield: ${e.code}: ${e.message}\n`);
      process.exitCode = 1;
    } else if (e && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).syscall) {
      // The file system said no (a full disk, no permission): the message names the path.
      process.stderr.write(`semfield: ${(e as Error).message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`semfield: internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
