// Grid transfers for cell-centred multigrid: restriction is the average of the
// 2^dim children (the adjoint of constant injection, scaled), prolongation is
// bi/tri-linear interpolation of the coarse correction (weights 3/4, 1/4 per
// axis) with ghost values from the boundary condition. Orders 1 + 2 > 2, as
// a second-order operator needs for h-independent convergence.
#pragma once
#include "grid_k.h"

namespace sf {

// Coarse cell (X, Y, Z) <- mean of its fine children.
template <class T>
SF_HD T restrict_point(const Grid& gf, const T* rf, int X, int Y, int Z) {
  int x = 2 * X, y = 2 * Y;
  if (gf.dim == 2) {
    idx c = gf.at(x, y, 0);
    idx s = gf.n[0];
    return T(0.25) * ((rf[c] + rf[c + 1]) + (rf[c + s] + rf[c + s + 1]));
  }
  int z = 2 * Z;
  idx c = gf.at(x, y, z);
  idx s = gf.n[0], p = (idx)gf.n[0] * gf.n[1];
  return T(0.125) * (((rf[c] + rf[c + 1]) + (rf[c + s] + rf[c + s + 1])) +
                     ((rf[c + p] + rf[c + p + 1]) + (rf[c + p + s] + rf[c + p + s + 1])));
}

// Interpolated coarse correction at fine cell (x, y, z).
template <class T>
SF_HD T prolong_point(const Grid& gc, const T* ec, int x, int y, int z, int dim) {
  int X[3] = {x >> 1, y >> 1, z >> 1};
  int O[3] = {(x & 1) ? 1 : -1, (y & 1) ? 1 : -1, (z & 1) ? 1 : -1};
  int ia[3][2];
  T sg[3][2];
  for (int a = 0; a < 3; ++a) {
    int s;
    ia[a][0] = X[a];
    sg[a][0] = T(1);
    if (a < dim) {
      ia[a][1] = ghost_index(X[a] + O[a], gc.n[a], gc.bc[a], s);
      sg[a][1] = T(s);
    } else {
      ia[a][1] = X[a];
      sg[a][1] = T(1);
    }
  }
  const T w[2] = {T(0.75), T(0.25)};
  T v = T(0);
  int nz = dim == 3 ? 2 : 1;
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) {
        T wk = dim == 3 ? w[k] : T(1);
        T s = sg[0][i] * sg[1][j] * (dim == 3 ? sg[2][k] : T(1));
        v += wk * w[j] * w[i] * s * ec[gc.at(ia[0][i], ia[1][j], ia[2][k])];
      }
  return v;
}

// prolong_point for the fine cells [1, nx - 1) of row (y, z), whose coarse
// neighbours along x all lie inside the coarse grid; along y and z they may
// be ghosts, whose rows and signs (ghost_index) go into the weights: the same
// products in the same order, added to u. Fine cells 2X and 2X + 1 share
// coarse cell X, so the loop runs over X and writes both (it vectorises).
// Used by the CPU sweeps.
template <int NR, class T>
inline T prolong_sum(const T* const* row, const T* wa, const T* wb, int X, int Xo) {
  T v = T(0);
  for (int q = 0; q < NR; ++q) {
    v += wa[q] * row[q][X];
    v += wb[q] * row[q][Xo];
  }
  return v;
}

template <int NR, class T>
inline void prolong_row_pairs(const T* const* row, const T* wa, const T* wb, T* u, idx base, int nx) {
  u[base + 1] += prolong_sum<NR>(row, wa, wb, 0, 1);
  const int ncx = nx / 2;
  for (int X = 1; X < ncx - 1; ++X) {
    u[base + 2 * X] += prolong_sum<NR>(row, wa, wb, X, X - 1);
    u[base + 2 * X + 1] += prolong_sum<NR>(row, wa, wb, X, X + 1);
  }
  u[base + nx - 2] += prolong_sum<NR>(row, wa, wb, ncx - 1, ncx - 2);
}

template <class T>
inline void prolong_row_run(const Grid& gc, const T* ec, T* u, idx base, int nx, int y, int z, int dim) {
  const T w[2] = {T(0.75), T(0.25)};
  int Y[2], Z[2];
  T sy[2], sz[2];
  const int p[2] = {y, z};
  int* at[2] = {Y, Z};
  T* sg[2] = {sy, sz};
  for (int a = 0; a < 2; ++a) {  // y, then z: prolong_point's coarse rows and their signs
    const int C = p[a] >> 1, o = (p[a] & 1) ? 1 : -1;
    at[a][0] = C;
    sg[a][0] = T(1);
    int s = 1;
    at[a][1] = a + 1 < dim ? ghost_index(C + o, gc.n[a + 1], gc.bc[a + 1], s) : C;
    sg[a][1] = T(s);
  }
  int nz = dim == 3 ? 2 : 1;
  const T* row[4];
  T wa[4], wb[4];
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < 2; ++j) {
      int q = k * 2 + j;
      row[q] = ec + gc.at(0, Y[j], dim == 3 ? Z[k] : 0);
      T wkj = (dim == 3 ? w[k] : T(1)) * w[j];
      T s = T(1) * sy[j] * (dim == 3 ? sz[k] : T(1));  // prolong_point's s, the x side inside
      wa[q] = (wkj * w[0]) * s;  // prolong_point's (wk wj) wi s
      wb[q] = (wkj * w[1]) * s;
    }
  if (dim == 3) prolong_row_pairs<4>(row, wa, wb, u, base, nx);
  else prolong_row_pairs<2>(row, wa, wb, u, base, nx);
}

// Full multigrid interpolates a whole coarse answer, not a correction: there
// a second-order interpolation leaves an error of the size of the fine grid's
// discretisation error, which one V-cycle must then remove. Cubic
// interpolation, one axis at a time, leaves O(h^4) instead. A fine cell a
// quarter of a coarse cell from coarse centre X (towards X + d, d = +-1) takes
// the Lagrange weights (-7, 105, 35, -5) / 128 of the coarse cells
// X - d, X, X + d, X + 2d; cells beyond the boundary, up to two deep, are the
// ghosts of the boundary condition (wrapped, or mirrored with sign -1 for
// Dirichlet and +1 for Neumann). Needs n >= 2 coarse cells on the axis.
SF_HD int ghost_index2(int i, int n, int bc, int& sign) {
  sign = 1;
  if (i >= 0 && i < n) return i;
  if (bc == BC_PERIODIC) return i < 0 ? i + n : i - n;
  if (bc == BC_DIRICHLET) sign = -1;
  return i < 0 ? -1 - i : 2 * n - 1 - i;
}

// The four coarse cells and weights of the cubic for fine position f along an
// axis of n coarse cells with boundary bc (a ghost's sign in its weight).
template <class T>
SF_HD void cubic_taps(int f, int n, int bc, int* at, T* ws) {
  const int X = f >> 1, d = (f & 1) ? 1 : -1;
  const int a[4] = {X - d, X, X + d, X + 2 * d};
  const T w[4] = {T(-7) / T(128), T(105) / T(128), T(35) / T(128), T(-5) / T(128)};
  for (int q = 0; q < 4; ++q) {
    int sg;
    at[q] = ghost_index2(a[q], n, bc, sg);
    ws[q] = w[q] * (T)sg;
  }
}

// Fine cell at position f along the axis (stride s in src, n coarse cells,
// boundary bc), from the coarse line through src_base.
template <class T>
SF_HD T cubic_point(const T* src, idx base, idx s, int f, int n, int bc) {
  int at[4];
  T w[4];
  cubic_taps<T>(f, n, bc, at, w);
  T v = T(0);
  for (int q = 0; q < 4; ++q) v += w[q] * src[base + (idx)at[q] * s];
  return v;
}

// A coarse cell is held fixed when any of its children is.
SF_HD unsigned char restrict_mask(const Grid& gf, const unsigned char* mf, int X, int Y, int Z) {
  unsigned char m = 0;
  int nz = gf.dim == 3 ? 2 : 1;
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) m |= mf[gf.at(2 * X + i, 2 * Y + j, gf.dim == 3 ? 2 * Z + k : 0)];
  return m;
}

}  // namespace sf
