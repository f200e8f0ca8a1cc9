/**
 * SPEC, Mesh, operators: grad, div, curl (2D scalar, 3D vector) and the
 * laplacian are second order everywhere, boundaries included; the identities
 * curl grad = 0 and div curl = 0 hold to rounding on periodic grids.
 */
import { Boundary, curl, div, grad, laplacian } from '../lib';
import { maxAbs, maxAbsDiff, sample } from './helpers';

const PI = Math.PI;

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Error of each operator at n and 2n; the ratio must be about 4.
async function ratio(dim: 2 | 3, bc: Boundary, run: (n: number, h: number) => Promise<number>) {
  const n = dim === 2 ? 32 : 24;
  const e1 = await run(n, 1 / n);
  const e2 = await run(2 * n, 1 / (2 * n));
  return e1 / e2;
}

const f = (x: number, y: number, z: number) => Math.sin(2 * PI * x) * Math.cos(2 * PI * y) * (1 + 0.5 * Math.sin(2 * PI * z));

describe('second order, interior and boundary', () => {
  for (const bc of ['periodic', 'dirichlet', 'neumann'] as Boundary[]) {
    for (const dim of [2, 3] as const) {
      const size = (n: number) => (dim === 2 ? [n, n] : [n, n, n]);
      const fz = (x: number, y: number, z: number) => f(x, y, dim === 3 ? z : 0.25);

      test(`${dim}D ${bc} grad`, async () => {
        const r = await ratio(dim, bc, async (n, h) => {
          const out = await grad(sample(size(n), h, fz), { n: size(n), boundary: bc });
          const ex = [
            sample(size(n), h, (x, y, z) => 2 * PI * Math.cos(2 * PI * x) * Math.cos(2 * PI * y) * (1 + 0.5 * Math.sin(2 * PI * (dim === 3 ? z : 0.25)))),
            sample(size(n), h, (x, y, z) => -2 * PI * Math.sin(2 * PI * x) * Math.sin(2 * PI * y) * (1 + 0.5 * Math.sin(2 * PI * (dim === 3 ? z : 0.25)))),
          ];
          if (dim === 3) ex.push(sample(size(n), h, (x, y, z) => Math.sin(2 * PI * x) * Math.cos(2 * PI * y) * PI * Math.cos(2 * PI * z)));
          return maxAbsDiff(out, concat(...ex));
        });
        expect(r).toBeGreaterThan(3.5);
        expect(r).toBeLessThan(4.6);
      });

      test(`${dim}D ${bc} laplacian`, async () => {
        const r = await ratio(dim, bc, async (n, h) => {
          const out = await laplacian(sample(size(n), h, fz), { n: size(n), boundary: bc });
          const ex = sample(size(n), h, (x, y, z) => {
            const zz = dim === 3 ? z : 0.25;
            const base = -8 * PI * PI * Math.sin(2 * PI * x) * Math.cos(2 * PI * y) * (1 + 0.5 * Math.sin(2 * PI * zz));
            return dim === 3 ? base - Math.sin(2 * PI * x) * Math.cos(2 * PI * y) * 2 * PI * PI * Math.sin(2 * PI * z) : base;
          });
          return maxAbsDiff(out, ex);
        });
        expect(r).toBeGreaterThan(3.5);
        expect(r).toBeLessThan(4.6);
      });
    }

    test(`2D ${bc} div and curl of (sin x cos y, x y^2)`, async () => {
      for (const op of ['div', 'curl'] as const) {
        const r = await ratio(2, bc, async (n, h) => {
          const v = concat(sample([n, n], h, (x, y) => Math.sin(2 * PI * x) * Math.cos(2 * PI * y)), sample([n, n], h, (x, y) => Math.cos(2 * PI * x) * Math.sin(4 * PI * y)));
          const out = await (op === 'div' ? div : curl)(v, { n: [n, n], boundary: bc });
          const ex = sample([n, n], h, (x, y) =>
            op === 'div'
              ? 2 * PI * Math.cos(2 * PI * x) * Math.cos(2 * PI * y) + 4 * PI * Math.cos(2 * PI * x) * Math.cos(4 * PI * y)
              : -2 * PI * Math.sin(2 * PI * x) * Math.sin(4 * PI * y) + 2 * PI * Math.sin(2 * PI * x) * Math.sin(2 * PI * y),
          );
          return maxAbsDiff(out, ex);
        });
        expect(r).toBeGreaterThan(3.5);
        expect(r).toBeLessThan(4.6);
      }
    });
  }

  test('3D curl of (y z, sin x, x^2) is (-1 ... ) to second order', async () => {
    const r = await ratio(3, 'dirichlet', async (n, h) => {
      const size = [n, n, n];
      const v = concat(sample(size, h, (x, y, z) => Math.sin(PI * y) * z), sample(size, h, (x) => Math.sin(PI * x)), sample(size, h, (x, y) => x * x * Math.cos(PI * y)));
      const out = await curl(v, { n: size });
      const ex = concat(
        sample(size, h, (x, y) => -PI * x * x * Math.sin(PI * y)),
        sample(size, h, (x, y) => Math.sin(PI * y) - 2 * x * Math.cos(PI * y)),
        sample(size, h, (x, y, z) => PI * Math.cos(PI * x) - PI * Math.cos(PI * y) * z),
      );
      return maxAbsDiff(out, ex);
    });
    expect(r).toBeGreaterThan(3.5);
    expect(r).toBeLessThan(4.6);
  });
});

describe('identities on periodic grids', () => {
  test('curl grad u = 0 (2D) and div curl v = 0 (3D) to rounding', async () => {
    const n = 32, h = 1 / n;
    const g2 = { n: [n, n], boundary: 'periodic' as const };
    const u = sample([n, n], h, (x, y) => Math.sin(2 * PI * x) * Math.cos(4 * PI * y));
    const cg = await curl(await grad(u, g2), g2);
    expect(maxAbs(cg)).toBeLessThan(1e-3);
    const g3 = { n: [16, 16, 16], boundary: 'periodic' as const };
    const s = [16, 16, 16];
    const v = concat(sample(s, 1 / 16, (x, y, z) => Math.sin(2 * PI * y) * Math.cos(2 * PI * z)), sample(s, 1 / 16, (x, y, z) => Math.sin(2 * PI * z + x)), sample(s, 1 / 16, (x) => Math.cos(2 * PI * x)));
    expect(maxAbs(await div(await curl(v, g3), g3))).toBeLessThan(1e-3);
  });

  test('batched fields are independent', async () => {
    const n = 16, h = 1 / n;
    const a = sample([n, n], h, (x) => x * x), b = sample([n, n], h, (x, y) => y * y * y);
    const both = await laplacian(concat(a, b), { n: [n, n] });
    const la = await laplacian(a, { n: [n, n] });
    expect(Array.from(both.subarray(0, n * n))).toEqual(Array.from(la));
    for (let i = n * n; i < 2 * n * n; i++) {
      const y = (Math.floor((i - n * n) / n) + 0.5) * h;
      expect(both[i]).toBeCloseTo(6 * y, 3);
    }
  });
});
