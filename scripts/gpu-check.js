#!/usr/bin/env node
// npm run gpu-check: the one command to run on a machine with an NVIDIA GPU.
// In one go, timing each phase:
//   1. probe  - the GPU and its compute capability (nvidia-smi);
//   2. build  - the addon with SEMFIELD_CUDA=ON for that architecture only
//               (CMAKE_CUDA_ARCHITECTURES=<cc>-real) and one CPU binary for
//               this CPU (SEMFIELD_NATIVE_ARCH=1), then the TypeScript;
//   3. tests  - the whole jest suite with SEMFIELD_BACKEND=cuda, so every
//               call that names no backend runs on the GPU, including
//               tests/device.test.ts (CPU == CUDA to 1e-5, faults, abort);
//   4. bench  - semfield bench on both backends (limits measured in the same
//               run: host and device triad, SGEMM-kernel and device peak);
//   5. report - bench/results/gpu-<device>.json (limits, results, test
//               counts, phase times, the issue's targets met or not) and
//               bench/results/gpu-<device>.txt, a short summary.
// Without a GPU it builds (proving the CUDA code compiles), says that no
// device is present, and exits 0. Exit status 1: the build or a test failed.
// SEMFIELD_GPU_CHECK_SKIP_BUILD=1 skips phase 2 (an addon built already).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const phases = [];
const t0 = Date.now();

function phase(name, fn) {
  const s = Date.now();
  process.stdout.write(`\n== gpu-check: ${name}\n`);
  let r;
  try {
    r = fn();
  } finally {
    const secs = (Date.now() - s) / 1000;
    phases.push({ name, seconds: secs });
    process.stdout.write(`== gpu-check: ${name} took ${secs.toFixed(1)} s (total ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  return r;
}

function run(cmd, args, env = {}) {
  process.stdout.write(`$ ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

function probe() {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,compute_cap,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) return undefined;
  const [name, cc, mem] = r.stdout.trim().split('\n')[0].split(',').map((s) => s.trim());
  return { name, cc, arch: cc.replace('.', ''), memory: mem };
}

function main() {
  const gpu = phase('probe', () => {
    const g = probe();
    process.stdout.write(g ? `GPU: ${g.name}, compute capability ${g.cc}, ${g.memory}\n` : 'no NVIDIA GPU found (nvidia-smi absent or silent)\n');
    return g;
  });
  if (process.env.SEMFIELD_GPU_CHECK_SKIP_BUILD !== '1') {
    const ok = phase('build', () => {
      const env = { SEMFIELD_CUDA: 'ON', SEMFIELD_NATIVE_ARCH: '1' };
      // For the local device only; without one, the default list (every
      // architecture the package ships), which still proves the code compiles.
      if (gpu) env.SEMFIELD_CUDA_ARCH = `${gpu.arch}-real`;
      return run(process.execPath, [path.join(root, 'scripts', 'build-native.js'), '--force'], env) && run(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.json']);
    });
    if (!ok) {
      process.stdout.write('gpu-check: the build failed\n');
      return 1;
    }
  }
  if (!gpu) {
    process.stdout.write('\ngpu-check: the CUDA build passed; no CUDA device is present on this machine, so there is nothing to test or time on one.\n');
    return 0;
  }
  const slug = gpu.name.replace(/^NVIDIA\s+/i, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
  const results = path.join(root, 'bench', 'results');
  fs.mkdirSync(results, { recursive: true });
  const jestJson = path.join(os.tmpdir(), `semfield-gpu-check-${process.pid}.json`);
  const testsOk = phase('tests (SEMFIELD_BACKEND=cuda)', () =>
    run(process.execPath, [require.resolve('jest/bin/jest', { paths: [root] }), '--maxWorkers=50%', '--json', `--outputFile=${jestJson}`], { SEMFIELD_BACKEND: 'cuda' }),
  );
  let tests = { ok: testsOk };
  try {
    const j = JSON.parse(fs.readFileSync(jestJson, 'utf8'));
    tests = { ok: testsOk, suites: j.numTotalTestSuites, passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests,
      failures: j.testResults.filter((s) => s.status !== 'passed').map((s) => ({ file: path.relative(root, s.name), message: (s.message || '').slice(0, 2000) })) };
  } catch {
    // jest wrote nothing: its output above says why
  }
  const ndjson = path.join(results, `gpu-${slug}.ndjson`);
  const bench = phase('bench', () => {
    const script = `
      const b = require(${JSON.stringify(path.join(root, 'dist', 'cli', 'bench.js'))});
      b.bench({
        ops: ['triad', 'potential', 'potential3d', 'wave', 'wave3d', 'maxwell3d', 'pairs', 'attention', 'render', 'encode'],
        sizes: { triad: [1 << 26], potential: [2048], potential3d: [256], wave: [4096], wave3d: [256], maxwell3d: [256], pairs: [65536], attention: [16384], render: [2 ** 32], encode: [512] },
        backend: 'both', out: ${JSON.stringify(ndjson)}, chart: ${JSON.stringify(path.join(results, `gpu-${slug}-roofline.svg`))},
        measure: { minSeconds: 0.5, minSamples: 5, warmup: 2 }, log: (l) => console.log(l),
      }).then((r) => console.log(b.formatResults(r.limits, r.results)), (e) => { console.error(e); process.exitCode = 1; });`;
    return run(process.execPath, ['-e', script]);
  });
  const lines = fs.existsSync(ndjson) ? fs.readFileSync(ndjson, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const limits = lines.filter((l) => l.type === 'limits');
  const rows = lines.filter((l) => l.type === 'result');
  const get = (op, backend = 'cuda') => rows.find((r) => r.op === op && r.backend === backend);
  const dev = limits.find((l) => l.backend === 'cuda');
  // The targets of issue 15 (the first GPU run of this project).
  const target = (what, value, goal, unit) => ({ what, value: value ?? null, goal, unit, met: value !== undefined && value >= goal });
  const targets = [
    target('3D Yee FDTD 256^3', get('maxwell3d')?.unitsPerSecond, 30e9, 'cell updates/s'),
    target('wave 2D 4096^2, fraction of the device triad', get('wave')?.ofTriad, 0.7, ''),
    target('wave 3D 256^3, fraction of the device triad', get('wave3d')?.ofTriad, 0.7, ''),
    target('potential 2048^2 to tol 1e-6', get('potential')?.unitsPerSecond, 3e9, 'unknowns/s'),
    target('potential 256^3 to tol 1e-6', get('potential3d')?.unitsPerSecond, 3e9, 'unknowns/s'),
    target('chaos game (binned)', get('render')?.unitsPerSecond, 1e10, 'points/s'),
  ];
  const report = { date: new Date().toISOString(), device: gpu, host: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version }, phases, tests, limits, targets, results: rows };
  fs.writeFileSync(path.join(results, `gpu-${slug}.json`), JSON.stringify(report, null, 2) + '\n');
  const fmt = (v) => (v === null || v === undefined ? 'n/a' : Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toFixed(3));
  const summary = [
    `semfield gpu-check on ${gpu.name} (compute ${gpu.cc}), ${report.date}`,
    `phases: ${phases.map((p) => `${p.name} ${p.seconds.toFixed(0)} s`).join(', ')}; total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    `tests with SEMFIELD_BACKEND=cuda: ${tests.passed ?? '?'} passed, ${tests.failed ?? '?'} failed, ${tests.skipped ?? '?'} skipped (${tests.suites ?? '?'} suites)`,
    ...(tests.failures || []).map((f) => `  failed: ${f.file}`),
    ...limits.map((l) => `limits ${l.backend}: ${l.device}: triad ${l.triadGBs.toFixed(1)} GB/s, fp32 peak ${l.peakGflops.toFixed(0)} GFLOP/s (${l.peakSource})`),
    ...targets.map((t) => `${t.met ? 'met ' : 'MISS'} ${t.what}: ${fmt(t.value)} ${t.unit} (target ${fmt(t.goal)})`),
    ...rows.filter((r) => r.backend === 'cuda').map((r) => {
      const cpu = get(r.op, 'cpu');
      return `${r.op} ${r.label}: ${fmt(r.medianMs)} ms, ${fmt(r.unitsPerSecond)} ${r.unitName}/s${r.ofRoof !== undefined ? `, ${fmt(r.ofRoof)} of the ${r.bound === 'bandwidth' ? 'triad' : 'peak'}` : ''}${cpu ? `, ${fmt(cpu.medianMs / r.medianMs)}x the CPU` : ''}`;
    }),
  ];
  fs.writeFileSync(path.join(results, `gpu-${slug}.txt`), summary.join('\n') + '\n');
  process.stdout.write('\n' + summary.join('\n') + '\n');
  return testsOk && bench && dev ? 0 : 1;
}

process.exitCode = main();
