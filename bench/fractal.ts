/**
 * Fractal benchmarks: unfold and chaos-game throughput with their output
 * bandwidth as a fraction of the triad; the codec on skimage's camera
 * (512 x 512 at range size 8, classified against exhaustive search) and a
 * rate-distortion sweep on the photograph and on a potential field, written
 * as bench/results/codec-rd.md and codec-rd.png; box counting and pair
 * counting rates.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fractal, linePlot, potential } from '../lib';

export interface BenchContext {
  rows: { name: string; medianMs: number; samples: number; [key: string]: number | string | boolean }[];
  measure: (name: string, fn: () => void | Promise<unknown>, async?: boolean, minSamples?: number) => Promise<number>;
  triadGBs: number;
  resultsDir: string;
}

function camera(): Float32Array | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import sys, skimage.data as d; sys.stdout.buffer.write(d.camera().astype("float32").tobytes())'], { maxBuffer: 1 << 24 });
  if (r.status !== 0) return undefined;
  return new Float32Array(r.stdout.buffer, r.stdout.byteOffset, 512 * 512);
}

async function fieldImage(n: number): Promise<Float32Array> {
  const rho = new Float32Array(n * n);
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let k = 0; k < 200; k++) rho[Math.floor(rnd() * n) * n + Math.floor(rnd() * n)] += rnd() * 2 - 1;
  return (await potential(rho, { n: [n, n], boundary: 'periodic' }, { kappa: 16 })).phi;
}

export async function fractalBench(ctx: BenchContext): Promise<void> {
  const { rows, measure, triadGBs } = ctx;
  const F = fractal;
  {
    const depth = 13, n = 3 ** depth;
    const t = await measure(`unfold sierpinski depth ${depth}`, () => F.unfold(F.presets.sierpinski(), depth), true, 8);
    // Each level reads the last (8 B per point, reused m times from cache) and writes 8 B per point.
    const GBs = (8 * n * 1.5) / t / 1e9;
    rows.push({ name: `unfold 3^${depth} points`, medianMs: t * 1e3, samples: n, pointsPerSecond: n / t, GBs, ofTriad: GBs / triadGBs });
  }
  {
    const d = 384, m = 4, depth = 6, n = m ** depth;
    const P = Float32Array.from({ length: m * d }, (_, i) => Math.sin(i)), C = Float32Array.from({ length: d }, (_, i) => Math.cos(i));
    const t = await measure(`token unfold m=${m} depth=${depth} d=${d}`, () => F.unfoldToken(P, C, { d, depth }), true, 8);
    const GBs = (4 * d * n * (1 + 1 / (m - 1)) + 8 * n) / t / 1e9;
    rows.push({ name: `token 4^6 points d=384`, medianMs: t * 1e3, samples: n, pointsPerSecond: n / t, GBs, ofTriad: GBs / triadGBs });
  }
  {
    const n = 10_000_000;
    const t = await measure(`chaos game ${n} points`, () => F.chaosGame(F.presets.fern(), n, { seed: 1 }), true, 5);
    const GBs = (8 * n) / t / 1e9;
    rows.push({ name: `chaos game 1e7 points`, medianMs: t * 1e3, samples: n, pointsPerSecond: n / t, GBs, ofTriad: GBs / triadGBs });
    const nr = 100_000_000;
    const box = { size: [512, 512], lo: [-3, -0.1], hi: [3, 10.1] };
    const tr = await measure(`render ${nr} points 512^2`, () => F.render(F.presets.fern(), nr, box), true, 3);
    rows.push({ name: `render 1e8 points 512^2`, medianMs: tr * 1e3, samples: nr, pointsPerSecond: nr / tr });
  }
  {
    const pts = await F.chaosGame(F.presets.sierpinski(), 1_000_000, { seed: 3 });
    for (const n of [100_000, 1_000_000]) {
      const x = pts.subarray(0, 2 * n);
      let dim = 0;
      const t = await measure(`box dimension ${n} points`, async () => (dim = (await F.boxDimension(x, { d: 2 })).dimension), true, 3);
      rows.push({ name: `box dimension ${n}`, medianMs: t * 1e3, samples: n, pointsPerSecond: n / t, dimension: dim });
    }
    const n = 20000, x = pts.subarray(0, 2 * n);
    const t = await measure(`correlation dimension ${n} points`, () => F.correlationDimension(x, { d: 2 }), true, 3);
    rows.push({ name: `correlation ${n} points`, medianMs: t * 1e3, samples: (n * (n - 1)) / 2, pairsPerSecond: (n * (n - 1)) / 2 / t });
  }
  const cam = camera();
  if (!cam) {
    process.stdout.write('  (codec on camera skipped: apt-get install python3-skimage)\n');
    return;
  }
  {
    const base = { width: 512, height: 512, minBlock: 8, maxBlock: 8 } as const;
    const results: Record<string, { ms: number; psnr: number; bytes: number }> = {};
    for (const search of ['classified', 'exhaustive'] as const) {
      let code: Uint8Array = new Uint8Array(0);
      const t = await measure(`encode camera 512^2 range 8 ${search}`, async () => (code = (await F.encode(cam, { ...base, search })).code), true, search === 'exhaustive' ? 3 : 5);
      const psnr = F.psnr(cam, (await F.decode(code)).image);
      results[search] = { ms: t * 1e3, psnr, bytes: code.length };
      rows.push({ name: `encode camera r=8 ${search}`, medianMs: t * 1e3, samples: 512 * 512, psnr, bytes: code.length, ratio: (512 * 512) / code.length });
    }
    rows[rows.length - 2].psnrBelowExhaustive = results.exhaustive.psnr - results.classified.psnr;
    rows[rows.length - 2].speedupVsPeer = results.exhaustive.ms / results.classified.ms;
    const code = (await F.encode(cam, { width: 512, height: 512, tolerance: 8 })).code;
    for (const scale of [1, 2] as const) {
      const t = await measure(`decode camera at scale ${scale}`, () => F.decode(code, { scale }), true, 8);
      rows.push({ name: `decode camera x${scale}`, medianMs: t * 1e3, samples: 512 * 512 * scale * scale, pixelsPerSecond: (512 * 512 * scale * scale) / t });
    }
  }
  await rateDistortion(ctx, cam);
}

export interface RdPoint {
  tolerance: number;
  bytes: number;
  bpp: number;
  ratio: number;
  psnr: number;
  encodeMs: number;
}

async function sweep(img: Float32Array, n: number, peak: number, tolerances: number[], maxBlock: number): Promise<RdPoint[]> {
  const out: RdPoint[] = [];
  for (const tol of tolerances) {
    const t = process.hrtime.bigint();
    const e = await fractal.encode(img, { width: n, height: n, tolerance: tol * peak, maxBlock });
    const encodeMs = Number(process.hrtime.bigint() - t) / 1e6;
    const d = await fractal.decode(e.code);
    out.push({ tolerance: tol, bytes: e.bytes, bpp: e.bitsPerPixel, ratio: 0, psnr: fractal.psnr(img, d.image, peak), encodeMs });
  }
  return out;
}

async function rateDistortion(ctx: BenchContext, cam: Float32Array): Promise<void> {
  const camRd = (await sweep(cam, 512, 255, [0.01, 0.02, 0.03, 0.05, 0.08, 0.12], 16)).map((p) => ({ ...p, ratio: 8 / p.bpp }));
  const field = await fieldImage(512);
  let lo = Infinity, hi = -Infinity;
  for (const v of field) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  // Smooth fields meet coarse tolerances with the largest blocks: blocks up
  // to 32 and finer tolerances span their curve.
  const fieldRd = (await sweep(field, 512, hi - lo, [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02], 32)).map((p) => ({ ...p, ratio: 32 / p.bpp }));
  const table = [
    '# Fractal codec: rate and distortion (classified search; quadtree 16..4 for the camera, 32..4 for the field)',
    '',
    'Tolerance: RMS error per block, as a fraction of the value range, above which a block is split.',
    'Ratio: against 8 bits per pixel (camera) and 32-bit floats (field). PSNR peak: 255 (camera), the value range (field).',
    '',
    '| image | tolerance | bytes | bits/pixel | ratio | PSNR dB | encode ms |',
    '|---|---|---|---|---|---|---|',
    ...[['camera 512^2', camRd], ['potential field 512^2', fieldRd]].flatMap(([name, rd]) =>
      (rd as RdPoint[]).map((p) => `| ${name} | ${p.tolerance} | ${p.bytes} | ${p.bpp.toFixed(3)} | ${p.ratio.toFixed(1)} | ${p.psnr.toFixed(2)} | ${p.encodeMs.toFixed(0)} |`)),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(ctx.resultsDir, 'codec-rd.md'), table);
  fs.writeFileSync(path.join(ctx.resultsDir, 'codec-rd.png'), await plot([camRd, fieldRd]));
  process.stdout.write(`\n${table}\nwritten: bench/results/codec-rd.md, codec-rd.png\n`);
  for (const [name, rd] of [['camera', camRd], ['field', fieldRd]] as const)
    for (const p of rd) ctx.rows.push({ name: `rd ${name} tol ${p.tolerance}`, medianMs: p.encodeMs, samples: 512 * 512, bpp: p.bpp, ratio: p.ratio, psnr: p.psnr });
}

/** PSNR against bits per pixel, one curve per image. */
export function plot(series: RdPoint[][]): Promise<Buffer> {
  return linePlot(
    series.map((rd, k) => {
      const p = [...rd].sort((a, b) => a.bpp - b.bpp);
      return { name: ['camera', 'field'][k], x: p.map((q) => q.bpp), y: p.map((q) => q.psnr) };
    }),
    { xLabel: 'bits/pixel', yLabel: 'PSNR dB', title: 'fractal codec: rate and distortion' },
  );
}
