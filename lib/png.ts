/**
 * PNG output for fields and basins, with no dependency: RGB8, one IDAT
 * compressed by node:zlib, CRC-32 per chunk. Rows are written top to bottom
 * with y growing upwards, as a plot of the domain reads.
 */
import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** Encodes an RGB image [height, width, 3] (row 0 at the top) as PNG. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`encodePng: rgb must hold ${width}x${height}x3 bytes`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A perceptually ordered dark-blue to yellow ramp (viridis-like control points).
const RAMP = [
  [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
];

function ramp(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(RAMP[i][c] + f * (RAMP[i + 1][c] - RAMP[i][c]))) as [number, number, number];
}

/** One 2D field [ny, nx] (x fastest) as RGB, scaled min..max, y upwards. */
export function fieldToRgb(field: Float32Array, nx: number, ny: number): Uint8Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < nx * ny; i++) {
    lo = Math.min(lo, field[i]);
    hi = Math.max(hi, field[i]);
  }
  const span = hi > lo ? hi - lo : 1;
  const out = new Uint8Array(nx * ny * 3);
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const [r, g, b] = ramp((field[y * nx + x] - lo) / span);
      const o = ((ny - 1 - y) * nx + x) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  return out;
}

/** Basin labels [ny, nx] as RGB: a distinct hue per label, darker on basin borders. */
export function labelsToRgb(labels: Int32Array, nx: number, ny: number): Uint8Array {
  const out = new Uint8Array(nx * ny * 3);
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const l = labels[y * nx + x];
      const hue = (l * 0.618033988749895) % 1;
      const edge = (x + 1 < nx && labels[y * nx + x + 1] !== l) || (y + 1 < ny && labels[(y + 1) * nx + x] !== l);
      const v = edge ? 0.35 : 0.9, s = 0.55;
      const k = (n: number) => (n + hue * 6) % 6;
      const f = (n: number) => v - v * s * Math.max(0, Math.min(k(n), 4 - k(n), 1));
      const o = ((ny - 1 - y) * nx + x) * 3;
      out[o] = Math.round(255 * f(5));
      out[o + 1] = Math.round(255 * f(3));
      out[o + 2] = Math.round(255 * f(1));
    }
  return out;
}
