// What the mesh bindings share: a call's grid, batch and backend, and the
// check that positions lie in the domain.
#pragma once
#include <cmath>
#include <string>

#include "target_arg.h"
#include "dispatch.h"
#include "napi_util.h"

namespace sf {

inline int batch_of(const Napi::Object& a, const Grid& g) {
  int b = (int)get_int(a, "batch", 1, 1, 1 << 24);
  if ((double)b * (double)g.cells() > (double)((idx)1 << 31))
    fail("E_TOO_LARGE", "batch * cells is " + std::to_string((double)b * g.cells()) + "; the limit is 2^31");
  return b;
}

// What every mesh call shares, read first: its grid, batch and backend.
template <class J>
Call<J> mesh_call(const Napi::Object& a) {
  Call<J> c;
  c.job.g = parse_grid(get(a, "grid"));
  c.job.batch = batch_of(a, c.job.g);
  c.target = target_of(a);
  return c;
}

// Positions must lie in the domain along non-periodic axes.
inline void check_positions(const float* pos, idx np, const Grid& g, const std::string& name = "positions") {
  for (idx i = 0; i < np; ++i)
    for (int a = 0; a < g.dim; ++a) {
      double p = pos[i * g.dim + a];
      if (!std::isfinite(p)) fail("E_NONFINITE", name + "[" + std::to_string(i * g.dim + a) + "] is not finite");
      // The extent as fp32, so a position at the far wall stored in fp32 is inside.
      if (g.bc[a] != BC_PERIODIC && (p < 0 || p > (double)(float)(g.n[a] * g.h)))
        fail("E_RANGE", name + "[" + std::to_string(i * g.dim + a) + "] = " + num(p) +
                            " lies outside the domain [0, " + num((double)(float)(g.n[a] * g.h)) + "] of a non-periodic axis");
    }
}

}  // namespace sf
