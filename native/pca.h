// PCA of embeddings X [n, d] (fp32) in fp64: the top-k principal axes by
// deterministic randomized subspace iteration (a fixed-seed Gaussian start,
// block power steps with re-orthonormalisation, Rayleigh-Ritz) until the
// Ritz values settle. Centring is applied on the fly; X is never copied.
#pragma once
#include "cancel.h"
#include <cstdint>
#include <vector>

#include "../cuda/sf_config.h"

namespace sf {

struct PcaResult {
  std::vector<double> mean;        // [d]
  std::vector<double> components;  // [k, d], unit rows, largest |entry| positive
  std::vector<double> variance;    // [k], sample variance along each axis
  int iterations = 0;
  double total_variance = 0;
};

PcaResult pca(const float* x, idx n, int d, int k, uint64_t seed, int max_iter, double tol,
              CancelFlag cancel);

// out[n, k] = (x - mean) components^T
void pca_transform(const float* x, idx n, int d, const double* mean, const double* comps, int k, float* out);

}  // namespace sf
