// Reuse of large host buffers between calls. A solve needs ~30 bytes per cell
// of scratch; fresh pages from the system cost a page fault and the kernel's
// zeroing on first touch (a fifth of the time of a 1024^2 solve; at 4096^2,
// 340 MB of fresh pages, a tenth of a full multigrid solve), so buffers given
// back are kept for the next call of the same size: up to
// SEMFIELD_HOST_CACHE_MB in all (default an eighth of the memory this process
// may use, its cgroup's limit where that is smaller), the least recently
// given back going first. host_cache_release gives them all back to the
// system (device.releaseScratch()).
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>

namespace sf {

void* host_acquire(size_t bytes);  // 64-byte aligned; E_OOM on failure
void host_release(void* p, size_t bytes);

struct HostCacheState {
  size_t held, cap, blocks;
};
HostCacheState host_cache_state();
size_t host_cache_release();  // frees every kept block; returns the bytes freed
void host_cache_set_cap(size_t bytes);  // (tests) a new cap; the oldest blocks go to meet it

// An array of n T's from the cache (uninitialised unless a value is given),
// given back when it goes: scratch that every call of one shape needs anew.
template <class T>
class HostArray {
 public:
  HostArray() = default;
  explicit HostArray(size_t n) : p_(static_cast<T*>(host_acquire(n * sizeof(T)))), n_(n) {}
  HostArray(size_t n, T v) : HostArray(n) { std::fill_n(p_, n, v); }
  HostArray(HostArray&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  HostArray& operator=(HostArray&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  HostArray(const HostArray&) = delete;
  ~HostArray() { host_release(p_, n_ * sizeof(T)); }
  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace sf
