/**
 * Wave and FDTD benchmarks: cell updates per second and effective bandwidth
 * as a fraction of the triad (ofTriad: the bytes a step reads and writes when
 * its passes run one by one, as on the GPU: wave 12 per cell, 2D TMz 40, 3D
 * 112), and the fraction for the bytes the CPU backend's fused sweeps move
 * (movedOfTriad: wave 8, two steps per sweep; TMz 24 and 3D 48, each field
 * read and written once per step), semfield against MEEP
 * (Debian python3-meep, serial) on the same 2D TMz grid on one core and on
 * all cores, and the mesh resonance sweep per frequency in multigrid work
 * units (one V-cycle of the potential solver on the same grid).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { maxwell, potential, resonance, wave } from '../lib';
import { native } from '../lib/native';
import type { BenchContext } from './fractal';

function meep(n: number, steps: number): { seconds: number; steps: number } | undefined {
  const py = `
import meep as mp, time, json
n = ${n}
sim = mp.Simulation(cell_size=mp.Vector3(1, 1, 0), resolution=n, Courant=0.5,
    sources=[mp.Source(mp.GaussianSource(frequency=5, fwidth=5), component=mp.Ez, center=mp.Vector3(0.1, 0.05))])
sim.init_sim()
sim.run(until=10 * 0.5 / n)
t = time.time()
t0 = sim.meep_time()
sim.run(until=${steps} * 0.5 / n)
print('RESULT ' + json.dumps({'seconds': time.time() - t, 'steps': round((sim.meep_time() - t0) / (0.5 / n))}))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) {
    process.stdout.write(`  (MEEP peer unavailable: ${(r.stderr || '').trim().split('\n').pop()})\n`);
    return undefined;
  }
  return JSON.parse(line.slice(7));
}

// semfield's own 2D TMz run in a child process with SEMFIELD_THREADS=1.
function oneCore(n: number, steps: number): number | undefined {
  const script = `
    const { maxwell } = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
    const n = ${n}, h = 1 / n, dt = 0.5 * h;
    const init = new Float32Array(6 * n * n); for (let i = 0; i < n * n; i++) init[2 * n * n + i] = Math.sin(i * 1e-3);
    maxwell({ n: [n, n], h, dt, steps: 10, init }).then(async () => {
      const t = process.hrtime.bigint();
      await maxwell({ n: [n, n], h, dt, steps: ${steps}, init });
      console.log(Number(process.hrtime.bigint() - t) / 1e9);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, SEMFIELD_THREADS: '1' } });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

export async function wavesBench(ctx: BenchContext): Promise<void> {
  const { rows, measure, triadNow } = ctx;
  // The stencils' rates against the triad measured just before and after
  // each (BenchContext.triadNow); the resonance rows need no triad.
  let triadGBs = ctx.triadGBs;
  const alongTriad = async (...a: Parameters<BenchContext['measure']>): Promise<number> => {
    const t0 = triadNow();
    const t = await measure(...a);
    triadGBs = (t0 + triadNow()) / 2;
    return t;
  };
  for (const n of [1024, 2048]) {
    const u0 = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 1e-3));
    const steps = 20, dt = 0.5 / (Math.SQRT2 * n);
    const t = await alongTriad(`wave ${n}^2 x ${steps} steps`, () => wave(u0, { n: [n, n] }, { dt, steps }), true, 5);
    const cu = (n * n * steps) / t, GBs = (12 * cu) / 1e9;
    rows.push({ name: `wave ${n}^2`, medianMs: t * 1e3, samples: n * n * steps, cellsPerSecond: cu, GBs, triadNowGBs: triadGBs, ofTriad: GBs / triadGBs, movedOfTriad: (8 * cu) / 1e9 / triadGBs });
  }
  const peers: Record<number, { ours: number; meep?: number; oneCore?: number }> = {};
  for (const n of [1024, 2048]) {
    const h = 1 / n, dt = 0.5 * h, steps = 20;
    const init = new Float32Array(6 * n * n);
    for (let i = 0; i < n * n; i++) init[2 * n * n + i] = Math.sin(i * 1e-3);
    const t = await alongTriad(`maxwell TMz ${n}^2 x ${steps} steps`, () => maxwell({ n: [n, n], h, dt, steps, init }), true, 5);
    const cu = (n * n * steps) / t, GBs = (40 * cu) / 1e9;
    const m = meep(n, 40), one = oneCore(n, 40);
    const meepCu = m ? (n * n * m.steps) / m.seconds : undefined;
    const oneCu = one ? (n * n * 40) / one : undefined;
    peers[n] = { ours: cu, meep: meepCu, oneCore: oneCu };
    rows.push({
      name: `maxwell TMz ${n}^2`, medianMs: t * 1e3, samples: n * n * steps, cellsPerSecond: cu, GBs, triadNowGBs: triadGBs, ofTriad: GBs / triadGBs, movedOfTriad: (24 * cu) / 1e9 / triadGBs,
      ...(meepCu ? { peerCellsPerSecond: meepCu, speedupVsPeer: cu / meepCu } : {}),
      ...(oneCu && meepCu ? { oneCoreSpeedupVsPeer: oneCu / meepCu } : {}),
    });
  }
  {
    const n = 128, h = 1 / n, dt = 0.5 * h, steps = 10;
    const init = new Float32Array(6 * n ** 3);
    for (let i = 0; i < n ** 3; i++) init[2 * n ** 3 + i] = Math.sin(i * 1e-3);
    const t = await alongTriad(`maxwell 3D ${n}^3 x ${steps} steps`, () => maxwell({ n: [n, n, n], h, dt: dt / Math.SQRT2, steps, init }), true, 3);
    const cu = (n ** 3 * steps) / t, GBs = (112 * cu) / 1e9;
    rows.push({ name: `maxwell 3D ${n}^3`, medianMs: t * 1e3, samples: n ** 3 * steps, cellsPerSecond: cu, GBs, triadNowGBs: triadGBs, ofTriad: GBs / triadGBs, movedOfTriad: (48 * cu) / 1e9 / triadGBs });
  }
  {
    // The resonance figure's sweep: 300 frequencies in [0, 30] on 128^2, damping 0.1,
    // the default tolerance. Its cost per frequency in work units, one work
    // unit being one fine-grid residual evaluation of the same grid in the
    // same run (and, as before, in V-cycles of the potential solver).
    const n = 128, g = { n: [n, n] };
    const a = Float32Array.from({ length: n * n }, (_, i) => Math.exp(-(((i % n) - 40) ** 2 + (Math.floor(i / n) - 60) ** 2) / 50));
    const b = Float32Array.from({ length: n * n }, (_, i) => Math.exp(-(((i % n) - 90) ** 2 + (Math.floor(i / n) - 70) ** 2) / 50));
    const rhs = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37));
    const ad = native();
    const grid = { dim: 2, n: [n, n], h: 1 / n, bc: [1, 1] };
    const u = new Float32Array(n * n), r = new Float32Array(n * n);
    const tr = await measure(`residual ${n}^2`, () => ad.residualKernel({ grid, u, f: rhs, r }));
    const tv = await measure(`potential ${n}^2, 10 cycles`, () => potential(rhs, g, { tol: 1e-30, maxCycles: 10, allowNotConverged: true }), true, 5);
    const cycle = tv / 10;
    for (const [lo, hi, count] of [[0, 30, 300], [0, 10, 100], [10, 30, 200]]) {
      const w = Array.from({ length: count }, (_, k) => lo + ((hi - lo) * k) / (count - 1));
      let last: Awaited<ReturnType<typeof resonance>> | undefined;
      const t = await measure(`resonance ${n}^2, ${count} frequencies in [${lo}, ${hi}]`, async () => {
        last = await resonance(a, g, { w, rhoB: b, damping: 0.1 });
      }, true, 3);
      const s = last!;
      rows.push({
        name: `resonance 128^2 ${count} w in [${lo},${hi}]`, medianMs: t * 1e3, samples: w.length,
        workUnits: t / w.length / tr, vCycles: t / w.length / cycle, cycles: s.cycles[0],
        lanczosSteps: Math.max(...s.iterations), converged: s.converged.every((v) => v === 1), worstResidual: Math.max(...s.residual),
      });
    }
  }
  for (const [n, p] of Object.entries(peers))
    if (p.meep) process.stdout.write(`  TMz ${n}^2: semfield ${(p.ours / 1e6).toFixed(0)} Mcell/s on all cores${p.oneCore ? `, ${(p.oneCore / 1e6).toFixed(0)} on one` : ''}; MEEP ${(p.meep / 1e6).toFixed(0)} Mcell/s (one process)\n`);
}
