#!/usr/bin/env node
// Makes the prebuilt binaries a published package carries, with prebuildify:
// prebuilds/<platform>-<arch>/semfield.node (the portable binary, stripped)
// and, on x86-64, isa/semfield-avx2.node and isa/semfield-avx512.node beside
// it. node-gyp-build finds the first; lib/binary.ts picks the best one this
// CPU runs, after a trial in a child process; the install script compiles
// nothing when the first runs (scripts/build-native.js).
//
//   npm run prebuild            (SEMFIELD_CUDA=ON: the CUDA backend is required in them)
//
// prebuildify drives the build through the command it would give node-gyp:
// here that command is this script with --compile, which builds with
// cmake-js (scripts/build-native.js --force) and stages the variants.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const staged = path.join(root, 'build', 'prebuild-artifacts');

function compile() {
  const env = { ...process.env };
  delete env.SEMFIELD_NATIVE_ARCH;  // a prebuild is for every CPU of its platform
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build-native.js'), '--force'], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) return r.status || 1;
  fs.rmSync(staged, { recursive: true, force: true });
  const isa = path.join(root, 'build', 'Release', 'isa');
  if (fs.existsSync(isa)) {
    fs.mkdirSync(path.join(staged, 'isa'), { recursive: true });
    for (const f of fs.readdirSync(isa).filter((f) => f.endsWith('.node'))) {
      const to = path.join(staged, 'isa', f);
      fs.copyFileSync(path.join(isa, f), to);
      if (process.platform === 'linux') spawnSync('strip', ['--strip-all', to], { stdio: 'inherit' });
    }
  } else {
    fs.mkdirSync(staged, { recursive: true });
  }
  return 0;
}

if (process.argv.includes('--compile')) {
  process.exitCode = compile();
} else {
  fs.rmSync(path.join(root, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true, force: true });
  // eslint-disable-next-line global-require
  require('prebuildify')(
    {
      cwd: root,
      napi: true,
      strip: true,
      targets: [{ runtime: 'node', target: process.versions.node }],
      nodeGyp: `"${process.execPath}" "${__filename}" --compile`,
      shell: true,
      artifacts: staged,
    },
    (err) => {
      if (err) {
        console.error(`semfield: prebuild failed: ${err.message}`);
        process.exitCode = 1;
        return;
      }
      const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
      const list = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? list(path.join(d, e.name)) : [path.join(d, e.name)]));
      for (const f of list(dir)) console.log(`semfield: ${path.relative(root, f)} (${(fs.statSync(f).size / 1048576).toFixed(1)} MiB)`);
    },
  );
}
