/**
 * SPEC, Errors and limits: every argument of every operation, given a wrong
 * type, a wrong length, NaN or Infinity, a zero or negative size, or a size
 * past its limit, is refused with the right SemfieldError code; nothing
 * crashes, and the addon keeps working afterwards.
 */
import { SemfieldError, condense, curl, deposit, div, grad, interpolate, laplacian, potential, project } from '../lib';
import { native } from '../lib/native';
import { errorOf } from './helpers';

type Case = [string, () => Promise<unknown>, string];

const g = { n: [8, 8] };
const f64 = () => new Float32Array(64);
const nan = (n = 64, at = 5) => {
  const a = new Float32Array(n);
  a[at] = NaN;
  return a;
};
const inf = (n = 64, at = 7) => {
  const a = new Float32Array(n);
  a[at] = -Infinity;
  return a;
};
const P = Float32Array.from([0.5, 0.5, 0.25, 0.75]);

const cases: Case[] = [
  // grids, shared by every mesh operation
  ['grid not an object', () => potential(f64(), 'big' as never), 'E_TYPE'],
  ['grid.n not an array', () => potential(f64(), { n: 8 } as never), 'E_TYPE'],
  ['grid.n of length 1', () => potential(f64(), { n: [64] }), 'E_SHAPE'],
  ['grid.n zero', () => potential(f64(), { n: [0, 8] }), 'E_RANGE'],
  ['grid.n negative', () => potential(f64(), { n: [-8, -8] }), 'E_RANGE'],
  ['grid.n fractional', () => potential(f64(), { n: [8.5, 8] }), 'E_TYPE'],
  ['grid.n NaN', () => potential(f64(), { n: [NaN, 8] }), 'E_NONFINITE'],
  ['grid.n past 65536', () => potential(f64(), { n: [70000, 2] }), 'E_RANGE'],
  ['grid past 2^30 cells', () => potential(f64(), { n: [65536, 65536] }), 'E_TOO_LARGE'],
  ['grid.h zero', () => potential(f64(), { n: [8, 8], h: 0 }), 'E_RANGE'],
  ['grid.h negative', () => potential(f64(), { n: [8, 8], h: -1 }), 'E_RANGE'],
  ['grid.h Infinity', () => potential(f64(), { n: [8, 8], h: Infinity }), 'E_NONFINITE'],
  ['grid.boundary unknown', () => potential(f64(), { n: [8, 8], boundary: 'open' as never }), 'E_RANGE'],
  ['grid.boundary per axis, wrong count', () => potential(f64(), { n: [8, 8], boundary: ['periodic'] }), 'E_SHAPE'],
  ['grid unknown key', () => potential(f64(), { n: [8, 8], nx: 3 } as never), 'E_TYPE'],
  // potential
  ['potential rho not typed', () => potential([1, 2] as never, g), 'E_TYPE'],
  ['potential rho Float64Array', () => potential(new Float64Array(64) as never, g), 'E_TYPE'],
  ['potential rho wrong length', () => potential(new Float32Array(63), g), 'E_SHAPE'],
  ['potential rho empty', () => potential(new Float32Array(0), g), 'E_SHAPE'],
  ['potential rho NaN', () => potential(nan(), g), 'E_NONFINITE'],
  ['potential rho Infinity', () => potential(inf(), g), 'E_NONFINITE'],
  ['potential kappa negative', () => potential(f64(), g, { kappa: -1 }), 'E_RANGE'],
  ['potential kappa NaN', () => potential(f64(), g, { kappa: NaN }), 'E_NONFINITE'],
  ['potential kappa string', () => potential(f64(), g, { kappa: '1' as never }), 'E_TYPE'],
  ['potential tol zero', () => potential(f64(), g, { tol: 0 }), 'E_RANGE'],
  ['potential tol 1', () => potential(f64(), g, { tol: 1 }), 'E_RANGE'],
  ['potential maxCycles zero', () => potential(f64(), g, { maxCycles: 0 }), 'E_RANGE'],
  ['potential maxCycles huge', () => potential(f64(), g, { maxCycles: 1e9 }), 'E_RANGE'],
  ['potential unknown option', () => potential(f64(), g, { tolerance: 1e-3 } as never), 'E_TYPE'],
  ['potential options not object', () => potential(f64(), g, 5 as never), 'E_TYPE'],
  ['potential anchors.mask wrong type', () => potential(f64(), g, { anchors: { mask: new Int8Array(64) as never } }), 'E_TYPE'],
  ['potential anchors.mask wrong length', () => potential(f64(), g, { anchors: { mask: new Uint8Array(10) } }), 'E_SHAPE'],
  ['potential anchors.values wrong length', () => potential(f64(), g, { anchors: { mask: new Uint8Array(64), values: new Float32Array(3) } }), 'E_SHAPE'],
  ['potential anchors.values NaN', () => potential(f64(), g, { anchors: { mask: new Uint8Array(64), values: nan() } }), 'E_NONFINITE'],
  ['potential onProgress not a function', () => potential(f64(), g, { onProgress: 3 as never }), 'E_TYPE'],
  ['potential backend unknown', () => potential(f64(), g, { backend: 'tpu' as never }), 'E_RANGE'],
  ['potential device negative', () => potential(f64(), g, { device: -1 }), 'E_RANGE'],
  ['potential grid without factors of two', () => potential(new Float32Array(1021 * 1021), { n: [1021, 1021] }), 'E_RANGE'],
  ['potential signal not a signal', () => potential(f64(), g, { signal: {} as never }), 'E_TYPE'],
  // deposit
  ['deposit positions not typed', () => deposit([0.5, 0.5] as never, g), 'E_TYPE'],
  ['deposit positions odd length', () => deposit(new Float32Array(3), g), 'E_SHAPE'],
  ['deposit positions empty', () => deposit(new Float32Array(0), g), 'E_SHAPE'],
  ['deposit positions NaN', () => deposit(Float32Array.from([0.5, NaN]), g), 'E_NONFINITE'],
  ['deposit positions outside', () => deposit(Float32Array.from([0.5, 1.5]), g), 'E_RANGE'],
  ['deposit positions negative', () => deposit(Float32Array.from([-0.1, 0.5]), g), 'E_RANGE'],
  ['deposit charges wrong length', () => deposit(P, g, { charges: new Float32Array(3) }), 'E_SHAPE'],
  ['deposit charges Infinity', () => deposit(P, g, { charges: Float32Array.from([1, Infinity]) }), 'E_NONFINITE'],
  ['deposit batch zero', () => deposit(P, g, { batch: 0 }), 'E_RANGE'],
  ['deposit batch without fieldOf', () => deposit(P, g, { batch: 2 }), 'E_SHAPE'],
  ['deposit fieldOf out of range', () => deposit(P, g, { batch: 2, fieldOf: Int32Array.from([0, 2]) }), 'E_RANGE'],
  ['deposit fieldOf wrong type', () => deposit(P, g, { batch: 2, fieldOf: Float32Array.from([0, 1]) as never }), 'E_TYPE'],
  ['deposit batch past limit', () => deposit(P, { n: [4096, 4096] }, { batch: 1000, fieldOf: Int32Array.from([0, 1]) }), 'E_TOO_LARGE'],
  // interpolate
  ['interpolate field wrong length', () => interpolate(new Float32Array(65), P, g), 'E_SHAPE'],
  ['interpolate field NaN', () => interpolate(nan(), P, g), 'E_NONFINITE'],
  ['interpolate positions outside', () => interpolate(f64(), Float32Array.from([2, 0]), g), 'E_RANGE'],
  ['interpolate fieldOf wrong length', () => interpolate(f64(), P, g, { fieldOf: Int32Array.from([0]) }), 'E_SHAPE'],
  // operators
  ['grad input wrong length', () => grad(new Float32Array(60), g), 'E_SHAPE'],
  ['div needs dim components', () => div(f64(), g), 'E_SHAPE'],
  ['curl input NaN', () => curl(nan(128, 100), g), 'E_NONFINITE'],
  ['laplacian grid too small for one-sided stencil', () => laplacian(new Float32Array(9), { n: [3, 3] }), 'E_RANGE'],
  ['grad unknown option', () => grad(f64(), g, { order: 4 } as never), 'E_TYPE'],
  // condense
  ['condense field wrong type', () => condense(new Uint8Array(64) as never, g), 'E_TYPE'],
  ['condense field Infinity', () => condense(inf(), g), 'E_NONFINITE'],
  ['condense rho wrong length', () => condense(f64(), g, { rho: new Float32Array(5) }), 'E_SHAPE'],
  ['condense seek unknown', () => condense(f64(), g, { seek: 'saddle' as never }), 'E_RANGE'],
  // project
  ['project without options', () => project(new Float32Array(20), undefined as never), 'E_TYPE'],
  ['project d missing', () => project(new Float32Array(20), {} as never), 'E_TYPE'],
  ['project d zero', () => project(new Float32Array(20), { d: 0 }), 'E_RANGE'],
  ['project length not a multiple of d', () => project(new Float32Array(21), { d: 10 }), 'E_SHAPE'],
  ['project one row', () => project(new Float32Array(10), { d: 10 }), 'E_SHAPE'],
  ['project k > d', () => project(new Float32Array(20), { d: 2, k: 3 }), 'E_RANGE'],
  ['project k not the grid dimension', () => project(new Float32Array(40), { d: 4, k: 3, grid: g }), 'E_RANGE'],
  ['project embeddings NaN', () => project(nan(40, 3), { d: 4 }), 'E_NONFINITE'],
  ['project margin 0.5', () => project(new Float32Array(40), { d: 4, margin: 0.5 }), 'E_RANGE'],
];

describe('bad input is refused with the right code', () => {
  test.each(cases)('%s', async (_name, call, code) => {
    const err = await errorOf(call);
    expect(err).toBeInstanceOf(SemfieldError);
    expect((err as SemfieldError).code).toBe(code);
    expect((err as SemfieldError).message.length).toBeGreaterThan(10);
  });
});

describe('the native layer checks again on its own', () => {
  const a = native();
  const grid = { dim: 2, n: [8, 8], h: 0.125, bc: [1, 1] };
  const nativeCases: [string, () => unknown, string][] = [
    ['no arguments', () => a.potential(undefined as never), 'E_TYPE'],
    ['rho a plain array', () => a.potential({ grid, rho: [1, 2] }), 'E_TYPE'],
    ['rho wrong length', () => a.potential({ grid, rho: new Float32Array(3) }), 'E_SHAPE'],
    ['grid n of 1', () => a.potential({ grid: { ...grid, n: [1, 8] }, rho: new Float32Array(8) }), 'E_RANGE'],
    ['grid bc 7', () => a.potential({ grid: { ...grid, bc: [7, 1] }, rho: new Float32Array(64) }), 'E_RANGE'],
    ['grid h NaN', () => a.potential({ grid: { ...grid, h: NaN }, rho: new Float32Array(64) }), 'E_NONFINITE'],
    ['tol 2', () => a.potential({ grid, rho: new Float32Array(64), tol: 2 }), 'E_RANGE'],
    ['batch huge', () => a.potential({ grid: { ...grid, n: [65536, 16384] }, rho: new Float32Array(64), batch: 4 }), 'E_TOO_LARGE'],
    ['positions not a multiple of dim', () => a.deposit({ grid, positions: new Float32Array(3) }), 'E_SHAPE'],
    ['diff op unknown', () => a.diff({ grid, op: 'rot', input: new Float32Array(64) }), 'E_RANGE'],
    ['pca k > d', () => a.pca({ x: new Float32Array(20), n: 10, d: 2, k: 3 }), 'E_RANGE'],
    ['cancel not an Int32Array', () => a.potential({ grid, rho: new Float32Array(64), cancel: new Uint8Array(1) }), 'E_TYPE'],
  ];
  if (a.info().cudaDevices.length === 0)
    nativeCases.push(['backend cuda without a device', () => a.potential({ grid, rho: new Float32Array(64), backend: 'cuda' }), 'E_DEVICE']);
  test.each(nativeCases)('%s', async (_name, call, code) => {
    const err = (await errorOf(call)) as { code?: string } | undefined;
    expect(err?.code).toBe(code);
  });

  test('after all of that the addon still solves', async () => {
    const rho = new Float32Array(64);
    rho[27] = 1;
    const r = await potential(rho, g);
    expect(r.fields[0].converged).toBe(true);
  });
});

describe('a non-finite value is named by its first index', () => {
  // A large input is scanned in blocks by the bits of its values: the index
  // named is the first bad one, also where several blocks hold one.
  test.each([
    ['one bad value near the end', [1_048_575]],
    ['bad values in several blocks, the first at the end of a block', [786_431, 786_500, 1_000_000]],
    ['a bad value at the start of a block and one past it', [262_144, 900_000]],
  ])('%s', async (_name, at) => {
    const rho = new Float32Array(1 << 20);
    for (const i of at) rho[i] = i % 2 ? NaN : -Infinity;
    const err = (await errorOf(() => potential(rho, { n: [1024, 1024] }))) as SemfieldError;
    expect(err.code).toBe('E_NONFINITE');
    expect(err.message).toContain(`rho[${at[0]}]`);
  });
});

describe('potential names the first non-finite rho on every path of the solve', () => {
  // Without held cells rho is not scanned before the solve: its first check
  // (the residual norm, which holds every rho[i]) fails, and only then is rho
  // scanned for the index. With held cells it is scanned first.
  const bad = (n: number, at: number[]) => {
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.1));
    for (const i of at) a[i] = i % 2 ? NaN : Infinity;
    return a;
  };
  test.each([
    ['periodic 2D (singular)', 64 * 64, [4000], { n: [64, 64], boundary: 'periodic' as const }, {}],
    ['Dirichlet 2D, to the discretisation', 64 * 64, [17], { n: [64, 64] }, { tol: 'discretization' as const }],
    ['Neumann 2D with kappa', 64 * 64, [4095], { n: [64, 64], boundary: 'neumann' as const }, { kappa: 2 }],
    ['3D Dirichlet', 32 * 32 * 32, [20000, 30000], { n: [32, 32, 32] }, {}],
    ['a grid too small for a hierarchy', 4 * 4, [3], { n: [4, 4] }, {}],
    ['the third of 3 small fields (solved side by side)', 3 * 16 * 16, [2 * 256 + 9], { n: [16, 16] }, {}],
    ['the second of 2 large fields', 2 * 256 * 256, [65536 + 7000, 65536 + 8000], { n: [256, 256] }, {}],
    ['a held cell\'s rho', 64, [27], { n: [8, 8] }, { anchors: { mask: Uint8Array.from({ length: 64 }, (_, i) => +(i === 27)) } }],
  ])('%s', async (_name, n, at, grid, opts) => {
    const err = (await errorOf(() => potential(bad(n, at), grid, opts))) as SemfieldError;
    expect(err.code).toBe('E_NONFINITE');
    expect(err.message).toContain(`rho[${at[0]}] is not finite`);
  });

  test('finite values whose solve overflows fp32 fail as a non-finite residual, naming no rho', async () => {
    const rho = Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 2 ? 3e38 : -3e38));
    const err = (await errorOf(() => potential(rho, { n: [64, 64] }))) as SemfieldError;
    expect(err.code).toBe('E_NONFINITE');
    expect(err.message).toBe('potential: the residual became non-finite');
  });
});

describe('refused calls leave nothing behind', () => {
  test('a process making thousands of refused and accepted calls exits cleanly', () => {
    // Refused calls must not leave native state behind (a worker whose
    // construction failed once left a thread-safe function to be finalised
    // into freed memory; now every check runs before a worker exists).
    const root = require('node:path').resolve(__dirname, '..');
    const script = `
      const a = require('node-gyp-build')(${JSON.stringify(root)});
      const grid = { dim: 2, n: [8, 8], h: 0.125, bc: [1, 1] };
      (async () => {
        for (let i = 0; i < 2000; i++) {
          try { a.potential({ grid, rho: new Float32Array(3), onProgress: () => {} }); } catch (e) { if (e.code !== 'E_SHAPE') throw e; }
          try { a.deposit({ grid, positions: new Float32Array(3) }); } catch (e) { if (e.code !== 'E_SHAPE') throw e; }
          if (i % 100 === 0) await a.potential({ grid, rho: new Float32Array(64), onProgress: () => {} });
        }
        console.log('ok');
      })().catch((e) => { console.error(e); process.exit(2); });`;
    const r = require('node:child_process').spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
    expect(r.status).toBe(0);
  });
});
