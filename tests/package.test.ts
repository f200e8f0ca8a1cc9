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

  (x86 ? test : test.skip)('every variant computes the same sums (SEMFIELD_ISA picks one; each in a child process)', () => {
    const script = `
      const { points, device } = require(${JSON.stringify(root)} + '/dist/lib');
      const f = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
      points.potential(f(3 * 700), f(3 * 500), { d: 3, kernel: { kind: 'gaussian', sigma: 0.7 } })
        .then((v) => console.log(JSON.stringify({ isa: device.info().isa, v: Array.from(v.subarray(0, 50)) })));`;
    const runs: { isa: string; v: number[] }[] = [];
    for (const isa of ['x86-64', 'avx2', 'avx512']) {
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
      // The portable binary itself broken: no load into this process, and the fixes named.
      fs.writeFileSync(path.join(tmp, 'build', 'Release', 'semfield.node'), 'not an ELF file either');
      expect(() => loadBinary(tmp)).toThrow(/cannot run in this process: .*(invalid ELF header|file too short)[\s\S]*Possible fixes:[\s\S]*npm rebuild semfield/);
    }
  });
});
