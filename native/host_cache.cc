#include "host_cache.h"

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <list>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "errors.h"

namespace sf {

namespace {

// The memory this process may use: physical memory, or the cgroup's limit
// where one is set (a container).
size_t usable_memory() {
  size_t m = 0;
#ifdef __linux__
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) m = (size_t)pages * (size_t)page;
  for (const char* f : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    if (FILE* fp = std::fopen(f, "r")) {
      unsigned long long v = 0;
      if (std::fscanf(fp, "%llu", &v) == 1 && v > 0 && (m == 0 || v < m)) m = (size_t)v;
      std::fclose(fp);
    }
  }
#endif
  return m ? m : (size_t)2 << 30;
}

// Blocks given back, newest first; by_size finds one of a size (the newest
// of that size first); the oldest go when a new one would pass the cap.
struct Cache {
  struct Block {
    size_t bytes;
    void* p;
  };
  std::mutex m;
  std::list<Block> lru;
  std::multimap<size_t, std::list<Block>::iterator> by_size;
  size_t held = 0;
  size_t cap = [] {
    const char* e = std::getenv("SEMFIELD_HOST_CACHE_MB");
    if (!e || !*e) return usable_memory() / 8;
    long mb = std::atol(e);
    return (size_t)(mb < 0 ? 0 : mb) << 20;
  }();

  void drop(std::list<Block>::iterator it) {
    auto r = by_size.equal_range(it->bytes);
    for (auto k = r.first; k != r.second; ++k)
      if (k->second == it) {
        by_size.erase(k);
        break;
      }
    held -= it->bytes;
    lru.erase(it);
  }
  // The oldest blocks out until at most limit bytes are held; freed by the
  // caller, outside the lock.
  void trim(size_t limit, std::vector<void*>& gone) {
    while (held > limit) {
      gone.push_back(lru.back().p);
      drop(std::prev(lru.end()));
    }
  }
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
    auto r = c.by_size.equal_range(bytes);
    if (r.first != r.second) {
      auto newest = std::prev(r.second);  // of equal sizes, the last given back
      auto it = newest->second;
      void* p = it->p;
      c.drop(it);
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
    std::vector<void*> gone;
    {
      std::lock_guard<std::mutex> l(c.m);
      if (bytes <= c.cap) {
        c.trim(c.cap - bytes, gone);
        c.lru.push_front({bytes, p});
        c.by_size.emplace(bytes, c.lru.begin());
        c.held += bytes;
        p = nullptr;
      }
    }
    for (void* q : gone) std::free(q);
  }
  std::free(p);
}

HostCacheState host_cache_state() {
  Cache& c = cache();
  std::lock_guard<std::mutex> l(c.m);
  return {c.held, c.cap, c.lru.size()};
}

void host_cache_set_cap(size_t bytes) {
  Cache& c = cache();
  std::vector<void*> gone;
  {
    std::lock_guard<std::mutex> l(c.m);
    c.cap = bytes;
    c.trim(c.cap, gone);
  }
  for (void* q : gone) std::free(q);
}

size_t host_cache_release() {
  Cache& c = cache();
  std::vector<void*> gone;
  size_t freed;
  {
    std::lock_guard<std::mutex> l(c.m);
    freed = c.held;
    c.trim(0, gone);
  }
  for (void* q : gone) std::free(q);
  return freed;
}

}  // namespace sf
