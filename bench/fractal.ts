/**
 * Fractal benchmarks: unfold and chaos-game throughput with their output
 * bandwidth as a fraction of the triad; the codec on skimage's camera
 * (512 x 512 at range size 8, classified against exhaustive search; the
 * rate-distortion comparison with JPEG and a peer is bench/codec.ts); box
 * counting and pair counting rates.
 */
import { spawnSync } from 'node:child_process';
import { fractal } from '../lib';

export interface BenchContext {
  rows: { name: string; medianMs: number; samples: number; [key: string]: number | string | boolean }[];
  measure: (name: string, fn: () => void | Promise<unknown>, async?: boolean, minSamples?: number) => Promise<number>;
  triadGBs: number;
  /**
   * The triad now (GB/s, the median of a few calls): a row's fraction of the
   * triad takes the mean of one just before and one just after its own
   * measurement, as the bandwidth a shared machine leaves drifts by tens of
   * percent over minutes.
   */
  triadNow: () => number;
  resultsDir: string;
}

function camera(): Float32Array | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import sys, skimage.data as d; sys.stdout.buffer.write(d.camera().astype("float32").tobytes())'], { maxBuffer: 1 << 24 });
  if (r.status !== 0) return undefined;
  return new Float32Array(r.stdout.buffer, r.stdout.byteOffset, 512 * 512);
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
}
