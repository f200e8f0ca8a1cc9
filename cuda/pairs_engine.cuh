// The pair engine on the GPU (see native/points/engine.h for the task, the
// formulas and the reductions): one launch per call over a grid of
// (problem, tile of kThreads targets) items. Each thread holds one target and
// its accumulator in registers; the block stages the problem's sources in
// shared memory a tile at a time (coordinates scaled like the CPU's, the
// pairs taken by differences) and every thread runs Reduction::pair over the
// staged tile in source order, so a target's result is the same sum as on
// the plain execution. No host synchronisation inside; the exec's sync()
// follows the launch. Each block reads the call's abort word once per tile
// and stops when it is raised, so an aborted call ends within a tile's time.
#pragma once
#include <cuda_runtime.h>

#include <vector>

#include "../native/points/engine.h"
#include "exec_cuda.cuh"

namespace sf {
namespace pairs {

constexpr int kThreads = 128;

template <class F, class R>
__global__ void k_pair_reduce(F f, R r, int d, const float* X, const float* Y, const idx* item_p, const idx* item_i0,
                              const idx* P0, const idx* PT, const idx* PS, const idx* PM, int tile,
                              const volatile int* abort_word) {
  extern __shared__ float ys[];  // [tile][d]
  __shared__ int stop;
  const idx p = item_p[blockIdx.x];
  const idx i0 = item_i0[blockIdx.x];
  const idx nt = P0[p + 1] - P0[p];
  const idx il = i0 + threadIdx.x;
  const bool active = il < nt;
  const idx slot = P0[p] + il;
  const float* x = X + (PT[p] + (active ? il : 0)) * d;
  typename R::Acc acc;
  if (active) r.begin(acc, p, slot);
  const idx s0 = PS[p], m = PM[p];
  for (idx j0 = 0; j0 < m; j0 += tile) {
    const int cnt = (int)(m - j0 < tile ? m - j0 : tile);
    __syncthreads();
    if (threadIdx.x == 0) stop = *abort_word;
    for (int e = threadIdx.x; e < cnt * d; e += blockDim.x) ys[e] = Y[(s0 + j0) * d + e];
    __syncthreads();
    if (stop) return;  // the call was aborted: its result is never read
    if (active)
      for (int j = 0; j < cnt; ++j) r.pair(acc, p, slot, s0 + j0 + j, f(pair_metric<F::metric>(x, ys + j * d, d)));
  }
  if (active) r.end(acc, p, slot);
}

template <class F, class R>
void pair_reduce(CudaExec& ex, const F& f0, const R& r0, const PairTask& task) {
  const int d = task.d;
  F f;
  R r;
  const double s = rescale(f0, r0, task, f, r);
  const size_t mark = ex.mark();  // this call's copies are freed on return
  FlatTask t;
  flatten(ex, task, s, t);
  const int np = t.np;
  std::vector<idx> ip, ii;  // the grid: (problem, first target) of each block
  for (int p = 0; p < np; ++p) {
    const Problem& pr = task.problems[(size_t)p];
    for (idx i0 = 0; i0 < task.targets.size(pr.t); i0 += kThreads) {
      ip.push_back(p);
      ii.push_back(i0);
    }
  }
  if (ip.empty()) {
    ex.release(mark);
    return;
  }
  // Sources per shared-memory tile: up to kThreads, within 48 KiB.
  const int tile = (int)std::max<idx>(1, std::min<idx>(kThreads, (48 * 1024 / 4) / d));
  if ((size_t)tile * d * sizeof(float) > 48 * 1024) fail("E_RANGE", "d = " + std::to_string(d) + " is too large for the GPU pair engine (at most 12288)");
  simulated_launch_fault();
  const idx* IP = ex.upload(ip.data(), (idx)ip.size());
  const idx* II = ex.upload(ii.data(), (idx)ii.size());
  for (size_t b0 = 0; b0 < ip.size(); b0 += 2147483647u) {
    const unsigned nb = (unsigned)std::min<size_t>(ip.size() - b0, 2147483647u);
    k_pair_reduce<<<nb, kThreads, (size_t)tile * d * sizeof(float), ex.stream()>>>(f, r, d, t.X, t.Y, IP + b0, II + b0, t.P0, t.PT,
                                                                                  t.PS, t.PM, tile, ex.abort_word());
    cuda_check(cudaGetLastError(), "pair engine launch");
  }
  ex.sync();
  ex.release(mark);
}

}  // namespace pairs
}  // namespace sf
