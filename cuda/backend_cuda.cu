// The CUDA backend: the same drivers as the CPU backend (native/algo) on
// CudaExec. Nothing here computes; it only instantiates and launches.
#include <cuda_runtime.h>

#include "../native/algo/mesh_ops.h"
#include "../native/algo/multigrid.h"
#include "../native/algo/helmholtz.h"
#include "../native/algo/maxwell.h"
#include "../native/algo/modes.h"
#include "../native/algo/wave.h"
#include "../native/backend.h"
#include "../native/fractal/codec.h"
#include "../native/fractal/ifs.h"
#include "../native/points/ops.h"
#include "../native/potential_field.h"
#include "exec_cuda.cuh"
#include "pairs_engine.cuh"
#include "triad_k.h"

namespace sf {
namespace cuda {

bool built() { return true; }

DeviceList probe() {
  DeviceList d;
  d.built = true;
  cudaRuntimeGetVersion(&d.runtime_version);
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    // No driver (cudaErrorInsufficientDriver, 35) or no device: the CPU backend
    // serves; this is the normal state of a machine without a GPU.
    d.note = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
    cudaGetLastError();
    return d;
  }
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    d.names.push_back(p.name);
    d.memory_gib.push_back((double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
  }
  if (d.names.empty()) d.note = "no CUDA device found";
  return d;
}

void potential(int device, PotentialJob& job) {
  job.stats.assign(job.batch, SolveStats{});
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device);
    potential_field(ex, job, b);
  }
}

void deposit(int device, DepositJob& job) {
  CudaExec ex(device);
  run_deposit(ex, job);
}

void interpolate(int device, InterpolateJob& job) {
  CudaExec ex(device);
  run_interpolate(ex, job);
}

void diff(int device, DiffJob& job) {
  CudaExec ex(device);
  run_diff(ex, job);
}

void condense(int device, CondenseJob& job) {
  job.basins.assign(job.batch, {});
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device);
    condense_field(ex, job, b);
  }
}

void wave(int device, WaveJob& job) {
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device);
    wave_field(ex, job, b);
  }
}

void modes(int device, ModesJob& job) {
  job.iterations.assign(job.batch, 0);
  job.residual.assign(job.batch, 0);
  job.converged.assign(job.batch, false);
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device);
    modes_field(ex, job, b);
  }
}

void resonance_mesh(int device, MeshResonanceJob& job) {
  CudaExec ex(device);
  sf::resonance_mesh(ex, job);
}

void maxwell(int device, MaxwellJob& job) {
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device);
    maxwell_field(ex, job, b);
  }
}

void triad(int device, float* a, const float* b, const float* c, float s, idx n, int reps) {
  CudaExec ex(device);
  float* da = ex.alloc<float>(n);
  const float* db = ex.upload(b, n);
  const float* dc = ex.upload(c, n);
  for (int r = 0; r < reps; ++r) ex.for_n(n, [=] SF_LAMBDA(idx i) { triad_point(da, db, dc, s, i); });
  ex.sync();
  ex.download(a, da, n);
}

// The points operations, one function per row of SF_POINTS_OPS.
#define SF_CUDA_OP(name, Job)       \
  void name(int device, Job& job) { \
    CudaExec ex(device);            \
    points::name(ex, job);          \
  }
SF_POINTS_OPS(SF_CUDA_OP)
#undef SF_CUDA_OP

void ifs_unfold(int device, IfsJob& job) {
  CudaExec ex(device);
  fractal::unfold(ex, job);
}

void chaos_game(int device, IfsJob& job) {
  CudaExec ex(device);
  fractal::chaos_game(ex, job);
}

void token_unfold(int device, TokenJob& job) {
  CudaExec ex(device);
  fractal::token_unfold(ex, job);
}

void pair_counts(int device, PairCountJob& job) {
  CudaExec ex(device);
  fractal::pair_counts(ex, job);
}

void codec_encode(int device, fractal::EncodeJob& job) {
  CudaExec ex(device);
  fractal::encode(ex, job);
}

void codec_decode(int device, fractal::DecodeJob& job) {
  CudaExec ex(device);
  fractal::decode(ex, job);
}

}  // namespace cuda
}  // namespace sf
