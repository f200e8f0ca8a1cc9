/**
 * semfield inside a Fastify service. Endpoints:
 *   GET  /health                 liveness, queue depth, backend
 *   GET  /documents              the documents and their section counts
 *   POST /rank                   documents (or sections) ranked by energy distance to a query set
 *   POST /resonance              the resonance spectrum R_AB(w) of two sets
 *   POST /condense               stable nodes of a posted set (mean shift)
 *   POST /field.svg              a chart (SVG) of the semantic field of posted sets, for a web page
 * A set is { vectors: number[][] } (rows of the corpus's dimension),
 * { document: id } or { section: id }. Requests are checked by JSON schema
 * (400 naming the field), bodies are limited (413), a request must arrive
 * whole within requestTimeout (408, connection closed), every request's
 * cost is estimated from its sizes before any work and refused past maxCost
 * (422), numbers are bounded so that no answer overflows (and an answer that
 * is not finite anyway is 422, never a 200 with nulls), native jobs go
 * through a bounded queue (503 when full), and a client that hangs up aborts
 * its job.
 *
 * Cost is counted in work units: one unit is one multiply-add of two rows'
 * coordinates, about 2e10 a second on two cores of a current x86-64. So a
 * pair of rows costs d units in a distance, one frequency of the resonance
 * sweep about 160 (a complex exponential and its sum), and one mean-shift
 * iteration d per pair.
 */
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as http from 'node:http';
import { SemfieldError, chartSvg, deposit, device, fieldChart, points, potential, project, projectionAxes } from '../../lib';
import { Corpus } from './corpus';
import { Busy, JobQueue } from './jobs';

export interface ServerOptions {
  corpus: Corpus;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Native jobs at once (default 1: each uses every core) and waiting (default 64). */
  running?: number;
  queued?: number;
  /** Rows a posted set may hold (default 2000). */
  maxRows?: number;
  /** Time a client has to send its whole request, in ms (default 10,000): a slow or stalled body gets 408 and its connection is closed. */
  requestTimeout?: number;
  /** Most work units one request may cost (default 4e10, about 2 s of both cores); more is refused with 422 before any work. */
  maxCost?: number;
  logger?: boolean;
}

type SetSpec = { vectors?: number[][]; document?: string; section?: string };

export function buildServer(o: ServerOptions): FastifyInstance {
  const { corpus } = o, d = corpus.d, maxRows = o.maxRows ?? 2000, maxCost = o.maxCost ?? 4e10;
  const queue = new JobQueue(o.running ?? 1, o.queued ?? 64);
  // Unknown fields are refused (Fastify's default Ajv setting drops them silently).
  // Node checks request deadlines every connectionsCheckingInterval ms: a tenth of the timeout.
  const requestTimeout = o.requestTimeout ?? 10000;
  const app = Fastify({
    logger: o.logger ?? false, bodyLimit: o.bodyLimit ?? 1 << 20, requestTimeout,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    serverFactory: (handler) => http.createServer({ requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(100, requestTimeout / 10), keepAliveTimeout: 5000 }, handler),
  });

  const setSchema = {
    type: 'object',
    properties: {
      // Coordinates of at most 1e6 in size: a row's squared norm stays far inside fp32.
      vectors: { type: 'array', minItems: 1, maxItems: maxRows, items: { type: 'array', minItems: d, maxItems: d, items: { type: 'number', minimum: -1e6, maximum: 1e6 } } },
      document: { type: 'string', minLength: 1 },
      section: { type: 'string', minLength: 1 },
    },
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false,
  };

  class HttpError extends Error {
    constructor(readonly status: number, readonly code: string, message: string) {
      super(message);
    }
  }

  /** A set's rows as one Float32Array. */
  function rows(s: SetSpec, what: string): Float32Array {
    if (s.vectors) {
      const x = new Float32Array(s.vectors.length * d);
      s.vectors.forEach((r, i) => x.set(r, i * d));
      return x;
    }
    if (s.document !== undefined) {
      const k = corpus.documentIndex.get(s.document);
      if (k === undefined) throw new HttpError(404, 'E_NOT_FOUND', `${what}.document: no document '${s.document}' (GET /documents lists them)`);
      return corpus.x.slice(corpus.offsets[k] * d, corpus.offsets[k + 1] * d);
    }
    const sec = corpus.sectionById.get(s.section!);
    if (!sec) throw new HttpError(404, 'E_NOT_FOUND', `${what}.section: no section '${s.section}'`);
    return corpus.x.slice(sec.row * d, (sec.row + 1) * d);
  }

  /** Refuses a request whose estimated cost passes maxCost, before any work. */
  function afford(units: number, what: string): void {
    if (units > maxCost)
      throw new HttpError(422, 'E_TOO_COSTLY', `this request would cost about ${units.toPrecision(2)} work units (${what}); the limit is ${maxCost.toPrecision(2)}: ask for fewer rows${what.includes('frequencies') ? ' or frequencies' : ''}`);
  }

  /** The answer's numbers, all finite (an answer with NaN or Infinity is 422: inputs too large for the model). */
  function finite(values: ArrayLike<number>, name: string): number[] {
    const out = Array.from(values);
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new HttpError(422, 'E_RANGE', `${name}[${bad}] is not finite for these inputs: smaller coordinates or parameters`);
    return out;
  }

  /** Names for a set's rows: section titles, or the set's own name and a row number. */
  function names(s: SetSpec, fallback: string, count: number): string[] {
    if (s.section !== undefined) return [corpus.sectionById.get(s.section)!.title];
    if (s.document !== undefined) {
      const k = corpus.documentIndex.get(s.document)!;
      return Array.from({ length: count }, (_, j) => corpus.sections[corpus.offsets[k] + j].title);
    }
    return Array.from({ length: count }, (_, j) => `${fallback} ${j + 1}`);
  }

  /** Runs a native job through the queue, aborted if the client goes away. */
  async function job<T>(req: FastifyRequest, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    const onClose = () => ac.abort();  // the client hung up before its answer
    req.raw.socket.once('close', onClose);
    try {
      return await queue.run(() => fn(ac.signal));
    } finally {
      req.raw.socket.off('close', onClose);
    }
  }

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number; code?: string }, _req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return reply.status(err.status).send({ code: err.code, message: err.message });
    if (err instanceof Busy) return reply.status(503).header('retry-after', '1').send({ code: 'E_BUSY', message: `server busy: ${err.message}; retry later` });
    if (err instanceof SemfieldError) return reply.status(err.code === 'E_OOM' || err.code === 'E_DEVICE' ? 500 : err.code === 'E_RANGE' || err.code === 'E_NONFINITE' ? 422 : 400).send({ code: err.code, message: err.message });
    if (err.validation) return reply.status(400).send({ code: 'E_REQUEST', message: err.message });
    if (err.statusCode === 413) return reply.status(413).send({ code: 'E_TOO_LARGE', message: `request body over ${o.bodyLimit ?? 1 << 20} bytes` });
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ code: err.code ?? 'E_REQUEST', message: err.message });
    app.log.error(err);
    return reply.status(500).send({ code: 'E_INTERNAL', message: 'internal error' });
  });

  app.get('/health', async () => ({ ok: true, backend: device.info().auto, jobs: queue.depth }));

  app.get('/documents', async () => ({ d, documents: corpus.documents }));

  app.post('/rank', {
    schema: {
      body: {
        type: 'object',
        properties: { query: setSchema, top: { type: 'integer', minimum: 1, maximum: 1000 }, level: { enum: ['document', 'section'] } },
        required: ['query'],
        additionalProperties: false,
      },
    },
  }, async (req) => {
    const b = req.body as { query: SetSpec; top?: number; level?: 'document' | 'section' };
    const q = rows(b.query, 'query');
    const level = b.level ?? 'document';
    const top = b.top ?? 10;
    const offsets = level === 'document' ? corpus.offsets : Int32Array.from({ length: corpus.sections.length + 1 }, (_, i) => i);
    const nq = q.length / d, N = corpus.sections.length;
    afford((nq * N + nq * nq + N * N) * d, `${nq} query rows against ${N} corpus rows`);
    const D = await job(req, (signal) => points.distanceMatrix(corpus.x, offsets, { d, query: { x: q, offsets: Int32Array.from([0, q.length / d]) }, signal }));
    const scored = finite(D.values, 'energyDistance').map((v, k) => ({ k, v })).sort((a, c) => a.v - c.v || a.k - c.k).slice(0, top);
    return {
      level,
      results: scored.map(({ k, v }) =>
        level === 'document'
          ? { document: corpus.documents[k].id, category: corpus.documents[k].category, sections: corpus.documents[k].sections, energyDistance: v }
          : { section: corpus.sections[k].id, title: corpus.sections[k].title, document: corpus.sections[k].document, energyDistance: v }),
    };
  });

  app.post('/resonance', {
    schema: {
      body: {
        type: 'object',
        properties: {
          a: setSchema, b: setSchema,
          w: { type: 'object', properties: { from: { type: 'number', minimum: 0, maximum: 1e6 }, to: { type: 'number', minimum: 0, maximum: 1e6 }, count: { type: 'integer', minimum: 2, maximum: 4096 } }, required: ['to'], additionalProperties: false },
          g: { type: 'number', minimum: 0, maximum: 1e6 }, kappa: { type: 'number', minimum: 0, maximum: 1e6 }, c: { type: 'number', minimum: 1e-6, maximum: 1e6 },
        },
        required: ['a', 'b', 'w'],
        additionalProperties: false,
      },
    },
  }, async (req) => {
    const b = req.body as { a: SetSpec; b: SetSpec; w: { from?: number; to: number; count?: number }; g?: number; kappa?: number; c?: number };
    const A = rows(b.a, 'a'), B = rows(b.b, 'b');
    const from = b.w.from ?? 0, count = b.w.count ?? 128;
    if (!(b.w.to > from)) throw new HttpError(400, 'E_REQUEST', `body/w/to must be above body/w/from (${from})`);
    const na = A.length / d, nb = B.length / d;
    afford(na * nb * (d + 160 * count), `${na} x ${nb} rows at ${count} frequencies`);
    const w = Float64Array.from({ length: count }, (_, k) => from + ((b.w.to - from) * k) / (count - 1));
    const s = await job(req, (signal) => points.resonance(A, B, w, { d, damping: b.g ?? 0.1, kappa: b.kappa ?? 0, c: b.c ?? 1, signal }));
    return { w: Array.from(s.w), R: finite(s.R, 'R') };
  });

  app.post('/condense', {
    schema: {
      body: {
        type: 'object',
        properties: { set: setSchema, bandwidth: { type: 'number', minimum: 1e-6, maximum: 1e6 }, kernel: { enum: ['gaussian', 'flat'] } },
        required: ['set', 'bandwidth'],
        additionalProperties: false,
      },
    },
  }, async (req) => {
    const b = req.body as { set: SetSpec; bandwidth: number; kernel?: 'gaussian' | 'flat' };
    const x = rows(b.set, 'set');
    const n = x.length / d;
    // Mean shift runs up to 300 iterations over every pair.
    afford(n * n * d * 300, `${n} rows, up to 300 mean-shift iterations`);
    const c = await job(req, (signal) => points.condense(x, { d, kernel: b.kernel === 'flat' ? { kind: 'flat', radius: b.bandwidth } : { kind: 'gaussian', sigma: b.bandwidth }, signal }));
    return { k: c.k, labels: Array.from(c.labels), mass: finite(c.mass, 'mass'), potential: finite(c.potential, 'potential'), iterations: c.iterations };
  });

  app.post('/field.svg', {
    schema: {
      body: {
        type: 'object',
        properties: {
          sets: {
            type: 'array', minItems: 1, maxItems: 8,
            items: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 60 }, set: setSchema }, required: ['name', 'set'], additionalProperties: false },
          },
          grid: { enum: [64, 128, 256, 512] },
          kappa: { type: 'number', minimum: 0, maximum: 1000 },
          title: { type: 'string', maxLength: 120 },
        },
        required: ['sets'],
        additionalProperties: false,
      },
    },
  }, async (req, reply) => {
    const b = req.body as { sets: { name: string; set: SetSpec }[]; grid?: number; kappa?: number; title?: string };
    const parts = b.sets.map((s, i) => ({ name: s.name, x: rows(s.set, `sets[${i}].set`) }));
    const n = parts.reduce((a, p) => a + p.x.length / d, 0);
    if (n < 2) throw new HttpError(400, 'E_REQUEST', 'body/sets must hold at least 2 rows in all');
    if (n > maxRows) throw new HttpError(413, 'E_TOO_LARGE', `body/sets hold ${n} rows; at most ${maxRows}`);
    const x = new Float32Array(n * d);
    let at = 0;
    for (const p of parts) x.set(p.x, at), (at += p.x.length);
    const size = b.grid ?? 256, grid = { n: [size, size], boundary: 'dirichlet' as const };
    // PCA of the rows (a few passes over n x d), then a grid's deposit and multigrid solve (about 200 units a cell).
    afford(n * d * 64 + size * size * 200, `${n} rows on a ${size} x ${size} grid`);
    const { proj, phi } = await job(req, async (signal) => {
      const proj = await project(x, { d, grid, margin: 0.08, signal });
      const rho = await deposit(proj.positions, grid, { signal });
      return { proj, phi: (await potential(rho, grid, { kappa: b.kappa ?? 24, signal })).phi };
    });
    const concepts = [];
    let row = 0;
    for (const [i, p] of parts.entries()) {
      const label = names(b.sets[i].set, p.name, p.x.length / d);
      for (const word of label) concepts.push({ x: proj.positions[2 * row], y: proj.positions[2 * row + 1], word, theme: p.name }), row++;
    }
    const svg = await chartSvg(fieldChart({
      field: phi, nx: size, ny: size, title: b.title ?? `semantic field of ${parts.map((p) => p.name).join(', ')}`.slice(0, 120), valueTitle: 'potential (a.u.)', concepts,
      ...projectionAxes(proj.transform),
    }));
    return reply.type('image/svg+xml').send(svg);
  });

  return app;
}
