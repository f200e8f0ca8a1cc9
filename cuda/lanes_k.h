// Sixteen floats (or ints) as one GCC vector on the CPU: the compiler splits
// it into the ISA's registers (one zmm, two ymm or four xmm) and keeps it
// there, where its auto-vectoriser would keep an array of lanes in memory at
// a fifth of the speed. Loads and stores go through memcpy, so any address
// will do. Host code only: the kernels that use it (the codec's scan, the
// CPU's stencil rows) have plain per-lane forms for nvcc.
#pragma once
#if !defined(__CUDACC__)

namespace sf {

constexpr int kLanes16 = 16;
typedef float Lanes16 __attribute__((vector_size(4 * kLanes16), aligned(4)));
typedef int LaneInts16 __attribute__((vector_size(4 * kLanes16), aligned(4)));

inline Lanes16 lanes_load(const float* p) {
  Lanes16 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void lanes_store(float* p, Lanes16 v) { __builtin_memcpy(p, &v, sizeof v); }

}  // namespace sf

#endif
