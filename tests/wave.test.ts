// The damped Klein-Gordon leapfrog against SPEC's checks: energy drift,
// the discrete dispersion relation, the damping rate; the steady state of a
// damped, driven field against the potential solver; and its errors.
import { SemfieldError, potential, wave } from '../lib';
import { errorOf, maxAbsDiff } from './helpers';

const PI = Math.PI;

/** Discrete Dirichlet eigenmode sin(m pi (x+1/2)/n) sin(l pi (y+1/2)/n) and its eigenvalue of -lap_h. */
function mode(n: number, m: number, l: number): { u: Float32Array; lambda: number } {
  const h = 1 / n, u = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) u[y * n + x] = Math.sin((m * PI * (x + 0.5)) / n) * Math.sin((l * PI * (y + 0.5)) / n);
  const lambda = (4 / (h * h)) * (Math.sin((m * PI) / (2 * n)) ** 2 + Math.sin((l * PI) / (2 * n)) ** 2);
  return { u, lambda };
}

/** Times where a signal crosses zero upwards (linear interpolation). */
function upCrossings(s: ArrayLike<number>, dt: number): number[] {
  const t: number[] = [];
  for (let i = 0; i + 1 < s.length; i++) if (s[i] < 0 && s[i + 1] >= 0) t.push((i + s[i] / (s[i] - s[i + 1])) * dt);
  return t;
}

describe('wave: SPEC checks', () => {
  test('g = 0: the discrete energy drifts by <= 1e-4 over 10^4 steps (2D Dirichlet, 3D periodic with kappa)', async () => {
    const n = 64, g = { n: [n, n] };
    const u0 = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) u0[y * n + x] = Math.exp(-(((x - 20) / 6) ** 2 + ((y - 30) / 5) ** 2)) - 0.5 * Math.exp(-(((x - 44) / 4) ** 2 + ((y - 40) / 7) ** 2));
    const dt = 0.9 / (Math.sqrt(2) * n);
    const r = await wave(u0, g, { dt, steps: 10000, energyEvery: 100 });
    const E = r.energy!;
    expect(E.length).toBe(101);
    let drift = 0;
    for (const e of E) drift = Math.max(drift, Math.abs(e - E[0]) / E[0]);
    expect(drift).toBeLessThan(1e-4);
    const m = 16, g3 = { n: [m, m, m], boundary: 'periodic' as const };
    const v0 = Float32Array.from({ length: m ** 3 }, (_, i) => Math.sin((2 * PI * (i % m)) / m) * Math.cos((2 * PI * Math.floor(i / (m * m))) / m));
    const r3 = await wave(new Float32Array(m ** 3), g3, { dt: 0.5 / (Math.sqrt(3) * m), steps: 10000, kappa: 3, v0, energyEvery: 250 });
    let d3 = 0;
    for (const e of r3.energy!) d3 = Math.max(d3, Math.abs(e - r3.energy![0]) / r3.energy![0]);
    expect(d3).toBeLessThan(1e-4);
  }, 60000);

  test('a standing mode oscillates with the discrete dispersion relation sin(w dt / 2) = dt / 2 sqrt(c^2 lambda + kappa^2), to 0.1%', async () => {
    for (const [m, l, c, kappa] of [[1, 1, 1, 0], [3, 2, 0.7, 5], [7, 1, 1.3, 0]]) {
      const n = 48, { u, lambda } = mode(n, m, l);
      const dt = 0.8 / (c * Math.sqrt(2) * n);
      const omega = (2 / dt) * Math.asin((dt / 2) * Math.sqrt(c * c * lambda + kappa * kappa));
      const period = (2 * PI) / omega, steps = Math.ceil((30 * period) / dt);
      const probe = Float32Array.from([(0.5 + (m > 1 ? 0 : 0.1)) / m * 0.999, 0.5 / l]);
      const r = await wave(u, { n: [n, n] }, { dt, steps, c, kappa, probes: probe });
      const cross = upCrossings(r.probes!, dt);
      const measured = (cross[cross.length - 1] - cross[0]) / (cross.length - 1);
      expect(Math.abs(measured - period) / period).toBeLessThan(1e-3);
      // The continuum frequency differs by more than that at these sizes: the check has teeth.
    }
  });

  test('damping g: the amplitude decays as exp(-g t / 2) to 1%', async () => {
    const n = 32, { u, lambda } = mode(n, 2, 1), gamma = 0.8, dt = 0.5 / (Math.sqrt(2) * n);
    const steps = Math.ceil(8 / dt);
    const r = await wave(u, { n: [n, n] }, { dt, steps, damping: gamma, probes: Float32Array.from([0.25 / 2, 0.5]) });
    // Discrete solution: u^n = A rho^n cos(n theta + phi) with rho^2 = (1 - g dt/2) / (1 + g dt/2),
    // whose continuum limit is exp(-g t / 2). Compare peaks to the continuum envelope.
    const p = r.probes!, a0 = p[0];
    expect(Number.isFinite(lambda)).toBe(true);
    let checked = 0;
    for (let i = 1; i + 1 < p.length; i++)
      if (p[i] > p[i - 1] && p[i] >= p[i + 1] && p[i] > 0.05 * a0) {
        // A peak: divide out the oscillation's phase by fitting a parabola through 3 samples.
        const denom = p[i - 1] - 2 * p[i] + p[i + 1];
        const top = p[i] - (denom !== 0 ? ((p[i + 1] - p[i - 1]) ** 2) / (8 * denom) : 0);
        const t = (i + (denom !== 0 ? (p[i - 1] - p[i + 1]) / (2 * denom) : 0)) * dt;
        // The damped mode's peaks also carry cos(phase) of the slightly shifted frequency;
        // at the peaks of u the envelope factor is exp(-g t/2) up to (g / 2w) corrections.
        expect(Math.abs(top / a0 - Math.exp((-gamma * t) / 2)) / Math.exp((-gamma * t) / 2)).toBeLessThan(0.01);
        checked++;
      }
    expect(checked).toBeGreaterThan(5);
  });

  test('a damped field driven by a steady source settles to the screened Poisson solution', async () => {
    const n = 32, g = { n: [n, n] }, c = 1.5, kappa = 4;
    const s = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) s[y * n + x] = Math.exp(-(((x - 12) / 3) ** 2 + ((y - 18) / 4) ** 2));
    const dt = 0.9 / Math.sqrt((c * c * 2) / (1 / n) ** 2 + (kappa * kappa) / 4);
    const r = await wave(new Float32Array(n * n), g, { dt, steps: Math.ceil(6 / dt), c, kappa, damping: 12, source: s });
    // c^2 (-lap u) + kappa^2 u = s  <=>  (-lap + (kappa/c)^2) u = s / c^2
    const ref = await potential(Float32Array.from(s, (v) => v / (c * c)), g, { kappa: kappa / c, tol: 1e-10 });
    let peak = 0;
    for (const v of ref.phi) peak = Math.max(peak, Math.abs(v));
    expect(maxAbsDiff(r.u, ref.phi) / peak).toBeLessThan(1e-4);
  });
});

describe('wave: batches, continuation, records', () => {
  const n = 24, g = { n: [n, n], boundary: 'neumann' as const };
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37)), b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.11));
  const dt = 0.5 / (Math.sqrt(2) * n);

  test('a batch equals its fields run one by one; a run continued from (u, uPrev) equals one run', async () => {
    const both = new Float32Array(2 * n * n);
    both.set(a);
    both.set(b, n * n);
    const r = await wave(both, g, { dt, steps: 50, kappa: 2 });
    const ra = await wave(a, g, { dt, steps: 50, kappa: 2 }), rb = await wave(b, g, { dt, steps: 50, kappa: 2 });
    expect(Array.from(r.u.subarray(0, n * n))).toEqual(Array.from(ra.u));
    expect(Array.from(r.u.subarray(n * n))).toEqual(Array.from(rb.u));
    const half = await wave(a, g, { dt, steps: 25, kappa: 2 });
    const rest = await wave(half.u, g, { dt, steps: 25, kappa: 2, uPrev: half.uPrev });
    expect(Array.from(rest.u)).toEqual(Array.from(ra.u));
  });

  test('records between steps taken two at a time: snapshots every 3 steps equal runs of 3k steps, progress every 64 steps of each field', async () => {
    const r = await wave(a, g, { dt, steps: 12, every: 3, kappa: 2, damping: 0.5 });
    for (const k of [1, 2, 3, 4]) {
      const one = await wave(a, g, { dt, steps: 3 * k, kappa: 2, damping: 0.5 });
      expect(Array.from(r.snapshots!.subarray(k * n * n, (k + 1) * n * n))).toEqual(Array.from(one.u));
    }
    const both = new Float32Array(2 * n * n);
    both.set(a);
    both.set(b, n * n);
    for (const energyEvery of [undefined, 3]) {
      const seen: number[][] = [];
      await wave(both, g, { dt, steps: 200, energyEvery, onProgress: (f, s) => seen.push([f, s]) });
      seen.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      expect(seen).toEqual([0, 1].flatMap((f) => [0, 64, 128, 192].map((s) => [f, s])));
    }
  });

  test('snapshots every k steps start with u0; probes and a time profile f(t)', async () => {
    const s = new Float32Array(n * n);
    s[12 * n + 12] = 1;
    const r = await wave(a, g, { dt, steps: 40, every: 10, source: s, f: (t) => Math.sin(40 * t), probes: Float32Array.from([0.5, 0.5, 0.1, 0.9]) });
    expect(r.snapshots!.length).toBe(5 * n * n);
    expect(Array.from(r.snapshots!.subarray(0, n * n))).toEqual(Array.from(a));
    expect(Array.from(r.snapshots!.subarray(4 * n * n))).toEqual(Array.from(r.u));
    expect(r.probes!.length).toBe(41 * 2);
  });

  test('errors: CFL, shapes, probes outside, conflicting starts, aborts', async () => {
    const code = async (f: () => unknown) => ((await errorOf(f)) as SemfieldError).code;
    expect(await code(() => wave(a, g, { dt: 1.01 / (Math.sqrt(2) * n), steps: 1 }))).toBe('E_CFL');
    expect(await code(() => wave(a, g, { dt: 0.99 / (Math.sqrt(2) * n), steps: 1, kappa: 40 }))).toBe('E_CFL');
    expect(((await errorOf(() => wave(a, g, { dt: 1, steps: 1 }))) as SemfieldError).message).toMatch(/dt must be at most/);
    expect(await code(() => wave(a.subarray(1), g, { dt, steps: 1 }))).toBe('E_SHAPE');
    expect(await code(() => wave(a, g, { dt, steps: 1, probes: Float32Array.from([2, 0.5]) }))).toBe('E_RANGE');
    expect(await code(() => wave(a, g, { dt, steps: 1, v0: a, uPrev: a }))).toBe('E_TYPE');
    expect(await code(() => wave(a, g, { dt, steps: 1, damping: -1 }))).toBe('E_RANGE');
    expect(await code(() => wave(Float32Array.from(a, (v, i) => (i === 5 ? NaN : v)), g, { dt, steps: 1 }))).toBe('E_NONFINITE');
    expect(await code(() => wave(a, g, { dt, steps: 2, source: a, f: Float32Array.from([1]) }))).toBe('E_SHAPE');
    const ac = new AbortController();
    const p = wave(new Float32Array(512 * 512), { n: [512, 512] }, { dt: 1e-3, steps: 1e6, signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    expect(await code(() => p)).toBe('E_ABORTED');
  });
});
