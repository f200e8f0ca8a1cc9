/**
 * The operations an experiment's pipeline runs. Each reads the run's state
 * (the dataset, and the field once a `field` step has run), writes its
 * pictures into the run's folder and returns a JSON summary for the record
 * and a one-line headline for the terminal.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  condense as meshCondense, deposit, encodePng, fieldToRgb, fractal, labelsToRgb, linePlot, modes, points, potential, project,
  resonance as meshResonance,
} from '../lib';
import { Dataset, bundledVocabulary } from './inputs';
import { nearestRows, subMeanings, unitRows } from './token';

export interface RunState {
  data: Dataset;
  /** Absolute folder of this run's pictures, and its path relative to the output folder. */
  dir: string;
  rel: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  signal: AbortSignal;
  /** Reports what the step is doing (the progress line). */
  status: (what: string) => void;
  field?: { n: number; positions: Float32Array; rho: Float32Array; phi: Float32Array; explained: number; grid: { n: number[]; boundary: 'dirichlet' } };
  pictures: string[];
}

export interface StepResult {
  summary: Record<string, unknown>;
  headline: string;
}

export class StepError extends Error {}

type Opts = Record<string, unknown>;
const num = (o: Opts, k: string, def: number) => (o[k] === undefined ? def : (o[k] as number));

function picture(st: RunState, name: string, png: Buffer): string {
  fs.mkdirSync(st.dir, { recursive: true });
  fs.writeFileSync(path.join(st.dir, name), png);
  const rel = path.posix.join(st.rel, name);
  st.pictures.push(rel);
  return rel;
}

function run(st: RunState) {
  return { backend: st.backend, signal: st.signal };
}

function needField(st: RunState, op: string) {
  if (!st.field) throw new StepError(`${op} needs the field: put a 'field' step before it`);
  return st.field;
}

function name(st: RunState, i: number): string {
  return st.data.words?.[i] ?? String(i);
}

/** Median distance over up to 2000 deterministic pairs: the data's length scale. */
function typicalDistance(x: Float32Array, n: number, d: number): number {
  const ds: number[] = [];
  for (let k = 0; k < Math.min(2000, (n * (n - 1)) / 2); k++) {
    const i = (k * 7919) % n, j = (k * 104729 + 1) % n;
    if (i === j) continue;
    let s = 0;
    for (let q = 0; q < d; q++) s += (x[i * d + q] - x[j * d + q]) ** 2;
    ds.push(Math.sqrt(s));
  }
  ds.sort((a, b) => a - b);
  return ds[ds.length >> 1] || 1;
}

// Upscales by k (nearest neighbour) so small fields are readable.
function upscale(rgb: Uint8Array, w: number, h: number, k: number): Uint8Array {
  if (k === 1) return rgb;
  const out = new Uint8Array(w * k * h * k * 3);
  for (let y = 0; y < h * k; y++)
    for (let x = 0; x < w * k; x++) {
      const s = (Math.floor(y / k) * w + Math.floor(x / k)) * 3;
      out.set(rgb.subarray(s, s + 3), (y * w * k + x) * 3);
    }
  return out;
}

function purity(labels: Int32Array | number[], truth: string[] | undefined, k: number): number | undefined {
  if (!truth) return undefined;
  let right = 0;
  for (let c = 0; c < k; c++) {
    const counts = new Map<string, number>();
    for (let i = 0; i < truth.length; i++) if (labels[i] === c) counts.set(truth[i], (counts.get(truth[i]) ?? 0) + 1);
    right += Math.max(0, ...counts.values());
  }
  return right / truth.length;
}

/** The rows of a group: a label of the input, or words of it (or of the bundled vocabulary). */
function rowsOf(st: RunState, g: unknown, what: string): Float32Array {
  const { data } = st, d = data.d;
  let idx: number[] = [];
  if (typeof g === 'string') {
    if (!data.labels) throw new StepError(`${what}: '${g}' names a label, but the input has no labels`);
    data.labels.forEach((l, i) => l === g && idx.push(i));
    if (!idx.length) throw new StepError(`${what}: no row has the label '${g}'`);
  } else {
    const list = g as string[];
    const where = new Map((data.words ?? []).map((w, i) => [w, i]));
    idx = list.filter((w) => where.has(w)).map((w) => where.get(w)!);
    if (idx.length < list.length) {
      // Words outside the input: from the bundled vocabulary when that is the input's space.
      if (!data.source.startsWith('bundled vocabulary')) throw new StepError(`${what}: not in the input: ${list.filter((w) => !where.has(w)).join(', ')}`);
      const v = bundledVocabulary();
      const extra = list.filter((w) => !where.has(w) && v.indexOf(w) !== undefined);
      const x = new Float32Array((idx.length + extra.length) * d);
      idx.forEach((r, k) => x.set(data.x.subarray(r * d, (r + 1) * d), k * d));
      x.set(unitRows(v.rows(extra), d), idx.length * d);
      if (!idx.length && !extra.length) throw new StepError(`${what}: none of ${list.join(', ')} is known`);
      return x;
    }
  }
  const x = new Float32Array(idx.length * d);
  idx.forEach((r, k) => x.set(data.x.subarray(r * d, (r + 1) * d), k * d));
  return x;
}

let unitAll: Float32Array | undefined;

/** Every word of the bundled vocabulary as a unit vector (computed once). */
function unitVocabulary(): Float32Array {
  if (!unitAll) {
    const v = bundledVocabulary();
    unitAll = unitRows(v.vectors.slice(), v.d);
  }
  return unitAll;
}

export const STEP_FNS: Record<string, (st: RunState, o: Opts) => Promise<StepResult>> = {
  /** Project to the plane, deposit, solve the screened Poisson equation (twice when smooth). */
  async field(st, o) {
    const n = num(o, 'grid', 256), kappa = num(o, 'kappa', 24), tol = num(o, 'tol', 1e-7), smooth = o.smooth !== false;
    if ((n & (n - 1)) !== 0 && n % 64 !== 0) throw new StepError(`field: grid ${n} needs more factors of two (a power of two, or a multiple of 64)`);
    const { data } = st, grid = { n: [n, n], boundary: 'dirichlet' as const };
    st.status('field: projecting');
    const proj = await project(data.x, { d: data.d, grid, margin: 0.08, ...run(st) });
    const rho = await deposit(proj.positions, grid, run(st));
    let phi = rho, cycles = 0, residual = 0;
    for (let pass = 0; pass < (smooth ? 2 : 1); pass++) {
      const r = await potential(phi, grid, { kappa, tol, ...run(st), onProgress: (_f, c, res) => st.status(`field: solve ${pass + 1}, cycle ${c}, residual ${res.toExponential(1)}`) });
      phi = r.phi;
      cycles += r.fields[0].cycles;
      residual = r.fields[0].residual;
    }
    const explained = proj.transform.explainedRatio[0] + proj.transform.explainedRatio[1];
    st.field = { n, positions: proj.positions, rho, phi, explained, grid };
    const rgb = fieldToRgb(phi, n, n);
    // The concepts as white dots (image rows top to bottom, y upwards).
    for (let i = 0; i < data.n; i++) {
      const x = Math.min(n - 1, Math.floor(proj.positions[2 * i] * n)), y = Math.min(n - 1, Math.floor(proj.positions[2 * i + 1] * n));
      rgb.fill(255, ((n - 1 - y) * n + x) * 3, ((n - 1 - y) * n + x) * 3 + 3);
    }
    const k = Math.max(1, Math.floor(512 / n));
    const pic = picture(st, 'field.png', encodePng(upscale(rgb, n, n, k), n * k, n * k));
    return {
      summary: { grid: n, kappa, smooth, cycles, residual, explainedVariance: +explained.toFixed(4), picture: pic },
      headline: `${n}x${n} field, kappa ${kappa}: ${cycles} multigrid cycles, residual ${residual.toExponential(1)}; the plane holds ${(100 * explained).toFixed(0)}% of the variance`,
    };
  },

  /** Basins of the field's peaks (or troughs), with the concepts each holds. */
  async basins(st, o) {
    const f = needField(st, 'basins'), n = f.n, grid = { n: [n, n], boundary: 'dirichlet' as const };
    const seek = (o.seek as 'max' | 'min') ?? 'max';
    const c = await meshCondense(f.phi, grid, { seek, rho: f.rho, ...run(st) });
    const member = new Map<number, number[]>();
    for (let i = 0; i < st.data.n; i++) {
      const x = Math.min(n - 1, Math.floor(f.positions[2 * i] * n)), y = Math.min(n - 1, Math.floor(f.positions[2 * i + 1] * n));
      const b = c.labels[y * n + x];
      if (!member.has(b)) member.set(b, []);
      member.get(b)!.push(i);
    }
    const basins = [...member.entries()]
      .map(([b, rows]) => {
        const counts = new Map<string, number>();
        for (const r of rows) if (st.data.labels) counts.set(st.data.labels[r], (counts.get(st.data.labels[r]) ?? 0) + 1);
        const top = [...counts.entries()].sort((a, q) => q[1] - a[1])[0];
        return { rows, mass: c.fields[0][b].mass, position: c.fields[0][b].position.map((v) => +v.toFixed(4)), members: rows.map((r) => name(st, r)), label: top ? { label: top[0], share: +(top[1] / rows.length).toFixed(3) } : undefined };
      })
      .sort((a, b) => b.mass - a.mass || a.rows[0] - b.rows[0]);
    const assigned = new Int32Array(st.data.n);
    basins.forEach((b, k) => b.rows.forEach((r) => (assigned[r] = k)));
    const pur = purity(assigned, st.data.labels, basins.length);
    const pic = picture(st, 'basins.png', encodePng(upscale(labelsToRgb(c.labels, n, n), n, n, Math.max(1, Math.floor(512 / n))), n * Math.max(1, Math.floor(512 / n)), n * Math.max(1, Math.floor(512 / n))));
    return {
      summary: { basins: basins.length, extrema: c.fields[0].length, purity: pur, largest: basins.slice(0, 12).map(({ rows: _rows, ...b }) => b), picture: pic },
      headline: `${basins.length} basins hold concepts${pur !== undefined ? `, ${(100 * pur).toFixed(0)}% of them with their basin's main label` : ''}; largest: ${basins[0].members.slice(0, 6).join(', ')}`,
    };
  },

  /** Documents (each label's rows in three parts) ranked for query phrases by energy distance and by cosine of means. */
  async rank(st, o) {
    const { data } = st, d = data.d;
    if (!data.labels) throw new StepError('rank: documents are made from the input\'s labels, and it has none');
    const top = num(o, 'top', 3);
    const docs: { name: string; rows: number[] }[] = [];
    for (const t of [...new Set(data.labels)]) {
      const rows = data.labels.map((l, i) => [l, i] as const).filter(([l]) => l === t).map(([, i]) => i);
      const parts = rows.length >= 6 ? 3 : 1;
      for (let p = 0; p < parts; p++) docs.push({ name: parts > 1 ? `${t}-${p + 1}` : t, rows: rows.filter((_, k) => k % parts === p) });
    }
    const offsets = new Int32Array(docs.length + 1);
    docs.forEach((doc, k) => (offsets[k + 1] = offsets[k] + doc.rows.length));
    const dx = new Float32Array(offsets[docs.length] * d);
    docs.forEach((doc, k) => doc.rows.forEach((r, j) => dx.set(data.x.subarray(r * d, (r + 1) * d), (offsets[k] + j) * d)));
    const mean = (v: Float32Array, from: number, to: number) => {
      const m = new Float64Array(d);
      for (let i = from; i < to; i++) for (let j = 0; j < d; j++) m[j] += v[i * d + j] / (to - from);
      return m;
    };
    const cos = (a: Float64Array, b: Float64Array) => {
      let s = 0, na = 0, nb = 0;
      for (let j = 0; j < d; j++) (s += a[j] * b[j]), (na += a[j] ** 2), (nb += b[j] ** 2);
      return s / Math.sqrt(na * nb);
    };
    const results = [];
    for (const q of o.queries as string[][]) {
      const qx = rowsOf(st, q, `rank: query '${q.join(' ')}'`);
      const D = await points.distanceMatrix(dx, offsets, { d, query: { x: qx, offsets: Int32Array.from([0, qx.length / d]) }, ...run(st) });
      const byEnergy = docs.map((doc, k) => ({ doc: doc.name, score: +D.values[k].toFixed(5) })).sort((a, b) => a.score - b.score).slice(0, top);
      const qm = mean(qx, 0, qx.length / d);
      const byCosine = docs.map((doc, k) => ({ doc: doc.name, score: +cos(qm, mean(dx, offsets[k], offsets[k + 1])).toFixed(5) })).sort((a, b) => b.score - a.score).slice(0, top);
      results.push({ query: q.join(' '), byEnergyDistance: byEnergy, byCosine });
    }
    return {
      summary: { documents: docs.length, queries: results },
      headline: results.map((r) => `'${r.query}' -> ${r.byEnergyDistance[0].doc}`).join('; '),
    };
  },

  /** Stable nodes in the embedding space itself (mean shift). */
  async condense(st, o) {
    const { data } = st;
    const bandwidth = num(o, 'bandwidth', 0.25 * typicalDistance(data.x, data.n, data.d));
    const c = await points.condense(data.x, { d: data.d, bandwidth, kernel: (o.kernel as 'gaussian' | 'flat') ?? 'gaussian', ...run(st) });
    const groups = Array.from({ length: c.k }, (_, k) => Array.from(c.labels.keys()).filter((i) => c.labels[i] === k).map((i) => name(st, i))).filter((g) => g.length > 1);
    const pur = purity(c.labels, data.labels, c.k);
    return {
      summary: { bandwidth: +bandwidth.toFixed(5), nodes: c.k, groups: groups.length, purity: pur, largest: groups.sort((a, b) => b.length - a.length).slice(0, 8) },
      headline: `${c.k} stable nodes in ${data.d} dimensions (bandwidth ${bandwidth.toFixed(3)}), ${groups.length} with more than one member${pur !== undefined ? `, purity ${(100 * pur).toFixed(0)}%` : ''}`,
    };
  },

  /** Labels induced from one seed row per label (the first of each) by the harmonic function. */
  async induce(st, o) {
    const { data } = st;
    if (!data.labels) throw new StepError('induce needs labels in the input (one seed per label is kept)');
    const names = [...new Set(data.labels)];
    const seeds = names.map((t) => data.labels!.indexOf(t));
    const values = new Float32Array(seeds.length * names.length);
    seeds.forEach((_, k) => (values[k * names.length + k] = 1));
    const sigma = num(o, 'sigma', 0.3 * typicalDistance(data.x, data.n, data.d)), knn = num(o, 'knn', 10);
    const r = await points.induce(data.x, { d: data.d, labeled: Int32Array.from(seeds), values, kernel: { kind: 'gaussian', sigma }, knn, ...run(st) });
    let right = 0;
    data.labels.forEach((l, i) => (right += names[r.labels[i]] === l ? 1 : 0));
    return {
      summary: { seeds: seeds.map((s) => name(st, s)), sigma: +sigma.toFixed(5), knn, accuracy: right / data.n, iterations: r.iterations, converged: r.converged },
      headline: `${right} of ${data.n} rows get their own label from ${seeds.length} seeds (${((100 * right) / data.n).toFixed(0)}%)`,
    };
  },

  /** The resonance spectrum R_AB(w) between two groups. */
  async spectrum(st, o) {
    const A = rowsOf(st, o.a, 'spectrum.a'), B = rowsOf(st, o.b, 'spectrum.b'), d = st.data.d;
    const from = num(o, 'from', 0), to = num(o, 'to', 20), count = num(o, 'count', 200);
    if (!(to > from)) throw new StepError(`spectrum: 'to' (${to}) must be above 'from' (${from})`);
    const w = Float64Array.from({ length: count }, (_, k) => from + ((to - from) * k) / (count - 1));
    const s = await points.resonance(A, B, w, { d, g: num(o, 'g', 0.5), kappa: num(o, 'kappa', 0), c: num(o, 'c', 1), ...run(st) });
    let peak = 0;
    for (let k = 1; k < count; k++) if (s.R[k] > s.R[peak]) peak = k;
    const label = (g: unknown) => (typeof g === 'string' ? g : (g as string[]).join(' '));
    const pic = picture(st, 'spectrum.png', linePlot([{ name: `${label(o.a)} / ${label(o.b)}`.slice(0, 40), x: w, y: s.R }], { xLabel: 'w', yLabel: 'R(w)', title: 'resonance spectrum' }));
    return {
      summary: { pairs: (A.length / d) * (B.length / d), peak: { w: +w[peak].toFixed(4), R: s.R[peak] }, R0: s.R[0], picture: pic },
      headline: `resonance of ${label(o.a)} and ${label(o.b)}: peak R = ${s.R[peak].toPrecision(4)} at w = ${w[peak].toFixed(3)}`,
    };
  },

  /** Fractal dimension of the embeddings (correlation) or of their plane positions. */
  async dimension(st, o) {
    const of = (o.of as string) ?? 'embeddings', kind = (o.kind as string) ?? 'correlation';
    const x = of === 'positions' ? needField(st, 'dimension').positions : st.data.x;
    const d = of === 'positions' ? 2 : st.data.d;
    if (kind === 'box' && d > 16) throw new StepError(`dimension: box counting needs at most 16 dimensions (the embeddings have ${d}); use kind 'correlation'`);
    const f = kind === 'box' ? await fractal.boxDimension(x, { d, ...run(st) }) : await fractal.correlationDimension(x, { d, minPairs: 100, ...run(st) });
    const xs = Array.from(f.scales), used = xs.filter((_, i) => f.used[i]);
    const fit = used.map((s) => Math.exp(f.intercept) * (kind === 'box' ? s ** -f.dimension : s ** f.dimension));
    const pic = picture(st, 'dimension.png', linePlot(
      [{ name: kind === 'box' ? 'N(eps)' : 'C(r)', x: xs, y: Array.from(f.values) }, { name: `fit: ${f.dimension.toFixed(3)}`, x: used, y: fit, dashed: true, markers: false }],
      { xLabel: kind === 'box' ? 'box size' : 'r', yLabel: kind === 'box' ? 'boxes' : 'pair fraction', logX: true, logY: true, title: `${kind} dimension of the ${of}` },
    ));
    return {
      summary: { of, kind, dimension: +f.dimension.toFixed(4), r2: +f.r2.toFixed(5), stderr: +f.stderr.toFixed(4), range: f.range, picture: pic },
      headline: `${kind} dimension of the ${of}: ${f.dimension.toFixed(3)} (r2 ${f.r2.toFixed(4)}, fitted over ${f.range.map((v) => v.toPrecision(3)).join('..')})`,
    };
  },

  /** A word as a fractal token of its sub-meanings, unfolded under each context word. */
  async token(st, o) {
    const v = bundledVocabulary(), d = v.d;
    const word = o.word as string, contexts = o.contexts as string[];
    const missing = [word, ...contexts].filter((w) => v.indexOf(w) === undefined);
    if (missing.length) throw new StepError(`token: not in the bundled vocabulary: ${missing.join(', ')}`);
    const all = unitVocabulary();
    const m = num(o, 'm', 3), depth = num(o, 'depth', 4);
    const { prototypes, groups } = subMeanings(all, d, v.indexOf(word)!, m);
    const C = unitRows(v.rows(contexts), d);
    const t = await fractal.unfoldToken(prototypes, C, { d, depth, s: num(o, 's', 0.5), beta: num(o, 'beta', 12), ...run(st) });
    const means = unitRows(Float32Array.from(t.mean), d);
    const skip = new Set([word, ...contexts].map((w) => v.indexOf(w)!));
    const per = contexts.map((c, ci) => ({
      context: c,
      weights: groups.map((g, i) => ({ subMeaning: g.slice(0, 5).map((j) => v.words[j]).join(' '), weight: +t.pi[ci * m + i].toFixed(4) })),
      nearestToMean: nearestRows(all, means, ci, d, 8, skip).map((j) => v.words[j]),
    }));
    return {
      summary: { word, depth, points: t.count, contexts: per },
      headline: per.map((p) => `'${word}' in '${p.context}' ~ ${p.nearestToMean.slice(0, 4).join(', ')}`).join('; '),
    };
  },

  /**
   * The lowest standing waves of the field's wells: modes of
   * -lap + kappa^2 - strength * phi / max(phi), phi the field (the smoothed
   * density of the concepts), so the wells sit on the clusters.
   */
  async modes(st, o) {
    const f = needField(st, 'modes'), n = f.n, k = num(o, 'k', 4);
    let top = 0;
    for (const v of f.phi) top = Math.max(top, v);
    // Wells as deep as strength (default: 40 times the box's ground state 2 pi^2).
    const ground = 2 * Math.PI * Math.PI;
    const strength = num(o, 'strength', 40 * ground), kappa = num(o, 'kappa', 0);
    const rho = Float32Array.from(f.phi, (v) => (top > 0 ? v / top : 0));
    const r = await modes(f.grid, { k, rho, strength, kappa, tol: 1e-6, ...run(st) });
    // The modes side by side, each scaled to its own extremes.
    const w = n * k, rgb = new Uint8Array(w * n * 3);
    for (let j = 0; j < k; j++) {
      const img = fieldToRgb(r.vectors.subarray(j * n * n, (j + 1) * n * n), n, n);
      for (let y = 0; y < n; y++) rgb.set(img.subarray(y * n * 3, (y + 1) * n * 3), (y * w + j * n) * 3);
    }
    const pic = picture(st, 'modes.png', encodePng(rgb, w, n));
    // Where each mode lives: the concepts under its largest |psi|.
    const near = Array.from({ length: k }, (_, j) => {
      const v = r.vectors.subarray(j * n * n, (j + 1) * n * n);
      const score = Array.from({ length: st.data.n }, (_, i) => {
        const x = Math.min(n - 1, Math.floor(f.positions[2 * i] * n)), y = Math.min(n - 1, Math.floor(f.positions[2 * i + 1] * n));
        return [v[y * n + x] ** 2, i] as const;
      }).sort((a, b) => b[0] - a[0]);
      return score.slice(0, 5).map(([, i]) => name(st, i));
    });
    return {
      summary: { k, strength, eigenvalues: Array.from(r.values).map((v) => +v.toFixed(4)), iterations: r.fields[0].iterations, localizedOn: near, picture: pic },
      headline: `lowest ${k} modes of the field's wells: eigenvalues ${Array.from(r.values).map((v) => v.toFixed(1)).join(', ')}; mode 1 sits on ${near[0].slice(0, 3).join(', ')}`,
    };
  },

  /**
   * The mesh resonance R_AB(w) between two groups of concepts, deposited on
   * a grid of their own (default 64^2) over the field's plane.
   */
  async resonance(st, o) {
    const f = needField(st, 'resonance'), n = num(o, 'grid', 64);
    const grid = { n: [n, n], boundary: 'dirichlet' as const };
    const pick = (g: unknown, what: string) => {
      const idx: number[] = [];
      if (typeof g === 'string') st.data.labels?.forEach((l, i) => l === g && idx.push(i));
      else for (const w of g as string[]) {
        const i = st.data.words?.indexOf(w) ?? -1;
        if (i >= 0) idx.push(i);
      }
      if (!idx.length) throw new StepError(`resonance.${what}: no concept of the input matches`);
      return Float32Array.from(idx.flatMap((i) => [f.positions[2 * i], f.positions[2 * i + 1]]));
    };
    const A = await deposit(pick(o.a, 'a'), grid, run(st)), B = await deposit(pick(o.b, 'b'), grid, run(st));
    const from = num(o, 'from', 0), to = num(o, 'to', 30), count = num(o, 'count', 31);
    if (!(to > from)) throw new StepError(`resonance: 'to' (${to}) must be above 'from' (${from})`);
    const w = Float64Array.from({ length: count }, (_, k) => from + ((to - from) * k) / (count - 1));
    const s = await meshResonance(A, grid, { w, rhoB: B, damping: num(o, 'damping', 4), kappa: num(o, 'kappa', 0), tol: 1e-6, ...run(st) });
    let peak = 0;
    for (let k = 1; k < count; k++) if (s.R[k] > s.R[peak]) peak = k;
    const label = (g: unknown) => (typeof g === 'string' ? g : (g as string[]).join(' '));
    const pic = picture(st, 'resonance.png', linePlot([{ name: `${label(o.a)} / ${label(o.b)}`.slice(0, 40), x: w, y: s.R }], { xLabel: 'w', yLabel: 'R(w)', title: 'resonance on the mesh' }));
    const cycles = s.cycles.reduce((a, b) => a + b, 0) / count;
    return {
      summary: { peak: { w: +w[peak].toFixed(4), R: s.R[peak] }, R0: s.R[0], multigridCyclesPerFrequency: +cycles.toFixed(1), picture: pic },
      headline: `mesh resonance of ${label(o.a)} and ${label(o.b)} on ${n}x${n}: peak R = ${s.R[peak].toPrecision(4)} at w = ${w[peak].toFixed(2)}, ${cycles.toFixed(0)} multigrid cycles per frequency`,
    };
  },

  /** The field through the fractal codec, decoded at a chosen scale. */
  async codec(st, o) {
    const f = needField(st, 'codec'), n = f.n;
    if (n % 16 !== 0) throw new StepError(`codec: the field's size ${n} must be a multiple of 16`);
    let lo = Infinity, hi = -Infinity;
    for (const v of f.phi) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const e = await fractal.encode(f.phi, { width: n, height: n, tolerance: num(o, 'tolerance', 0.002) * (hi - lo), ...run(st) });
    const same = await fractal.decode(e.code, run(st));
    const scale = num(o, 'scale', 2) as 0.5 | 1 | 2 | 4;
    const out = await fractal.decode(e.code, { scale, ...run(st) });
    const psnr = fractal.psnr(f.phi, same.image, hi - lo);
    const pic = picture(st, `field-x${scale}.png`, encodePng(fieldToRgb(out.image, out.width, out.height), out.width, out.height));
    return {
      summary: { bytes: e.bytes, ratioVsFloat32: +((n * n * 4) / e.bytes).toFixed(2), psnrDb: +psnr.toFixed(2), leaves: e.leaves, decodedAt: [out.width, out.height], iterations: out.iterations, picture: pic },
      headline: `fractal code of the field: ${e.bytes} bytes (${((n * n * 4) / e.bytes).toFixed(0)}x smaller than float32), PSNR ${psnr.toFixed(1)} dB, decoded at ${out.width}x${out.height}`,
    };
  },
};
