// The example service (examples/server) over real HTTP on 127.0.0.1 with the
// real Fiori documentation embeddings: answers, bad and oversized requests,
// 50 concurrent requests, a full queue, and an event loop that keeps turning
// while native jobs run.
import type { FastifyInstance } from 'fastify';
import * as net from 'node:net';
import { buildServer } from '../examples/server/app';
import { Corpus, loadCorpus } from '../examples/server/corpus';

let corpus: Corpus;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  corpus = loadCorpus();
  app = buildServer({ corpus, bodyLimit: 512 * 1024, running: 1, queued: 64 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => app.close());

async function post(path: string, body: unknown, url = base): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const vectorsOf = (section: number, count = 1) => Array.from({ length: count }, (_, k) => Array.from(corpus.x.subarray((section + k) * corpus.d, (section + k + 1) * corpus.d)));

describe('the corpus', () => {
  test('778 sections of 384 dimensions in 13 source documents', () => {
    expect(corpus.d).toBe(384);
    expect(corpus.sections).toHaveLength(778);
    expect(corpus.documents).toHaveLength(13);
    expect(corpus.offsets[13]).toBe(778);
    for (let i = 0; i < 384; i++) expect(Number.isFinite(corpus.x[i])).toBe(true);
  });
});

describe('answers', () => {
  test('GET /health and /documents', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ ok: true });
    const docs = (await (await fetch(`${base}/documents`)).json()) as { documents: { id: string; sections: number }[] };
    expect(docs.documents.reduce((a, d) => a + d.sections, 0)).toBe(778);
  });

  test('a document ranks itself first, at energy distance 0; results are sorted', async () => {
    const doc = corpus.documents[2].id;
    const r = await post('/rank', { query: { document: doc } });
    expect(r.status).toBe(200);
    const res = r.json.results as { document: string; energyDistance: number }[];
    expect(res[0].document).toBe(doc);
    expect(res[0].energyDistance).toBeCloseTo(0, 5);
    for (let i = 1; i < res.length; i++) expect(res[i].energyDistance).toBeGreaterThanOrEqual(res[i - 1].energyDistance);
  });

  test('posted vectors: a document\'s own set finds it at distance 0; every distance matches an fp64 reference', async () => {
    const small = corpus.documents.findIndex((doc) => doc.sections === 6);
    const own = vectorsOf(corpus.offsets[small], 6);
    const r = await post('/rank', { query: { vectors: own }, top: 13 });
    const res = r.json.results as { document: string; energyDistance: number }[];
    expect(res[0].document).toBe(corpus.documents[small].id);
    expect(res[0].energyDistance).toBeCloseTo(0, 5);
    // Energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'| in fp64, every document.
    const d = corpus.d, dist = (a: Float32Array, i: number, b: Float32Array, j: number) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += (a[i * d + k] - b[j * d + k]) ** 2;
      return Math.sqrt(s);
    };
    const q = Float32Array.from(own.flat());
    const mean = (a: Float32Array, na: number, b: Float32Array, nb: number) => {
      let s = 0;
      for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) s += dist(a, i, b, j);
      return s / (na * nb);
    };
    const eqq = mean(q, 6, q, 6);
    for (const { document, energyDistance } of res) {
      const k = corpus.documentIndex.get(document)!, n = corpus.offsets[k + 1] - corpus.offsets[k];
      const y = corpus.x.subarray(corpus.offsets[k] * d, corpus.offsets[k + 1] * d);
      const ref = 2 * mean(q, 6, y, n) - eqq - mean(y, n, y, n);
      expect(Math.abs(energyDistance - ref)).toBeLessThan(1e-4 * Math.max(1, ref));
    }
  });

  test('a section finds itself among the sections', async () => {
    const s = corpus.sections[100];
    const r2 = await post('/rank', { query: { section: s.id }, level: 'section', top: 5 });
    const res = r2.json.results as { section: string; energyDistance: number }[];
    expect(res).toHaveLength(5);
    expect(res[0].section).toBe(s.id);
    expect(res[0].energyDistance).toBeCloseTo(0, 5);
  });

  test('/resonance: a spectrum of the requested length; /condense: a label per row', async () => {
    const r = await post('/resonance', { a: { document: corpus.documents[0].id }, b: { document: corpus.documents[1].id }, w: { to: 5, count: 33 }, g: 0.2 });
    expect(r.status).toBe(200);
    expect((r.json.R as number[]).length).toBe(33);
    expect((r.json.R as number[]).every(Number.isFinite)).toBe(true);
    const c = await post('/condense', { set: { vectors: vectorsOf(0, 40) }, bandwidth: 0.5 });  // about 300 kB
    expect(c.status).toBe(200);
    expect((c.json.labels as number[]).length).toBe(40);
    const byDoc = await post('/condense', { set: { document: 'data_local/sapui5.md' }, bandwidth: 0.6 });
    expect((byDoc.json.labels as number[]).length).toBe(386);
    expect(c.json.k).toBeGreaterThan(0);
  });
});

describe('a chart of a field', () => {
  test('/field.svg: an SVG of two documents\' field, with their names, its colour bar and tooltips', async () => {
    const docs = corpus.documents.slice(0, 2);
    const r = await fetch(`${base}/field.svg`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sets: docs.map((doc, i) => ({ name: `doc${i}`, set: { document: doc.id } })).concat([{ name: 'mine', set: { vectors: vectorsOf(5, 3) } as never }]), grid: 128 }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await r.text();
    expect(svg).toMatch(/^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toMatch(/<image[^>]+href="data:image\/png;base64,/);  // the field
    expect(svg).toContain('potential (a.u.)');                    // its colour bar
    for (const name of ['doc0', 'doc1', 'mine']) expect(svg).toContain(`>${name}</text>`);  // the legend
    expect(svg).toMatch(/aria-label="[^"]*word: mine 1/);          // a point's description
    expect(svg).toMatch(/PC1 \(\d+% of variance\)/);
    const bad = await post('/field.svg', { sets: [{ name: 'x', set: { section: corpus.sections[0].id } }] });
    expect(bad.status).toBe(400);
    expect(String(bad.json.message)).toMatch(/at least 2 rows/);
    expect((await post('/field.svg', { sets: [], grid: 100 })).status).toBe(400);
  });
});

describe('slow clients', () => {
  test('20 clients holding partial bodies get 408 and are closed once the request timeout passes', async () => {
    const slow = buildServer({ corpus, requestTimeout: 1000 });
    const at = new URL(await slow.listen({ host: '127.0.0.1', port: 0 }));
    try {
      const t0 = Date.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => new Promise<{ text: string; ms: number }>((resolve, reject) => {
        const sock = net.connect(Number(at.port), '127.0.0.1', () => {
          sock.write('POST /rank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query": ');
        });
        let text = '';
        sock.on('data', (b) => (text += b));
        sock.on('close', () => resolve({ text, ms: Date.now() - t0 }));
        sock.on('error', reject);
        setTimeout(() => reject(new Error('still open after 10 s')), 10000).unref();
      })));
      for (const a of answers) {
        expect(a.text).toMatch(/^HTTP\/1\.1 408/);
        expect(a.ms).toBeLessThan(5000);
      }
    } finally {
      await slow.close();
    }
  });
});

describe('bad requests get clean errors', () => {
  test.each([
    ['no query', '/rank', {}, 400, /query/],
    ['a vector of the wrong length', '/rank', { query: { vectors: [[1, 2, 3]] } }, 400, /query\/vectors\/0/],
    ['two kinds of set at once', '/rank', { query: { document: 'a', section: 'b' } }, 400, /query/],
    ['an unknown document', '/rank', { query: { document: 'nope.md' } }, 404, /no document 'nope\.md'/],
    ['an unknown section', '/rank', { query: { section: 'nope' } }, 404, /no section/],
    ['top out of range', '/rank', { query: { section: 'x' }, top: 0 }, 400, /top/],
    ['an unknown field', '/rank', { query: { section: 'x' }, extra: 1 }, 400, /extra|additional/],
    ['a spectrum too long', '/resonance', { a: { section: 'x' }, b: { section: 'x' }, w: { to: 1, count: 100000 } }, 400, /count/],
    ['an empty frequency range', '/resonance', { a: { document: 'data_local/sapui5.md' }, b: { document: 'data_local/sapui5.md' }, w: { from: 2, to: 1 } }, 400, /w\/to/],
    ['no bandwidth', '/condense', { set: { section: 'x' } }, 400, /bandwidth/],
    // Finite numbers too large for the model: refused by name, never a 200 with nulls.
    ['a coordinate of 1e30', '/rank', { query: { vectors: [Array.from({ length: 384 }, (_, i) => (i ? 0 : 1e30))] } }, 400, /query\/vectors\/0\/0 must be <= 1000000/],
    ['a coordinate of -1e300', '/condense', { set: { vectors: [Array.from({ length: 384 }, (_, i) => (i === 5 ? -1e300 : 0))] }, bandwidth: 1 }, 400, /set\/vectors\/0\/5 must be >= -1000000/],
    ['a frequency of 1e300', '/resonance', { a: { section: 'x' }, b: { section: 'x' }, w: { to: 1e300 } }, 400, /w\/to must be <= 1000000/],
    ['a damping of 1e300', '/resonance', { a: { section: 'x' }, b: { section: 'x' }, w: { to: 1 }, g: 1e300 }, 400, /g must be <= 1000000/],
    ['a wave speed of 1e-300', '/resonance', { a: { section: 'x' }, b: { section: 'x' }, w: { to: 1 }, c: 1e-300 }, 400, /c must be >= 0\.000001/],
    ['a bandwidth of 1e-300', '/condense', { set: { section: 'x' }, bandwidth: 1e-300 }, 400, /bandwidth must be >= 0\.000001/],
    ['a bandwidth of 1e300', '/condense', { set: { section: 'x' }, bandwidth: 1e300 }, 400, /bandwidth must be <= 1000000/],
    ['not JSON', '/rank', '{"query": ', 400, /JSON/i],
  ])('%s', async (_n, path, body, status, msg) => {
    const r = await post(path, body);
    expect(r.status).toBe(status);
    expect(typeof r.json.code).toBe('string');
    expect(String(r.json.message)).toMatch(msg);
  });

  test('an oversized body is refused with 413 before it is parsed', async () => {
    const big = { query: { vectors: Array.from({ length: 200 }, () => Array.from({ length: 384 }, () => 0.123456789)) } };
    expect(JSON.stringify(big).length).toBeGreaterThan(512 * 1024);
    const r = await post('/rank', big);
    expect(r.status).toBe(413);
    expect(r.json.code).toBe('E_TOO_LARGE');
  });
});

describe('cost', () => {
  test('a request whose estimated cost passes the limit is refused with 422 at once, before any work', async () => {
    const doc = corpus.documents.find((x) => x.sections > 300)!.id;
    const t0 = performance.now();
    const r = await post('/resonance', { a: { document: doc }, b: { document: doc }, w: { to: 4, count: 4096 } });
    const ms = performance.now() - t0;
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('E_TOO_COSTLY');
    expect(String(r.json.message)).toMatch(/would cost about 9\.\de\+10 work units \(386 x 386 rows at 4096 frequencies\); the limit is 4\.0e\+10: ask for fewer rows or frequencies/);
    // The full sweep takes several seconds; the refusal none of them.
    expect(ms).toBeLessThan(500);
    // A cheaper request of the same kind is answered.
    const ok = await post('/resonance', { a: { document: doc }, b: { document: doc }, w: { to: 4, count: 64 } });
    expect(ok.status).toBe(200);
  });

  test('the limit is the server\'s to set', async () => {
    const tight = buildServer({ corpus, maxCost: 1e6 });
    const url = await tight.listen({ host: '127.0.0.1', port: 0 });
    try {
      const r = await post('/rank', { query: { section: corpus.sections[0].id } }, url);
      expect(r.status).toBe(422);
      expect(String(r.json.message)).toMatch(/1 query rows against 778 corpus rows\); the limit is 1\.0e\+6/);
    } finally {
      await tight.close();
    }
  });
});

describe('load', () => {
  test('50 concurrent requests all answer correctly while a timer keeps firing', async () => {
    // A 5 ms timer; time it waited beyond 20 ms is time the loop was held.
    let last = performance.now(), worst = 0, held = 0, ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      held += Math.max(0, now - last - 20);
      last = now;
      ticks++;
    }, 5);
    const t0 = performance.now();
    const reqs = Array.from({ length: 50 }, (_, i) => {
      const s = corpus.sections[(i * 37) % corpus.sections.length];
      return i % 5 === 4
        ? post('/resonance', { a: { section: s.id }, b: { document: s.document }, w: { to: 4, count: 64 } }).then((r) => ({ r, s, kind: 'resonance' }))
        : post('/rank', { query: { section: s.id }, level: 'section', top: 1 }).then((r) => ({ r, s, kind: 'rank' }));
    });
    const out = await Promise.all(reqs);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    for (const { r, s, kind } of out) {
      expect(r.status).toBe(200);
      if (kind === 'rank') expect((r.json.results as { section: string }[])[0].section).toBe(s.id);
    }
    // Native work ran off the event loop. The requests run one at a time
    // (running: 1), so work on the loop would hold it for most of the run;
    // here it is held for 0.4-6% of it (the rest of the run's delays are the
    // scheduler's: two cores shared with the native workers, where a single
    // delay reaches 110 ms now and then). Work run on the loop, simulated by
    // 25 ms of it per request, holds it for 25-50% of the run, in one stretch
    // of 1.3 s.
    const sanitized = !!process.env.SEMFIELD_SANITIZED;
    expect(held / elapsed).toBeLessThan(sanitized ? 0.4 : 0.15);
    expect(worst).toBeLessThan(sanitized ? 2000 : 500);
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
  });

  test('a full queue refuses at once with 503 and Retry-After; the rest are answered', async () => {
    const small = buildServer({ corpus, running: 1, queued: 2 });
    const url = await small.listen({ host: '127.0.0.1', port: 0 });
    try {
      const doc = corpus.documents.find((d) => d.sections > 300)!.id;
      const rs = await Promise.all(Array.from({ length: 12 }, () => fetch(`${url}/resonance`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ a: { document: doc }, b: { document: doc }, w: { to: 4, count: 256 } }),
      })));
      const codes = rs.map((r) => r.status);
      expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(3);
      expect(codes.filter((c) => c === 503).length).toBeGreaterThan(0);
      expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
      const busy = rs.find((r) => r.status === 503)!;
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(((await busy.json()) as { code: string }).code).toBe('E_BUSY');
    } finally {
      await small.close();
    }
  });
});
