// Cloud-in-cell: a point's charge is shared by the 2^dim cells around it with
// bi/tri-linear weights; interpolation uses the very same weights, so it is the
// adjoint of deposition. Points beyond the outermost cell centre give the
// ghost's weight to the boundary cell (non-periodic) or wrap (periodic).
#pragma once
#include "grid_k.h"
#include <math.h>

namespace sf {

struct CicStencil {
  idx cell[8];
  double w[8];
  int count;
};

SF_HD void cic_axis(double p, double h, int n, int bc, int& i0, int& i1, double& f) {
  double xg = p / h - 0.5;
  double fl = floor(xg);
  f = xg - fl;
  if (bc == BC_PERIODIC) {
    double m = fmod(fl, (double)n);
    if (m < 0) m += n;
    i0 = (int)m;
    if (i0 >= n) i0 = 0;  // fmod rounding at the top edge
    i1 = i0 + 1 == n ? 0 : i0 + 1;
  } else {
    long long a = (long long)fl;
    i0 = a < 0 ? 0 : (a > n - 1 ? n - 1 : (int)a);
    long long b = a + 1;
    i1 = b < 0 ? 0 : (b > n - 1 ? n - 1 : (int)b);
  }
}

SF_HD CicStencil cic_stencil(const Grid& g, const float* pos) {
  int i0[3] = {0, 0, 0}, i1[3] = {0, 0, 0};
  double f[3] = {0, 0, 0};
  for (int a = 0; a < g.dim; ++a) cic_axis((double)pos[a], g.h, g.n[a], g.bc[a], i0[a], i1[a], f[a]);
  CicStencil s;
  s.count = g.dim == 3 ? 8 : 4;
  for (int k = 0; k < s.count; ++k) {
    int bx = k & 1, by = (k >> 1) & 1, bz = (k >> 2) & 1;
    int x = bx ? i1[0] : i0[0], y = by ? i1[1] : i0[1], z = g.dim == 3 ? (bz ? i1[2] : i0[2]) : 0;
    double w = (bx ? f[0] : 1 - f[0]) * (by ? f[1] : 1 - f[1]);
    if (g.dim == 3) w *= bz ? f[2] : 1 - f[2];
    s.cell[k] = g.at(x, y, z);
    s.w[k] = w;
  }
  return s;
}

// Deposition accumulates in 64-bit fixed point: integer addition is exact and
// associative, so the grid is the same bit for bit whatever the thread order,
// on the CPU and on the GPU.
SF_HD void atomic_add_fixed(long long* p, long long v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
#else
  __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

SF_HD long long to_fixed(double v) {
#if defined(__CUDA_ARCH__)
  return __double2ll_rn(v);
#else
  return llrint(v);
#endif
}

SF_HD void deposit_point(const Grid& g, const float* pos, double q, double scale, long long* acc) {
  CicStencil s = cic_stencil(g, pos);
  for (int k = 0; k < s.count; ++k) atomic_add_fixed(acc + s.cell[k], to_fixed(q * s.w[k] * scale));
}

template <class T>
SF_HD double interpolate_point(const Grid& g, const float* pos, const T* field) {
  CicStencil s = cic_stencil(g, pos);
  double v = 0;
  for (int k = 0; k < s.count; ++k) v += s.w[k] * (double)field[s.cell[k]];
  return v;
}

}  // namespace sf
