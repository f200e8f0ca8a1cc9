// device.info() and the synchronous kernels the benchmarks time (a STREAM
// triad and single multigrid kernels on caller-owned arrays).
#include <cstdlib>  // defines __GLIBC__
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "../cuda/triad_k.h"
#include "algo/multigrid.h"
#include "bindings.h"
#include "device.h"
#include "exec_cpu.h"
#include "fault.h"
#include "mg_cpu.h"
#include "thread_pool.h"
#include "worker.h"

#ifndef SEMFIELD_ISA
#define SEMFIELD_ISA "unknown"
#endif

namespace sf {

namespace {
// The instruction set this binary was compiled for, and what the CPU offers
// (cpuid through the compiler's builtins; nothing started, no device touched:
// the loader asks this of the portable binary to choose a variant).
Napi::Object cpu_of(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", SEMFIELD_ISA);
  Napi::Object f = Napi::Object::New(env);
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.Set("avx2", (bool)__builtin_cpu_supports("avx2"));
  f.Set("fma", (bool)__builtin_cpu_supports("fma"));
  f.Set("bmi2", (bool)__builtin_cpu_supports("bmi2"));
  f.Set("avx512f", (bool)__builtin_cpu_supports("avx512f"));
  f.Set("avx512bw", (bool)__builtin_cpu_supports("avx512bw"));
  f.Set("avx512cd", (bool)__builtin_cpu_supports("avx512cd"));
  f.Set("avx512dq", (bool)__builtin_cpu_supports("avx512dq"));
  f.Set("avx512vl", (bool)__builtin_cpu_supports("avx512vl"));
#endif
  o.Set("features", f);
  return o;
}
}  // namespace

Napi::Value Cpu(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return cpu_of(info.Env()); });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const cuda::DeviceList& d = cuda_devices();
    Napi::Object o = Napi::Object::New(env);
    Napi::Array built = Napi::Array::New(env);
    built.Set(0u, "cpu");
    if (d.built) built.Set(1u, "cuda");
    o.Set("built", built);
    Napi::Array devs = Napi::Array::New(env, d.names.size());
    for (size_t i = 0; i < d.names.size(); ++i) {
      Napi::Object x = Napi::Object::New(env);
      x.Set("index", (double)i);
      x.Set("name", d.names[i]);
      x.Set("memoryGiB", d.memory_gib[i]);
      devs.Set((uint32_t)i, x);
    }
    o.Set("cudaDevices", devs);
    o.Set("cudaRuntime", d.runtime_version);
    o.Set("cudaNote", d.note);
    o.Set("threads", ThreadPool::instance().size());
    o.Set("auto", backend_name(resolve_target("auto", 0).backend));
    Napi::Object c = cpu_of(env);
    o.Set("isa", c.Get("isa"));
    o.Set("cpuFeatures", c.Get("features"));
    return o;
  });
}

// Bytes the C allocator has handed out and not taken back (glibc), for leak
// checks that RSS cannot settle (RSS also holds V8's and the allocator's
// retained pages).
Napi::Value MallocInUse(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = ::mallinfo2();
  return Napi::Number::New(info.Env(), (double)(m.uordblks + m.hblkhd));
#else
  return info.Env().Null();
#endif
}

// Testing hook: {kind: 'oom' | 'launch' | 'none', after: n}.
Napi::Value SetFault(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    std::string kind = get_string(a, "kind", "none");
    long after = (long)get_int(a, "after", 0, 0, 1L << 40);
    if (kind == "oom") arm_fault(FAULT_OOM, after);
    else if (kind == "launch") arm_fault(FAULT_LAUNCH, after);
    else if (kind == "system") arm_fault(FAULT_SYSTEM, after);
    else if (kind == "none") arm_fault(FAULT_NONE, 0);
    else fail("E_RANGE", "kind must be 'oom', 'launch', 'system' or 'none'");
    return info.Env().Undefined();
  });
}

Napi::Value Triad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    Napi::TypedArray ta = typed<float>(get(a, "a"), "a", -1);
    idx n = (idx)ta.ElementLength();
    float* pa = typed_data<float>(ta);
    const float* pb = typed_data<float>(typed<float>(get(a, "b"), "b", n));
    const float* pc = typed_data<float>(typed<float>(get(a, "c"), "c", n));
    float s = get_float(a, "s", 3.0);
    int reps = (int)get_int(a, "reps", 1, 1, 1 << 20);
    Target t = resolve_target(get_string(a, "backend", "cpu"), 0);
    if (t.backend == Backend::Cuda) {
      cuda::triad(t.device, pa, pb, pc, s, n, reps);
    } else {
      CpuExec ex;
      for (int r = 0; r < reps; ++r) ex.for_n(n, [=](idx i) { triad_point(pa, pb, pc, s, i); });
    }
    return info.Env().Undefined();
  });
}

namespace {
MgLevel level_of(const Napi::Object& a, bool with_r) {
  MgLevel L{};
  L.g = parse_grid(get(a, "grid"));
  idx n = L.g.cells();
  L.u = typed_data<float>(typed<float>(get(a, "u"), "u", n));
  L.f = typed_data<float>(typed<float>(get(a, "f"), "f", n));
  L.r = with_r ? typed_data<float>(typed<float>(get(a, "r"), "r", n)) : nullptr;
  L.mask = nullptr;
  return L;
}
}  // namespace

Napi::Value SmoothKernel(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    MgLevel L = level_of(a, false);
    CpuExec ex;
    rbgs(ex, L, (float)(get_number(a, "kappa", 0) * get_number(a, "kappa", 0)), (int)get_int(a, "sweeps", 1, 1, 1000));
    return info.Env().Undefined();
  });
}

Napi::Value ResidualKernel(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    MgLevel L = level_of(a, true);
    CpuExec ex;
    level_residual(ex, L, (float)(get_number(a, "kappa", 0) * get_number(a, "kappa", 0)));
    return info.Env().Undefined();
  });
}

}  // namespace sf
