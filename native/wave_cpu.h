// CPU overloads of the wave and Yee steps: rows whose cells all have their
// neighbours inside the grid run a plain loop the compiler vectorizes; the
// cells at the boundary go through the shared bodies (cuda/wave_k.h,
// cuda/yee_k.h). The same arithmetic as the generic drivers, cell by cell.
#pragma once
#include "../cuda/wave_k.h"
#include "../cuda/yee_k.h"
#include "algo/maxwell.h"
#include "exec_cpu.h"

namespace sf {

inline void wave_step(CpuExec& ex, const Grid& g, const WaveCoef& w, const float* cur, float* next, const float* src, float fn) {
  const int nx = g.n[0];
  const idx sy = nx, sz = (idx)nx * g.n[1];
  const float diag = 2.0f * g.dim;
  ex.for_rows(g, [&](int y, int z, idx base) {
    bool inner = nx > 2 && y > 0 && y < g.n[1] - 1 && (g.dim == 2 || (z > 0 && z < g.n[2] - 1));
    for (int x = 0; x < nx; ++x) {
      if (inner && x == 1) {
        // (restrict: the two time levels never overlap, so the loop vectorizes)
        const float* __restrict__ u = cur + base;
        float* __restrict__ up = next + base;
        const float* __restrict__ s = src ? src + base : nullptr;
        const float ih2 = w.ih2, a = w.a, c2dt2 = w.c2dt2, k2dt2 = w.k2dt2, dt2 = w.dt2, inv_b = w.inv_b;
        if (g.dim == 2 && !s) {
          for (int i = 1; i < nx - 1; ++i) {
            float nb = u[i - 1] + u[i + 1] + u[i - sy] + u[i + sy];
            float Au = (diag * u[i] - nb) * ih2;
            float uc = u[i];
            up[i] = (2.0f * uc - a * up[i] - c2dt2 * Au - k2dt2 * uc + dt2 * 0.0f) * inv_b;
          }
        } else {
          for (int i = 1; i < nx - 1; ++i) {
            float nb = u[i - 1] + u[i + 1] + u[i - sy] + u[i + sy];
            if (g.dim == 3) nb += u[i - sz] + u[i + sz];
            float Au = (diag * u[i] - nb) * ih2;
            float uc = u[i];
            up[i] = (2.0f * uc - a * up[i] - c2dt2 * Au - k2dt2 * uc + dt2 * (s ? s[i] * fn : 0.0f)) * inv_b;
          }
        }
        x = nx - 2;
        continue;
      }
      idx c = base + x;
      next[c] = wave_point(g, w, cur, next, src ? src[c] * fn : 0.0f, c, x, y, z);
    }
  });
}

// Whether every cell of row (y, z) has its +1 (forward) or -1 (backward)
// neighbour along axis a inside the grid (axes 1 and 2; axis 0 is per cell).
inline bool yee_row_inside(const YeeGrid& g, int a, int y, int z, bool forward) {
  if (a == 0 || g.n[a] == 1) return true;
  int i = a == 1 ? y : z;
  return forward ? i + 1 < g.n[a] : i > 0;
}

inline void yee_h_pass(CpuExec& ex, const YeeGrid& g, const YeePml& pml, int q, float* const* F, float* const* psi, float dt) {
  if (psi) {  // CPML: the shared bodies carry the psi terms
    yee_h_pass<CpuExec>(ex, g, pml, q, F, psi, dt);
    return;
  }
  const int a1 = (q + 1) % 3, a2 = (q + 2) % 3, nx = g.n[0];
  float* H = F[3 + q];
  const float* A = F[a2];  // differentiated along a1
  const float* B = F[a1];  // differentiated along a2
  const idx s1 = g.n[a1] > 1 ? g.stride(a1) : 0, s2 = g.n[a2] > 1 ? g.stride(a2) : 0;
  const float k = dt * g.inv_h;
  ex.for_rows(g, [&](int y, int z, idx base) {
    bool fast = nx > 1 && yee_row_inside(g, a1, y, z, true) && yee_row_inside(g, a2, y, z, true);
    // Along x the +1 neighbour is missing only at the last cell.
    int end = fast ? nx - 1 : 0;
    const float* __restrict__ a = A + base;
    const float* __restrict__ b = B + base;
    float* __restrict__ hq = H + base;
    for (int x = 0; x < end; ++x) {
      float d1 = s1 ? a[x + s1] - a[x] : 0.0f;
      float d2 = s2 ? b[x + s2] - b[x] : 0.0f;
      hq[x] -= k * (d1 - d2);
    }
    const float* Es[3] = {F[0], F[1], F[2]};
    for (int x = end; x < nx; ++x) {
      int ijk[3] = {x, y, z};
      yee_update_h(g, pml, q, H, Es, nullptr, dt, base + x, ijk);
    }
  });
}

inline void yee_e_pass(CpuExec& ex, const YeeGrid& g, const YeePml& pml, int q, float* const* F, float* const* psi, const float* ca,
                       const float* cb, float dt, const YeeSources& js) {
  if (psi) {
    yee_e_pass<CpuExec>(ex, g, pml, q, F, psi, ca, cb, dt, js);
    return;
  }
  const int a1 = (q + 1) % 3, a2 = (q + 2) % 3, nx = g.n[0];
  float* E = F[q];
  const float* A = F[3 + a2];
  const float* B = F[3 + a1];
  const idx s1 = g.n[a1] > 1 ? g.stride(a1) : 0, s2 = g.n[a2] > 1 ? g.stride(a2) : 0;
  const float ih = g.inv_h;
  ex.for_rows(g, [&](int y, int z, idx base) {
    bool fast = nx > 1 && yee_row_inside(g, a1, y, z, false) && yee_row_inside(g, a2, y, z, false);
    // Along x the -1 neighbour is missing only at the first cell (and PEC zeroes it).
    int begin = fast ? 1 : nx;
    const float* Hs[3] = {F[3], F[4], F[5]};
    for (int x = 0; x < begin && x < nx; ++x) {
      int ijk[3] = {x, y, z};
      idx c = base + x;
      yee_update_e(g, pml, q, E, Hs, nullptr, ca ? ca[c] : 1.0f, cb ? cb[c] : dt, js.at(c), c, ijk);
    }
    const float* __restrict__ a = A + base;
    const float* __restrict__ b = B + base;
    float* __restrict__ eq = E + base;
    const float* cap = ca ? ca + base : nullptr;
    const float* cbp = cb ? cb + base : nullptr;
    for (int x = begin; x < nx; ++x) {
      float d1 = s1 ? (a[x] - a[x - s1]) * ih : 0.0f;
      float d2 = s2 ? (b[x] - b[x - s2]) * ih : 0.0f;
      float j = js.count ? js.at(base + x) : 0.0f;
      eq[x] = (cap ? cap[x] : 1.0f) * eq[x] + (cbp ? cbp[x] : dt) * ((d1 - d2) - j);
    }
  });
}

}  // namespace sf
