// Reuse of large host buffers between calls. A solve needs ~30 bytes per cell
// of scratch; fresh pages from the system cost one page fault each on first
// touch (a fifth of the time of a 1024^2 solve), so buffers given back are
// kept, up to SEMFIELD_HOST_CACHE_MB (default 256) in all, for the next call
// of the same size.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>

namespace sf {

void* host_acquire(size_t bytes);  // 64-byte aligned; E_OOM on failure
void host_release(void* p, size_t bytes);

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
