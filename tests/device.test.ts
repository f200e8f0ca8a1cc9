/**
 * Backends: info() reports what was built and what 'auto' picks; without a
 * usable GPU everything runs on the CPU quietly; the CUDA backend, when a GPU
 * is present, agrees with the CPU to 1e-5 relative (SPEC, Conventions).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { condense, deposit, device, grad, interpolate, points, potential } from '../lib';
import { maxAbs, maxAbsDiff, sample } from './helpers';

const info = device.info();
const hasGpu = info.cudaDevices.length > 0;

test('info() lists the built backends, the devices, the thread count and the auto choice', () => {
  expect(info.built).toContain('cpu');
  expect(info.threads).toBeGreaterThanOrEqual(1);
  expect(info.auto).toBe(hasGpu ? 'cuda' : 'cpu');
  if (!hasGpu) expect(info.cudaNote.length).toBeGreaterThan(0);
});

test('with SEMFIELD_BACKEND=cpu the addon never probes CUDA and prints nothing', () => {
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(process.execPath, ['-e', `const a=require('node-gyp-build')(${JSON.stringify(root)}); console.log(JSON.stringify(a.info()))`], {
    env: { ...process.env, SEMFIELD_BACKEND: 'cpu' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  const i = JSON.parse(r.stdout);
  expect(i.auto).toBe('cpu');
  expect(i.cudaDevices).toEqual([]);
  if (i.built.includes('cuda')) expect(i.cudaNote).toMatch(/not probed/);
});

test('info() reports SEMFIELD_BACKEND and the default it makes; a bad value is refused by every call, naming the variable', () => {
  expect(info.backendEnv).toBe(process.env.SEMFIELD_BACKEND ?? '');
  const root = path.resolve(__dirname, '..');
  const probe = (env: string, call: string) => {
    const r = spawnSync(process.execPath, ['-e', `const s = require(${JSON.stringify(path.join(root, 'dist', 'lib'))}); const i = s.device.info(); ${call}.then((x) => console.log(JSON.stringify({ i, ok: x.backend })), (e) => console.log(JSON.stringify({ i, code: e.code, message: e.message })));`], {
      env: { ...process.env, SEMFIELD_BACKEND: env }, encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  };
  const call = `s.potential(new Float32Array(256), { n: [16, 16] })`;
  const cpu = probe('cpu', call);
  expect(cpu.i).toMatchObject({ backendEnv: 'cpu', default: 'cpu', auto: 'cpu' });
  expect(cpu.ok).toBe('cpu');
  const bad = probe('gpu', call);
  expect(bad.code).toBe('E_RANGE');
  expect(bad.message).toMatch(/SEMFIELD_BACKEND must be 'auto', 'cpu' or 'cuda' \(got 'gpu'\)/);
  expect(probe('gpu', `s.potential(new Float32Array(256), { n: [16, 16] }, { backend: 'cpu' })`).ok).toBe('cpu');
  if (!hasGpu) {
    const cuda = probe('cuda', call);
    expect(cuda.i.default).toBe('cuda');
    expect(cuda.code).toBe('E_DEVICE');
    expect(cuda.message).toMatch(/^potential: SEMFIELD_BACKEND 'cuda' (is not built|requested but)/);
  }
});

test('the backend option chooses where a call runs', async () => {
  const r = await potential(new Float32Array(256), { n: [16, 16] }, { backend: 'cpu' });
  expect(r.backend).toBe('cpu');
  const a = await potential(new Float32Array(256), { n: [16, 16] }, { backend: 'auto' });
  expect(a.backend).toBe(info.auto);
});

(hasGpu ? describe : describe.skip)('the CUDA backend under load and after faults (runs where a GPU is present)', () => {
  const root = path.resolve(__dirname, '..');
  const f32 = (n: number, s = 0) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s));

  test('devices report their compute capability and peak; every listed one is usable', () => {
    for (const d of info.cudaDevices) {
      expect(d.computeCapability).toBeGreaterThanOrEqual(7.5);
      expect(d.peakGflops).toBeGreaterThan(1000);
      expect(d.usable).toBe(true);
    }
  });

  test('16 concurrent calls on the GPU give the results of the same calls one at a time', async () => {
    const rhos = Array.from({ length: 16 }, (_, k) => f32(256 * 256, k));
    const one: Float32Array[] = [];
    for (const r of rhos) one.push((await potential(r, { n: [256, 256] }, { backend: 'cuda', tol: 1e-8 })).phi);
    const all = await Promise.all(rhos.map((r) => potential(r, { n: [256, 256] }, { backend: 'cuda', tol: 1e-8 })));
    all.forEach((r, k) => expect(Buffer.from(r.phi.buffer).equals(Buffer.from(one[k].buffer))).toBe(true));
  });

  test('a failed allocation and a failed launch fail one call only; the device keeps working', async () => {
    const { native } = require('../lib/native');
    const rho = f32(64 * 64);
    native()._setFault({ kind: 'oom' });
    await expect(potential(rho, { n: [64, 64] }, { backend: 'cuda' })).rejects.toMatchObject({ code: 'E_OOM' });
    native()._setFault({ kind: 'launch' });
    await expect(potential(rho, { n: [64, 64] }, { backend: 'cuda' })).rejects.toMatchObject({ code: 'E_DEVICE' });
    native()._setFault({ kind: 'none' });
    expect((await potential(rho, { n: [64, 64] }, { backend: 'cuda' })).backend).toBe('cuda');
    expect(device.info().cudaDevices[0].usable).toBe(true);
  });

  test('a sticky error loses the device for the process: E_DEVICE for cuda, one line and the CPU for auto', () => {
    const script = `
      const s = require(${JSON.stringify(path.join(root, 'dist', 'lib'))});
      const { native } = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'native'))});
      const rho = new Float32Array(64 * 64).fill(1), g = { n: [64, 64] };
      const out = [];
      const tryCall = (o) => s.potential(rho, g, o).then((r) => out.push(r.backend), (e) => out.push(e.code + ': ' + e.message));
      native()._setFault({ kind: 'sticky' });
      tryCall({ backend: 'cuda' })
        .then(() => tryCall({ backend: 'cuda' }))
        .then(() => tryCall({ backend: 'auto' }))
        .then(() => tryCall({}))
        .then(() => console.log(JSON.stringify({ out, info: s.device.info() })));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, SEMFIELD_BACKEND: 'auto' } });
    expect(r.status).toBe(0);
    const { out, info: after } = JSON.parse(r.stdout);
    expect(out[0]).toMatch(/^E_DEVICE: CUDA error on device \d+: an illegal memory access .*unusable for the rest of this process/);
    expect(out[1]).toMatch(/^E_DEVICE: device \d+ \(.*\) is unusable since an earlier call failed on it .*restart the process/);
    expect(out.slice(2)).toEqual(['cpu', 'cpu']);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/failed \(an illegal memory access.*\); backend 'auto' runs on the CPU for the rest of this process/);
    expect(after.auto).toBe('cpu');
    expect(after.cudaDevices[0].usable).toBe(false);
  });

  test('abort lands within 100 ms on the GPU paths: a pair sum, a multigrid solve, a wave run', async () => {
    const { SemfieldError: E } = require('../lib');
    const latency = async (start: (signal: AbortSignal) => Promise<unknown>) => {
      const ac = new AbortController();
      const p = start(ac.signal);
      await new Promise((r) => setTimeout(r, 60));
      const t0 = performance.now();
      ac.abort();
      const err = await p.then(() => undefined, (e) => e);
      expect(err).toBeInstanceOf(E);
      expect(err.code).toBe('E_ABORTED');
      return performance.now() - t0;
    };
    const d = 16, x = f32(400000 * d);
    expect(await latency((signal) => points.potential(x, x, { d, kernel: { kind: 'energy' }, backend: 'cuda', signal }))).toBeLessThan(100);
    const rho = f32(2048 * 2048);
    expect(await latency((signal) => potential(rho, { n: [2048, 2048] }, { tol: 1e-14, maxCycles: 100000, allowNotConverged: true, backend: 'cuda', signal }))).toBeLessThan(100);
  });
});

(hasGpu ? describe : describe.skip)('CUDA agrees with the CPU (runs where a GPU is present)', () => {
  const rel = (a: Float32Array, b: Float32Array) => maxAbsDiff(a, b) / Math.max(maxAbs(b), 1e-30);

  test('potential 2D and 3D, every boundary kind, with anchors', async () => {
    for (const bc of ['dirichlet', 'neumann', 'periodic'] as const) {
      for (const n of [[256, 128], [32, 32, 32]]) {
        const h = 1 / n[0];
        const rho = sample(n, h, (x, y, z) => Math.sin(3 * x) * Math.cos(5 * y) + z);
        const cpu = await potential(rho, { n, boundary: bc }, { backend: 'cpu', tol: 1e-9 });
        const gpu = await potential(rho, { n, boundary: bc }, { backend: 'cuda', tol: 1e-9 });
        expect(gpu.backend).toBe('cuda');
        expect(rel(gpu.phi, cpu.phi)).toBeLessThan(1e-5);
        expect(rel(gpu.E!, cpu.E!)).toBeLessThan(1e-5);
      }
    }
    const n = 64;
    const mask = new Uint8Array(n * n);
    mask.fill(1, 20 * n, 21 * n);
    const rho = sample([n, n], 1 / n, (x, y) => x - y);
    const cpu = await potential(rho, { n: [n, n] }, { backend: 'cpu', anchors: { mask }, tol: 1e-9 });
    const gpu = await potential(rho, { n: [n, n] }, { backend: 'cuda', anchors: { mask }, tol: 1e-9 });
    expect(rel(gpu.phi, cpu.phi)).toBeLessThan(1e-5);
  });

  test('deposit is bit for bit the same; interpolate, grad and condense agree', async () => {
    const pos = Float32Array.from({ length: 20000 }, (_, i) => ((i * 0.618033) % 1) * 0.999);
    const g = { n: [64, 64], h: 1 / 64 };
    const a = await deposit(pos, g, { backend: 'cpu' });
    const b = await deposit(pos, g, { backend: 'cuda' });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(rel(await interpolate(a, pos, g, { backend: 'cuda' }), await interpolate(a, pos, g, { backend: 'cpu' }))).toBeLessThan(1e-6);
    expect(rel(await grad(a, g, { backend: 'cuda' }), await grad(a, g, { backend: 'cpu' }))).toBeLessThan(1e-6);
    const ca = await condense(a, g, { backend: 'cpu' });
    const cb = await condense(a, g, { backend: 'cuda' });
    expect(Array.from(cb.labels)).toEqual(Array.from(ca.labels));
  });
});

(hasGpu ? describe : describe.skip)('CUDA agrees with the CPU on the points operations (runs where a GPU is present)', () => {
  const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => maxAbsDiff(a, b) / Math.max(maxAbs(b), 1e-30);
  const cloud = (n: number, d: number, seed: number) => Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.37 + seed) * 2);

  test('potential, distance matrix, attention, resonance, condense, induce', async () => {
    const d = 24;
    const S = cloud(700, d, 1), T = cloud(300, d, 2);
    for (const kernel of [{ kind: 'gaussian', sigma: 2 }, { kind: 'energy' }, { kind: 'yukawa', kappa: 0.3, eps: 0.1 }] as const) {
      const a = await points.potential(S, T, { d, kernel, backend: 'cpu' });
      const b = await points.potential(S, T, { d, kernel, backend: 'cuda' });
      expect(rel(b, a)).toBeLessThan(1e-5);
    }
    const offsets = Int32Array.from([0, 100, 350, 700]);
    const ma = await points.distanceMatrix(S, offsets, { d, backend: 'cpu' });
    const mb = await points.distanceMatrix(S, offsets, { d, backend: 'cuda' });
    expect(rel(mb.values, ma.values)).toBeLessThan(1e-4);
    const at = await points.attention(T, S, S, { d, kernel: { kind: 'gaussian', sigma: 3 }, backend: 'cpu' });
    const bt = await points.attention(T, S, S, { d, kernel: { kind: 'gaussian', sigma: 3 }, backend: 'cuda' });
    expect(rel(bt, at)).toBeLessThan(1e-5);
    const ra = await points.resonance(S, T, [0, 1, 2], { d, damping: 0.2, backend: 'cpu' });
    const rb = await points.resonance(S, T, [0, 1, 2], { d, damping: 0.2, backend: 'cuda' });
    expect(rel(rb.R, ra.R)).toBeLessThan(1e-5);
    const ca = await points.condense(T, { d, kernel: { kind: 'gaussian', sigma: 2 }, backend: 'cpu' });
    const cb = await points.condense(T, { d, kernel: { kind: 'gaussian', sigma: 2 }, backend: 'cuda' });
    expect(cb.k).toBe(ca.k);
    const labeled = Int32Array.from([0, 5, 99]), values = Float32Array.from([1, 0, -1]);
    const ia = await points.induce(T, { d, labeled, values, kernel: { kind: 'gaussian', sigma: 3 }, backend: 'cpu' });
    const ib = await points.induce(T, { d, labeled, values, kernel: { kind: 'gaussian', sigma: 3 }, backend: 'cuda' });
    expect(rel(ib.values, ia.values)).toBeLessThan(1e-4);
  });
});

test('host scratch is kept for the next call of the same shape, within its cap; releaseScratch() gives it back', () => {
  const root = path.resolve(__dirname, '..');
  const run = (mb: string | undefined) => {
    const env = { ...process.env };
    if (mb === undefined) delete env.SEMFIELD_HOST_CACHE_MB;
    else env.SEMFIELD_HOST_CACHE_MB = mb;
    const r = spawnSync(process.execPath, ['-e', `
      const s = require(${JSON.stringify(path.join(root, 'dist', 'lib'))});
      const rho = Float32Array.from({ length: 512 * 512 }, (_, i) => Math.sin(i * 0.37));
      (async () => {
        const out = { empty: s.device.scratch() };
        const a = await s.potential(rho, { n: [512, 512] }, { field: false, backend: 'cpu' });
        out.first = s.device.scratch();
        const b = await s.potential(rho, { n: [512, 512] }, { field: false, backend: 'cpu' });
        out.second = s.device.scratch();
        out.same = a.energy === b.energy;
        out.released = s.device.releaseScratch();
        out.after = s.device.scratch();
        const c = await s.potential(rho, { n: [512, 512] }, { field: false, backend: 'cpu' });
        out.again = c.energy === a.energy;
        console.log(JSON.stringify(out));
      })();`], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout);
  };
  const os = require('node:os') as typeof import('node:os');
  const d = run(undefined);
  // Default cap: an eighth of this process's memory (its cgroup's limit where smaller).
  expect(d.empty).toEqual({ heldBytes: 0, capBytes: d.empty.capBytes, blocks: 0 });
  expect(d.empty.capBytes).toBeGreaterThan(0);
  expect(d.empty.capBytes).toBeLessThanOrEqual(os.totalmem() / 8);
  // A 512^2 solve's levels and work arrays (about 30 bytes a cell) are kept...
  expect(d.first.heldBytes).toBeGreaterThan(512 * 512 * 16);
  // ...and the second call of the shape takes the same blocks and gives them back.
  expect(d.second).toEqual(d.first);
  expect(d.same).toBe(true);
  expect(d.released).toBe(d.first.heldBytes);
  expect(d.after).toMatchObject({ heldBytes: 0, blocks: 0 });
  expect(d.again).toBe(true);
  // SEMFIELD_HOST_CACHE_MB caps it: 2 MiB holds some of the blocks, 0 none.
  const two = run('2');
  expect(two.empty.capBytes).toBe(2 * 2 ** 20);
  expect(two.first.heldBytes).toBeGreaterThan(0);
  expect(two.first.heldBytes).toBeLessThanOrEqual(2 * 2 ** 20);
  expect(two.same).toBe(true);
  const none = run('0');
  expect(none.first).toEqual({ heldBytes: 0, capBytes: 0, blocks: 0 });
  expect(none.same).toBe(true);
});
