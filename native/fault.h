// Fault injection for tests: the next allocation or kernel launch of either
// backend can be made to fail as a GPU would (out of memory, failed launch),
// so the error paths are exercised on machines without a GPU. Armed only by
// the addon's _setFault (lib/testing.ts); costs one relaxed atomic load.
#pragma once
#include <atomic>

namespace sf {

// FAULT_LAUNCH fails a launch as a GPU does when it cannot start a kernel
// (the context survives). FAULT_SYSTEM: the thread pool's next run fails as
// a thread that cannot be started would (std::system_error, EAGAIN).
// FAULT_STICKY: the next CUDA launch fails as after an illegal address (the
// context is lost for the process; the CPU backend has no such state and
// ignores it).
enum FaultKind : int { FAULT_NONE = 0, FAULT_OOM = 1, FAULT_LAUNCH = 2, FAULT_SYSTEM = 3, FAULT_STICKY = 4 };

namespace fault_detail {
inline std::atomic<int>& kind() {
  static std::atomic<int> k{FAULT_NONE};
  return k;
}
inline std::atomic<long>& countdown() {
  static std::atomic<long> c{0};
  return c;
}
}  // namespace fault_detail

// Arms a fault: the (after + 1)-th event of that kind fails, once.
inline void arm_fault(int kind, long after) {
  fault_detail::countdown().store(after);
  fault_detail::kind().store(kind);
}

// True when this event of the given kind is the one to fail (then disarms).
inline bool fault_now(int kind) {
  if (fault_detail::kind().load(std::memory_order_relaxed) != kind) return false;
  if (fault_detail::countdown().fetch_sub(1) > 0) return false;
  fault_detail::kind().store(FAULT_NONE);
  return true;
}

}  // namespace sf
