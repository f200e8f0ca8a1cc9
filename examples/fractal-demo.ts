/**
 * The demo's fractal part: a word as a fractal token whose sub-meanings come
 * from its neighbourhood in the vocabulary, unfolded under two contexts; and
 * the semantic field compressed by the fractal codec and decoded at twice
 * its resolution.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Vocabulary, encodePng, fieldToRgb, fractal, project } from '../lib';

type Log = (msg: string) => void;

function unit(v: Float32Array, d: number): Float32Array {
  for (let i = 0; i < v.length / d; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += v[i * d + k] ** 2;
    const inv = 1 / Math.sqrt(s || 1);
    for (let k = 0; k < d; k++) v[i * d + k] *= inv;
  }
  return v;
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
  return s;
}

/** The vocabulary's words nearest (cosine) to each row of q. */
function nearest(vocab: Vocabulary, all: Float32Array, q: Float32Array, count: number, skip: Set<string>): string[][] {
  const d = vocab.d, out: string[][] = [];
  for (let r = 0; r < q.length / d; r++) {
    const best: [number, string][] = [];
    for (let j = 0; j < vocab.n; j++) {
      if (skip.has(vocab.words[j])) continue;
      best.push([dot(q, r, all, j, d), vocab.words[j]]);
    }
    best.sort((a, b) => b[0] - a[0]);
    out.push(best.slice(0, count).map((b) => b[1]));
  }
  return out;
}

/**
 * Sub-meanings of a word: its 40 nearest neighbours split into m groups
 * (farthest-point seeds, then a few Lloyd steps on the sphere); each group's
 * mean is a prototype.
 */
function subMeanings(vocab: Vocabulary, all: Float32Array, word: string, m: number): { prototypes: Float32Array; groups: string[][] } {
  const d = vocab.d;
  const [nb] = nearest(vocab, all, all.slice(vocab.indexOf(word)! * d, (vocab.indexOf(word)! + 1) * d), 40, new Set([word]));
  const x = unit(vocab.rows(nb), d);
  const centres: number[] = [0];
  while (centres.length < m) {
    let far = 0, worst = Infinity;
    for (let i = 0; i < nb.length; i++) {
      const close = Math.max(...centres.map((c) => dot(x, i, x, c, d)));
      if (close < worst) (worst = close), (far = i);
    }
    centres.push(far);
  }
  let P = unit(Float32Array.from(centres.flatMap((c) => Array.from(x.subarray(c * d, (c + 1) * d)))), d);
  let label = new Int32Array(nb.length);
  for (let it = 0; it < 10; it++) {
    label = Int32Array.from(nb.map((_, i) => {
      let b = 0;
      for (let c = 1; c < m; c++) if (dot(x, i, P, c, d) > dot(x, i, P, b, d)) b = c;
      return b;
    }));
    const next = new Float32Array(m * d);
    label.forEach((c, i) => {
      for (let k = 0; k < d; k++) next[c * d + k] += x[i * d + k];
    });
    P = unit(next, d);
  }
  return { prototypes: P, groups: Array.from({ length: m }, (_, c) => nb.filter((_, i) => label[i] === c)) };
}

export async function fractalDemo(out: string, vocab: Vocabulary, phi: Float32Array, n: number, step: Log, done: Log) {
  const d = vocab.d;
  const all = unit(vocab.vectors.slice(), d);
  const word = 'java', contexts = ['island', 'software'], m = 3, depth = 4;
  step(`a fractal token for '${word}': ${m} sub-meanings from its neighbours, unfolded to depth ${depth} under '${contexts.join("' and '")}'`);
  const { prototypes, groups } = subMeanings(vocab, all, word, m);
  const C = unit(vocab.rows(contexts), d);
  const token = await fractal.unfoldToken(prototypes, C, { d, depth, s: 0.5, beta: 12 });
  const means = unit(Float32Array.from(token.mean), d);
  const near = nearest(vocab, all, means, 8, new Set([word, ...contexts]));
  done(`${token.count} weighted points per context`);
  const perContext = contexts.map((c, ci) => ({
    context: c,
    subMeaningWeights: groups.map((g, i) => ({ subMeaning: g.slice(0, 5).join(' '), weight: +token.pi[ci * m + i].toFixed(3) })),
    nearestToMean: near[ci],
  }));
  for (const p of perContext)
    process.stdout.write(`\n    in the context '${p.context}': ${p.subMeaningWeights.map((s) => `${(100 * s.weight).toFixed(0)}% [${s.subMeaning}]`).join(', ')}\n      nearest words to its mean: ${p.nearestToMean.join(', ')}`);

  // The two unfoldings side by side, in the plane of their first two
  // principal components; a dot's area is its weight.
  const pts = token.points, np = pts.length / d, S = 256;
  const proj = await project(pts, { d, grid: { n: [S, S] }, margin: 0.08 });
  const rgb = new Uint8Array(2 * S * S * 3).fill(255);
  for (let i = 0; i < np; i++) {
    const ci = Math.floor(i / token.count), w = token.weights[i];
    const cx = ci * S + Math.floor(proj.positions[2 * i] * S), cy = S - 1 - Math.floor(proj.positions[2 * i + 1] * S);
    const r = 1 + Math.sqrt(w) * 24;
    const col = ci === 0 ? [190, 70, 30] : [30, 80, 190];
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++)
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) {
        const X = cx + dx, Y = cy + dy;
        if (dx * dx + dy * dy > r * r || Y < 0 || Y >= S || X < ci * S || X >= (ci + 1) * S) continue;
        rgb.set(col, (Y * 2 * S + X) * 3);
      }
  }
  for (let y = 0; y < S; y++) rgb.set([160, 160, 160], (y * 2 * S + S) * 3);
  fs.writeFileSync(path.join(out, 'token.png'), encodePng(rgb, 2 * S, S));

  step(`compressing the ${n}x${n} field with the fractal codec, decoding it at ${2 * n}x${2 * n}`);
  let lo = Infinity, hi = -Infinity;
  for (const v of phi) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const enc = await fractal.encode(phi, { width: n, height: n, tolerance: 0.002 * (hi - lo) });
  const same = await fractal.decode(enc.code);
  const twice = await fractal.decode(enc.code, { scale: 2 });
  const psnr = fractal.psnr(phi, same.image, hi - lo);
  fs.writeFileSync(path.join(out, 'field-x2.png'), encodePng(fieldToRgb(twice.image, 2 * n, 2 * n), 2 * n, 2 * n));
  done(`${enc.bytes} bytes (${((n * n * 4) / enc.bytes).toFixed(0)}x smaller than float32), PSNR ${psnr.toFixed(1)} dB, ${twice.iterations} iterations at ${2 * n}x${2 * n}`);
  return {
    token: { word, contexts: perContext, depth, points: token.count },
    codec: { bytes: enc.bytes, ratioVsFloat32: (n * n * 4) / enc.bytes, psnrDb: psnr, leaves: enc.leaves, decodedAt: [2 * n, 2 * n], iterations: twice.iterations },
  };
}
