/**
 * Hostile input, one case per defect found by attacking the package: each
 * error is a SemfieldError with a code and a message that names the caller's
 * own argument and prints its numbers in full; a C++ exception of any kind
 * never leaves the addon; the addon renices only the threads it owns.
 * (The generic fuzzing of every export is tests/fuzz.test.ts.)
 */
import * as fs from 'node:fs';
import {
  SemfieldError, cellCentre, chartPng, chartSvg, deposit, encodePng, fieldChart, fractal, interiorPeaks, lineChart, linePlot, loadVocabulary,
  normalizeGrid, points, potential, projectionAxes,
} from '../lib';
import { native } from '../lib/native';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SemfieldError) return `${e.code} ${e.message}`;
    return `not coded: ${String(e)}`;
  }
  return 'ok';
}
async function codeOfAsync(p: () => Promise<unknown>): Promise<string> {
  return p().then(
    () => 'ok',
    (e) => (e instanceof SemfieldError ? `${e.code} ${e.message}` : `not coded: ${String(e)}`),
  );
}

describe('grids and cells as public functions', () => {
  test('normalizeGrid takes the spec alone and names itself', () => {
    expect(normalizeGrid({ n: [4, 2], boundary: 'periodic' })).toMatchObject({ dim: 2, n: [4, 2], h: 0.25, cells: 8 });
    expect(codeOf(() => normalizeGrid(null as never))).toMatch(/^E_TYPE normalizeGrid: grid must be an object/);
    expect(codeOf(() => normalizeGrid(Symbol('g') as never))).toMatch(/^E_TYPE .*\(got a symbol\)/);
    expect(codeOf(() => normalizeGrid({ n: [4, Symbol('y')] } as never))).toMatch(/^E_TYPE normalizeGrid: grid\.n\[1\]/);
  });
  test('cellCentre checks its grid and its cell index', () => {
    expect(cellCentre({ n: [4, 4] }, 5)).toEqual([0.375, 0.375]);
    expect(cellCentre(normalizeGrid({ n: [4, 4, 2] }), 17)).toEqual([0.375, 0.125, 0.375]);
    expect(codeOf(() => cellCentre(undefined as never, 0))).toMatch(/^E_TYPE cellCentre: grid/);
    expect(codeOf(() => cellCentre({ n: [4, 4] }, 16))).toMatch(/^E_RANGE cellCentre: cell must be in \[0, 15\] \(got 16\)/);
    expect(codeOf(() => cellCentre({ n: [4, 4] }, null as never))).toMatch(/^E_TYPE cellCentre: cell/);
  });
});

describe('fractal helpers', () => {
  test('fitLine checks its arrays and refuses a fit with no slope', () => {
    expect(fractal.fitLine([1, 2, 3], [2, 4, 6], [1, 1, 1]).slope).toBeCloseTo(2, 12);
    expect(codeOf(() => fractal.fitLine(null as never, [1], [1]))).toMatch(/^E_TYPE fractal\.fitLine: x must be an array/);
    expect(codeOf(() => fractal.fitLine([1, 2], [1], [1, 1]))).toMatch(/^E_SHAPE fractal\.fitLine: y must be of length 2/);
    expect(codeOf(() => fractal.fitLine([1, Symbol('x') as never], [1, 2], [1, 1]))).toMatch(/^E_TYPE fractal\.fitLine: x\[1\] must be a number \(got a symbol\)/);
    expect(codeOf(() => fractal.fitLine([3, 3, 3], [1, 2, 3], [1, 1, 1]))).toMatch(/^E_RANGE fractal\.fitLine: x must be spread/);
    expect(codeOf(() => fractal.fitLine([1, 2, 3], [1, 2, 3], [1, 0, 0]))).toMatch(/^E_RANGE fractal\.fitLine: used must be non-zero at 2 points at least \(got 1\)/);
    expect(codeOf(() => fractal.fitLine([1, 2, NaN], [1, 2, 3], [1, 1, 1]))).toMatch(/^E_NONFINITE fractal\.fitLine: x\[2\]/);
  });
  test('packIfs takes the IFS alone and names itself', () => {
    expect(fractal.packIfs(fractal.presets.sierpinski()).m).toBe(3);
    expect(codeOf(() => fractal.packIfs(null as never))).toMatch(/^E_TYPE fractal\.packIfs: ifs must be an object/);
  });
});

describe('files and pictures', () => {
  test('loadVocabulary: a bad path is a coded error naming it', () => {
    expect(codeOf(() => loadVocabulary(null as never))).toMatch(/^E_TYPE loadVocabulary: file must be a path/);
    expect(codeOf(() => loadVocabulary(Symbol('f') as never))).toMatch(/^E_TYPE loadVocabulary: file/);
    expect(codeOf(() => loadVocabulary('/nonexistent/vocab.bin'))).toMatch(/^E_RANGE loadVocabulary: cannot read file "\/nonexistent\/vocab\.bin" \(ENOENT\)/);
    expect(codeOf(() => loadVocabulary('/'))).toMatch(/^E_TYPE loadVocabulary: file must be a file/);
    const junk = `${fs.mkdtempSync('/tmp/sf-')}/junk.bin`;
    fs.writeFileSync(junk, 'not a vocabulary');
    expect(codeOf(() => loadVocabulary(junk))).toMatch(/^E_TYPE loadVocabulary: .* is not a semfield vocabulary file/);
  });
  test('encodePng prints any width, even a symbol', () => {
    expect(codeOf(() => encodePng(new Uint8Array(3), Symbol('w') as never, 1))).toMatch(/^E_RANGE encodePng: width and height must be .* \(got a symbol x 1\)/);
  });
  test('a line plot of extreme values (1e20, +-1e308, steps of 1e-300) draws a PNG at once', async () => {
    const t0 = performance.now();
    for (const y of [[0, 1e20, 2], [1e308, -1e308, 1e308], [1, 1, 1]]) {
      const png = await linePlot([{ name: 'a', x: [0, 1e-300, 2e-300], y }], { xLabel: 'x', yLabel: 'y', width: 120, height: 80 });
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  test('charts: every option is checked before drawing', async () => {
    expect(codeOf(() => interiorPeaks([1, Symbol('p') as never, 0]))).toMatch(/^E_TYPE interiorPeaks: y\[1\] must be a number/);
    expect(codeOf(() => projectionAxes({ scale: 1, offset: [0] } as never))).toMatch(/^E_TYPE projectionAxes: transform\.explainedRatio/);
    expect(codeOf(() => projectionAxes({ scale: 0, offset: [0, 0], explainedRatio: [0.5, 0.5] }))).toMatch(/^E_RANGE projectionAxes: transform\.scale/);
    const field = new Float32Array(4);
    expect(codeOf(() => fieldChart({ field, nx: 2, ny: 2, scheme: 7 as never }))).toMatch(/^E_TYPE fieldChart: scheme must be a string/);
    expect(codeOf(() => fieldChart({ field, nx: 2, ny: 2, scheme: 'nope' }))).toMatch(/^E_RANGE fieldChart: scheme must be the name of a continuous colour scheme/);
    expect(codeOf(() => fieldChart({ field, nx: 2, ny: 2, concepts: [{ x: 0.5, y: Symbol('y') as never, word: 'a' }] }))).toMatch(/^E_TYPE fieldChart: concepts\[0\]\.y/);
    expect(codeOf(() => fieldChart({ field, nx: 2, ny: 2, domain: [1, 1] }))).toMatch(/^E_RANGE fieldChart: domain/);
    expect(codeOf(() => fieldChart({ field, nx: 2, ny: 2, colour: true } as never))).toMatch(/^E_TYPE fieldChart: unknown option 'colour'/);
    expect(codeOf(() => lineChart([{ name: 'a', x: [1, 2], y: [1, Symbol('y') as never] }], { xLabel: 'x', yLabel: 'y' }))).toMatch(/^E_TYPE lineChart: series\[0\]\.y\[1\]/);
    expect(codeOf(() => lineChart([{ name: 'a', x: [1], y: [1] }, { name: 'a', x: [1], y: [1] }], { xLabel: 'x', yLabel: 'y' }))).toMatch(/^E_RANGE lineChart: series\[1\]\.name/);
    expect(codeOf(() => lineChart([{ name: 'a', x: [1], y: [1] }], { xLabel: Symbol('x') as never, yLabel: 'y' }))).toMatch(/^E_TYPE lineChart: xLabel must be a string/);
    expect(await codeOfAsync(() => chartSvg({ data: { values: [] } }))).toMatch(/^E_RANGE chartSvg: spec is not a specification vega-lite can draw/);
    expect(await codeOfAsync(() => chartSvg(null as never))).toMatch(/^E_TYPE chartSvg: spec/);
    const spec = { mark: 'point', width: 20000, height: 20, data: { values: [{ a: 1 }] }, encoding: { x: { field: 'a', type: 'quantitative' } } };
    expect(await codeOfAsync(() => chartSvg(spec))).toMatch(/^E_TOO_LARGE chartSvg: spec must be a chart of at most 8192 x 8192 pixels/);
    expect(await codeOfAsync(() => chartPng({ ...spec, width: 4000, height: 4000 }, 4))).toMatch(/^E_TOO_LARGE chartPng: scale/);
    expect(await codeOfAsync(() => chartPng({ ...spec, width: 40 }, Infinity))).toMatch(/^E_NONFINITE chartPng: scale/);
  });
});

describe('messages name the caller\'s own argument, numbers in full', () => {
  const x = Float32Array.from([0, 0, 1, 1]), y = Float32Array.from([0, 1, 1, 0]);
  test('a negative weight of either set is named as the option that holds it', async () => {
    expect(await codeOfAsync(() => points.energyDistance(x, y, { d: 2, wx: Float32Array.from([1, -1]) }))).toMatch(/^E_RANGE points\.energyDistance: wx\[1\] must be non-negative .*\(got -1\)/);
    expect(await codeOfAsync(() => points.mmd(x, y, { d: 2, wy: Float32Array.from([NaN, 1]), kernel: { kind: 'gaussian', sigma: 1 } }))).toMatch(/^E_NONFINITE points\.mmd: wy\[0\]/);
    expect(await codeOfAsync(() => points.distanceMatrix(x, Int32Array.from([0, 1, 2]), { d: 2, weights: Float32Array.from([1, -2]) }))).toMatch(/^E_RANGE points\.distanceMatrix: weights\[1\]/);
  });
  test('a position just outside the domain prints its every digit', async () => {
    const m = await codeOfAsync(() => deposit(Float32Array.from([1.0000001, 0.5]), { n: [8, 8] }));
    expect(m).toMatch(/^E_RANGE deposit: positions\[0\] = 1\.0000001192092896 lies outside the domain \[0, 1\]/);
    const m2 = await codeOfAsync(() => deposit(Float32Array.from([0.5, -1e-9]), { n: [8, 8] }));
    expect(m2).toMatch(/positions\[1\] = -9\.999999717180685e-10 lies outside/);
  });
  test('a kernel parameter past the float range is E_RANGE, never an undefined cast', async () => {
    const q = new Float32Array(6), v = new Float32Array(2);
    expect(await codeOfAsync(() => points.attention(q, q, v, { d: 3, kernel: { kind: 'gaussian', sigma: 1e-300 } }))).toMatch(/^E_RANGE/);
  });
});

describe('the native boundary', () => {
  afterEach(() => native()._setFault({ kind: 'none' }));
  test('a std::system_error (a thread that cannot start) is E_DEVICE, synchronously and asynchronously, and the process lives on', async () => {
    const a = new Float32Array(1 << 16), b = new Float32Array(1 << 16), c = new Float32Array(1 << 16);
    native()._setFault({ kind: 'system' });
    let err: unknown;
    try {
      native().triad({ a, b, c, s: 2, backend: 'cpu' });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('E_DEVICE');
    expect(String((err as Error).message)).toMatch(/the system refused a resource/);
    native()._setFault({ kind: 'system' });
    const m = await codeOfAsync(() => potential(new Float32Array(256 * 256), { n: [256, 256] }));
    expect(m).toMatch(/^E_DEVICE potential: the system refused a resource/);
    await expect(potential(new Float32Array(64 * 64), { n: [64, 64] })).resolves.toBeDefined();
  });

  (process.platform === 'linux' ? test : test.skip)('only the addon\'s own pool threads are reniced; libuv\'s shared threads are left alone', async () => {
    // Work on every libuv thread at once (4 by default), then read each thread's nice value.
    const f = Float32Array.from({ length: 128 * 128 }, (_, i) => Math.sin(i));
    await Promise.all(Array.from({ length: 8 }, () => potential(f, { n: [128, 128] })));
    const threads = fs.readdirSync('/proc/self/task').map((tid) => {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      return { name, nice };
    });
    const base = Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[16]);
    const reniced = threads.filter((t) => t.nice !== base);
    expect(reniced.map((t) => t.name).filter((n) => n !== 'semfield-pool')).toEqual([]);
    if (native().info().threads > 1) expect(reniced.length).toBe(native().info().threads - 1);
  });

  (process.platform === 'linux' ? test : test.skip)('a resonance sweep holds one multigrid hierarchy, not one per frequency', () => {
    // Peak memory of a 256^2 sweep over 30 frequencies, in a child process
    // (a hierarchy is 1.5 MiB here: before, the sweep held 30 of them).
    const root = require('node:path').resolve(__dirname, '..');
    const script = `
      const { resonance } = require(${JSON.stringify(root)} + '/dist/lib');
      const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
      const n = 256, rho = new Float32Array(n * n); rho[n * 100 + 77] = 1;
      (async () => {
        await resonance(rho, { n: [n, n] }, { w: [1], damping: 0.5, allowNotConverged: true });
        const before = hwm();
        await resonance(rho, { n: [n, n] }, { w: Array.from({ length: 30 }, (_, i) => 1 + i * 0.1), damping: 0.5, allowNotConverged: true });
        console.log(hwm() - before);
      })();`;
    const r = require('node:child_process').spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout)).toBeLessThan(8);
  });
});
