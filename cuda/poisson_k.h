// The screened Poisson operator A u = -lap u + k2 u on a cell-centred grid,
// 5-point (2D) or 7-point (3D) stencil, with the boundary handled by ghost
// cells (grid_k.h). Each routine is one cell's arithmetic; the CPU sweeps and
// the CUDA launchers call these and nothing else.
#pragma once
#include <cstdint>
#include <type_traits>

#include "grid_k.h"
#include "lanes_k.h"

namespace sf {

// Sum of the neighbour values that are unknowns (interior or periodic) and the
// diagonal weight in units of 1/h^2: an interior face adds 1, a Dirichlet face
// adds 2 (ghost = -u_c), a Neumann face adds 0 (ghost = u_c).
template <class T>
struct Neighbours {
  T sum;
  int diag;
};

// The diagonal weight one side of a cell adds along an axis: 1 toward an
// unknown (a neighbour inside, or across a periodic wrap), 2 at a Dirichlet
// face, 0 at a Neumann face.
SF_HD int side_diag(bool inside, int bc) { return inside || bc == BC_PERIODIC ? 1 : bc == BC_DIRICHLET ? 2 : 0; }

// The neighbours of values stored as S, summed as T (S = T unless given).
template <class S, class T>
SF_HD void add_axis(const S* u, idx c, int i, int n, idx stride, int bc, Neighbours<T>& nb) {
  if (i > 0) nb.sum += (T)u[c - stride];
  else if (bc == BC_PERIODIC) nb.sum += (T)u[c + (idx)(n - 1) * stride];
  nb.diag += side_diag(i > 0, bc);
  if (i < n - 1) nb.sum += (T)u[c + stride];
  else if (bc == BC_PERIODIC) nb.sum += (T)u[c - (idx)(n - 1) * stride];
  nb.diag += side_diag(i < n - 1, bc);
}

template <class S, class T = S>
SF_HD Neighbours<T> neighbours(const Grid& g, const S* u, idx c, int x, int y, int z) {
  Neighbours<T> nb{T(0), 0};
  add_axis(u, c, x, g.n[0], (idx)1, g.bc[0], nb);
  add_axis(u, c, y, g.n[1], (idx)g.n[0], g.bc[1], nb);
  if (g.dim == 3) add_axis(u, c, z, g.n[2], (idx)g.n[0] * g.n[1], g.bc[2], nb);
  return nb;
}

// (A u)_c, of values stored as S, in T.
template <class S, class T = S>
SF_HD T apply_point(const Grid& g, const S* u, idx c, int x, int y, int z, T ih2, T k2) {
  Neighbours<T> nb = neighbours<S, T>(g, u, c, x, y, z);
  return ((T)nb.diag * (T)u[c] - nb.sum) * ih2 + k2 * (T)u[c];
}

// r_c = f_c - (A u)_c; the accumulation type R may be wider than the storage.
template <class T, class R>
SF_HD R residual_point(const Grid& g, const T* u, R f, idx c, int x, int y, int z, R ih2, R k2) {
  Neighbours<T> nb = neighbours(g, u, c, x, y, z);
  return f - (((R)nb.diag * (R)u[c] - (R)nb.sum) * ih2 + k2 * (R)u[c]);
}

// 1 / (diagonal of A) for a cell with the given diagonal weight.
template <class T>
SF_HD T inv_diag(int diag, T ih2, T k2) { return T(1) / ((T)diag * ih2 + k2); }

// Over-relaxation of a Gauss-Seidel value gs from the old value (w = 1: gs
// itself, with no rounding of its own).
template <class T>
SF_HD T over_relax(T old, T gs, T w) { return w == T(1) ? gs : old + w * (gs - old); }

// Gauss-Seidel: the value of u_c that zeroes the residual at c.
template <class T>
SF_HD T relax_point(const Grid& g, const T* u, T f, idx c, int x, int y, int z, T ih2, T k2) {
  Neighbours<T> nb = neighbours(g, u, c, x, y, z);
  return (f + nb.sum * ih2) * inv_diag(nb.diag, ih2, k2);
}

// The neighbour sum of a cell whose neighbours all lie inside the grid
// (diag = 2 dim), in the order of neighbours(), shaped for the compiler to
// vectorise: the CPU's fp64 outer residual takes it away from the boundary.
template <class T>
SF_HD T interior_sum(const T* u, idx c, idx sy, idx sz, int dim) {
  T s = ((T(0) + u[c - 1]) + u[c + 1]) + u[c - sy];
  s = s + u[c + sy];
  if (dim == 3) s = (s + u[c - sz]) + u[c + sz];
  return s;
}

#if !defined(__CUDACC__)
// The CPU's runs of cells between a row's ends, sixteen at a time as one
// vector of lanes (lanes_k.h). A run shorter than sixteen cells is taken cell
// by cell; in a longer run the second block, and the last, may overlap the
// one before, and compute the same numbers again (row_blocks). The per-cell
// arithmetic is that of neighbours(), residual_point and relax_point, in the
// same order.

// Calls block(x, left, centre, right) for blocks of kLanes16 cells covering
// [x0, x1) of the row starting at u (x1 - x0 >= kLanes16; x0 >= 1 and x1 <
// the row's length, so every cell has both x neighbours in the row): centre
// holds u[x + i], left u[x + i - 1] and right u[x + i + 1]. The first block
// starts at x0; in a run of 32 cells or more the next ones start where
// u + x begins a 64-byte line (the first of them overlapping the one at
// x0), and the last one may overlap the one before. A block overlaps no
// other than the one before it.
//  - In between, a block loads one vector, the next block's centre, and
//    takes its left and right neighbours from the vectors it already holds by
//    a lane shift (lanes_prev, lanes_next), so the row is read in whole
//    lines, each once. The lines are u's: a level's arrays begin on one, and
//    the rows of those of a multiple of sixteen cells too; an array from JS
//    begins 16 bytes past one, and the other arrays a row form reads (f, the
//    output) are most often placed alike.
//  - Loaded at x - 1 and x + 1, every 16-float vector straddles two lines.
//    Out of cache that costs a stencil a fifth of its rate: in plain code on
//    two threads of an AVX-512 EPYC, a 4096^2 residual took 0.26 ns per cell
//    that way and 0.21 with the shifts, against 0.18 for the triad.
//  - Measured on the same host, alternating builds: the residual row form
//    of a level took 0.31 ns per cell at 4096^2 instead of 0.40 (24% less
//    time), and the smoother's four sweeps in one pass 6-9% less from
//    1024^2 to 4096^2. On arrays from JS, lines by address rather than by
//    row took the residual to 0.26 ns per cell at 4096^2 (the triad: 0.26
//    ns per element), one smoother sweep to 0.30 from 0.35, and four to
//    0.70 from 0.94.
//  - Always inlined, with block and the row forms' bodies (SF_ALWAYS_INLINE):
//    their scalars and held block must stay in registers. Out of line, a
//    body reloaded them for every block; the smoother ran 1.4x slower, and
//    the wave steps 1.3-1.6x.
template <class B>
SF_ALWAYS_INLINE inline void row_blocks(const float* u, int x0, int x1, const B& block) {
  auto loaded = [&](int x) SF_ALWAYS_INLINE { block(x, lanes_load(u + x - 1), lanes_load(u + x), lanes_load(u + x + 1)); };
  loaded(x0);
  if (x1 - x0 < 2 * kLanes16) {  // two blocks at most, each overlapping only the one before
    if (x1 - kLanes16 > x0) loaded(x1 - kLanes16);
    return;
  }
  // The first x after x0 where u + x starts a 64-byte line (the rows of a
  // level, and those of an array from JS, 16 bytes past a line, alike).
  // There is a block at x, so the last block overlaps it at most.
  int x = x0 + 1 + (int)((0u - (unsigned)((uintptr_t)(u + x0 + 1) / sizeof(float))) & (kLanes16 - 1));
  if (x + 2 * kLanes16 <= x1 + 1) {  // the next block's centre lies inside the row
    // (The first of these loads its left neighbours: the line before x may
    // begin before the row.)
    Lanes16 cur = lanes_load(u + x), next = lanes_load(u + x + kLanes16);
    block(x, lanes_load(u + x - 1), cur, lanes_next(cur, next));
    for (x += kLanes16; x + 2 * kLanes16 <= x1 + 1; x += kLanes16) {
      const Lanes16 prev = cur;
      cur = next;
      next = lanes_load(u + x + kLanes16);
      block(x, lanes_prev(prev, cur), cur, lanes_next(cur, next));
    }
  }
  for (; x + kLanes16 <= x1; x += kLanes16) loaded(x);
  if (x < x1) loaded(x1 - kLanes16);
}

// The neighbour rows of row (y, z) for the row forms below: y - 1, y + 1 (and
// z - 1, z + 1 in 3D), each given by its first cell (across the wrap on a
// periodic axis), or null where a wall stands (no neighbour; the wall's
// weight goes to the diagonal, side_diag). Returns the diagonal weight of the
// row's cells away from its ends along x.
inline int row_neighbours(const Grid& g, const float* u, int y, int z, const float** nb) {
  const idx base = g.at(0, y, z);
  const int p[2] = {y, z};
  int diag = 2;  // x: both sides inside
  for (int a = 1; a < g.dim; ++a) {
    const idx st = g.stride(a);
    const int i = p[a - 1], n = g.n[a], bc = g.bc[a];
    const float* lo = i > 0 ? u + base - st : bc == BC_PERIODIC ? u + base + (idx)(n - 1) * st : nullptr;
    const float* hi = i < n - 1 ? u + base + st : bc == BC_PERIODIC ? u + base - (idx)(n - 1) * st : nullptr;
    nb[2 * (a - 1)] = lo;
    nb[2 * (a - 1) + 1] = hi;
    diag += side_diag(i > 0, bc) + side_diag(i < n - 1, bc);
  }
  return diag;
}

// Calls f(DIM, WALLS) with the row's dimension and whether a wall stands
// beside it (a null neighbour row), both as compile-time constants
// (std::integral_constant), for the row forms' instantiations.
template <class F>
inline void row_kind(const float* const* nb, int dim, const F& f) {
  bool walls = false;
  for (int k = 0; k < 2 * (dim - 1); ++k) walls = walls || !nb[k];
  using D2 = std::integral_constant<int, 2>;
  using D3 = std::integral_constant<int, 3>;
  if (dim == 3) {
    if (walls) f(D3{}, std::true_type{});
    else f(D3{}, std::false_type{});
  } else {
    if (walls) f(D2{}, std::true_type{});
    else f(D2{}, std::false_type{});
  }
}

// A block's (or a cell's) neighbour sum in a row with neighbour rows nb (the
// order of neighbours(): x, then the rows; with WALLS, a null row, a wall,
// adds nothing; without, no row is null).
template <int DIM, bool WALLS, class V, class Load>
inline V row_sum(const V& left, const V& right, const float* const* nb, int x, const Load& load) {
  V s = (0.0f + left) + right;
  for (int k = 0; k < 2 * (DIM - 1); ++k)
    if (!WALLS || nb[k]) s = s + load(nb[k] + x);
  return s;
}
template <int DIM, bool WALLS, class V, class Load>
inline V row_sum(const float* u, idx c, const float* const* nb, int x, const Load& load) {
  return row_sum<DIM, WALLS, V>(load(u + c - 1), load(u + c + 1), nb, x, load);
}

// Red-black relaxation of the cells of colour parity in [x0, x1) of the row
// starting at base (every cell's x neighbours inside the row; its other
// neighbours in the rows nb, row_neighbours; inv = 1 / the row's diagonal),
// in one pass over the row: each block of sixteen computes the candidate
// value of every cell (reading u only) and its cells of this colour take
// theirs by a lane blend. Each cell reads only cells of the other colour, so
// this is exactly the colour's sweep. A block's new values are stored only
// after the next block has loaded what it reads: the next block's left
// neighbour lies in this one, and loading it straight after this block's
// store would wait on the store (a store-forwarding stall per block). So a
// block that overlaps the one before (the second, or the last, row_blocks)
// reads the values from before both, and writes the same values again to
// the cells they share (over-relaxation too: the same old value and the same
// candidate). The shifted neighbours of row_blocks are old values too, which
// for the lanes that keep their candidate are cells of the other colour, not
// changed by this sweep.
template <int DIM, bool WALLS>
inline void relax_row_run_d(float* u, const float* f, idx base, int x0, int x1, int parity, const float* const* nb,
                            float ih2, float inv, float w) {
  if (x1 - x0 < kLanes16) {
    for (int x = x0 + ((x0 & 1) != parity); x < x1; x += 2) {
      const idx c = base + x;
      const float s = row_sum<DIM, WALLS, float>(u, c, nb, x, [](const float* p) { return *p; });
      u[c] = over_relax(u[c], (f[c] + s * ih2) * inv, w);
    }
    return;
  }
  int ev[kLanes16], od[kLanes16];
  for (int i = 0; i < kLanes16; ++i) {
    ev[i] = (i & 1) == parity ? -1 : 0;
    od[i] = ((i + 1) & 1) == parity ? -1 : 0;
  }
  const LaneInts16 even = lanes_load(ev), odd = lanes_load(od);  // this colour's lanes in a block starting at an even, an odd x
  float* at = nullptr;  // where held goes
  Lanes16 held{};
  const auto lanes = [](const float* p) { return lanes_load(p); };
  row_blocks(u + base, x0, x1, [&](int x, const Lanes16& left, const Lanes16& old, const Lanes16& right) SF_ALWAYS_INLINE {
    const idx c = base + x;
    const Lanes16 sum = row_sum<DIM, WALLS, Lanes16>(left, right, nb, x, lanes);
    const Lanes16 gs = (lanes_load(f + c) + sum * ih2) * inv;
    const Lanes16 v = lanes_select((x & 1) ? odd : even, w == 1.0f ? gs : old + w * (gs - old), old);
    if (at) lanes_store(at, held);
    at = u + c;
    held = v;
  });
  lanes_store(at, held);
}

inline void relax_row_run(float* u, const float* f, idx base, int x0, int x1, int parity, const float* const* nb,
                          int dim, float ih2, float inv, float w) {
  row_kind(nb, dim, [&](auto D, auto W) {
    relax_row_run_d<decltype(D)::value, decltype(W)::value>(u, f, base, x0, x1, parity, nb, ih2, inv, w);
  });
}

// r = f - A u over [x0, x1) of the row starting at base (neighbour rows nb
// and diagonal weight diag from row_neighbours), in fp32, into out[x0, x1)
// (out: the row's own storage, or a buffer).
template <int DIM, bool WALLS>
inline void residual_row_run_d(const float* u, const float* f, float* out, idx base, int x0, int x1,
                               const float* const* nb, float diag, float ih2, float k2) {
  if (x1 - x0 < kLanes16) {
    for (int x = x0; x < x1; ++x) {
      const idx c = base + x;
      const float s = row_sum<DIM, WALLS, float>(u, c, nb, x, [](const float* p) { return *p; });
      out[x] = f[c] - ((diag * u[c] - s) * ih2 + k2 * u[c]);
    }
    return;
  }
  const auto lanes = [](const float* p) { return lanes_load(p); };
  row_blocks(u + base, x0, x1, [&](int x, const Lanes16& left, const Lanes16& uc, const Lanes16& right) SF_ALWAYS_INLINE {
    const Lanes16 s = row_sum<DIM, WALLS, Lanes16>(left, right, nb, x, lanes);
    lanes_store(out + x, lanes_load(f + base + x) - ((diag * uc - s) * ih2 + k2 * uc));
  });
}

inline void residual_row_run(const float* u, const float* f, float* out, idx base, int x0, int x1,
                             const float* const* nb, int diag, int dim, float ih2, float k2) {
  row_kind(nb, dim, [&](auto D, auto W) {
    residual_row_run_d<decltype(D)::value, decltype(W)::value>(u, f, out, base, x0, x1, nb, (float)diag, ih2, k2);
  });
}
#endif

// Red-black colour of a cell.
SF_HD int colour(int x, int y, int z) { return (x + y + z) & 1; }

}  // namespace sf
