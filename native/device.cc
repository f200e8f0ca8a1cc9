#include "device.h"

#include <cstdlib>
#include <mutex>

#include "errors.h"

namespace sf {

namespace {
std::string env_backend() {
  const char* e = std::getenv("SEMFIELD_BACKEND");
  return e ? std::string(e) : std::string();
}
}  // namespace

const cuda::DeviceList& cuda_devices() {
  static cuda::DeviceList list;
  static std::once_flag once;
  std::call_once(once, [] {
    if (env_backend() == "cpu") {
      list.built = cuda::built();
      list.note = "SEMFIELD_BACKEND=cpu: CUDA not probed";
      return;
    }
    list = cuda::probe();
  });
  return list;
}

std::string backend_name(Backend b) { return b == Backend::Cuda ? "cuda" : "cpu"; }

Target resolve_target(const std::string& requested, int device) {
  std::string name = requested.empty() ? env_backend() : requested;
  if (name.empty()) name = "auto";
  Target t;
  if (name == "cpu") return t;
  if (name != "auto" && name != "cuda")
    fail("E_RANGE", "backend must be 'auto', 'cpu' or 'cuda' (got '" + name + "')");
  const cuda::DeviceList& d = cuda_devices();
  if (name == "cuda") {
    if (!d.built) fail("E_DEVICE", "backend 'cuda' is not built into this addon (nvcc was not found at install time)");
    if (d.names.empty()) fail("E_DEVICE", "backend 'cuda' requested but " + d.note);
  }
  if (d.names.empty()) return t;  // auto without a GPU: CPU, quietly
  if (device < 0 || device >= (int)d.names.size())
    fail("E_RANGE", "device must be in [0, " + std::to_string(d.names.size()) + ") (got " + std::to_string(device) + ")");
  t.backend = Backend::Cuda;
  t.device = device;
  return t;
}

}  // namespace sf
