// Charts: Vega-Lite specifications rendered to SVG (vega) and PNG (resvg):
// the field's colours are exactly its colour bar's, labels never overlap,
// peaks are interior, legends stay outside the data.
import { PNG } from 'pngjs';
import { MAX_CHART_POINTS, chartPng, chartSvg, fieldChart, interiorPeaks, lineChart, placeLabels, schemeLut } from '../lib/chart';
import { rng } from './helpers';

test('interior peaks: strict local maxima, never an end of the range, highest first', () => {
  expect(interiorPeaks([5, 3, 4, 2])).toEqual([2]);
  expect(interiorPeaks([1, 2, 3, 4])).toEqual([]);
  expect(interiorPeaks([0, 2, 1, 5, 1, 1])).toEqual([3, 1]);
  expect(interiorPeaks([1, 3, 3, 1])).toEqual([]);  // a plateau is no strict maximum
});

test('labels are placed without overlapping, inside the plot, the most massive first', () => {
  const r = rng(7);
  const cs = Array.from({ length: 300 }, (_, i) => ({ x: r(), y: r(), word: `word${i}`, theme: `t${i % 5}`, mass: r() }));
  const W = 460, H = 460;
  const labels = placeLabels(cs, W, H, 80);
  expect(labels.length).toBeGreaterThan(20);
  const boxes = labels.map((l) => {
    const w = 0.6 * 11 * l.word.length + 2, px = l.x * W + l.dx, py = H - l.y * H + l.dy;
    const x0 = l.align === 'left' ? px - 1 : l.align === 'right' ? px - w + 1 : px - w / 2;
    return [x0, py - 6, x0 + w, py + 6];
  });
  for (let i = 0; i < boxes.length; i++) {
    const [a0, b0, a1, b1] = boxes[i];
    expect(a0).toBeGreaterThanOrEqual(-1);
    expect(a1).toBeLessThanOrEqual(W + 1);
    for (let j = 0; j < i; j++) {
      const [c0, d0, c1, d1] = boxes[j];
      expect(a0 < c1 - 1 && a1 > c0 + 1 && b0 < d1 - 1 && b1 > d0 + 1).toBe(false);
    }
  }
  // Every theme gets names, and within a theme the heaviest goes first.
  expect(new Set(labels.map((l) => cs.find((c) => c.word === l.word)!.theme)).size).toBe(5);
  for (const t of ['t0', 't1', 't2', 't3', 't4']) {
    const heaviest = cs.filter((c) => c.theme === t).sort((a, b) => b.mass - a.mass)[0];
    expect(labels.find((l) => cs.find((c) => c.word === l.word)!.theme === t)!.word).toBe(heaviest.word);
  }
});

test('a field chart: the image in vega\'s own viridis (so the colour bar is exact), axes, legends, tooltips', async () => {
  const n = 32, field = Float32Array.from({ length: n * n }, (_, i) => (i % n) / (n - 1));  // 0 at the left, 1 at the right
  const spec = fieldChart({ field, nx: n, ny: n, title: 'ramp', valueTitle: 'value (a.u.)', xTitle: 'PC1', yTitle: 'PC2', concepts: [{ x: 0.5, y: 0.5, word: 'centre', theme: 'a' }, { x: 0.2, y: 0.7, word: 'other', theme: 'b' }] });
  const layers = spec.layer as { data: { values: { url?: string }[] } }[];
  const img = PNG.sync.read(Buffer.from(layers[0].data.values[0].url!.split(',')[1], 'base64'));
  const lut = schemeLut('viridis');
  expect(Array.from(img.data.subarray(0, 3))).toEqual(Array.from(lut.subarray(0, 3)));            // left: the bar's bottom
  expect(Array.from(img.data.subarray(4 * (n - 1), 4 * (n - 1) + 3))).toEqual(Array.from(lut.subarray(765, 768)));  // right: its top
  expect(Array.from(lut.subarray(765, 768))).toEqual([253, 231, 37]);  // viridis ends in #fde725
  const svg = await chartSvg(spec);
  for (const text of ['ramp', 'value (a.u.)', 'PC1', 'PC2', 'theme', '>centre<', '>other<']) expect(svg).toContain(text);
  expect(svg).toMatch(/aria-label="[^"]*word: centre/);
  const png = PNG.sync.read(await chartPng(spec, 2));
  const w = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  expect(png.width).toBe(2 * w);
});

test('a line chart: one colour per series, the legend below the plot, marks for peaks, log axes skip non-positive points', async () => {
  const x = Array.from({ length: 40 }, (_, i) => i / 4), y = x.map((v) => Math.sin(v) ** 2 + 0.1);
  const spec = lineChart([{ name: 'data', x, y }, { name: 'fit', x, y: y.map((v) => v * 1.01), dashed: true }], { xLabel: 'w', yLabel: 'R', title: 't', marks: interiorPeaks(y).map((i) => ({ x: x[i], y: y[i], label: `peak ${i}` })) });
  const svg = await chartSvg(spec);
  expect(svg).toContain('peak ');
  expect(svg).toMatch(/>data</);
  expect(svg).toMatch(/>fit</);
  // The legend sits below the plot, never over the data.
  expect((spec.layer as { encoding: { color: { legend: { orient: string } } } }[])[0].encoding.color.legend.orient).toBe('bottom');
  const logSpec = lineChart([{ name: 'a', x: [0, 1, 10], y: [1, 0, 100] }], { xLabel: 'x', yLabel: 'y', logX: true, logY: true });
  expect(((logSpec.data as { values: unknown[] }).values)).toHaveLength(1);  // (0, 1) and (1, 0) dropped on log axes
});

test('300,000 points are thinned to a few thousand that keep every extreme; bad series are coded errors', async () => {
  const n = 300000, x = Float64Array.from({ length: n }, (_, i) => i), y = x.map((v) => Math.sin(v / 1000) + (v === 123457 ? 5 : 0));
  const spec = lineChart([{ name: 'long', x, y }], { xLabel: 'x', yLabel: 'y' });
  const values = (spec.data as { values: { x: number; y: number }[] }).values;
  expect(values.length).toBeLessThanOrEqual(MAX_CHART_POINTS + 8);
  expect(values.some((v) => v.x === 123457)).toBe(true);  // the spike survives
  expect(values[values.length - 1].x).toBe(n - 1);
  const png = await chartPng(spec, 1);  // renders (before thinning, vega took minutes over 300,000 points)
  expect(png.length).toBeGreaterThan(1000);
  expect(() => lineChart(null as never, { xLabel: 'x', yLabel: 'y' })).toThrow(/lineChart: series must be an array/);
  expect(() => lineChart([{ name: 'a', x: [1], y: [1, 2] }], { xLabel: 'x', yLabel: 'y' })).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  expect(() => fieldChart({ field: new Float32Array(4), nx: 3, ny: 3 })).toThrow(/fieldChart: field must be 3 x 3 = 9 values/);
  expect(() => fieldChart({ field: new Float32Array(4), nx: 2, ny: 2, maxLabels: -1 })).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
});
