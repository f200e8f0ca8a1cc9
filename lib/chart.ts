/**
 * Charts as Vega-Lite specifications, rendered in Node by vega (to SVG, no
 * browser) and to PNG by resvg; the same specification is an interactive
 * chart in a page through vega-embed (the report of the semfield command
 * does this). A field is drawn as an image in a perceptually uniform colour
 * map (viridis, the colours of vega's own scheme so the colour bar is
 * exact) on axes of the plane's coordinates, with its colour bar, the
 * concepts as points coloured by theme (tooltips name them), and word labels
 * placed greedily so they never overlap, the most massive first.
 */
import * as fs from 'node:fs';
import { PNG } from 'pngjs';
import { Resvg } from '@resvg/resvg-js';
import { SemfieldError } from './errors';
import { boolean, finiteNumber, integer, invalid, isPlainObject, numberList, options, text, typedOf } from './validate';

// vega and vega-lite are loaded on first use: importing semfield stays cheap.
/* eslint-disable @typescript-eslint/no-require-imports */
let engines: { vega: typeof import('vega'); vl: typeof import('vega-lite') } | undefined;
function load() {
  return (engines ??= { vega: require('vega'), vl: require('vega-lite') });
}

/** A Vega-Lite specification (https://vega.github.io/vega-lite/). */
export type ChartSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const CONFIG = { font: FONT, axis: { labelFontSize: 12, titleFontSize: 13 }, legend: { labelFontSize: 12, titleFontSize: 12 }, title: { fontSize: 15 }, view: { stroke: null } };

/** The SVG of a chart (vega in Node, no browser). */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  return svgOf('chartSvg', spec);
}

/** Largest chart drawn: 8192 CSS pixels a side (a PNG at most 2^26 device pixels). */
const MAX_SIDE = 8192;

/** A vega logger that keeps nothing (errors still throw). */
function quiet() {
  const { vega } = load();
  return vega.logger(vega.None);
}

async function svgOf(op: string, spec: unknown): Promise<string> {
  if (!isPlainObject(spec)) throw invalid('E_TYPE', op, 'spec', 'a Vega-Lite specification (an object)', spec);
  const { vega, vl } = load();
  let svg: string;
  try {
    // vega-lite's warnings about a caller's spec are not printed on the caller's console.
    const compiled = vl.compile({ config: CONFIG, ...spec } as never, { logger: quiet() }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    try {
      svg = await view.toSVG();
    } finally {
      view.finalize();
    }
  } catch (e) {
    if (e instanceof SemfieldError) throw e;
    // vega's own message says what is wrong with the specification (a field, a mark, a scale).
    const m = String((e as Error)?.message ?? 'invalid');
    throw new SemfieldError('E_RANGE', `${op}: spec is not a specification vega-lite can draw: ${m.length > 300 ? m.slice(0, 300) + '…' : m}`);
  }
  const [w, h] = svgSize(svg);
  if (!(w <= MAX_SIDE && h <= MAX_SIDE)) throw invalid('E_TOO_LARGE', op, 'spec', `a chart of at most ${MAX_SIDE} x ${MAX_SIDE} pixels`, `${w} x ${h}`);
  return svg;
}

function svgSize(svg: string): [number, number] {
  const m = /^<svg[^>]*?\bwidth="([^"]+)"[^>]*?\bheight="([^"]+)"/.exec(svg);
  return m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
}

// DejaVu Sans when it is where Debian puts it (loading two files instead of
// scanning every system font saves a tenth of a second per picture).
const DEJAVU = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'];
let fontOptions: { loadSystemFonts: boolean; fontFiles?: string[]; defaultFontFamily: string } | undefined;
function fonts() {
  if (!fontOptions) {
    const files = DEJAVU.filter((f) => fs.existsSync(f));
    fontOptions = files.length === DEJAVU.length ? { loadSystemFonts: false, fontFiles: files, defaultFontFamily: 'DejaVu Sans' } : { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' };
  }
  return fontOptions;
}

/** A chart as PNG, at `scale` device pixels per CSS pixel (default 2: sharp text). */
export async function chartPng(spec: ChartSpec, scale = 2): Promise<Buffer> {
  const op = 'chartPng';
  finiteNumber(op, 'scale', scale, 0, Infinity, true);
  if (scale > 8) throw invalid('E_RANGE', op, 'scale', 'at most 8 device pixels per CSS pixel', scale);
  const svg = await svgOf(op, spec);
  const [w, h] = svgSize(svg);
  if (w * h * scale * scale > 2 ** 26) throw invalid('E_TOO_LARGE', op, 'scale', `such that the picture has at most 2^26 pixels (the chart is ${w} x ${h})`, scale);
  // Field images are scaled by nearest neighbour (each cell a block, and twice as fast as smoothing).
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: fonts(), imageRendering: 1 }).render().asPng();
}

/** Encodes an RGB image [height, width, 3] (row 0 at the top) as PNG (pngjs). */
export function rgbPng(rgb: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

const luts = new Map<string, Uint8Array>();

/** A continuous colour scheme of vega, by name (E_RANGE naming `scheme` otherwise). */
function schemeOf(op: string, name: string): Uint8Array {
  try {
    return schemeLut(name);
  } catch (e) {
    if (e instanceof SemfieldError) throw invalid('E_RANGE', op, 'scheme', 'the name of a continuous colour scheme of vega (viridis, blueorange, ...)', name);
    throw e;
  }
}

/** 256 RGB entries of one of vega's continuous schemes (viridis, blueorange, ...). */
export function schemeLut(name: string): Uint8Array {
  let lut = luts.get(name);
  if (!lut) {
    const { vega } = load();
    const f = vega.scheme(name) as ((t: number) => string) | undefined;
    if (typeof f !== 'function') throw new SemfieldError('E_RANGE', `chart: '${name}' is not a continuous colour scheme of vega`);
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = parseRgb(f(i / 255));
      lut.set([Math.round(c.r), Math.round(c.g), Math.round(c.b)], 3 * i);
    }
    luts.set(name, lut);
  }
  return lut;
}

function parseRgb(s: string): { r: number; g: number; b: number } {
  const hex = /^#([0-9a-f]{6})$/i.exec(s);
  if (hex) {
    const v = parseInt(hex[1], 16);
    return { r: v >> 16, g: (v >> 8) & 255, b: v & 255 };
  }
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(s);
  if (!m) throw new Error(`unexpected colour ${s}`);
  return { r: +m[1], g: +m[2], b: +m[3] };
}

/**
 * A field [ny, nx] (x fastest, y upwards) as a PNG data URL in a colour
 * scheme over [lo, hi]; `edges` (optional, [ny, nx] of 0/1) are drawn white.
 */
export function fieldImage(field: ArrayLike<number>, nx: number, ny: number, lo: number, hi: number, scheme = 'viridis', edges?: Uint8Array): string {
  const lut = schemeLut(scheme), rgb = new Uint8Array(nx * ny * 3), span = hi - lo || 1;
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const i = y * nx + x, o = ((ny - 1 - y) * nx + x) * 3;
      if (edges?.[i]) {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = 255;
        continue;
      }
      const t = Math.max(0, Math.min(255, Math.round(((field[i] - lo) / span) * 255)));
      rgb[o] = lut[3 * t];
      rgb[o + 1] = lut[3 * t + 1];
      rgb[o + 2] = lut[3 * t + 2];
    }
  return `data:image/png;base64,${rgbPng(rgb, nx, ny).toString('base64')}`;
}

function extent(a: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) (lo = Math.min(lo, a[i])), (hi = Math.max(hi, a[i]));
  return lo <= hi ? [lo, hi] : [0, 1];
}

export interface Concept {
  /** Position in the plane's domain [0, 1]^2. */
  x: number;
  y: number;
  word: string;
  theme?: string;
  /** Larger first when labels compete for room (default: the field's value there). */
  mass?: number;
}

export interface FieldChartOptions {
  /** The field [ny, nx], x fastest, over the domain [0, 1] x [0, ny/nx]. */
  field: ArrayLike<number>;
  nx: number;
  ny: number;
  title?: string;
  /** What the colour bar measures (default 'potential'). */
  valueTitle?: string;
  /** Axis titles (default 'x' and 'y'); `axisMap` turns a domain coordinate into the axis's unit. */
  xTitle?: string;
  yTitle?: string;
  axisMap?: { x: [number, number]; y: [number, number] };
  concepts?: Concept[];
  /** Labels drawn (default 40), most massive first, none overlapping. */
  maxLabels?: number;
  /** Extra text marks: [x, y, text] in domain coordinates (basin names). */
  notes?: { x: number; y: number; text: string }[];
  edges?: Uint8Array;
  scheme?: string;
  /** Colour range (default the field's extent); symmetric for diverging schemes. */
  domain?: [number, number];
  width?: number;
  /** Draw the colour bar (default true; panels of one figure can share one). */
  colourBar?: boolean;
}

const textWidth = (s: string, size = 11) => 0.6 * size * s.length + 2;

/** Greedy label placement in pixels (positions in [0, 1]^2): each label tries four sides of its point and is kept only where it overlaps nothing. */
export function placeLabels(cs: Concept[], W: number, H: number, max: number): { x: number; y: number; word: string; dx: number; dy: number; align: string }[] {
  const boxes: [number, number, number, number][] = [];
  const out: { x: number; y: number; word: string; dx: number; dy: number; align: string }[] = [];
  // The most massive first, taking the themes in turn so that every cluster gets its names.
  const byTheme = new Map<string, Concept[]>();
  for (const c of cs) byTheme.set(c.theme ?? '', [...(byTheme.get(c.theme ?? '') ?? []), c]);
  const lists = [...byTheme.values()].map((l) => l.sort((a, b) => (b.mass ?? 0) - (a.mass ?? 0)));
  const order: Concept[] = [];
  for (let k = 0; order.length < cs.length; k++) for (const l of lists) if (k < l.length) order.push(l[k]);
  for (const c of order) {
    if (out.length >= max) break;
    const px = c.x * W, py = H - c.y * H, w = textWidth(c.word), h = 13;
    const sides = [
      { dx: 5, dy: 0, align: 'left', box: [px + 4, py - h / 2, px + 4 + w, py + h / 2] },
      { dx: -5, dy: 0, align: 'right', box: [px - 4 - w, py - h / 2, px - 4, py + h / 2] },
      { dx: 0, dy: -9, align: 'center', box: [px - w / 2, py - 4 - h, px + w / 2, py - 4] },
      { dx: 0, dy: 11, align: 'center', box: [px - w / 2, py + 4, px + w / 2, py + 4 + h] },
    ];
    for (const s of sides) {
      const [x0, y0, x1, y1] = s.box;
      if (x0 < 0 || y0 < 0 || x1 > W || y1 > H) continue;
      if (boxes.some(([a0, b0, a1, b1]) => x0 < a1 && x1 > a0 && y0 < b1 && y1 > b0)) continue;
      boxes.push([x0, y0, x1, y1]);
      out.push({ x: c.x, y: c.y, word: c.word, dx: s.dx, dy: s.dy, align: s.align });
      break;
    }
  }
  return out;
}

/**
 * Axes in the units of a PCA projection (`project`): the plane's domain
 * coordinate maps back to principal-component units, and each title gives
 * the component's share of the variance.
 */
export function projectionAxes(t: { scale: number; offset: number[]; explainedRatio: number[] }): Pick<FieldChartOptions, 'axisMap' | 'xTitle' | 'yTitle'> {
  const op = 'projectionAxes';
  if (!isPlainObject(t)) throw invalid('E_TYPE', op, 'transform', 'a projection transform { scale, offset, explainedRatio }', t);
  const scale = finiteNumber(op, 'transform.scale', t.scale, 0, Infinity, true);
  const offset = numberList(op, 'transform.offset', t.offset, 64), ratio = numberList(op, 'transform.explainedRatio', t.explainedRatio, 64);
  if (offset.length < 2) throw invalid('E_SHAPE', op, 'transform.offset', 'of length 2 at least', t.offset);
  if (ratio.length < 2) throw invalid('E_SHAPE', op, 'transform.explainedRatio', 'of length 2 at least', t.explainedRatio);
  for (let i = 0; i < 2; i++) {
    finiteNumber(op, `transform.offset[${i}]`, offset[i]);
    finiteNumber(op, `transform.explainedRatio[${i}]`, ratio[i], 0, 1);
  }
  if (!Number.isFinite(offset[0] / scale) || !Number.isFinite(offset[1] / scale) || !Number.isFinite(1 / scale))
    throw invalid('E_RANGE', op, 'transform.scale', 'large enough that offset / scale is finite', scale);
  return {
    axisMap: { x: [-t.offset[0] / t.scale, 1 / t.scale], y: [-t.offset[1] / t.scale, 1 / t.scale] },
    xTitle: `PC1 (${(100 * t.explainedRatio[0]).toFixed(0)}% of variance)`,
    yTitle: `PC2 (${(100 * t.explainedRatio[1]).toFixed(0)}%)`,
  };
}

/** The Vega-Lite specification of a field picture (see the file's opening comment). */
export function fieldChart(o: FieldChartOptions): ChartSpec {
  const op = 'fieldChart';
  if (!isPlainObject(o)) throw invalid('E_TYPE', op, 'options', 'an object with field, nx and ny', o);
  options(op, o, ['field', 'nx', 'ny', 'title', 'valueTitle', 'xTitle', 'yTitle', 'axisMap', 'concepts', 'maxLabels', 'notes', 'edges', 'scheme', 'domain', 'width', 'colourBar']);
  const nx = integer(op, 'nx', o.nx, 1, 4096), ny = integer(op, 'ny', o.ny, 1, 4096);
  if ((ArrayBuffer.isView(o.field) || Array.isArray(o.field)) && (o.field as ArrayLike<number>).length !== nx * ny)
    throw invalid('E_SHAPE', op, 'field', `${nx} x ${ny} = ${nx * ny} values`, o.field);
  numberList(op, 'field', o.field, nx * ny);
  for (const k of ['title', 'valueTitle', 'xTitle', 'yTitle', 'scheme'] as const) if (o[k] !== undefined) text(op, k, o[k]);
  if (o.axisMap !== undefined) {
    if (!isPlainObject(o.axisMap)) throw invalid('E_TYPE', op, 'axisMap', 'an object { x: [a, b], y: [a, b] }', o.axisMap);
    options(op, o.axisMap, ['x', 'y']);
    for (const a of ['x', 'y'] as const)
      if (o.axisMap[a] !== undefined) Array.from(numberList(op, `axisMap.${a}`, o.axisMap[a], 2, 2), (v, i) => finiteNumber(op, `axisMap.${a}[${i}]`, v));
  }
  if (o.concepts !== undefined) {
    if (!Array.isArray(o.concepts)) throw invalid('E_TYPE', op, 'concepts', 'an array of {x, y, word}', o.concepts);
    if (o.concepts.length > 100000) throw invalid('E_TOO_LARGE', op, 'concepts', 'at most 100000 concepts', o.concepts.length);
    o.concepts.forEach((c, i) => {
      if (!isPlainObject(c)) throw invalid('E_TYPE', op, `concepts[${i}]`, 'an object {x, y, word, theme?, mass?}', c);
      finiteNumber(op, `concepts[${i}].x`, c.x);
      finiteNumber(op, `concepts[${i}].y`, c.y);
      text(op, `concepts[${i}].word`, c.word);
      if (c.theme !== undefined) text(op, `concepts[${i}].theme`, c.theme);
      if (c.mass !== undefined) finiteNumber(op, `concepts[${i}].mass`, c.mass);
    });
  }
  if (o.notes !== undefined) {
    if (!Array.isArray(o.notes)) throw invalid('E_TYPE', op, 'notes', 'an array of {x, y, text}', o.notes);
    if (o.notes.length > 10000) throw invalid('E_TOO_LARGE', op, 'notes', 'at most 10000 notes', o.notes.length);
    o.notes.forEach((n, i) => {
      if (!isPlainObject(n)) throw invalid('E_TYPE', op, `notes[${i}]`, 'an object {x, y, text}', n);
      finiteNumber(op, `notes[${i}].x`, n.x);
      finiteNumber(op, `notes[${i}].y`, n.y);
      text(op, `notes[${i}].text`, n.text);
    });
  }
  if (o.edges !== undefined) typedOf(op, 'edges', o.edges, Uint8Array, nx * ny);
  if (o.domain !== undefined) {
    const [lo, hi] = Array.from(numberList(op, 'domain', o.domain, 2, 2));
    finiteNumber(op, 'domain[0]', lo);
    finiteNumber(op, 'domain[1]', hi);
    if (!(hi > lo) || !Number.isFinite(hi - lo)) throw invalid('E_RANGE', op, 'domain', 'an interval [lo, hi] with lo < hi and a finite width', `[${lo}, ${hi}]`);
  }
  if (o.colourBar !== undefined) boolean(op, 'colourBar', o.colourBar);
  if (o.maxLabels !== undefined) integer(op, 'maxLabels', o.maxLabels, 0, 10000);
  if (o.width !== undefined) integer(op, 'width', o.width, 50, 4000);
  if (o.scheme !== undefined) schemeOf(op, o.scheme);
  const W = o.width ?? 460, H = Math.round((W * o.ny) / o.nx), yMax = o.ny / o.nx;
  const scheme = o.scheme ?? 'viridis';
  const [lo, hi] = o.domain ?? extent(o.field);
  const url = fieldImage(o.field, o.nx, o.ny, lo, hi, scheme, o.edges);
  // Axis units: u = a + b * (domain coordinate) on each axis (the plane's principal components, say).
  const ax = o.axisMap?.x ?? [0, 1], ay = o.axisMap?.y ?? [0, 1];
  const ux = (v: number) => ax[0] + ax[1] * v, uy = (v: number) => ay[0] + ay[1] * v;
  const x = { field: 'x', type: 'quantitative', scale: { domain: [ux(0), ux(1)], nice: false, zero: false }, axis: { title: o.xTitle ?? 'x', grid: false } };
  const y = { field: 'y', type: 'quantitative', scale: { domain: [uy(0), uy(yMax)], nice: false, zero: false }, axis: { title: o.yTitle ?? 'y', grid: false } };
  const value = (c: Concept) => {
    const i = Math.min(o.ny - 1, Math.max(0, Math.floor(c.y * o.nx))) * o.nx + Math.min(o.nx - 1, Math.max(0, Math.floor(c.x * o.nx)));
    return o.field[i];
  };
  const concepts = (o.concepts ?? []).map((c) => ({ ...c, theme: c.theme ?? '', value: value(c), mass: c.mass ?? value(c), px: c.x, py: c.y, x: ux(c.x), y: uy(c.y) }));
  const layers: ChartSpec[] = [
    { data: { values: [{ x: ux(0), y: uy(yMax), x2: ux(1), y2: uy(0), url }] }, mark: { type: 'image', aspect: false, align: 'left', baseline: 'top' }, encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' }, url: { field: 'url', type: 'nominal' } } },
    // The colour bar: a scale over the field's range in the image's own scheme (the mark itself is invisible).
    { data: { values: [{ v: lo }, { v: hi }] }, mark: { type: 'point', opacity: 0, size: 0 }, encoding: { color: { field: 'v', type: 'quantitative', scale: { scheme, domain: [lo, hi] }, legend: o.colourBar === false ? null : { title: o.valueTitle ?? 'potential', gradientLength: Math.min(H - 40, 220), format: '.3~g' } } } },
  ];
  if (concepts.length) {
    const themed = concepts.some((c) => c.theme);
    layers.push({
      data: { values: concepts },
      mark: { type: 'point', filled: true, size: 30, stroke: 'white', strokeWidth: 0.8, opacity: 0.95 },
      encoding: {
        x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' },
        ...(themed ? { fill: { field: 'theme', type: 'nominal', scale: { scheme: 'category10' }, legend: { title: 'theme' } } } : { fill: { value: 'white' } }),
        tooltip: [{ field: 'word', title: 'word' }, ...(themed ? [{ field: 'theme', title: 'theme' }] : []), { field: 'value', title: o.valueTitle ?? 'potential', format: '.4~g' }],
      },
    });
    const labels = placeLabels(concepts.map((c) => ({ ...c, x: c.px, y: c.py / yMax })), W, H, o.maxLabels ?? 40).map((l) => ({ ...l, x: ux(l.x), y: uy(l.y * yMax) }));
    for (const halo of [true, false])
      for (const align of ['left', 'right', 'center'])
        for (const dy of [0, -9, 11]) {
          const group = labels.filter((l) => l.align === align && l.dy === dy);
          if (!group.length) continue;
          const dx = group[0].dx;
          layers.push({
            data: { values: group },
            mark: { type: 'text', align, baseline: 'middle', dx, dy, fontSize: 11, fill: halo ? 'white' : '#111', ...(halo ? { stroke: 'white', strokeWidth: 3, strokeOpacity: 0.85 } : {}) },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'word' } },
          });
        }
  }
  if (o.notes?.length)
    for (const halo of [true, false])
      layers.push({
        data: { values: o.notes.map((n) => ({ ...n, x: ux(n.x), y: uy(n.y) })) },
        mark: { type: 'text', fontSize: 12, fontWeight: 'bold', fill: halo ? 'white' : '#000', ...(halo ? { stroke: 'white', strokeWidth: 4, strokeOpacity: 0.9 } : {}) },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'text' } },
      });
  return { $schema: SCHEMA, ...(o.title ? { title: o.title } : {}), width: W, height: H, layer: layers, resolve: { scale: { color: 'independent' } } };
}

/** Indices of the interior local maxima of y (strictly above both neighbours), highest first. */
export function interiorPeaks(y: ArrayLike<number>): number[] {
  numberList('interiorPeaks', 'y', y, 1e8);
  const out: number[] = [];
  for (let i = 1; i + 1 < y.length; i++) if (y[i] > y[i - 1] && y[i] > y[i + 1]) out.push(i);
  return out.sort((a, b) => y[b] - y[a]);
}

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Draw markers at the points (default true when fewer than 60 points). */
  markers?: boolean;
  /** Dashed line (a fit, a reference), drawn over the data. */
  dashed?: boolean;
}

export interface PlotOptions {
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  title?: string;
  /** Mark these points of the first series, each with its label (peaks, say). */
  marks?: { x: number; y: number; label: string }[];
}

/** The Vega-Lite specification of a line chart: one colour per series (legend below the plot), tooltips on every point. */
/** Points a series keeps (more are thinned, keeping each bucket's first, lowest, highest and last point). */
export const MAX_CHART_POINTS = 4000;

/** Indices of at most about `max` points of y that keep its shape: per bucket the first, the extremes and the last. */
function thin(n: number, y: ArrayLike<number>, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(max / 4), out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets), hi = Math.floor(((b + 1) * n) / buckets);
    let min = lo, mx = lo;
    for (let i = lo; i < hi; i++) {
      if (y[i] < y[min]) min = i;
      if (y[i] > y[mx]) mx = i;
    }
    out.push(...[...new Set([lo, min, mx, hi - 1])].sort((a, c) => a - c));
  }
  return out;
}

export function lineChart(series: Series[], o: PlotOptions): ChartSpec {
  const op = 'lineChart';
  if (!Array.isArray(series) || series.length < 1 || series.length > 16) throw invalid('E_TYPE', op, 'series', 'an array of 1 to 16 {name, x, y}', series);
  if (!isPlainObject(o)) throw invalid('E_TYPE', op, 'options', 'an object with xLabel and yLabel', o);
  options(op, o, ['xLabel', 'yLabel', 'logX', 'logY', 'width', 'height', 'title', 'marks']);
  text(op, 'xLabel', o.xLabel);
  text(op, 'yLabel', o.yLabel);
  if (o.title !== undefined) text(op, 'title', o.title);
  for (const k of ['logX', 'logY'] as const) if (o[k] !== undefined) boolean(op, k, o[k]);
  if (o.width !== undefined) integer(op, 'width', o.width, 20, 4000);
  if (o.height !== undefined) integer(op, 'height', o.height, 20, 4000);
  if (o.marks !== undefined) {
    if (!Array.isArray(o.marks)) throw invalid('E_TYPE', op, 'marks', 'an array of {x, y, label}', o.marks);
    if (o.marks.length > 1000) throw invalid('E_TOO_LARGE', op, 'marks', 'at most 1000 marks', o.marks.length);
    o.marks.forEach((m, i) => {
      if (!isPlainObject(m)) throw invalid('E_TYPE', op, `marks[${i}]`, 'an object {x, y, label}', m);
      finiteNumber(op, `marks[${i}].x`, m.x);
      finiteNumber(op, `marks[${i}].y`, m.y);
      text(op, `marks[${i}].label`, m.label);
    });
  }
  const names = new Set<string>();
  series.forEach((s, k) => {
    if (!isPlainObject(s)) throw invalid('E_TYPE', op, `series[${k}]`, 'an object {name, x, y}', s);
    if (names.has(text(op, `series[${k}].name`, s.name))) throw invalid('E_RANGE', op, `series[${k}].name`, 'different from the other series\' names', s.name);
    names.add(s.name);
    for (const k2 of ['markers', 'dashed'] as const) if (s[k2] !== undefined) boolean(op, `series[${k}].${k2}`, s[k2]);
    numberList(op, `series[${k}].x`, s.x, 1e8);
    numberList(op, `series[${k}].y`, s.y, 1e8, s.x.length);
  });
  const values: Record<string, unknown>[] = [];
  const order = series.map((s, k) => ({ s, k })).sort((a, b) => Number(!!a.s.dashed) - Number(!!b.s.dashed));
  for (const { s } of order)
    for (const i of thin(s.x.length, s.y, MAX_CHART_POINTS)) {
      const x = Number(s.x[i]), y = Number(s.y[i]);
      // Points that cannot be drawn (not finite; not positive on a log axis) are left out.
      if (!Number.isFinite(x) || !Number.isFinite(y) || (o.logX && x <= 0) || (o.logY && y <= 0)) continue;
      values.push({ series: s.name, x, y, dashed: !!s.dashed });
    }
  const legend = order.map(({ s }) => s.name);
  const enc = {
    x: { field: 'x', type: 'quantitative', title: o.xLabel, scale: o.logX ? { type: 'log', nice: false } : { zero: false } },
    y: { field: 'y', type: 'quantitative', title: o.yLabel, scale: o.logY ? { type: 'log', nice: false } : { zero: false } },
    color: { field: 'series', type: 'nominal', sort: legend, scale: { scheme: 'category10' }, legend: series.length > 1 ? { orient: 'bottom', title: null, labelLimit: 0, columns: 2 } : null },
  };
  const layers: ChartSpec[] = order.map(({ s }) => ({
    transform: [{ filter: { field: 'series', equal: s.name } }],
    mark: { type: 'line', strokeWidth: s.dashed ? 2.5 : 1.8, ...(s.dashed ? { strokeDash: [7, 4] } : {}), point: (s.markers ?? s.x.length < 60) ? { filled: true, size: 28 } : false },
    encoding: { ...enc, tooltip: [{ field: 'series', title: 'series' }, { field: 'x', title: o.xLabel, format: '.4~g' }, { field: 'y', title: o.yLabel, format: '.4~g' }] },
  }));
  // Invisible points carry the tooltips where lines have no markers.
  layers.push({ mark: { type: 'point', opacity: 0, size: 80 }, encoding: { x: enc.x, y: enc.y, tooltip: [{ field: 'series', title: 'series' }, { field: 'x', title: o.xLabel, format: '.4~g' }, { field: 'y', title: o.yLabel, format: '.4~g' }] } });
  if (o.marks?.length)
    layers.push({
      data: { values: o.marks },
      layer: [
        { mark: { type: 'point', shape: 'triangle-down', filled: true, size: 90, color: '#c00', yOffset: -9 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, tooltip: [{ field: 'label', title: 'mark' }] } },
        { mark: { type: 'text', dy: -22, fontSize: 11, color: '#c00' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    });
  return { $schema: SCHEMA, ...(o.title ? { title: o.title } : {}), width: o.width ?? 520, height: o.height ?? 300, data: { values }, layer: layers };
}

/** A line chart as PNG (see lineChart). */
export async function linePlot(series: Series[], opts: PlotOptions): Promise<Buffer> {
  return chartPng(lineChart(series, opts));
}
