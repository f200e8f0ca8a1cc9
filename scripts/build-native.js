#!/usr/bin/env node
// Builds the native addon at install time, from source, offline.
//   1. cmake-js, with the CUDA backend when nvcc is found (SEMFIELD_CUDA=AUTO,
//      the default; ON makes a CUDA failure fatal; OFF skips CUDA);
//   2. if that fails and CUDA was not demanded, cmake-js without CUDA;
//   3. without cmake, node-gyp and binding.gyp (CPU backend only).
// Either way the result is build/Release/semfield.node, which
// node-gyp-build finds. SEMFIELD_SKIP_BUILD=1 skips the build;
// SEMFIELD_PORTABLE=1 compiles for any x86-64 instead of this CPU;
// SEMFIELD_SANITIZE=1 builds under ASan and UBSan (see npm run test:asan).
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
  const arch = process.env.SEMFIELD_PORTABLE === '1' ? 'OFF' : 'ON';
  const sanitize = process.env.SEMFIELD_SANITIZE === '1' ? 'ON' : 'OFF';
  return run(process.execPath, [bin, 'rebuild', '--CDSEMFIELD_CUDA=' + cuda, '--CDSEMFIELD_NATIVE_ARCH=' + arch, '--CDSEMFIELD_SANITIZE=' + sanitize]);
}

function nodeGyp() {
  // npm puts its own node-gyp on PATH for install scripts.
  return run(process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', ['rebuild']);
}

function main() {
  if (process.env.SEMFIELD_SKIP_BUILD === '1') return 0;
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
