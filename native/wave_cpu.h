// CPU overloads of the wave and Yee steps: rows whose cells all have their
// neighbours inside the grid run a plain loop the compiler vectorizes; the
// cells at the boundary go through the shared bodies (cuda/wave_k.h,
// cuda/yee_k.h). The same arithmetic as the generic drivers, cell by cell.
// A Yee step (H then E) and a pair of wave steps each run as one sweep over
// slabs of the grid, with the slabs each stage needs still in cache: every
// array crosses memory once per sweep instead of once per pass, which is
// what bounds these steps out of cache.
#pragma once
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "../cuda/wave_k.h"
#include "../cuda/yee_k.h"
#include "algo/maxwell.h"
#include "exec_cpu.h"

namespace sf {

// The cells [lo, hi) of a row whose neighbours are all inside the grid, one
// form per dimension and with or without a source (no masked loads: a masked
// load of an absent source's null pointer costs a microcode assist per vector
// on AMD cores). Runs of sixteen cells or more go as vectors of lanes whose x
// neighbours come by lane shifts (poisson_k.h's row_blocks): against the
// loop the compiler vectorized, whose neighbour loads straddle cache lines,
// 20 wave steps took 12-20% less time at 1024^2 and 2048^2 (AVX-512 EPYC,
// two threads, builds alternated), with the same values bit for bit.
// restrict: the two time levels never overlap.
template <bool D3, bool SRC>
inline void wave_cells(const float* __restrict__ u, float* __restrict__ up, const float* __restrict__ s, float fn, idx sy, idx sz, float diag,
                       const WaveCoef& w, int lo, int hi) {
  const float ih2 = w.ih2, a = w.a, c2dt2 = w.c2dt2, k2dt2 = w.k2dt2, dt2 = w.dt2, inv_b = w.inv_b;
  if (hi - lo >= kLanes16) {
    // Sixteen cells at a time, the x neighbours by lane shifts (row_blocks).
    // up is read and written in place, so a block's values are stored only
    // after the next block has loaded its own: a block that overlaps the
    // one before then reads the old values of the cells they share, and
    // writes the same values again.
    float* at = nullptr;
    Lanes16 held{};
    row_blocks(u, lo, hi, [&](int i, const Lanes16& left, const Lanes16& uc, const Lanes16& right) SF_ALWAYS_INLINE {
      Lanes16 nb = left + right + lanes_load(u + i - sy) + lanes_load(u + i + sy);
      if (D3) nb = nb + (lanes_load(u + i - sz) + lanes_load(u + i + sz));
      const Lanes16 Au = (diag * uc - nb) * ih2;
      const Lanes16 v = 2.0f * uc - a * lanes_load(up + i) - c2dt2 * Au - k2dt2 * uc + dt2 * (SRC ? lanes_load(s + i) * fn : Lanes16{});
      if (at) lanes_store(at, held);
      at = up + i;
      held = v * inv_b;
    });
    lanes_store(at, held);
    return;
  }
  for (int i = lo; i < hi; ++i) {
    float nb = u[i - 1] + u[i + 1] + u[i - sy] + u[i + sy];
    if (D3) nb += u[i - sz] + u[i + sz];
    float Au = (diag * u[i] - nb) * ih2;
    float uc = u[i];
    up[i] = (2.0f * uc - a * up[i] - c2dt2 * Au - k2dt2 * uc + dt2 * (SRC ? s[i] * fn : 0.0f)) * inv_b;
  }
}

// One row (y, z) of a wave step: next = wave_point(cur, next) at each cell.
inline void wave_row(const Grid& g, const WaveCoef& w, const float* cur, float* next, const float* src, float fn, int y, int z, idx base) {
  const int nx = g.n[0];
  const idx sy = nx, sz = (idx)nx * g.n[1];
  const float diag = 2.0f * g.dim;
  bool inner = nx > 2 && y > 0 && y < g.n[1] - 1 && (g.dim == 2 || (z > 0 && z < g.n[2] - 1));
  for (int x = 0; x < nx; ++x) {
    if (inner && x == 1) {
      const float* u = cur + base;
      float* up = next + base;
      const float* s = src ? src + base : nullptr;
      if (g.dim == 2 && !s) wave_cells<false, false>(u, up, s, fn, sy, sz, diag, w, 1, nx - 1);
      else if (g.dim == 2) wave_cells<false, true>(u, up, s, fn, sy, sz, diag, w, 1, nx - 1);
      else if (!s) wave_cells<true, false>(u, up, s, fn, sy, sz, diag, w, 1, nx - 1);
      else wave_cells<true, true>(u, up, s, fn, sy, sz, diag, w, 1, nx - 1);
      x = nx - 2;
      continue;
    }
    idx c = base + x;
    next[c] = wave_point(g, w, cur, next, src ? src[c] * fn : 0.0f, c, x, y, z);
  }
}

inline void wave_step(CpuExec& ex, const Grid& g, const WaveCoef& w, const float* cur, float* next, const float* src, float fn) {
  ex.for_rows(g, [&](int y, int z, idx base) { wave_row(g, w, cur, next, src, fn, y, z, base); });
}

// The step before the first, row by row: the cells between a row's ends
// whose neighbours are all inside the grid as vectors of lanes
// (row_blocks), the others by wave_start_point; the same arithmetic, cell by
// cell. (Cell by cell everywhere, a 20-step call spent a third as long on
// this start as on its steps.)
template <bool D3>
inline void wave_start_cells(const float* __restrict__ u, float* __restrict__ up, const float* __restrict__ v0, const float* __restrict__ s,
                             float f0, idx sy, idx sz, float diag, const WaveCoef& w, float dt, float gamma, int lo, int hi) {
  const float ih2 = w.ih2, nc2dt2 = -w.c2dt2, k2dt2 = w.k2dt2, dt2 = w.dt2;
  const float* rows[4] = {u - sy, u + sy, u - sz, u + sz};  // the neighbour rows, in neighbours()' order
  const auto lanes = [](const float* p) { return lanes_load(p); };
  row_blocks(u, lo, hi, [&](int i, const Lanes16& left, const Lanes16& uc, const Lanes16& right) SF_ALWAYS_INLINE {
    const Lanes16 nb = row_sum<D3 ? 3 : 2, false, Lanes16>(left, right, rows, i, lanes);
    const Lanes16 Au = (diag * uc - nb) * ih2 + 0.0f * uc;  // apply_point with k2 = 0
    const Lanes16 v = v0 ? lanes_load(v0 + i) : Lanes16{}, src = s ? lanes_load(s + i) * f0 : Lanes16{};
    lanes_store(up + i, uc - dt * v + 0.5f * (nc2dt2 * Au - k2dt2 * uc + dt2 * (src - gamma * v)));
  });
}

inline void wave_start(CpuExec& ex, const Grid& g, const WaveCoef& w, float dt, float gamma, const float* u0, const float* v0, const float* src,
                       float f0, float* up) {
  const int nx = g.n[0];
  const idx sy = nx, sz = (idx)nx * g.n[1];
  ex.for_rows(g, [&](int y, int z, idx base) {
    const bool inner = nx - 2 >= kLanes16 && y > 0 && y < g.n[1] - 1 && (g.dim == 2 || (z > 0 && z < g.n[2] - 1));
    for (int x = 0; x < nx; x += inner && x == 0 ? nx - 1 : 1) {
      const idx c = base + x;
      up[c] = wave_start_point(g, w, dt, gamma, u0, v0 ? v0[c] : 0.0f, src ? src[c] * f0 : 0.0f, c, x, y, z);
    }
    if (!inner) return;
    const float diag = 2.0f * g.dim;
    const float* vr = v0 ? v0 + base : nullptr;
    const float* sr = src ? src + base : nullptr;
    if (g.dim == 3) wave_start_cells<true>(u0 + base, up + base, vr, sr, f0, sy, sz, diag, w, dt, gamma, 1, nx - 1);
    else wave_start_cells<false>(u0 + base, up + base, vr, sr, f0, sy, sz, diag, w, dt, gamma, 1, nx - 1);
  });
}

// The slabs of a grid's outermost axis with more than one cell (rows in
// 2D, planes in 3D), for the sweeps below that take a whole step (or two)
// slab by slab.
struct Slabs {
  int o, count, per;  // the axis, its slabs, rows per slab
  template <class G>
  explicit Slabs(const G& g) : o(g.n[2] > 1 ? 2 : 1), count(g.n[o]), per(o == 2 ? g.n[1] : 1) {}
  // fn(y, z, base) for each row of slab s.
  template <class G, class F>
  void rows(const G& g, int s, const F& fn) const {
    for (int r = 0; r < per; ++r) {
      const int y = o == 2 ? r : s, z = o == 2 ? s : 0;
      fn(y, z, ((idx)z * g.n[1] + y) * g.n[0]);
    }
  }
  // The slabs cut into runs of contiguous slabs (on the threads from
  // kParallelCells cells: up to 4 runs per thread, at least min_slabs slabs
  // and min_cells cells per run): first(a, b) on every run [a, b), then,
  // once all are done, second(a, b) on every run (CpuExec::two_phases).
  template <class A, class B>
  void two_phases(CpuExec& ex, idx cells, int min_slabs, idx min_cells, const A& first, const B& second) const {
    int runs = 1;
    if (ex.parallel() && cells >= CpuExec::kParallelCells)
      runs = (int)std::max<idx>(1, std::min<idx>({(idx)ThreadPool::instance().size() * 4, (idx)count / min_slabs, cells / min_cells}));
    ex.two_phases(count, runs, first, second);
  }
};

// Two steps in one sweep over slabs of the outermost axis with more than
// one cell (rows in 2D, planes in 3D): the first step (up <- u^{n+1} from u
// and up) of slab s, then the second (u <- u^{n+2} from up and u) of slab
// s - 1, whose stencil (slabs s - 2 to s of u^{n+1}) is then complete. Slab
// s + 1 of the first step reads u^n at slabs s to s + 2 only, so u at s - 1
// is free to take u^{n+2}. Each array is read and written once per two
// steps: 16 bytes per cell instead of 24.
//
// In parallel the slabs are split into runs; each run leaves the second
// step of its first and last slabs (whose stencils reach into the runs
// beside it, and across the periodic wrap) to a second phase.
inline void wave_two_steps(CpuExec& ex, const Grid& g, const WaveCoef& w, float* u, float* up, const float* src, float f0, float f1) {
  const Slabs sl(g);
  auto slab = [&](int s, const float* cur, float* next, float fn) {
    sl.rows(g, s, [&](int y, int z, idx base) { wave_row(g, w, cur, next, src, fn, y, z, base); });
  };
  sl.two_phases(
      ex, g.cells(), 4, 16384,
      [&](int a, int b) {
        for (int s = a; s < b; ++s) {
          slab(s, u, up, f0);
          if (s - 1 > a) slab(s - 1, up, u, f1);
        }
      },
      [&](int a, int b) {
        slab(a, up, u, f1);
        if (b - 1 > a) slab(b - 1, up, u, f1);
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

// The cells [lo, hi) of a row whose neighbours are all inside the grid and
// outside every layer: plain loops the compiler vectorizes, one for each
// set of difference axes present (D1, D2: whether the axis has more than
// one cell; the other field is then not read at all) and, for E, with or
// without materials (ca, cb per cell).
template <bool D1, bool D2>
inline void yee_h_cells(float* __restrict__ hq, const float* __restrict__ a, const float* __restrict__ b, idx s1, idx s2, float k, int lo,
                        int hi) {
  for (int x = lo; x < hi; ++x) {
    float d1 = D1 ? a[x + s1] - a[x] : 0.0f;
    float d2 = D2 ? b[x + s2] - b[x] : 0.0f;
    hq[x] -= k * (d1 - d2);
  }
}

template <bool D1, bool D2, bool MAT>
inline void yee_e_cells(float* __restrict__ eq, const float* __restrict__ a, const float* __restrict__ b, idx s1, idx s2, float ih, float dt,
                        const float* __restrict__ ca, const float* __restrict__ cb, int lo, int hi) {
  for (int x = lo; x < hi; ++x) {
    float d1 = D1 ? (a[x] - a[x - s1]) * ih : 0.0f;
    float d2 = D2 ? (b[x] - b[x - s2]) * ih : 0.0f;
    eq[x] = (MAT ? ca[x] : 1.0f) * eq[x] + (MAT ? cb[x] : dt) * (d1 - d2);
  }
}

// One row (y, z) of the update of H component q (free: the cells of the
// row's pass outside every layer, yee_free_x).
inline void yee_h_row(const YeeGrid& g, const YeePml& pml, int q, float* const* F, const YeeFields* psi, float dt, const YeeFree& free, int y,
                      int z, idx base) {
  const int a1 = (q + 1) % 3, a2 = (q + 2) % 3, nx = g.n[0];
  float* H = F[3 + q];
  const idx s1 = g.n[a1] > 1 ? g.stride(a1) : 0, s2 = g.n[a2] > 1 ? g.stride(a2) : 0;
  const float k = dt * g.inv_h;
  bool fast = nx > 1 && yee_row_inside(g, a1, y, z, true) && yee_row_inside(g, a2, y, z, true) && (!psi || free.row(pml, a1, a2, y, z, true));
  // Along x the +1 neighbour is missing only at the last cell.
  int lo = fast ? free.lo : nx, hi = fast ? std::min(free.hi, nx - 1) : nx;
  if (hi < lo) hi = lo;
  // (F[a2] is differentiated along a1, F[a1] along a2.)
  if (s1 && s2) yee_h_cells<true, true>(H + base, F[a2] + base, F[a1] + base, s1, s2, k, lo, hi);
  else if (s1) yee_h_cells<true, false>(H + base, F[a2] + base, F[a1] + base, s1, s2, k, lo, hi);
  else if (s2) yee_h_cells<false, true>(H + base, F[a2] + base, F[a1] + base, s1, s2, k, lo, hi);
  for (int x = 0; x < nx; ++x) {
    if (x == lo) x = hi;
    if (x >= nx) break;
    int ijk[3] = {x, y, z};
    yee_update_h(g, pml, q, H, F, psi ? psi->f : nullptr, dt, base + x, ijk);
  }
}

// One row (y, z) of the update of E component q (sources js, materials ca,
// cb per cell or null).
inline void yee_e_row(const YeeGrid& g, const YeePml& pml, int q, float* const* F, const YeeFields* psi, const float* ca, const float* cb,
                      float dt, const YeeSources& js, const YeeFree& free, int y, int z, idx base) {
  const int a1 = (q + 1) % 3, a2 = (q + 2) % 3, nx = g.n[0];
  float* E = F[q];
  const idx s1 = g.n[a1] > 1 ? g.stride(a1) : 0, s2 = g.n[a2] > 1 ? g.stride(a2) : 0;
  const float ih = g.inv_h;
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
  if (lo == hi) return;
  const float* a = F[3 + a2] + base;
  const float* b = F[3 + a1] + base;
  float* eq = E + base;
  if (js.count) {
    for (int x = lo; x < hi; ++x) {
      float d1 = s1 ? (a[x] - a[x - s1]) * ih : 0.0f;
      float d2 = s2 ? (b[x] - b[x - s2]) * ih : 0.0f;
      eq[x] = (ca ? ca[base + x] : 1.0f) * eq[x] + (cb ? cb[base + x] : dt) * ((d1 - d2) - js.at(base + x));
    }
    return;
  }
  // Without sources (ca and cb are both set or both null).
  const float* cap = ca ? ca + base : nullptr;
  const float* cbp = cb ? cb + base : nullptr;
  auto run = [&](auto d1, auto d2) {
    if (cap) yee_e_cells<d1(), d2(), true>(eq, a, b, s1, s2, ih, dt, cap, cbp, lo, hi);
    else yee_e_cells<d1(), d2(), false>(eq, a, b, s1, s2, ih, dt, cap, cbp, lo, hi);
  };
  using T = std::true_type;
  using N = std::false_type;
  if (s1 && s2) run(T{}, T{});
  else if (s1) run(T{}, N{});
  else if (s2) run(N{}, T{});
  else run(N{}, N{});
}

// A whole leapfrog step in one sweep over slabs of the outermost axis o
// with more than one cell (a row of a 2D grid, a plane of a 3D one): H of
// slab s, then E of slab s. H(s) reads E(s) and E(s + 1), both still at
// step n; E(s) reads H(s - 1) and H(s), both already at n + 1/2 (periodic
// wraps along the other axes stay inside the slab, which H covers whole
// before E starts). Each field is read and written once per step: 24 bytes
// per cell for TMz instead of the 40 of three passes.
//
// In parallel, the slabs are split into contiguous runs. A run's first E
// slab needs the H of the run before it, and that run's last H slab needs
// this E slab at step n, so each run leaves its first E slab to a second,
// short phase after all runs are done (as does a single run, for the
// periodic wrap along o).
inline void yee_step(CpuExec& ex, const YeeGrid& g, const YeePml& pml, const YeeFields& six, const YeeFields* psi, const float* ca,
                     const float* cb, float dt, const YeeSources* js, const bool* active, float* const* Eold) {
  const Slabs sl(g);
  YeeFree fh[3], fe[3];
  for (int q = 0; q < 3; ++q) {
    fh[q] = psi ? yee_free_x(g, pml, (q + 1) % 3, (q + 2) % 3, true) : YeeFree{0, g.n[0]};
    fe[q] = psi ? yee_free_x(g, pml, (q + 1) % 3, (q + 2) % 3, false) : YeeFree{0, g.n[0]};
  }
  float* const* F = six.f;
  auto h_slab = [&](int s) {
    sl.rows(g, s, [&](int y, int z, idx base) {
      for (int q = 0; q < 3; ++q)
        if (active[3 + q]) yee_h_row(g, pml, q, F, psi ? &psi[0] : nullptr, dt, fh[q], y, z, base);
    });
  };
  auto e_slab = [&](int s) {
    sl.rows(g, s, [&](int y, int z, idx base) {
      for (int q = 0; q < 3; ++q) {
        // (E(n) of every component, as the energy reads all three)
        if (Eold) std::memcpy(Eold[q] + base, F[q] + base, sizeof(float) * (size_t)g.n[0]);
        if (active[q]) yee_e_row(g, pml, q, F, psi ? &psi[1] : nullptr, ca, cb, dt, js[q], fe[q], y, z, base);
      }
    });
  };
  // (runs of at least 2 slabs, so that a run's deferred first E slab is not its only one)
  sl.two_phases(
      ex, g.cells(), 2, 8192,
      [&](int a, int b) {
        for (int s = a; s < b; ++s) {
          h_slab(s);
          if (s > a) e_slab(s);
        }
      },
      [&](int a, int) { e_slab(a); });
}

}  // namespace sf
