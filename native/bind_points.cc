// Bindings of the points operations (kernel sums, set comparisons).
#include <cmath>

#include "backend.h"
#include "bindings.h"
#include "target_arg.h"
#include "dispatch.h"
#include "worker.h"

namespace sf {

namespace {

// The kind of a kernel by its name: the real kernels of cuda/pairs_k.h,
// helmholtz where a complex kernel is allowed, dot where attention asks.
int kernel_kind(const std::string& name, bool complex_ok, bool dot_ok) {
#define SF_KERNEL_NAME(e, n, pos, pd, eps) \
  if (name == n) return e;
  SF_REAL_KERNELS(SF_KERNEL_NAME)
#undef SF_KERNEL_NAME
  if (complex_ok && name == "helmholtz") return K_HELMHOLTZ;
  if (dot_ok && name == "dot") return A_DOT;
  fail("E_RANGE", "kernel.kind '" + name + "' is not a kernel this operation takes");
}

bool kernel_needs_eps(int kind) {
  switch (kind) {
#define SF_KERNEL_EPS(e, n, pos, pd, eps) \
  case e:                                 \
    return eps;
    SF_REAL_KERNELS(SF_KERNEL_EPS)
#undef SF_KERNEL_EPS
    case K_HELMHOLTZ: return true;
    default: return false;
  }
}

// {kind, eps, kappa, sigma, length, kre, kim} as lib/points.ts normalises it.
KernelSpec parse_kernel(const Napi::Value& v, bool complex_ok = true, bool dot_ok = false) {
  if (!v.IsObject()) fail("E_TYPE", "kernel must be an object");
  Napi::Object o = v.As<Napi::Object>();
  KernelSpec k{};
  k.kind = kernel_kind(get_string(o, "kind", ""), complex_ok, dot_ok);
  double eps = get_number(o, "eps", 0), kappa = get_number(o, "kappa", 0), sigma = get_number(o, "sigma", 1),
         length = get_number(o, "length", 1);
  if (eps < 0) fail("E_RANGE", "kernel.eps must be >= 0");
  if (kappa < 0) fail("E_RANGE", "kernel.kappa must be >= 0");
  if (!(sigma > 0)) fail("E_RANGE", "kernel.sigma must be > 0");
  if (!(length > 0)) fail("E_RANGE", "kernel.length must be > 0");
  k.eps2 = (float)(eps * eps);
  k.kappa = (float)kappa;
  k.inv2s2 = (float)(1.0 / (2.0 * sigma * sigma));
  k.inv_l = (float)(1.0 / length);
  k.kre = get_number(o, "kre", 0);
  k.kim = get_number(o, "kim", 0);
  if (k.kim < 0) fail("E_RANGE", "kernel k must have Im k >= 0");
  if (kernel_needs_eps(k.kind) && eps == 0)
    fail("E_RANGE", "kernel.eps must be > 0 for coulomb, yukawa and helmholtz (their value at r = 0 is infinite)");
  // Parameters whose fp32 form overflows or vanishes would give inf or NaN.
  if (!std::isfinite(k.eps2) || !std::isfinite(k.kappa) || !std::isfinite(k.inv2s2) || !std::isfinite(k.inv_l) ||
      (eps > 0 && k.eps2 == 0) || k.inv2s2 == 0 || k.inv_l == 0)
    fail("E_RANGE", "kernel parameters must be within the fp32 range (eps^2, kappa, 1 / (2 sigma^2), 1 / length)");
  return k;
}

// A result that overflowed (inputs near the float range) is an error, never
// an inf or NaN handed back.
template <class T>
void require_finite_result(const T* x, idx n, const char* what, const char* inputs) {
  for (idx i = 0; i < n; ++i)
    if (!std::isfinite((double)x[i]))
      fail("E_RANGE", std::string(what) + " overflows the floating-point range at entry " + std::to_string(i) + ": " +
                          inputs + " too large (scale them down)");
}

idx rows_of(const Napi::Object& a, const char* key, int d) {
  Napi::TypedArray t = typed<float>(get(a, key), key, -1);
  if (t.ElementLength() == 0) fail("E_SHAPE", std::string(key) + " must not be empty");
  if (t.ElementLength() % d != 0)
    fail("E_SHAPE", std::string(key) + " length " + std::to_string(t.ElementLength()) + " is not a multiple of d = " + std::to_string(d));
  return (idx)(t.ElementLength() / d);
}

// Offsets [S + 1] of S non-empty sets covering all n points.
int sets_of(const int32_t* off, long long len, idx n, const char* name) {
  if (len < 2) fail("E_SHAPE", std::string(name) + " must hold at least 2 entries (one set)");
  if (off[0] != 0) fail("E_SHAPE", std::string(name) + "[0] must be 0");
  for (long long s = 0; s + 1 < len; ++s)
    if (off[s + 1] <= off[s]) fail("E_SHAPE", std::string(name) + " must increase strictly (set " + std::to_string(s) + " is empty or negative)");
  if (off[len - 1] != n)
    fail("E_SHAPE", std::string(name) + " must end at the number of points " + std::to_string(n) + " (got " + std::to_string(off[len - 1]) + ")");
  return (int)(len - 1);
}

// { d, kernel, sources, targets, weights } of a kernel sum or gradient; with
// self, no targets: the sources are the targets.
template <class J>
void parse_pairs(Inputs& in, J& k, bool complex_ok, bool self = false) {
  const Napi::Object& a = in.args;
  k.d = (int)get_int(a, "d", 0, 1, 65536);
  k.k = parse_kernel(get(a, "kernel"), complex_ok);
  k.m = rows_of(a, "sources", k.d);
  k.src = in.input<float>("sources", k.m * k.d);
  if (self) {
    if (!get(a, "targets").IsUndefined()) fail("E_TYPE", "targets are absent with self: true (the sources are the targets)");
    k.n = k.m;
    k.tgt = k.src;
  } else {
    k.n = rows_of(a, "targets", k.d);
    k.tgt = in.input<float>("targets", k.n * k.d);
  }
  k.w = in.input<float>("weights", k.m, true);
}

template <class J>
void require_finite_pairs(const J& k) {
  require_finite(k.src, k.m * k.d, "sources");
  require_finite(k.tgt, k.n * k.d, "targets");
  if (k.w) require_finite(k.w, k.m, "weights");
}

class KernelSumWorker : public ArrayWorker<Call<KernelSumJob>, double> {
 public:
  using Job = Call<KernelSumJob>;

  static Job parse(Inputs& in) {
    Job j;
    KernelSumJob& k = j.job;
    parse_pairs(in, k, true);
    check_budget(((double)k.m + k.n) * (k.d + 2) * 4 + (double)k.n * 16, "potential");  // centred copies
    j.target = target_of(in.args);
    return j;
  }

  KernelSumWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.kernelSum") {}

 protected:
  void Run() override {
    KernelSumJob& k = j_.job;
    require_finite_pairs(k);
    k.out = out_.alloc(k.k.kind == K_HELMHOLTZ ? 2 * k.n : k.n);
    k.cancel = cancel_;
    run_on(j_.target, k, cpu::kernel_sum, cuda::kernel_sum);
    require_finite_result(k.out, k.k.kind == K_HELMHOLTZ ? 2 * k.n : k.n, "the potential", "sources, targets or weights are");
  }
};

// Gradient sums: the same arguments as kernelSum (real kernels), [n, d] out.
class KernelGradWorker : public ArrayWorker<Call<KernelGradJob>, double> {
 public:
  using Job = Call<KernelGradJob>;

  static Job parse(Inputs& in) {
    Job j;
    KernelGradJob& k = j.job;
    k.self = get_bool(in.args, "self", false);
    parse_pairs(in, k, false, k.self);
    check_budget(((double)k.m + k.n) * (k.d + 2) * 8 + (double)k.n * k.d * 12, "gradient");
    j.target = target_of(in.args);
    return j;
  }

  KernelGradWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.kernelGrad") {}

 protected:
  void Run() override {
    KernelGradJob& k = j_.job;
    require_finite_pairs(k);
    k.out = out_.alloc(k.n * k.d);
    k.cancel = cancel_;
    run_on(j_.target, k, cpu::kernel_grad, cuda::kernel_grad);
    require_finite_result(k.out, k.n * k.d, "the gradient", "sources, targets or weights are");
  }
};

class SetMatrixWorker : public Worker {
 public:
  struct Job {
    SetMatrixJob job;
    Target target;
    idx points = 0, qpoints = 0;
  };

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    SetMatrixJob& m = j.job;
    m.d = (int)get_int(a, "d", 0, 1, 65536);
    m.metric = (int)get_int(a, "metric", 0, 0, 2);
    m.k = parse_kernel(get(a, "kernel"), false);
    j.points = rows_of(a, "x", m.d);
    m.x = in.input<float>("x", j.points * m.d);
    long long olen = typed<int32_t>(get(a, "offsets"), "offsets", -1).ElementLength();
    m.off = in.input<int32_t>("offsets", olen);
    m.sets = sets_of(m.off, olen, j.points, "offsets");
    m.w = in.input<float>("weights", j.points, true);
    if (!get(a, "qx").IsUndefined()) {
      j.qpoints = rows_of(a, "qx", m.d);
      m.qx = in.input<float>("qx", j.qpoints * m.d);
      long long qlen = typed<int32_t>(get(a, "qoffsets"), "qoffsets", -1).ElementLength();
      m.qoff = in.input<int32_t>("qoffsets", qlen);
      m.qsets = sets_of(m.qoff, qlen, j.qpoints, "qoffsets");
      m.qw = in.input<float>("qweights", j.qpoints, true);
    }
    idx rows = m.qx ? m.qsets : m.sets;
    if ((double)rows * (double)m.sets > 1e9) fail("E_TOO_LARGE", "the result would have more than 1e9 entries");
    check_budget(((double)j.points + j.qpoints) * (m.d + 2) * 8 + (double)rows * m.sets * 24, "distanceMatrix");
    j.target = target_of(a);
    return j;
  }

  SetMatrixWorker(Inputs& in, Job j) : Worker(in, "semfield.setMatrix"), j_(std::move(j)) {}

 protected:
  void Run() override {
    SetMatrixJob& m = j_.job;
    require_finite(m.x, j_.points * m.d, "x");
    if (m.w) require_nonnegative(m.w, j_.points, "weights");
    if (m.qx) {
      require_finite(m.qx, j_.qpoints * m.d, "query points");
      if (m.qw) require_nonnegative(m.qw, j_.qpoints, "query weights");
    }
    idx rows = m.qx ? m.qsets : m.sets;
    m.out = out_.alloc(rows * m.sets);
    m.cancel = cancel_;
    if (wants_progress()) m.progress = [this](int done, int total) { report(0, done, (double)total); };
    run_on(j_.target, m, cpu::set_matrix, cuda::set_matrix);
    require_finite_result(m.out, rows * m.sets, "the distance matrix", "the points are");
  }
  Napi::Value Result(Napi::Env env) override { return out_.release(env); }

 private:
  static void require_nonnegative(const float* w, idx n, const char* name) {
    require_finite(w, n, name);
    for (idx i = 0; i < n; ++i)
      if (w[i] < 0) fail("E_RANGE", std::string(name) + "[" + std::to_string(i) + "] is negative");
  }
  Job j_;
  OutBuf<double> out_;
};

// The attention arguments both directions share.
void parse_attention(Inputs& in, AttentionJob& t) {
    const Napi::Object& a = in.args;
    t.batch = (int)get_int(a, "batch", 1, 1, 1 << 20);
    t.heads = (int)get_int(a, "heads", 1, 1, 1 << 16);
    t.d = (int)get_int(a, "d", 0, 1, 65536);
    t.k = parse_kernel(get(a, "kernel"), false, true);
    t.kind = t.k.kind;
    t.beta = get_float(a, "beta", 1.0);
    if (!std::isfinite(t.beta)) fail("E_RANGE", "beta must be finite in fp32");
    const int causal = (int)get_int(a, "causal", 0, 0, 2);  // 0 none, 1 bottom-right, 2 top-left
    t.causal = causal > 0;
    t.top_left = causal == 2;
    const double bh = (double)t.batch * t.heads;
    Napi::TypedArray q = typed<float>(get(a, "q"), "q", -1), kk = typed<float>(get(a, "k"), "k", -1),
                     vv = typed<float>(get(a, "v"), "v", -1);
    auto per = [&](const Napi::TypedArray& x, double unit, const char* name) {
      double rows = (double)x.ElementLength() / (bh * unit);
      if (x.ElementLength() == 0 || rows != std::floor(rows))
        fail("E_SHAPE", std::string(name) + " length " + std::to_string(x.ElementLength()) + " is not batch * heads * rows * " +
                            std::to_string((long long)unit));
      return (idx)rows;
    };
    t.n = per(q, t.d, "q");
    t.m = per(kk, t.d, "k");
    double dv = (double)vv.ElementLength() / (bh * (double)t.m);
    if (dv != std::floor(dv) || dv < 1) fail("E_SHAPE", "v length must be batch * heads * m * dv");
    if (dv > 65536) fail("E_TOO_LARGE", "v has " + num(dv) + " values per key; the limit is 65536");
    t.dv = (int)dv;
    if (t.causal && !t.top_left && t.m < t.n) fail("E_SHAPE", "bottom-right causal attention needs m >= n keys");
    t.q = in.input<float>("q", (idx)(bh * t.n * t.d));
    t.key = in.input<float>("k", (idx)(bh * t.m * t.d));
    t.v = in.input<float>("v", (idx)(bh * t.m * t.dv));
    t.mask = in.input<uint8_t>("mask", (idx)t.batch * t.m, true);
    t.bias = in.input<float>("bias", (idx)(bh * t.m), true);
}

void require_finite_attention(const AttentionJob& t) {
  size_t bh = (size_t)t.batch * t.heads;
  require_finite(t.q, (idx)(bh * t.n * t.d), "q");
  require_finite(t.key, (idx)(bh * t.m * t.d), "k");
  require_finite(t.v, (idx)(bh * t.m * t.dv), "v");
  if (t.bias) require_finite(t.bias, (idx)(bh * t.m), "bias");
}

class AttentionWorker : public ArrayWorker<Call<AttentionJob>, float> {
 public:
  using Job = Call<AttentionJob>;

  static Job parse(Inputs& in) {
    Job j;
    AttentionJob& t = j.job;
    parse_attention(in, t);
    // Per head in flight (one per thread at most): packed keys, values, queries.
    check_budget(((double)t.m * (t.d + t.dv + 2) + (double)t.n * (t.d + 1)) * 4 * 16, "attention");
    j.target = target_of(in.args);
    return j;
  }

  AttentionWorker(Inputs& in, Job j)
      : ArrayWorker(in, std::move(j), "semfield.attention"), lse_wanted_(get_bool(in.args, "returnLse", false)) {}

 protected:
  void Run() override {
    AttentionJob& t = j_.job;
    size_t bh = (size_t)t.batch * t.heads;
    require_finite_attention(t);
    t.out = out_.alloc((idx)(bh * t.n * t.dv));
    if (lse_wanted_) t.lse = lse_.alloc((idx)(bh * t.n));
    t.cancel = cancel_;
    run_on(j_.target, t, cpu::attention, cuda::attention);
    require_finite_result(t.out, (idx)(bh * t.n * t.dv), "the attention output", "V is");
  }
  // With returnLse: { out, lse }, the log-sum-exp of each query's logits
  // (-Infinity for a query that sees no key), for attentionGrad.
  Napi::Value Result(Napi::Env env) override {
    if (!lse_wanted_) return out_.release(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("out", out_.release(env));
    o.Set("lse", lse_.release(env));
    return o;
  }

 private:
  bool lse_wanted_ = false;
  OutBuf<float> lse_;
};

// attentionGrad: the attention arguments and dout; { dQ, dK, dV, dParam }.
class AttentionGradWorker : public Worker {
 public:
  using Job = Call<AttentionGradJob>;

  static Job parse(Inputs& in) {
    Job j;
    AttentionGradJob& g = j.job;
    parse_attention(in, g.a);
    const AttentionJob& t = g.a;
    const idx bh = (idx)t.batch * t.heads;
    g.dout = in.input<float>("dout", bh * t.n * t.dv);
    // The forward's output and log-sum-exp, when the caller saved them.
    g.fwd_out = in.input<float>("out", bh * t.n * t.dv, true);
    g.fwd_lse = in.input<float>("lse", bh * t.n, true);
    if (!g.fwd_out != !g.fwd_lse) fail("E_TYPE", "out and lse are given together");
    // The forward pass's output and statistics, the scratch of both passes.
    check_budget(((double)t.m * (t.d + t.dv) * 3 + (double)t.n * (t.d + t.dv) * 3) * 4 * (double)bh, "attentionGrad");
    j.target = target_of(in.args);
    return j;
  }

  AttentionGradWorker(Inputs& in, Job j) : Worker(in, "semfield.attentionGrad"), j_(std::move(j)) {}

 protected:
  void Run() override {
    AttentionGradJob& g = j_.job;
    const AttentionJob& t = g.a;
    const idx bh = (idx)t.batch * t.heads;
    require_finite_attention(t);
    require_finite(g.dout, bh * t.n * t.dv, "dout");
    if (g.fwd_out) {
      require_finite(g.fwd_out, bh * t.n * t.dv, "out");
      for (idx i = 0; i < bh * t.n; ++i)  // -inf: a query that sees no key
        if (std::isnan(g.fwd_lse[i]) || g.fwd_lse[i] == INFINITY) fail("E_NONFINITE", "lse[" + std::to_string(i) + "] is not finite");
    }
    g.a.cancel = cancel_;
    g.dq = dq_.alloc(bh * t.n * t.d);
    g.dk = dk_.alloc(bh * t.m * t.d);
    g.dv = dv_.alloc(bh * t.m * t.dv);
    g.dparam = dp_.alloc(bh);
    run_on(j_.target, g, cpu::attention_grad, cuda::attention_grad);
    require_finite_result(g.dq, bh * t.n * t.d, "dQ", "q, k, v or dout are");
    require_finite_result(g.dk, bh * t.m * t.d, "dK", "q, k, v or dout are");
    require_finite_result(g.dv, bh * t.m * t.dv, "dV", "v or dout are");
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("dQ", dq_.release(env));
    o.Set("dK", dk_.release(env));
    o.Set("dV", dv_.release(env));
    o.Set("dParam", dp_.release(env));
    return o;
  }

 private:
  Job j_;
  OutBuf<float> dq_, dk_, dv_;
  OutBuf<double> dp_;
};

class ResonanceWorker : public ArrayWorker<Call<ResonanceJob>, double> {
 public:
  using Job = Call<ResonanceJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    ResonanceJob& r = j.job;
    r.d = (int)get_int(a, "d", 0, 1, 65536);
    r.na = rows_of(a, "a", r.d);
    r.nb = rows_of(a, "b", r.d);
    r.a = in.input<float>("a", r.na * r.d);
    r.b = in.input<float>("b", r.nb * r.d);
    r.wa = in.input<float>("wa", r.na, true);
    r.wb = in.input<float>("wb", r.nb, true);
    long long nw = typed<double>(get(a, "w"), "w", -1).ElementLength();
    if (nw < 1 || nw > 1000000) fail("E_SHAPE", "w must hold 1 to 1e6 frequencies");
    r.nw = (int)nw;
    r.w = in.input<double>("w", nw);
    r.g = get_number(a, "g", 0);
    r.kappa = get_number(a, "kappa", 0);
    r.c = get_number(a, "c", 1);
    r.eps = get_number(a, "eps", 1e-3);
    if (r.g < 0) fail("E_RANGE", "g must be >= 0");
    if (r.kappa < 0) fail("E_RANGE", "kappa must be >= 0");
    if (!(r.c > 0)) fail("E_RANGE", "c must be > 0");
    if (!(r.eps > 0)) fail("E_RANGE", "eps must be > 0");
    check_budget(((double)r.na + r.nb) * (r.d + 2) * 4 + (double)(r.na / 4 + 1) * r.nw * 16, "resonance");
    j.target = target_of(a);
    return j;
  }

  ResonanceWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.resonance") {}

 protected:
  void Run() override {
    ResonanceJob& r = j_.job;
    require_finite(r.a, r.na * r.d, "a");
    require_finite(r.b, r.nb * r.d, "b");
    if (r.wa) require_finite(r.wa, r.na, "wa");
    if (r.wb) require_finite(r.wb, r.nb, "wb");
    require_finite(r.w, r.nw, "w");
    r.out = out_.alloc(2 * (idx)r.nw);
    r.cancel = cancel_;
    run_on(j_.target, r, cpu::resonance, cuda::resonance);
    require_finite_result(r.out, 2 * (idx)r.nw, "the resonance spectrum", "the weights are");
  }
};

class MeanShiftWorker : public Worker {
 public:
  using Job = Call<MeanShiftJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    MeanShiftJob& m = j.job;
    m.d = (int)get_int(a, "d", 0, 1, 65536);
    m.n = rows_of(a, "x", m.d);
    m.x = in.input<float>("x", m.n * m.d);
    m.w = in.input<float>("weights", m.n, true);
    m.flat = get_string(a, "kernel", "gaussian") == "flat";
    m.bandwidth = get_number(a, "bandwidth", 1);
    if (!(m.bandwidth > 0)) fail("E_RANGE", "bandwidth must be > 0");
    m.tol = get_number(a, "tol", 1e-3);
    if (!(m.tol > 0)) fail("E_RANGE", "tol must be > 0");
    m.merge = get_number(a, "merge", m.bandwidth);
    if (m.merge < 0) fail("E_RANGE", "merge must be >= 0");
    m.max_iter = (int)get_int(a, "maxIter", 300, 1, 100000);
    check_budget((double)m.n * (m.d + 2) * 4 * 2 + (double)m.n * m.d * 8 * 4, "condense");
    j.target = target_of(a);
    return j;
  }

  MeanShiftWorker(Inputs& in, Job j) : Worker(in, "semfield.meanShift"), j_(std::move(j)) {}

 protected:
  void Run() override {
    MeanShiftJob& m = j_.job;
    require_finite(m.x, m.n * m.d, "x");
    if (m.w) {
      require_finite(m.w, m.n, "weights");
      double total = 0;
      for (idx i = 0; i < m.n; ++i) {
        if (m.w[i] < 0) fail("E_RANGE", "weights[" + std::to_string(i) + "] is negative");
        total += m.w[i];
      }
      if (!(total > 0)) fail("E_RANGE", "weights must have a positive total");
    }
    m.labels = labels_.alloc(m.n);
    m.cancel = cancel_;
    if (wants_progress()) m.progress = [this](int it, double moving) { report(0, it, moving); };
    run_on(j_.target, m, cpu::mean_shift, cuda::mean_shift);
  }
  Napi::Value Result(Napi::Env env) override {
    const MeanShiftJob& m = j_.job;
    auto f64 = [&](const std::vector<double>& v) {
      Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
      std::copy(v.begin(), v.end(), a.Data());
      return a;
    };
    Napi::Object o = Napi::Object::New(env);
    o.Set("centers", f64(m.centers));
    o.Set("intensity", f64(m.intensity));
    o.Set("mass", f64(m.mass));
    o.Set("potential", f64(m.potential));
    o.Set("labels", labels_.release(env));
    o.Set("iterations", m.iterations);
    return o;
  }

 private:
  Job j_;
  OutBuf<int32_t> labels_;
};

class InduceWorker : public Worker {
 public:
  using Job = Call<InduceJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    InduceJob& t = j.job;
    t.d = (int)get_int(a, "d", 0, 1, 65536);
    t.n = rows_of(a, "x", t.d);
    t.x = in.input<float>("x", t.n * t.d);
    t.k = parse_kernel(get(a, "kernel"), false);
    if (t.k.kind == K_ENERGY) fail("E_RANGE", "induce needs a kernel of positive weights (not energy)");
    long long nl = typed<int32_t>(get(a, "labeled"), "labeled", -1).ElementLength();
    if (nl < 1) fail("E_SHAPE", "labeled must hold at least one point");
    t.nl = nl;
    t.labeled = in.input<int32_t>("labeled", nl);
    long long nv = typed<float>(get(a, "values"), "values", -1).ElementLength();
    if (nv % nl != 0 || nv == 0) fail("E_SHAPE", "values must be [labeled, channels]");
    if (nv / nl > 4096) fail("E_TOO_LARGE", "values has " + std::to_string(nv / nl) + " channels; the limit is 4096");
    t.channels = (int)(nv / nl);
    t.values = in.input<float>("values", nv);
    t.knn = (int)get_int(a, "knn", 0, 0, 100000);
    t.tol = get_number(a, "tol", 1e-8);
    if (!(t.tol > 0 && t.tol < 1)) fail("E_RANGE", "tol must be in (0, 1)");
    t.max_iter = (int)get_int(a, "maxIter", 1000, 1, 1000000);
    check_budget((double)t.n * (t.d + 2) * 4 * 3 + (double)t.n * t.channels * 8 * 8 + (double)t.n * t.knn * 48, "induce");
    j.target = target_of(a);
    return j;
  }

  InduceWorker(Inputs& in, Job j) : Worker(in, "semfield.induce"), j_(std::move(j)) {}

 protected:
  void Run() override {
    InduceJob& t = j_.job;
    require_finite(t.x, t.n * t.d, "x");
    require_finite(t.values, t.nl * t.channels, "values");
    std::vector<char> seen((size_t)t.n, 0);
    for (idx l = 0; l < t.nl; ++l) {
      int32_t i = t.labeled[l];
      if (i < 0 || i >= t.n) fail("E_RANGE", "labeled[" + std::to_string(l) + "] = " + std::to_string(i) + " is not a point index");
      if (seen[(size_t)i]++) fail("E_RANGE", "labeled[" + std::to_string(l) + "] repeats point " + std::to_string(i));
    }
    t.out = out_.alloc(t.n * t.channels);
    t.cancel = cancel_;
    if (wants_progress()) t.progress = [this](int it, double res) { report(0, it, res); };
    run_on(j_.target, t, cpu::induce, cuda::induce);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("values", out_.release(env));
    o.Set("iterations", j_.job.iterations);
    o.Set("residual", j_.job.residual);
    o.Set("converged", j_.job.converged);
    return o;
  }

 private:
  Job j_;
  OutBuf<float> out_;
};

}  // namespace

Napi::Value Induce(const Napi::CallbackInfo& info) { return launch<InduceWorker>(info); }
Napi::Value MeanShift(const Napi::CallbackInfo& info) { return launch<MeanShiftWorker>(info); }
Napi::Value Resonance(const Napi::CallbackInfo& info) { return launch<ResonanceWorker>(info); }
Napi::Value Attention(const Napi::CallbackInfo& info) { return launch<AttentionWorker>(info); }
Napi::Value AttentionGrad(const Napi::CallbackInfo& info) { return launch<AttentionGradWorker>(info); }
Napi::Value KernelSum(const Napi::CallbackInfo& info) { return launch<KernelSumWorker>(info); }
Napi::Value KernelGrad(const Napi::CallbackInfo& info) { return launch<KernelGradWorker>(info); }
Napi::Value SetMatrix(const Napi::CallbackInfo& info) { return launch<SetMatrixWorker>(info); }

}  // namespace sf
