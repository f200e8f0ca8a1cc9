// The damped Klein-Gordon equation u_tt + g u_t = c^2 lap u - kappa^2 u + s(x) f(t)
// by leapfrog on the cell-centred grid (the same -lap stencil and ghost
// cells as the potential solver, poisson_k.h):
//   (1 + g dt/2) u+ = 2 u - (1 - g dt/2) u- + dt^2 (-c^2 A u - kappa^2 u + s f)
// with A = -lap. For g = 0 and no source the discrete energy
//   E = 1/2 sum [((u+ - u)/dt)^2 + c^2 u+ (A u) + kappa^2 u+ u] h^dim
// is conserved exactly by the scheme (up to rounding).
#pragma once
#include "poisson_k.h"

namespace sf {

struct WaveCoef {
  float ih2;     // 1 / h^2
  float c2dt2;   // c^2 dt^2
  float k2dt2;   // kappa^2 dt^2
  float dt2;     // dt^2
  float a;       // 1 - g dt / 2
  float inv_b;   // 1 / (1 + g dt / 2)
};

// The next value at cell c from u (now) and up (the step before).
SF_HD float wave_point(const Grid& g, const WaveCoef& w, const float* u, const float* up, float src, idx c, int x, int y, int z) {
  float Au = apply_point<float>(g, u, c, x, y, z, w.ih2, 0.0f);
  float uc = u[c];
  return (2.0f * uc - w.a * up[c] - w.c2dt2 * Au - w.k2dt2 * uc + w.dt2 * src) * w.inv_b;
}

// The step before the first, from u0 and the velocity v0 by Taylor expansion:
// u(-dt) = u0 - dt v0 + dt^2 / 2 (-c^2 A u0 - kappa^2 u0 - g v0 + s f0).
SF_HD float wave_start_point(const Grid& g, const WaveCoef& w, float dt, float gamma, const float* u0, float v0, float src, idx c, int x, int y, int z) {
  float Au = apply_point<float>(g, u0, c, x, y, z, w.ih2, 0.0f);
  return u0[c] - dt * v0 + 0.5f * (-w.c2dt2 * Au - w.k2dt2 * u0[c] + w.dt2 * (src - gamma * v0));
}

// One cell's share of the discrete energy between steps u (older) and un (newer), without h^dim.
SF_HD double wave_energy_point(const Grid& g, const float* u, const float* un, double idt, double c2, double k2, double ih2, idx c, int x, int y, int z) {
  Neighbours<float> nb = neighbours(g, u, c, x, y, z);
  double A = ((double)nb.diag * u[c] - (double)nb.sum) * ih2;
  double v = ((double)un[c] - u[c]) * idt;
  return 0.5 * (v * v + c2 * (double)un[c] * A + k2 * (double)un[c] * u[c]);
}

}  // namespace sf
