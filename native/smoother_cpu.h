// Red-black Gauss-Seidel on the CPU in one pass over memory per sweep. The
// outermost axis is cut into slabs (rows in 2D, planes in 3D); red on slab s
// is followed by black on slab s - 1, whose red neighbours are then all new
// and whose black neighbours were never touched: exactly the two-colour sweep,
// with each slab still in cache for its second colour. Threads own contiguous
// blocks of slabs; they first relax red on their edge slabs, so the black slabs
// beside a block edge (or across the periodic wrap) see new red values.
// The arithmetic is relax_point from cuda/poisson_k.h, as on the GPU.
#pragma once
#include <algorithm>

#include "algo/multigrid.h"
#include "exec_cpu.h"

namespace sf {

namespace detail {
inline void relax_slab(const MgLevel& L, int s, int col, float ih2, float k2) {
  const Grid& g = L.g;
  int outer = g.dim == 3 ? 2 : 1;
  int nx = g.n[0];
  int y0 = outer == 1 ? s : 0, y1 = outer == 1 ? s + 1 : g.n[1];
  int z = outer == 2 ? s : 0;
  float* u = L.u;
  const float* f = L.f;
  const unsigned char* m = L.mask;
  for (int y = y0; y < y1; ++y) {
    idx base = g.at(0, y, z);
    for (int x = (col + y + z) & 1; x < nx; x += 2) {
      idx c = base + x;
      if (m && m[c]) continue;
      u[c] = relax_point(g, u, f[c], c, x, y, z, ih2, k2);
    }
  }
}
}  // namespace detail

inline void rbgs(CpuExec& ex, const MgLevel& L, float k2, int sweeps) {
  const Grid& g = L.g;
  int slabs = g.dim == 3 ? g.n[2] : g.n[1];
  float ih2 = (float)(1.0 / (g.h * g.h));
  int threads = ex.parallel() && g.cells() >= 32768 ? ThreadPool::instance().size() : 1;
  int blocks = std::max(1, std::min(threads, slabs / 4));
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    auto lo = [&](int b) { return (int)((long long)slabs * b / blocks); };
    auto edges = [&](int b) {
      int a = lo(b), e = lo(b + 1) - 1;
      detail::relax_slab(L, a, 0, ih2, k2);
      if (e != a) detail::relax_slab(L, e, 0, ih2, k2);
    };
    auto pipeline = [&](int b) {
      int a = lo(b), e = lo(b + 1) - 1;
      for (int s = a; s <= e; ++s) {
        if (s != a && s != e) detail::relax_slab(L, s, 0, ih2, k2);
        if (s > a) detail::relax_slab(L, s - 1, 1, ih2, k2);
      }
      detail::relax_slab(L, e, 1, ih2, k2);
    };
    if (blocks == 1) {
      edges(0);
      pipeline(0);
    } else {
      ThreadPool::instance().run(blocks, edges);
      ThreadPool::instance().run(blocks, pipeline);
    }
  }
}

}  // namespace sf
