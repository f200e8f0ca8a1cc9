// What every call carries besides its job: the backend it runs on, and the
// one place that sends a job to the CPU or the CUDA backend.
#pragma once
#include "backend.h"

namespace sf {

template <class J>
struct Call {
  J job;
  Target target;
};

template <class J>
void run_on(const Target& t, J& job, void (*on_cpu)(J&), void (*on_cuda)(int, J&)) {
  if (t.backend == Backend::Cuda) on_cuda(t.device, job);
  else on_cpu(job);
}

}  // namespace sf
