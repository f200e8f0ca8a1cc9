/**
 * The semfield command.
 *
 *   semfield run <experiment.json> [--out DIR] [--resume | --fresh] [--backend cpu|cuda|auto] [--verbose]
 *   semfield info
 *   semfield help
 *
 * Exit status: 0 done, 1 a failure while running, 2 bad usage or a bad
 * experiment file (the message names the field), 130 interrupted (rerun
 * with --resume to continue).
 */
import * as path from 'node:path';
import { SemfieldError, device } from '../lib';
import { ExperimentError } from './experiment';
import { InputError } from './inputs';
import { UsageError, runExperiment } from './runner';

const HELP = `semfield — semantic fields from the command line

  semfield run <experiment.json> [options]   run an experiment's batch
      --out DIR        output folder (default: out/<experiment file name>)
      --resume         continue a batch: skip the runs already in records.ndjson
      --fresh          discard earlier records and start over
      --backend B      cpu, cuda or auto (default: the file's, else auto)
      --verbose        print every run's step headlines (default for <= 3 runs)
  semfield info                               backends, devices, threads
  semfield help

Outputs: records.ndjson (one JSON record per run), runs/<id>/*.png, report.html.
`;

function info(): void {
  const i = device.info();
  process.stdout.write(
    [
      `backends built: ${i.built.join(', ')}`,
      `auto picks:     ${i.auto}`,
      `CPU threads:    ${i.threads}`,
      `CUDA devices:   ${i.cudaDevices.length ? i.cudaDevices.map((d) => `#${d.index} ${d.name} (${d.memoryGiB.toFixed(1)} GiB)`).join(', ') : `none (${i.cudaNote || 'not built'})`}`,
      '',
    ].join('\n'),
  );
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === 'info') {
    info();
    return 0;
  }
  if (cmd !== 'run') throw new UsageError(`unknown command '${cmd}' (run, info or help)`);
  let file: string | undefined, out: string | undefined, backend: 'auto' | 'cpu' | 'cuda' | undefined;
  let resume = false, fresh = false, verbose: boolean | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--out') out = rest[++i];
    else if (a === '--resume') resume = true;
    else if (a === '--fresh') fresh = true;
    else if (a === '--verbose') verbose = true;
    else if (a === '--backend') {
      const b = rest[++i];
      if (b !== 'auto' && b !== 'cpu' && b !== 'cuda') throw new UsageError(`--backend must be auto, cpu or cuda (got ${b})`);
      backend = b;
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else if (!file) file = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!file) throw new UsageError('run needs an experiment file');
  if (out === undefined && rest.includes('--out')) throw new UsageError('--out needs a folder');
  if (resume && fresh) throw new UsageError('--resume and --fresh exclude each other');
  const ac = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: stopping the current run (records so far are kept; rerun with --resume)\n');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runExperiment(file, { out: out ?? path.join('out', path.basename(file).replace(/\.json$/, '')), resume, fresh, backend, verbose, signal: ac.signal });
    return 0;
  } catch (e) {
    if (interrupted && e instanceof SemfieldError && e.code === 'E_ABORTED') return 130;
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    if (e instanceof ExperimentError || e instanceof UsageError || e instanceof InputError) {
      process.stderr.write(`semfield: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`semfield: ${e instanceof SemfieldError ? `${e.code}: ${e.message}` : e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
