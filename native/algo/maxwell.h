// The Yee driver for any execution policy: CPML coefficients, the leapfrog
// of H and E through the bodies of cuda/yee_k.h, sources, probes, emf loops,
// energy and snapshots.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "../../cuda/yee_k.h"
#include "../errors.h"
#include "../jobs.h"

namespace sf {

// Graded CPML profile along one axis of n cells with a layer of `cells` at
// each end: sigma (rho/d)^3, kappa 1 + (kmax - 1)(rho/d)^3, alpha (1 - rho/d),
// with rho the depth into the layer at integer or half positions.
inline void pml_axis(int n, int cells, double h, double dt, double smax, double kmax, double amax, bool half, std::vector<float>& b,
                     std::vector<float>& c, std::vector<float>& kinv) {
  b.assign(n, 0.0f);
  c.assign(n, 0.0f);
  kinv.assign(n, 1.0f);
  double d = cells * h;
  for (int i = 0; i < n; ++i) {
    double x = (i + (half ? 0.5 : 0.0)) * h;
    double depth = std::max(d - x, x - (n * h - d));  // into the near layer, either side
    if (depth <= 0) continue;
    double r = std::min(depth / d, 1.0);
    double s = smax * r * r * r, k = 1 + (kmax - 1) * r * r * r, a = amax * (1 - r);
    double bb = std::exp(-(s / k + a) * dt);
    b[i] = (float)bb;
    c[i] = (float)(s > 0 ? s * (bb - 1) / (s * k + k * k * a) : 0.0);
    kinv[i] = (float)(1 / k);
  }
}

// Up to 4 current sources of one component: J = sum amp_k profile_k.
struct YeeSources {
  const float* profile[4];
  float amp[4];
  int count;
  SF_HD float at(idx c) const {
    float j = 0.0f;
    for (int k = 0; k < count; ++k) j += amp[k] * profile[k][c];
    return j;
  }
};

// One update of H component q over the grid, from the fields F (and the H
// psi arrays under CPML). (The CPU backend's yee_step in wave_cpu.h takes
// the same cells row by row.)
template <class Exec>
void yee_h_pass(Exec& ex, const YeeGrid& g, const YeePml& pml, int q, const YeeFields& F, const YeeFields* psi, float dt) {
  const YeeFields f = F, p = psi ? *psi : YeeFields{};
  const bool usep = psi != nullptr;
  ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    int ijk[3] = {x, y, z};
    yee_update_h(g, pml, q, f.f[3 + q], f.f, usep ? p.f : nullptr, dt, c, ijk);
  });
}

// One update of E component q (sources, materials: ca, cb per cell or null).
template <class Exec>
void yee_e_pass(Exec& ex, const YeeGrid& g, const YeePml& pml, int q, const YeeFields& F, const YeeFields* psi, const float* ca,
                const float* cb, float dt, const YeeSources& js) {
  const YeeFields f = F, p = psi ? *psi : YeeFields{};
  const bool usep = psi != nullptr;
  ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    int ijk[3] = {x, y, z};
    yee_update_e(g, pml, q, f.f[q], f.f + 3, usep ? p.f : nullptr, ca ? ca[c] : 1.0f, cb ? cb[c] : dt, js.at(c), c, ijk);
  });
}

// One leapfrog step: every active H component, then (after saving E into
// Eold when the energy needs E(n); Eold null otherwise) every active E
// component with its sources js[q]. psi: the H and the E psi terms (two
// sets) under CPML, or null. (The CPU backend has an overload in
// wave_cpu.h that fuses the two halves slab by slab.)
template <class Exec>
void yee_step(Exec& ex, const YeeGrid& g, const YeePml& pml, const YeeFields& six, const YeeFields* psi, const float* ca,
              const float* cb, float dt, const YeeSources* js, const bool* active, float* const* Eold) {
  for (int q = 0; q < 3; ++q)
    if (active[3 + q]) yee_h_pass(ex, g, pml, q, six, psi ? &psi[0] : nullptr, dt);
  if (Eold)
    for (int q = 0; q < 3; ++q) {
      float* dst = Eold[q];
      const float* srcq = six.f[q];
      ex.for_n(g.cells(), [=] SF_LAMBDA(idx i) { dst[i] = srcq[i]; });
    }
  for (int q = 0; q < 3; ++q)
    if (active[q]) yee_e_pass(ex, g, pml, q, six, psi ? &psi[1] : nullptr, ca, cb, dt, js[q]);
}

template <class Exec>
void maxwell_run(Exec& ex, MaxwellJob& job) {
  const YeeGrid g = job.g;
  const idx N = g.cells();
  const int steps = job.steps;
  const float dt = (float)job.dt;
  // The fields step in the output itself where the kernels can write it
  // (the CPU: no copy of 6 fields in and out), in device arrays otherwise.
  YeeFields six{};
  float* const* F = six.f;
  for (int q = 0; q < 6; ++q) {
    six.f[q] = ex.output(job.fields + q * N, N);
    if (job.init) ex.upload_into(six.f[q], job.init + q * N, N);
    else ex.fill_zero(six.f[q], N);
  }
  // Material coefficients per cell (uniform when eps and sigma are absent).
  float* ca = nullptr;
  float* cb = nullptr;
  if (job.eps || job.sigma) {
    std::vector<float> a((size_t)N), b((size_t)N);
    for (idx i = 0; i < N; ++i) {
      double e = job.eps ? job.eps[i] : 1.0, s = job.sigma ? job.sigma[i] : 0.0;
      double x = s * job.dt / (2 * e);
      a[(size_t)i] = (float)((1 - x) / (1 + x));
      b[(size_t)i] = (float)(job.dt / e / (1 + x));
    }
    ca = ex.template alloc<float>(N);
    cb = ex.template alloc<float>(N);
    ex.upload_into(ca, a.data(), N);
    ex.upload_into(cb, b.data(), N);
  }
  // CPML.
  YeePml pml{};
  YeeFields psi[2] = {};  // the psi terms of the H and of the E updates
  bool any_pml = false;
  std::vector<float> host[3][6];
  for (int a = 0; a < 3; ++a) {
    if (g.bc[a] != YEE_CPML || g.n[a] == 1) continue;
    any_pml = true;
    pml_axis(g.n[a], job.npml, job.h, job.dt, job.pml_sigma, job.pml_kappa, job.pml_alpha, false, host[a][0], host[a][1], host[a][2]);
    pml_axis(g.n[a], job.npml, job.h, job.dt, job.pml_sigma, job.pml_kappa, job.pml_alpha, true, host[a][3], host[a][4], host[a][5]);
    pml.b_int[a] = ex.upload(host[a][0].data(), g.n[a]);
    pml.c_int[a] = ex.upload(host[a][1].data(), g.n[a]);
    pml.kinv_int[a] = ex.upload(host[a][2].data(), g.n[a]);
    pml.b_half[a] = ex.upload(host[a][3].data(), g.n[a]);
    pml.c_half[a] = ex.upload(host[a][4].data(), g.n[a]);
    pml.kinv_half[a] = ex.upload(host[a][5].data(), g.n[a]);
  }
  if (any_pml)
    for (int k = 0; k < 12; ++k) psi[k / 6].f[k % 6] = ex.template zeros<float>(N);
  // Sources: profiles on the device, amplitudes per step on the host (at
  // most 4 per component, checked by the binding).
  std::vector<const float*> prof;
  for (auto& s : job.sources) prof.push_back(ex.upload(s.profile, N));
  const int P = (int)job.probe_comp.size(), L = (int)job.loops.size();
  const float* deps = job.eps ? ex.upload(job.eps, N) : nullptr;
  float* Eold[3] = {nullptr, nullptr, nullptr};
  if (job.energy_every)
    for (int q = 0; q < 3; ++q) Eold[q] = ex.template zeros<float>(N);
  const double hk = std::pow(job.h, g.dim);
  // Probe and loop-edge values are gathered on the device into one buffer,
  // copied to the host once per step.
  std::vector<int> gcomp;
  std::vector<idx> gcell;
  for (int p = 0; p < P; ++p) gcomp.push_back(job.probe_comp[p]), gcell.push_back(job.probe_cell[p]);
  for (const auto& loop : job.loops)
    for (const auto& e : loop) gcomp.push_back(e.comp), gcell.push_back(e.cell);
  const idx G = (idx)gcomp.size();
  const int* dcomp = G ? ex.upload(gcomp.data(), G) : nullptr;
  const idx* dcell = G ? ex.upload(gcell.data(), G) : nullptr;
  float* gbuf = ex.template alloc<float>(std::max<idx>(G, 1));
  std::vector<float> hbuf((size_t)std::max<idx>(G, 1));
  auto record = [&](int n) {
    if (G) {
      ex.for_n(G, [=] SF_LAMBDA(idx i) { gbuf[i] = six.f[dcomp[i]][dcell[i]]; });
      ex.download(hbuf.data(), gbuf, G);
    }
    for (int p = 0; p < P; ++p) job.probes[(idx)n * P + p] = hbuf[(size_t)p];
    size_t at = (size_t)P;
    for (int l = 0; l < L; ++l) {
      double s = 0;
      for (const auto& e : job.loops[l]) s += e.sign * hbuf[at++];
      job.emf[(idx)n * L + l] = (float)(s * job.h);
    }
    if (job.energy_every && n % job.energy_every == 0) {
      // W = 1/2 sum (eps E(n-1) . E(n) + H(n-1/2)^2) h^dim: the Yee scheme's
      // energy, conserved exactly without losses in exact arithmetic (E(n-1)
      // saved before the update; at step 0, E(0) . E(0)). The fields are
      // fp32, so W drifts by rounding (about 1e-7 of W over 2000 steps).
      const float* a0 = n ? Eold[0] : F[0];
      const float* a1 = n ? Eold[1] : F[1];
      const float* a2 = n ? Eold[2] : F[2];
      const float* e0 = F[0];
      const float* e1 = F[1];
      const float* e2 = F[2];
      const float* hx = F[3];
      const float* hy = F[4];
      const float* hz = F[5];
      const float* eps = deps;
      job.energy[n / job.energy_every] = 0.5 * hk * ex.sum_n(N, [=] SF_LAMBDA(idx i) {
        double ee = (double)a0[i] * e0[i] + (double)a1[i] * e1[i] + (double)a2[i] * e2[i];
        double h2 = (double)hx[i] * hx[i] + (double)hy[i] * hy[i] + (double)hz[i] * hz[i];
        return (eps ? (double)eps[i] : 1.0) * ee + h2;
      });
    }
    if (job.every && n % job.every == 0)
      for (int q = 0; q < 6; ++q) ex.download(job.snaps + ((idx)(n / job.every) * 6 + q) * N, F[q], N);
  };
  record(0);
  for (int n = 0; n < steps; ++n) {
    // Every step (a 1024^2 step is a few ms; 64 of them passed 100 ms).
    if (job.cancel && *job.cancel) fail("E_ABORTED", "maxwell: aborted");
    if ((n & 63) == 0 && job.progress) job.progress(n);
    // The summed current density of each component at (n + 1/2) dt.
    YeeSources js[3] = {};
    for (size_t k = 0; k < job.sources.size(); ++k) {
      YeeSources& s = js[job.sources[k].comp];
      if (s.count == 4) continue;
      s.profile[s.count] = prof[k];
      s.amp[s.count] = job.sources[k].f[n];
      ++s.count;
    }
    const bool save = job.energy_every && (n + 1) % job.energy_every == 0;
    yee_step(ex, g, pml, six, any_pml ? psi : nullptr, ca, cb, dt, js, job.active, save ? Eold : nullptr);
    record(n + 1);
  }
  for (int q = 0; q < 6; ++q) ex.finish_output(job.fields + q * N, six.f[q], N);
  ex.sync();
}

}  // namespace sf

namespace sf {

// Every field of a batch: the job seen through field b's inputs and outputs.
template <class Exec>
void maxwell_field(Exec& ex, const MaxwellJob& all, int b) {
  MaxwellJob job = all;
  const idx N = all.g.cells(), S = all.steps + 1;
  const idx P = (idx)all.probe_comp.size(), L = (idx)all.loops.size();
  if (all.eps && all.eps_per_field) job.eps = all.eps + b * N;
  if (all.sigma && all.sigma_per_field) job.sigma = all.sigma + b * N;
  if (all.init && all.init_per_field) job.init = all.init + b * 6 * N;
  job.fields = all.fields + b * 6 * N;
  job.probes = all.probes + b * S * P;
  job.emf = all.emf + b * S * L;
  if (all.energy) job.energy = all.energy + b * (all.steps / all.energy_every + 1);
  if (all.snaps) job.snaps = all.snaps + b * (idx)(all.steps / all.every + 1) * 6 * N;
  if (all.progress) job.progress = [&all, b](int n) { all.progress(b * all.steps + n); };
  maxwell_run(ex, job);
}

}  // namespace sf
