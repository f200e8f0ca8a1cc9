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

namespace {
// fp32 FMA lanes per multiprocessor (CUDA programming guide, arithmetic
// instructions table): 64 on Turing and A100, 128 from GA10x and Hopper on.
int fp32_lanes_per_sm(int cc) { return cc == 75 || cc == 80 ? 64 : 128; }

// The cancel flag of a job, or none for jobs that cannot be aborted.
template <class J>
auto cancel_of(const J& j, int) -> decltype(CancelFlag(j.cancel)) {
  return j.cancel;
}
template <class J>
CancelFlag cancel_of(const J&, long) {
  return nullptr;
}
}  // namespace

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
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    int clock_khz = 0, mem_khz = 0, bus_bits = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, i);
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, i);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, i);
    cudaGetLastError();
    const int cc = p.major * 10 + p.minor;
    d.names.push_back(p.name);
    d.memory_gib.push_back((double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    d.compute_capability.push_back(cc);
    d.multiprocessors.push_back(p.multiProcessorCount);
    d.peak_gflops.push_back(2.0 * fp32_lanes_per_sm(cc) * p.multiProcessorCount * clock_khz * 1e3 / 1e9);
    d.bus_gbs.push_back(2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9);
  }
  if (d.names.empty()) d.note = "no CUDA device found";
  return d;
}

void potential(int device, PotentialJob& job) {
  job.stats.assign(job.batch, SolveStats{});
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device, cancel_of(job, 0));
    potential_field(ex, job, b);
  }
}

void deposit(int device, DepositJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  run_deposit(ex, job);
}

void interpolate(int device, InterpolateJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  run_interpolate(ex, job);
}

void diff(int device, DiffJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  run_diff(ex, job);
}

void condense(int device, CondenseJob& job) {
  job.basins.assign(job.batch, {});
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device, cancel_of(job, 0));
    condense_field(ex, job, b);
  }
}

void wave(int device, WaveJob& job) {
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device, cancel_of(job, 0));
    wave_field(ex, job, b);
  }
}

void modes(int device, ModesJob& job) {
  job.iterations.assign(job.batch, 0);
  job.residual.assign(job.batch, 0);
  job.converged.assign(job.batch, false);
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device, cancel_of(job, 0));
    modes_field(ex, job, b);
  }
}

void resonance_mesh(int device, MeshResonanceJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  sf::resonance_mesh(ex, job);
}

void maxwell(int device, MaxwellJob& job) {
  for (int b = 0; b < job.batch; ++b) {
    CudaExec ex(device, cancel_of(job, 0));
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
#define SF_CUDA_OP(name, Job)                 \
  void name(int device, Job& job) {           \
    CudaExec ex(device, cancel_of(job, 0));   \
    points::name(ex, job);                    \
  }
SF_POINTS_OPS(SF_CUDA_OP)
#undef SF_CUDA_OP

void ifs_unfold(int device, IfsJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  fractal::unfold(ex, job);
}

void chaos_game(int device, IfsJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  fractal::chaos_game(ex, job);
}

void token_unfold(int device, TokenJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  fractal::token_unfold(ex, job);
}

void pair_counts(int device, PairCountJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  fractal::pair_counts(ex, job);
}

void codec_encode(int device, fractal::EncodeJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  fractal::encode(ex, job);
}

void codec_decode(int device, fractal::DecodeJob& job) {
  CudaExec ex(device, cancel_of(job, 0));
  fractal::decode(ex, job);
}

}  // namespace cuda
}  // namespace sf
