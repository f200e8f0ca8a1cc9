// Shared by the C++ compiler and nvcc: every kernel body in cuda/*_k.h is
// written once with SF_HD and runs unchanged on the CPU backend and on the GPU.
// Drivers pass kernel bodies as SF_LAMBDA lambdas to an execution policy
// (native/exec_cpu.h, cuda/exec_cuda.cuh); nvcc needs --extended-lambda.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define SF_HD __host__ __device__ __forceinline__
#define SF_LAMBDA __host__ __device__
#else
#define SF_HD inline
#define SF_LAMBDA
#endif

namespace sf {
using idx = std::int64_t;
}  // namespace sf

namespace sf {
// An exact integer add that other threads may be doing at once: the sums are
// the same in any order, so histograms built with it are deterministic.
SF_HD void sf_atomic_add_u64(unsigned long long* p, unsigned long long v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
  __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}
}  // namespace sf
