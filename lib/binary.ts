/**
 * Which compiled addon this process loads, tried in a child process first.
 *
 * The portable binary, semfield.node (build/Release after a build from
 * source, or prebuilds/<platform>-<arch> in a published package; node-gyp-
 * build finds it), runs on any x86-64. Beside it, isa/semfield-avx2.node and
 * isa/semfield-avx512.node are the same code compiled for x86-64-v3 (AVX2,
 * FMA) and x86-64-v4 (AVX-512). The best one this CPU runs is chosen by
 * cpuid, asked of the portable binary; SEMFIELD_ISA (x86-64, avx2 or avx512)
 * names one instead.
 *
 * Before a binary is loaded into this process, a child process loads it and
 * runs a small kernel, as node-llama-cpp does: a binary that cannot run here
 * (a missing library, a newer glibc, an instruction this CPU lacks) fails in
 * the child, and this process gets a message that says how to fix it (or,
 * for a variant, falls back to the portable binary with one warning). A
 * trial that passed is remembered in the OS temp directory, keyed by the
 * binary's path, size and modification time: one child per binary per
 * machine, not per process.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The instruction sets there are binaries for, best last. */
export const ISAS = ['x86-64', 'avx2', 'avx512'] as const;
export type Isa = (typeof ISAS)[number];

export interface CpuReport {
  isa: string;
  features: Record<string, boolean>;
}

export interface Loaded<A> {
  addon: A;
  /** The file loaded. */
  file: string;
  /** Why a better variant was not loaded, when one was not ('' otherwise). */
  note: string;
}

/** What the CPU can run, by the features each level needs. */
export function bestIsa(features: Record<string, boolean>, available: readonly Isa[]): Isa {
  const v4 = ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'].every((f) => features[f]);
  const v3 = ['avx2', 'fma', 'bmi2'].every((f) => features[f]);
  if (v4 && v3 && available.includes('avx512')) return 'avx512';
  if (v3 && available.includes('avx2')) return 'avx2';
  return 'x86-64';
}

function variantFile(portable: string, isa: Isa): string {
  return isa === 'x86-64' ? portable : path.join(path.dirname(portable), 'isa', `semfield-${isa}.node`);
}

function stampOf(file: string): string {
  const st = fs.statSync(file);
  const key = createHash('sha256').update(`${path.resolve(file)}\0${st.size}\0${st.mtimeMs}\0${process.versions.napi}`).digest('hex').slice(0, 32);
  return path.join(os.tmpdir(), 'semfield-trials', `${key}.ok`);
}

// The child: load, ask the CPU report, run a triad (vector code of the binary's ISA) and check it.
const TRIAL = `
const a = require(process.argv[1]);
const r = a.cpu();
const n = 4096, x = new Float32Array(n), y = new Float32Array(n).fill(1), z = new Float32Array(n).fill(2);
a.triad({ a: x, b: y, c: z, s: 3, backend: 'cpu' });
if (!x.every((v) => v === 7)) { console.error('the trial kernel computed wrong values'); process.exit(3); }
process.stdout.write(JSON.stringify(r));
`;

/** Loads `file` in a child process first (once per binary per machine); returns why it failed, or ''. */
export function trial(file: string): string {
  let stamp: string | undefined;
  try {
    stamp = stampOf(file);
    if (fs.existsSync(stamp)) return '';
  } catch {
    /* an unreadable file fails its trial below */
  }
  const r = spawnSync(process.execPath, ['-e', TRIAL, file], { encoding: 'utf8', timeout: 60000, env: { ...process.env, SEMFIELD_THREADS: '2' } });
  if (r.status !== 0) {
    if (r.signal) return `it died of ${r.signal}${r.signal === 'SIGILL' ? ' (an instruction this CPU does not have)' : ''}`;
    // The error's own line (node prints the failing source line above it).
    const lines = (r.stderr || '').split('\n').map((l) => l.trim()).filter(Boolean);
    return lines.find((l) => /^(\w*Error|error)\b/.test(l)) ?? lines.pop() ?? r.error?.message ?? `exit status ${r.status}`;
  }
  try {
    fs.mkdirSync(path.dirname(stamp!), { recursive: true });
    fs.writeFileSync(stamp!, `${file}\n`);
  } catch {
    /* no temp directory: the trial runs again next time */
  }
  return '';
}

/**
 * The addon for this process: the portable binary found by node-gyp-build
 * under `root`, or the best variant beside it. Throws an Error whose message
 * says how to fix a binary that cannot run here.
 */
export function loadBinary<A extends { cpu(): CpuReport }>(root: string): Loaded<A> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  const portable = gypBuild.resolve(root);
  const failed = trial(portable);
  if (failed)
    throw new Error(
      [
        `the native addon ${portable} cannot run in this process: ${failed}`,
        'Possible fixes:',
        '- rebuild it from source for this machine: npm rebuild semfield (needs cmake or node-gyp, and a C++17 compiler)',
        '- without CUDA on this machine: SEMFIELD_CUDA=OFF npm rebuild semfield',
      ].join('\n'),
    );
  const base = require(portable) as A;
  const report = base.cpu();
  if (report.isa !== 'x86-64') return { addon: base, file: portable, note: '' };
  const available = ISAS.filter((i) => fs.existsSync(variantFile(portable, i)));
  const asked = process.env.SEMFIELD_ISA;
  let isa: Isa;
  if (asked) {
    if (!(ISAS as readonly string[]).includes(asked)) throw new Error(`SEMFIELD_ISA must be one of ${ISAS.join(', ')} (got ${JSON.stringify(asked)})`);
    if (!available.includes(asked as Isa)) return { addon: base, file: portable, note: `SEMFIELD_ISA=${asked}: no such binary beside ${portable}` };
    isa = asked as Isa;
  } else {
    isa = bestIsa(report.features, available);
  }
  if (isa === 'x86-64') return { addon: base, file: portable, note: '' };
  const file = variantFile(portable, isa);
  const why = trial(file);
  if (why) {
    const note = `the ${isa} build (${file}) failed its trial run: ${why}; the portable x86-64 build runs instead (SEMFIELD_ISA=x86-64 skips the variant; npm rebuild semfield rebuilds all three)`;
    process.emitWarning(`semfield: ${note}`);
    return { addon: base, file: portable, note };
  }
  return { addon: require(file) as A, file, note: '' };
}
