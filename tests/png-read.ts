/** Reads an 8-bit PNG (grey, RGB or RGBA, as encodePng and the charts write): its size, after checking every chunk's CRC and inflating the pixels. */
import * as zlib from 'node:zlib';

function crc32(buf: Buffer): number {
  let c = ~0 >>> 0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (0xedb88320 ^ (c >>> 1)) >>> 0 : c >>> 1;
  }
  return ~c >>> 0;
}

export function readPng(buf: Buffer): { width: number; height: number; pixels: Buffer } {
  if (buf.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') throw new Error('not a PNG');
  let at = 8, width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at), type = buf.toString('latin1', at + 4, at + 8);
    const body = buf.subarray(at + 8, at + 8 + len);
    if (crc32(buf.subarray(at + 4, at + 8 + len)) !== buf.readUInt32BE(at + 8 + len)) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') {
      (width = body.readUInt32BE(0)), (height = body.readUInt32BE(4));
      if (body[8] !== 8) throw new Error(`bit depth ${body[8]}`);
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[body[9]] ?? 0;
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const pixels = zlib.inflateSync(Buffer.concat(idat));
  if (!channels || pixels.length !== height * (1 + channels * width)) throw new Error(`pixel data of ${pixels.length} bytes for ${width} x ${height}`);
  return { width, height, pixels };
}
