// Steepest descent on a grid: every cell points to the lowest of its 3^dim - 1
// neighbours when that neighbour is lower, comparing (value, index) so that
// ties break deterministically and plateaus drain to their lowest-index cell.
// Cells that point to themselves are the minima; pointer jumping then sends
// every cell to its minimum (its basin).
#pragma once
#include "grid_k.h"

namespace sf {

SF_HD bool lower(float va, idx a, float vb, idx b) { return va < vb || (va == vb && a < b); }

// Calls f(neighbour index) for the Moore neighbourhood of c, wrapping periodic
// axes and leaving out cells beyond non-periodic boundaries.
template <class F>
SF_HD void moore_neighbours(const Grid& g, idx c, F&& f) {
  int p[3];
  g.coords(c, p[0], p[1], p[2]);
  int zr = g.dim == 3 ? 1 : 0;
  for (int dz = -zr; dz <= zr; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        if (!dx && !dy && !dz) continue;
        int q[3] = {p[0] + dx, p[1] + dy, p[2] + dz};
        bool inside = true;
        for (int a = 0; a < g.dim; ++a) {
          if (q[a] >= 0 && q[a] < g.n[a]) continue;
          if (g.bc[a] == BC_PERIODIC) q[a] = q[a] < 0 ? q[a] + g.n[a] : q[a] - g.n[a];
          else inside = false;
        }
        if (inside) f(g.at(q[0], q[1], q[2]));
      }
}

SF_HD idx descent_point(const Grid& g, const float* u, idx c) {
  idx best = c;
  float bv = u[c];
  moore_neighbours(g, c, [&](idx nb) {
    if (lower(u[nb], nb, bv, best)) { best = nb; bv = u[nb]; }
  });
  return best;
}

// A strict minimum is lower than every neighbour (not merely first on a plateau).
SF_HD bool strict_minimum(const Grid& g, const float* u, idx c) {
  bool strict = true;
  moore_neighbours(g, c, [&](idx nb) {
    if (nb != c && !(u[c] < u[nb])) strict = false;
  });
  return strict;
}

}  // namespace sf
