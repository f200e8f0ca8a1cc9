// Backend selection: CUDA is probed once per process, lazily, and never when
// SEMFIELD_BACKEND=cpu; a machine without a driver or a GPU quietly gets the
// CPU backend.
//  - A device below the oldest architecture this build has code for
//    (kMinComputeCapability, the PTX of CMakeLists.txt) is never used: the
//    probe leaves it out and says why in the note, instead of every call
//    failing on it.
//  - A device that met a sticky error (an illegal address, a failed launch:
//    the CUDA context of the process is then unusable until it exits) is
//    marked lost. Later calls that ask for it get E_DEVICE saying so; 'auto'
//    runs on the CPU and says why once, on stderr.
// The rules are a pure function of the device list and the lost set
// (resolve_in), which the kernel tests check without a GPU.
#pragma once
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "backend.h"

namespace sf {

#ifndef SEMFIELD_MIN_CC
#define SEMFIELD_MIN_CC 75
#endif
// The oldest compute capability (major * 10 + minor) this build runs on.
constexpr int kMinComputeCapability = SEMFIELD_MIN_CC;

// The probe's devices filtered by compute capability: usable[i] is the CUDA
// ordinal of the i-th device semfield may use.
struct DeviceSet {
  cuda::DeviceList all;      // as probed
  std::vector<int> usable;   // ordinals at or above kMinComputeCapability
  std::string note;          // why some or all devices are not used ('' when all are)
};
DeviceSet filter_devices(const cuda::DeviceList& d, int min_cc);

// Devices lost to a sticky error in this process, with the error that lost
// them. Thread-safe: workers mark, the main thread reads.
class DeviceHealth {
 public:
  void mark_lost(int device, const std::string& why);
  bool lost(int device, std::string* why = nullptr) const;
  // True the first time it is asked about this device after its loss (the
  // one line 'auto' prints), false afterwards.
  bool first_notice(int device);

 private:
  mutable std::mutex m_;
  std::vector<std::pair<int, std::string>> lost_;
  std::vector<int> noticed_;
};

// The target of a call: requested is "auto", "cpu", "cuda" or "" (then env,
// the value of SEMFIELD_BACKEND, then "auto"); device is the CUDA ordinal
// asked for (-1: the first usable). notice receives the one line to print
// when 'auto' falls back to the CPU because a device was lost.
Target resolve_in(const DeviceSet& d, DeviceHealth& h, const std::string& requested, const std::string& env, int device,
                  const std::function<void(const std::string&)>& notice);

const DeviceSet& cuda_devices();
DeviceHealth& device_health();
// name: "auto", "cpu" or "cuda" (empty: SEMFIELD_BACKEND, else "auto").
Target resolve_target(const std::string& name, int device);
std::string backend_name(Backend b);
// SEMFIELD_BACKEND as set ('' when unset).
std::string env_backend();

// A sticky CUDA error on a device: marks it lost (called by the CUDA backend).
void mark_device_lost(int device, const std::string& why);

}  // namespace sf
