// The abort flag of a call: one Int32Array element that JS sets (from the
// AbortSignal's handler, on the main thread) while a worker, a pool thread
// or a CUDA host loop reads it. It reads through an atomic load (acquire),
// not a volatile pointer: a data race on a plain int is undefined behaviour,
// and volatile orders nothing. It reads like the pointer it replaces:
// `cancel && *cancel` is "this call may be aborted, and it has been".
#pragma once
#include <cstddef>
#include <cstdint>

namespace sf {

class CancelFlag {
 public:
  constexpr CancelFlag() = default;
  constexpr CancelFlag(std::nullptr_t) {}
  CancelFlag(const int32_t* p) : p_(p) {}
  // Whether the call has a flag at all.
  explicit operator bool() const { return p_ != nullptr; }
  // The flag's value now (0: running; anything else: aborted).
  int32_t operator*() const { return __atomic_load_n(p_, __ATOMIC_ACQUIRE); }
  bool raised() const { return p_ && **this != 0; }

 private:
  const int32_t* p_ = nullptr;
};

}  // namespace sf
