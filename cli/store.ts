/**
 * A batch's output folder, written by one process at a time:
 *
 *   records.ndjson          one JSON record per run, appended whole (one write(2) per line)
 *   records.damaged.ndjson  lines of records.ndjson that did not parse, kept aside with their line numbers
 *   runs/<id>/*.png         pictures (each written under .semfield/tmp, then renamed into place)
 *   report.html, experiment.json
 *   .semfield/lock          the writer's pid and host (O_EXCL; a lock whose process is gone is taken over)
 *   .semfield/written       every path semfield wrote, journalled before it is written, so that
 *                           --fresh removes exactly those and never a file of the user's
 *
 * The coordinating process is the only writer: worker processes and remote
 * workers hand their records and pictures to it, so there is one place where
 * a record is written, once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunRecord } from './execute';

/** A problem with how the command was used (exit status 2). */
export class UsageError extends Error {}

const RECORDS = 'records.ndjson';
const DAMAGED = 'records.damaged.ndjson';
/** Names semfield has always written at the top of an output folder. */
const OWN = [RECORDS, DAMAGED, 'report.html', 'experiment.json'];

export interface ReadRecords {
  records: RunRecord[];
  /** One line per damaged or repeated line found (and set aside). */
  problems: string[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class OutputFolder {
  private readonly meta: string;
  private readonly lockFile: string;
  private readonly journal: string;
  private journalled = new Set<string>();
  private recordsFd: number | undefined;
  private journalFd: number | undefined;
  private serial = 0;
  /** Folders known to exist (one mkdir per folder, not per file). */
  private made = new Set<string>();
  private readonly release = () => this.close();

  private constructor(readonly dir: string) {
    this.meta = path.join(dir, '.semfield');
    this.lockFile = path.join(this.meta, 'lock');
    this.journal = path.join(this.meta, 'written');
  }

  /** Opens (creating) the folder and takes its lock; UsageError if another live process holds it. */
  static open(dir: string): OutputFolder {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(dir);
    } catch {
      /* created below */
    }
    if (st && !st.isDirectory()) throw new UsageError(`--out ${dir} is a file, not a folder`);
    fs.mkdirSync(path.join(dir, '.semfield'), { recursive: true });
    const f = new OutputFolder(dir);
    f.lock();
    return f;
  }

  private lock(): void {
    const me = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(this.lockFile, 'wx');
        fs.writeSync(fd, me);
        fs.closeSync(fd);
        process.once('exit', this.release);
        if (fs.existsSync(this.journal))
          for (const l of fs.readFileSync(this.journal, 'utf8').split('\n')) if (l) this.journalled.add(l);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let holder: { pid?: number; host?: string; since?: string } = {};
      try {
        holder = JSON.parse(fs.readFileSync(this.lockFile, 'utf8'));
      } catch {
        /* a lock being written, or a torn one: treated as held */
      }
      const stale = holder.host === os.hostname() && typeof holder.pid === 'number' && !alive(holder.pid);
      if (!stale)
        throw new UsageError(
          `${this.dir} is being written by another semfield (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.since ?? '?'}); ` +
            `wait for it, use another --out, or remove ${this.lockFile} if that process is gone`,
        );
      fs.rmSync(this.lockFile, { force: true });
    }
    throw new UsageError(`${this.dir}: could not take the lock ${this.lockFile}`);
  }

  /** Releases the lock (idempotent). */
  close(): void {
    if (this.recordsFd !== undefined) fs.closeSync(this.recordsFd);
    if (this.journalFd !== undefined) fs.closeSync(this.journalFd);
    this.recordsFd = this.journalFd = undefined;
    process.off('exit', this.release);
    try {
      const holder = JSON.parse(fs.readFileSync(this.lockFile, 'utf8'));
      if (holder.pid === process.pid) fs.rmSync(this.lockFile, { force: true });
    } catch {
      /* already gone */
    }
  }

  private note(rel: string): void {
    if (this.journalled.has(rel)) return;
    this.journalFd ??= fs.openSync(this.journal, 'a');
    fs.writeSync(this.journalFd, rel + '\n');
    this.journalled.add(rel);
  }

  private mkdir(dir: string): void {
    if (this.made.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    this.made.add(dir);
  }

  /** Writes a file under the folder atomically (temporary name, then rename), journalled first. */
  writeFile(rel: string, data: string | Uint8Array): void {
    this.note(rel);
    const file = path.join(this.dir, rel);
    this.mkdir(path.dirname(file));
    // Temporaries live in .semfield/tmp, so a kill mid-write leaves nothing beside the user's files.
    const tmp = path.join(this.meta, 'tmp', `${process.pid}-${this.serial++}`);
    this.mkdir(path.dirname(tmp));
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  }

  /** Reads a file semfield wrote here, or undefined. */
  readFile(rel: string): Buffer | undefined {
    const file = path.join(this.dir, rel);
    return fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  }

  /**
   * The records, in file order. A line that does not parse as a record is
   * moved to records.damaged.ndjson (with its line number) and a repeated id
   * keeps its first record; every other line stays, and records.ndjson is
   * rewritten (atomically) only when something was set aside.
   */
  readRecords(): ReadRecords {
    const file = path.join(this.dir, RECORDS);
    if (!fs.existsSync(file)) return { records: [], problems: [] };
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const records: RunRecord[] = [], keep: string[] = [], damaged: string[] = [], problems: string[] = [];
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let rec: RunRecord | undefined;
      try {
        const v = JSON.parse(line);
        if (v && typeof v === 'object' && typeof v.id === 'string' && typeof v.index === 'number' && Array.isArray(v.steps)) rec = v;
      } catch {
        /* damaged */
      }
      if (!rec) {
        problems.push(`${RECORDS} line ${i + 1} is not a record (${line.length > 60 ? line.slice(0, 57) + '...' : line}): set aside in ${DAMAGED}`);
        damaged.push(JSON.stringify({ line: i + 1, text: line, at: new Date().toISOString() }));
        return;
      }
      if (seen.has(rec.id)) {
        problems.push(`${RECORDS} line ${i + 1} repeats run ${rec.id}: the first record is kept, this one set aside in ${DAMAGED}`);
        damaged.push(JSON.stringify({ line: i + 1, text: line, at: new Date().toISOString() }));
        return;
      }
      seen.add(rec.id);
      records.push(rec);
      keep.push(line);
    });
    if (damaged.length || keep.length !== lines.length) {
      this.note(DAMAGED);
      if (damaged.length) fs.appendFileSync(path.join(this.dir, DAMAGED), damaged.join('\n') + '\n');
      this.rewriteRecords(keep);
    }
    return { records, problems };
  }

  /** Replaces records.ndjson by these lines (atomically). */
  private rewriteRecords(lines: string[]): void {
    if (this.recordsFd !== undefined) fs.closeSync(this.recordsFd);
    this.recordsFd = undefined;
    this.writeFile(RECORDS, lines.length ? lines.join('\n') + '\n' : '');
  }

  /** Keeps only the records for which keep() holds. */
  filterRecords(records: RunRecord[], keep: (r: RunRecord) => boolean): RunRecord[] {
    const kept = records.filter(keep);
    if (kept.length !== records.length) this.rewriteRecords(kept.map((r) => JSON.stringify(r)));
    return kept;
  }

  /** Appends one record as one whole line (one write with O_APPEND: never torn, never interleaved). */
  append(rec: RunRecord): void {
    if (this.recordsFd === undefined) {
      this.note(RECORDS);
      this.recordsFd = fs.openSync(path.join(this.dir, RECORDS), 'a');
    }
    const line = Buffer.from(JSON.stringify(rec) + '\n');
    const n = fs.writeSync(this.recordsFd, line);
    if (n !== line.length) throw new Error(`${path.join(this.dir, RECORDS)}: short write (${n} of ${line.length} bytes)`);
  }

  /**
   * Removes what semfield wrote here (the journalled paths, the fixed
   * names, and the pictures of records written before the journal existed),
   * then the folders that this leaves empty. Anything else stays.
   */
  fresh(): number {
    const rel = new Set(this.journalled);
    for (const n of OWN) rel.add(n);
    const file = path.join(this.dir, RECORDS);
    if (fs.existsSync(file))
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        try {
          for (const p of (JSON.parse(line) as RunRecord).pictures ?? []) if (typeof p === 'string' && !p.includes('..')) rel.add(p);
        } catch {
          /* a damaged line names nothing */
        }
      }
    if (this.recordsFd !== undefined) fs.closeSync(this.recordsFd);
    this.recordsFd = undefined;
    let removed = 0;
    const dirs = new Set<string>();
    for (const r of rel) {
      const f = path.join(this.dir, r);
      if (path.relative(this.dir, f).startsWith('..')) continue;
      if (fs.existsSync(f) && fs.statSync(f).isFile()) {
        fs.rmSync(f);
        removed++;
      }
      for (let d = path.dirname(r); d !== '.' && d !== '/'; d = path.dirname(d)) dirs.add(d);
    }
    // Deepest first, so runs/<id> goes before runs.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      try {
        fs.rmdirSync(path.join(this.dir, d));
      } catch {
        /* not empty: it holds something of the user's */
      }
    }
    fs.rmSync(path.join(this.meta, 'tmp'), { recursive: true, force: true });
    if (this.journalFd !== undefined) fs.closeSync(this.journalFd);
    this.journalFd = undefined;
    fs.writeFileSync(this.journal, '');
    this.journalled.clear();
    this.made.clear();
    return removed;
  }
}
