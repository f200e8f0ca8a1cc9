/**
 * Line plots as PNG for reports and benchmarks: series of (x, y) points on
 * linear or log axes, a grid with tick labels, axis titles and a legend, in
 * a 3 x 5 pixel font drawn at double size. No dependencies.
 */
import { encodePng } from './png';

// Rows top to bottom, 3 bits each; characters without a glyph draw blank.
const GLYPHS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001010010010', '8': '111101111101111', '9': '111101111001111',
  '.': '000000000000010', '/': '001001010100100', ' ': '000000000000000', ':': '000010000010000', '-': '000000111000000',
  '(': '010100100100010', ')': '010001001001010', '=': '000111000111000', '+': '000010111010000', '^': '010101000000000',
  ',': '000000000010100', '_': '000000000000111', '%': '101001010100101',
  a: '000011101101011', b: '100110101101110', c: '000011100100011', d: '001011101101011', e: '000111111100011',
  f: '011100110100100', g: '000011101011110', h: '100110101101101', i: '010000010010010', j: '001000001101010',
  k: '100101110101101', l: '110010010010111', m: '000110111101101', n: '000110101101101', o: '000010101101010',
  p: '000110101110100', q: '000011101011001', r: '000011100100100', s: '000011110001110', t: '010111010010011',
  u: '000101101101011', v: '000101101101010', w: '000101101111101', x: '000101010101101', y: '000101101011110',
  z: '000111001100111',
  A: '010101111101101', B: '110101110101110', C: '011100100100011', D: '110101101101110', E: '111100110100111',
  F: '111100110100100', G: '011100101101011', H: '101101111101101', I: '111010010010111', K: '101101110101101',
  L: '100100100100111', M: '101111111101101', N: '101111111111101', O: '010101101101010', P: '110101110100100',
  R: '110101110110101', S: '011100010001110', T: '111010010010010', U: '101101101101111', V: '101101101101010',
  W: '101101111111101', X: '101101010101101', Y: '101101010010010',
};

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Draw markers at the points (default true when fewer than 60 points). */
  markers?: boolean;
  /** Dashed, thinner line (a fit, a reference). */
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
}

const COLOURS = [[200, 40, 40], [40, 90, 200], [30, 150, 60], [200, 130, 20], [120, 50, 170], [60, 60, 60]];

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) if (e >= lo - 1e-9 && e <= hi + 1e-9) out.push(e);
    return out;
  }
  const span = hi - lo || 1, raw = span / 6, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => span / s <= 7)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function label(v: number, log: boolean): string {
  if (log) return `10^${v}`;
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(0) : String(+v.toPrecision(4));
}

/** A PNG of the series. Non-finite points (and non-positive ones on log axes) are skipped. */
export function linePlot(series: readonly Series[], opts: PlotOptions): Buffer {
  const W = opts.width ?? 640, H = opts.height ?? 400, left = 64, right = 24, top = 44, bottom = 48;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  const tx = (v: number) => (opts.logX ? Math.log10(v) : v), ty = (v: number) => (opts.logY ? Math.log10(v) : v);
  const pts = series.map((s) => Array.from({ length: s.x.length }, (_, i) => [tx(s.x[i]), ty(s.y[i])]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)));
  const flat = pts.flat();
  let x0 = Math.min(...flat.map((p) => p[0])), x1 = Math.max(...flat.map((p) => p[0]));
  let y0 = Math.min(...flat.map((p) => p[1])), y1 = Math.max(...flat.map((p) => p[1]));
  if (!flat.length) (x0 = 0), (x1 = 1), (y0 = 0), (y1 = 1);
  if (x1 === x0) (x0 -= 0.5), (x1 += 0.5);
  if (y1 === y0) (y0 -= 0.5), (y1 += 0.5);
  const pad = (y1 - y0) * 0.05;
  (y0 -= pad), (y1 += pad);
  const X = (v: number) => Math.round(left + ((v - x0) / (x1 - x0)) * (W - left - right));
  const Y = (v: number) => Math.round(H - bottom - ((v - y0) / (y1 - y0)) * (H - top - bottom));
  const put = (x: number, y: number, c: number[]) => {
    if (x >= 0 && x < W && y >= 0 && y < H) rgb.set(c, (y * W + x) * 3);
  };
  const line = (ax: number, ay: number, bx: number, by: number, c: number[], dash = false) => {
    const n = Math.max(Math.abs(bx - ax), Math.abs(by - ay), 1);
    for (let i = 0; i <= n; i++) if (!dash || i % 8 < 5) put(Math.round(ax + ((bx - ax) * i) / n), Math.round(ay + ((by - ay) * i) / n), c);
  };
  const text = (str: string, x: number, y: number, c: number[], anchor: 'left' | 'centre' | 'right' = 'left') => {
    const w = str.length * 8 - 2;
    let cx = anchor === 'left' ? x : anchor === 'centre' ? x - w / 2 : x - w;
    for (const ch of str) {
      const g = GLYPHS[ch] ?? GLYPHS[ch.toLowerCase()] ?? GLYPHS[' '];
      for (let r = 0; r < 5; r++)
        for (let q = 0; q < 3; q++)
          if (g[r * 3 + q] === '1') for (let k = 0; k < 4; k++) put(Math.round(cx) + 2 * q + (k & 1), y + 2 * r + (k >> 1), c);
      cx += 8;
    }
  };
  const grey = [225, 225, 225], black = [0, 0, 0];
  for (const v of ticks(x0, x1, !!opts.logX)) {
    line(X(v), Y(y0), X(v), Y(y1), grey);
    text(label(v, !!opts.logX), X(v), Y(y0) + 6, black, 'centre');
  }
  for (const v of ticks(y0, y1, !!opts.logY)) {
    line(X(x0), Y(v), X(x1), Y(v), grey);
    text(label(v, !!opts.logY), X(x0) - 6, Y(v) - 5, black, 'right');
  }
  line(X(x0), Y(y0), X(x1), Y(y0), black);
  line(X(x0), Y(y0), X(x0), Y(y1), black);
  text(opts.xLabel, (left + W - right) / 2, H - 20, black, 'centre');
  text(opts.yLabel, 8, top - 26, black, 'left');
  if (opts.title) text(opts.title, W / 2, 8, black, 'centre');
  series.forEach((s, k) => {
    const c = COLOURS[k % COLOURS.length], p = [...pts[k]];
    for (let i = 0; i + 1 < p.length; i++)
      for (const o of s.dashed ? [0] : [-1, 0, 1]) line(X(p[i][0]), Y(p[i][1]) + o, X(p[i + 1][0]), Y(p[i + 1][1]) + o, c, s.dashed);
    if (s.markers ?? p.length < 60) for (const [a, b] of p) for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) put(X(a) + dx, Y(b) + dy, c);
  });
  // The legend last, on a white box over the data.
  const lw = Math.max(...series.map((s) => s.name.length)) * 8 + 10;
  for (let y = top - 2; y < top + 4 + 16 * series.length; y++) for (let x = W - right - lw; x < W - right; x++) put(x, y, [255, 255, 255]);
  series.forEach((s, k) => text(s.name, W - right - 4, top + 4 + 16 * k, COLOURS[k % COLOURS.length], 'right'));
  return encodePng(rgb, W, H);
}
