/**
 * The documents the service serves: the SAP Fiori documentation chunks of
 * the npm package @sap-ux/fiori-docs-embeddings (Apache-2.0), each with its
 * 384-dimensional all-MiniLM-L6-v2 vector, as scripts/extract-corpus.js
 * copied them into examples/server/data. A document is a source file of that
 * documentation, i.e. the set of its sections' vectors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Section {
  id: string;
  title: string;
  document: string;
  row: number;
}

export interface Corpus {
  d: number;
  /** All section vectors [N, d], grouped by document (offsets mark the documents). */
  x: Float32Array;
  offsets: Int32Array;
  documents: { id: string; category: string; sections: number }[];
  sections: Section[];
  sectionById: Map<string, Section>;
  documentIndex: Map<string, number>;
}

/** examples/server/data, found from here upwards (this file runs from the sources and from dist/). */
export function corpusDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const data = path.join(dir, 'examples', 'server', 'data');
    if (fs.existsSync(path.join(data, 'embeddings.bin'))) return data;
    if (path.dirname(dir) === dir) throw new Error('examples/server/data is missing (scripts/extract-corpus.js makes it)');
  }
}

export function loadCorpus(dir = corpusDir()): Corpus {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { dimensions: number; totalVectors: number };
  const d = meta.dimensions;
  const bin = fs.readFileSync(path.join(dir, 'embeddings.bin'));
  const n = bin.length / (4 * d);
  if (n !== meta.totalVectors) throw new Error(`embeddings.bin holds ${n} vectors, metadata.json says ${meta.totalVectors}`);
  const vec = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const records = fs.readFileSync(path.join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; title: string; category: string; path: string });
  if (records.length !== n) throw new Error(`records.jsonl has ${records.length} records for ${n} vectors`);
  // Group rows by source file, in the order files first appear.
  const order: string[] = [];
  const rowsOf = new Map<string, number[]>();
  records.forEach((r, i) => {
    if (!rowsOf.has(r.path)) (order.push(r.path), rowsOf.set(r.path, []));
    rowsOf.get(r.path)!.push(i);
  });
  const x = new Float32Array(n * d), offsets = new Int32Array(order.length + 1), sections: Section[] = [];
  let at = 0;
  order.forEach((doc, k) => {
    for (const i of rowsOf.get(doc)!) {
      x.set(vec.subarray(i * d, (i + 1) * d), at * d);
      sections.push({ id: records[i].id, title: records[i].title, document: doc, row: at });
      at++;
    }
    offsets[k + 1] = at;
  });
  return {
    d, x, offsets, sections,
    documents: order.map((doc) => ({ id: doc, category: records[rowsOf.get(doc)![0]].category, sections: rowsOf.get(doc)!.length })),
    sectionById: new Map(sections.map((s) => [s.id, s])),
    documentIndex: new Map(order.map((doc, k) => [doc, k])),
  };
}
