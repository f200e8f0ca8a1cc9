// The semfield command, run as a user runs it (a child process): outputs
// exist and parse, pictures decode to their sizes, a killed batch resumes to
// the same records, and a bad experiment file names the bad field.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readPng } from './png-read';

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'semfield.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'semfield-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, json: unknown): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, typeof json === 'string' ? json : JSON.stringify(json, null, 2));
  return f;
}

function semfield(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, SEMFIELD_BACKEND: 'cpu' } });
}

const records = (dir: string) => fs.readFileSync(path.join(dir, 'records.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
// What a record holds besides its timing.
const stable = (r: Record<string, unknown>): Record<string, unknown> => ({ ...r, seconds: undefined });

const THEMES = {
  animals: ['dog', 'cat', 'horse', 'cow', 'pig', 'sheep', 'wolf', 'bear', 'lion', 'tiger'],
  music: ['guitar', 'piano', 'violin', 'drum', 'jazz', 'song', 'album', 'band', 'singer', 'concert'],
  weather: ['rain', 'snow', 'wind', 'storm', 'cloud', 'thunder', 'fog', 'hail', 'frost', 'breeze'],
};

describe('semfield run', () => {
  test('a sweep of two runs: records, pictures of the right sizes, the report', () => {
    const file = write('small.json', {
      name: 'small',
      input: { kind: 'vocabulary', themes: THEMES },
      sweep: { kappa: [8, 16] },
      pipeline: [
        { op: 'field', grid: 64, kappa: '$kappa' },
        { op: 'basins' },
        { op: 'spectrum', a: 'music', b: 'weather', to: 10, count: 50 },
        { op: 'codec', scale: 2 },
        { op: 'induce' },
        { op: 'modes', k: 2 },
        { op: 'resonance', a: 'music', b: 'weather', to: 10, count: 6 },
      ],
    });
    const out = path.join(tmp, 'out-small');
    const r = semfield('run', file, '--out', out);
    expect(r.status).toBe(0);
    // Two worker processes: records in the order the runs finished.
    const recs = records(out).sort((a, b) => a.index - b.index);
    expect(recs).toHaveLength(2);
    expect(recs.map((x) => x.params.kappa)).toEqual([8, 16]);
    for (const rec of recs) {
      expect(rec.steps.map((s: { op: string }) => s.op)).toEqual(['field', 'basins', 'spectrum', 'codec', 'induce', 'modes', 'resonance']);
      expect(rec.steps[0].residual).toBeLessThan(1e-6);
      expect(rec.steps[4].accuracy).toBeGreaterThan(0.8);
      const sizes = Object.fromEntries(rec.pictures.map((p: string) => {
        const png = readPng(fs.readFileSync(path.join(out, p)));
        return [path.basename(p), [png.width, png.height]];
      }));
      // Charts at twice their CSS size: the field pictures hold the 460-pixel plot, its axes and legends.
      expect(Object.keys(sizes).sort()).toEqual(['basins.png', 'field-x2.png', 'field.png', 'modes.png', 'resonance.png', 'spectrum.png']);
      for (const f of ['field.png', 'basins.png']) expect(sizes[f][0]).toBeGreaterThan(2 * 460);
      expect(sizes['field-x2.png'][0]).toBeGreaterThan(2 * 200);
      expect(sizes['modes.png'][0]).toBeGreaterThan(2 * 2 * 300);
      for (const f of ['spectrum.png', 'resonance.png']) expect(sizes[f]).toEqual([expect.any(Number), expect.any(Number)]);
      expect(sizes['spectrum.png'][0]).toBeGreaterThan(2 * 520);
      // Each picture has its interactive chart's specification beside it, and a caption.
      expect(rec.figures.map((f: { picture: string }) => f.picture)).toEqual(rec.pictures);
      for (const f of rec.figures) {
        expect(fs.readFileSync(path.join(out, f.spec), 'utf8')).toMatch(/^\(window\.SEMFIELD_SPECS = window\.SEMFIELD_SPECS \|\| \{\}\)\[/);
        expect(f.caption).toMatch(/^[A-Z].+\.$/);
      }
      expect(rec.steps[5].eigenvalues[0]).toBeLessThan(rec.steps[5].eigenvalues[1]);
    }
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    for (const p of recs.flatMap((x) => x.pictures)) expect(html).toContain(`src="${p}"`);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'experiment.json'), 'utf8')).name).toBe('small');
    // A second run into the same folder refuses to mix batches unless told.
    const again = semfield('run', file, '--out', out);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/--resume/);
    const resumed = semfield('run', file, '--out', out, '--resume');
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/0 run\(s\) done, 2 skipped/);
  });

  test('a dimension fit of 800 words on the plane, with its picture', () => {
    const out = path.join(tmp, 'out-dim');
    const file = write('dim.json', { name: 'dim', input: { kind: 'vocabulary', first: 800 }, pipeline: [{ op: 'field', grid: 128 }, { op: 'dimension', of: 'positions' }] });
    expect(semfield('run', file, '--out', out).status).toBe(0);
    const [rec] = records(out);
    expect(rec.steps[1].dimension).toBeGreaterThan(1);
    expect(rec.steps[1].dimension).toBeLessThan(2.2);
    expect(rec.steps[1].r2).toBeGreaterThan(0.95);
    const png = readPng(fs.readFileSync(path.join(out, rec.steps[1].picture)));
    expect(png.width).toBeGreaterThan(2 * 520);
  });

  test('a killed batch resumes to the same records as an uninterrupted one', async () => {
    const file = write('sweep.json', {
      name: 'sweep',
      input: { kind: 'vocabulary', themes: THEMES },
      sweep: { kappa: [4, 8, 12, 16, 20, 24, 28, 32] },
      pipeline: [{ op: 'field', grid: 512, kappa: '$kappa' }, { op: 'basins' }],
    });
    const full = path.join(tmp, 'out-full'), cut = path.join(tmp, 'out-cut');
    expect(semfield('run', file, '--out', full).status).toBe(0);
    // Start again elsewhere and kill it (SIGKILL: no chance to clean up)
    // once some records are written.
    const child = spawn(process.execPath, [BIN, 'run', file, '--out', cut], { cwd: tmp, stdio: 'ignore', env: { ...process.env, SEMFIELD_BACKEND: 'cpu' } });
    const recFile = path.join(cut, 'records.ndjson');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const n = fs.existsSync(recFile) ? fs.readFileSync(recFile, 'utf8').split('\n').length - 1 : 0;
        if (n >= 2) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => child.on('exit', r));
    const before = records(cut).length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);
    // A line cut off mid-write is set aside on resume.
    fs.appendFileSync(recFile, '{"id": "trunc');
    const r = semfield('run', file, '--out', cut, '--resume');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`line ${before + 1} is not a record`));
    expect(r.stdout).toMatch(new RegExp(`${8 - before} run\\(s\\) done, ${before} skipped`));
    const a = records(full).map(stable), b = records(cut).map(stable);
    expect(b.map((x) => x.id).sort()).toEqual(a.map((x) => x.id).sort());
    const byId = new Map(a.map((x) => [x.id, x]));
    for (const x of b) expect(x).toEqual(byId.get(x.id));
  }, 60000);

  test('inputs from .npy, .f32 with a vocabulary, and JSON', () => {
    const rows = 120, d = 5;
    const x = Array.from({ length: rows }, (_, i) => Array.from({ length: d }, (_, k) => Math.sin(i * 0.37 + k) + (i % 3) * 2));
    const labels = Array.from({ length: rows }, (_, i) => `c${i % 3}`);
    fs.writeFileSync(path.join(tmp, 'labels.txt'), labels.join('\n') + '\n');
    fs.writeFileSync(path.join(tmp, 'words.txt'), x.map((_, i) => `w${i}`).join('\n') + '\n');
    const f32 = Buffer.alloc(rows * d * 4);
    x.flat().forEach((v, i) => f32.writeFloatLE(v, 4 * i));
    fs.writeFileSync(path.join(tmp, 'x.f32'), f32);
    write('x.json', { vectors: x, labels });
    // .npy as NumPy itself writes it, when Debian's numpy is there; else by hand (format 1.0).
    const np = spawnSync('/usr/bin/python3', ['-c', `import numpy as np, sys; np.save(sys.argv[1], np.fromfile(sys.argv[2], dtype='<f4').reshape(${rows}, ${d}))`, path.join(tmp, 'x.npy'), path.join(tmp, 'x.f32')]);
    if (np.status !== 0) {
      let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${d}), }`;
      header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
      const h = Buffer.alloc(10);
      h.write('\x93NUMPY', 0, 'latin1');
      (h[6] = 1), (h[7] = 0);
      h.writeUInt16LE(header.length, 8);
      fs.writeFileSync(path.join(tmp, 'x.npy'), Buffer.concat([h, Buffer.from(header, 'latin1'), f32]));
    }
    const pipeline = [{ op: 'condense' }, { op: 'induce' }, { op: 'spectrum', a: 'c0', b: 'c1', count: 20 }];
    const inputs = [
      { kind: 'npy', path: 'x.npy', labels: 'labels.txt' },
      { kind: 'f32', path: 'x.f32', dim: d, vocabulary: 'words.txt', labels: 'labels.txt' },
      { kind: 'json', path: 'x.json' },
    ];
    const results = inputs.map((input, k) => {
      const out = path.join(tmp, `out-in-${k}`);
      const r = semfield('run', write(`in-${k}.json`, { name: `in-${k}`, input, pipeline }), '--out', out);
      expect(r.stderr).not.toMatch(/semfield:/);
      expect(r.status).toBe(0);
      // (names differ: words w0.. for .f32, row numbers for the others; so do the run ids, which hash the words)
      return records(out)[0].steps.map((s: Record<string, unknown>) => ({ ...s, headline: undefined, largest: undefined, seeds: undefined, picture: undefined }));
    });
    // The three files hold the same numbers: the same results.
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(results[0][1].accuracy).toBe(1);
  });
});

describe('bad experiment files', () => {
  const base = { name: 'bad', input: { kind: 'vocabulary', words: ['dog', 'cat', 'rain'] }, pipeline: [{ op: 'field', grid: 64 }] };
  test.each([
    ['a negative kappa', { ...base, pipeline: [{ op: 'field', kappa: -1 }] }, /pipeline\[0\]\.kappa: must be >= 0/],
    ['an unknown step', { ...base, pipeline: [{ op: 'field' }, { op: 'fold' }] }, /pipeline\[1\]\.op: must be one of/],
    ['an unknown option', { ...base, pipeline: [{ op: 'basins', sek: 'max' }] }, /pipeline\[0\]\.sek: unknown field/],
    ['a missing input', { name: 'x', pipeline: base.pipeline }, /input: required/],
    ['an input of no known kind', { ...base, input: { kind: 'csv', path: 'x' } }, /input\.kind: must be one of vocabulary, npy, f32, json/],
    ['a .f32 input without its dimension', { ...base, input: { kind: 'f32', path: 'x.f32', vocabulary: 'w.txt' } }, /input\.dim: required/],
    ['a reference to no sweep variable', { ...base, pipeline: [{ op: 'field', kappa: '$k' }] }, /pipeline\[0\]\.kappa: \$k is not a sweep variable/],
    ['a swept value that does not suit its step', { ...base, sweep: { k: [1, 'big'] }, pipeline: [{ op: 'field', kappa: '$k' }] }, /sweep\.k\[1\]: "big" does not suit pipeline\[0\]\.kappa/],
    ['not JSON', '{ "name": ', /is not JSON/],
  ])('%s', (_n, json, msg) => {
    const r = semfield('run', write('bad.json', json), '--out', path.join(tmp, 'out-bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  test('a step without its prerequisite (a failed run, exit 3), a missing file, bad usage', () => {
    const r = semfield('run', write('nofield.json', { ...base, pipeline: [{ op: 'codec' }] }), '--out', path.join(tmp, 'out-nf'));
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/FAILED at codec: E_STEP: codec needs the field: put a 'field' step before it/);
    expect(semfield('run', path.join(tmp, 'nope.json')).stderr).toMatch(/cannot be read/);
    expect(semfield('run').status).toBe(2);
    expect(semfield('frobnicate').status).toBe(2);
    expect(semfield('run', 'x.json', '--backend', 'tpu').stderr).toMatch(/--backend must be/);
  });
});

test('semfield info lists the backends', () => {
  const r = semfield('info');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/backends built: cpu/);
  expect(r.stdout).toMatch(/CPU threads: +\d+/);
});

describe('semfield bench', () => {
  test('--list names every operation with its sizes and cost model', () => {
    const r = semfield('bench', '--list');
    expect(r.status).toBe(0);
    for (const op of ['triad', 'smooth', 'residual', 'potential', 'potential3d', 'wave', 'wave3d', 'maxwell3d', 'pairs', 'attention', 'chaos', 'render', 'encode'])
      expect(r.stdout).toMatch(new RegExp(`^${op} `, 'm'));
  });

  test('times operations against the limits of the same run: NDJSON, a roofline chart, a comparison', () => {
    const out = path.join(tmp, 'bench.ndjson'), chart = path.join(tmp, 'roofline.svg');
    const r = semfield('bench', 'residual', 'potential', '--sizes', '64,128', '--min-time', '0.05', '--out', out, '--chart', chart);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'limits', backend: 'cpu', peakSource: 'sgemm-kernel' });
    expect(lines[0].triadGBs).toBeGreaterThan(0.1);
    expect(lines[0].peakGflops).toBeGreaterThan(0.1);
    const results = lines.slice(1);
    expect(results.map((x) => `${x.op} ${x.size}`)).toEqual(['residual 64', 'residual 128', 'potential 64', 'potential 128']);
    for (const x of results) {
      expect(x.medianMs).toBeGreaterThan(0);
      expect(x.minMs).toBeLessThanOrEqual(x.medianMs);
      expect(x.maxMs).toBeGreaterThanOrEqual(x.medianMs);
      expect(x.samples).toBeGreaterThanOrEqual(3);
      expect(x.unitsPerSecond).toBeCloseTo((x.size * x.size) / (x.medianMs / 1e3), -3);
    }
    // The residual has a cost model (12 bytes, 7 flops per cell): memory-bound, a fraction of the triad.
    expect(results[1]).toMatchObject({ unitName: 'cells', bound: 'bandwidth' });
    expect(results[1].intensity).toBeCloseTo(7 / 12, 6);
    expect(results[1].ofTriad).toBeCloseTo(results[1].GBs / lines[0].triadGBs, 6);
    // The potential has none: unknowns per second only.
    expect(results[2].unitName).toBe('unknowns');
    expect(results[2].ofRoof).toBeUndefined();
    const svg = fs.readFileSync(chart, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/arithmetic intensity/);
    expect(r.stdout).toMatch(/^residual +128\^2 +cpu /m);
    const c = semfield('bench', '--compare', out, out);
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/residual +128\^2 cpu .* 1\.00$/m);
  });

  test('a case the operation refuses is recorded as a failure and the others still run', () => {
    const out = path.join(tmp, 'fail.ndjson');
    const r = semfield('bench', 'potential', '--backend', 'cpu', '--sizes', '1,64', '--min-time', '0.05', '--out', out);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/potential at 1 on cpu: not measured, E_RANGE: potential: grid\.n\[0\] must be in \[2, 65536\]/);
    expect(r.stdout).toMatch(/^1 case not measured: potential at 1 on cpu \(E_RANGE\)$/m);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['limits', 'failure', 'result']);
    expect(lines[1]).toMatchObject({ op: 'potential', size: 1, backend: 'cpu', code: 'E_RANGE' });
    expect(lines[2]).toMatchObject({ op: 'potential', size: 64 });
  });

  test('bad usage names the option', () => {
    expect(semfield('bench', 'nosuchop').stderr).toMatch(/unknown operation 'nosuchop' \(one of triad, /);
    expect(semfield('bench', '--backend', 'tpu').stderr).toMatch(/--backend must be cpu, cuda, auto or both/);
    expect(semfield('bench', 'triad', '--sizes', '1,x').stderr).toMatch(/--sizes takes whole numbers/);
    expect(semfield('bench', 'triad', '--backend', 'cuda').stderr).toMatch(/--backend cuda needs a usable CUDA device/);
    fs.writeFileSync(path.join(tmp, 'empty.ndjson'), '');
    expect(semfield('bench', '--compare', path.join(tmp, 'empty.ndjson'), path.join(tmp, 'empty.ndjson')).stderr).toMatch(/has no result lines/);
    expect(semfield('bench', '--compare', path.join(tmp, 'empty.ndjson')).status).toBe(2);
  });
});
