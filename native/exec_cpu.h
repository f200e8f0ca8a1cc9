// The CPU execution policy: the same interface as CudaExec (cuda/exec_cuda.cuh)
// so that every driver in native/algo is written once. for_n runs a kernel
// body over an index range on the thread pool; sum_n reduces in fixed chunks
// summed in order, so a result never depends on the number of threads.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "../cuda/sf_config.h"
#include "errors.h"
#include "fault.h"
#include "host_cache.h"
#include "thread_pool.h"

// The smallest launch over cells that the CPU shares among its threads
// (overridable at build time for measurements).
#ifndef SF_PARALLEL_CELLS
#define SF_PARALLEL_CELLS 16384
#endif

namespace sf {

class CpuExec {
 public:
  static constexpr bool on_device = false;
  explicit CpuExec(bool parallel = true) : parallel_(parallel) {}
  CpuExec(const CpuExec&) = delete;
  ~CpuExec() {
    for (auto& b : owned_) host_release(b.first, b.second);
  }

  bool parallel() const { return parallel_ && !ThreadPool::inside_task(); }

  // Below this many cells a launch over a grid (for_cells, for_rows,
  // sum_rows, fill_zero) runs on the calling thread: waking the pool and
  // waiting for it costs more than the work (a coarse multigrid level, a
  // small grid's whole solve). 128^2 and 32^3 levels are shared: against
  // 65536, a 2D solve to the discretisation error at 128^2 to 512^2 took
  // 7-20% less time, a 64^3 one about 10% less, and 1024^2 the same
  // (two-core EPYC, quantiles of 200-call runs alternated between builds).
  static constexpr idx kParallelCells = SF_PARALLEL_CELLS;

  // The number of tasks of cells_per_task cells that makes kParallelCells.
  static idx min_tasks(idx cells_per_task) { return (kParallelCells + cells_per_task - 1) / cells_per_task; }

  // Splits [0, n) into contiguous ranges and calls body(lo, hi) on each;
  // serially when there are fewer than parallel_from ranges of grain.
  template <class B>
  void for_ranges(idx n, idx grain, const B& body, idx parallel_from = 2) const {
    if (fault_now(FAULT_LAUNCH)) fail("E_DEVICE", "kernel launch failed (simulated)");
    split(n, grain, body, parallel_from);
  }

  // for_ranges without being a launch (the simulated launch faults).
  template <class B>
  void split(idx n, idx grain, const B& body, idx parallel_from = 2) const {
    idx tasks = (n + grain - 1) / grain;
    if (!parallel() || tasks < std::max<idx>(2, parallel_from)) {
      if (n > 0) body((idx)0, n);
      return;
    }
    ThreadPool& pool = ThreadPool::instance();
    idx nt = std::min<idx>(tasks, (idx)pool.size() * 4);
    idx chunk = (n + nt - 1) / nt;
    pool.run((int)nt, [&](int t) {
      idx lo = (idx)t * chunk, hi = std::min(n, lo + chunk);
      if (lo < hi) body(lo, hi);
    });
  }

  template <class F>
  void for_n(idx n, const F& f) const {
    for_ranges(n, 8192, [&](idx lo, idx hi) {
      for (idx i = lo; i < hi; ++i) f(i);
    });
  }

  // f(i) for i in [0, n) where each item is a large piece of work (a chain,
  // a block search): shared out one item at a time.
  template <class F>
  void for_items(idx n, const F& f) const {
    for_ranges(n, 1, [&](idx lo, idx hi) {
      for (idx i = lo; i < hi; ++i) f(i);
    });
  }

  // Calls f(c, x, y, z) for every cell of one grid, row by row (no divisions).
  template <class G, class F>
  void for_cells(const G& g, const F& f) const {
    idx rows = (idx)g.n[1] * g.n[2];
    int nx = g.n[0];
    for_ranges(rows, std::max<idx>(1, 8192 / nx), [&](idx lo, idx hi) {
      for (idx r = lo; r < hi; ++r) {
        int y = (int)(r % g.n[1]), z = (int)(r / g.n[1]);
        idx base = r * nx;
        for (int x = 0; x < nx; ++x) f(base + x, x, y, z);
      }
    }, min_tasks(std::max<idx>(1, 8192 / nx) * nx));
  }

  // Calls body(y, z, base) for every row of a grid (base: index of x = 0).
  template <class G, class B>
  void for_rows(const G& g, const B& body) const {
    idx rows = (idx)g.n[1] * g.n[2];
    for_ranges(rows, std::max<idx>(1, 8192 / g.n[0]), [&](idx lo, idx hi) {
      for (idx r = lo; r < hi; ++r) body((int)(r % g.n[1]), (int)(r / g.n[1]), r * g.n[0]);
    }, min_tasks(std::max<idx>(1, 8192 / g.n[0]) * g.n[0]));
  }

  // [0, count) cut into `runs` contiguous runs [a, b): first(a, b) on every
  // run and then, once all are done, second(a, b) on every run (one launch
  // per phase; a sweep over slabs whose runs must first settle their edges).
  template <class A, class B>
  void two_phases(int count, int runs, const A& first, const B& second) const {
    auto lo = [&](idx t) { return (int)((idx)count * t / runs); };
    for_ranges(runs, 1, [&](idx l, idx h) {
      for (idx t = l; t < h; ++t) first(lo(t), lo(t + 1));
    });
    for_ranges(runs, 1, [&](idx l, idx h) {
      for (idx t = l; t < h; ++t) second(lo(t), lo(t + 1));
    });
  }

  // Sum of body(y, z, base) over the rows, in fixed blocks of rows summed in
  // order (the same result for any number of threads).
  template <class G, class B>
  double sum_rows(const G& g, const B& body) const {
    idx rows = (idx)g.n[1] * g.n[2];
    idx per = std::max<idx>(1, 16384 / g.n[0]);
    return sum_parts((rows + per - 1) / per, min_tasks(per * g.n[0]), [&](idx k) {
      double s = 0;
      for (idx r = k * per; r < std::min(rows, (k + 1) * per); ++r)
        s += body((int)(r % g.n[1]), (int)(r / g.n[1]), r * g.n[0]);
      return s;
    });
  }

  template <class G, class F>
  double sum_cells(const G& g, const F& f) const {
    return sum_rows(g, [&](int y, int z, idx base) {
      return lanes_sum(g.n[0], [&](idx x) { return (double)f(base + x, (int)x, y, z); });
    });
  }

  // Sum of f(i) over [0, n) in double: fixed chunks, partial sums in order.
  template <class F>
  double sum_n(idx n, const F& f) const {
    constexpr idx chunk = 16384;
    return sum_parts((n + chunk - 1) / chunk, 2, [&](idx k) {
      const idx a = k * chunk;
      return lanes_sum(std::min(n, a + chunk) - a, [&](idx i) { return (double)f(a + i); });
    });
  }

  // Sum of f(i) over [0, n) in sixteen partial sums (f(i) into lane i mod
  // 16), added pairwise at the end: a fixed order, so the same result on
  // every run, and sixteen independent additions in flight instead of one
  // chain that waits for each add's latency (a sum over a grid in one chain
  // ran at a quarter of the rate of the pass that fed it).
  template <class F>
  static double lanes_sum(idx n, const F& f) {
    double s[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    idx i = 0;
    for (; i + 16 <= n; i += 16)
      for (int j = 0; j < 16; ++j) s[j] += f(i + j);
    for (int j = 0; i < n; ++i, ++j) s[j] += f(i);
    for (int w = 8; w > 0; w /= 2)
      for (int j = 0; j < w; ++j) s[j] += s[j + w];
    return s[0];
  }

 private:
  // part(k) for k in [0, nparts) in parallel (when there are at least
  // parallel_from), added up in order of k.
  template <class P>
  double sum_parts(idx nparts, idx parallel_from, const P& part) const {
    std::vector<double> v((size_t)nparts, 0.0);
    if (!parallel() || nparts < std::max<idx>(2, parallel_from)) {
      for (idx k = 0; k < nparts; ++k) v[(size_t)k] = part(k);
    } else {
      ThreadPool& pool = ThreadPool::instance();
      idx nt = std::min<idx>(nparts, (idx)pool.size() * 4);
      idx per = (nparts + nt - 1) / nt;
      pool.run((int)nt, [&](int t) {
        for (idx k = (idx)t * per; k < std::min(nparts, (idx)(t + 1) * per); ++k) v[(size_t)k] = part(k);
      });
    }
    double s = 0;
    for (double x : v) s += x;
    return s;
  }

 public:
  template <class T>
  T* alloc(idx n) {
    size_t bytes = (size_t)std::max<idx>(n, 1) * sizeof(T);
    if (fault_now(FAULT_OOM)) fail("E_OOM", "out of memory allocating " + std::to_string(bytes) + " bytes (simulated)");
    void* p = host_acquire(bytes);
    owned_.emplace_back(p, bytes);
    return static_cast<T*>(p);
  }
  template <class T>
  T* zeros(idx n) {
    T* p = alloc<T>(n);
    std::memset(p, 0, (size_t)n * sizeof(T));
    return p;
  }
  template <class T>
  void fill_zero(T* p, idx n) {
    for_ranges(n, 8192, [=](idx lo, idx hi) { std::memset(p + lo, 0, (size_t)(hi - lo) * sizeof(T)); }, min_tasks(8192));
  }
  // Maps in the pages of an array the kernels are about to write, in
  // chunks of 32 MiB with between() (an abort check) before each. Fresh
  // memory costs the kernel's zeroing at its first touch, about 0.3 s per
  // GB: done here, in pieces, and not inside a pass that writes the array
  // between two abort checks. The contents are kept.
  template <class T, class C>
  void touch(T* p, idx n, const C& between) const {
    constexpr idx page = 4096, chunk = (idx)32 << 20;
    char* b = reinterpret_cast<char*>(p);
    const idx bytes = n * (idx)sizeof(T);
    for (idx c0 = 0; c0 < bytes; c0 += chunk) {
      between();
      const idx len = std::min(chunk, bytes - c0);
      for_ranges((len + page - 1) / page, 64, [&](idx lo, idx hi) {
        for (idx k = lo; k < hi; ++k) {
          volatile char* q = b + c0 + k * page;
          *q = *q;
        }
      });
    }
  }
  // Zeroes an array in chunks of 32 MiB with between() before each.
  template <class T, class C>
  void fill_zero(T* p, idx n, const C& between) {
    const idx chunk = std::max<idx>(1, ((idx)32 << 20) / (idx)sizeof(T));
    for (idx c0 = 0; c0 < n; c0 += chunk) {
      between();
      fill_zero(p + c0, std::min(chunk, n - c0));
    }
  }
  // Host data is already where the kernels run: no copies.
  template <class T>
  const T* upload(const T* host, idx) { return host; }
  template <class T>
  void upload_into(T* dev, const T* host, idx n) {
    copy(dev, host, n);
  }
  template <class T>
  void download(T* host, const T* dev, idx n) {
    copy(host, dev, n);
  }
  // A copy between host arrays, shared among the threads from 4 MiB (a
  // fresh destination costs the kernel's zeroing of its pages as well).
  template <class T>
  void copy(T* dst, const T* src, idx n) const {
    if (n <= 0 || dst == src) return;
    const idx grain = std::max<idx>(1, ((idx)1 << 20) / (idx)sizeof(T));
    split(n, grain, [=](idx lo, idx hi) { std::memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(T)); }, 4);
  }
  // Allocations since a mark are returned by release(mark).
  size_t mark() const { return owned_.size(); }
  void release(size_t m) {
    for (size_t i = m; i < owned_.size(); ++i) host_release(owned_[i].first, owned_[i].second);
    if (owned_.size() > m) owned_.resize(m);
  }
  // An output array the kernels can write that ends up in host: the host
  // array itself.
  template <class T>
  T* output(T* host, idx) { return host; }
  template <class T>
  void finish_output(T*, T*, idx) {}
  void sync() {}

 private:
  bool parallel_;
  std::vector<std::pair<void*, size_t>> owned_;
};

}  // namespace sf
