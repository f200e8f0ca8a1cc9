// Second-order finite differences for the field operators: central in the
// interior and across periodic faces, one-sided second-order stencils at
// non-periodic boundaries (so the operators need no boundary value and stay
// second order up to the wall). The solver's own operator is in poisson_k.h.
#pragma once
#include "grid_k.h"

namespace sf {

// du/dx_axis at cell c whose coordinate along the axis is i.
template <class T>
SF_HD double d1(const Grid& g, const T* u, idx c, int i, int axis) {
  int n = g.n[axis];
  idx s = g.stride(axis);
  double inv2h = 0.5 / g.h;
  if (g.bc[axis] == BC_PERIODIC) {
    idx m = i > 0 ? c - s : c + (idx)(n - 1) * s;
    idx p = i < n - 1 ? c + s : c - (idx)(n - 1) * s;
    return ((double)u[p] - (double)u[m]) * inv2h;
  }
  if (i == 0) return (-3.0 * u[c] + 4.0 * u[c + s] - (double)u[c + 2 * s]) * inv2h;
  if (i == n - 1) return (3.0 * u[c] - 4.0 * u[c - s] + (double)u[c - 2 * s]) * inv2h;
  return ((double)u[c + s] - (double)u[c - s]) * inv2h;
}

// d2u/dx_axis^2 at cell c.
template <class T>
SF_HD double d2(const Grid& g, const T* u, idx c, int i, int axis) {
  int n = g.n[axis];
  idx s = g.stride(axis);
  double ih2 = 1.0 / (g.h * g.h);
  if (g.bc[axis] == BC_PERIODIC) {
    idx m = i > 0 ? c - s : c + (idx)(n - 1) * s;
    idx p = i < n - 1 ? c + s : c - (idx)(n - 1) * s;
    return ((double)u[p] - 2.0 * u[c] + (double)u[m]) * ih2;
  }
  if (i == 0) return (2.0 * u[c] - 5.0 * u[c + s] + 4.0 * u[c + 2 * s] - (double)u[c + 3 * s]) * ih2;
  if (i == n - 1) return (2.0 * u[c] - 5.0 * u[c - s] + 4.0 * u[c - 2 * s] - (double)u[c - 3 * s]) * ih2;
  return ((double)u[c + s] - 2.0 * u[c] + (double)u[c - s]) * ih2;
}

enum DiffOp : int { OP_GRAD = 0, OP_DIV = 1, OP_CURL = 2, OP_LAPLACIAN = 3 };

// Components in and out of each operator (vector fields are stored component
// by component: [B, comps, nz, ny, nx]).
SF_HD int op_in_comps(int op, int dim) { return (op == OP_DIV || op == OP_CURL) ? dim : 1; }
SF_HD int op_out_comps(int op, int dim) {
  if (op == OP_GRAD) return dim;
  if (op == OP_CURL) return dim == 3 ? 3 : 1;
  return 1;
}

// One cell of one field: in points at the field's first component, out at the
// result's first component; both strided by the cell count. scale multiplies
// every output (E = -grad phi uses -1).
template <class T>
SF_HD void diff_point(const Grid& g, int op, const T* in, float* out, idx c, int x, int y, int z, double scale) {
  int i[3] = {x, y, z};
  idx N = g.cells();
  if (op == OP_GRAD) {
    for (int a = 0; a < g.dim; ++a) out[a * N + c] = (float)(scale * d1(g, in, c, i[a], a));
  } else if (op == OP_DIV) {
    double v = 0;
    for (int a = 0; a < g.dim; ++a) v += d1(g, in + a * N, c, i[a], a);
    out[c] = (float)(scale * v);
  } else if (op == OP_LAPLACIAN) {
    double v = 0;
    for (int a = 0; a < g.dim; ++a) v += d2(g, in, c, i[a], a);
    out[c] = (float)(scale * v);
  } else if (g.dim == 2) {  // curl of (vx, vy): dvy/dx - dvx/dy
    out[c] = (float)(scale * (d1(g, in + N, c, i[0], 0) - d1(g, in, c, i[1], 1)));
  } else {
    const T* vx = in; const T* vy = in + N; const T* vz = in + 2 * N;
    out[c] = (float)(scale * (d1(g, vz, c, i[1], 1) - d1(g, vy, c, i[2], 2)));
    out[N + c] = (float)(scale * (d1(g, vx, c, i[2], 2) - d1(g, vz, c, i[0], 0)));
    out[2 * N + c] = (float)(scale * (d1(g, vy, c, i[0], 0) - d1(g, vx, c, i[1], 1)));
  }
}

}  // namespace sf
