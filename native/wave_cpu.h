// CPU overloads of the wave and Yee steps: rows whose cells all have their
// neighbours inside the grid run a plain loop the compiler vectorizes; the
// cells at the boundary go through the shared bodies (cuda/wave_k.h,
// cuda/yee_k.h). The same arithmetic as the generic drivers, cell by cell.
#pragma once
#include <algorithm>

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

// Whether position i along axis a lies in a CPML layer (where the psi terms
// act). Outside the layers b = c = 0 and kinv = 1: psi stays 0 and the plain
// difference is exact, so the row loops serve there too.
inline bool yee_in_layer(const YeePml& p, int a, int i, bool half) {
  const float* b = half ? p.b_half[a] : p.b_int[a];
  if (!b) return false;
  const float* c = half ? p.c_half[a] : p.c_int[a];
  const float* k = half ? p.kinv_half[a] : p.kinv_int[a];
  return b[i] != 0.0f || c[i] != 0.0f || k[i] != 1.0f;
}

// The cells of a pass's rows outside every layer of its difference axes:
// whether row (y, z) is, and the x range [lo, hi) that is.
struct YeeFree {
  int lo, hi;
  bool row(const YeePml& p, int a1, int a2, int y, int z, bool half) const {
    for (int a : {a1, a2})
      if ((a == 1 && yee_in_layer(p, 1, y, half)) || (a == 2 && yee_in_layer(p, 2, z, half))) return false;
    return true;
  }
};

inline YeeFree yee_free_x(const YeeGrid& g, const YeePml& p, int a1, int a2, bool half) {
  YeeFree f{0, g.n[0]};
  if (a1 != 0 && a2 != 0) return f;
  while (f.lo < g.n[0] && yee_in_layer(p, 0, f.lo, half)) ++f.lo;
  while (f.hi > f.lo && yee_in_layer(p, 0, f.hi - 1, half)) --f.hi;
  return f;
}

inline void yee_h_pass(CpuExec& ex, const YeeGrid& g, const YeePml& pml, int q, const YeeFields& fields, const YeeFields* psi, float dt) {
  float* const* F = fields.f;
  const int a1 = (q + 1) % 3, a2 = (q + 2) % 3, nx = g.n[0];
  float* H = F[3 + q];
  const float* A = F[a2];  // differentiated along a1
  const float* B = F[a1];  // differentiated along a2
  const idx s1 = g.n[a1] > 1 ? g.stride(a1) : 0, s2 = g.n[a2] > 1 ? g.stride(a2) : 0;
  const float k = dt * g.inv_h;
  const YeeFree free = psi ? yee_free_x(g, pml, a1, a2, true) : YeeFree{0, nx};
  ex.for_rows(g, [&](int y, int z, idx base) {
    bool fast = nx > 1 && yee_row_inside(g, a1, y, z, true) && yee_row_inside(g, a2, y, z, true) && (!psi || free.row(pml, a1, a2, y, z, true));
    // Along x the +1 neighbour is missing only at the last cell.
    int lo = fast ? free.lo : nx, hi = fast ? std::min(free.hi, nx - 1) : nx;
    if (hi < lo) hi = lo;
    const float* __restrict__ a = A + base;
    const float* __restrict__ b = B + base;
    float* __restrict__ hq = H + base;
    for (int x = lo; x < hi; ++x) {
      float d1 = s1 ? a[x + s1] - a[x] : 0.0f;
      float d2 = s2 ? b[x + s2] - b[x] : 0.0f;
      hq[x] -= k * (d1 - d2);
    }
    for (int x = 0; x < nx; ++x) {
      if (x == lo) x = hi;
      if (x >= nx) break;
      int ijk[3] = {x, y, z};
      yee_update_h(g, pml, q, H, F, psi ? psi->f : nullptr, dt, base + x, ijk);
    }
  });
}

inline void yee_e_pass(CpuExec& ex, const YeeGrid& g, const YeePml& pml, int q, const YeeFields& fields, const YeeFields* psi,
                       const float* ca, const float* cb, float dt, const YeeSources& js) {
  float* const* F = fields.f;
  const int a1 = (q + 1) % 3, a2 = (q + 2) % 3, nx = g.n[0];
  float* E = F[q];
  const float* A = F[3 + a2];
  const float* B = F[3 + a1];
  const idx s1 = g.n[a1] > 1 ? g.stride(a1) : 0, s2 = g.n[a2] > 1 ? g.stride(a2) : 0;
  const float ih = g.inv_h;
  const YeeFree free = psi ? yee_free_x(g, pml, a1, a2, false) : YeeFree{0, nx};
  ex.for_rows(g, [&](int y, int z, idx base) {
    bool fast = nx > 1 && yee_row_inside(g, a1, y, z, false) && yee_row_inside(g, a2, y, z, false) && (!psi || free.row(pml, a1, a2, y, z, false));
    // Along x the -1 neighbour is missing only at the first cell (and PEC zeroes it).
    int lo = fast ? std::max(free.lo, 1) : nx, hi = fast ? free.hi : nx;
    if (hi < lo) hi = lo;
    for (int x = 0; x < nx; ++x) {
      if (x == lo) x = hi;
      if (x >= nx) break;
      int ijk[3] = {x, y, z};
      idx c = base + x;
      yee_update_e(g, pml, q, E, F + 3, psi ? psi->f : nullptr, ca ? ca[c] : 1.0f, cb ? cb[c] : dt, js.at(c), c, ijk);
    }
    const float* __restrict__ a = A + base;
    const float* __restrict__ b = B + base;
    float* __restrict__ eq = E + base;
    const float* cap = ca ? ca + base : nullptr;
    const float* cbp = cb ? cb + base : nullptr;
    for (int x = lo; x < hi; ++x) {
      float d1 = s1 ? (a[x] - a[x - s1]) * ih : 0.0f;
      float d2 = s2 ? (b[x] - b[x - s2]) * ih : 0.0f;
      float j = js.count ? js.at(base + x) : 0.0f;
      eq[x] = (cap ? cap[x] : 1.0f) * eq[x] + (cbp ? cbp[x] : dt) * ((d1 - d2) - j);
    }
  });
}

}  // namespace sf
