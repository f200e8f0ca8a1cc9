// The screened Poisson operator A u = -lap u + k2 u on a cell-centred grid,
// 5-point (2D) or 7-point (3D) stencil, with the boundary handled by ghost
// cells (grid_k.h). Each routine is one cell's arithmetic; the CPU sweeps and
// the CUDA launchers call these and nothing else.
#pragma once
#include "grid_k.h"

namespace sf {

// Sum of the neighbour values that are unknowns (interior or periodic) and the
// diagonal weight in units of 1/h^2: an interior face adds 1, a Dirichlet face
// adds 2 (ghost = -u_c), a Neumann face adds 0 (ghost = u_c).
template <class T>
struct Neighbours {
  T sum;
  int diag;
};

template <class T>
SF_HD void add_axis(const T* u, idx c, int i, int n, idx stride, int bc, Neighbours<T>& nb) {
  if (i > 0) { nb.sum += u[c - stride]; nb.diag += 1; }
  else if (bc == BC_PERIODIC) { nb.sum += u[c + (idx)(n - 1) * stride]; nb.diag += 1; }
  else if (bc == BC_DIRICHLET) nb.diag += 2;
  if (i < n - 1) { nb.sum += u[c + stride]; nb.diag += 1; }
  else if (bc == BC_PERIODIC) { nb.sum += u[c - (idx)(n - 1) * stride]; nb.diag += 1; }
  else if (bc == BC_DIRICHLET) nb.diag += 2;
}

template <class T>
SF_HD Neighbours<T> neighbours(const Grid& g, const T* u, idx c, int x, int y, int z) {
  Neighbours<T> nb{T(0), 0};
  add_axis(u, c, x, g.n[0], (idx)1, g.bc[0], nb);
  add_axis(u, c, y, g.n[1], (idx)g.n[0], g.bc[1], nb);
  if (g.dim == 3) add_axis(u, c, z, g.n[2], (idx)g.n[0] * g.n[1], g.bc[2], nb);
  return nb;
}

// (A u)_c
template <class T>
SF_HD T apply_point(const Grid& g, const T* u, idx c, int x, int y, int z, T ih2, T k2) {
  Neighbours<T> nb = neighbours(g, u, c, x, y, z);
  return ((T)nb.diag * u[c] - nb.sum) * ih2 + k2 * u[c];
}

// r_c = f_c - (A u)_c; the accumulation type R may be wider than the storage.
template <class T, class R>
SF_HD R residual_point(const Grid& g, const T* u, R f, idx c, int x, int y, int z, R ih2, R k2) {
  Neighbours<T> nb = neighbours(g, u, c, x, y, z);
  return f - (((R)nb.diag * (R)u[c] - (R)nb.sum) * ih2 + k2 * (R)u[c]);
}

// Gauss-Seidel: the value of u_c that zeroes the residual at c.
template <class T>
SF_HD T relax_point(const Grid& g, const T* u, T f, idx c, int x, int y, int z, T ih2, T k2) {
  Neighbours<T> nb = neighbours(g, u, c, x, y, z);
  return (f + nb.sum * ih2) / ((T)nb.diag * ih2 + k2);
}

// Red-black colour of a cell.
SF_HD int colour(int x, int y, int z) { return (x + y + z) & 1; }

}  // namespace sf
