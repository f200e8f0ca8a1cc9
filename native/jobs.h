// Plain C++ descriptions of each operation (the "baton"): filled from JS on the
// main thread, read by the backends on a worker thread, never touching JS.
// Every pointer is host memory owned by a JS typed array kept alive by the
// worker, or by the worker's output buffers.
#pragma once
#include "cancel.h"
#include <cstdint>
#include <functional>
#include <vector>

#include "../cuda/grid_k.h"
#include "../cuda/yee_k.h"
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
  CancelFlag cancel = nullptr;
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
  CancelFlag cancel = nullptr;
};

// The damped Klein-Gordon equation by leapfrog (cuda/wave_k.h), B fields.
struct WaveJob {
  Grid g{};
  int batch = 1;
  double c = 1, kappa = 0, gamma = 0, dt = 0;
  int steps = 0;
  const float* u0 = nullptr;      // [B, N]
  const float* v0 = nullptr;      // [B, N] or null (at rest)
  const float* uprev = nullptr;   // [B, N] or null: the step before u0 (continues a run; excludes v0)
  const float* src = nullptr;     // [N] or [B, N] or null
  bool src_per_field = false;
  const float* f = nullptr;       // [steps] or [B, steps] or null (f = 1)
  bool f_per_field = false;
  const float* probes = nullptr;  // [P, dim] positions
  int np = 0;
  int every = 0;                  // snapshot every this many steps (0: none)
  int energy_every = 0;           // energy every this many steps (0: none)
  float* u = nullptr;             // [B, N] final
  float* uprev_out = nullptr;     // [B, N] the step before the final one
  float* probe_out = nullptr;     // [B, steps + 1, P]
  float* snaps = nullptr;         // [B, steps / every + 1, N]
  double* energy = nullptr;       // [B, steps / energy_every + 1]
  CancelFlag cancel = nullptr;
  std::function<void(int field, int step)> progress;
};

// The lowest k eigenpairs of H = -c^2 lap + V(x) on the mesh (LOBPCG).
struct ModesJob {
  Grid g{};
  int batch = 1;
  double c = 1;
  int k = 1;
  double tol = 1e-8;              // relative residual |H x - lambda x| / max(|lambda|, c^2 / L^2)
  int max_iter = 1000;
  const float* V = nullptr;       // [N] or [B, N], or null (V = 0)
  bool v_per_field = false;
  double* values = nullptr;       // [B, k]
  float* vectors = nullptr;       // [B, k, N], each with sum psi^2 h^dim = 1
  std::vector<int> iterations;
  std::vector<double> residual;   // the largest relative residual at the end, per field
  std::vector<bool> converged;
  CancelFlag cancel = nullptr;
  std::function<void(int field, int iteration, double residual)> progress;
};

// The mesh resonance: (-c^2 lap + kappa^2 - w^2 - i g w) U = rho_A for each w
// of a sweep, and R_AB(w) = sum rho_B U h^dim (complex).
struct MeshResonanceJob {
  Grid g{};
  int batch = 1;  // (one field; the sweep is the batch)
  double c = 1, kappa = 0, gamma = 0, tol = 1e-8;
  int max_iter = 2000;
  const float* rho_a = nullptr;   // [N]
  const float* rho_b = nullptr;   // [N]
  std::vector<double> w;
  double* out = nullptr;          // [W, 4]: re, im, |R|, multigrid cycles spent
  std::vector<int> iterations;
  std::vector<double> residual;   // true relative residual of the returned U, per frequency
  std::vector<bool> converged;
  CancelFlag cancel = nullptr;
  std::function<void(int index, int iteration, double residual)> progress;
};

// Maxwell's equations by the Yee scheme (cuda/yee_k.h).
struct MaxwellJob {
  YeeGrid g{};
  int batch = 1;                 // fields run one after another; init, eps, sigma may differ per field
  bool eps_per_field = false, sigma_per_field = false, init_per_field = false;
  double h = 1, dt = 0;
  int steps = 0;
  bool active[6] = {true, true, true, true, true, true};  // Ex Ey Ez Hx Hy Hz
  const float* eps = nullptr;    // [N] relative permittivity >= 1, or null (1)
  const float* sigma = nullptr;  // [N] conductivity >= 0, or null (0)
  int npml = 0;
  double pml_sigma = 0, pml_kappa = 1, pml_alpha = 0;
  struct Source {
    int comp;                    // 0..2: Jx, Jy, Jz
    const float* profile;        // [N]
    const float* f;              // [steps], at t = (n + 1/2) dt
  };
  std::vector<Source> sources;
  std::vector<int> probe_comp;   // 0..5
  std::vector<idx> probe_cell;
  struct Edge {
    int comp;
    idx cell;
    float sign;
  };
  std::vector<std::vector<Edge>> loops;
  const float* init = nullptr;   // [6, N] initial fields or null (0)
  int energy_every = 0, every = 0;
  float* fields = nullptr;       // [B, 6, N] final
  float* probes = nullptr;       // [B, steps + 1, P]
  float* emf = nullptr;          // [B, steps + 1, L]
  double* energy = nullptr;      // [B, steps / energy_every + 1]
  float* snaps = nullptr;        // [B, steps / every + 1, 6, N]
  CancelFlag cancel = nullptr;
  std::function<void(int step)> progress;
};

}  // namespace sf
