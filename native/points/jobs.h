// Plain descriptions of the points operations, filled on the main thread and
// read by the backends (see native/jobs.h for the mesh ones).
#pragma once
#include <cstdint>
#include <vector>

#include "../../cuda/pairs_k.h"

namespace sf {

// phi_i = sum_j w_j G(|t_i - s_j|), or the complex helmholtz sum.
struct KernelSumJob {
  int d = 0;
  KernelSpec k{};
  const float* src = nullptr;  // [m, d]
  idx m = 0;
  const float* w = nullptr;    // [m] or null (ones)
  const float* tgt = nullptr;  // [n, d]
  idx n = 0;
  double* out = nullptr;       // [n] (real) or [n, 2] (helmholtz: re, im)
};

enum SetMetric : int { M_ENERGY_DISTANCE = 0, M_MMD = 1, M_CROSS = 2 };

// Pairwise comparison of ragged weighted point sets: rows (the query sets, or
// the sets themselves) against the sets. Each set's weights are normalised to
// sum 1. M_ENERGY_DISTANCE: 2E|X-Y| - E|X-X'| - E|Y-Y'| (kernel ignored);
// M_MMD: E k(X,X') + E k(Y,Y') - 2E k(X,Y); M_CROSS: E k(X,Y).
struct SetMatrixJob {
  int d = 0;
  KernelSpec k{};
  int metric = M_ENERGY_DISTANCE;
  const float* x = nullptr;  // [N, d], sets one after another
  const int32_t* off = nullptr;  // [S + 1]
  int sets = 0;
  const float* w = nullptr;  // [N] or null
  const float* qx = nullptr;  // query sets, or null: rows are the sets themselves
  const int32_t* qoff = nullptr;
  int qsets = 0;
  const float* qw = nullptr;
  double* out = nullptr;  // [rows, sets]
  const volatile int32_t* cancel = nullptr;
};

}  // namespace sf
