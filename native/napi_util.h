// Small helpers at the JS boundary: typed-array access with exact messages,
// option getters, and output buffers handed to JS without a copy.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "../cuda/grid_k.h"
#include "errors.h"
#include "host_cache.h"

namespace sf {

inline Napi::Value get(const Napi::Object& o, const char* key) { return o.Has(key) ? o.Get(key) : o.Env().Undefined(); }

inline double get_number(const Napi::Object& o, const char* key, double def) {
  Napi::Value v = get(o, key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber()) fail("E_TYPE", std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) fail("E_NONFINITE", std::string(key) + " must be finite");
  return d;
}

// A number stored as fp32: finite and within the float range (E_RANGE names it otherwise).
inline float get_float(const Napi::Object& o, const char* key, double def) {
  double d = get_number(o, key, def);
  if (std::fabs(d) > 3.4028234663852886e38) fail("E_RANGE", std::string(key) + " = " + num(d) + " lies outside the float range");
  return (float)d;
}

inline long long get_int(const Napi::Object& o, const char* key, long long def, long long lo, long long hi) {
  double d = get_number(o, key, (double)def);
  if (d != std::floor(d)) fail("E_TYPE", std::string(key) + " must be an integer");
  if (d < (double)lo || d > (double)hi)
    fail("E_RANGE", std::string(key) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " + num(d) + ")");
  return (long long)d;
}

inline bool get_bool(const Napi::Object& o, const char* key, bool def) {
  Napi::Value v = get(o, key);
  if (v.IsUndefined()) return def;
  if (!v.IsBoolean()) fail("E_TYPE", std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::string get_string(const Napi::Object& o, const char* key, const std::string& def) {
  Napi::Value v = get(o, key);
  if (v.IsUndefined()) return def;
  if (!v.IsString()) fail("E_TYPE", std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

template <class T>
struct TypedName;
template <> struct TypedName<float> { static constexpr napi_typedarray_type type = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct TypedName<double> { static constexpr napi_typedarray_type type = napi_float64_array; static constexpr const char* name = "Float64Array"; };
template <> struct TypedName<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct TypedName<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static constexpr const char* name = "Uint8Array"; };

// A typed array of the exact kind T and, when expected >= 0, that length.
template <class T>
Napi::TypedArray typed(const Napi::Value& v, const char* name, long long expected) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != TypedName<T>::type)
    fail("E_TYPE", std::string(name) + " must be a " + TypedName<T>::name);
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  if (expected >= 0 && (long long)a.ElementLength() != expected)
    fail("E_SHAPE", std::string(name) + " must have length " + std::to_string(expected) + " (got " +
                        std::to_string(a.ElementLength()) + ")");
  return a;
}

// The first element of a typed array (null when empty or detached). Read
// through napi_get_typedarray_info, which also serves views of a
// SharedArrayBuffer.
template <class T>
T* typed_data(const Napi::TypedArray& a) {
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer;
  if (napi_get_typedarray_info(a.Env(), a, &type, &length, &data, &buffer, &offset) != napi_ok || length == 0)
    return nullptr;
  return static_cast<T*>(data);
}

// The first index in [0, n) whose value is not finite, or n. fp32 inputs
// are scanned in blocks by their bits (an infinity or NaN has every exponent
// bit set, so the block's largest |bits| reaches 0x7f800000), a reduction the
// compiler vectorises; only a block that fails is searched value by value.
template <class T>
idx first_nonfinite(const T* p, idx n) {
  idx i = 0;
  if constexpr (sizeof(T) == 4 && std::is_floating_point<T>::value) {
    constexpr idx kBlock = 4096;
    for (; i < n; i += kBlock) {
      idx e = std::min(n, i + kBlock);
      uint32_t top = 0;
      for (idx j = i; j < e; ++j) {
        uint32_t b;
        std::memcpy(&b, p + j, 4);
        b &= 0x7fffffffu;
        top = b > top ? b : top;
      }
      if (top >= 0x7f800000u) break;
    }
  }
  for (; i < n; ++i)
    if (!std::isfinite((double)p[i])) return i;
  return n;
}

// Scans an input off the main thread: E_NONFINITE names the argument and the
// first index that is not finite. (On the calling thread: the thread pool
// serves one call at a time, and a scan queued behind another call's solve
// would wait for it.)
template <class T>
void require_finite(const T* p, idx n, const char* name) {
  const idx bad = first_nonfinite(p, n);
  if (bad < n) fail("E_NONFINITE", std::string(name) + "[" + std::to_string(bad) + "] is not finite");
}

// Memory the worker fills and JS then owns (an external ArrayBuffer whose
// finalizer frees it; copied only where external buffers are refused).
template <class T>
class OutBuf {
 public:
  OutBuf() = default;
  OutBuf(const OutBuf&) = delete;
  ~OutBuf() { host_release(p_, bytes()); }
  T* alloc(idx n) {
    host_release(p_, bytes());
    p_ = nullptr;
    n_ = (size_t)n;
    p_ = static_cast<T*>(host_acquire(bytes()));
    return p_;
  }
  T* data() const { return p_; }
  size_t size() const { return n_; }
  Napi::TypedArray release(Napi::Env env) {
    Napi::ArrayBuffer ab;
    napi_value raw;
    // The finalizer returns the block to the host cache, so the next result
    // of the same size reuses memory that is already mapped.
    napi_status s = napi_create_external_arraybuffer(
        env, p_, n_ * sizeof(T), [](napi_env, void* d, void* hint) { host_release(d, (size_t)(uintptr_t)hint); },
        (void*)(uintptr_t)bytes(), &raw);
    if (s == napi_ok) {
      ab = Napi::ArrayBuffer(env, raw);
      p_ = nullptr;
    } else {
      ab = Napi::ArrayBuffer::New(env, n_ * sizeof(T));
      std::memcpy(ab.Data(), p_, n_ * sizeof(T));
    }
    return Napi::TypedArrayOf<T>::New(env, n_, ab, 0, TypedName<T>::type);
  }

 private:
  size_t bytes() const { return std::max<size_t>(n_, 1) * sizeof(T); }
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Memory a call may allocate beyond its inputs and outputs (scratch, copies):
// SEMFIELD_MAX_CALL_MB, default 16 GiB. Estimated before anything is
// allocated; past it the call fails with E_TOO_LARGE.
inline void check_budget(double bytes, const std::string& what) {
  double mb = 16384;
  if (const char* e = std::getenv("SEMFIELD_MAX_CALL_MB")) mb = std::atof(e);
  if (bytes > mb * 1048576.0)
    fail("E_TOO_LARGE", what + " would need about " + std::to_string((long long)(bytes / 1048576.0)) +
                            " MiB of working memory; the limit is " + std::to_string((long long)mb) +
                            " MiB (SEMFIELD_MAX_CALL_MB)");
}

// The grid as lib/ normalises it: {n: [nx, ny, nz], h, bc: [..], dim}.
inline Grid parse_grid(const Napi::Value& v) {
  if (!v.IsObject()) fail("E_TYPE", "grid must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Grid g{};
  g.dim = (int)get_int(o, "dim", 2, 2, 3);
  Napi::Value n = get(o, "n"), bc = get(o, "bc");
  if (!n.IsArray() || n.As<Napi::Array>().Length() != (uint32_t)g.dim) fail("E_SHAPE", "grid.n must list one size per axis");
  if (!bc.IsArray() || bc.As<Napi::Array>().Length() != (uint32_t)g.dim) fail("E_SHAPE", "grid.bc must list one boundary per axis");
  for (int a = 0; a < 3; ++a) {
    g.n[a] = 1;
    g.bc[a] = BC_PERIODIC;
  }
  idx cells = 1;
  for (int a = 0; a < g.dim; ++a) {
    Napi::Value x = n.As<Napi::Array>().Get((uint32_t)a), b = bc.As<Napi::Array>().Get((uint32_t)a);
    if (!x.IsNumber() || !b.IsNumber()) fail("E_TYPE", "grid.n and grid.bc must hold numbers");
    double nx = x.As<Napi::Number>().DoubleValue(), bb = b.As<Napi::Number>().DoubleValue();
    if (!(nx >= 2 && nx <= 65536 && nx == std::floor(nx))) fail("E_RANGE", "grid.n[" + std::to_string(a) + "] must be an integer in [2, 65536]");
    if (!(bb == 0 || bb == 1 || bb == 2)) fail("E_RANGE", "grid.bc[" + std::to_string(a) + "] must be 0, 1 or 2");
    g.n[a] = (int)nx;
    g.bc[a] = (int)bb;
    cells *= (idx)nx;
  }
  if (cells > ((idx)1 << 30)) fail("E_TOO_LARGE", "grid has " + std::to_string(cells) + " cells; the limit is 2^30");
  g.h = get_number(o, "h", 1.0);
  if (!(g.h > 0)) fail("E_RANGE", "grid.h must be > 0");
  return g;
}

}  // namespace sf
