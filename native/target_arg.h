// The backend and device of a call from its options: backend (default:
// SEMFIELD_BACKEND, else 'auto') and device (a CUDA ordinal; default: the
// first usable device).
#pragma once
#include <napi.h>

#include "device.h"
#include "napi_util.h"

namespace sf {

inline Target target_of(const Napi::Object& a) {
  int device = get(a, "device").IsUndefined() ? -1 : (int)get_int(a, "device", 0, 0, 1 << 20);
  return resolve_target(get_string(a, "backend", ""), device);
}

}  // namespace sf
