// The CUDA execution policy: the interface of CpuExec (native/exec_cpu.h) with
// kernel launches behind it. Bodies are the SF_LAMBDA lambdas of the drivers in
// native/algo; this file only launches them. Reductions write one double per
// block and add the blocks up on the host in order (deterministic).
//
// What a call costs besides its kernels, and why:
//  - Each worker thread has its own non-blocking stream per device (calls on
//    different workers overlap; nothing waits on the legacy default stream),
//    its own pinned staging buffers for copies, and a device word the host
//    raises on abort. Nothing here synchronises the whole device.
//  - Device memory comes from the device's stream-ordered pool
//    (cudaMallocAsync / cudaFreeAsync) with a release threshold, so the memory
//    of one call is reused by the next of a similar size without cudaMalloc.
//  - Waiting (sync, a reduction's result, a copy to the host) polls an event
//    and the call's abort flag: on abort the device word is raised from a
//    second stream, kernels that read it (the pair engine) stop at their next
//    tile, and the call ends with E_ABORTED. Other kernels are single sweeps
//    and end on their own within milliseconds.
//  - A sticky error (illegal address, failed launch, ...) leaves the CUDA
//    context unusable for the rest of the process: the device is marked lost
//    (native/device.h) and the error says so.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../native/cancel.h"
#include "../native/device.h"
#include "../native/errors.h"
#include "../native/fault.h"
#include "sf_config.h"

namespace sf {

namespace cuda_detail {

// Errors after which the context cannot be used again (CUDA's "sticky" ones).
inline bool sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorUnknown:
      return true;
    default:
      return false;
  }
}

// The device the calling thread's CudaExec runs on (for cuda_check).
inline int& current_device() {
  static thread_local int d = 0;
  return d;
}

}  // namespace cuda_detail

inline void cuda_check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  const int dev = cuda_detail::current_device();
  if (cuda_detail::sticky(e)) {
    std::string why = std::string(cudaGetErrorString(e)) + " in " + what;
    mark_device_lost(dev, why);
    fail("E_DEVICE", "CUDA error on device " + std::to_string(dev) + ": " + why +
                         "; the device is unusable for the rest of this process (backend 'auto' now runs on the CPU)");
  }
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  if (e == cudaErrorMemoryAllocation) fail("E_OOM", std::string("GPU out of memory (") + what + ")");
  fail("E_DEVICE", std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
}

// A simulated launch fault (fault.h): a recoverable one, or a sticky one.
inline void simulated_launch_fault() {
  if (fault_now(FAULT_LAUNCH)) cuda_check(cudaErrorLaunchOutOfResources, "kernel launch (simulated)");
  if (fault_now(FAULT_STICKY)) cuda_check(cudaErrorIllegalAddress, "kernel launch (simulated)");
}

template <class F>
__global__ void k_for_n(idx n, F f) {
  for (idx i = blockIdx.x * (idx)blockDim.x + threadIdx.x; i < n; i += (idx)gridDim.x * blockDim.x) f(i);
}

// Cells by a 3D launch: x from the thread and block, y and z from the block:
// no division per cell. (Grids whose rows or planes exceed the launch limits
// take k_for_cells_flat.)
template <class G, class F>
__global__ void k_for_cells(G g, F f) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const int z = blockIdx.z;
  if (x >= g.n[0] || y >= g.n[1]) return;
  f(((idx)z * g.n[1] + y) * g.n[0] + x, x, y, z);
}

template <class G, class F>
__global__ void k_for_cells_flat(G g, F f) {
  idx n = g.cells();
  for (idx c = blockIdx.x * (idx)blockDim.x + threadIdx.x; c < n; c += (idx)gridDim.x * blockDim.x) {
    int x, y, z;
    g.coords(c, x, y, z);
    f(c, x, y, z);
  }
}

constexpr int kBlock = 256;

// The block's sum of each thread's acc, in a fixed order, into part[block].
__device__ inline void block_sum_into(double acc, double* part) {
  __shared__ double s[kBlock];
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kBlock / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}

template <class F>
__global__ void k_sum_n(idx n, F f, double* part) {
  double acc = 0;
  for (idx i = blockIdx.x * (idx)blockDim.x + threadIdx.x; i < n; i += (idx)gridDim.x * blockDim.x) acc += (double)f(i);
  block_sum_into(acc, part);
}

// A sum over the cells, a block per row at a time: one division per row
// (y and z of the row), none per cell.
template <class G, class F>
__global__ void k_sum_cells(G g, F f, double* part) {
  double acc = 0;
  const int nx = g.n[0], ny = g.n[1];
  const idx rows = (idx)ny * g.n[2];
  for (idx row = blockIdx.x; row < rows; row += gridDim.x) {
    const int y = (int)(row % ny), z = (int)(row / ny);
    for (int x = threadIdx.x; x < nx; x += blockDim.x) acc += (double)f(row * nx + x, x, y, z);
  }
  block_sum_into(acc, part);
}

// What one worker thread keeps per device across calls.
struct ThreadStream {
  static constexpr size_t kStage = (size_t)4 << 20;  // bytes per staging buffer
  cudaStream_t stream = nullptr;
  cudaStream_t control = nullptr;  // raises the abort word while stream runs
  cudaEvent_t staged[2] = {nullptr, nullptr};
  cudaEvent_t done = nullptr;
  char* stage[2] = {nullptr, nullptr};  // pinned
  double* part_host = nullptr;          // pinned: a reduction's block sums
  int* abort_host = nullptr;            // pinned: the value 1
  int* abort_word = nullptr;            // device
};

namespace cuda_detail {

// Whether the device has stream-ordered pools (some virtualised GPUs do
// not: there allocation falls back to cudaMalloc and cudaFree).
inline bool& pools_supported(int device) {
  static bool s[64];
  return s[device & 63];
}

// The pool's release threshold: device memory kept for reuse between calls
// (SEMFIELD_DEVICE_CACHE_MB, default a quarter of the device's memory).
inline void setup_pool(int device) {
  int supported = 0;
  cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device);
  cudaGetLastError();
  pools_supported(device) = supported != 0;
  if (!supported) return;
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  uint64_t keep = (uint64_t)total_b / 4;
  if (const char* e = std::getenv("SEMFIELD_DEVICE_CACHE_MB")) keep = (uint64_t)std::strtoull(e, nullptr, 10) << 20;
  cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
  cudaGetLastError();
}

inline ThreadStream& thread_stream(int device) {
  static thread_local std::vector<ThreadStream> per_device;
  if ((int)per_device.size() <= device) per_device.resize((size_t)device + 1);
  ThreadStream& t = per_device[(size_t)device];
  if (t.stream) return t;
  static std::once_flag pools[64];
  std::call_once(pools[device & 63], [device] { setup_pool(device); });
  ThreadStream n;
  cuda_check(cudaStreamCreateWithFlags(&n.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  cuda_check(cudaStreamCreateWithFlags(&n.control, cudaStreamNonBlocking), "cudaStreamCreate");
  for (int i = 0; i < 2; ++i) {
    cuda_check(cudaEventCreateWithFlags(&n.staged[i], cudaEventDisableTiming), "cudaEventCreate");
    cuda_check(cudaMallocHost((void**)&n.stage[i], ThreadStream::kStage), "cudaMallocHost");
  }
  cuda_check(cudaEventCreateWithFlags(&n.done, cudaEventDisableTiming), "cudaEventCreate");
  cuda_check(cudaMallocHost((void**)&n.part_host, 1024 * sizeof(double)), "cudaMallocHost");
  cuda_check(cudaMallocHost((void**)&n.abort_host, sizeof(int)), "cudaMallocHost");
  *n.abort_host = 1;
  cuda_check(cudaMalloc((void**)&n.abort_word, sizeof(int)), "cudaMalloc");
  t = n;
  return t;
}

}  // namespace cuda_detail

class CudaExec {
 public:
  static constexpr bool on_device = true;
  explicit CudaExec(int device, CancelFlag cancel = nullptr) : device_(device), cancel_(cancel) {
    cuda_detail::current_device() = device;
    cuda_check(cudaSetDevice(device), "cudaSetDevice");
    ts_ = &cuda_detail::thread_stream(device);
    pooled_ = cuda_detail::pools_supported(device);
    cuda_check(cudaMemsetAsync(ts_->abort_word, 0, sizeof(int), ts_->stream), "cudaMemsetAsync");
  }
  CudaExec(const CudaExec&) = delete;
  ~CudaExec() {
    // Stream-ordered frees: the memory returns to the pool once the work
    // queued before them is done.
    free_from(0);
    cudaError_t e = cudaStreamSynchronize(ts_->stream);
    // The abort word was raised from the control stream: that copy lands
    // before the next call on this thread clears the word.
    if (abort_sent_) cudaStreamSynchronize(ts_->control);
    if (cuda_detail::sticky(e)) mark_device_lost(device_, std::string(cudaGetErrorString(e)) + " at the end of a call");
    else if (e != cudaSuccess) cudaGetLastError();
  }

  cudaStream_t stream() const { return ts_->stream; }
  // The word kernels may read to stop early: nonzero once the call is aborted.
  const volatile int* abort_word() const { return ts_->abort_word; }
  int device() const { return device_; }

  template <class F>
  void for_n(idx n, const F& f) {
    simulated_launch_fault();
    if (n <= 0) return;
    k_for_n<<<blocks(n), kBlock, 0, ts_->stream>>>(n, f);
    cuda_check(cudaGetLastError(), "kernel launch");
  }

  // Large items (chains, block searches): one thread each, as for_n.
  template <class F>
  void for_items(idx n, const F& f) { for_n(n, f); }

  template <class G, class F>
  void for_cells(const G& g, const F& f) {
    simulated_launch_fault();
    if (g.cells() <= 0) return;
    int bx = 32;
    while (bx < g.n[0] && bx < kBlock) bx *= 2;
    const int by = kBlock / bx;
    const unsigned gx = (unsigned)((g.n[0] + bx - 1) / bx), gy = (unsigned)((g.n[1] + by - 1) / by);
    if (gy <= 65535u && g.n[2] <= 65535) {
      k_for_cells<<<dim3(gx, gy, (unsigned)g.n[2]), dim3((unsigned)bx, (unsigned)by, 1), 0, ts_->stream>>>(g, f);
    } else {
      k_for_cells_flat<<<blocks(g.cells()), kBlock, 0, ts_->stream>>>(g, f);
    }
    cuda_check(cudaGetLastError(), "kernel launch");
  }

  template <class F>
  double sum_n(idx n, const F& f) {
    if (n <= 0) return 0;
    simulated_launch_fault();
    unsigned nb = std::min<unsigned>(blocks(n), 1024u);
    if (!part_) part_ = alloc<double>(1024);
    k_sum_n<<<nb, kBlock, 0, ts_->stream>>>(n, f, part_);
    cuda_check(cudaGetLastError(), "reduction launch");
    return block_sums(nb);
  }

  template <class G, class F>
  double sum_cells(const G& g, const F& f) {
    if (g.cells() <= 0) return 0;
    simulated_launch_fault();
    const idx rows = (idx)g.n[1] * g.n[2];
    // Blocks of rows: enough to fill the device, each at least a few rows long.
    const unsigned nb = (unsigned)std::min<idx>(rows, std::max<idx>(1, std::min<idx>(1024, g.cells() / 1024)));
    if (!part_) part_ = alloc<double>(1024);
    k_sum_cells<<<nb, kBlock, 0, ts_->stream>>>(g, f, part_);
    cuda_check(cudaGetLastError(), "reduction launch");
    return block_sums(nb);
  }

  template <class T>
  T* alloc(idx n) {
    void* p = nullptr;
    if (fault_now(FAULT_OOM)) cuda_check(cudaErrorMemoryAllocation, "cudaMallocAsync (simulated)");
    const size_t bytes = (size_t)std::max<idx>(n, 1) * sizeof(T);
    if (pooled_) cuda_check(cudaMallocAsync(&p, bytes, ts_->stream), "cudaMallocAsync");
    else cuda_check(cudaMalloc(&p, bytes), "cudaMalloc");
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
  void fill_zero(T* p, idx n) { cuda_check(cudaMemsetAsync(p, 0, (size_t)n * sizeof(T), ts_->stream), "cudaMemsetAsync"); }
  // As CpuExec's: device memory is mapped at allocation, and a memset is
  // queued at once (the abort is read between the host's launches).
  template <class T, class C>
  void fill_zero(T* p, idx n, const C&) { fill_zero(p, n); }
  template <class T, class C>
  void touch(T*, idx, const C&) const {}
  template <class T>
  const T* upload(const T* host, idx n) {
    if (!host) return nullptr;
    T* d = alloc<T>(n);
    upload_into(d, host, n);
    return d;
  }
  // Through the pinned staging buffers, two in flight: the host fills one
  // while the other is copied. The host array may be reused on return.
  template <class T>
  void upload_into(T* dev, const T* host, idx n) {
    const char* src = reinterpret_cast<const char*>(host);
    char* dst = reinterpret_cast<char*>(dev);
    const size_t bytes = (size_t)n * sizeof(T);
    for (size_t off = 0, k = 0; off < bytes; off += ThreadStream::kStage, ++k) {
      const size_t len = std::min(ThreadStream::kStage, bytes - off);
      const int b = (int)(k & 1);
      wait(ts_->staged[b]);  // that buffer's previous copy has left it
      std::memcpy(ts_->stage[b], src + off, len);
      cuda_check(cudaMemcpyAsync(dst + off, ts_->stage[b], len, cudaMemcpyHostToDevice, ts_->stream), "copy to device");
      cuda_check(cudaEventRecord(ts_->staged[b], ts_->stream), "cudaEventRecord");
    }
  }
  // The same the other way: chunk k is copied out of its buffer while chunk
  // k + 1 travels into the other.
  template <class T>
  void download(T* host, const T* dev, idx n) {
    char* dst = reinterpret_cast<char*>(host);
    const char* src = reinterpret_cast<const char*>(dev);
    const size_t bytes = (size_t)n * sizeof(T), C = ThreadStream::kStage;
    const size_t chunks = (bytes + C - 1) / C;
    auto issue = [&](size_t k) {
      const int b = (int)(k & 1);
      wait(ts_->staged[b]);
      cuda_check(cudaMemcpyAsync(ts_->stage[b], src + k * C, std::min(C, bytes - k * C), cudaMemcpyDeviceToHost, ts_->stream),
                 "copy to host");
      cuda_check(cudaEventRecord(ts_->staged[b], ts_->stream), "cudaEventRecord");
    };
    auto take = [&](size_t k) {
      const int b = (int)(k & 1);
      wait(ts_->staged[b]);
      std::memcpy(dst + k * C, ts_->stage[b], std::min(C, bytes - k * C));
    };
    for (size_t k = 0; k < chunks; ++k) {
      issue(k);
      if (k > 0) take(k - 1);
    }
    if (chunks > 0) take(chunks - 1);
    check_abort();
  }
  // Allocations since a mark are freed by release(mark): a driver that
  // allocates per call (the pair engine) frees its scratch before the next.
  size_t mark() const { return owned_.size(); }
  void release(size_t m) {
    if (owned_.size() <= m) return;
    free_from(m);
    owned_.resize(m);
    if (part_ && std::find(owned_.begin(), owned_.end(), (void*)part_) == owned_.end()) part_ = nullptr;
  }
  template <class T>
  T* output(T*, idx n) { return alloc<T>(n); }
  template <class T>
  void finish_output(T* host, T* dev, idx n) { download(host, dev, n); }
  // Waits for this call's work (its stream only), honouring the abort flag.
  void sync() {
    cuda_check(cudaEventRecord(ts_->done, ts_->stream), "cudaEventRecord");
    wait(ts_->done);
    check_abort();
  }

 private:
  void free_from(size_t m) {
    if (owned_.size() <= m) return;
    if (!pooled_) cudaStreamSynchronize(ts_->stream);  // cudaFree would wait for the whole device
    for (size_t i = m; i < owned_.size(); ++i) {
      if (pooled_) cudaFreeAsync(owned_[i], ts_->stream);
      else cudaFree(owned_[i]);
    }
  }
  // The blocks' partial sums, added on the host in block order (deterministic).
  double block_sums(unsigned nb) {
    cuda_check(cudaMemcpyAsync(ts_->part_host, part_, nb * sizeof(double), cudaMemcpyDeviceToHost, ts_->stream), "reduction copy");
    sync();
    double s = 0;
    for (unsigned b = 0; b < nb; ++b) s += ts_->part_host[b];
    return s;
  }
  static unsigned blocks(idx n) { return (unsigned)std::min<idx>((n + kBlock - 1) / kBlock, 65535 * 16); }

  // Polls an event: spinning (yielding) for the first 2 ms, then sleeping
  // 100 us between polls; raises the device abort word once the call's flag
  // is raised, and keeps waiting until the queued work has drained.
  void wait(cudaEvent_t e) {
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      cudaError_t q = cudaEventQuery(e);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) cuda_check(q, "kernel execution");
      if (!abort_sent_ && cancel_.raised()) {
        cuda_check(cudaMemcpyAsync(ts_->abort_word, ts_->abort_host, sizeof(int), cudaMemcpyHostToDevice, ts_->control),
                   "abort");
        abort_sent_ = true;
      }
      if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2)) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  void check_abort() {
    if (abort_sent_ || cancel_.raised()) fail("E_ABORTED", "aborted");
  }

  int device_;
  CancelFlag cancel_;
  ThreadStream* ts_ = nullptr;
  bool abort_sent_ = false;
  bool pooled_ = true;
  std::vector<void*> owned_;
  double* part_ = nullptr;
};

}  // namespace sf
