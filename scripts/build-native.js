#!/usr/bin/env node
// At install: uses the prebuilt binary for this platform when the package
// has one (prebuilds/<platform>-<arch>, made by npm run prebuild) and it
// runs here (tried in a child process, like every binary semfield loads);
// otherwise builds the native addon from source, offline.
//   1. cmake-js, with the CUDA backend when nvcc is found (SEMFIELD_CUDA=AUTO,
//      the default; ON makes a CUDA failure fatal; OFF skips CUDA);
//   2. if that fails and CUDA was not demanded, cmake-js without CUDA;
//   3. without cmake, node-gyp and binding.gyp (CPU backend only).
// Either way the result is build/Release/semfield.node, which
// node-gyp-build finds. SEMFIELD_SKIP_BUILD=1 skips the build;
// SEMFIELD_NATIVE_ARCH=1 compiles one binary for this CPU only (-march=native)
// instead of the portable one and its AVX2 and AVX-512 variants
// (SEMFIELD_ISA_VARIANTS=0: the portable one alone, a third of the build);
// SEMFIELD_SANITIZE=1 builds under ASan and UBSan (see npm run test:asan);
// SEMFIELD_CUDA_ARCH sets the CUDA architectures (CMake's list, e.g. 90-real;
// npm run gpu-check builds for the local GPU only);
// --force or SEMFIELD_BUILD_FROM_SOURCE=1 builds even when a prebuilt binary runs.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const mode = (process.env.SEMFIELD_CUDA || 'AUTO').toUpperCase();

function run(cmd, args) {
  console.log(`semfield: ${[path.basename(cmd), ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status === 0;
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function cmakeJs(cuda) {
  const bin = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  const arch = process.env.SEMFIELD_NATIVE_ARCH === '1' ? 'ON' : 'OFF';
  const sanitize = process.env.SEMFIELD_SANITIZE === '1' ? 'ON' : 'OFF';
  const variants = process.env.SEMFIELD_ISA_VARIANTS === '0' ? 'OFF' : 'ON';
  const args = [bin, 'rebuild', '--CDSEMFIELD_CUDA=' + cuda, '--CDSEMFIELD_NATIVE_ARCH=' + arch, '--CDSEMFIELD_SANITIZE=' + sanitize, '--CDSEMFIELD_ISA_VARIANTS=' + variants];
  // CUDA architectures other than the default list (CMakeLists.txt), e.g. '90-real' for one GPU.
  if (process.env.SEMFIELD_CUDA_ARCH && cuda !== 'OFF') args.push('--CDCMAKE_CUDA_ARCHITECTURES=' + process.env.SEMFIELD_CUDA_ARCH);
  return run(process.execPath, args);
}

function nodeGyp() {
  // npm puts its own node-gyp on PATH for install scripts.
  return run(process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', ['rebuild']);
}

// The prebuilt binary for this platform, if the package has one that runs
// here: the same trial a process makes before it loads a binary (lib/binary.ts).
function prebuilt() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const file = path.join(dir, 'semfield.node');
  if (!fs.existsSync(file)) return undefined;
  const trial = spawnSync(process.execPath, ['-e', "const a = require(process.argv[1]); a.cpu(); a.triad({ a: new Float32Array(64), b: new Float32Array(64), c: new Float32Array(64), s: 1, backend: 'cpu' })", file], { encoding: 'utf8', timeout: 60000 });
  if (trial.status !== 0) {
    console.warn(`semfield: the prebuilt binary ${path.relative(root, file)} does not run here (${(trial.stderr || trial.signal || '').toString().trim().split('\n')[0]}); building from source`);
    return undefined;
  }
  return file;
}

function main() {
  if (process.env.SEMFIELD_SKIP_BUILD === '1') return 0;
  const force = process.argv.includes('--force') || process.env.SEMFIELD_BUILD_FROM_SOURCE === '1';
  if (!force) {
    const file = prebuilt();
    if (file) {
      console.log(`semfield: using the prebuilt binary ${path.relative(root, file)} (it ran in a trial process); nothing to compile`);
      return 0;
    }
  }
  if (!['AUTO', 'ON', 'OFF'].includes(mode)) {
    console.error(`semfield: SEMFIELD_CUDA must be AUTO, ON or OFF (got ${mode})`);
    return 1;
  }
  if (has('cmake')) {
    if (cmakeJs(mode)) return 0;
    if (mode === 'ON') return 1;
    if (mode === 'AUTO') {
      console.warn('semfield: the build with CUDA failed; building the CPU backend only');
      if (cmakeJs('OFF')) return 0;
    }
  } else if (mode === 'ON') {
    console.error('semfield: SEMFIELD_CUDA=ON needs cmake');
    return 1;
  }
  fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });
  return nodeGyp() ? 0 : 1;
}

process.exitCode = main();
