// Plain C++ descriptions of each operation (the "baton"): filled from JS on the
// main thread, read by the backends on a worker thread, never touching JS.
// Every pointer is host memory owned by a JS typed array kept alive by the
// worker, or by the worker's output buffers.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "../cuda/grid_k.h"
#include "algo/multigrid.h"

namespace sf {

struct PotentialJob {
  Grid g{};
  int batch = 1;
  SolveOptions opt;
  const float* rho = nullptr;             // [batch, cells]
  const unsigned char* mask = nullptr;    // [cells] or [batch, cells]
  const float* anchor = nullptr;          // same shape as mask
  bool mask_per_field = false;
  float* phi = nullptr;                   // [batch, cells]
  float* efield = nullptr;                // [batch, dim, cells] or null
  std::vector<SolveStats> stats;
  const volatile int32_t* cancel = nullptr;
  std::function<void(int field, int cycle, double residual)> progress;
};

struct DepositJob {
  Grid g{};
  int batch = 1;
  idx points = 0;
  const float* pos = nullptr;        // [points, dim]
  const float* charge = nullptr;     // [points] or null (unit charges)
  const int32_t* field_of = nullptr; // [points] or null (all in field 0)
  float* out = nullptr;              // [batch, cells]
};

struct InterpolateJob {
  Grid g{};
  int batch = 1;
  idx points = 0;
  const float* field = nullptr;      // [batch, cells]
  const float* pos = nullptr;        // [points, dim]
  const int32_t* field_of = nullptr; // [points]: out is [points]; null: out is [batch, points]
  float* out = nullptr;
};

struct DiffJob {
  Grid g{};
  int batch = 1;
  int op = 0;
  const float* in = nullptr;   // [batch, in_comps, cells]
  float* out = nullptr;        // [batch, out_comps, cells]
};

struct Basin {
  idx cell;
  float value;
  bool strict;
  double mass;
  idx cells;
};

struct CondenseJob {
  Grid g{};
  int batch = 1;
  const float* field = nullptr;  // [batch, cells]: minima of this field
  const float* rho = nullptr;    // [batch, cells] or null: basin mass
  int32_t* labels = nullptr;     // [batch, cells]
  std::vector<std::vector<Basin>> basins;
  const volatile int32_t* cancel = nullptr;
};

}  // namespace sf
