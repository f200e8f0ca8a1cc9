#!/usr/bin/env node
// Extracts the example service's corpus, examples/server/data/, from the npm
// package @sap-ux/fiori-docs-embeddings (Apache-2.0; its LICENSE is copied
// beside the data): the 778 section vectors (all-MiniLM-L6-v2, 384
// dimensions, float32, unchanged) and, per section, only the fields the
// service reads (id, title, category, path; the package's 7 MB of section
// text are left out). The package itself declares Node >= 22, so it is not a
// dependency: this script is run once, by hand, when the corpus changes.
//
//   npm install --no-save @sap-ux/fiori-docs-embeddings
//   node scripts/extract-corpus.js [path/to/package]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkg = process.argv[2] || path.dirname(require.resolve('@sap-ux/fiori-docs-embeddings/package.json'));
const src = path.join(pkg, 'data', 'embeddings');
const out = path.resolve(__dirname, '..', 'examples', 'server', 'data');
fs.mkdirSync(out, { recursive: true });
const meta = JSON.parse(fs.readFileSync(path.join(src, 'metadata.json'), 'utf8'));
const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
fs.writeFileSync(path.join(out, 'metadata.json'), JSON.stringify({ ...meta, source: `@sap-ux/fiori-docs-embeddings@${version}` }, null, 2) + '\n');
fs.copyFileSync(path.join(src, 'embeddings.bin'), path.join(out, 'embeddings.bin'));
const records = fs.readFileSync(path.join(src, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => {
  const r = JSON.parse(l);
  return JSON.stringify({ id: r.id, title: r.title, category: r.category, path: r.path });
});
fs.writeFileSync(path.join(out, 'records.jsonl'), records.join('\n') + '\n');
fs.copyFileSync(path.join(pkg, 'LICENSE'), path.join(out, 'LICENSE'));
console.log(`${records.length} sections of ${meta.dimensions} dimensions written to ${out}`);
