/**
 * The operations an experiment's pipeline runs. Each reads the run's state
 * (the dataset, and the field once a `field` step has run), writes its
 * pictures into the run's folder and returns a JSON summary for the record
 * and a one-line headline for the terminal.
 */
import * as path from 'node:path';
import {
  condense as meshCondense, deposit, fractal, modes, points, potential, project,
  resonance as meshResonance,
} from '../lib';
import { ChartSpec, Concept, chartPng, fieldChart, interiorPeaks, lineChart, projectionAxes } from '../lib/chart';
import { extent as boundingBox } from '../lib/dimension';
import { opt } from './experiment';
import { Dataset, bundledVocabulary } from './inputs';
import { nearestRows, subMeanings, unitRows } from './token';

export interface RunState {
  data: Dataset;
  /** The run's folder, relative to the output folder. */
  rel: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  signal: AbortSignal;
  /** Reports what the step is doing (the progress line). */
  status: (what: string) => void;
  field?: {
    n: number; positions: Float32Array; rho: Float32Array; phi: Float32Array; explained: number; grid: { n: number[]; boundary: 'dirichlet' };
    /** The plane's axes in principal-component units (projectionAxes). */
    axes: ReturnType<typeof projectionAxes>;
  };
  /** Pictures' paths relative to the output folder, and their bytes (written by the coordinator). */
  pictures: string[];
  files: { path: string; data: Uint8Array }[];
  /** Each picture's chart (a script defining its Vega-Lite spec, for the report's interactive copy) and caption. */
  figures: Figure[];
}

export interface Figure {
  picture: string;
  spec: string;
  caption: string;
}

export interface StepResult {
  summary: Record<string, unknown>;
  headline: string;
}

export class StepError extends Error {}

type Opts = Record<string, unknown>;

/**
 * A chart as name.png (rendered here) and name.vl.js (its Vega-Lite
 * specification, which the report loads as a script, so it opens from disk).
 */
async function figure(st: RunState, name: string, spec: ChartSpec, caption: string): Promise<string> {
  const rel = path.posix.join(st.rel, `${name}.png`), specRel = path.posix.join(st.rel, `${name}.vl.js`);
  st.pictures.push(rel);
  st.files.push({ path: rel, data: await chartPng(spec) });
  st.files.push({ path: specRel, data: Buffer.from(`(window.SEMFIELD_SPECS = window.SEMFIELD_SPECS || {})[${JSON.stringify(specRel)}] = ${JSON.stringify(spec)};\n`) });
  st.figures.push({ picture: rel, spec: specRel, caption });
  return rel;
}

/** The concepts on the field's plane, named and themed. */
function concepts(st: RunState): Concept[] {
  const f = st.field!;
  return Array.from({ length: st.data.n }, (_, i) => ({ x: f.positions[2 * i], y: f.positions[2 * i + 1], word: name(st, i), theme: st.data.labels?.[i] }));
}

/** Interior peaks of a spectrum (never an end of the range) and where its largest value lies. */
function peaks(w: ArrayLike<number>, R: ArrayLike<number>) {
  const idx = interiorPeaks(R);
  let top = 0;
  for (let k = 1; k < R.length; k++) if (R[k] > R[top]) top = k;
  const edge = top === 0 || top === R.length - 1 ? { w: +w[top].toFixed(4), R: R[top] } : null;
  const list = idx.slice(0, 3).map((k) => ({ w: +w[k].toFixed(4), R: R[k] }));
  const text = (list.length ? `peak R = ${list[0].R.toPrecision(4)} at w = ${list[0].w.toFixed(3)}` : 'no interior peak') + (edge ? `; largest at the edge w = ${edge.w} (R = ${edge.R.toPrecision(4)})` : '');
  return { peak: list[0] ?? null, peaks: list, edge, text, marks: list.map((p) => ({ x: p.w, y: p.R, label: `w = ${p.w.toFixed(2)}` })) };
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

type Fit = Awaited<ReturnType<typeof fractal.correlationDimension>>;

/**
 * The fit redone over the scales whose value (C(r), or N(eps)) passes
 * `keep`, or else the first of `wider` that leaves at least 3 scales.
 */
function refit(f: Fit, keep: (v: number) => boolean, wider: ((v: number) => boolean)[]): Fit {
  const box = f.scales.length > 1 && f.scales[0] > f.scales[1];
  for (const test of [keep, ...wider]) {
    const used = Uint8Array.from(f.values, (v) => (v > 0 && test(v) ? 1 : 0));
    if (used.reduce((a, b) => a + b, 0) < 3) continue;
    const xs = Array.from(f.scales, (s) => (box ? -Math.log(s) : Math.log(s))), ys = Array.from(f.values, (v) => Math.log(v > 0 ? v : 1));
    const l = fractal.fitLine(xs, ys, used);
    const fitted = f.scales.filter((_, i) => used[i]);
    return { ...f, dimension: l.slope, intercept: l.intercept, r2: l.r2, stderr: l.stderr, used, range: [Math.min(...fitted), Math.max(...fitted)] };
  }
  throw new StepError(`dimension: ${f.values.length} scales measured, but fewer than 3 hold usable counts (too few points; give 'scales' by hand)`);
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
    const n = opt<number>(o, 'field', 'grid'), kappa = opt<number>(o, 'field', 'kappa'), tol = opt<number>(o, 'field', 'tol'), smooth = opt<boolean>(o, 'field', 'smooth');
    const maxCycles = opt<number>(o, 'field', 'maxCycles'), allowNotConverged = opt<boolean>(o, 'field', 'allowNotConverged');
    if ((n & (n - 1)) !== 0 && n % 64 !== 0) throw new StepError(`field: grid ${n} needs more factors of two (a power of two, or a multiple of 64)`);
    const { data } = st, grid = { n: [n, n], boundary: 'dirichlet' as const };
    st.status('field: projecting');
    const proj = await project(data.x, { d: data.d, grid, margin: 0.08, ...run(st) });
    const rho = await deposit(proj.positions, grid, run(st));
    let phi = rho, cycles = 0, residual = 0, converged = true;
    for (let pass = 0; pass < (smooth ? 2 : 1); pass++) {
      const r = await potential(phi, grid, { kappa, tol, maxCycles, allowNotConverged, ...run(st), onProgress: (_f, c, res) => st.status(`field: solve ${pass + 1}, cycle ${c}, residual ${res.toExponential(1)}`) });
      phi = r.phi;
      cycles += r.fields[0].cycles;
      residual = r.fields[0].residual;
      converged &&= r.fields[0].converged;
    }
    const T = proj.transform, explained = T.explainedRatio[0] + T.explainedRatio[1];
    st.field = { n, positions: proj.positions, rho, phi, explained, grid, axes: projectionAxes(T) };
    const pic = await figure(st, 'field', fieldChart({
      field: phi, nx: n, ny: n, title: `semantic field (${n}x${n}, kappa ${kappa})`, valueTitle: 'potential (a.u.)', concepts: concepts(st), ...st.field!.axes,
    }), `The potential that the ${data.n} concepts (points${data.labels ? ', coloured by theme' : ''}) create on the plane of their first two principal components, which hold ${(100 * explained).toFixed(0)}% of the variance: it peaks where concepts crowd.`);
    return {
      summary: { grid: n, kappa, smooth, cycles, residual, converged, explainedVariance: +explained.toFixed(4), picture: pic },
      headline: `${n}x${n} field, kappa ${kappa}: ${cycles} multigrid cycles, residual ${residual.toExponential(1)}; the plane holds ${(100 * explained).toFixed(0)}% of the variance`,
    };
  },

  /** Basins of the field's peaks (or troughs), with the concepts each holds. */
  async basins(st, o) {
    const f = needField(st, 'basins'), n = f.n, grid = { n: [n, n], boundary: 'dirichlet' as const };
    const seek = opt<'max' | 'min'>(o, 'basins', 'seek');
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
    // Borders between basins, drawn where at least one side holds concepts (empty slivers stay unmarked).
    const held = new Set(member.keys()), edges = new Uint8Array(n * n);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const i = y * n + x, a = c.labels[i];
        for (const j of [x + 1 < n ? i + 1 : -1, y + 1 < n ? i + n : -1])
          if (j >= 0 && c.labels[j] !== a && (held.has(a) || held.has(c.labels[j]))) edges[i] = 1;
      }
    const notes = basins.slice(0, 12).map((b) => {
      // The basin's main theme, and words of that theme first.
      const main = b.rows.filter((r) => !b.label || st.data.labels?.[r] === b.label.label);
      const words = main.slice(0, 2).map((r) => name(st, r)).join(', ');
      const at = b.rows.reduce((acc, r) => [acc[0] + f.positions[2 * r] / b.rows.length, acc[1] + f.positions[2 * r + 1] / b.rows.length], [0, 0]);
      return { x: at[0], y: at[1], text: b.label ? `${b.label.label}: ${words}` : words };
    });
    const pic = await figure(st, 'basins', fieldChart({
      field: f.phi, nx: n, ny: n, title: `${basins.length} basins of the field's ${seek === 'max' ? 'peaks' : 'troughs'}`, valueTitle: 'potential (a.u.)', concepts: concepts(st), maxLabels: 0, edges, notes, ...st.field!.axes,
    }), `The regions that drain to each ${seek === 'max' ? 'peak' : 'trough'} of the field (white borders), each named by its main theme and its first words; ${pur !== undefined ? `${(100 * pur).toFixed(0)}% of the concepts share their basin's main theme` : 'the points are the concepts'}.`);
    return {
      summary: { basins: basins.length, extrema: c.fields[0].length, purity: pur, largest: basins.slice(0, 12).map(({ rows: _rows, ...b }) => b), picture: pic },
      headline: `${basins.length} basins hold concepts${pur !== undefined ? `, ${(100 * pur).toFixed(0)}% of them with their basin's main label` : ''}; largest: ${basins[0].members.slice(0, 6).join(', ')}`,
    };
  },

  /** Documents (each label's rows in three parts) ranked for query phrases by energy distance and by cosine of means. */
  async rank(st, o) {
    const { data } = st, d = data.d;
    if (!data.labels) throw new StepError('rank: documents are made from the input\'s labels, and it has none');
    const top = opt<number>(o, 'rank', 'top');
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
    const bandwidth = (o.bandwidth as number | undefined) ?? 0.25 * typicalDistance(data.x, data.n, data.d);
    const kind = opt<'gaussian' | 'flat'>(o, 'condense', 'kernel');
    const kernel = kind === 'flat' ? { kind, radius: bandwidth } : { kind: 'gaussian' as const, sigma: bandwidth };
    const c = await points.condense(data.x, { d: data.d, kernel, ...run(st) });
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
    const sigma = (o.sigma as number | undefined) ?? 0.3 * typicalDistance(data.x, data.n, data.d);
    // A row has at most rows - 1 neighbours: a larger knn (the default 10 on a few words) is that many.
    const asked = (o.knn as number | undefined) ?? 10, knn = Math.min(asked, data.n - 1);
    const r = await points.induce(data.x, {
      d: data.d, labeled: Int32Array.from(seeds), values, kernel: { kind: 'gaussian', sigma }, knn,
      tol: opt<number>(o, 'induce', 'tol'), maxIter: opt<number>(o, 'induce', 'maxIter'), allowNotConverged: opt<boolean>(o, 'induce', 'allowNotConverged'), ...run(st),
    });
    let right = 0;
    data.labels.forEach((l, i) => (right += names[r.labels[i]] === l ? 1 : 0));
    return {
      summary: { seeds: seeds.map((s) => name(st, s)), sigma: +sigma.toFixed(5), knn, accuracy: right / data.n, iterations: r.iterations, converged: r.converged },
      headline: `${right} of ${data.n} rows get their own label from ${seeds.length} seeds (${((100 * right) / data.n).toFixed(0)}%)`,
    };
  },

  /** Group a flows down the gradient of its discrepancy to group b. */
  async flow(st, o) {
    const A = rowsOf(st, o.a, 'flow.a'), B = rowsOf(st, o.b, 'flow.b'), d = st.data.d;
    const metric = opt<'mmd' | 'energy'>(o, 'flow', 'metric'), steps = opt<number>(o, 'flow', 'steps');
    const typical = typicalDistance(st.data.x, st.data.n, d);
    const sigma = (o.sigma as number | undefined) ?? typical;
    // tau of x_i <- x_i - tau dD/dx_i; the default moves each word by sigma^2 (or 0.02 x the
    // median distance) times the witness function's gradient.
    const step = (o.step as number | undefined) ?? ((A.length / d) / 2) * (metric === 'mmd' ? sigma * sigma : 0.02 * typical);
    const f = await points.flow(A, B, {
      d, metric, ...(metric === 'mmd' ? { kernel: { kind: 'gaussian' as const, sigma } } : {}), step, steps, noise: opt<number>(o, 'flow', 'noise'),
      every: Math.max(1, Math.round(steps / 40)), ...run(st),
    });
    // The plane of both groups (their first two principal axes), the same for every snapshot.
    const both = new Float32Array(A.length + B.length);
    both.set(A);
    both.set(B, A.length);
    const { transform: t } = await project(both, { d, k: 2, ...run(st) });
    const plane = (x: Float32Array, i: number) => {
      const p = [0, 1].map((c) => {
        let s = 0;
        for (let q = 0; q < d; q++) s += (x[i * d + q] - t.mean[q]) * t.components[c * d + q];
        return s;
      });
      return { x: p[0], y: p[1] };
    };
    const label = (g: unknown) => (typeof g === 'string' ? g : (g as string[]).join(' '));
    const na = A.length / d, nb = B.length / d;
    const words = (g: unknown, n: number) => (typeof g === 'string' ? st.data.labels!.map((l, i) => (l === g ? name(st, i) : '')).filter((w) => w) : (g as string[])).slice(0, n);
    const wa = words(o.a, na), wb = words(o.b, nb);
    const tracks: Record<string, unknown>[] = [];
    f.snapshots.forEach((x, s) => {
      for (let i = 0; i < na; i++) tracks.push({ word: wa[i] ?? `#${i}`, step: f.at[s], ...plane(x, i) });
    });
    const ends = Array.from({ length: na }, (_, i) => ({ word: wa[i] ?? `#${i}`, ...plane(f.X, i) }));
    const starts = Array.from({ length: na }, (_, i) => ({ word: wa[i] ?? `#${i}`, ...plane(A, i) }));
    const targets = Array.from({ length: nb }, (_, j) => ({ word: wb[j] ?? `#${j}`, ...plane(B, j) }));
    const xEnc = { field: 'x', type: 'quantitative', title: 'principal axis 1', scale: { zero: false } };
    const yEnc = { field: 'y', type: 'quantitative', title: 'principal axis 2', scale: { zero: false } };
    const spec: ChartSpec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `${label(o.a)} flowing onto ${label(o.b)}`.slice(0, 80), width: 520, height: 420,
      layer: [
        { data: { values: tracks }, mark: { type: 'line', strokeWidth: 1.2, opacity: 0.55, color: '#4c78a8' }, encoding: { x: xEnc, y: yEnc, detail: { field: 'word' }, order: { field: 'step', type: 'quantitative' } } },
        { data: { values: starts }, mark: { type: 'point', filled: false, size: 45, color: '#4c78a8' }, encoding: { x: xEnc, y: yEnc, tooltip: [{ field: 'word', title: label(o.a).slice(0, 30) }] } },
        { data: { values: targets }, mark: { type: 'point', filled: true, size: 55, color: '#54a24b' }, encoding: { x: xEnc, y: yEnc, tooltip: [{ field: 'word', title: label(o.b).slice(0, 30) }] } },
        { data: { values: ends }, mark: { type: 'point', shape: 'triangle-up', filled: true, size: 60, color: '#e45756' }, encoding: { x: xEnc, y: yEnc, tooltip: [{ field: 'word', title: label(o.a).slice(0, 30) }] } },
      ],
    };
    const pic = await figure(st, 'flow', spec,
      `The words of ${label(o.a)} (from the blue circles along the blue tracks to the red triangles) flowing down the gradient of their ${metric === 'mmd' ? 'squared MMD' : 'energy distance'} to ${label(o.b)} (green) over ${steps} steps, on the plane of both groups' first two principal axes (${(100 * t.explainedRatio.reduce((a, b) => a + b, 0)).toFixed(0)}% of their variance).`);
    const curve = await figure(st, 'flow-discrepancy', lineChart([{ name: metric, x: Float64Array.from(f.discrepancy, (_, s) => s), y: f.discrepancy }], { xLabel: 'step', yLabel: metric === 'mmd' ? 'squared MMD' : 'energy distance', title: `discrepancy of ${label(o.a)} to ${label(o.b)}`.slice(0, 80) }),
      `The ${metric === 'mmd' ? 'squared MMD' : 'energy distance'} between the flowing words and ${label(o.b)} at each step.`);
    const d0 = f.discrepancy[0], d1 = f.discrepancy[steps];
    return {
      summary: { metric, sigma: metric === 'mmd' ? +sigma.toFixed(5) : undefined, step: +step.toPrecision(5), steps, start: d0, end: d1, fraction: d1 / d0, pictures: [pic, curve] },
      headline: `${label(o.a)} flowed onto ${label(o.b)}: ${metric === 'mmd' ? 'squared MMD' : 'energy distance'} ${d0.toPrecision(3)} -> ${d1.toPrecision(3)} (${((100 * d1) / d0).toFixed(1)}% of its start) in ${steps} steps`,
    };
  },

  /** The resonance spectrum R_AB(w) between two groups. */
  async spectrum(st, o) {
    const A = rowsOf(st, o.a, 'spectrum.a'), B = rowsOf(st, o.b, 'spectrum.b'), d = st.data.d;
    const from = opt<number>(o, 'spectrum', 'from'), to = opt<number>(o, 'spectrum', 'to'), count = opt<number>(o, 'spectrum', 'count');
    if (!(to > from)) throw new StepError(`spectrum: 'to' (${to}) must be above 'from' (${from})`);
    const w = Float64Array.from({ length: count }, (_, k) => from + ((to - from) * k) / (count - 1));
    const s = await points.resonance(A, B, w, { d, damping: opt<number>(o, 'spectrum', 'damping'), kappa: opt<number>(o, 'spectrum', 'kappa'), c: opt<number>(o, 'spectrum', 'c'), ...run(st) });
    const label = (g: unknown) => (typeof g === 'string' ? g : (g as string[]).join(' '));
    const pk = peaks(w, s.R);
    const pic = await figure(st, 'spectrum', lineChart([{ name: `${label(o.a)} / ${label(o.b)}`.slice(0, 40), x: w, y: s.R }], { xLabel: 'frequency w', yLabel: 'resonance R(w)', title: `resonance of ${label(o.a)} and ${label(o.b)}`.slice(0, 80), marks: pk.marks }),
      `How strongly the field of ${label(o.a)} drives ${label(o.b)} at each frequency in the embedding space (${A.length / d} x ${B.length / d} pairs); red marks are interior peaks${pk.edge ? `, and the largest value lies at the edge w = ${pk.edge.w}` : ''}.`);
    return {
      summary: { pairs: (A.length / d) * (B.length / d), peak: pk.peak, peaks: pk.peaks, edgeMaximum: pk.edge, R0: s.R[0], picture: pic },
      headline: `resonance of ${label(o.a)} and ${label(o.b)}: ${pk.text}`,
    };
  },

  /**
   * Fractal dimension of the embeddings (correlation) or of their plane
   * positions. Without `scales`, the range is read off the data: the
   * correlation integral C(r) is measured from 1e-4 of the bounding box's
   * diagonal to the diagonal and fitted where at least minPairs pairs and at
   * most a quarter of all pairs lie within r (widened towards half and 90% of
   * the pairs when a small set leaves fewer than 3 radii); box counting keeps
   * the sizes with between 2 and n / 2 boxes (likewise widened).
   */
  async dimension(st, o) {
    const of = opt<string>(o, 'dimension', 'of'), kind = opt<string>(o, 'dimension', 'kind');
    const x = of === 'positions' ? needField(st, 'dimension').positions : st.data.x;
    const d = of === 'positions' ? 2 : st.data.d, n = x.length / d;
    if (kind === 'box' && d > 16) throw new StepError(`dimension: box counting needs at most 16 dimensions (the embeddings have ${d}); use kind 'correlation'`);
    const scales = o.scales as [number, number] | undefined;
    const { size: extent, diagonal: diag } = boundingBox(x, d);
    let f: Fit;
    if (kind === 'box') {
      const raw = await fractal.boxDimension(x, { d, scales: scales ?? [extent * 2 ** -20, extent], perOctave: n < 2000 ? 4 : 2, ...run(st) });
      f = scales ? raw : refit(raw, (v) => v >= 4 && v <= n / 5, [(v) => v >= 2 && v <= n / 2, (v) => v >= 1 && v <= n]);
    } else {
      const pairs = (n * (n - 1)) / 2;
      const minPairs = (o.minPairs as number | undefined) ?? Math.min(1000, Math.max(5, Math.round(pairs / 1000)));
      const raw = await fractal.correlationDimension(x, { d, radii: scales ?? [diag * 1e-4, diag * 1.0001], minPairs, bins: opt<number>(o, 'dimension', 'bins'), ...run(st) });
      const count = (v: number) => v * pairs;
      f = scales ? raw : refit(raw, (v) => count(v) >= minPairs && v <= 0.25, [(v) => count(v) >= minPairs && v <= 0.5, (v) => count(v) >= Math.min(minPairs, 2) && v <= 0.9]);
    }
    const xs = Array.from(f.scales), used = xs.filter((_, i) => f.used[i]);
    const fit = used.map((s) => Math.exp(f.intercept) * (kind === 'box' ? s ** -f.dimension : s ** f.dimension));
    const pic = await figure(st, 'dimension', lineChart(
      [{ name: kind === 'box' ? 'N(eps), boxes holding points' : 'C(r), fraction of pairs within r', x: xs, y: Array.from(f.values, (v) => (v > 0 ? v : NaN)) }, { name: `fit: slope ${f.dimension.toFixed(3)} (r2 ${f.r2.toFixed(3)})`, x: used, y: fit, dashed: true, markers: false }],
      { xLabel: kind === 'box' ? 'box size eps' : 'radius r', yLabel: kind === 'box' ? 'boxes N(eps)' : 'pair fraction C(r)', logX: true, logY: true, title: `${kind} dimension of the ${of}: ${f.dimension.toFixed(3)}` },
    ), `The ${kind === 'box' ? 'box count' : 'correlation integral'} of the ${of} on log-log axes; the dashed line is the fit over ${f.range.map((v) => v.toPrecision(3)).join(' to ')}, whose slope is the dimension.`);
    return {
      summary: { of, kind, dimension: +f.dimension.toFixed(4), r2: +f.r2.toFixed(5), stderr: +f.stderr.toFixed(4), range: f.range, scalesFitted: used.length, picture: pic },
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
    const m = opt<number>(o, 'token', 'm'), depth = opt<number>(o, 'token', 'depth');
    const { prototypes, groups } = subMeanings(all, d, v.indexOf(word)!, m);
    const C = unitRows(v.rows(contexts), d);
    const t = await fractal.unfoldToken(prototypes, C, { d, depth, s: opt<number>(o, 'token', 's'), beta: opt<number>(o, 'token', 'beta'), ...run(st) });
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
    const f = needField(st, 'modes'), n = f.n, k = opt<number>(o, 'modes', 'k');
    let top = 0;
    for (const v of f.phi) top = Math.max(top, v);
    // Wells as deep as strength (default: 40 times the box's ground state 2 pi^2).
    const strength = opt<number>(o, 'modes', 'strength'), kappa = opt<number>(o, 'modes', 'kappa');
    const rho = Float32Array.from(f.phi, (v) => (top > 0 ? v / top : 0));
    const r = await modes(f.grid, { k, rho, strength, kappa, tol: opt<number>(o, 'modes', 'tol'), maxIter: opt<number>(o, 'modes', 'maxIter'), allowNotConverged: opt<boolean>(o, 'modes', 'allowNotConverged'), ...run(st) });
    // Where each mode lives: the concepts under its largest |psi|.
    const near = Array.from({ length: k }, (_, j) => {
      const v = r.vectors.subarray(j * n * n, (j + 1) * n * n);
      const score = Array.from({ length: st.data.n }, (_, i) => {
        const x = Math.min(n - 1, Math.floor(f.positions[2 * i] * n)), y = Math.min(n - 1, Math.floor(f.positions[2 * i + 1] * n));
        return [v[y * n + x] ** 2, i] as const;
      }).sort((a, b) => b[0] - a[0]);
      return score.slice(0, 5).map(([, i]) => name(st, i));
    });
    // The modes side by side, each as psi / max|psi| in a diverging scheme, the concepts on them.
    const width = 300, columns = k <= 3 ? k : Math.ceil(Math.sqrt(k));
    const panels = Array.from({ length: k }, (_, j) => {
      const v = r.vectors.subarray(j * n * n, (j + 1) * n * n);
      let m = 0;
      for (const x of v) m = Math.max(m, Math.abs(x));
      const spec = fieldChart({
        field: Float32Array.from(v, (x) => x / (m || 1)), nx: n, ny: n, width, scheme: 'blueorange', domain: [-1, 1], valueTitle: 'psi / max |psi|',
        title: `mode ${j + 1}: lambda = ${r.values[j].toFixed(1)}`, concepts: concepts(st), maxLabels: 6, colourBar: (j + 1) % columns === 0 || j === k - 1, ...st.field!.axes,
      });
      delete spec.$schema;
      return spec;
    });
    const pic = await figure(st, 'modes', { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', concat: panels, columns },
      `The ${k} lowest standing waves of the field's wells with their eigenvalues lambda (lower is more bound); each is localized on the concepts (points) it names: ${near.map((w, j) => `${j + 1}: ${w.slice(0, 2).join(', ')}`).join('; ')}.`);
    return {
      summary: { k, strength, eigenvalues: Array.from(r.values).map((v) => +v.toFixed(4)), iterations: r.fields[0].iterations, converged: r.fields[0].converged, localizedOn: near, picture: pic },
      headline: `lowest ${k} modes of the field's wells: eigenvalues ${Array.from(r.values).map((v) => v.toFixed(1)).join(', ')}; mode 1 sits on ${near[0].slice(0, 3).join(', ')}`,
    };
  },

  /**
   * The mesh resonance R_AB(w) between two groups of concepts, deposited on
   * a grid of their own (default 64^2) over the field's plane.
   */
  async resonance(st, o) {
    const f = needField(st, 'resonance'), n = opt<number>(o, 'resonance', 'grid');
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
    const from = opt<number>(o, 'resonance', 'from'), to = opt<number>(o, 'resonance', 'to'), count = opt<number>(o, 'resonance', 'count');
    if (!(to > from)) throw new StepError(`resonance: 'to' (${to}) must be above 'from' (${from})`);
    const w = Float64Array.from({ length: count }, (_, k) => from + ((to - from) * k) / (count - 1));
    const s = await meshResonance(A, grid, {
      w, rhoB: B, damping: opt<number>(o, 'resonance', 'damping'), kappa: opt<number>(o, 'resonance', 'kappa'),
      tol: opt<number>(o, 'resonance', 'tol'), maxIter: opt<number>(o, 'resonance', 'maxIter'), allowNotConverged: opt<boolean>(o, 'resonance', 'allowNotConverged'), ...run(st),
    });
    const label = (g: unknown) => (typeof g === 'string' ? g : (g as string[]).join(' '));
    const pk = peaks(w, s.R);
    const cycles = s.cycles.reduce((a, b) => a + b, 0) / count;
    const pic = await figure(st, 'resonance', lineChart([{ name: `${label(o.a)} / ${label(o.b)}`.slice(0, 40), x: w, y: s.R }], { xLabel: 'frequency w', yLabel: 'resonance R(w)', title: `mesh resonance of ${label(o.a)} and ${label(o.b)}`.slice(0, 80), marks: pk.marks }),
      `The steady response of ${label(o.b)} to ${label(o.a)} driven at each frequency on a ${n}x${n} mesh over the plane (damping ${opt<number>(o, 'resonance', 'damping')}); red marks are interior peaks${pk.edge ? `, and the largest value lies at the edge w = ${pk.edge.w}` : ''}.`);
    return {
      summary: { peak: pk.peak, peaks: pk.peaks, edgeMaximum: pk.edge, R0: s.R[0], multigridCyclesPerFrequency: +cycles.toFixed(1), converged: s.converged.every((v) => v === 1), picture: pic },
      headline: `mesh resonance of ${label(o.a)} and ${label(o.b)} on ${n}x${n}: ${pk.text}, ${cycles.toFixed(0)} multigrid cycles per frequency`,
    };
  },

  /** The field through the fractal codec, decoded at a chosen scale. */
  async codec(st, o) {
    const f = needField(st, 'codec'), n = f.n;
    if (n % 16 !== 0) throw new StepError(`codec: the field's size ${n} must be a multiple of 16`);
    let lo = Infinity, hi = -Infinity;
    for (const v of f.phi) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const e = await fractal.encode(f.phi, { width: n, height: n, tolerance: opt<number>(o, 'codec', 'tolerance') * (hi - lo), ...run(st) });
    const same = await fractal.decode(e.code, run(st));
    const scale = opt<0.5 | 1 | 2 | 4>(o, 'codec', 'scale');
    const out = await fractal.decode(e.code, { scale, ...run(st) });
    const psnr = fractal.psnr(f.phi, same.image, hi - lo);
    // Drawn at the decoded resolution (a CSS pixel is two image pixels in the PNG).
    const pic = await figure(st, `field-x${scale}`, fieldChart({
      field: out.image, nx: out.width, ny: out.height, width: Math.max(200, out.width / 2), domain: [lo, hi], valueTitle: 'potential (a.u.)',
      title: `decoded at ${scale}x (${out.width}x${out.height})`, ...st.field!.axes,
    }), `The field after the fractal codec: ${e.bytes} bytes (${((n * n * 4) / e.bytes).toFixed(0)} times smaller than float32, ${psnr.toFixed(1)} dB), decoded at ${scale} times its size (${out.width}x${out.height}), in the same colours as the field.`);
    return {
      summary: { bytes: e.bytes, ratioVsFloat32: +((n * n * 4) / e.bytes).toFixed(2), psnrDb: +psnr.toFixed(2), leaves: e.leaves, decodedAt: [out.width, out.height], iterations: out.iterations, picture: pic },
      headline: `fractal code of the field: ${e.bytes} bytes (${((n * n * 4) / e.bytes).toFixed(0)}x smaller than float32), PSNR ${psnr.toFixed(1)} dB, decoded at ${out.width}x${out.height}`,
    };
  },
};
