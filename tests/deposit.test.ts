/**
 * SPEC, Mesh, deposit / interpolate: cloud-in-cell conserves charge to 1e-6
 * relative on every boundary kind, interpolation is its adjoint, linear
 * fields are interpolated exactly, batches route points to their fields.
 */
import { Boundary, deposit, interpolate } from '../lib';
import { rng, sample, sum } from './helpers';

function points(count: number, dim: number, extent: number, seed: number): Float32Array {
  const r = rng(seed);
  const p = new Float32Array(count * dim);
  for (let i = 0; i < p.length; i++) p[i] = r() * extent;
  return p;
}

describe('deposit', () => {
  for (const dim of [2, 3] as const) {
    for (const bc of ['dirichlet', 'neumann', 'periodic'] as Boundary[]) {
      test(`${dim}D ${bc}: total charge conserved to 1e-6 relative`, async () => {
        const n = dim === 2 ? [40, 24] : [12, 10, 8];
        const h = 0.05;
        const P = 5000;
        const pos = points(P, dim, Math.min(...n) * h, 7 + dim);
        // include points exactly on the domain boundary
        pos[0] = 0;
        pos[1] = n[1] * h;
        const r = rng(3);
        const q = Float32Array.from({ length: P }, () => r() * 2 - 0.5);
        const rho = await deposit(pos, { n, h, boundary: bc }, { charges: q });
        const total = sum(Array.from(q, Number));
        const deposited = sum(rho) * h ** dim;
        expect(Math.abs(deposited - total) / sum(Array.from(q, Math.abs))).toBeLessThan(1e-6);
      });
    }
  }

  test('a point at a cell centre lands in that cell only', async () => {
    const h = 0.5;
    const rho = await deposit(Float32Array.from([2.25, 1.75]), { n: [8, 8], h }, { charges: Float32Array.from([3]) });
    const c = 3 * 8 + 4;
    expect(rho[c]).toBeCloseTo(3 / (h * h), 6);
    expect(sum(rho) - rho[c]).toBeCloseTo(0, 6);
  });

  test('periodic positions wrap around the domain', async () => {
    const g = { n: [16, 16], h: 1 / 16, boundary: 'periodic' as const };
    const a = await deposit(Float32Array.from([0.3, 0.7]), g);
    const b = await deposit(Float32Array.from([2.3, -1.3]), g);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 3);
  });

  test('deterministic: the same grid bit for bit on every run', async () => {
    const pos = points(20000, 2, 1, 11);
    const g = { n: [64, 64], h: 1 / 64 };
    const a = await deposit(pos, g);
    const b = await deposit(pos, g);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  test('batches: fieldOf routes each point to its field', async () => {
    const pos = Float32Array.from([0.25, 0.25, 0.75, 0.75, 0.5, 0.5]);
    const fieldOf = Int32Array.from([0, 1, 1]);
    const g = { n: [8, 8], h: 1 / 8 };
    const rho = await deposit(pos, g, { batch: 2, fieldOf });
    expect(sum(rho.subarray(0, 64)) / 64).toBeCloseTo(1, 6);
    expect(sum(rho.subarray(64)) / 64).toBeCloseTo(2, 6);
  });
});

describe('interpolate', () => {
  test('is the adjoint of deposit: <deposit(q), f> h^k = <q, interpolate(f)>', async () => {
    for (const bc of ['dirichlet', 'periodic', 'neumann'] as Boundary[]) {
      for (const dim of [2, 3]) {
        const n = dim === 2 ? [32, 20] : [10, 12, 8];
        const h = 0.1;
        const P = 3000;
        const pos = points(P, dim, Math.min(...n) * h, 21);
        const r = rng(5);
        const q = Float32Array.from({ length: P }, () => r() - 0.5);
        const cells = n.reduce((a, b) => a * b, 1);
        const f = Float32Array.from({ length: cells }, () => r() * 2 - 1);
        const g = { n, h, boundary: bc };
        const rho = await deposit(pos, g, { charges: q });
        const fi = await interpolate(f, pos, g);
        let lhs = 0, rhs = 0, scale = 0;
        for (let c = 0; c < cells; c++) lhs += rho[c] * f[c] * h ** dim;
        for (let i = 0; i < P; i++) {
          rhs += q[i] * fi[i];
          scale += Math.abs(q[i] * fi[i]);
        }
        expect(Math.abs(lhs - rhs) / scale).toBeLessThan(1e-6);
      }
    }
  });

  test('reproduces a linear field exactly between cell centres', async () => {
    const n = [20, 20], h = 0.1;
    const f = sample(n, h, (x, y) => 3 * x - 2 * y + 1);
    const pos = points(500, 2, 1.9, 4).map((v) => v + 0.05);
    const vals = await interpolate(f, pos, { n, h });
    for (let i = 0; i < 500; i++) expect(vals[i]).toBeCloseTo(3 * pos[2 * i] - 2 * pos[2 * i + 1] + 1, 4);
  });

  test('without fieldOf every point samples every field: [B, N]', async () => {
    const n = [4, 4];
    const f = new Float32Array(32);
    f.fill(1, 0, 16);
    f.fill(5, 16);
    const v = await interpolate(f, Float32Array.from([1, 1, 2, 3]), { n, h: 1 });
    expect(Array.from(v)).toEqual([1, 1, 5, 5]);
    const w = await interpolate(f, Float32Array.from([1, 1, 2, 3]), { n, h: 1 }, { fieldOf: Int32Array.from([1, 0]) });
    expect(Array.from(w)).toEqual([5, 1]);
  });
});
