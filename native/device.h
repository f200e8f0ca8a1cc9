// Backend selection: CUDA is probed once per process, lazily, and never when
// SEMFIELD_BACKEND=cpu; a machine without a driver or a GPU quietly gets the
// CPU backend.
#pragma once
#include <string>

#include "backend.h"

namespace sf {

const cuda::DeviceList& cuda_devices();
// name: "auto", "cpu" or "cuda" (empty: SEMFIELD_BACKEND, else "auto").
Target resolve_target(const std::string& name, int device);
std::string backend_name(Backend b);

}  // namespace sf
