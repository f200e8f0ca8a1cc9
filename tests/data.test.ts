/** The bundled vocabulary and the PNG writer the demo uses. */
import { PNG } from 'pngjs';
import { encodePng, fieldToRgb, labelsToRgb, loadVocabulary } from '../lib';
import { decodeVocabulary } from '../lib/vocab';

describe('bundled vocabulary', () => {
  const v = loadVocabulary();
  test('20,000 words of 100 dimensions, most frequent first', () => {
    expect(v.n).toBe(20000);
    expect(v.d).toBe(100);
    expect(v.words[0]).toBe('the');
    expect(v.indexOf('king')).toBeLessThan(2000);
    expect(v.vectors.every(Number.isFinite)).toBe(true);
  });

  test('related words are closer than unrelated ones', () => {
    const cos = (a: string, b: string) => {
      const x = v.rows([a, b]);
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < v.d; i++) {
        d += x[i] * x[v.d + i];
        na += x[i] ** 2;
        nb += x[v.d + i] ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    expect(cos('king', 'queen')).toBeGreaterThan(cos('king', 'banana') + 0.3);
    expect(cos('paris', 'france')).toBeGreaterThan(cos('paris', 'guitar') + 0.3);
  });

  test('unknown words and corrupt files are errors', () => {
    expect(() => v.rows(['qwzxv'])).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
    expect(() => decodeVocabulary(Buffer.from('SFVOCAB1'))).toThrow(expect.objectContaining({ code: 'E_TYPE' }));
    const b = Buffer.alloc(30);
    b.write('SFVOCAB1');
    b.writeUInt32LE(1000, 8);
    b.writeUInt32LE(100, 12);
    expect(() => decodeVocabulary(b)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});

describe('PNG', () => {
  test('a field image decodes to its size, y growing upwards (read back by pngjs)', () => {
    const nx = 5, ny = 3;
    const f = new Float32Array(nx * ny);
    f[0] = 1; // x = 0, y = 0: bottom left
    const png = encodePng(fieldToRgb(f, nx, ny), nx, ny);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const img = PNG.sync.read(png);
    expect([img.width, img.height]).toEqual([nx, ny]);
    const bottomLeft = img.data.subarray(4 * (2 * nx), 4 * (2 * nx) + 3); // RGBA as pngjs reads it
    expect(Array.from(bottomLeft)).toEqual([253, 231, 37]); // top of the ramp
  });

  test('sizes are checked before any work: near 2^31 pixels is refused at once', () => {
    expect(() => fieldToRgb(new Float32Array(4), 65535, 32768)).toThrow(/fieldToRgb: nx x ny must be at most 2\^28 pixels \(got 65535 x 32768 = 2147450880\)/);
    expect(() => labelsToRgb(new Int32Array(4), 2 ** 31, 1)).toThrow(/labelsToRgb: nx must be/);
    expect(() => fieldToRgb(new Float32Array(4), 3, 3)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => labelsToRgb(new Float32Array(4) as never, 2, 2)).toThrow(expect.objectContaining({ code: 'E_TYPE' }));
  });

  test('bad images are coded errors naming the argument', () => {
    expect(() => encodePng(new Uint8Array(5), 1, 1)).toThrow(/encodePng: rgb must be 1 x 1 x 3 = 3 bytes/);
    expect(() => encodePng(new Uint8Array(3), 0, 1)).toThrow(/encodePng: width and height must be whole numbers/);
    expect(() => encodePng([1, 2, 3] as unknown as Uint8Array, 1, 1)).toThrow(/E_TYPE|must be a Uint8Array/);
  });

  test('labels get distinct colours', () => {
    const rgb = labelsToRgb(Int32Array.from([0, 0, 1, 1]), 2, 2);
    expect(Array.from(rgb.subarray(0, 3))).not.toEqual(Array.from(rgb.subarray(6, 9)));
  });
});
