// Grid transfers for cell-centred multigrid: restriction is the average of the
// 2^dim children (the adjoint of constant injection, scaled), prolongation is
// bi/tri-linear interpolation of the coarse correction (weights 3/4, 1/4 per
// axis) with ghost values from the boundary condition. Orders 1 + 2 > 2, as
// a second-order operator needs for h-independent convergence. Full
// multigrid's answers go up by cubics instead, with a wall term at 2D
// Dirichlet walls (the wall ramp, below).
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
// ghosts of the boundary condition (wrapped, or mirrored with sign +1 for
// Neumann). Needs n >= 2 coarse cells on the axis.
//  - At a Dirichlet wall of a 2D grid (n >= 4 coarse cells: wall_cubic)
//    the three fine cells nearest the wall, whose cubic would reach past
//    it, take the cubic through the four coarse cells nearest the wall
//    instead: weights (195, -117, 65, -15), (77, 77, -33, 7) and (15, 135,
//    -27, 5) / 128 for fine cells 0, 1 and 2 (mirrored at the far wall).
//    A ghost mirrored with sign -1 would bend the cubic through 0 on the
//    wall, but no discrete answer is 0 there: extended smoothly, the answer
//    of the cell-centred condition (ghost = -u_0) reaches h^2 rho / 8 on the
//    wall (u_nn = -rho where u = 0), so the odd mirror put a kink of that
//    size into the first cells, a residual of the size of rho itself. What
//    remains, the coarse answer's wall value H^2 rho / 8 against the fine
//    h^2 rho / 8, the wall ramp (WallRamp) takes away.
//  - Elsewhere (3D, or fewer coarse cells) a Dirichlet wall is mirrored
//    with sign -1.
SF_HD int ghost_index2(int i, int n, int bc, int& sign) {
  sign = 1;
  if (i >= 0 && i < n) return i;
  if (bc == BC_PERIODIC) return i < 0 ? i + n : i - n;
  if (bc == BC_DIRICHLET) sign = -1;
  return i < 0 ? -1 - i : 2 * n - 1 - i;
}

// Whether an axis of n coarse cells with boundary bc on a grid of dim axes
// takes the one-sided cubic at its walls (and its fine grid, 2n cells, the
// wall ramp). 2D only: in 3D the same terms (the ramp then sampled on the
// fine level) made one full multigrid cycle's residual larger, not smaller
// (a smooth rho nonzero on the walls, 128^3: 6.9e-4 against 3.6e-4; rho =
// sin(0.001 i), rough along z: 1.6e-2 against 3.3e-3; only at 256^3
// smaller, 1.9e-4 against 2.7e-4). There rho is not zero along whole edges,
// where u is not smooth, and the one-sided cubics of two axes multiply their
// weights (up to 3 in sum of magnitudes each).
SF_HD bool wall_cubic(int dim, int n, int bc) { return dim == 2 && bc == BC_DIRICHLET && n >= 4; }

// The four coarse cells and weights of the cubic for fine position f along an
// axis of n coarse cells with boundary bc (a ghost's sign in its weight);
// wall: wall_cubic of the axis.
template <class T>
SF_HD void cubic_taps(int f, int n, int bc, bool wall, int* at, T* ws) {
  if (wall && (f < 3 || f >= 2 * n - 3)) {
    const int k = f < 3 ? f : 2 * n - 1 - f;  // fine cells from the wall
    const T W[3][4] = {{T(195), T(-117), T(65), T(-15)}, {T(77), T(77), T(-33), T(7)}, {T(15), T(135), T(-27), T(5)}};
    for (int q = 0; q < 4; ++q) {
      at[q] = f < 3 ? q : n - 1 - q;
      ws[q] = W[k][q] / T(128);
    }
    return;
  }
  const int X = f >> 1, d = (f & 1) ? 1 : -1;
  const int a[4] = {X - d, X, X + d, X + 2 * d};
  const T w[4] = {T(-7) / T(128), T(105) / T(128), T(35) / T(128), T(-5) / T(128)};
  for (int q = 0; q < 4; ++q) {
    int sg;
    at[q] = ghost_index2(a[q], n, bc, sg);
    ws[q] = w[q] * (T)sg;
  }
}

// Full multigrid's wall term, the wall ramp. At a Dirichlet wall the fine
// answer's wall value, h^2 rho / 8, is a quarter of the coarse answer's,
// which the one-sided cubic carries over. The ramp supplies the difference,
// g = -(3/8) h^2 rho on the wall, and carries it into the domain by the
// transfinite interpolation of the walls: the Boolean sum of one projection
// per ramped axis, with side profiles that are 1 on their wall and 0 on the
// other (1 - x / L; sinh(k (L - x)) / sinh(k L) under screening k^2).
// Along an axis the profiles solve -u'' + k^2 u = 0, so (-lap + k^2) of the
// ramp is only g's own variation along the walls, h^2 times a smooth
// function, and the step on the wall is seen by the cells next to it alone:
// there it cancels the residual that the step would leave, 2 g / h^2 =
// -(3/4) rho a cell, whatever h is. The ramp is sampled on the coarse grid,
// with rho the coarse level's right-hand side at its wall cells, and added
// to the coarse answer before the interpolation, which reproduces the
// linear profiles and carries g along the walls: a pass over the coarse
// level instead of two over the fine one.
// Measured on a 2D Dirichlet box, rho = sin(2 pi x) sin(4 pi y) + 0.3
// cos(6 pi x), one full multigrid cycle (V(2,2)) left a relative residual
// of 8.5e-7 at 4096^2 instead of 6.3e-5 (periodic: 3.2e-8), and 4.0e-6 at
// 1024^2 instead of 1.3e-4. What is left falls as h: the corners, where rho
// is not 0 although u_xx = u_yy = 0 there.
//   G[S], for each non-empty set S of ramped axes, holds g at the 2^|S|
// wall intersections of S (a face, an edge, a corner), over the cells of
// the other axes: index side_bits * cells(others) + the others' index in
// grid order, side bit j for S's j-th axis (from x). The ramp at a cell is
// the sum over S of (-1)^(|S| + 1) times the sum over sides of the product
// of S's profiles times G[S]. prof[a]: side 0's profile over the axis' n
// cells, then side 1's.
struct WallRamp {
  int mask = 0;          // the ramped axes (bit a)
  int n[3] = {1, 1, 1};  // the grid it is sampled on
  const double* prof[3] = {nullptr, nullptr, nullptr};
  const double* G[8] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

  SF_HD static int count(int S) { return (S & 1) + (S >> 1 & 1) + (S >> 2 & 1); }
  // The cells of the axes not in S, and the index of p among them.
  SF_HD idx others(int S) const {
    idx c = 1;
    for (int a = 0; a < 3; ++a)
      if (!(S >> a & 1)) c *= n[a];
    return c;
  }
  SF_HD idx others_at(int S, const int* p) const {
    idx r = 0, st = 1;
    for (int a = 0; a < 3; ++a)
      if (!(S >> a & 1)) {
        r += (idx)p[a] * st;
        st *= n[a];
      }
    return r;
  }
  // The product of S's profiles at p for the sides sd (bit j: S's j-th axis).
  SF_HD double weight(int S, int sd, const int* p, int skip = -1) const {
    double w = 1;
    int j = 0;
    for (int a = 0; a < 3; ++a)
      if (S >> a & 1) {
        if (a != skip) w *= prof[a][(idx)(sd >> j & 1) * n[a] + p[a]];
        ++j;
      }
    return w;
  }
  SF_HD double at(int x, int y, int z) const {
    const int p[3] = {x, y, z};
    double s = 0;
    for (int S = 1; S < 8; ++S) {
      if ((S & mask) != S) continue;
      const idx oc = others(S), r = others_at(S, p);
      double t = 0;
      for (int sd = 0; sd < (1 << count(S)); ++sd) t += weight(S, sd, p) * G[S][sd * oc + r];
      s += (count(S) & 1) ? t : -t;
    }
    return s;
  }
};

// at() for the row (y, z), added to d[0, n[0]): the terms whose S holds x
// make two multiples of x's profiles, each of the others a multiple of a
// row of G[S] (the CPU's form: the same terms, summed in another order).
inline void wall_ramp_row(const WallRamp& w, int y, int z, double* d) {
  const int nx = w.n[0], p[3] = {0, y, z};
  double a[2] = {0, 0};
  for (int S = 1; S < 8; ++S) {
    if ((S & w.mask) != S) continue;
    const double sign = (WallRamp::count(S) & 1) ? 1.0 : -1.0;
    const idx oc = w.others(S), r = w.others_at(S, p);
    for (int sd = 0; sd < (1 << WallRamp::count(S)); ++sd) {
      const double c = sign * w.weight(S, sd, p, 0);
      if (S & 1) {
        a[sd & 1] += c * w.G[S][sd * oc + r];  // x is S's first axis: side bit 0
      } else {
        const double* g = w.G[S] + sd * oc + r;  // x runs first among the others
        for (int x = 0; x < nx; ++x) d[x] += c * g[x];
      }
    }
  }
  if (w.mask & 1)
    for (int x = 0; x < nx; ++x) d[x] += a[0] * w.prof[0][x] + a[1] * w.prof[0][nx + x];
}

// Fine cell at position f along the axis (stride s in src, n coarse cells,
// boundary bc), from the coarse line through src_base.
template <class T>
SF_HD T cubic_point(const T* src, idx base, idx s, int f, int n, int bc, bool wall) {
  int at[4];
  T w[4];
  cubic_taps<T>(f, n, bc, wall, at, w);
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
