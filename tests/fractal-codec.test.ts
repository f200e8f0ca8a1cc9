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
  const crc = crc32(out.subarray(36), crc32(out.subarray(0, 32)));
  new DataView(out.buffer).setUint32(32, crc, true);
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
    const edits: [number, number][] = [[4, 2], [5, 1], [6, 7], [7, 3], [8, 33], [24, 255], [28, 1]];
    for (const [at, v] of edits) {
      const bad = code.slice();
      bad[at] = v;
      const e = await errorOf(() => fractal.decode(resign(bad)));
      expect(e).toBeInstanceOf(SemfieldError);
    }
    // Every stream byte set to 0xff under a valid checksum: scale codes of 31
    // and domain indices past the lattice must be caught.
    const ff = code.slice();
    ff.fill(0xff, 36);
    expect(await errorOf(() => fractal.decode(resign(ff)))).toBeInstanceOf(SemfieldError);
    expect(await errorOf(() => Promise.resolve(fractal.codeInfo(code.slice(0, 20))))).toBeInstanceOf(SemfieldError);
  });
});

describe('codec errors', () => {
  const img = new Float32Array(64 * 64);
  test.each([
    ['a size not a multiple of maxBlock', () => fractal.encode(new Float32Array(40 * 40), { width: 40, height: 40 }), 'E_SHAPE'],
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
