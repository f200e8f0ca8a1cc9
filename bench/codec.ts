/**
 * The fractal codec against JPEG and against the fast_fractal_compression
 * encoder, at equal bytes: skimage's camera, coins (303 x 384, sides not
 * multiples of 16), moon and astronaut (gray), at 0.25, 0.5 and 1 bit per
 * pixel. semfield meets the budget (rate control); JPEG (Pillow,
 * optimize=True) takes the best quality whose file fits in semfield's bytes,
 * and the peer is given semfield's bytes as its own target. PSNR and SSIM
 * (skimage.metrics) of each decode, encode times (the peer's as it reports
 * them), and a rate-distortion chart per image: bench/results/codec-rd.md,
 * codec-rd.json and codec-rd-<image>.png.
 *
 * The peer is built from its public repository for the benchmark only
 * (scripts/build-ffc-peer.sh, into bench/peers/ffc/fcomp, or SEMFIELD_FFC
 * naming a binary); without it its columns are left out. It is single-
 * threaded and takes sides that are multiples of 32: coins is padded by
 * repeating its edges for it and scored on its own 303 x 384 part.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fractal, linePlot } from '../lib';
import type { BenchContext } from './fractal';

const PY = '/usr/bin/python3';
const HELPER = path.join(__dirname, '..', '..', 'bench', 'codec_peers.py');
const BPPS = [0.25, 0.5, 1];

interface Scores { psnr: number; ssim: number }
interface Point {
  image: string; width: number; height: number; bpp: number;
  bytes: number; psnr: number; ssim: number; encodeMs: number;
  jpeg: Scores & { bytes: number; quality: number };
  peer?: Scores & { bytes: number; encodeMs: number };
}

function py(args: string[]): unknown {
  const r = spawnSync(PY, [HELPER, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`codec_peers.py ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function peerBinary(): string | undefined {
  const p = process.env.SEMFIELD_FFC ?? path.join(__dirname, '..', '..', 'bench', 'peers', 'ffc', 'fcomp');
  return fs.existsSync(p) ? p : undefined;
}

/** The peer at a byte target: its code's size, its own compression time, and the scores of its decode. */
function runPeer(bin: string, dir: string, raw: string, png: string, w: number, h: number, bytes: number): Point['peer'] {
  const out = path.join(dir, 'peer.png'), code = path.join(dir, 'peer.bin');
  const r = spawnSync(bin, [png, String(bytes), out, code, 'true'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`fast_fractal_compression failed: ${r.stderr}`);
  const m = /total compression time:\s*([0-9.eE+-]+)/.exec(r.stdout);
  const s = py(['score_png', raw, String(w), String(h), out]) as Scores;
  return { ...s, bytes: fs.statSync(code).size, encodeMs: m ? Number(m[1]) * 1e3 : NaN };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

export async function codecBench(ctx: BenchContext): Promise<void> {
  if (spawnSync(PY, ['-c', 'import skimage, PIL']).status !== 0) {
    process.stdout.write('  (codec skipped: apt-get install python3-skimage python3-pil)\n');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semfield-codec-'));
  try {
    const images = py(['dump', dir]) as { name: string; width: number; height: number }[];
    const bin = peerBinary();
    if (!bin) process.stdout.write('  (peer fast_fractal_compression not built: bash scripts/build-ffc-peer.sh)\n');
    const points: Point[] = [];
    for (const { name, width: w, height: h } of images) {
      const raw = path.join(dir, `${name}.raw`), png = path.join(dir, `${name}.png`);
      const img = new Uint8Array(fs.readFileSync(raw));
      if (bin) py(['png', raw, String(w), String(h), png]);
      for (const bpp of BPPS) {
        const t0 = process.hrtime.bigint();
        const e = await fractal.encode(img, { width: w, height: h, bpp });
        const encodeMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const d = await fractal.decode(e.code);
        const dec = path.join(dir, 'ours.raw');
        fs.writeFileSync(dec, d.pixels as Uint8Array);
        const s = py(['score', raw, dec, String(w), String(h)]) as Scores;
        const jpeg = py(['jpeg', raw, String(w), String(h), String(e.bytes)]) as Point['jpeg'];
        const p: Point = { image: name, width: w, height: h, bpp, bytes: e.bytes, psnr: s.psnr, ssim: s.ssim, encodeMs, jpeg };
        if (bin) p.peer = runPeer(bin, dir, raw, png, w, h, e.bytes);
        points.push(p);
        ctx.rows.push({
          name: `codec ${name} ${bpp} bpp`, medianMs: encodeMs, samples: w * h, bytes: e.bytes, bpp: (8 * e.bytes) / (w * h),
          psnr: s.psnr, ssim: s.ssim, jpegPsnr: jpeg.psnr, jpegSsim: jpeg.ssim, dbOverJpeg: s.psnr - jpeg.psnr,
          ...(p.peer ? { peerPsnr: p.peer.psnr, peerSsim: p.peer.ssim, peerBytes: p.peer.bytes, dbOverPeer: s.psnr - p.peer.psnr } : {}),
        });
      }
    }
    // Encode time of a 512^2 photograph at 0.5 bpp: medians of five runs
    // each (semfield on every core; the peer has one thread).
    const cam = images.find((i) => i.name === 'camera')!;
    const camRaw = path.join(dir, 'camera.raw'), camImg = new Uint8Array(fs.readFileSync(camRaw));
    const ours = await ctx.measure('encode camera 512^2 at 0.5 bpp', () => fractal.encode(camImg, { width: cam.width, height: cam.height, bpp: 0.5 }), true, 5);
    const timing: Record<string, number> = { oursMs: ours * 1e3 };
    if (bin) {
      const png = path.join(dir, 'camera.png'), budget = Math.floor((0.5 * cam.width * cam.height) / 8);
      timing.peerMs = median(Array.from({ length: 5 }, () => runPeer(bin, dir, camRaw, png, cam.width, cam.height, budget)!.encodeMs));
      timing.oursOverPeer = timing.oursMs / timing.peerMs;
    }
    ctx.rows.push({ name: 'codec encode camera 512^2 0.5 bpp', medianMs: timing.oursMs, samples: cam.width * cam.height, ...timing });
    write(ctx.resultsDir, points, timing, !!bin);
    for (const { name } of images) {
      const mine = points.filter((p) => p.image === name);
      const series = [
        { name: 'semfield', x: mine.map((p) => (8 * p.bytes) / (p.width * p.height)), y: mine.map((p) => p.psnr) },
        { name: 'JPEG', x: mine.map((p) => (8 * p.jpeg.bytes) / (p.width * p.height)), y: mine.map((p) => p.jpeg.psnr) },
      ];
      if (bin) series.push({ name: 'fast_fractal_compression', x: mine.map((p) => (8 * p.peer!.bytes) / (p.width * p.height)), y: mine.map((p) => p.peer!.psnr) });
      const { width: w, height: h } = mine[0];
      fs.writeFileSync(path.join(ctx.resultsDir, `codec-rd-${name}.png`),
        await linePlot(series, { xLabel: 'bits per pixel', yLabel: 'PSNR dB', title: `${name} (${w} x ${h}): rate and distortion`, width: 420, height: 300 }));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function write(dir: string, points: Point[], timing: Record<string, number>, peer: boolean): void {
  const f = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const lines = [
    '# Fractal codec against JPEG and fast_fractal_compression, at equal bytes',
    '',
    'semfield meets each budget by rate control; JPEG (Pillow, optimize=True) is the best quality whose file fits in semfield\'s bytes;',
    'the peer is given semfield\'s bytes as its target. PSNR (peak 255) and SSIM from skimage.metrics on the 8-bit decodes.',
    '',
    `| image | bpp | semfield bytes | PSNR | SSIM | JPEG bytes | PSNR | SSIM | dB over JPEG |${peer ? ' peer bytes | PSNR | SSIM | dB over peer |' : ''}`,
    `|---|---|---|---|---|---|---|---|---|${peer ? '---|---|---|---|' : ''}`,
    ...points.map((p) => `| ${p.image} ${p.width}x${p.height} | ${p.bpp} | ${p.bytes} | ${f(p.psnr)} | ${f(p.ssim, 4)} | ${p.jpeg.bytes} | ${f(p.jpeg.psnr)} | ${f(p.jpeg.ssim, 4)} | ${f(p.psnr - p.jpeg.psnr)} |` +
      (p.peer ? ` ${p.peer.bytes} | ${f(p.peer.psnr)} | ${f(p.peer.ssim, 4)} | ${f(p.psnr - p.peer.psnr)} |` : '')),
    '',
    `Encode time, camera 512^2 at 0.5 bpp (median of 5): semfield ${f(timing.oursMs, 0)} ms on ${os.cpus().length} cores` +
      (timing.peerMs ? `; fast_fractal_compression ${f(timing.peerMs, 0)} ms (one thread, its own timer); ratio ${f(timing.oursOverPeer)}.` : '.'),
    '',
  ];
  fs.writeFileSync(path.join(dir, 'codec-rd.md'), lines.join('\n'));
  fs.writeFileSync(path.join(dir, 'codec-rd.json'), JSON.stringify({ points, timing }, null, 2));
  process.stdout.write(`\n${lines.join('\n')}\nwritten: bench/results/codec-rd.md, codec-rd.json, codec-rd-<image>.png\n`);
}
