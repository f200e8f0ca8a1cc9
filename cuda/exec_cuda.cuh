// The CUDA execution policy: the interface of CpuExec (native/exec_cpu.h) with
// kernel launches behind it. Bodies are the SF_LAMBDA lambdas of the drivers in
// native/algo; this file only launches them. Reductions write one double per
// block and add the blocks up on the host in order (deterministic).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../native/errors.h"
#include "../native/fault.h"
#include "sf_config.h"

namespace sf {

inline void cuda_check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  if (e == cudaErrorMemoryAllocation) fail("E_OOM", std::string("GPU out of memory (") + what + ")");
  fail("E_DEVICE", std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}

template <class F>
__global__ void k_for_n(idx n, F f) {
  for (idx i = blockIdx.x * (idx)blockDim.x + threadIdx.x; i < n; i += (idx)gridDim.x * blockDim.x) f(i);
}

template <class G, class F>
__global__ void k_for_cells(G g, F f) {
  idx n = g.cells();
  for (idx c = blockIdx.x * (idx)blockDim.x + threadIdx.x; c < n; c += (idx)gridDim.x * blockDim.x) {
    int x, y, z;
    g.coords(c, x, y, z);
    f(c, x, y, z);
  }
}

constexpr int kBlock = 256;

template <class F>
__global__ void k_sum_n(idx n, F f, double* part) {
  __shared__ double s[kBlock];
  double acc = 0;
  for (idx i = blockIdx.x * (idx)blockDim.x + threadIdx.x; i < n; i += (idx)gridDim.x * blockDim.x) acc += (double)f(i);
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kBlock / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}

class CudaExec {
 public:
  static constexpr bool on_device = true;
  explicit CudaExec(int device) { cuda_check(cudaSetDevice(device), "cudaSetDevice"); }
  CudaExec(const CudaExec&) = delete;
  ~CudaExec() {
    cudaDeviceSynchronize();
    for (void* p : owned_) cudaFree(p);
  }

  template <class F>
  void for_n(idx n, const F& f) {
    if (fault_now(FAULT_LAUNCH)) cuda_check(cudaErrorLaunchFailure, "kernel launch (simulated)");
    if (n <= 0) return;
    k_for_n<<<blocks(n), kBlock>>>(n, f);
    cuda_check(cudaGetLastError(), "kernel launch");
  }

  // Large items (chains, block searches): one thread each, as for_n.
  template <class F>
  void for_items(idx n, const F& f) { for_n(n, f); }

  template <class G, class F>
  void for_cells(const G& g, const F& f) {
    if (fault_now(FAULT_LAUNCH)) cuda_check(cudaErrorLaunchFailure, "kernel launch (simulated)");
    if (g.cells() <= 0) return;
    k_for_cells<<<blocks(g.cells()), kBlock>>>(g, f);
    cuda_check(cudaGetLastError(), "kernel launch");
  }

  template <class F>
  double sum_n(idx n, const F& f) {
    if (n <= 0) return 0;
    unsigned nb = std::min<unsigned>(blocks(n), 1024u);
    if (!part_) part_ = alloc<double>(1024);
    k_sum_n<<<nb, kBlock>>>(n, f, part_);
    cuda_check(cudaGetLastError(), "reduction launch");
    std::vector<double> h(nb);
    cuda_check(cudaMemcpy(h.data(), part_, nb * sizeof(double), cudaMemcpyDeviceToHost), "reduction copy");
    double s = 0;
    for (double v : h) s += v;
    return s;
  }

  template <class G, class F>
  double sum_cells(const G& g, const F& f) {
    return sum_n(g.cells(), [=] SF_LAMBDA(idx c) {
      int x, y, z;
      g.coords(c, x, y, z);
      return (double)f(c, x, y, z);
    });
  }

  template <class T>
  T* alloc(idx n) {
    void* p = nullptr;
    if (fault_now(FAULT_OOM)) cuda_check(cudaErrorMemoryAllocation, "cudaMalloc (simulated)");
    cuda_check(cudaMalloc(&p, (size_t)std::max<idx>(n, 1) * sizeof(T)), "cudaMalloc");
    owned_.push_back(p);
    return static_cast<T*>(p);
  }
  template <class T>
  T* zeros(idx n) {
    T* p = alloc<T>(n);
    fill_zero(p, n);
    return p;
  }
  template <class T>
  void fill_zero(T* p, idx n) { cuda_check(cudaMemset(p, 0, (size_t)n * sizeof(T)), "cudaMemset"); }
  template <class T>
  const T* upload(const T* host, idx n) {
    if (!host) return nullptr;
    T* d = alloc<T>(n);
    upload_into(d, host, n);
    return d;
  }
  template <class T>
  void upload_into(T* dev, const T* host, idx n) {
    cuda_check(cudaMemcpy(dev, host, (size_t)n * sizeof(T), cudaMemcpyHostToDevice), "copy to device");
  }
  template <class T>
  void download(T* host, const T* dev, idx n) {
    cuda_check(cudaMemcpy(host, dev, (size_t)n * sizeof(T), cudaMemcpyDeviceToHost), "copy to host");
  }
  // Allocations since a mark are freed by release(mark): a driver that
  // allocates per call (the pair engine) frees its scratch before the next.
  size_t mark() const { return owned_.size(); }
  void release(size_t m) {
    if (owned_.size() <= m) return;
    cudaDeviceSynchronize();
    for (size_t i = m; i < owned_.size(); ++i) cudaFree(owned_[i]);
    owned_.resize(m);
    if (part_ && std::find(owned_.begin(), owned_.end(), (void*)part_) == owned_.end()) part_ = nullptr;
  }
  template <class T>
  T* output(T*, idx n) { return alloc<T>(n); }
  template <class T>
  void finish_output(T* host, T* dev, idx n) { download(host, dev, n); }
  void sync() { cuda_check(cudaDeviceSynchronize(), "kernel execution"); }

 private:
  static unsigned blocks(idx n) { return (unsigned)std::min<idx>((n + kBlock - 1) / kBlock, 65535 * 16); }
  std::vector<void*> owned_;
  double* part_ = nullptr;
};

}  // namespace sf
