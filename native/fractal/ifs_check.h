// Host-side checks and set-up of an IFS: contractivity (||A_i||_2 < 1), the
// fixed point of a map, and the integer thresholds of its probabilities.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../algo/dense.h"
#include "../errors.h"
#include "jobs.h"

namespace sf {
namespace fractal {

// Largest singular value of a dd x dd matrix: the square root of the largest
// eigenvalue of A^T A (algo/dense.h: exact to rounding for the small sizes an
// IFS has).
inline double spectral_norm(const float* a, int dd) {
  std::vector<double> m((size_t)dd * dd, 0.0);
  for (int i = 0; i < dd; ++i)
    for (int j = 0; j < dd; ++j)
      for (int k = 0; k < dd; ++k) m[(size_t)i * dd + j] += (double)a[k * dd + i] * a[k * dd + j];
  std::vector<double> w, v;
  dense::eigh(m, dd, w, v);
  return std::sqrt(std::max(w.back(), 0.0));
}

inline void check_contractive(const float* A, int m, int dd) {
  for (int i = 0; i < m; ++i) {
    double nrm = spectral_norm(A + (size_t)i * dd * dd, dd);
    if (!(nrm < 1.0))
      fail("E_NOT_CONTRACTIVE", "maps[" + std::to_string(i) + "].A has spectral norm " + std::to_string(nrm) +
                                    "; every map must be a contraction (norm < 1)");
  }
}

// The fixed point of x -> A x + b: (I - A) x = b by Gaussian elimination with
// partial pivoting (I - A is invertible for a contraction).
inline std::vector<float> fixed_point(const float* A, const float* b, int dd) {
  std::vector<double> M((size_t)dd * (dd + 1));
  for (int i = 0; i < dd; ++i) {
    for (int j = 0; j < dd; ++j) M[(size_t)i * (dd + 1) + j] = (i == j ? 1.0 : 0.0) - A[i * dd + j];
    M[(size_t)i * (dd + 1) + dd] = b[i];
  }
  for (int c = 0; c < dd; ++c) {
    int piv = c;
    for (int r = c + 1; r < dd; ++r)
      if (std::fabs(M[(size_t)r * (dd + 1) + c]) > std::fabs(M[(size_t)piv * (dd + 1) + c])) piv = r;
    for (int j = 0; j <= dd; ++j) std::swap(M[(size_t)c * (dd + 1) + j], M[(size_t)piv * (dd + 1) + j]);
    for (int r = 0; r < dd; ++r) {
      if (r == c) continue;
      double f = M[(size_t)r * (dd + 1) + c] / M[(size_t)c * (dd + 1) + c];
      for (int j = c; j <= dd; ++j) M[(size_t)r * (dd + 1) + j] -= f * M[(size_t)c * (dd + 1) + j];
    }
  }
  std::vector<float> x(dd);
  for (int i = 0; i < dd; ++i) x[i] = (float)(M[(size_t)i * (dd + 1) + dd] / M[(size_t)i * (dd + 1) + i]);
  return x;
}

// Cumulative probabilities as 32-bit thresholds (see ifs_pick).
inline std::vector<uint32_t> thresholds_of(const double* p, int m) {
  double total = 0;
  for (int i = 0; i < m; ++i) {
    if (!(p[i] >= 0) || !std::isfinite(p[i])) fail("E_RANGE", "probabilities[" + std::to_string(i) + "] must be finite and >= 0");
    total += p[i];
  }
  if (!(total > 0)) fail("E_RANGE", "probabilities must not all be 0");
  std::vector<uint32_t> t((size_t)m);
  double cum = 0;
  for (int i = 0; i < m; ++i) {
    cum += p[i] / total;
    double v = std::floor(cum * 4294967296.0);
    t[(size_t)i] = v >= 4294967295.0 ? 4294967295u : (uint32_t)v;
  }
  return t;
}

}  // namespace fractal
}  // namespace sf
