#include "device.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "errors.h"

namespace sf {

std::string env_backend() {
  const char* e = std::getenv("SEMFIELD_BACKEND");
  return e ? std::string(e) : std::string();
}

DeviceSet filter_devices(const cuda::DeviceList& d, int min_cc) {
  DeviceSet s;
  s.all = d;
  std::string old;
  for (size_t i = 0; i < d.names.size(); ++i) {
    int cc = i < d.compute_capability.size() ? d.compute_capability[i] : 0;
    if (cc >= min_cc) {
      s.usable.push_back((int)i);
      continue;
    }
    if (!old.empty()) old += "; ";
    old += "device " + std::to_string(i) + " (" + d.names[i] + ") has compute capability " + std::to_string(cc / 10) + "." +
           std::to_string(cc % 10);
  }
  if (!old.empty())
    s.note = old + ": this build of semfield runs on compute capability " + std::to_string(min_cc / 10) + "." +
             std::to_string(min_cc % 10) + " and later, so it is not used";
  if (s.usable.empty() && s.note.empty()) s.note = d.note;
  return s;
}

void DeviceHealth::mark_lost(int device, const std::string& why) {
  std::lock_guard<std::mutex> g(m_);
  for (auto& l : lost_)
    if (l.first == device) return;  // the first error is the cause
  lost_.emplace_back(device, why);
}

bool DeviceHealth::lost(int device, std::string* why) const {
  std::lock_guard<std::mutex> g(m_);
  for (auto& l : lost_)
    if (l.first == device) {
      if (why) *why = l.second;
      return true;
    }
  return false;
}

bool DeviceHealth::first_notice(int device) {
  std::lock_guard<std::mutex> g(m_);
  if (std::find(noticed_.begin(), noticed_.end(), device) != noticed_.end()) return false;
  noticed_.push_back(device);
  return true;
}

namespace {
std::string describe(const DeviceSet& d, int ordinal) {
  return "device " + std::to_string(ordinal) + " (" + d.all.names[(size_t)ordinal] + ")";
}
}  // namespace

Target resolve_in(const DeviceSet& d, DeviceHealth& h, const std::string& requested, const std::string& env, int device,
                  const std::function<void(const std::string&)>& notice) {
  const bool from_env = requested.empty() && !env.empty();
  std::string name = requested.empty() ? env : requested;
  if (name.empty()) name = "auto";
  // Where the choice came from, for the messages: the call's option or the
  // process's environment.
  const std::string what = from_env ? "SEMFIELD_BACKEND" : "backend";
  Target t;
  if (name == "cpu") return t;
  if (name != "auto" && name != "cuda")
    fail("E_RANGE", what + " must be 'auto', 'cpu' or 'cuda' (got '" + name + "')");
  const bool demanded = name == "cuda";
  if (demanded) {
    if (!d.all.built) fail("E_DEVICE", what + " 'cuda' is not built into this addon (nvcc was not found at install time)");
    if (d.usable.empty())
      fail("E_DEVICE", what + " 'cuda' requested but " + (d.note.empty() ? std::string("no CUDA device is usable") : d.note));
  }
  if (d.usable.empty()) return t;  // auto without a usable GPU: CPU, quietly
  int ordinal = device < 0 ? d.usable[0] : device;
  if (std::find(d.usable.begin(), d.usable.end(), ordinal) == d.usable.end()) {
    if (ordinal >= 0 && ordinal < (int)d.all.names.size())
      fail("E_RANGE", "device " + std::to_string(ordinal) + " is not usable: " + d.note);
    std::string list;
    for (int u : d.usable) list += (list.empty() ? "" : ", ") + std::to_string(u);
    fail("E_RANGE", "device must be one of the usable CUDA devices [" + list + "] (got " + std::to_string(ordinal) + ")");
  }
  std::string why;
  if (h.lost(ordinal, &why)) {
    if (demanded)
      fail("E_DEVICE", describe(d, ordinal) + " is unusable since an earlier call failed on it (" + why +
                           "); a CUDA context cannot recover from that within a process: restart the process, or use backend 'cpu'" +
                           (from_env ? " (SEMFIELD_BACKEND=cuda)" : ""));
    if (h.first_notice(ordinal) && notice)
      notice("semfield: " + describe(d, ordinal) + " failed (" + why + "); backend 'auto' runs on the CPU for the rest of this process");
    return t;
  }
  t.backend = Backend::Cuda;
  t.device = ordinal;
  return t;
}

const DeviceSet& cuda_devices() {
  static DeviceSet set;
  static std::once_flag once;
  std::call_once(once, [] {
    if (env_backend() == "cpu") {
      set.all.built = cuda::built();
      set.all.note = set.note = "SEMFIELD_BACKEND=cpu: CUDA not probed";
      return;
    }
    set = filter_devices(cuda::probe(), kMinComputeCapability);
  });
  return set;
}

DeviceHealth& device_health() {
  static DeviceHealth h;
  return h;
}

void mark_device_lost(int device, const std::string& why) { device_health().mark_lost(device, why); }

std::string backend_name(Backend b) { return b == Backend::Cuda ? "cuda" : "cpu"; }

Target resolve_target(const std::string& requested, int device) {
  return resolve_in(cuda_devices(), device_health(), requested, env_backend(), device,
                    [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}

}  // namespace sf
