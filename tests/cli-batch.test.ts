// Batches that never lose a record: damaged records files, --fresh beside
// the user's files, two processes on one folder, failed runs, inputs that
// never end, output folders that cannot be written, step defaults on small
// and large inputs, local worker processes (one killed mid-run) and shards.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { checkExperiment, closest, expand } from '../cli/experiment';
import { loadVocabulary } from '../lib';
import { ROOT, THEMES, records, scratch, semfieldIn, stableById, start, until, writeIn } from './cli-helpers';

const tmp = scratch('semfield-batch-');
const write = (name: string, json: unknown) => writeIn(tmp, name, json);
const semfield = (...args: string[]) => semfieldIn(tmp, args);

const small = (name: string, sweep: Record<string, unknown[]>, pipeline: unknown[] = [{ op: 'field', grid: 64, kappa: '$kappa' }]) =>
  write(`${name}.json`, { name, input: { kind: 'vocabulary', themes: THEMES }, sweep, pipeline });

describe('records', () => {
  test('a damaged line in the middle is set aside with its line number; the records after it stay', () => {
    const file = small('damaged', { kappa: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    const out = path.join(tmp, 'out-damaged');
    expect(semfield('run', file, '--out', out).status).toBe(0);
    const recFile = path.join(out, 'records.ndjson');
    const lines = fs.readFileSync(recFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(12);
    // Line 3 damaged, line 6 a JSON null: 10 good records, 9 of them after the damage.
    lines[2] = lines[2].slice(0, 40);
    lines[5] = 'null';
    fs.writeFileSync(recFile, lines.join('\n') + '\n');
    const r = semfield('run', file, '--out', out, '--resume');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/records\.ndjson line 3 is not a record/);
    expect(r.stderr).toMatch(/records\.ndjson line 6 is not a record/);
    expect(r.stdout).toMatch(/2 run\(s\) done, 10 skipped/);
    const recs = records(out);
    expect(recs).toHaveLength(12);
    expect(new Set(recs.map((x) => x.id)).size).toBe(12);
    const aside = fs.readFileSync(path.join(out, 'records.damaged.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(aside.map((a) => a.line)).toEqual([3, 6]);
    expect(aside[0].text).toBe(lines[2]);
  });

  test('a repeated record is kept once', () => {
    const file = small('dup', { kappa: [1, 2, 3] });
    const out = path.join(tmp, 'out-dup');
    expect(semfield('run', file, '--out', out).status).toBe(0);
    const recFile = path.join(out, 'records.ndjson');
    const lines = fs.readFileSync(recFile, 'utf8').trim().split('\n');
    fs.appendFileSync(recFile, lines[1] + '\n');
    const r = semfield('run', file, '--out', out, '--resume');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/line 4 repeats run/);
    expect(records(out)).toHaveLength(3);
  });

  test('--fresh removes what semfield wrote and nothing else', () => {
    const file = small('fresh', { kappa: [4, 8] }, [{ op: 'field', grid: 64, kappa: '$kappa' }, { op: 'basins' }]);
    const out = path.join(tmp, 'out-fresh');
    expect(semfield('run', file, '--out', out).status).toBe(0);
    const [rec] = records(out);
    const mine = [path.join(out, 'notes.txt'), path.join(out, 'runs', 'mine.txt'), path.join(out, 'runs', rec.id, 'sketch.png')];
    for (const f of mine) fs.writeFileSync(f, 'the user\'s');
    const r = semfield('run', file, '--out', out, '--fresh');
    expect(r.status).toBe(0);
    for (const f of mine) expect(fs.readFileSync(f, 'utf8')).toBe('the user\'s');
    expect(records(out)).toHaveLength(2);
    // Again, now that every run folder holds only semfield's pictures but one.
    fs.rmSync(mine[2]);
    const other = write('other.json', { name: 'other', input: { kind: 'vocabulary', words: ['dog', 'cat', 'rain'] }, pipeline: [{ op: 'condense' }] });
    expect(semfield('run', other, '--out', out, '--fresh').status).toBe(0);
    expect(fs.existsSync(path.join(out, 'runs', rec.id))).toBe(false);
    expect(fs.existsSync(mine[0]) && fs.existsSync(mine[1])).toBe(true);
    expect(records(out).map((x) => x.experiment)).toEqual(['other']);
  });

  test('a second process on the same folder is refused while the first runs; a stale lock is taken over', async () => {
    const file = small('lock', { kappa: [4, 8, 12, 16, 20, 24] }, [{ op: 'field', grid: 512, kappa: '$kappa' }, { op: 'basins' }]);
    const out = path.join(tmp, 'out-lock');
    const first = start(tmp, ['run', file, '--out', out, '--workers', '1']);
    await until('the lock', () => fs.existsSync(path.join(out, '.semfield', 'lock')));
    const second = semfield('run', file, '--out', out, '--resume');
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/being written by another semfield \(pid \d+/);
    expect(await first.done).toBe(0);
    const recs = records(out);
    expect(recs).toHaveLength(6);
    expect(new Set(recs.map((x) => x.id)).size).toBe(6);
    // A lock left by a process that is gone (SIGKILL) does not block the folder.
    fs.writeFileSync(path.join(out, '.semfield', 'lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: require('node:os').hostname(), since: 'then' }));
    const again = semfield('run', file, '--out', out, '--resume');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0 run\(s\) done, 6 skipped/);
    expect(fs.existsSync(path.join(out, '.semfield', 'lock'))).toBe(false);
  }, 120000);
});

describe('failed runs', () => {
  test('a failed run is recorded with its code and the batch goes on (exit 3); --retry-failed runs it again', () => {
    // grid 48 is refused by the field step (not a power of two or a multiple of 64).
    const file = small('fail', { grid: [64, 48, 128] }, [{ op: 'field', grid: '$grid' }, { op: 'basins' }]);
    const out = path.join(tmp, 'out-fail');
    const r = semfield('run', file, '--out', out);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/run 2\/3 \w+ grid=48 FAILED at field: E_STEP: field: grid 48 needs more factors of two/);
    const recs = records(out);
    expect(recs.map((x) => x.status).sort()).toEqual(['done', 'done', 'failed']);
    const bad = recs.find((x) => x.status === 'failed')!;
    expect(bad.error).toEqual({ step: 0, op: 'field', code: 'E_STEP', message: expect.stringMatching(/grid 48/) });
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/3 of 3 runs recorded, 1 failed/);
    expect(html).toMatch(/class="failed"/);
    // Resume skips it (it has a record); --retry-failed runs it again, and it fails again.
    expect(semfield('run', file, '--out', out, '--resume').stdout).toMatch(/0 run\(s\) done, 3 skipped, 1 failed/);
    const retried = semfield('run', file, '--out', out, '--resume', '--retry-failed');
    expect(retried.status).toBe(3);
    expect(retried.stdout).toMatch(/1 run\(s\) done, 2 skipped, 1 failed/);
    expect(records(out)).toHaveLength(3);
  });

  test('a solve that does not converge fails its run naming options the file accepts; allowNotConverged keeps it', () => {
    const file = write('nc.json', { name: 'nc', input: { kind: 'vocabulary', themes: THEMES }, sweep: { allow: [false, true] }, pipeline: [{ op: 'field', grid: 64, tol: 1e-9, maxCycles: 1, allowNotConverged: '$allow' }] });
    const out = path.join(tmp, 'out-nc');
    expect(semfield('run', file, '--out', out).status).toBe(3);
    const recs = records(out).sort((a, b) => a.index - b.index);
    expect(recs[0].error).toMatchObject({ code: 'E_NOT_CONVERGED', message: expect.stringMatching(/maxCycles.*allowNotConverged/) });
    expect(recs[1].status).toBe('done');
    expect(recs[1].steps[0].converged).toBe(false);
    // Every option the advice names is in the step's schema.
    expect(() => checkExperiment({ name: 'x', input: { kind: 'vocabulary', first: 10 }, pipeline: [{ op: 'field', maxCycles: 200, tol: 1e-3, allowNotConverged: true }] })).not.toThrow();
  });
});

describe('inputs and outputs that misbehave', () => {
  test('an input that never ends stops at the stated cap', () => {
    const file = write('zero.json', { name: 'zero', input: { kind: 'f32', path: '/dev/zero', dim: 4, vocabulary: '/dev/zero' }, pipeline: [{ op: 'condense' }] });
    const r = semfieldIn(tmp, ['run', file, '--out', path.join(tmp, 'out-zero')], { SEMFIELD_MAX_INPUT_MB: '8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/input\.path: \/dev\/zero holds more than 8 MiB, the input cap \(set SEMFIELD_MAX_INPUT_MB/);
  });

  test('a FIFO with no writer yields to SIGTERM', async () => {
    const fifo = path.join(tmp, 'rows.fifo');
    execFileSync('mkfifo', [fifo]);
    const file = write('fifo.json', { name: 'fifo', input: { kind: 'json', path: fifo }, pipeline: [{ op: 'condense' }] });
    const c = start(tmp, ['run', file, '--out', path.join(tmp, 'out-fifo')]);
    await until('the batch to start', () => fs.existsSync(path.join(tmp, 'out-fifo', '.semfield', 'lock')));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    c.kill('SIGTERM');
    expect(await c.done).toBe(130);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  test('a FIFO with a writer is read to its end', async () => {
    const fifo = path.join(tmp, 'rows2.fifo');
    execFileSync('mkfifo', [fifo]);
    const file = write('fifo2.json', { name: 'fifo2', input: { kind: 'json', path: fifo }, pipeline: [{ op: 'condense' }] });
    const c = start(tmp, ['run', file, '--out', path.join(tmp, 'out-fifo2')]);
    await until('the batch to start', () => fs.existsSync(path.join(tmp, 'out-fifo2', '.semfield', 'lock')));
    fs.writeFileSync(fifo, JSON.stringify({ vectors: Array.from({ length: 30 }, (_, i) => [i % 3, Math.sin(i), 1]) }));
    expect(await c.done).toBe(0);
    expect(records(path.join(tmp, 'out-fifo2'))[0].status).toBe('done');
  });

  test('--out naming a file, and a folder that cannot be written: a message, no stack trace', () => {
    const file = small('outs', { kappa: [4] }, [{ op: 'field', grid: 64, kappa: '$kappa' }]);
    const plain = path.join(tmp, 'plain.txt');
    fs.writeFileSync(plain, 'x');
    const r = semfield('run', file, '--out', plain);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`semfield: --out ${plain} is a file, not a folder\n`);
    // runs/ taken by a file: the pictures cannot be written.
    const out = path.join(tmp, 'out-blocked');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'runs'), 'in the way');
    const w = semfield('run', file, '--out', out);
    expect(w.status).toBe(1);
    expect(w.stderr).toMatch(/^semfield: ENOTDIR: not a directory, mkdir '.*runs/);
    expect(w.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('experiment files', () => {
  test('--version, the steps table, a closest-field suggestion, sweep parameters in the order written', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(semfield('--version').stdout.trim()).toBe(pkg.version);
    expect(semfield('steps', '--markdown').stdout).toMatch(/#### `dimension`/);
    const typo = semfield('run', write('typo.json', { name: 't', input: { kind: 'vocabulary', first: 10 }, pipeline: [{ op: 'field', kapa: 3 }, { op: 'basin' }] }));
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/pipeline\[0\]\.kapa: unknown field \(did you mean 'kappa'\?\)/);
    expect(typo.stderr).toMatch(/pipeline\[1\]\.op: must be one of .* \(did you mean 'basins'\?\)/);
    expect(closest('bandwith', ['bandwidth', 'kernel'])).toBe('bandwidth');
    expect(closest('zzz', ['bandwidth', 'kernel'])).toBeUndefined();
    const order = semfield('run', small('order', { zeta: [16], kappa: [4, 8] }, [{ op: 'field', grid: '$zeta', kappa: '$kappa' }]), '--out', path.join(tmp, 'out-order'));
    expect(order.status).toBe(0);
    expect(order.stderr).toMatch(/run 1\/2 \w+ zeta=16 kappa=4 done/);
    expect(records(path.join(tmp, 'out-order')).map((r) => Object.keys(r.params))).toEqual([['zeta', 'kappa'], ['zeta', 'kappa']]);
  });

  test('run ids are content hashes: the input, an option and the version change them', () => {
    const exp = checkExperiment({ name: 'h', input: { kind: 'vocabulary', first: 10 }, sweep: { k: [1, 2] }, pipeline: [{ op: 'field', kappa: '$k' }] });
    const a = expand(exp, 'input-a'), b = expand(exp, 'input-b');
    expect(a.map((r) => r.id)).toEqual(expand(exp, 'input-a').map((r) => r.id));
    expect(a[0].id).not.toBe(a[1].id);
    expect(a[0].id).not.toBe(b[0].id);
    const c = expand({ ...exp, pipeline: [{ op: 'field', kappa: '$k', grid: 128 }] }, 'input-a');
    expect(c[0].id).not.toBe(a[0].id);
    // Renaming the experiment changes no run.
    expect(expand({ ...exp, name: 'renamed' }, 'input-a')[0].id).toBe(a[0].id);
  });

  test('step defaults work on 8 words and on 2000', () => {
    const tiny = write('tiny.json', {
      name: 'tiny', input: { kind: 'vocabulary', themes: { a: ['dog', 'cat', 'horse', 'cow'], b: ['rain', 'snow', 'wind', 'storm'] } },
      pipeline: [{ op: 'field', grid: 64 }, { op: 'dimension' }, { op: 'dimension', of: 'positions', kind: 'box' }, { op: 'induce' }, { op: 'induce', knn: 10 }, { op: 'condense' }],
    });
    const out = path.join(tmp, 'out-tiny');
    const r = semfield('run', tiny, '--out', out);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    const [rec] = records(out);
    expect(rec.steps[3].knn).toBe(7);
    expect(rec.steps[4].knn).toBe(7);
    for (const s of [rec.steps[1], rec.steps[2]]) expect(s.scalesFitted).toBeGreaterThanOrEqual(3);
    const large = write('large.json', { name: 'large', input: { kind: 'vocabulary', first: 2000 }, pipeline: [{ op: 'field', grid: 128 }, { op: 'dimension' }, { op: 'dimension', of: 'positions' }, { op: 'dimension', of: 'positions', kind: 'box' }] });
    const outL = path.join(tmp, 'out-large');
    expect(semfield('run', large, '--out', outL).status).toBe(0);
    const [big] = records(outL);
    // The plane positions of 2000 words fill part of the plane: a dimension between 1 and 2.
    for (const s of big.steps.slice(2)) {
      expect(s.dimension).toBeGreaterThan(1);
      expect(s.dimension).toBeLessThan(2.1);
      expect(s.r2).toBeGreaterThan(0.95);
    }
  });

  test('the demo names only words the bundled vocabulary has', () => {
    const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'demo.json'), 'utf8'));
    const v = loadVocabulary();
    const named: string[] = [...(Object.values(demo.input.themes) as string[][]).flat()];
    for (const s of demo.pipeline) for (const k of ['a', 'b', 'contexts', 'queries']) if (Array.isArray(s[k])) named.push(...(s[k] as unknown[]).flat() as string[]);
    for (const s of demo.pipeline) if (s.word) named.push(s.word);
    expect(named.filter((w) => v.indexOf(w) === undefined)).toEqual([]);
  });
});

describe('parallel runs', () => {
  const sweep = { kappa: [4, 8, 12, 16, 20, 24], grid: [64, 128] };
  const pipeline = [{ op: 'field', grid: '$grid', kappa: '$kappa' }, { op: 'basins' }, { op: 'spectrum', a: 'music', b: 'weather', count: 40 }, { op: 'induce' }, { op: 'codec' }];

  test('two worker processes write the records and pictures of one', () => {
    const file = small('par', sweep, pipeline);
    const one = path.join(tmp, 'out-par1'), two = path.join(tmp, 'out-par2');
    expect(semfield('run', file, '--out', one, '--workers', '1').status).toBe(0);
    const r = semfield('run', file, '--out', two, '--workers', '2');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/2 workers x 1 threads/);
    const a = stableById(records(one)), b = stableById(records(two));
    expect(b.size).toBe(12);
    expect(new Map([...b].sort())).toEqual(new Map([...a].sort()));
    for (const rec of a.values()) for (const p of rec.pictures) expect(fs.readFileSync(path.join(two, p)).equals(fs.readFileSync(path.join(one, p)))).toBe(true);
  }, 120000);

  test('a worker process killed mid-run: its run runs again, every run is recorded once', async () => {
    const file = small('kill', { kappa: [4, 8, 12, 16, 20, 24, 28, 32] }, [{ op: 'field', grid: 512, kappa: '$kappa' }, { op: 'basins' }]);
    const out = path.join(tmp, 'out-kill');
    const c = start(tmp, ['run', file, '--out', out, '--workers', '2']);
    await until('a first record', () => records(out).length >= 1);
    const kids = execFileSync('pgrep', ['-P', String(c.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    expect(kids.length).toBeGreaterThanOrEqual(1);
    process.kill(kids[0], 'SIGKILL');
    expect(await c.done).toBe(0);
    expect(c.err()).toMatch(/worker process \d+ ended \(SIGKILL\) during run \d+: it runs again/);
    const recs = records(out);
    expect(recs).toHaveLength(8);
    expect(new Set(recs.map((x) => x.id)).size).toBe(8);
    expect(recs.every((x) => x.status === 'done')).toBe(true);
  }, 120000);

  test('shards run apart and merge into the batch of one run', () => {
    const file = small('shard', sweep, pipeline.slice(0, 2));
    const whole = path.join(tmp, 'out-whole');
    expect(semfield('run', file, '--out', whole).status).toBe(0);
    const parts = [0, 1, 2].map((i) => {
      const dir = path.join(tmp, `out-shard-${i}`);
      const r = i === 2 ? semfieldIn(tmp, ['run', file, '--out', dir, '--shard', 'env/3'], { JOB_COMPLETION_INDEX: '2' }) : semfield('run', file, '--out', dir, '--shard', `${i}/3`);
      expect(r.status).toBe(0);
      expect(records(dir).every((x) => x.index % 3 === i)).toBe(true);
      return dir;
    });
    const merged = path.join(tmp, 'out-merged'), copy = path.join(tmp, 'out-shard-copy');
    fs.cpSync(parts[0], copy, { recursive: true });
    const m = semfield('merge', '--out', merged, ...parts, copy);
    expect(m.status).toBe(0);
    expect(m.stdout).toMatch(/12 of 12 runs in .* from 4 folder\(s\), 4 repeated record\(s\) kept once/);
    expect(new Map([...stableById(records(merged))].sort())).toEqual(new Map([...stableById(records(whole))].sort()));
    for (const rec of records(merged)) {
      const figures = rec.figures as { picture: string; spec: string }[];
      expect(figures.length).toBe(2);
      for (const f of figures) for (const p of [f.picture, f.spec]) expect(fs.existsSync(path.join(merged, p))).toBe(true);
    }
    expect(fs.readFileSync(path.join(merged, 'report.html'), 'utf8')).toMatch(/12 of 12 runs recorded/);
    const partial = semfield('merge', '--out', path.join(tmp, 'out-partial'), parts[1]);
    expect(partial.stdout).toMatch(/4 of 12 runs .* missing runs: 1, 3, 4, 6, 7, 9, 10, 12/);
    expect(semfield('run', file, '--shard', '3/3').stderr).toMatch(/the index must be from 0 to 2/);
  }, 120000);
});
