// Fractal dimension: the kernel body of the correlation sum. Pair distances
// are binned by comparing r^2 with a table of squared bin edges, so the bins
// are exact comparisons and the same on every backend.
#pragma once
#include <math.h>

#include "sf_config.h"

namespace sf {

constexpr int kDimMaxBins = 128;  // edges of one correlation sum

// |x - y|^2 in fp32 with explicit fmaf (the same bits on CPU and GPU).
SF_HD float dim_r2(const float* x, const float* y, int d) {
  float s = 0;
  for (int k = 0; k < d; ++k) {
    float t = x[k] - y[k];
    s = fmaf(t, t, s);
  }
  return s;
}

// The bin of a squared distance among edges2[0] < ... < edges2[nb-1]: 0 below
// edges2[0], b for edges2[b-1] <= r2 < edges2[b], nb at or past the last edge.
SF_HD int dim_bin(const float* edges2, int nb, float r2) {
  int lo = 0, hi = nb;  // the answer lies in [lo, hi]
  while (lo < hi) {
    int mid = (lo + hi) >> 1;
    if (r2 < edges2[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

}  // namespace sf
