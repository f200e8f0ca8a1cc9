// README.md's examples run as written: every TypeScript block (as a user's
// module importing 'semfield'), every experiment file it shows (checked, and
// run), and every shell block that uses the semfield command (in a folder
// holding those files; the Redis example on a free port instead of 6379).
// Its table of steps is the schema's own.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { checkExperiment, stepsMarkdown } from '../cli/experiment';
import { BIN, ROOT, freePort, records, scratch } from './cli-helpers';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const tmp = scratch('semfield-readme-');

interface Block { lang: string; code: string; file?: string; line: number }

// Fenced blocks (also indented ones inside lists); a block's file name is the
// last `name.json` the text names just before it.
const blocks: Block[] = [];
for (const m of readme.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```/gm)) {
  const indent = m[1].length;
  const code = m[3].split('\n').map((l) => l.slice(indent)).join('\n');
  const before = readme.slice(Math.max(0, m.index! - 300), m.index!);
  const names = [...before.matchAll(/`([\w-]+\.json)`/g)];
  blocks.push({ lang: m[2], code, file: names.length ? names[names.length - 1][1] : undefined, line: readme.slice(0, m.index!).split('\n').length });
}

// `semfield` resolves to this package, as it would in a project that installed it.
beforeAll(() => {
  fs.mkdirSync(path.join(tmp, 'node_modules'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(tmp, 'node_modules', 'semfield'), 'dir');
  fs.mkdirSync(path.join(tmp, 'bin'));
  fs.writeFileSync(path.join(tmp, 'bin', 'npx'), `#!/bin/sh\n[ "$1" = semfield ] || exit 99\nshift\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  for (const b of blocks) if (b.lang === 'json' && b.file) fs.writeFileSync(path.join(tmp, b.file), b.code);
});

const env = { ...process.env, SEMFIELD_BACKEND: 'cpu', PATH: `${path.join(tmp, 'bin')}:${process.env.PATH}` };

test('the table of steps is the schema\'s', () => {
  const table = /<!-- steps:begin -->\n([\s\S]*?)<!-- steps:end -->/.exec(readme);
  expect(table).not.toBeNull();
  expect(table![1].trim()).toBe(stepsMarkdown().trim());
});

const tsBlocks = blocks.filter((b) => b.lang === 'ts');
test.each(tsBlocks.map((b) => [b.line, b] as const))('the TypeScript example at README.md line %d runs', (_line, b) => {
  const js = ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = path.join(tmp, `example-${b.line}.js`);
  fs.writeFileSync(file, `(async () => {\n${js}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
  const r = spawnSync(process.execPath, [file], { cwd: tmp, env, encoding: 'utf8', timeout: 60000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the experiment files it shows are valid, and run', () => {
  const files = blocks.filter((b) => b.lang === 'json' && b.file);
  expect(files.map((b) => b.file)).toEqual(expect.arrayContaining(['first.json', 'sweep.json']));
  for (const b of files) expect(() => checkExperiment(JSON.parse(b.code), b.file)).not.toThrow();
  const r = spawnSync(process.execPath, [BIN, 'run', 'first.json'], { cwd: tmp, env, encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(records(path.join(tmp, 'out', 'first'))).toHaveLength(2);
});

const shBlocks = blocks.filter((b) => b.lang === 'sh' && /npx semfield/.test(b.code));
test.each(shBlocks.map((b) => [b.line, b] as const))('the shell example at README.md line %d runs', async (_line, b) => {
  const port = await freePort();
  const script = `set -e\n${b.code.replace(/6379/g, String(port))}`;
  const c = spawn('bash', ['-c', script], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => c.on('close', resolve));
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
  if (code !== 0) throw new Error(`exit ${code}:\n${out}`);
  // Every folder it names holds the batch's 6 records, none failed.
  for (const m of b.code.matchAll(/--out (\S+)/g)) {
    const recs = records(path.join(tmp, m[1]));
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.every((r) => r.status === 'done')).toBe(true);
  }
  const last = /--out (\S+)[^\n]*$/.exec(b.code.trim().split('\n').filter((l) => /--out/.test(l)).pop()!)![1];
  expect(records(path.join(tmp, last))).toHaveLength(6);
}, 120000);
