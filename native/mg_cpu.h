// The multigrid kernels driven on the CPU: overloads for CpuExec of the
// launches in algo/multigrid.h. The cells between a row's ends take the
// vectorisable row forms in cuda/poisson_k.h and cuda/transfer_k.h (for the
// smoother, the residual and the coarse correction, rows beside a wall or
// across a periodic wrap too); a row's end cells and grids with held cells
// take the general per-cell forms. Both compute the same numbers as the GPU
// launches: the same operations in the same order, bit for bit in a build
// without fused multiply-adds (the baseline one); where the compiler fuses
// (the AVX2 and AVX-512 builds, nvcc), it may fuse another product in one
// form than in the other, and the residual then differs by an ulp of its
// terms in some cells.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "algo/multigrid.h"
#include "exec_cpu.h"

namespace sf {

// Sum of squares in sixteen fixed partial sums (CpuExec::lanes_sum: the
// same order on every run).
inline double sum_squares(const float* v, int n) {
  return CpuExec::lanes_sum(n, [&](idx i) { return (double)v[i] * (double)v[i]; });
}

// Sum of n values in sixteen fixed partial sums (CpuExec::lanes_sum: the
// same order on every run).
template <class T>
inline double sum_values(const T* v, idx n) {
  return CpuExec::lanes_sum(n, [&](idx i) { return (double)v[i]; });
}

// A row of the squares' products: out[k] = sum over m of coef[m stride]
// M[m p + k], the terms added in the order of m, the row held in registers
// across them (vectorised).
inline void corner_row(const double* coef, idx stride, const double* M, double* out) {
  constexpr int p = kCornerSquare;
  double acc[p] = {};
  for (int m = 0; m < p; ++m) {
    const double s = coef[m * stride];
    for (int k = 0; k < p; ++k) acc[k] += s * M[(idx)m * p + k];
  }
  std::copy(acc, acc + p, out);
}

// corner_transforms (algo/multigrid.h) by rows (corner_row): each output
// adds its p terms in the same order as the generic form. Measured for the
// four squares: some 30 us, against some 230 us for the generic form (one
// output at a time, each a chain of p dependent additions).
inline void corner_transforms(CpuExec&, const CornerSolve& c, double ih2, double k2) {
  constexpr int p = kCornerSquare;
  constexpr idx pp = (idx)p * p;
  const double *V = c.V, *Vt = c.Vt, *lam = c.lam;
  for (int q = 0; q < 4; ++q) {
    double* A = c.a + q * pp;
    double* B = c.b + q * pp;
    for (int j = 0; j < p; ++j) corner_row(A + (idx)j * p, 1, V, B + (idx)j * p);  // B = A V
    for (int l = 0; l < p; ++l) {  // A = V^T B, over the eigenvalues
      double* Al = A + (idx)l * p;
      corner_row(V + l, p, B, Al);
      for (int k = 0; k < p; ++k) Al[k] = Al[k] / ((lam[l] + lam[k]) * ih2 + k2);
    }
    for (int j = 0; j < p; ++j) corner_row(V + (idx)j * p, 1, A, B + (idx)j * p);  // B = V A
    for (int j = 0; j < p; ++j) corner_row(B + (idx)j * p, 1, Vt, A + (idx)j * p);  // A = B V^T
  }
}

namespace detail {

// The slab pipeline shared by the smoother and the fused correction: the
// outermost axis is cut into one block of slabs per thread; edges(a, e) runs
// on every block [a, e] first, then pipeline(a, e), with a barrier between
// (CpuExec::two_phases).
template <class Edges, class Pipeline>
void slab_blocks(const CpuExec& ex, const Grid& g, const Edges& edges, const Pipeline& pipeline) {
  int slabs = g.dim == 3 ? g.n[2] : g.n[1];
  int threads = ex.parallel() && g.cells() >= CpuExec::kParallelCells ? ThreadPool::instance().size() : 1;
  int blocks = std::max(1, std::min(threads, slabs / 4));
  ex.two_phases(slabs, blocks, [&](int a, int b) { edges(a, b - 1); }, [&](int a, int b) { pipeline(a, b - 1); });
}

inline bool interior_row(const Grid& g, int y, int z) {
  return y > 0 && y < g.n[1] - 1 && (g.dim == 2 || (z > 0 && z < g.n[2] - 1));
}

// One colour of one row: the cells between the row's ends by the row form
// (relax_row_run, with the row's neighbour rows and diagonal), the ends and
// grids with held cells by the per-cell form.
inline void relax_row(const MgLevel& L, int y, int z, int col, float ih2, float k2, float inv, float w) {
  const Grid& g = L.g;
  float* u = L.u;
  const float* f = L.f;
  const unsigned char* m = L.mask;
  idx base = g.at(0, y, z);
  int nx = g.n[0];
  if (!m && nx > 2) {
    int parity = (col + y + z) & 1;  // x parity of this colour in this row
    for (int x : {0, nx - 1})
      if ((x & 1) == parity) u[base + x] = over_relax(u[base + x], relax_point(g, u, f[base + x], base + x, x, y, z, ih2, k2), w);
    const float* nb[4];
    const int diag = row_neighbours(g, u, y, z, nb);
    relax_row_run(u, f, base, 1, nx - 1, parity, nb, g.dim, ih2, diag == 2 * g.dim ? inv : inv_diag(diag, ih2, k2), w);
    return;
  }
  for (int x = (col + y + z) & 1; x < nx; x += 2) {
    idx c = base + x;
    if (m && m[c]) continue;
    u[c] = over_relax(u[c], relax_point(g, u, f[c], c, x, y, z, ih2, k2), w);
  }
}

// A row of a correction that is zero everywhere, after its first red
// half-sweep: red cells w (f / diagonal), black and held cells 0. The same
// values as zeroing the row and relaxing red (the neighbours' sum is 0), so
// the row's neighbours are not read. The cells between the row's ends take
// the vectorisable loop (rows beside a wall with their own diagonal), the
// ends and grids with held cells the per-cell form.
inline void red_from_zero_row(const MgLevel& L, int y, int z, float ih2, float k2, float inv, float w) {
  const Grid& g = L.g;
  float* u = L.u + g.at(0, y, z);
  const float* f = L.f + g.at(0, y, z);
  const unsigned char* m = L.mask ? L.mask + g.at(0, y, z) : nullptr;
  const int nx = g.n[0], parity = (y + z) & 1;  // the red cells' x parity
  const bool fast = !m && nx > 2;
  if (fast) {  // the diagonal of the cells between the row's ends (row_neighbours'; beside a wall, not 2 dim)
    const float* nb[4];
    const int diag = row_neighbours(g, L.u, y, z, nb);
    if (diag != 2 * g.dim) inv = inv_diag(diag, ih2, k2);
  }
  auto edge = [&](int x) {  // the diagonal weight as neighbours() counts it
    const int p[3] = {x, y, z};
    int diag = 0;
    for (int a = 0; a < g.dim; ++a) diag += side_diag(p[a] > 0, g.bc[a]) + side_diag(p[a] < g.n[a] - 1, g.bc[a]);
    return inv_diag(diag, ih2, k2);
  };
  for (int x = 0; x < nx; ++x) {
    if (fast && x == 1) {
      // (f is read for every cell: read only where used, it is a masked
      // load per vector.)
      if (w == 1.0f) {
        for (int i = 1; i < nx - 1; ++i) {
          const float v = f[i] * inv;
          u[i] = (i & 1) == parity ? v : 0.0f;
        }
      } else {
        for (int i = 1; i < nx - 1; ++i) {
          const float v = w * (f[i] * inv);
          u[i] = (i & 1) == parity ? v : 0.0f;
        }
      }
      x = nx - 2;
      continue;
    }
    u[x] = ((x & 1) != parity || (m && m[x])) ? 0.0f : over_relax(0.0f, f[x] * edge(x), w);
  }
}

// One colour of one slab (a row in 2D, a plane in 3D).
inline void relax_slab(const MgLevel& L, int s, int col, float ih2, float k2, float inv, float w) {
  const Grid& g = L.g;
  if (g.dim == 2) {
    relax_row(L, s, 0, col, ih2, k2, inv, w);
  } else {
    for (int y = 0; y < g.n[1]; ++y) relax_row(L, y, s, col, ih2, k2, inv, w);
  }
}

}  // namespace detail

namespace detail {

// Sweeps of red-black Gauss-Seidel in one pass over memory, optionally after
// a first pass `first` over each slab (zeroing it, or adding the coarse
// correction): the passes are stages k = 0..S-1 (first, then red, black, red,
// black, ...) of a wavefront over the slabs. Stage k of slab s reads stage
// k - 1 of slabs s - 1, s and s + 1 only, so at step t the wavefront takes
// stage k on slab t - k, with the few slabs it touches still in cache. Every
// cell sees the same values as in separate passes, so the result is the
// same, bit for bit.
//  - Threads own blocks of slabs. A block first takes what needs nothing
//    from its neighbours: stage k on its slabs at least k from an edge that
//    has a neighbour (a trapezoid); it reads outside only cells of the slabs
//    next to it that no stage has touched yet. Then each block edge (and the
//    periodic wrap) fills in the rest around it: stage k on the 2k slabs
//    astride the edge, for k = 1 .. S - 1.
//  - Blocks of at least 2S slabs keep the edges' fills apart.
//  - An odd number of slabs across a periodic wrap puts cells of one colour
//    side by side there, and then the order of the slabs matters.
//  In those two cases, and past 4 sweeps, it returns false and does nothing.
// first_colours = 1: `first` also takes the first sweep's red half, so the
// wavefront's stages after it start with black. `done`, if given, is called
// once for each slab, just after its last stage (nothing touches the slab
// afterwards), by the thread that took that stage.
inline bool smooth_wavefront(CpuExec& ex, const MgLevel& L, float k2, int sweeps, float w,
                             const std::function<void(int)>* first, int first_colours = 0,
                             const std::function<void(int)>* done = nullptr) {
  const int S = (first ? 1 : 0) + 2 * sweeps - first_colours, min_block = 2 * S;
  const Grid& g = L.g;
  const int n = g.dim == 3 ? g.n[2] : g.n[1];
  const bool wrap = g.bc[g.dim - 1] == BC_PERIODIC;
  if (sweeps < 1 || sweeps > 4 || n < min_block || (wrap && n % 2 == 1)) return false;
  const float ih2 = (float)(1.0 / (g.h * g.h)), inv = inv_diag(2 * g.dim, ih2, k2);
  const int threads = ex.parallel() && g.cells() >= CpuExec::kParallelCells ? ThreadPool::instance().size() : 1;
  const int blocks = std::max(1, std::min(threads, n / min_block));
  auto lo = [&](int b) { return (int)((long long)n * b / blocks); };
  auto stage = [&](int k, int s) {
    s = (s + n) % n;
    const bool last = k == S - 1;
    if (first) {
      if (k == 0) return (*first)(s);
      k += first_colours - 1;
    }
    relax_slab(L, s, k & 1, ih2, k2, inv, w);
    if (last && done) (*done)(s);
  };
  auto trapezoid = [&](int b) {
    const int a = lo(b), e = lo(b + 1) - 1;
    const int dl = (b > 0 || wrap) ? 1 : 0, du = (b + 1 < blocks || wrap) ? 1 : 0;
    for (int t = a; t <= e + S - 1; ++t)
      for (int k = 0; k < S; ++k) {
        const int s = t - k;
        if (s >= a + k * dl && s <= e - k * du) stage(k, s);
      }
  };
  // Edge i lies below slab lo(i); edge 0 is the wrap.
  auto fill = [&](int i) {
    const int B = lo(i);
    for (int k = 1; k < S; ++k)
      for (int s = B - k; s < B + k; ++s) stage(k, s);
  };
  const int first_edge = wrap ? 0 : 1, edges = blocks - first_edge;
  if (blocks == 1) {
    trapezoid(0);
    if (wrap) fill(0);
    return true;
  }
  ThreadPool::instance().run(blocks, trapezoid);
  if (edges > 0) ThreadPool::instance().run(edges, [&](int i) { fill(first_edge + i); });
  return true;
}

}  // namespace detail

// Red-black Gauss-Seidel in one pass over memory per sweep. The outermost
// axis is cut into slabs; red on slab s is followed by black on slab s - 1,
// whose red neighbours are then all new and whose black neighbours were never
// touched: exactly the two-colour sweep, with each slab still in cache for
// its second colour. Threads own contiguous blocks of slabs and first relax
// red on their edge slabs, so the black slabs beside a block edge (or across
// the periodic wrap) see new red values.
inline void rbgs(CpuExec& ex, const MgLevel& L, float k2, int sweeps, float w = 1.0f) {
  float ih2 = (float)(1.0 / (L.g.h * L.g.h));
  float inv = inv_diag(2 * L.g.dim, ih2, k2);
  auto edges = [&](int a, int e) {
    detail::relax_slab(L, a, 0, ih2, k2, inv, w);
    if (e != a) detail::relax_slab(L, e, 0, ih2, k2, inv, w);
  };
  auto pipeline = [&](int a, int e) {
    for (int s = a; s <= e; ++s) {
      if (s != a && s != e) detail::relax_slab(L, s, 0, ih2, k2, inv, w);
      if (s > a) detail::relax_slab(L, s - 1, 1, ih2, k2, inv, w);
    }
    detail::relax_slab(L, e, 1, ih2, k2, inv, w);
  };
  if (sweeps >= 2 && detail::smooth_wavefront(ex, L, k2, sweeps, w, nullptr)) return;
  for (int sweep = 0; sweep < sweeps; ++sweep) detail::slab_blocks(ex, L.g, edges, pipeline);
}

namespace detail {

// The fp32 residual of one row of a level into out[0, nx): the cells between
// the row's ends by the row form (residual_row_run), the ends and grids with
// held cells by the per-cell form.
inline void residual_row(const MgLevel& L, float k2, float ih2, int y, int z, float* out) {
  const Grid& g = L.g;
  const unsigned char* m = L.mask;
  const int nx = g.n[0];
  const idx base = g.at(0, y, z);
  const bool fast = !m && nx > 2;
  for (int x = 0; x < nx; x += (fast && x == 0) ? nx - 1 : 1) {
    idx c = base + x;
    out[x] = (m && m[c]) ? 0.0f : residual_point<float, float>(g, L.u, L.f[c], c, x, y, z, ih2, k2);
  }
  if (fast) {
    const float* nb[4];
    const int diag = row_neighbours(g, L.u, y, z, nb);
    residual_row_run(L.u, L.f, out, base, 1, nx - 1, nb, diag, g.dim, ih2, k2);
  }
}

}  // namespace detail

inline void level_residual(CpuExec& ex, const MgLevel& L, float k2) {
  float ih2 = (float)(1.0 / (L.g.h * L.g.h));
  ex.for_rows(L.g, [&](int y, int z, idx base) { detail::residual_row(L, k2, ih2, y, z, L.r + base); });
}

namespace detail {

// One coarse row (Y, Z) of the residual restricted (level_residual then
// restrict_level): the coarse row's two (2D) or four (3D) fine rows of
// residual go to a buffer of the thread's and are averaged from there by
// restrict_point, the same sums in the same order; the fine residual is
// never stored.
inline void residual_restrict_row(const MgLevel& L, const MgLevel& C, float k2, int Y, int Z) {
  const Grid& g = L.g;
  const int nx = g.n[0], rows = g.dim == 3 ? 4 : 2;
  const float ih2 = (float)(1.0 / (g.h * g.h));
  Grid mini = g;  // the buffer as a grid of the fine rows: [nx, 2 (, 2)]
  mini.n[1] = 2;
  if (g.dim == 3) mini.n[2] = 2;
  thread_local std::vector<float> buf;
  if (buf.size() < (size_t)rows * nx) buf.resize((size_t)rows * nx);
  for (int j = 0; j < rows; ++j)
    residual_row(L, k2, ih2, 2 * Y + (j & 1), g.dim == 3 ? 2 * Z + (j >> 1) : 0, buf.data() + (size_t)j * nx);
  float* fc = C.f + C.g.at(0, Y, Z);
  for (int X = 0; X < C.g.n[0]; ++X) fc[X] = restrict_point(mini, (const float*)buf.data(), X, 0, 0);
}

}  // namespace detail

// The residual restricted to the coarse level in one pass, coarse row by
// coarse row (detail::residual_restrict_row).
inline void residual_restrict(CpuExec& ex, const MgLevel& L, const MgLevel& C, float k2) {
  ex.for_rows(C.g, [&](int Y, int Z, idx) { detail::residual_restrict_row(L, C, k2, Y, Z); });
}

namespace detail {

inline void prolong_row(const MgLevel& C, const MgLevel& F, int y, int z, idx base) {
  const Grid& gf = F.g;
  const unsigned char* m = F.mask;
  const int nx = gf.n[0];
  const bool fast = !m && nx > 2;
  for (int x = 0; x < nx; ++x) {
    if (fast && x == 1) {
      prolong_row_run(C.g, (const float*)C.u, F.u, base, nx, y, z, gf.dim);
      x = nx - 2;
      continue;
    }
    idx c = base + x;
    if (!(m && m[c])) F.u[c] += prolong_point(C.g, (const float*)C.u, x, y, z, gf.dim);
  }
}

}  // namespace detail

inline void prolong_add(CpuExec& ex, const MgLevel& C, const MgLevel& F) {
  ex.for_rows(F.g, [&](int y, int z, idx base) { detail::prolong_row(C, F, y, z, base); });
}

// A V-cycle's smoothing on the CPU, with the pass before it in the same
// wavefront (smooth_wavefront): the pre-smoothing zeroes each slab of the
// correction just before its first relaxation, the post-smoothing adds the
// coarse correction to each slab just before its first. Where the wavefront
// does not apply, the passes one by one.
//  - From zero, the first red half-sweep reads only zeros, so each red cell
//    becomes w (f / diagonal), the value that half-sweep gives, and the
//    black cells 0: one pass with no neighbours read and no zeroing of its
//    own.
inline bool smooth_from_zero(CpuExec& ex, const MgLevel& L, float k2, int sweeps, float w,
                             const std::function<void(int)>* done = nullptr) {
  const Grid& g = L.g;
  const float ih2 = (float)(1.0 / (g.h * g.h)), inv = inv_diag(2 * g.dim, ih2, k2);
  const std::function<void(int)> zero_red = [&](int s) {
    if (g.dim == 2) return detail::red_from_zero_row(L, s, 0, ih2, k2, inv, w);
    for (int y = 0; y < g.n[1]; ++y) detail::red_from_zero_row(L, y, s, ih2, k2, inv, w);
  };
  if (detail::smooth_wavefront(ex, L, k2, sweeps, w, &zero_red, 1, done)) return true;
  ex.fill_zero(L.u, g.cells());
  rbgs(ex, L, k2, sweeps, w);
  return false;
}

// A V-cycle's descent (algo/multigrid.h) in one pass over memory: the
// pre-smoothing's wavefront calls `done` for each fine slab after its last
// stage, and coarse slab Z (fine slabs 2Z and 2Z + 1) is restricted
// (detail::residual_restrict_row on its rows) by whichever thread finds fine
// slabs 2Z - 1 .. 2Z + 2 all done (those that exist: across the periodic
// wrap, modulo; beside a wall, fewer), while they are still in cache. So the
// fine correction and right-hand side are not read again, and the coarse
// values are those of the two passes, bit for bit.
//  - A slab's flag is set after its last stage and read before its values
//    (sequentially consistent atomics: of two threads finishing the last two
//    slabs a coarse slab waits for, at least one sees both), and a coarse
//    slab is claimed by an exchange, so it is restricted exactly once.
//  - A coarse slab no thread claimed (none, by the rule above; the guard
//    costs a scan of flags) is restricted afterwards.
//  - Where the wavefront does not apply, the two passes one by one.
inline void smooth_residual_restrict(CpuExec& ex, const MgLevel& L, const MgLevel& C, float k2, int sweeps, float w) {
  const Grid& g = L.g;
  const int ax = g.dim - 1, n = g.n[ax], nc = C.g.n[ax];
  const bool wrap = g.bc[ax] == BC_PERIODIC;
  const int rows = g.dim == 3 ? C.g.n[1] : 1;
  std::unique_ptr<std::atomic<unsigned char>[]> done(new std::atomic<unsigned char>[(size_t)n]()),
      claimed(new std::atomic<unsigned char>[(size_t)nc]());
  auto restrict_slab = [&](int Z) {
    for (int Y = 0; Y < rows; ++Y) detail::residual_restrict_row(L, C, k2, g.dim == 3 ? Y : Z, g.dim == 3 ? Z : 0);
  };
  auto slab = [&](int j) { return j >= 0 && j < n ? j : wrap ? (j + n) % n : -1; };  // -1: beyond a wall
  auto ready = [&](int Z) {
    for (int j = 2 * Z - 1; j <= 2 * Z + 2; ++j)
      if (slab(j) >= 0 && !done[(size_t)slab(j)].load()) return false;
    return true;
  };
  const std::function<void(int)> on_done = [&](int s) {
    done[(size_t)s].store(1);
    for (int j = s - 1; j <= s + 1; ++j)
      if (slab(j) >= 0) {
        const int Z = slab(j) / 2;
        if (ready(Z) && !claimed[(size_t)Z].exchange(1)) restrict_slab(Z);
      }
  };
  if (n != 2 * nc || !smooth_from_zero(ex, L, k2, sweeps, w, &on_done)) {
    residual_restrict(ex, L, C, k2);
    return;
  }
  for (int Z = 0; Z < nc; ++Z)
    if (!claimed[(size_t)Z].load()) restrict_slab(Z);
}

// With sum, the sum of u after the smoothing, each slab summed while the
// wavefront still has it in cache (per slab, added in order: the same for
// any number of threads).
inline void prolong_add_smooth(CpuExec& ex, const MgLevel& C, const MgLevel& F, float k2, int sweeps, float w,
                               double* sum = nullptr) {
  const Grid& g = F.g;
  const int slabs = g.n[g.dim - 1];
  const idx sc = g.cells() / slabs;
  std::vector<double> part(sum ? (size_t)slabs : 0, 0.0);
  const std::function<void(int)> add = [&](int s) {
    if (g.dim == 2) return detail::prolong_row(C, F, s, 0, g.at(0, s, 0));
    for (int y = 0; y < g.n[1]; ++y) detail::prolong_row(C, F, y, s, g.at(0, y, s));
  };
  const std::function<void(int)> tally = [&](int s) { part[(size_t)s] = sum_values(F.u + (idx)s * sc, sc); };
  if (!detail::smooth_wavefront(ex, F, k2, sweeps, w, &add, 0, sum ? &tally : nullptr)) {
    prolong_add(ex, C, F);
    rbgs(ex, F, k2, sweeps, w);
    if (sum)
      for (int s = 0; s < slabs; ++s) tally(s);
  }
  if (sum) {
    double t = 0;
    for (double v : part) t += v;
    *sum = t;
  }
}

namespace detail {

// cubic_point along x for one row of n coarse values into 2n fine ones: the
// edges by cubic_point, the rest by the same sums written out (vectorised).
inline void cubic_row_x(const double* s, double* d, int n, int bc, bool wall) {
  const double a = -7.0 / 128, b = 105.0 / 128, c = 35.0 / 128, e = -5.0 / 128;
  if (n < 5) {
    for (int f = 0; f < 2 * n; ++f) d[f] = cubic_point<double>(s, 0, 1, f, n, bc, wall);
    return;
  }
  for (int f = 0; f < 4; ++f) d[f] = cubic_point<double>(s, 0, 1, f, n, bc, wall);
  for (int X = 2; X <= n - 3; ++X) {
    d[2 * X] = a * s[X + 1] + b * s[X] + c * s[X - 1] + e * s[X - 2];
    d[2 * X + 1] = a * s[X - 1] + b * s[X] + c * s[X + 1] + e * s[X + 2];
  }
  for (int f = 2 * (n - 2); f < 2 * n; ++f) d[f] = cubic_point<double>(s, 0, 1, f, n, bc, wall);
}

// d = the weighted sum of four rows of n values.
inline void weigh_rows(const double* const r[4], const double ws[4], double* d, idx n) {
  for (idx x = 0; x < n; ++x) d[x] = ws[0] * r[0][x] + ws[1] * r[1][x] + ws[2] * r[2][x] + ws[3] * r[3][x];
}

// Slab s (a row in 2D, a plane in 3D) of the cubic interpolation of the
// coarse answer pc onto the fine grid gf, into d: four coarse slabs weighted
// along the slab axis, then in 3D four of the result's rows along y, each
// row at the coarse width, then along x (cubic_row_x). The same numbers as
// cubic_point along each axis in turn, up to rounding (the axes in another
// order), with nothing larger than one coarse plane in between. tmp: at
// least (ncx ncy in 3D) + ncx doubles.
inline void interp_slab(const Grid& gc, const double* pc, const Grid& gf, int s, double* d, double* tmp) {
  const int ax = gf.dim - 1, ncx = gc.n[0];
  const bool wx = wall_cubic(gc.dim, ncx, gc.bc[0]);
  int at[4];
  double ws[4];
  cubic_taps(s, gc.n[ax], gc.bc[ax], wall_cubic(gc.dim, gc.n[ax], gc.bc[ax]), at, ws);
  const idx sc = gf.dim == 3 ? (idx)ncx * gc.n[1] : ncx;  // a coarse slab
  const double* r[4] = {pc + at[0] * sc, pc + at[1] * sc, pc + at[2] * sc, pc + at[3] * sc};
  if (gf.dim == 2) {
    weigh_rows(r, ws, tmp, ncx);
    cubic_row_x(tmp, d, ncx, gc.bc[0], wx);
    return;
  }
  double *plane = tmp, *row = tmp + sc;
  weigh_rows(r, ws, plane, sc);
  for (int y = 0; y < gf.n[1]; ++y) {
    cubic_taps(y, gc.n[1], gc.bc[1], wall_cubic(gc.dim, gc.n[1], gc.bc[1]), at, ws);
    const double* ry[4] = {plane + at[0] * ncx, plane + at[1] * ncx, plane + at[2] * ncx, plane + at[3] * ncx};
    weigh_rows(ry, ws, row, ncx);
    cubic_row_x(row, d + (idx)y * gf.n[0], ncx, gc.bc[0], wx);
  }
}

inline size_t interp_scratch(const Grid& gc) { return (size_t)gc.n[0] * (gc.dim == 3 ? gc.n[1] + 1 : 1); }

}  // namespace detail

// The wall ramp added to a coarse answer (algo/multigrid.h) by rows
// (wall_ramp_row): the per-cell form's subsets and divisions cost more than
// the interpolation that follows.
inline void add_wall_ramp(CpuExec& ex, const Grid& gc, double* pc, const WallRamp& ramp) {
  if (!ramp.mask) return;
  ex.for_rows(gc, [&](int y, int z, idx base) { wall_ramp_row(ramp, y, z, pc + base); });
}

// Full multigrid's cubic interpolation of a coarse answer (algo/multigrid.h)
// in one pass, slab by slab (interp_slab): without the generic form's
// half-size fp64 arrays between the axes (their writes and reads were a
// fifth of the pass's memory traffic in 2D, more than half in 3D).
inline void prolong_solution(CpuExec& ex, const Grid& gc, const double* pc, const Grid& gf, double* pf, double*,
                             double*) {
  const int slabs = gf.n[gf.dim - 1];
  const idx sc = gf.cells() / slabs, grain = std::max<idx>(1, 8192 / sc);
  ex.for_ranges(slabs, grain, [&](idx lo, idx hi) {
    HostArray<double> tmp(detail::interp_scratch(gc));
    for (idx s = lo; s < hi; ++s) detail::interp_slab(gc, pc, gf, (int)s, pf + s * sc, tmp.data());
  }, CpuExec::min_tasks(grain * sc));
}

namespace detail {

// A coarse cell's value from its children v (fp32 values or vectors of
// them), in restrict_point's order: x, then y, then z.
template <bool D3, class V>
inline V children_mean(const V* v) {
  if constexpr (D3) return 0.125f * (((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])));
  else return 0.25f * ((v[0] + v[1]) + (v[2] + v[3]));
}

typedef float F16v __attribute__((vector_size(64)));
typedef float F8v __attribute__((vector_size(32)));
typedef double D8v __attribute__((vector_size(64)));

// The even and odd cells of sixteen fine cells from p: the children along x
// of eight coarse cells.
inline void split_pairs(const float* p, F8v& even, F8v& odd) {
  F16v a;
  std::memcpy(&a, p, sizeof a);
  even = __builtin_shufflevector(a, a, 0, 2, 4, 6, 8, 10, 12, 14);
  odd = __builtin_shufflevector(a, a, 1, 3, 5, 7, 9, 11, 13, 15);
}

// One coarse row of restrict_rhs: the children's rows rr[0 .. 2 (4 in 3D))
// (in restrict_point's order: y, then z), eight coarse cells at a time in
// vectors (each fine row's even and odd cells taken apart by a shuffle), the
// rest one by one; returns the row's sum of squares. (Eight doubles are one
// AVX-512 register; narrower ISAs split them. Four at a time, the pass had a
// fifth more of the samples of a 4096^2 solve.)
template <bool D3>
inline double restrict_rhs_row(const float* const* rr, double shift, float* out, int ncx) {
  constexpr int rows = D3 ? 4 : 2;
  D8v acc = {0, 0, 0, 0, 0, 0, 0, 0};
  const D8v sh = acc + shift;
  int X = 0;
  for (; X + 8 <= ncx; X += 8) {
    F8v v[2 * rows];
    for (int j = 0; j < rows; ++j) {
      split_pairs(rr[j] + 2 * X, v[2 * j], v[2 * j + 1]);
      for (int k = 2 * j; k < 2 * j + 2; ++k) {
        const D8v d = __builtin_convertvector(v[k], D8v) - sh;
        v[k] = __builtin_convertvector(d, F8v);
        acc += d * d;
      }
    }
    const F8v m = children_mean<D3>(v);
    std::memcpy(out + X, &m, sizeof m);
  }
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; X < ncx; ++X) {
    float v[2 * rows];
    for (int i = 0; i < 2 * rows; ++i) {
      const double d = (double)rr[i >> 1][2 * X + (i & 1)] - shift;
      v[i] = (float)d;
      s += d * d;
    }
    out[X] = children_mean<D3>(v);
  }
  return s;
}

}  // namespace detail

// Full multigrid's first restriction (algo/multigrid.h) by coarse rows: the
// two (2D) or four (3D) fine rows under a coarse row are read once, each
// child rounded to fp32 as restrict_point would read it (the same sums in the
// same order, so the same coarse values), and the squares summed in vector
// lanes (detail::restrict_rhs_row).
inline double restrict_rhs(CpuExec& ex, const Grid& gf, const float* rho, double shift, const Grid& gc, float* dst) {
  const int ncx = gc.n[0];
  const idx sy = gf.n[0], sz = (idx)gf.n[0] * gf.n[1];
  const bool d3 = gf.dim == 3;
  return ex.sum_rows(gc, [&](int Y, int Z, idx cbase) {
    const float* r = rho + gf.at(0, 2 * Y, d3 ? 2 * Z : 0);
    const idx z1 = d3 ? sz : 0;  // (2D: two rows)
    const float* rr[4] = {r, r + sy, r + z1, r + z1 + sy};
    return d3 ? detail::restrict_rhs_row<true>(rr, shift, dst + cbase, ncx)
              : detail::restrict_rhs_row<false>(rr, shift, dst + cbase, ncx);
  });
}

namespace detail {

// A run of the answer: out = phi - mean in fp32, and to acc the sum of
// (rho - shift) out in eight fixed partial sums (partial j takes the cells
// i = j mod 8), added in a fixed order.
inline void answer_row(const double* phi, const float* rho, double shift, double mean, float* out, idx n,
                       double& acc) {
  // In vectors of eight written out: the compiler leaves the loop scalar.
  // (Eight doubles are one AVX-512 register; narrower ISAs split them.
  // Two vectors of four, one after the other, were taken apart through
  // the stack and cost a quarter of the last correction.)
  typedef double D8 __attribute__((vector_size(64)));
  typedef float F8 __attribute__((vector_size(32)));
  D8 a8 = {0, 0, 0, 0, 0, 0, 0, 0};
  const D8 sh = a8 + shift, mn = a8 + mean;
  idx i = 0;
  for (; i + 8 <= n; i += 8) {
    D8 p;
    F8 r;
    std::memcpy(&p, phi + i, sizeof p);
    std::memcpy(&r, rho + i, sizeof r);
    const F8 o = __builtin_convertvector(p - mn, F8);
    std::memcpy(out + i, &o, sizeof o);
    a8 += (__builtin_convertvector(r, D8) - sh) * __builtin_convertvector(o, D8);
  }
  double a[8];
  for (int j = 0; j < 8; ++j) a[j] = a8[j];
  for (; i < n; ++i) {
    float o = (float)(phi[i] - mean);
    out[i] = o;
    a[i & 7] += ((double)rho[i] - shift) * (double)o;
  }
  acc += ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// The outer fp64 residual of one row, stored in fp32 into r; returns the sum
// of squares of what was stored.
inline double outer_residual_row(const Grid& g, const double* phi, const float* rho, double shift,
                                 const unsigned char* m, float* r, double k2, int y, int z, idx base) {
  const double ih2 = 1.0 / (g.h * g.h), diag = 2.0 * g.dim;
  int nx = g.n[0];
  idx sy = nx, sz = (idx)nx * g.n[1];
  bool fast = !m && interior_row(g, y, z) && nx > 2;
  for (int x = 0; x < nx; x += (fast && x == 0) ? nx - 1 : 1) {
    idx c = base + x;
    r[c] = (m && m[c]) ? 0.0f
                       : (float)residual_point<double, double>(g, phi, (double)rho[c] - shift, c, x, y, z, ih2, k2);
  }
  if (fast) {
    if (g.dim == 3) {
      for (int x = 1; x < nx - 1; ++x) {
        idx c = base + x;
        r[c] = (float)(((double)rho[c] - shift) - ((diag * phi[c] - interior_sum(phi, c, sy, sz, 3)) * ih2 + k2 * phi[c]));
      }
    } else {
      for (int x = 1; x < nx - 1; ++x) {
        idx c = base + x;
        r[c] = (float)(((double)rho[c] - shift) - ((diag * phi[c] - interior_sum(phi, c, sy, sz, 2)) * ih2 + k2 * phi[c]));
      }
    }
  }
  return sum_squares(r + base, nx);
}

}  // namespace detail

inline double outer_residual(CpuExec& ex, const Grid& g, const double* phi, const float* rho, double shift,
                             const unsigned char* m, float* r, double k2) {
  return ex.sum_rows(g, [&](int y, int z, idx base) {
    return detail::outer_residual_row(g, phi, rho, shift, m, r, k2, y, z, base);
  });
}

// phi += alpha e, then the outer residual, in one pass: slabs (rows in 2D,
// planes in 3D) are corrected just before the residual of the slab below
// them needs them. Threads own blocks of slabs and correct their edge slabs
// first, so a slab's neighbours across a block edge or the periodic wrap are
// corrected before its residual is taken. Partial sums are kept per slab and
// added in order, the same for any number of threads.
inline double correct_and_residual(CpuExec& ex, const Grid& g, double* phi, const float* e, const float* rho,
                                   double shift, const unsigned char* m, float* r, double k2, float* out = nullptr,
                                   double* rho_out = nullptr, double mean = 0, double alpha = 1.0) {
  int slabs = g.dim == 3 ? g.n[2] : g.n[1];
  int rows_per_slab = g.dim == 3 ? g.n[1] : 1;
  idx slab_cells = (idx)g.n[0] * rows_per_slab;
  std::vector<double> part((size_t)slabs, 0.0), part_out(out ? (size_t)slabs : 0, 0.0);
  auto correct = [&](int s) {
    idx b = (idx)s * slab_cells;
    if (m) {
      for (idx i = b; i < b + slab_cells; ++i)
        if (!m[i]) phi[i] += alpha * (double)e[i];
    } else {
      for (idx i = b; i < b + slab_cells; ++i) phi[i] += alpha * (double)e[i];
    }
  };
  auto residual = [&](int s) {
    double acc = 0;
    for (int j = 0; j < rows_per_slab; ++j) {
      int y = g.dim == 3 ? j : s, z = g.dim == 3 ? s : 0;
      acc += detail::outer_residual_row(g, phi, rho, shift, m, r, k2, y, z, g.at(0, y, z));
    }
    part[(size_t)s] = acc;
    if (out) {  // the slab's phi is final: the answer and sum (rho - shift) out
      idx b = (idx)s * slab_cells;
      double acc = 0;
      detail::answer_row(phi + b, rho + b, shift, mean, out + b, slab_cells, acc);
      part_out[(size_t)s] = acc;
    }
  };
  auto edges = [&](int a, int e) {
    correct(a);
    if (e != a) correct(e);
  };
  auto pipeline = [&](int a, int e) {
    for (int s = a; s <= e; ++s) {
      if (s + 1 < e) correct(s + 1);
      residual(s);
    }
  };
  detail::slab_blocks(ex, g, edges, pipeline);
  double sum = 0;
  for (double v : part) sum += v;
  if (out) {
    double so = 0;
    for (double v : part_out) so += v;
    *rho_out = so;
  }
  return sum;
}

// energy_step (algo/multigrid.h) in one pass by rows: each row's r . e and
// e . A e (A e in fp64 from the fp32 e: the row's ends and grids under 3
// cells wide by apply_point, the cells between by the same sums written
// out, vectorised), per row, added in row order (the same for any number
// of threads).
inline double energy_step(CpuExec& ex, const Grid& g, const float* r, const float* e, double k2) {
  const double ih2 = 1.0 / (g.h * g.h);
  const int nx = g.n[0];
  std::vector<double> re_rows((size_t)g.n[1] * g.n[2], 0.0);
  const double eae = ex.sum_rows(g, [&](int y, int z, idx base) {
    const float* u = e + base;
    double ea = 0;
    for (int x = 0; x < nx; x += (nx > 2 && x == 0) ? nx - 1 : 1)
      ea += (double)u[x] * apply_point<float, double>(g, e, base + x, x, y, z, ih2, k2);
    if (nx > 2) {
      const float* nb[4] = {nullptr, nullptr, nullptr, nullptr};
      const double diag = row_neighbours(g, e, y, z, nb);
      // (Cell x = i + 1 of each row, through pointers offset by one: with x
      // an int index the compiler gathered every value, and so it does
      // through row_sum, whose rows take an int x: the pass then had twice
      // the samples.)
      const float *ul = u, *uc = u + 1, *ur = u + 2;
      const float* on[4];
      for (int k = 0; k < 4; ++k) on[k] = nb[k] ? nb[k] + 1 : nullptr;
      row_kind(nb, g.dim, [&](auto D, auto W) {
        ea += CpuExec::lanes_sum(nx - 2, [&](idx i) {
          double s = (0.0 + (double)ul[i]) + (double)ur[i];
          for (int k = 0; k < 2 * (decltype(D)::value - 1); ++k)
            if (!decltype(W)::value || on[k]) s += (double)on[k][i];
          const double c = uc[i];
          return c * ((diag * c - s) * ih2 + k2 * c);
        });
      });
    }
    re_rows[(size_t)z * g.n[1] + y] = CpuExec::lanes_sum(nx, [&](idx x) { return (double)r[base + x] * (double)u[x]; });
    return ea;
  });
  double re = 0;
  for (double v : re_rows) re += v;
  return energy_step_of(re, eae);
}

namespace detail {

// The fp64 residual (rho - shift) - A v of fp64 values v that are never
// stored whole: load(s, dst, own) forms slab s of v (a row in 2D, a plane in
// 3D; own: s lies in the caller's range, not a neighbour of it). Threads
// own ranges of slabs and keep v on three slabs (below, this, above) in a
// ring, so each slab is formed once per range (twice at a range's first slab
// and its neighbour below). row(s, gb, v, res) receives each row of the grid
// in order within its slab: slab s, the row's first cell gb, the row's v and
// its residual in fp32 (nx each, in the thread's buffers). The residual sums
// the neighbours in the order of neighbours(), so it is bit for bit that of
// outer_residual on v. Needs at least 3 slabs and 3 cells along x.
template <class Load, class Row>
void ring_residual(CpuExec& ex, const Grid& g, const float* rho, double shift, double k2, const Load& load,
                   const Row& row) {
  const int ax = g.dim - 1;  // the slab axis
  const int slabs = g.n[ax];
  const int nx = g.n[0], rows = g.dim == 3 ? g.n[1] : 1;
  const idx sc = (idx)nx * rows;
  const int bc = g.bc[ax];
  Grid v = g;  // one slab: its in-slab neighbours (a Neumann face adds nothing)
  v.n[ax] = 1;
  v.bc[ax] = BC_NEUMANN;
  const double ih2 = 1.0 / (g.h * g.h), diag = 2.0 * g.dim;
  const idx grain = std::max<idx>(4, 16384 / sc);
  ex.for_ranges(slabs, grain, [&](idx a, idx b) {
    HostArray<double> ring((size_t)(3 * sc));  // (uninitialised, from the host cache)
    std::vector<float> rr((size_t)nx);
    double *lo = ring.data(), *mid = lo + sc, *hi = mid + sc;
    const int below = a > 0 ? (int)a - 1 : (bc == BC_PERIODIC ? slabs - 1 : -1);
    if (below >= 0) load(below, lo, false);
    load((int)a, mid, true);
    for (int s = (int)a; s < (int)b; ++s) {
      const int above = s + 1 < slabs ? s + 1 : (bc == BC_PERIODIC ? 0 : -1);
      if (above >= 0) load(above, hi, s + 1 < (int)b);
      const double* L = (s > 0 || bc == BC_PERIODIC) ? lo : nullptr;
      const double* H = above >= 0 ? hi : nullptr;
      const int sides = side_diag(L != nullptr, bc) + side_diag(H != nullptr, bc);
      for (int j = 0; j < rows; ++j) {
        const idx lb = (idx)j * nx, gb = (idx)s * sc + lb;
        const float* f = rho + gb;
        const int vy = g.dim == 3 ? j : 0;
        const bool fast = L && H && (g.dim == 2 || (j > 0 && j < rows - 1));
        auto point = [&](int x) {
          Neighbours<double> nb = neighbours(v, mid, lb + x, x, vy, 0);
          if (L) nb.sum += L[lb + x];
          if (H) nb.sum += H[lb + x];
          nb.diag += sides;
          const double p = mid[lb + x];
          rr[x] = (float)(((double)f[x] - shift) - (((double)nb.diag * p - nb.sum) * ih2 + k2 * p));
        };
        if (fast) {
          point(0);
          const double* m = mid + lb;
          const double *Lr = L + lb, *Hr = H + lb;
          if (g.dim == 3) {
            for (int x = 1; x < nx - 1; ++x) {
              double t = ((0.0 + m[x - 1]) + m[x + 1]) + m[x - nx];
              t = t + m[x + nx];
              t = (t + Lr[x]) + Hr[x];
              rr[x] = (float)(((double)f[x] - shift) - ((diag * m[x] - t) * ih2 + k2 * m[x]));
            }
          } else {
            for (int x = 1; x < nx - 1; ++x) {
              double t = ((0.0 + m[x - 1]) + m[x + 1]) + Lr[x];
              t = t + Hr[x];
              rr[x] = (float)(((double)f[x] - shift) - ((diag * m[x] - t) * ih2 + k2 * m[x]));
            }
          }
          point(nx - 1);
        } else {
          for (int x = 0; x < nx; ++x) point(x);
        }
        row(s, gb, (const double*)(mid + lb), (const float*)rr.data());
      }
      double* t = lo;
      lo = mid, mid = hi, hi = t;
    }
  }, CpuExec::min_tasks(grain * sc));
}

inline bool ring_fits(const Grid& g) { return g.n[g.dim - 1] >= 3 && g.n[0] >= 3; }

// The answer's sums of a ring_residual over v, per slab, added up in order
// (the same for any number of threads): the residual's squares and
// sum (rho - shift) out, with out = v - mean in fp32.
template <class Load>
double ring_answer(CpuExec& ex, const Grid& g, const float* rho, double shift, double k2, const Load& load, float* out,
                   double* rho_out, double mean) {
  const int slabs = g.n[g.dim - 1];
  std::vector<double> part((size_t)slabs, 0.0), part_out((size_t)slabs, 0.0);
  const int nx = g.n[0];
  ring_residual(ex, g, rho, shift, k2, load, [&](int s, idx gb, const double* v, const float* res) {
    part[(size_t)s] += sum_squares(res, nx);
    answer_row(v, rho + gb, shift, mean, out + gb, nx, part_out[(size_t)s]);
  });
  double sum = 0, so = 0;
  for (int s = 0; s < slabs; ++s) sum += part[(size_t)s], so += part_out[(size_t)s];
  *rho_out = so;
  return sum;
}

}  // namespace detail

// The last step of the defect correction, when phi itself is not needed
// afterwards (algo/multigrid.h): phi + e is formed slab by slab in a ring
// (ring_residual) and never stored, nor is the residual; only the fp32
// answer is written.
inline double last_correction(CpuExec& ex, const Grid& g, double* phi, const float* e, const float* rho,
                              double shift, float* r, double k2, float* out, double* rho_out, double mean) {
  if (!detail::ring_fits(g))
    return correct_and_residual(ex, g, phi, e, rho, shift, nullptr, r, k2, out, rho_out, mean);
  const idx sc = g.cells() / g.n[g.dim - 1];
  auto load = [&](int s, double* d, bool) {
    const double* p = phi + (idx)s * sc;
    const float* q = e + (idx)s * sc;
    for (idx i = 0; i < sc; ++i) d[i] = p[i] + (double)q[i];
  };
  return detail::ring_answer(ex, g, rho, shift, k2, load, out, rho_out, mean);
}

// Full multigrid on the finest level (algo/multigrid.h), where the
// interpolated answer is needed only for its residual and, later, for the
// answer: each slab of it is interpolated (interp_slab) where the ring
// needs it and stored only when keep_phi, so the first pass reads the coarse
// answer and rho and writes the residual, and the last (full multigrid as
// the whole solve) reads the coarse answer, the correction and rho and
// writes the answer: about half the bytes of storing phi and reading it
// back twice. The interpolation is formed twice; it is a few fp64 products
// per cell, cheaper than the 16 bytes it saves. (A grid under 3 cells along x
// or the slab axis, which no finest level of full multigrid is, takes the
// stored way, phi written either way.) With phi_sum, the sum of the
// interpolation, each slab summed as it is formed (per slab, added in order).
inline void fmg_finest_residual(CpuExec& ex, const Grid& gc, const double* pc, const Grid& g, double* phi, double* t1,
                                double* t2, const float* rho, double shift, float* r, double k2, bool keep_phi,
                                double* phi_sum = nullptr) {
  const int slabs = g.n[g.dim - 1];
  const idx sc = g.cells() / slabs;
  std::vector<double> part(phi_sum ? (size_t)slabs : 0, 0.0);
  auto tally = [&](int s, const double* d) { part[(size_t)s] = sum_values(d, sc); };
  if (!detail::ring_fits(g)) {
    prolong_solution(ex, gc, pc, g, phi, t1, t2);
    outer_residual(ex, g, phi, rho, shift, nullptr, r, k2);
    if (phi_sum)
      for (int s = 0; s < slabs; ++s) tally(s, phi + (idx)s * sc);
  } else {
    const int nx = g.n[0];
    auto load = [&](int s, double* d, bool own) {
      thread_local std::vector<double> tmp;
      if (tmp.size() < detail::interp_scratch(gc)) tmp.resize(detail::interp_scratch(gc));
      detail::interp_slab(gc, pc, g, s, d, tmp.data());
      if (keep_phi && own) std::memcpy(phi + (idx)s * sc, d, (size_t)sc * sizeof(double));
      if (phi_sum && own) tally(s, d);
    };
    detail::ring_residual(ex, g, rho, shift, k2, load, [&](int, idx gb, const double*, const float* res) {
      std::memcpy(r + gb, res, (size_t)nx * sizeof(float));
    });
  }
  if (phi_sum) {
    double t = 0;
    for (double v : part) t += v;
    *phi_sum = t;
  }
}

inline double fmg_last_correction(CpuExec& ex, const Grid& gc, const double* pc, const Grid& g, double* phi,
                                  const float* e, const float* rho, double shift, float* r, double k2, float* out,
                                  double* rho_out, double mean) {
  if (!detail::ring_fits(g)) return last_correction(ex, g, phi, e, rho, shift, r, k2, out, rho_out, mean);
  const idx sc = g.cells() / g.n[g.dim - 1];
  auto load = [&](int s, double* d, bool) {
    thread_local std::vector<double> tmp;
    if (tmp.size() < detail::interp_scratch(gc)) tmp.resize(detail::interp_scratch(gc));
    detail::interp_slab(gc, pc, g, s, d, tmp.data());
    const float* q = e + (idx)s * sc;
    for (idx i = 0; i < sc; ++i) d[i] += (double)q[i];
  };
  return detail::ring_answer(ex, g, rho, shift, k2, load, out, rho_out, mean);
}

}  // namespace sf
