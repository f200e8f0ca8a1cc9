// The wave driver for any execution policy: leapfrog steps of
// cuda/wave_k.h over each field, with probes (cloud-in-cell interpolation),
// snapshots and the discrete energy recorded along the way.
#pragma once
#include <cmath>
#include <utility>

#include "../../cuda/cic_k.h"
#include "../../cuda/wave_k.h"
#include "../errors.h"
#include "../jobs.h"

namespace sf {

// One leapfrog step of a field: next = wave_point(cur, next) at every cell.
// (The CPU backend has a row-by-row overload in wave_cpu.h.)
template <class Exec>
void wave_step(Exec& ex, const Grid& g, const WaveCoef& w, const float* cur, float* next, const float* src, float fn) {
  ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) { next[c] = wave_point(g, w, cur, next, src ? src[c] * fn : 0.0f, c, x, y, z); });
}

// The step before the first (wave_start_point) at every cell into up, from
// u0, the velocity v0 (null: at rest) and the source src f0 (null: none).
// (The CPU backend has a row-by-row overload in wave_cpu.h.)
template <class Exec>
void wave_start(Exec& ex, const Grid& g, const WaveCoef& w, float dt, float gamma, const float* u0, const float* v0, const float* src,
                float f0, float* up) {
  ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    up[c] = wave_start_point(g, w, dt, gamma, u0, v0 ? v0[c] : 0.0f, src ? src[c] * f0 : 0.0f, c, x, y, z);
  });
}

// Two steps: up <- u^{n+1} (from u and up, source amplitude f0), then
// u <- u^{n+2} (from up and u, f1); u and up keep their roles. (The CPU
// backend fuses them into one sweep in wave_cpu.h.)
template <class Exec>
void wave_two_steps(Exec& ex, const Grid& g, const WaveCoef& w, float* u, float* up, const float* src, float f0, float f1) {
  wave_step(ex, g, w, u, up, src, f0);
  wave_step(ex, g, w, up, u, src, f1);
}

template <class Exec>
void wave_field(Exec& ex, WaveJob& job, int b) {
  const Grid g = job.g;
  const idx N = g.cells();
  const int steps = job.steps, np = job.np;
  const float dt = (float)job.dt, gamma = (float)job.gamma;
  WaveCoef w;
  w.ih2 = (float)(1.0 / (g.h * g.h));
  w.c2dt2 = (float)(job.c * job.c * job.dt * job.dt);
  w.k2dt2 = (float)(job.kappa * job.kappa * job.dt * job.dt);
  w.dt2 = (float)(job.dt * job.dt);
  w.a = (float)(1.0 - job.gamma * job.dt / 2);
  w.inv_b = (float)(1.0 / (1.0 + job.gamma * job.dt / 2));
  const double idt = 1.0 / job.dt, c2 = job.c * job.c, k2 = job.kappa * job.kappa, ih2 = 1.0 / (g.h * g.h), hk = std::pow(g.h, g.dim);

  // The two time levels step in the outputs themselves where the kernels
  // can write them (the CPU: no copies out), u starting in the one where
  // it ends after `steps` swaps.
  float* out_u = ex.output(job.u + b * N, N);
  float* out_up = ex.output(job.uprev_out + b * N, N);
  float* u = steps % 2 == 0 ? out_u : out_up;
  float* up = steps % 2 == 0 ? out_up : out_u;
  ex.upload_into(u, job.u0 + b * N, N);
  const float* src = job.src ? ex.upload(job.src + (job.src_per_field ? b * N : 0), N) : nullptr;
  const float* f = job.f ? job.f + (job.f_per_field ? (idx)b * steps : 0) : nullptr;
  auto amp = [&](int n) { return f ? f[n] : 1.0f; };
  if (job.uprev) {
    ex.upload_into(up, job.uprev + b * N, N);
  } else {
    const float* v0 = job.v0 ? ex.upload(job.v0 + b * N, N) : nullptr;
    const float* u0 = u;
    wave_start(ex, g, w, dt, gamma, u0, v0, src, steps > 0 ? amp(0) : 1.0f, up);
  }
  const float* probes = np ? ex.upload(job.probes, (idx)np * g.dim) : nullptr;
  idx rec = (idx)(steps + 1) * np;
  float* pout = np ? ex.output(job.probe_out + (idx)b * rec, rec) : nullptr;
  auto probe = [&](int n) {
    if (!np) return;
    const float* cur = u;
    float* dst = pout + (idx)n * np;
    ex.for_n(np, [=] SF_LAMBDA(idx p) { dst[p] = (float)interpolate_point(g, probes + p * g.dim, cur); });
  };
  const int nsnap = job.every ? steps / job.every + 1 : 0;
  auto snapshot = [&](int n) {
    if (job.every && n % job.every == 0) ex.download(job.snaps + ((idx)b * nsnap + n / job.every) * N, u, N);
  };
  const int nen = job.energy_every ? steps / job.energy_every + 1 : 0;
  // Energy between the step before and the current one.
  auto energy = [&](int n) {
    if (!job.energy_every || n % job.energy_every) return;
    const float* older = up;
    const float* newer = u;
    job.energy[(idx)b * nen + n / job.energy_every] =
        hk * ex.sum_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) { return wave_energy_point(g, older, newer, idt, c2, k2, ih2, c, x, y, z); });
  };
  probe(0);
  snapshot(0);
  energy(0);
  // Whether anything is recorded after step n (probes after every step),
  // or progress reported before step n (every 64 steps).
  auto recorded = [&](int n) {
    return np || (job.every && n % job.every == 0) || (job.energy_every && n % job.energy_every == 0) || (job.progress && (n & 63) == 0);
  };
  for (int n = 0; n < steps; ++n) {
    // Every step or pair of steps (64 steps of a 4096^2 field pass 100 ms).
    if (job.cancel && *job.cancel) fail("E_ABORTED", "wave: aborted");
    if ((n & 63) == 0 && job.progress) job.progress(b, n);
    if (n + 1 < steps && !recorded(n + 1)) {
      // Two steps at once where nothing is recorded between them.
      wave_two_steps(ex, g, w, u, up, src, amp(n), amp(n + 1));
      ++n;
    } else {
      // next holds the step before; each cell reads it before writing.
      wave_step(ex, g, w, u, up, src, amp(n));
      std::swap(u, up);
    }
    probe(n + 1);
    snapshot(n + 1);
    energy(n + 1);
  }
  if (np) ex.finish_output(job.probe_out + (idx)b * rec, pout, rec);
  ex.finish_output(job.u + b * N, out_u, N);
  ex.finish_output(job.uprev_out + b * N, out_up, N);
  ex.sync();
}

}  // namespace sf
