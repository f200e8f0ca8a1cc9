#include "host_cache.h"

#include <cstdlib>
#ifdef __linux__
#include <sys/mman.h>
#endif
#include <map>
#include <mutex>
#include <string>

#include "errors.h"

namespace sf {

namespace {

struct Cache {
  std::mutex m;
  std::multimap<size_t, void*> blocks;
  size_t held = 0;
  size_t cap = [] {
    const char* e = std::getenv("SEMFIELD_HOST_CACHE_MB");
    long mb = e ? std::atol(e) : 256;
    return (size_t)(mb < 0 ? 0 : mb) << 20;
  }();
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: workers may release late
  return *c;
}

constexpr size_t kMinCached = 1 << 16;  // small blocks go straight to malloc
constexpr size_t kHuge = 2u << 20, kHugeFrom = 4u << 20;

}  // namespace

void* host_acquire(size_t bytes) {
  bytes = (bytes + 63) / 64 * 64;
  if (bytes >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> l(c.m);
    auto it = c.blocks.find(bytes);
    if (it != c.blocks.end()) {
      void* p = it->second;
      c.blocks.erase(it);
      c.held -= bytes;
      return p;
    }
  }
  void* p = nullptr;
#ifdef __linux__
  if (bytes >= kHugeFrom) {
    // Large blocks on 2 MiB pages where the kernel offers them (transparent
    // huge pages in madvise mode): the first touch of a 1 GB working set
    // costs 500 faults instead of 250000.
    size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    p = std::aligned_alloc(kHuge, rounded);
    if (p) madvise(p, rounded, MADV_HUGEPAGE);
  }
#endif
  if (!p) p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  if (!p) fail("E_OOM", "out of host memory allocating " + std::to_string(bytes) + " bytes");
  return p;
}

void host_release(void* p, size_t bytes) {
  if (!p) return;
  bytes = (bytes + 63) / 64 * 64;
  if (bytes >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> l(c.m);
    if (c.held + bytes <= c.cap) {
      c.blocks.emplace(bytes, p);
      c.held += bytes;
      return;
    }
  }
  std::free(p);
}

}  // namespace sf
