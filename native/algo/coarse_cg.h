// The coarsest multigrid level is solved on the host in double precision by
// conjugate gradients (the level is tiny: a few cells unless the grid size has
// few factors of two). Held cells are zero unknowns; on a singular problem the
// constant is projected out of the right-hand side and the solution.
#pragma once
#include "../cancel.h"
#include <cmath>
#include <vector>

#include "../../cuda/poisson_k.h"
#include "../errors.h"

namespace sf {

inline void coarse_cg(const Grid& g, const float* f, const unsigned char* mask, double k2, bool singular, float* u,
                      CancelFlag cancel) {
  idx n = g.cells();
  double ih2 = 1.0 / (g.h * g.h);
  std::vector<double> x(n, 0.0), r(n), p(n), ap(n);
  auto held = [&](idx c) { return mask && mask[c]; };
  auto project = [&](std::vector<double>& v) {
    if (!singular) return;
    double m = 0;
    for (double e : v) m += e;
    m /= (double)n;
    for (double& e : v) e -= m;
  };
  for (idx c = 0; c < n; ++c) r[c] = held(c) ? 0.0 : (double)f[c];
  project(r);
  double bn = 0;
  for (double e : r) bn += e * e;
  bn = std::sqrt(bn);
  p = r;
  double rs = bn * bn;
  for (idx it = 0; it < 2 * n + 20 && std::sqrt(rs) > 1e-12 * bn; ++it) {
    if ((it & 63) == 63 && cancel && *cancel) fail("E_ABORTED", "potential: aborted");
    double pap = 0;
    for (idx c = 0; c < n; ++c) {
      int X, Y, Z;
      g.coords(c, X, Y, Z);
      ap[c] = held(c) ? 0.0 : apply_point<double>(g, p.data(), c, X, Y, Z, ih2, k2);
      pap += p[c] * ap[c];
    }
    if (!(pap > 0)) break;
    double a = rs / pap;
    for (idx c = 0; c < n; ++c) {
      x[c] += a * p[c];
      r[c] -= a * ap[c];
    }
    project(r);
    double rn = 0;
    for (double e : r) rn += e * e;
    double b = rn / rs;
    rs = rn;
    for (idx c = 0; c < n; ++c) p[c] = r[c] + b * p[c];
  }
  project(x);
  for (idx c = 0; c < n; ++c) u[c] = held(c) ? 0.0f : (float)x[c];
}

}  // namespace sf
