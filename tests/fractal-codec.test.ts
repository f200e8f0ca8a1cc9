// The fractal codec: round trips through bytes, quality on a potential field
// and on a real photograph (skimage's camera), decoding at other scales,
// geometric convergence, and codes that are cut or corrupted.
import { spawnSync } from 'node:child_process';
import { SemfieldError, fractal, potential } from '../lib';
import { errorOf, rng } from './helpers';

/** skimage's 512 x 512 grayscale "camera" (Debian python3-skimage), as float32. */
function camera(): Float32Array | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import sys, skimage.data as d; sys.stdout.buffer.write(d.camera().astype("float32").tobytes())'], { maxBuffer: 1 << 24 });
  if (r.status === 0 && r.stdout.length === 512 * 512 * 4) return new Float32Array(r.stdout.buffer, r.stdout.byteOffset, 512 * 512);
  if (process.env.CI) throw new Error('CI needs /usr/bin/python3 with scikit-image (apt-get install python3-skimage)');
  return undefined;
}

/** PSNR of PIL's JPEG (optimize=True) at the best quality within `bytes`, on an 8-bit image. */
function jpegPsnr(img: Uint8Array, w: number, h: number, bytes: number): number {
  const py = [
    'import sys, io, numpy as np', 'from PIL import Image',
    `w, h, budget = ${w}, ${h}, ${bytes}`,
    'a = np.frombuffer(sys.stdin.buffer.read(), dtype=np.uint8).reshape(h, w)',
    'best = None',
    'for q in range(1, 101):',
    '    b = io.BytesIO(); Image.fromarray(a).save(b, format="JPEG", quality=q, optimize=True)',
    '    if b.tell() > budget: break',
    '    best = b.getvalue()',
    'd = np.asarray(Image.open(io.BytesIO(best))).astype(np.float64)',
    'print(10 * np.log10(255 ** 2 / ((d - a) ** 2).mean()))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: Buffer.from(img.buffer, img.byteOffset, img.length), maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`PIL's JPEG failed: ${r.stderr}`);
  return Number(r.stdout.toString());
}

async function field(n: number, seed: number): Promise<Float32Array> {
  const r = rng(seed), rho = new Float32Array(n * n);
  for (let k = 0; k < 40; k++) rho[Math.floor(r() * n) * n + Math.floor(r() * n)] += r() * 2 - 1;
  return (await potential(rho, { n: [n, n], boundary: 'periodic' }, { kappa: 8 })).phi;
}

function range(a: Float32Array): number {
  let lo = Infinity, hi = -Infinity;
  for (const v of a) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return hi - lo;
}

function crc32(bytes: Uint8Array, crc = 0): number {
  crc = ~crc >>> 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (0xedb88320 ^ (crc >>> 1)) >>> 0 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function resign(code: Uint8Array): Uint8Array {
  const out = code.slice();
  const crc = crc32(out.subarray(40), crc32(out.subarray(0, 36)));
  new DataView(out.buffer).setUint32(36, crc, true);
  return out;
}

describe('fractal.encode / decode on potential fields', () => {
  test('round trip through bytes; quality and size at three tolerances', async () => {
    const phi = await field(128, 1);
    const span = range(phi);
    let lastBytes = Infinity, lastPsnr = Infinity;
    for (const tol of [0.002, 0.01, 0.05]) {
      const e = await fractal.encode(phi, { width: 128, height: 128, tolerance: tol * span });
      const copy = new Uint8Array(Buffer.from(Buffer.from(e.code).toString('base64'), 'base64'));
      const a = await fractal.decode(e.code), b = await fractal.decode(copy);
      expect(Buffer.compare(Buffer.from(a.image.buffer), Buffer.from(b.image.buffer))).toBe(0);
      const q = fractal.psnr(phi, a.image, span);
      // Coarser tolerances give smaller codes and lower PSNR.
      expect(e.bytes).toBeLessThan(lastBytes);
      expect(q).toBeLessThan(lastPsnr);
      lastBytes = e.bytes;
      lastPsnr = q;
      expect(q).toBeGreaterThan(tol === 0.002 ? 45 : tol === 0.01 ? 38 : 28);
      expect(e.bytes).toBeLessThan((128 * 128 * 4) / (tol === 0.002 ? 4 : 20));
      const info = fractal.codeInfo(e.code);
      expect(info).toMatchObject({ width: 128, height: 128, minBlock: 4, maxBlock: 16, leaves: e.leaves });
      expect(e.leavesPerSize.reduce((x, y) => x + y, 0)).toBe(e.leaves);
    }
  });

  test('decoding at 0.5, 2 and 4 times the size (resolution independence)', async () => {
    const phi = await field(128, 2);
    const span = range(phi);
    const e = await fractal.encode(phi, { width: 128, height: 128, tolerance: 0.005 * span });
    const one = await fractal.decode(e.code);
    for (const scale of [0.5, 2, 4] as const) {
      const d = await fractal.decode(e.code, { scale });
      expect([d.width, d.height]).toEqual([128 * scale, 128 * scale]);
      // Averaged back to 128 x 128 (or the 128 x 128 decode averaged down to
      // 64 x 64), the pictures agree.
      const big = scale > 1 ? d.image : one.image, small = scale > 1 ? one.image : d.image;
      const f = scale > 1 ? scale : 2, ws = scale > 1 ? 128 : 64;
      const avg = new Float32Array(ws * ws);
      for (let y = 0; y < ws * f; y++)
        for (let x = 0; x < ws * f; x++) avg[Math.floor(y / f) * ws + Math.floor(x / f)] += big[y * ws * f + x] / (f * f);
      expect(fractal.psnr(small, avg, span)).toBeGreaterThan(40);
    }
  });

  test('decoding converges geometrically: each RMS change at most max|s| = 15/16 of the last', async () => {
    const phi = await field(64, 3);
    const e = await fractal.encode(phi, { width: 64, height: 64, tolerance: 0.001 * range(phi), domainStep: 'half' });
    const d = await fractal.decode(e.code, { maxIterations: 200, tol: 1e-6 * range(phi) });
    expect(d.iterations).toBeGreaterThan(3);
    expect(d.iterations).toBeLessThan(200);
    for (let k = 2; k < d.changes.length; k++) expect(d.changes[k]).toBeLessThanOrEqual((15 / 16) * d.changes[k - 1] * (1 + 1e-3) + 1e-6 * range(phi));
  });

  test('exhaustive search is never worse than classified on the collage, and both decode', async () => {
    const phi = await field(64, 4);
    const a = await fractal.encode(phi, { width: 64, height: 64, minBlock: 8, maxBlock: 8, search: 'exhaustive' });
    const b = await fractal.encode(phi, { width: 64, height: 64, minBlock: 8, maxBlock: 8, search: 'classified' });
    expect(a.collageRmse).toBeLessThanOrEqual(b.collageRmse + 1e-9);
    expect(a.leaves).toBe(64);
    expect((await fractal.decode(a.code)).image.length).toBe(64 * 64);
  });
});

const cam = camera();
(cam ? describe : describe.skip)('the codec on a photograph (skimage camera, 512 x 512)', () => {
  test('range blocks of 8: classified search within 0.5 dB of exhaustive; PSNR and ratio', async () => {
    const img = cam!;
    const opts = { width: 512, height: 512, minBlock: 8, maxBlock: 8 };
    const ex = await fractal.encode(img, { ...opts, search: 'exhaustive' });
    const cl = await fractal.encode(img, { ...opts, search: 'classified' });
    const pe = fractal.psnr(img, (await fractal.decode(ex.code)).image);
    const pc = fractal.psnr(img, (await fractal.decode(cl.code)).image);
    expect(pe).toBeGreaterThan(27);
    expect(pe - pc).toBeLessThan(0.5);
    expect((512 * 512) / cl.bytes).toBeGreaterThan(15);  // against 8 bits per pixel
  });

  test('the rate-distortion tree beats the tolerance tree at the same size by 0.3 dB at least', async () => {
    const img = Uint8Array.from(cam!);
    const t = await fractal.encode(img, { width: 512, height: 512, tolerance: 12 });
    const r = await fractal.encode(img, { width: 512, height: 512, bytes: t.bytes });
    expect(r.bytes).toBeLessThanOrEqual(t.bytes);
    const qt = fractal.psnr(img, (await fractal.decode(t.code)).pixels!);
    const qr = fractal.psnr(img, (await fractal.decode(r.code)).pixels!);
    expect(qr - qt).toBeGreaterThan(0.3);
  });

  test('at 0.25 and 0.5 bits per pixel it beats JPEG (PIL, optimize=True, the best quality within the same bytes)', async () => {
    const img = Uint8Array.from(cam!);
    for (const bpp of [0.25, 0.5]) {
      const e = await fractal.encode(img, { width: 512, height: 512, bpp });
      const ours = fractal.psnr(img, (await fractal.decode(e.code)).pixels!);
      const jpeg = jpegPsnr(img, 512, 512, e.bytes);
      expect(ours).toBeGreaterThan(jpeg);
    }
  });

  test('the quadtree trades size for quality', async () => {
    const img = cam!;
    const fine = await fractal.encode(img, { width: 512, height: 512, tolerance: 6 });
    const coarse = await fractal.encode(img, { width: 512, height: 512, tolerance: 20 });
    const pf = fractal.psnr(img, (await fractal.decode(fine.code)).image);
    const pcq = fractal.psnr(img, (await fractal.decode(coarse.code)).image);
    expect(fine.bytes).toBeGreaterThan(coarse.bytes);
    expect(pf).toBeGreaterThan(pcq);
    expect(pf).toBeGreaterThan(32);
  });
});

/** A smooth 8-bit image w x h (gradients and a bump) with some texture. */
function photo(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed), out = new Uint8Array(w * h);
  const fx = 0.02 + 0.05 * r(), fy = 0.02 + 0.05 * r();
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out[y * w + x] = Math.round(127 + 90 * Math.sin(fx * x + 1) * Math.cos(fy * y) + 30 * Math.exp(-((x - w / 3) ** 2 + (y - h / 2) ** 2) / 200) + 6 * (r() - 0.5));
  return out;
}

describe('any image size', () => {
  test.each([
    [1, 1], [3, 5], [7, 2], [16, 16], [17, 33], [40, 40], [5, 200], [303, 384],
  ])('%i x %i decodes to its own size at every scale, clamped to the type', async (w, h) => {
    const img = photo(w, h, w * 1000 + h);
    const e = await fractal.encode(img, { width: w, height: h, tolerance: 2 });
    expect(fractal.codeInfo(e.code)).toMatchObject({ width: w, height: h, valueType: 'uint8', lo: 0, hi: 255 });
    for (const scale of [0.5, 1, 2, 4] as const) {
      const d = await fractal.decode(e.code, { scale });
      expect([d.width, d.height]).toEqual([Math.ceil(w * scale), Math.ceil(h * scale)]);
      expect(d.image.length).toBe(d.width * d.height);
      expect(d.pixels).toBeInstanceOf(Uint8Array);
      let lo = Infinity, hi = -Infinity;
      for (const v of d.image) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(255);
      if (scale === 1) expect(fractal.psnr(img, d.pixels!)).toBeGreaterThan(w * h >= 256 ? 30 : 35);
    }
  });

  test('the edges cost little: a 303 x 384 image takes at most 5% more bytes than its 288 x 384 part', async () => {
    const w = 303, h = 384, img = photo(w, h, 7);
    const part = new Uint8Array(288 * h);
    for (let y = 0; y < h; y++) part.set(img.subarray(y * w, y * w + 288), y * 288);
    const a = await fractal.encode(img, { width: w, height: h, tolerance: 3 });
    const b = await fractal.encode(part, { width: 288, height: h, tolerance: 3 });
    expect(a.bytes / b.bytes).toBeLessThan((1.05 * w) / 288);
  });
});

describe('rate control', () => {
  const w = 200, h = 136, img = photo(w, h, 3);
  test.each([0.2, 0.5, 1])('bpp %f is met within 3%%', async (bpp) => {
    const e = await fractal.encode(img, { width: w, height: h, bpp });
    expect(Math.abs(e.bitsPerPixel / bpp - 1)).toBeLessThanOrEqual(0.03);
    expect(e.lambda).toBeGreaterThanOrEqual(0);
    expect((await fractal.decode(e.code)).pixels!.length).toBe(w * h);
  });

  test('a byte budget is met within 3%, and more bytes give more PSNR', async () => {
    let last = 0;
    for (const bytes of [900, 1800, 3600]) {
      const e = await fractal.encode(img, { width: w, height: h, bytes });
      expect(Math.abs(e.bytes / bytes - 1)).toBeLessThanOrEqual(0.03);
      const q = fractal.psnr(img, (await fractal.decode(e.code)).pixels!);
      expect(q).toBeGreaterThan(last);
      last = q;
    }
  });

  test('a budget above the finest tree gives the finest tree; one below the coarsest is refused naming it', async () => {
    const fine = await fractal.encode(img, { width: w, height: h, tolerance: 0 });
    const big = await fractal.encode(img, { width: w, height: h, bytes: fine.bytes * 3 });
    expect(big.bytes).toBe(fine.bytes);
    const e = (await errorOf(() => fractal.encode(img, { width: w, height: h, bpp: 0.001 }))) as SemfieldError;
    expect(e.code).toBe('E_RANGE');
    expect(e.message).toMatch(/bpp = 0.001 asks for \d+ bytes, below the smallest code/);
  });
});

describe('value types, clamping and the peak of psnr', () => {
  test('a float field decodes inside its coded range at every scale', async () => {
    const phi = await field(64, 11);
    let lo = Infinity, hi = -Infinity;
    for (const v of phi) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const e = await fractal.encode(phi, { width: 64, height: 64, minBlock: 8, maxBlock: 8 });
    for (const scale of [0.5, 1, 2, 4] as const) {
      const d = await fractal.decode(e.code, { scale });
      expect(d.valueType).toBe('float32');
      expect(d.pixels).toBeUndefined();
      for (const v of d.image) {
        expect(v).toBeGreaterThanOrEqual(Math.fround(lo));
        expect(v).toBeLessThanOrEqual(Math.fround(hi));
      }
    }
  });

  test('16-bit images keep their type; Uint8ClampedArray counts as 8-bit', async () => {
    const img8 = photo(48, 32, 5), img16 = Uint16Array.from(img8, (v) => v * 257);
    const d16 = await fractal.decode((await fractal.encode(img16, { width: 48, height: 32, tolerance: 600 })).code);
    expect(d16.pixels).toBeInstanceOf(Uint16Array);
    expect(fractal.psnr(img16, d16.pixels!)).toBeGreaterThan(30);
    const e8 = await fractal.encode(Uint8ClampedArray.from(img8), { width: 48, height: 32 });
    expect(fractal.codeInfo(e8.code).valueType).toBe('uint8');
  });

  test('psnr takes its peak from the type of its first argument', () => {
    const a = Uint8Array.from([0, 10, 20, 30]), b = Uint8Array.from([1, 10, 20, 30]);
    const mse = 1 / 4;
    expect(fractal.psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / mse), 10);
    expect(fractal.psnr(Uint16Array.from(a), Uint16Array.from(b))).toBeCloseTo(10 * Math.log10((65535 * 65535) / mse), 10);
    expect(fractal.psnr(Float32Array.from(a), b)).toBeCloseTo(10 * Math.log10((255 * 255) / mse), 10);
    expect(fractal.psnr(Float32Array.from(a), Float32Array.from(b), 1)).toBeCloseTo(10 * Math.log10(1 / mse), 10);
    expect(fractal.psnr(a, a)).toBe(Infinity);
  });
});

describe('codes that are cut or corrupted', () => {
  let code: Uint8Array;
  beforeAll(async () => {
    code = (await fractal.encode(await field(32, 5), { width: 32, height: 32, tolerance: 0 })).code;
  });

  test('every truncation is refused with a SemfieldError', async () => {
    for (let n = 0; n < code.length; n++) {
      const e = await errorOf(() => fractal.decode(code.slice(0, n)));
      expect(e).toBeInstanceOf(SemfieldError);
      expect(['E_SHAPE', 'E_TYPE']).toContain((e as SemfieldError).code);
    }
    const e = await errorOf(() => fractal.decode(Uint8Array.from([...code, 0])));
    expect((e as SemfieldError).code).toBe('E_SHAPE');
  });

  test('random bit flips are refused (checksum), and so are re-signed codes with bad fields', async () => {
    const r = rng(9);
    for (let t = 0; t < 300; t++) {
      const bad = code.slice();
      bad[Math.floor(r() * bad.length)] ^= 1 << Math.floor(r() * 8);
      const e = await errorOf(() => fractal.decode(bad));
      expect(e).toBeInstanceOf(SemfieldError);
      expect(['E_SHAPE', 'E_TYPE', 'E_RANGE']).toContain((e as SemfieldError).code);
    }
    // Header fields made invalid, checksum recomputed: each is still refused.
    // (version, smallest block, largest block, domain step, width's top
    // byte, value type, a reserved byte, leaves, stream bytes)
    const edits: [number, number][] = [[4, 1], [5, 1], [6, 7], [7, 3], [11, 255], [24, 3], [25, 1], [28, 1], [32, 1]];
    for (const [at, v] of edits) {
      const bad = code.slice();
      bad[at] = v;
      const e = await errorOf(() => fractal.decode(resign(bad)));
      expect(e).toBeInstanceOf(SemfieldError);
    }
    // Every stream byte set to 0xff (or 0) under a valid checksum: the
    // decoded fields run out of range or the stream does not end where the
    // last leaf does.
    const ff = code.slice();
    ff.fill(0xff, 36);
    expect(await errorOf(() => fractal.decode(resign(ff)))).toBeInstanceOf(SemfieldError);
    const zero = code.slice();
    zero.fill(0, 40);
    expect(await errorOf(() => fractal.decode(resign(zero)))).toBeInstanceOf(SemfieldError);
    expect(await errorOf(() => Promise.resolve(fractal.codeInfo(code.slice(0, 20))))).toBeInstanceOf(SemfieldError);
  });
});

describe('codec errors', () => {
  const img = new Float32Array(64 * 64);
  test.each([
    ['an image of the wrong type', () => fractal.encode(new Int16Array(64 * 64) as never, { width: 64, height: 64 }), 'E_TYPE'],
    ['a tolerance and a budget together', () => fractal.encode(img, { width: 64, height: 64, tolerance: 1, bytes: 400 }), 'E_RANGE'],
    ['a budget of 0 bits per pixel', () => fractal.encode(img, { width: 64, height: 64, bpp: 0 }), 'E_RANGE'],
    ['a budget below the smallest code', () => fractal.encode(Float32Array.from(img, (_, i) => Math.sin(i)), { width: 64, height: 64, bytes: 20 }), 'E_RANGE'],
    ['psnr of arrays of two lengths', async () => fractal.psnr(new Uint8Array(4), new Uint8Array(5)), 'E_SHAPE'],
    ['psnr of a plain array', async () => fractal.psnr([1, 2] as never, new Uint8Array(2)), 'E_TYPE'],
    ['a wrong length', () => fractal.encode(img, { width: 64, height: 32 }), 'E_SHAPE'],
    ['a NaN', () => fractal.encode(Float32Array.from(img, (_, i) => (i === 7 ? NaN : 0)), { width: 64, height: 64 }), 'E_NONFINITE'],
    ['minBlock 6', () => fractal.encode(img, { width: 64, height: 64, minBlock: 6 }), 'E_RANGE'],
    ['a negative tolerance', () => fractal.encode(img, { width: 64, height: 64, tolerance: -1 }), 'E_RANGE'],
    ['values outside the given range', () => fractal.encode(Float32Array.from(img, () => 2), { width: 64, height: 64, range: [0, 1] }), 'E_RANGE'],
    ['scale 3', () => fractal.decode(new Uint8Array(40), { scale: 3 as never }), 'E_RANGE'],
    ['not a code', () => fractal.decode(new Uint8Array(40)), 'E_TYPE'],
    ['not bytes', () => fractal.decode(new Float32Array(40) as never), 'E_TYPE'],
  ])('%s', async (_n, call, code) => {
    const e = await errorOf(call);
    expect(e).toBeInstanceOf(SemfieldError);
    expect((e as SemfieldError).code).toBe(code);
  });

  test('a constant image codes and decodes to itself', async () => {
    const e = await fractal.encode(Float32Array.from(img, () => 3.5), { width: 64, height: 64 });
    const d = await fractal.decode(e.code);
    for (const v of d.image) expect(v).toBeCloseTo(3.5, 5);
  });

  test('encoding can be aborted', async () => {
    const ac = new AbortController();
    const p = fractal.encode(await field(256, 6), { width: 256, height: 256, search: 'exhaustive', signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    expect(((await errorOf(() => p)) as SemfieldError).code).toBe('E_ABORTED');
  });
});
