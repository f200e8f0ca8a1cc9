// A batch of cell-centred grids: cell (x, y, z) has its centre at
// ((x + 0.5) h, (y + 0.5) h, (z + 0.5) h); index = ((b*nz + z)*ny + y)*nx + x.
// Boundary conditions act on the cell faces of the domain [0, n h).
#pragma once
#include "sf_config.h"

namespace sf {

enum Bc : int { BC_PERIODIC = 0, BC_DIRICHLET = 1, BC_NEUMANN = 2 };

struct Grid {
  int n[3];   // nx, ny, nz (nz == 1 for 2D)
  int bc[3];  // per axis
  int dim;    // 2 or 3
  double h;   // cell size, the same on every axis

  SF_HD idx cells() const { return (idx)n[0] * n[1] * n[2]; }
  SF_HD idx at(int x, int y, int z) const { return ((idx)z * n[1] + y) * n[0] + x; }
  SF_HD void coords(idx c, int& x, int& y, int& z) const {
    x = (int)(c % n[0]);
    idx r = c / n[0];
    y = (int)(r % n[1]);
    z = (int)(r / n[1]);
  }
  SF_HD idx stride(int axis) const { return axis == 0 ? 1 : axis == 1 ? (idx)n[0] : (idx)n[0] * n[1]; }
  // The grid of twice the cell size (every extent even).
  SF_HD Grid coarse() const {
    Grid c = *this;
    c.n[0] = n[0] / 2;
    c.n[1] = n[1] / 2;
    c.n[2] = dim == 3 ? n[2] / 2 : 1;
    c.h = 2 * h;
    return c;
  }
};

// Index of cell i + off along an axis with n cells, resolving the ghost cells
// beyond the boundary: returns the interior cell whose value the ghost takes and
// sets sign to the factor (periodic: wrap, +1; dirichlet: mirror, -1, so the
// face value is 0; neumann: mirror, +1, so the face flux is 0). Only |off| <= 1.
SF_HD int ghost_index(int i, int n, int bc, int& sign) {
  sign = 1;
  if (i >= 0 && i < n) return i;
  if (bc == BC_PERIODIC) return i < 0 ? i + n : i - n;
  if (bc == BC_DIRICHLET) sign = -1;
  return i < 0 ? 0 : n - 1;
}

}  // namespace sf
