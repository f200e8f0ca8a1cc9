// The fractal operations' jobs: filled and checked on the main thread, run by
// a backend on a worker thread. Pointers are host memory kept alive by the
// worker (inputs) or owned by it (outputs).
#pragma once
#include "../cancel.h"
#include <cstdint>
#include <functional>
#include <vector>

#include "../../cuda/ifs_k.h"

namespace sf {

// unfold (all m^depth addresses) or the chaos game, for one IFS.
struct IfsJob {
  int m = 0, dd = 0;
  const float* A = nullptr;  // [m, dd, dd]
  const float* b = nullptr;  // [m, dd]
  std::vector<float> start;  // [dd] the first point (unfold) or each chain's start
  // unfold
  int depth = 0;
  // chaos game
  std::vector<uint32_t> thresholds;  // [m]
  uint64_t seed = 0;
  int burn_in = 0;
  idx chains = 0;
  idx n = 0;  // points: m^depth (unfold) or the chaos game's count
  // rendering instead of points (chaos game only)
  bool render = false;
  int rn[3] = {1, 1, 1};
  float lo[3] = {0, 0, 0}, inv[3] = {1, 1, 1};
  float* points = nullptr;               // [n, dd] unless render
  unsigned long long* counts = nullptr;  // [cells] when render
  CancelFlag cancel = nullptr;
  std::function<void(double done)> progress;
};

// Fractal tokens: prototypes P[m, d], maps w_i(x) = s x + (1-s) p_i, unfolded
// to a depth under each of C contexts from the context's mean.
struct TokenJob {
  int m = 0, d = 0, depth = 0, contexts = 0;
  float s = 0.5f;
  const float* P = nullptr;      // [m, d]
  std::vector<double> pi;        // [C, m] the contexts' probabilities
  std::vector<float> start;      // [C, d] each context's mean, the unfolding's x0
  idx n = 0;                     // m^depth
  float* points = nullptr;       // [C, n, d]
  double* weights = nullptr;     // [C, n]
};

// Correlation sum: pairs (i < j) of N points in d dimensions binned by
// squared distance against edges2 (nb edges): counts[nb + 1].
struct PairCountJob {
  int d = 0;
  idx n = 0;
  const float* x = nullptr;
  std::vector<float> edges2;
  std::vector<unsigned long long> counts;
  CancelFlag cancel = nullptr;
};

}  // namespace sf
