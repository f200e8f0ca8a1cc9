// Reuse of large host buffers between calls. A solve needs ~30 bytes per cell
// of scratch; fresh pages from the system cost one page fault each on first
// touch (a fifth of the time of a 1024^2 solve), so buffers given back are
// kept, up to SEMFIELD_HOST_CACHE_MB (default 256) in all, for the next call
// of the same size.
#pragma once
#include <cstddef>

namespace sf {

void* host_acquire(size_t bytes);  // 64-byte aligned; E_OOM on failure
void host_release(void* p, size_t bytes);

}  // namespace sf
