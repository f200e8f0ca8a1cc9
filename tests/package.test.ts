/**
 * The package as a user installs it: one Node range that the engines field,
 * the README and every installed dependency agree on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };

describe('one Node version range', () => {
  const range = pkg.engines.node;
  // The oldest release of each major the range admits.
  const floors = [...new Set(semver.validRange(range)!.split('||').map((r) => semver.minVersion(r.trim())!.version))];

  test('the README states the engines range', () => {
    expect(floors).toEqual(['20.17.0', '22.9.0']);
    expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`Node.js \`${range}\``);
  });

  test('every dependency, development ones included, runs on the oldest Node of each major the range admits', () => {
    const refusing: string[] = [];
    for (const [name, p] of Object.entries(lock.packages)) {
      const e = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (!name || !e) continue;
      for (const v of floors) if (!semver.satisfies(v, e)) refusing.push(`${name} (${e}) refuses ${v}`);
    }
    expect(refusing).toEqual([]);
  });
});

describe('a binary for every x86-64, the fastest this CPU runs', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { bestIsa, loadBinary, trial } = require('../lib/binary') as typeof import('../lib/binary');
  const { device } = require('../lib') as typeof import('../lib');
  const x86 = process.arch === 'x64';

  test('the choice by cpuid: AVX-512 needs F, BW, CD, DQ and VL; AVX2 needs FMA and BMI2 too', () => {
    const all = ['x86-64', 'avx2', 'avx512'] as const;
    const v3 = { avx2: true, fma: true, bmi2: true };
    const v4 = { ...v3, avx512f: true, avx512bw: true, avx512cd: true, avx512dq: true, avx512vl: true };
    expect(bestIsa({}, all)).toBe('x86-64');
    expect(bestIsa({ avx2: true, fma: true }, all)).toBe('x86-64');
    expect(bestIsa(v3, all)).toBe('avx2');
    expect(bestIsa({ ...v4, avx512vl: false }, all)).toBe('avx2');
    expect(bestIsa(v4, all)).toBe('avx512');
    expect(bestIsa(v4, ['x86-64', 'avx2'])).toBe('avx2');
    expect(bestIsa(v4, ['x86-64'])).toBe('x86-64');
  });

  (x86 ? test : test.skip)('info() reports the instruction set in use, the best this CPU has a binary for', () => {
    const i = device.info();
    expect(fs.existsSync(i.binary)).toBe(true);
    if (i.isa === 'native') return;  // built with SEMFIELD_NATIVE_ARCH
    const dir = path.dirname(i.isa === 'x86-64' ? i.binary : path.dirname(i.binary));
    const available = (['x86-64', 'avx2', 'avx512'] as const).filter((v) => fs.existsSync(v === 'x86-64' ? path.join(dir, 'semfield.node') : path.join(dir, 'isa', `semfield-${v}.node`)));
    expect(i.isa).toBe(process.env.SEMFIELD_ISA ?? bestIsa(i.cpuFeatures, available));
    expect(i.isaNote).toBe('');
  });

  (x86 ? test : test.skip)('every variant this CPU runs computes the same sums (SEMFIELD_ISA picks one; each in a child process)', () => {
    const script = `
      const { points, device } = require(${JSON.stringify(root)} + '/dist/lib');
      const f = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
      points.potential(f(3 * 700), f(3 * 500), { d: 3, kernel: { kind: 'gaussian', sigma: 0.7 } })
        .then((v) => console.log(JSON.stringify({ isa: device.info().isa, v: Array.from(v.subarray(0, 50)) })));`;
    const runs: { isa: string; v: number[] }[] = [];
    // A variant this CPU lacks the instructions for fails its trial run (the
    // next test covers that): only the others are compared.
    const features = device.info().cpuFeatures;
    for (const isa of (['x86-64', 'avx2', 'avx512'] as const).filter((v) => bestIsa(features, ['x86-64', v]) === v)) {
      const r = require('node:child_process').spawnSync(process.execPath, ['-e', script], { env: { ...process.env, SEMFIELD_ISA: isa }, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      runs.push(JSON.parse(r.stdout));
    }
    const present = runs.filter((r) => r.isa !== 'native');
    if (!present.length) return;
    for (const r of present) for (let i = 0; i < 50; i++) expect(Math.abs(r.v[i] - present[0].v[i])).toBeLessThanOrEqual(1e-5 * Math.abs(present[0].v[i]) + 1e-6);
    expect(new Set(present.map((r) => r.isa)).size).toBeGreaterThanOrEqual(1);
  });

  test('a variant that fails its trial run is skipped, and the note says why; a portable binary that fails says how to fix it', () => {
    const i = device.info();
    const portable = i.isa === 'x86-64' || i.isa === 'native' ? i.binary : path.join(path.dirname(path.dirname(i.binary)), 'semfield.node');
    // A package whose AVX-512 and AVX2 variants are not binaries at all.
    const tmp = fs.mkdtempSync('/tmp/sf-isa-');
    fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'semfield' }));
    fs.mkdirSync(path.join(tmp, 'build', 'Release', 'isa'), { recursive: true });
    fs.copyFileSync(portable, path.join(tmp, 'build', 'Release', 'semfield.node'));
    for (const v of ['avx2', 'avx512']) fs.writeFileSync(path.join(tmp, 'build', 'Release', 'isa', `semfield-${v}.node`), 'not an ELF file');
    {
      const saved = process.env.SEMFIELD_ISA;
      process.env.SEMFIELD_ISA = 'avx2';
      let l;
      try {
        l = loadBinary<{ cpu(): { isa: string; features: Record<string, boolean> } }>(tmp);
      } finally {
        if (saved === undefined) delete process.env.SEMFIELD_ISA;
        else process.env.SEMFIELD_ISA = saved;
      }
      if (l.addon.cpu().isa === 'x86-64') {
        expect(l.file).toBe(path.join(tmp, 'build', 'Release', 'semfield.node'));
        expect(l.note).toMatch(/the avx2 build \(.*semfield-avx2\.node\) failed its trial run: .*(invalid ELF header|file too short).*the portable x86-64 build runs instead/);
        expect(trial(path.join(tmp, 'build', 'Release', 'isa', 'semfield-avx2.node'))).toMatch(/invalid ELF header|file too short/);
      }
      // The portable binary itself broken: no load into this process, and the fixes named. (Another
      // package: the one above is mapped into this process now, and truncating it would fault.)
      const broken = fs.mkdtempSync('/tmp/sf-isa-');
      fs.writeFileSync(path.join(broken, 'package.json'), JSON.stringify({ name: 'semfield' }));
      fs.mkdirSync(path.join(broken, 'build', 'Release'), { recursive: true });
      fs.writeFileSync(path.join(broken, 'build', 'Release', 'semfield.node'), 'not an ELF file either');
      expect(() => loadBinary(broken)).toThrow(/cannot run in this process: .*(invalid ELF header|file too short)[\s\S]*Possible fixes:[\s\S]*npm rebuild semfield/);
    }
  });
});

describe('the packed package, installed with a prebuilt binary for this platform', () => {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const npm = (args: string[], cwd: string, timeout = 300000) => spawnSync('npm', args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_loglevel: 'info' } });
  const built = path.join(root, 'build', 'Release', 'semfield.node');
  let consumer = '';
  let installLog = '';
  let tarball = '';

  beforeAll(() => {
    if (!fs.existsSync(built)) return;
    // The package's files (npm pack's own list), plus prebuilds/<platform>-<arch> made from this build.
    const list = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root);
    const files = (JSON.parse(list.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    const stage = fs.mkdtempSync('/tmp/sf-pack-');
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
      fs.copyFileSync(path.join(root, f), path.join(stage, f));
    }
    const pre = path.join(stage, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(path.join(pre, 'isa'), { recursive: true });
    fs.copyFileSync(built, path.join(pre, 'semfield.node'));
    for (const v of ['avx2', 'avx512']) {
      const f = path.join(root, 'build', 'Release', 'isa', `semfield-${v}.node`);
      if (fs.existsSync(f)) fs.copyFileSync(f, path.join(pre, 'isa', `semfield-${v}.node`));
    }
    const out = fs.mkdtempSync('/tmp/sf-tgz-');
    const packed = npm(['pack', '--ignore-scripts', '--pack-destination', out], stage);
    tarball = path.join(out, packed.stdout.trim().split('\n').pop()!);
    // A project that installs it, letting npm run semfield's install script.
    consumer = fs.mkdtempSync('/tmp/sf-consumer-');
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts: { semfield: true } }));
    const inst = npm(['install', tarball, '--foreground-scripts', '--prefer-offline', '--no-audit', '--no-fund'], consumer);
    installLog = `${inst.stdout}\n${inst.stderr}\nexit ${inst.status}`;
  }, 600000);

  const maybe = fs.existsSync(built) ? test : test.skip;

  maybe('the install ran semfield\'s install script, which compiled nothing: the prebuilt binary ran in its trial', () => {
    expect(installLog).toMatch(/exit 0$/);
    expect(installLog).toContain(`semfield: using the prebuilt binary prebuilds/${process.platform}-${process.arch}/semfield.node (it ran in a trial process); nothing to compile`);
    expect(installLog).not.toMatch(/cmake-js rebuild|node-gyp rebuild|Building (CXX|CUDA)|cc1plus|nvcc -/);
    expect(fs.existsSync(path.join(consumer, 'node_modules', 'semfield', 'build'))).toBe(false);
  });

  maybe('it loads the prebuilt binary with require and with import, and computes', () => {
    const cjs = spawnSync(process.execPath, ['-e', `const s = require('semfield'); s.points.energyDistance(new Float32Array([0, 0, 1, 1]), new Float32Array([0, 1, 1, 0]), { d: 2 }).then((v) => console.log(JSON.stringify({ v, binary: s.device.info().binary })));`], { cwd: consumer, encoding: 'utf8' });
    expect(cjs.stderr).toBe('');
    const r = JSON.parse(cjs.stdout) as { v: number; binary: string };
    expect(r.binary.startsWith(path.join(fs.realpathSync(consumer), 'node_modules', 'semfield', 'prebuilds'))).toBe(true);
    expect(r.v).toBeGreaterThan(0);
    fs.writeFileSync(path.join(consumer, 'use.mjs'), `import { points, SemfieldError } from 'semfield';\nconst v = await points.energyDistance(new Float32Array([0, 0, 1, 1]), new Float32Array([0, 1, 1, 0]), { d: 2 });\nconsole.log(v === ${r.v} && typeof SemfieldError === 'function' ? 'same' : 'different');\n`);
    const esm = spawnSync(process.execPath, ['use.mjs'], { cwd: consumer, encoding: 'utf8' });
    expect(esm.stderr).toBe('');
    expect(esm.stdout.trim()).toBe('same');
  });

  maybe('npx semfield bench runs from the installed package, against limits measured in the same run', () => {
    const r = spawnSync('npx', ['--no-install', 'semfield', 'bench', 'triad', 'residual', '--sizes', '256', '--min-time', '0.05', '--backend', 'cpu', '--out', 'b.ndjson'], { cwd: consumer, encoding: 'utf8', timeout: 120000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = fs.readFileSync(path.join(consumer, 'b.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['limits', 'result', 'result']);
    expect(lines[0].triadGBs).toBeGreaterThan(0);
    expect(lines[2]).toMatchObject({ op: 'residual', size: 256, backend: 'cpu', bound: 'bandwidth' });
    expect(r.stdout).toMatch(/limits cpu: .* triad [\d.]+ GB\/s, fp32 peak \d+ GFLOP\/s \(sgemm-kernel\)/);
  });

  maybe('its types resolve for require and for import (arethetypeswrong, and tsc on a CommonJS and an ES module)', () => {
    const attw = spawnSync(path.join(root, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'json'], { encoding: 'utf8', timeout: 120000 });
    const report = JSON.parse(attw.stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
    expect(attw.status).toBe(0);
    fs.writeFileSync(path.join(consumer, 'a.mts'), `import { potential, type PotentialResult } from 'semfield';\nconst r: Promise<PotentialResult> = potential(new Float32Array(4), { n: [2, 2] });\nvoid r;\n`);
    fs.writeFileSync(path.join(consumer, 'b.cts'), `import semfield = require('semfield');\nconst r: Promise<Float64Array> = semfield.points.potential(new Float32Array(3), new Float32Array(3), { d: 3, kernel: { kind: 'energy' } });\nvoid r;\n`);
    fs.writeFileSync(path.join(consumer, 'bad.mts'), `import { potential } from 'semfield';\nconst n: number = potential(new Float32Array(4), { n: [2, 2] });\nvoid n;\n`);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const opts = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types')];
    const good = spawnSync(process.execPath, [tsc, ...opts, 'a.mts', 'b.cts'], { cwd: consumer, encoding: 'utf8' });
    expect(good.stdout).toBe('');
    expect(good.status).toBe(0);
    const bad = spawnSync(process.execPath, [tsc, ...opts, 'bad.mts'], { cwd: consumer, encoding: 'utf8' });
    expect(bad.stdout).toMatch(/bad\.mts.*TS2322/);
  });
});
