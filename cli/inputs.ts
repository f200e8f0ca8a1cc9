/**
 * An experiment's input as rows of embeddings with optional words and
 * labels: the bundled vocabulary, a NumPy .npy file (float32 or float64,
 * C order, 2-D), raw little-endian float32 (.f32) with a vocabulary file of
 * one word per line, or JSON { vectors, words?, labels? }.
 *
 * Files are read off the event loop with a size cap (SEMFIELD_MAX_INPUT_MB,
 * default 2048), so /dev/zero or an endless pipe ends in an InputError that
 * states the cap; a FIFO is read through a non-blocking descriptor, so a
 * pipe whose writer never comes still yields to Ctrl-C and SIGTERM.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SemfieldError, Vocabulary, loadVocabulary } from '../lib';
import type { Input } from './experiment';

export interface Dataset {
  x: Float32Array;
  n: number;
  d: number;
  words?: string[];
  labels?: string[];
  source: string;
}

export class InputError extends Error {}

/** The most bytes one input file may hold. */
export function maxInputBytes(): number {
  const mb = Number(process.env.SEMFIELD_MAX_INPUT_MB ?? 2048);
  return (Number.isFinite(mb) && mb > 0 ? mb : 2048) * 2 ** 20;
}

function tooLarge(what: string, file: string, cap: number): InputError {
  return new InputError(`${what}: ${file} holds more than ${cap / 2 ** 20} MiB, the input cap (set SEMFIELD_MAX_INPUT_MB to raise it)`);
}

const aborted = (what: string) => new SemfieldError('E_ABORTED', `${what}: reading was interrupted`);

/** Reads a whole file, pipe or device, at most maxInputBytes() of it, stopping when signal aborts. */
export async function readCapped(file: string, what: string, signal?: AbortSignal): Promise<Buffer> {
  const cap = maxInputBytes();
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    throw new InputError(`${what}: cannot read ${file}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) throw new InputError(`${what}: ${file} is a folder, not a file`);
  if (st.isFile() && st.size > cap) throw tooLarge(what, file, cap);
  if (signal?.aborted) throw aborted(what);
  const chunks: Buffer[] = [];
  let total = 0;
  const take = (b: Buffer) => {
    total += b.length;
    if (total > cap) throw tooLarge(what, file, cap);
    chunks.push(b);
  };
  if (st.isFIFO() || st.isSocket()) {
    // A non-blocking descriptor in libuv's poll loop: never a thread stuck in read().
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const sock = new net.Socket({ fd, readable: true, writable: false });
    await new Promise<void>((resolve, reject) => {
      const stop = (e: Error) => {
        signal?.removeEventListener('abort', onAbort);
        sock.destroy();
        reject(e);
      };
      const onAbort = () => stop(aborted(what));
      signal?.addEventListener('abort', onAbort, { once: true });
      sock.on('data', (b: Buffer) => {
        try {
          take(b);
        } catch (e) {
          stop(e as Error);
        }
      });
      sock.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        sock.destroy();
        resolve();
      });
      sock.on('error', (e) => stop(new InputError(`${what}: cannot read ${file}: ${e.message}`)));
    });
    return Buffer.concat(chunks, total);
  }
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    throw new InputError(`${what}: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    for (;;) {
      if (signal?.aborted) throw aborted(what);
      const buf = Buffer.allocUnsafe(Math.min(8 << 20, cap + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      take(buf.subarray(0, bytesRead));
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof SemfieldError) throw e;
    throw new InputError(`${what}: cannot read ${file}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
  return Buffer.concat(chunks, total);
}

/** A hash of what a dataset holds (rows, words, labels): the input part of every run's id. */
export function datasetHash(data: Dataset): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify([data.n, data.d, data.words ?? null, data.labels ?? null]));
  h.update(new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength));
  return h.digest('hex');
}

let bundled: Vocabulary | undefined;

/** The bundled vocabulary, decoded once per process (inputs and steps of every run share it). */
export function bundledVocabulary(): Vocabulary {
  return (bundled ??= loadVocabulary());
}

function lines(buf: Buffer): string[] {
  return buf.toString('utf8').split(/\r?\n/).filter((l, i, a) => l.length > 0 || i < a.length - 1);
}

/** A 2-D float32/float64 array from the bytes of a .npy file (format versions 1 to 3). */
export function readNpy(buf: Buffer, file: string): { x: Float32Array; n: number; d: number } {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new InputError(`${file}: not a .npy file (bad magic)`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  if (start > buf.length) throw new InputError(`${file}: truncated header`);
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) throw new InputError(`${file}: unreadable header ${header.trim()}`);
  if (fortran === 'True') throw new InputError(`${file}: Fortran order is not supported (save with np.ascontiguousarray)`);
  const dims = shape.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.length !== 2 || !dims.every((v) => Number.isInteger(v) && v > 0)) throw new InputError(`${file}: shape (${shape}) is not 2-D [N, d]`);
  const [n, d] = dims;
  const size = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!size) throw new InputError(`${file}: dtype ${descr} is not supported (little-endian float32 or float64)`);
  if (buf.length !== start + n * d * size) throw new InputError(`${file}: ${buf.length - start} data bytes, expected ${n * d * size}`);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) x[i] = size === 4 ? buf.readFloatLE(start + 4 * i) : buf.readDoubleLE(start + 8 * i);
  return { x, n, d };
}

function checkFinite(x: Float32Array, d: number, source: string): void {
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i])) throw new InputError(`${source}: row ${Math.floor(i / d)}, column ${i % d} is not finite`);
}

export async function loadInput(input: Input, base: string, signal?: AbortSignal): Promise<Dataset> {
  const read = (p: string, what: string) => readCapped(path.resolve(base, p), what, signal);
  if (input.kind === 'vocabulary') {
    const v = bundledVocabulary();
    let words: string[], labels: string[] | undefined;
    if (input.themes) {
      const seen = new Map<string, string>();
      for (const [t, ws] of Object.entries(input.themes)) for (const w of ws) if (v.indexOf(w) !== undefined && !seen.has(w)) seen.set(w, t);
      words = [...seen.keys()];
      labels = words.map((w) => seen.get(w)!);
    } else if (input.words) {
      words = input.words.filter((w) => v.indexOf(w) !== undefined);
    } else {
      words = v.words.slice(0, input.first ?? 1000);
    }
    const missing = (input.themes ? Object.values(input.themes).flat() : input.words ?? []).filter((w) => v.indexOf(w) === undefined);
    if (words.length < 2) throw new InputError(`input: fewer than 2 of the words are in the bundled vocabulary`);
    const x = v.rows(words);
    // Unit vectors: GloVe norms track word frequency, not meaning.
    for (let i = 0; i < words.length; i++) {
      let s = 0;
      for (let j = 0; j < v.d; j++) s += x[i * v.d + j] ** 2;
      for (let j = 0; j < v.d; j++) x[i * v.d + j] /= Math.sqrt(s);
    }
    return { x, n: words.length, d: v.d, words, labels, source: `bundled vocabulary (${words.length} words${missing.length ? `; not in it: ${missing.join(', ')}` : ''})` };
  }
  if (input.kind === 'npy') {
    const { x, n, d } = readNpy(await read(input.path, 'input.path'), input.path);
    checkFinite(x, d, input.path);
    const labels = input.labels ? lines(await read(input.labels, 'input.labels')) : undefined;
    const words = input.words ? lines(await read(input.words, 'input.words')) : undefined;
    if (labels && labels.length !== n) throw new InputError(`input.labels: ${labels.length} lines for ${n} rows`);
    if (words && words.length !== n) throw new InputError(`input.words: ${words.length} lines for ${n} rows`);
    return { x, n, d, labels, words, source: input.path };
  }
  if (input.kind === 'f32') {
    const buf = await read(input.path, 'input.path');
    if (buf.length === 0 || buf.length % (4 * input.dim) !== 0) throw new InputError(`input.path: ${buf.length} bytes is not a whole number of rows of ${input.dim} float32`);
    const n = buf.length / (4 * input.dim);
    const x = new Float32Array(n * input.dim);
    for (let i = 0; i < x.length; i++) x[i] = buf.readFloatLE(4 * i);
    checkFinite(x, input.dim, input.path);
    const words = lines(await read(input.vocabulary, 'input.vocabulary'));
    if (words.length !== n) throw new InputError(`input.vocabulary: ${words.length} words for ${n} rows`);
    const labels = input.labels ? lines(await read(input.labels, 'input.labels')) : undefined;
    if (labels && labels.length !== n) throw new InputError(`input.labels: ${labels.length} lines for ${n} rows`);
    return { x, n, d: input.dim, words, labels, source: input.path };
  }
  let json: { vectors?: unknown; words?: unknown; labels?: unknown };
  const text = (await read(input.path, 'input.path')).toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`input.path: ${(e as Error).message}`);
  }
  const rows = json.vectors;
  if (!Array.isArray(rows) || rows.length < 2 || !rows.every((r) => Array.isArray(r) && r.length === (rows[0] as unknown[]).length && r.length > 0))
    throw new InputError(`input.path: "vectors" must be an array of at least 2 rows of equal, non-zero length`);
  const n = rows.length, d = (rows[0] as unknown[]).length;
  const x = new Float32Array(n * d);
  rows.forEach((r, i) => (r as unknown[]).forEach((v, j) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`input.path: vectors[${i}][${j}] is not a finite number`);
    x[i * d + j] = v;
  }));
  const strs = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== n || !v.every((s) => typeof s === 'string')) throw new InputError(`input.path: "${name}" must hold ${n} strings`);
    return v as string[];
  };
  return { x, n, d, words: strs(json.words, 'words'), labels: strs(json.labels, 'labels'), source: input.path };
}
