/** Shared by the tests of the semfield command: it runs as a user runs it, a child process. */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'semfield.js');

/** A scratch folder, removed after the file's tests. */
export function scratch(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeIn(dir: string, name: string, json: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof json === 'string' ? json : JSON.stringify(json, null, 2));
  return f;
}

export const ENV = { ...process.env, SEMFIELD_BACKEND: 'cpu' };

export function semfieldIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...ENV, ...env }, timeout: 120000 });
}

export function start(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { out: () => string; err: () => string; done: Promise<number | null> } {
  const c = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  c.stdout!.on('data', (b) => (out += b));
  c.stderr!.on('data', (b) => (err += b));
  const done = new Promise<number | null>((resolve) => c.on('close', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  return Object.assign(c, { out: () => out, err: () => err, done });
}

export async function until(what: string, test: () => boolean, ms = 60000): Promise<void> {
  const t0 = Date.now();
  while (!test()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export type Rec = Record<string, unknown> & { id: string; index: number; status: string; params: Record<string, unknown>; steps: Record<string, unknown>[]; pictures: string[] };

export function records(dir: string): Rec[] {
  const file = path.join(dir, 'records.ndjson');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** What a record holds besides its timing, keyed by run id. */
export function stableById(recs: Rec[]): Map<string, Rec> {
  return new Map(recs.map((r) => [r.id, { ...r, seconds: undefined }]));
}

export const THEMES = {
  animals: ['dog', 'cat', 'horse', 'cow', 'pig', 'sheep', 'wolf', 'bear', 'lion', 'tiger'],
  music: ['guitar', 'piano', 'violin', 'drum', 'jazz', 'song', 'album', 'band', 'singer', 'concert'],
  weather: ['rain', 'snow', 'wind', 'storm', 'cloud', 'thunder', 'fog', 'hail', 'frost', 'breeze'],
};

/** A TCP port free on the loopback address now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
