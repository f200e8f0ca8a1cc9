/**
 * PNG output for fields and basins: RGB8 encoded by pngjs. Rows are written
 * top to bottom with y growing upwards, as a plot of the domain reads.
 * (Charts with axes, colour bars and labels are in chart.ts.)
 */
import { rgbPng } from './chart';
import { SemfieldError } from './errors';
import { describe, integer, invalid, typedOf } from './validate';

/** Checks an image's sides (1..65535, at most 2^28 pixels) and that `data` holds one value per pixel. */
function image<T extends ArrayBufferView>(op: string, name: string, data: unknown, type: new (...a: never[]) => T, nx: unknown, ny: unknown): { data: T; nx: number; ny: number } {
  const w = integer(op, 'nx', nx, 1, 65535), h = integer(op, 'ny', ny, 1, 65535);
  if (w * h > 2 ** 28) throw invalid('E_TOO_LARGE', op, 'nx x ny', `at most 2^28 pixels (got ${w} x ${h} = ${w * h})`);
  return { data: typedOf(op, name, data, type as never, w * h) as T, nx: w, ny: h };
}

/** Encodes an RGB image [height, width, 3] (row 0 at the top) as PNG. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (!(rgb instanceof Uint8Array)) throw invalid('E_TYPE', 'encodePng', 'rgb', 'a Uint8Array of width x height x 3 bytes', rgb);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535)
    throw new SemfieldError('E_RANGE', `encodePng: width and height must be whole numbers from 1 to 65535 (got ${describe(width)} x ${describe(height)})`);
  if (width * height > 2 ** 28) throw invalid('E_TOO_LARGE', 'encodePng', 'width x height', 'at most 2^28 pixels', width * height);
  if (rgb.length !== width * height * 3) throw invalid('E_SHAPE', 'encodePng', 'rgb', `${width} x ${height} x 3 = ${width * height * 3} bytes`, rgb);
  return rgbPng(rgb, width, height);
}

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
  ({ data: field, nx, ny } = image('fieldToRgb', 'field', field, Float32Array, nx, ny));
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
  ({ data: labels, nx, ny } = image('labelsToRgb', 'labels', labels, Int32Array, nx, ny));
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
