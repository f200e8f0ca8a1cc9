// device.info() and the synchronous kernels the benchmarks time (a STREAM
// triad and single multigrid kernels on caller-owned arrays).
#include <cstdlib>  // defines __GLIBC__
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "../cuda/triad_k.h"
#include "algo/multigrid.h"
#include <chrono>
#include <vector>

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
    const DeviceSet& ds = cuda_devices();
    const cuda::DeviceList& d = ds.all;
    Napi::Object o = Napi::Object::New(env);
    Napi::Array built = Napi::Array::New(env);
    built.Set(0u, "cpu");
    if (d.built) built.Set(1u, "cuda");
    o.Set("built", built);
    Napi::Array devs = Napi::Array::New(env, ds.usable.size());
    for (size_t k = 0; k < ds.usable.size(); ++k) {
      size_t i = (size_t)ds.usable[k];
      Napi::Object x = Napi::Object::New(env);
      x.Set("index", (double)i);
      x.Set("name", d.names[i]);
      x.Set("memoryGiB", d.memory_gib[i]);
      x.Set("computeCapability", d.compute_capability[i] / 10.0);
      x.Set("multiprocessors", d.multiprocessors[i]);
      x.Set("peakGflops", d.peak_gflops[i]);
      x.Set("busGBs", d.bus_gbs[i]);
      std::string why;
      bool lost = device_health().lost((int)i, &why);
      x.Set("usable", !lost);
      x.Set("lost", why);
      devs.Set((uint32_t)k, x);
    }
    o.Set("cudaDevices", devs);
    o.Set("cudaRuntime", d.runtime_version);
    o.Set("cudaNote", ds.note);
    o.Set("backendEnv", env_backend());
    o.Set("threads", ThreadPool::instance().size());
    o.Set("auto", backend_name(resolve_target("auto", -1).backend));
    std::string dflt;
    try {
      dflt = backend_name(resolve_target("", -1).backend);
    } catch (const Error&) {
      dflt = env_backend();  // SEMFIELD_BACKEND names a backend no call can get: calls say why
    }
    o.Set("default", dflt);
    Napi::Object c = cpu_of(env);
    o.Set("isa", c.Get("isa"));
    o.Set("cpuFeatures", c.Get("features"));
    return o;
  });
}

// The host scratch kept between calls (host_cache.h), and its release.
Napi::Value Scratch(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    HostCacheState st = host_cache_state();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("heldBytes", (double)st.held);
    o.Set("capBytes", (double)st.cap);
    o.Set("blocks", (double)st.blocks);
    return o;
  });
}

Napi::Value ReleaseScratch(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::Number::New(info.Env(), (double)host_cache_release()); });
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

// Testing hook: {kind: 'oom' | 'launch' | 'system' | 'sticky' | 'none', after: n}.
Napi::Value SetFault(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    std::string kind = get_string(a, "kind", "none");
    long after = (long)get_int(a, "after", 0, 0, 1L << 40);
    if (kind == "oom") arm_fault(FAULT_OOM, after);
    else if (kind == "launch") arm_fault(FAULT_LAUNCH, after);
    else if (kind == "system") arm_fault(FAULT_SYSTEM, after);
    else if (kind == "sticky") arm_fault(FAULT_STICKY, after);
    else if (kind == "none") arm_fault(FAULT_NONE, 0);
    else fail("E_RANGE", "kind must be 'oom', 'launch', 'system', 'sticky' or 'none'");
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
    Target t = resolve_target(get_string(a, "backend", "cpu"), -1);
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
// The inner kernel of a single-precision GEMM: a block of C of R rows and
// two vectors of columns held in registers (R = 12 with AVX-512's 32
// registers, 6 otherwise, as BLIS's kernels do), updated by rank-1 products
// of panels of A and B that stay in L1. Its rate is what an SGEMM can reach
// on these cores: the "SGEMM-like peak" the bench reports fractions of.
#if defined(__AVX512F__)
constexpr int kLanes = 16, kRows = 12;
#elif defined(__AVX__)
constexpr int kLanes = 8, kRows = 6;
#else
constexpr int kLanes = 4, kRows = 6;
#endif
typedef float vfloat __attribute__((vector_size(kLanes * sizeof(float))));
constexpr int kPanel = 256;
__attribute__((noinline)) double gemm_micro(const float* __restrict A, const vfloat* __restrict B, float* __restrict C, int reps) {
  vfloat c[kRows][2];
  for (int i = 0; i < kRows; ++i) c[i][0] = c[i][1] = vfloat{} ;
  for (int r = 0; r < reps; ++r)
    for (int k = 0; k < kPanel; ++k) {
      const vfloat b0 = B[2 * k], b1 = B[2 * k + 1];
      const float* a = A + k * kRows;
#pragma GCC unroll 12
      for (int i = 0; i < kRows; ++i) {
        c[i][0] += a[i] * b0;
        c[i][1] += a[i] * b1;
      }
    }
  for (int i = 0; i < kRows; ++i)
    for (int j = 0; j < kLanes; ++j) C[i * 2 * kLanes + j] = c[i][0][j] + c[i][1][j];
  return 2.0 * kRows * 2 * kLanes * kPanel * (double)reps;
}
}  // namespace

// {seconds}: GFLOP/s of gemm_micro on every thread of the pool at once.
Napi::Value GemmPeak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    const double seconds = get_number(a, "seconds", 0.5);
    if (!(seconds > 0 && seconds <= 60)) fail("E_RANGE", "seconds must be in (0, 60]");
    ThreadPool& pool = ThreadPool::instance();
    const int nt = pool.size();
    std::vector<double> flops((size_t)nt, 0.0);
    const auto t0 = std::chrono::steady_clock::now();
    pool.run(nt, [&](int t) {
      std::vector<float> A(kPanel * kRows), C(kRows * 2 * kLanes);
      std::vector<vfloat> B(kPanel * 2);
      for (int i = 0; i < kPanel * kRows; ++i) A[(size_t)i] = 1e-3f * (float)((i * 7 + t) % 13);
      for (int i = 0; i < kPanel * 2; ++i)
        for (int j = 0; j < kLanes; ++j) B[(size_t)i][j] = 1e-3f * (float)((i * 5 + j + t) % 11);
      double f = 0;
      while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds)
        f += gemm_micro(A.data(), B.data(), C.data(), 64);
      flops[(size_t)t] = f + C[0] * 0;  // C is read: the kernel is not dead code
    });
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double total = 0;
    for (double f : flops) total += f;
    return Napi::Number::New(info.Env(), total / dt / 1e9);
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
