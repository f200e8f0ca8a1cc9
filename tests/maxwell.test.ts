// Maxwell by the Yee scheme: PEC cavity frequencies (from a probe's
// spectrum) against f = 1/2 sqrt((m/a)^2 + (n/b)^2) and MEEP, the conserved
// energy, CPML reflection, discrete charge conservation, Faraday's law for
// the emf loop, and the errors.
import { spawnSync } from 'node:child_process';
import { SemfieldError, maxwell } from '../lib';
import { errorOf } from './helpers';

/** The frequency of the largest spectral peak near f0 (Hann window, golden-section search). */
function peak(sig: ArrayLike<number>, dt: number, f0: number, span: number): number {
  const N = sig.length;
  const w = Float64Array.from({ length: N }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (N - 1)));
  const mag = (f: number) => {
    let re = 0, im = 0;
    for (let n = 0; n < N; n++) {
      const a = 2 * Math.PI * f * n * dt;
      re += sig[n] * w[n] * Math.cos(a);
      im -= sig[n] * w[n] * Math.sin(a);
    }
    return Math.hypot(re, im);
  };
  let best = f0, bm = 0;
  for (let k = -40; k <= 40; k++) {
    const f = f0 * (1 + (span * k) / 40), m = mag(f);
    if (m > bm) (bm = m), (best = f);
  }
  let lo = best * (1 - span / 40), hi = best * (1 + span / 40);
  for (let it = 0; it < 50; it++) {
    const a = lo + (hi - lo) * 0.382, b = lo + (hi - lo) * 0.618;
    if (mag(a) > mag(b)) hi = b;
    else lo = a;
  }
  return (lo + hi) / 2;
}

const gauss = (t0: number, w: number) => (t: number) => Math.exp(-(((t - t0) / w) ** 2));
// Its time derivative: no net charge is left behind (no static field in the spectrum).
const dgauss = (t0: number, w: number) => (t: number) => (-2 * (t - t0) / (w * w)) * Math.exp(-(((t - t0) / w) ** 2));

// The PEC cavity of MEEP's comparison: a = 1, b = 0.75 at 40 cells per unit.
const A = 1, B = 0.75, RES = 40, NX = 40, NY = 30, H = 1 / RES;

async function cavity(mode: 'TMz' | 'TEz', T = 150) {
  const dt = 0.5 * H, steps = Math.round(T / dt);
  const prof = new Float32Array(NX * NY);
  prof[7 * NX + 11] = 1 / (H * H);
  const r = await maxwell({
    n: [NX, NY], h: H, dt, steps, mode,
    // TMz: Jz; TEz: Jx and Jy (Jx alone leaves the TE_m0 modes, with Ex = 0, unexcited).
    sources: mode === 'TMz'
      ? [{ component: 'z', profile: prof, f: gauss(1, 0.2) }]
      : [{ component: 'x', profile: prof, f: dgauss(1, 0.2) }, { component: 'y', profile: prof, f: dgauss(1, 0.2) }],
    probes: [{ component: mode === 'TMz' ? 'Ez' : 'Hz', at: mode === 'TMz' ? [13 * H, 9 * H] : [13.5 * H, 9.5 * H] }],
    energyEvery: 100,
  });
  return { r, dt, steps };
}

describe('maxwell: SPEC checks', () => {
  test('PEC cavity: TM_mn and TE_mn frequencies within 0.5%; lossless energy conserved over 10^4 steps', async () => {
    const { r, dt, steps } = await cavity('TMz');
    expect(steps).toBeGreaterThanOrEqual(10000);
    const sig = r.probes.subarray(Math.round(3 / dt));
    for (const [m, n] of [[1, 1], [2, 1], [1, 2], [2, 2]]) {
      const f = 0.5 * Math.hypot(m / A, n / B);
      expect(Math.abs(peak(sig, dt, f, 0.01) / f - 1)).toBeLessThan(0.005);
    }
    // After the source is off (t > 2), W is constant up to rounding.
    const E = r.energy!;
    const after = Array.from(E).slice(Math.ceil(2 / dt / 100) + 1);
    const w0 = after[0];
    for (const w of after) expect(Math.abs(w - w0) / w0).toBeLessThan(1e-4);
    const te = await cavity('TEz', 80);
    const sigTe = te.r.probes.subarray(Math.round(3 / te.dt));
    for (const [m, n] of [[1, 0], [0, 1], [1, 1]]) {
      const f = 0.5 * Math.hypot(m / A, n / B);
      expect(Math.abs(peak(sigTe, te.dt, f, 0.01) / f - 1)).toBeLessThan(0.005);
    }
  }, 60000);

  test('CPML: a pulse leaves the box with less than 1% reflected (against a box too large to reflect in time)', async () => {
    const h = 1 / 40, dt = 0.5 * h, tw = 0.15, steps = Math.round(4.5 / dt);
    const f = (t: number) => (-(t - 1) / tw) * Math.exp(-(((t - 1) / tw) ** 2));
    const run = async (n: number, boundary: 'cpml' | 'pec') => {
      const c = n >> 1, prof = new Float32Array(n * n);
      prof[c * n + c] = 1 / (h * h);
      return (await maxwell({ n: [n, n], h, dt, steps, boundary, pml: boundary === 'cpml' ? { cells: 10 } : undefined, sources: [{ component: 'z', profile: prof, f }], probes: [{ component: 'Ez', at: [(c + 26) * h, c * h] }] })).probes;
    };
    const ref = await run(480, 'pec'), pml = await run(80, 'cpml'), pec = await run(80, 'pec');
    const worst = (a: Float32Array) => {
      let d = 0, m = 0;
      for (let i = 0; i < ref.length; i++) (d = Math.max(d, Math.abs(a[i] - ref[i]))), (m = Math.max(m, Math.abs(ref[i])));
      return d / m;
    };
    expect(worst(pml)).toBeLessThan(0.01);
    expect(worst(pec)).toBeGreaterThan(0.5);  // the measure sees a reflection when there is one
  }, 30000);

  test('charge conservation: div E(n) = -sum dt div J exactly (TEz, a point current)', async () => {
    const n = 24, h = 1 / n, dt = 0.5 * h, steps = 60, i0 = 10, j0 = 12;
    const prof = new Float32Array(n * n);
    prof[j0 * n + i0] = 1;
    const f = Float32Array.from({ length: steps }, (_, k) => Math.sin(0.3 * k) + 0.5);
    const r = await maxwell({ n: [n, n], h, dt, steps, mode: 'TEz', sources: [{ component: 'x', profile: prof, f }] });
    const Ex = r.fields.subarray(0, n * n), Ey = r.fields.subarray(n * n, 2 * n * n);
    // Jx on the edge (i0 + 1/2, j0): its divergence is +1/h at node i0 and -1/h at node i0 + 1;
    // d(div E)/dt = -div J.
    const q = f.reduce((a, b) => a + b, 0) * dt / h;
    let worst = 0;
    for (let j = 1; j < n; j++)
      for (let i = 1; i < n; i++) {
        const div = (Ex[j * n + i] - Ex[j * n + i - 1] + Ey[j * n + i] - Ey[(j - 1) * n + i]) / h;
        const want = j === j0 && i === i0 ? -q : j === j0 && i === i0 + 1 ? q : 0;
        worst = Math.max(worst, Math.abs(div - want));
      }
    expect(worst / q).toBeLessThan(1e-5);
  });

  test('Faraday: the emf around a loop equals -d(flux)/dt, step by step; a driven loop induces less in a farther one', async () => {
    const n = 40, h = 1 / n, dt = 0.5 * h, steps = 120;
    // Loop A: a square current loop (counter-clockwise J on its edges), driven by a smooth pulse.
    const jx = new Float32Array(n * n), jy = new Float32Array(n * n);
    for (let i = 8; i < 14; i++) (jx[8 * n + i] = 1), (jx[14 * n + i] = -1);
    for (let j = 8; j < 14; j++) (jy[j * n + 14] = 1), (jy[j * n + 8] = -1);
    const f = (t: number) => Math.sin(12 * t) * (1 - Math.exp(-((t / 0.2) ** 2)));
    const loop = (i0: number, j0: number, s: number) => [[i0, j0], [i0 + s, j0], [i0 + s, j0 + s], [i0, j0 + s], [i0, j0]].map((v) => v.map((k) => k * h));
    const r = await maxwell({
      n: [n, n], h, dt, steps, mode: 'TEz', every: 1,
      sources: [{ component: 'x', profile: jx, f }, { component: 'y', profile: jy, f }],
      loops: [loop(18, 8, 6), loop(26, 8, 6)],
    });
    const N = n * n, L = 2;
    const flux = (s: number, i0: number, j0: number, size: number) => {
      const hz = r.snapshots!.subarray((s * 6 + 5) * N, (s * 6 + 6) * N);
      let p = 0;
      for (let j = j0; j < j0 + size; j++) for (let i = i0; i < i0 + size; i++) p += hz[j * n + i] * h * h;
      return p;
    };
    let worst = 0, scale = 0;
    for (let s = 1; s < steps; s++) {
      const lhs = flux(s + 1, 18, 8, 6) - flux(s, 18, 8, 6), rhs = -dt * r.emf[s * L];
      worst = Math.max(worst, Math.abs(lhs - rhs));
      scale = Math.max(scale, Math.abs(rhs));
    }
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThan(1e-4);
    const amp = (l: number) => Math.max(...Array.from({ length: steps + 1 }, (_, s) => Math.abs(r.emf[s * L + l])));
    expect(amp(1)).toBeLessThan(amp(0));
  });

  test('a conducting medium loses energy; a dielectric slows the cavity modes by sqrt(eps)', async () => {
    const dt = 0.5 * H, steps = Math.round(60 / dt);
    const prof = new Float32Array(NX * NY);
    prof[7 * NX + 11] = 1 / (H * H);
    const base = { n: [NX, NY], h: H, dt, steps, sources: [{ component: 'z' as const, profile: prof, f: gauss(1, 0.2) }], probes: [{ component: 'Ez' as const, at: [13 * H, 9 * H] }], energyEvery: 200 };
    const lossy = await maxwell({ ...base, sigma: new Float32Array(NX * NY).fill(0.05) });
    const E = Array.from(lossy.energy!).slice(2);
    for (let i = 1; i < E.length; i++) expect(E[i]).toBeLessThan(E[i - 1]);
    const glass = await maxwell({ ...base, eps: new Float32Array(NX * NY).fill(2.25) });
    const f11 = 0.5 * Math.hypot(1 / A, 1 / B) / 1.5;
    expect(Math.abs(peak(glass.probes.subarray(Math.round(3 / dt)), dt, f11, 0.01) / f11 - 1)).toBeLessThan(0.005);
  }, 30000);
});

function haveMeep(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import meep'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (process.env.CI) throw new Error('CI needs /usr/bin/python3 with meep (apt-get install python3-meep)');
  return false;
}

(haveMeep() ? test : test.skip)('the same cavity in MEEP: the same resonant frequencies to 0.5%', async () => {
  const py = `
import meep as mp, json
a, b, res = ${A}, ${B}, ${RES}
src = [mp.Source(mp.GaussianSource(frequency=1.2, fwidth=1.6), component=mp.Ez, center=mp.Vector3(-a/2 + 11.0/res, -b/2 + 7.0/res))]
sim = mp.Simulation(cell_size=mp.Vector3(a, b, 0), resolution=res, sources=src)
h = mp.Harminv(mp.Ez, mp.Vector3(-a/2 + 13.0/res, -b/2 + 9.0/res), 1.2, 1.6)
sim.run(mp.after_sources(h), until_after_sources=150)
print('RESULT ' + json.dumps(sorted(m.freq for m in h.modes if m.amp and abs(m.amp) > 1e-2)))`;
  const out = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', maxBuffer: 1 << 24 });
  expect(out.status).toBe(0);
  const theirs = JSON.parse(out.stdout.split('\n').find((l) => l.startsWith('RESULT '))!.slice(7)) as number[];
  const { r, dt } = await cavity('TMz');
  const sig = r.probes.subarray(Math.round(3 / dt));
  let matched = 0;
  for (const [m, n] of [[1, 1], [2, 1], [1, 2], [2, 2]]) {
    const f = 0.5 * Math.hypot(m / A, n / B);
    const meep = theirs.reduce((best, x) => (Math.abs(x - f) < Math.abs(best - f) ? x : best), Infinity);
    expect(Math.abs(meep / f - 1)).toBeLessThan(0.005);
    expect(Math.abs(peak(sig, dt, f, 0.01) / meep - 1)).toBeLessThan(0.005);
    matched++;
  }
  expect(matched).toBe(4);
}, 60000);

test('a batch equals its fields run one by one (per-field materials and initial fields)', async () => {
  const n = 24, N = n * n, h = 1 / n, dt = 0.5 * h, steps = 40;
  const init = Float32Array.from({ length: 2 * 6 * N }, (_, i) => Math.sin(i * 0.013));
  const eps = Float32Array.from({ length: 2 * N }, (_, i) => (i < N ? 1 : 2.5));
  const probes = [{ component: 'Ez' as const, at: [5 * h, 7 * h] }];
  const both = await maxwell({ n: [n, n], h, dt, steps, batch: 2, init, eps, probes, energyEvery: 10, boundary: 'cpml', pml: { cells: 4 } });
  for (let b = 0; b < 2; b++) {
    const one = await maxwell({ n: [n, n], h, dt, steps, init: init.slice(b * 6 * N, (b + 1) * 6 * N), eps: eps.slice(b * N, (b + 1) * N), probes, energyEvery: 10, boundary: 'cpml', pml: { cells: 4 } });
    expect(Array.from(both.fields.subarray(b * 6 * N, (b + 1) * 6 * N))).toEqual(Array.from(one.fields));
    expect(Array.from(both.probes.subarray(b * (steps + 1), (b + 1) * (steps + 1)))).toEqual(Array.from(one.probes));
    expect(Array.from(both.energy!.subarray(b * 5, (b + 1) * 5))).toEqual(Array.from(one.energy!));
  }
  // Small fields run side by side; the progress counts the steps taken over
  // the batch, every 64 steps of each field, and never goes back.
  const seen: number[] = [];
  const three = await maxwell({ n: [n, n], h, dt, steps: 200, batch: 3, init: new Float32Array(3 * 6 * N).map((_, i) => Math.cos(i * 0.01)), boundary: 'cpml', pml: { cells: 4 }, onProgress: (s) => seen.push(s) });
  expect(seen.length).toBe(3 * 4);
  for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
  expect(Math.max(...seen)).toBeLessThan(3 * 200);
  expect(Math.max(...seen)).toBeGreaterThanOrEqual(3 * 192);  // the last report comes after every field reported 192
  const last = await maxwell({ n: [n, n], h, dt, steps: 200, init: new Float32Array(3 * 6 * N).map((_, i) => Math.cos(i * 0.01)).subarray(2 * 6 * N), boundary: 'cpml', pml: { cells: 4 } });
  expect(Array.from(three.fields.subarray(2 * 6 * N))).toEqual(Array.from(last.fields));
  const two = (await errorOf(() => maxwell({ n: [n, n], h, dt, steps: 1, batch: 2, eps: new Float32Array(3 * N).fill(1) }))) as SemfieldError;
  expect(two.code).toBe('E_SHAPE');
  expect(two.message).toContain(`eps must be of length ${N} or ${2 * N} (batch 2)`);
  // With one field there is one length to name.
  const one = (await errorOf(() => maxwell({ n: [n, n], h, dt, steps: 1, init: new Float32Array(3 * N) }))) as SemfieldError;
  expect(one.code).toBe('E_SHAPE');
  expect(one.message).toContain(`init must be of length ${6 * N} (got Float32Array(${3 * N}))`);
});

test('positions are in domain units, as in every mesh operation: probes interpolate their component linearly, loops sit on nodes', async () => {
  // A non-square box takes h = 1 / n[0] like any GridSpec: [0, 1] x [0, 0.75].
  const n = [32, 24], h = 1 / 32, dt = 0.5 * h, steps = 30;
  const prof = new Float32Array(32 * 24);
  prof[10 * 32 + 12] = 1 / (h * h);
  const base = { n, dt, steps, mode: 'TEz' as const, every: 1, sources: [{ component: 'x' as const, profile: prof, f: (t: number) => Math.sin(20 * t) }] };
  // Hz lives at ((i + 1/2) h, (j + 1/2) h): a probe there reads the point, one between points their average.
  const r = await maxwell({ ...base, probes: [{ component: 'Hz', at: [14.5 * h, 11.5 * h] }, { component: 'Hz', at: [15 * h, 11.5 * h] }, { component: 'Hz', at: [14.75 * h, 12.25 * h] }] });
  const N = 32 * 24, hz = (s: number, i: number, j: number) => r.snapshots![(s * 6 + 5) * N + j * 32 + i];
  for (let s = 1; s <= steps; s++) {
    const want = [hz(s, 14, 11), 0.5 * (hz(s, 14, 11) + hz(s, 15, 11)), 0.75 * 0.25 * hz(s, 14, 11) + 0.25 * 0.25 * hz(s, 15, 11) + 0.75 * 0.75 * hz(s, 14, 12) + 0.25 * 0.75 * hz(s, 15, 12)];
    for (let p = 0; p < 3; p++) expect(Math.abs(r.probes[s * 3 + p] - want[p])).toBeLessThanOrEqual(1e-6 * Math.abs(want[p]) + 1e-12);
  }
  // The top wall is at y = 0.75; a probe past it names its own coordinate.
  const e = (await errorOf(() => maxwell({ ...base, probes: [{ component: 'Hz', at: [0.5, 0.76] }] }))) as SemfieldError;
  expect(e.message).toBe('maxwell: probes[0].at[1] must be in the domain [0, 0.75] (got 0.76)');
  const off = (await errorOf(() => maxwell({ ...base, loops: [[[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2], [0.1, 0.1]]] }))) as SemfieldError;
  expect(off.message).toBe('maxwell: loops[0][0][0] must be a grid node, a multiple of h = 0.03125 (got 0.1)');
});

describe('maxwell errors', () => {
  const n = [16, 16], dt = 0.5 / 16;
  test.each([
    ['a Courant violation', { n, dt: 1 / 16, steps: 1 }, 'E_CFL'],
    ['eps_r < 1', { n, dt, steps: 1, eps: new Float32Array(256).fill(0.5) }, 'E_RANGE'],
    ['a negative conductivity', { n, dt, steps: 1, sigma: new Float32Array(256).fill(-1) }, 'E_RANGE'],
    ['a non-finite source', { n, dt, steps: 2, sources: [{ component: 'z', profile: new Float32Array(256), f: Float32Array.from([1, NaN]) }] }, 'E_NONFINITE'],
    ['a loop that is not closed', { n, dt, steps: 1, mode: 'TEz', loops: [[[1, 1], [4, 1], [4, 4], [1, 4], [1, 2]].map((v) => v.map((k) => k / 16))] }, 'E_RANGE'],
    ['a diagonal segment', { n, dt, steps: 1, mode: 'TEz', loops: [[[1, 1], [4, 4], [4, 1], [1, 1], [1, 1]].map((v) => v.map((k) => k / 16))] }, 'E_RANGE'],
    ['a loop in TMz (no in-plane E)', { n, dt, steps: 1, loops: [[[1, 1], [4, 1], [4, 4], [1, 4], [1, 1]].map((v) => v.map((k) => k / 16))] }, 'E_RANGE'],
    ['a loop vertex off the nodes', { n, dt, steps: 1, mode: 'TEz', loops: [[[1, 1], [4, 1], [4, 4], [1, 4], [1, 1]].map((v) => v.map((k) => k / 16 + 0.01))] }, 'E_RANGE'],
    ['a probe of a component the mode lacks', { n, dt, steps: 1, probes: [{ component: 'Hz', at: [0.5, 0.5] }] }, 'E_RANGE'],
    ['a probe outside', { n, dt, steps: 1, probes: [{ component: 'Ez', at: [1.0001, 0] }] }, 'E_RANGE'],
    ['a CPML thicker than the box', { n, dt, steps: 1, boundary: 'cpml', pml: { cells: 8 } }, 'E_RANGE'],
    ['mode 3D in 2D', { n, dt, steps: 1, mode: '3D' }, 'E_RANGE'],
  ])('%s', async (_name, opts, code) => {
    const e = await errorOf(() => maxwell(opts as never));
    expect(e).toBeInstanceOf(SemfieldError);
    expect((e as SemfieldError).code).toBe(code);
  });

  test('3D: a PEC cube rings at f_110 = 1/2 sqrt(2) / a', async () => {
    const m = 16, h = 1 / m, dt = (0.9 * h) / Math.sqrt(3), steps = Math.round(30 / dt);
    const prof = new Float32Array(m ** 3);
    prof[(5 * m + 6) * m + 4] = 1 / h ** 3;
    const r = await maxwell({ n: [m, m, m], h, dt, steps, sources: [{ component: 'z', profile: prof, f: gauss(0.6, 0.12) }], probes: [{ component: 'Ez', at: [5 * h, 7 * h, 6.5 * h] }] });
    const f = 0.5 * Math.SQRT2;
    expect(Math.abs(peak(r.probes.subarray(Math.round(2 / dt)), dt, f, 0.02) / f - 1)).toBeLessThan(0.005);
  }, 30000);
});
