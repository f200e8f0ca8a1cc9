/**
 * SPEC, Mesh, condense: the basins of a sum of wells are found with their
 * minima at the well centres and their masses; ties break deterministically.
 */
import { condense, deposit, potential } from '../lib';
import { sample, sum } from './helpers';

const wells = [
  { x: 0.2531, y: 0.3047, depth: 1.0 },
  { x: 0.7012, y: 0.2458, depth: 0.8 },
  { x: 0.4961, y: 0.7519, depth: 1.2 },
];

function wellField(n: number): Float32Array {
  return sample([n, n], 1 / n, (x, y) => -wells.reduce((s, w) => s + w.depth * Math.exp(-((x - w.x) ** 2 + (y - w.y) ** 2) / 0.01), 0));
}

describe('condense on the mesh', () => {
  test('three gaussian wells: three strict minima at the centres, basins split by the ridges', async () => {
    const n = 128, h = 1 / n;
    const phi = wellField(n);
    const rho = new Float32Array(n * n).fill(1);
    const r = await condense(phi, { n: [n, n] }, { rho });
    const basins = r.fields[0];
    expect(basins).toHaveLength(3);
    // ordered deepest first: the 1.2 well, then 1.0, then 0.8
    const order = [2, 0, 1];
    basins.forEach((b, i) => {
      const w = wells[order[i]];
      expect(b.strict).toBe(true);
      expect(Math.abs(b.position[0] - w.x)).toBeLessThanOrEqual(h);
      expect(Math.abs(b.position[1] - w.y)).toBeLessThanOrEqual(h);
      expect(b.value).toBeCloseTo(-w.depth, 2);
    });
    // every cell belongs to one basin; masses add up to the total
    expect(sum(basins.map((b) => b.cells))).toBe(n * n);
    expect(sum(basins.map((b) => b.mass))).toBeCloseTo(1, 6);
    // a cell next to each centre drains into that centre's basin
    for (let i = 0; i < 3; i++) {
      const c = basins[i].cell + 1;
      expect(r.labels[c]).toBe(i);
    }
    // cells near a well centre belong to it; the far corner of the bottom left
    // well's quadrant too
    expect(r.labels[0]).toBe(1);
  });

  test('seek max condenses onto the peaks of -phi', async () => {
    const n = 64;
    const phi = wellField(n).map((v) => -v);
    const r = await condense(phi, { n: [n, n] }, { seek: 'max' });
    expect(r.fields[0]).toHaveLength(3);
    expect(r.fields[0][0].value).toBeCloseTo(1.2, 1);
    expect(r.fields[0][0].value).toBe(Math.max(...phi));
  });

  test('plateaus drain to their lowest-index cell; a flat field is one basin', async () => {
    const r = await condense(new Float32Array(64), { n: [8, 8] });
    expect(r.fields[0]).toHaveLength(1);
    expect(r.fields[0][0].cell).toBe(0);
    expect(r.fields[0][0].strict).toBe(false);
    expect(Array.from(new Set(r.labels))).toEqual([0]);
  });

  test('periodic wrap joins basins across the boundary; 3D works', async () => {
    const n = 32;
    const f = sample([n, n], 1 / n, (x, y) => -Math.exp(-(Math.min(x, 1 - x) ** 2 + (y - 0.5) ** 2) / 0.01));
    const per = await condense(f, { n: [n, n], boundary: 'periodic' });
    const dir = await condense(f, { n: [n, n], boundary: 'dirichlet' });
    expect(per.fields[0]).toHaveLength(1);
    expect(dir.fields[0].length).toBe(2);
    const g3 = sample([16, 16, 16], 1 / 16, (x, y, z) => (x - 0.3) ** 2 + (y - 0.6) ** 2 + (z - 0.5) ** 2);
    const r3 = await condense(g3, { n: [16, 16, 16] });
    expect(r3.fields[0]).toHaveLength(1);
    expect(r3.fields[0][0].position.map((v) => Math.round(v * 32) / 32)).toEqual([0.28125, 0.59375, 0.46875]);
  });

  test('concepts as charges: clusters of points condense into one basin each', async () => {
    const n = 128, h = 1 / n;
    const centres = [[0.3, 0.3], [0.7, 0.4], [0.45, 0.75]];
    const pts: number[] = [];
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (const [cx, cy] of centres)
      for (let i = 0; i < 200; i++) pts.push(cx + (rnd() - 0.5) * 0.08, cy + (rnd() - 0.5) * 0.08);
    const pos = Float32Array.from(pts);
    const rho = await deposit(pos, { n: [n, n], h });
    const { phi } = await potential(rho, { n: [n, n], h }, { kappa: 10 });
    const r = await condense(phi, { n: [n, n], h }, { seek: 'max', rho });
    const big = r.fields[0].filter((b) => b.mass > 1);
    expect(big).toHaveLength(3);
    expect(sum(big.map((b) => b.mass))).toBeCloseTo(600, 2);
    for (const b of big) expect(b.mass).toBeCloseTo(200, 0);
  });
});
