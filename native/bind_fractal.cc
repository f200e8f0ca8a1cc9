// Bindings of the fractal operations: IFS unfold and chaos game, fractal
// tokens, dimension counts and the fractal codec.
#include <cmath>

#include "backend.h"
#include "bindings.h"
#include "target_arg.h"
#include "dispatch.h"
#include "fractal/codec.h"
#include "fractal/dimension.h"
#include "fractal/ifs_check.h"
#include "worker.h"

namespace sf {

namespace {

// Outputs past this many floats are refused (4 GiB of fp32).
constexpr double kMaxOutputFloats = (double)((idx)1 << 30);

// The maps of an IFS: A [m, dd, dd], b [m, dd]; checked contractive.
template <class J>
void parse_maps(Inputs& in, J& job) {
  const Napi::Object& a = in.args;
  job.dd = (int)get_int(a, "dd", 2, 1, kIfsMaxDim);
  job.m = (int)get_int(a, "m", 1, 1, kIfsMaxMaps);
  job.A = in.input<float>("A", (long long)job.m * job.dd * job.dd);
  job.b = in.input<float>("b", (long long)job.m * job.dd);
  require_finite(job.A, (idx)job.m * job.dd * job.dd, "A");
  require_finite(job.b, (idx)job.m * job.dd, "b");
  fractal::check_contractive(job.A, job.m, job.dd);
}

class UnfoldWorker : public ArrayWorker<Call<IfsJob>, float> {
 public:
  using Job = Call<IfsJob>;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    IfsJob& f = j.job;
    parse_maps(in, f);
    f.depth = (int)get_int(a, "depth", 1, 0, 64);
    double n = std::pow((double)f.m, f.depth);
    if (n * f.dd > kMaxOutputFloats)
      fail("E_TOO_LARGE", "unfold would make " + std::to_string(n) + " points (m^depth); the limit is " +
                              std::to_string((long long)(kMaxOutputFloats / f.dd)) + " for dd = " + std::to_string(f.dd));
    f.n = (idx)n;
    check_budget((double)f.n * f.dd * 4 / f.m, "unfold");
    const float* s = in.input<float>("start", f.dd, true);
    if (s) {
      require_finite(s, f.dd, "start");
      f.start.assign(s, s + f.dd);
    } else {
      f.start = fractal::fixed_point(f.A, f.b, f.dd);
    }
    return j;
  }
  UnfoldWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.unfold") {}

 protected:
  void Run() override {
    IfsJob& f = j_.job;
    f.points = out_.alloc(f.n * f.dd);
    f.cancel = cancel_;
    run_on(j_.target, f, cpu::ifs_unfold, cuda::ifs_unfold);
  }
};

class ChaosWorker : public Worker {
 public:
  using Job = Call<IfsJob>;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    IfsJob& f = j.job;
    parse_maps(in, f);
    const double* p = in.input<double>("probabilities", f.m);
    f.thresholds = fractal::thresholds_of(p, f.m);
    f.seed = (uint64_t)get_int(a, "seed", 0, 0, (1LL << 53));
    f.burn_in = (int)get_int(a, "burnIn", 64, 0, 1 << 20);
    Napi::Value r = get(a, "render");
    f.render = r.IsObject();
    f.n = (idx)get_int(a, "n", 1, 1, f.render ? (1LL << 42) : (1LL << 31));
    f.chains = (idx)get_int(a, "chains", 4096, 1, 1 << 24);
    if (f.chains > f.n) f.chains = f.n;
    f.start = fractal::fixed_point(f.A, f.b, f.dd);
    if (f.render) {
      if (f.dd > 3) fail("E_RANGE", "render needs an IFS in 1, 2 or 3 dimensions");
      Napi::Object ro = r.As<Napi::Object>();
      Napi::Value nv = get(ro, "n"), lv = get(ro, "lo"), hv = get(ro, "hi");
      if (!nv.IsArray() || !lv.IsArray() || !hv.IsArray() || nv.As<Napi::Array>().Length() != (uint32_t)f.dd ||
          lv.As<Napi::Array>().Length() != (uint32_t)f.dd || hv.As<Napi::Array>().Length() != (uint32_t)f.dd)
        fail("E_SHAPE", "render.n, render.lo and render.hi must list one entry per axis");
      double cells = 1;
      for (int k = 0; k < f.dd; ++k) {
        Napi::Value nk = nv.As<Napi::Array>().Get((uint32_t)k), lk = lv.As<Napi::Array>().Get((uint32_t)k),
                    hk = hv.As<Napi::Array>().Get((uint32_t)k);
        if (!nk.IsNumber() || !lk.IsNumber() || !hk.IsNumber()) fail("E_TYPE", "render.n, render.lo and render.hi must hold numbers");
        double n = nk.As<Napi::Number>().DoubleValue(), lo = lk.As<Napi::Number>().DoubleValue(), hi = hk.As<Napi::Number>().DoubleValue();
        if (!(n >= 1 && n <= 65536 && n == std::floor(n))) fail("E_RANGE", "render.n entries must be integers in [1, 65536]");
        if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) fail("E_RANGE", "render.lo must be below render.hi");
        f.rn[k] = (int)n;
        f.lo[k] = (float)lo;
        f.inv[k] = (float)(n / (hi - lo));
        cells *= n;
      }
      if (cells > (double)(1 << 28)) fail("E_TOO_LARGE", "render grid has more than 2^28 cells");
      check_budget(cells * 8, "chaosGame");
    } else if ((double)f.n * f.dd > kMaxOutputFloats) {
      fail("E_TOO_LARGE", "chaosGame would return " + num((double)f.n * f.dd) + " floats; render to a grid instead");
    }
    return j;
  }
  ChaosWorker(Inputs& in, Job j) : Worker(in, "semfield.chaosGame"), j_(std::move(j)) {}

 protected:
  void Run() override {
    IfsJob& f = j_.job;
    // Not zeroed here: the driver zeroes the grid in pieces between abort
    // checks (a 2^26-cell grid is 512 MB).
    HostArray<unsigned long long> counts;
    if (f.render) {
      counts = HostArray<unsigned long long>((size_t)f.rn[0] * f.rn[1] * f.rn[2]);
      f.counts = counts.data();
    } else {
      f.points = pts_.alloc(f.n * f.dd);
    }
    f.cancel = cancel_;
    if (wants_progress()) f.progress = [this](double done) { report(0, 0, done); };
    run_on(j_.target, f, cpu::chaos_game, cuda::chaos_game);
    if (f.render) {
      const idx n = (idx)counts.size(), chunk = (idx)1 << 22;
      double* c = counts_.alloc(n);
      for (idx i0 = 0; i0 < n; i0 += chunk) {
        if (cancel_.raised()) fail("E_ABORTED", "render: aborted");
        for (idx i = i0; i < std::min(n, i0 + chunk); ++i) c[i] = (double)counts[(size_t)i];
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    if (j_.job.render) return counts_.release(env);
    return pts_.release(env);
  }

 private:
  Job j_;
  OutBuf<float> pts_;
  OutBuf<double> counts_;
};

class TokenWorker : public Worker {
 public:
  using Job = Call<TokenJob>;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    TokenJob& t = j.job;
    t.m = (int)get_int(a, "m", 1, 1, 4096);
    t.d = (int)get_int(a, "d", 1, 1, 65536);
    t.depth = (int)get_int(a, "depth", 1, 0, 64);
    t.s = get_float(a, "s", 0.5);
    if (!(t.s > 0 && t.s < 1)) fail("E_RANGE", "s must be in (0, 1)");
    double beta = get_number(a, "beta", 1);
    t.P = in.input<float>("prototypes", (long long)t.m * t.d);
    Napi::TypedArray c = typed<float>(get(a, "contexts"), "contexts", -1);
    if (c.ElementLength() == 0 || c.ElementLength() % t.d) fail("E_SHAPE", "contexts must be [C, d] with C >= 1");
    t.contexts = (int)(c.ElementLength() / t.d);
    const float* ctx = in.input<float>("contexts", (long long)c.ElementLength());
    require_finite(t.P, (idx)t.m * t.d, "prototypes");
    require_finite(ctx, (idx)t.contexts * t.d, "contexts");
    double n = std::pow((double)t.m, t.depth);
    if (n * t.d * t.contexts > kMaxOutputFloats)
      fail("E_TOO_LARGE", "unfolding makes " + std::to_string(n * t.contexts) + " points of dimension " + std::to_string(t.d) +
                              "; lower the depth");
    t.n = (idx)n;
    check_budget(n * t.d * 4 / t.m, "token unfold");
    // pi = softmax(beta c.p_i) and the mean sum pi_i p_i, in fp64.
    t.pi.assign((size_t)t.contexts * t.m, 0);
    t.start.assign((size_t)t.contexts * t.d, 0);
    for (int ci = 0; ci < t.contexts; ++ci) {
      double* pi = &t.pi[(size_t)ci * t.m];
      double top = -INFINITY;
      for (int i = 0; i < t.m; ++i) {
        double dot = 0;
        for (int k = 0; k < t.d; ++k) dot += (double)ctx[(idx)ci * t.d + k] * t.P[(idx)i * t.d + k];
        pi[i] = beta * dot;
        top = std::max(top, pi[i]);
      }
      double z = 0;
      for (int i = 0; i < t.m; ++i) z += (pi[i] = std::exp(pi[i] - top));
      for (int i = 0; i < t.m; ++i) pi[i] /= z;
      for (int k = 0; k < t.d; ++k) {
        double mu = 0;
        for (int i = 0; i < t.m; ++i) mu += pi[i] * t.P[(idx)i * t.d + k];
        t.start[(size_t)ci * t.d + k] = (float)mu;
      }
    }
    return j;
  }
  TokenWorker(Inputs& in, Job j) : Worker(in, "semfield.token"), j_(std::move(j)) {}

 protected:
  void Run() override {
    TokenJob& t = j_.job;
    t.points = pts_.alloc((idx)t.contexts * t.n * t.d);
    t.weights = w_.alloc((idx)t.contexts * t.n);
    run_on(j_.target, t, cpu::token_unfold, cuda::token_unfold);
  }
  Napi::Value Result(Napi::Env env) override {
    const TokenJob& t = j_.job;
    Napi::Object o = Napi::Object::New(env);
    o.Set("points", pts_.release(env));
    o.Set("weights", w_.release(env));
    Napi::Float64Array pi = Napi::Float64Array::New(env, t.pi.size());
    for (size_t i = 0; i < t.pi.size(); ++i) pi[i] = t.pi[i];
    o.Set("pi", pi);
    return o;
  }

 private:
  Job j_;
  OutBuf<float> pts_;
  OutBuf<double> w_;
};

class PairCountWorker : public ArrayWorker<Call<PairCountJob>, double> {
 public:
  using Job = Call<PairCountJob>;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    PairCountJob& p = j.job;
    p.d = (int)get_int(a, "d", 1, 1, 65536);
    Napi::TypedArray x = typed<float>(get(a, "x"), "points", -1);
    if (x.ElementLength() < 2 * (size_t)p.d || x.ElementLength() % p.d) fail("E_SHAPE", "points must be [N, d] with N >= 2");
    p.n = (idx)(x.ElementLength() / p.d);
    p.x = in.input<float>("x", (long long)x.ElementLength());
    Napi::TypedArray e = typed<double>(get(a, "edges"), "radii", -1);
    if (e.ElementLength() < 2 || e.ElementLength() > (size_t)kDimMaxBins) fail("E_SHAPE", "radii must hold 2 to 128 edges");
    const double* ed = in.input<double>("edges", (long long)e.ElementLength());
    for (size_t k = 0; k < e.ElementLength(); ++k) {
      if (!(ed[k] > 0) || !std::isfinite(ed[k]) || (k > 0 && !(ed[k] > ed[k - 1])))
        fail("E_RANGE", "radii must be finite, > 0 and increasing");
      p.edges2.push_back((float)(ed[k] * ed[k]));
    }
    return j;
  }
  PairCountWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.pairCounts") {}

 protected:
  void Run() override {
    PairCountJob& p = j_.job;
    require_finite(p.x, p.n * p.d, "points");
    p.cancel = cancel_;
    run_on(j_.target, p, cpu::pair_counts, cuda::pair_counts);
    double* out = out_.alloc((idx)p.counts.size());
    for (size_t k = 0; k < p.counts.size(); ++k) out[k] = (double)p.counts[k];
  }
};

class BoxCountWorker : public Worker {
 public:
  using Job = fractal::BoxCountJob;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.dd = (int)get_int(a, "d", 1, 1, 16);
    Napi::TypedArray x = typed<float>(get(a, "x"), "points", -1);
    if (x.ElementLength() == 0 || x.ElementLength() % j.dd) fail("E_SHAPE", "points must be [N, d] with N >= 1");
    j.n = (idx)(x.ElementLength() / j.dd);
    j.x = in.input<float>("x", (long long)x.ElementLength());
    j.integer_shifts = get(a, "integerShifts").ToBoolean();
    j.offsets = (int)get_int(a, "offsets", 1, 1, 1024);
    j.saturation = get_number(a, "saturation", 0);
    Napi::TypedArray s = typed<double>(get(a, "scales"), "scales", -1);
    if (s.ElementLength() == 0 || s.ElementLength() > 4096) fail("E_SHAPE", "scales must hold 1 to 4096 box sizes");
    const double* sd = in.input<double>("scales", (long long)s.ElementLength());
    for (size_t k = 0; k < s.ElementLength(); ++k) {
      if (!(sd[k] > 0) || !std::isfinite(sd[k])) fail("E_RANGE", "scales must be finite and > 0");
      j.scales.push_back(sd[k]);
    }
    check_budget((double)j.n * j.dd * 8 * 2 * std::min(j.offsets, ThreadPool::instance().size()), "boxDimension");
    return j;
  }
  BoxCountWorker(Inputs& in, Job j) : Worker(in, "semfield.boxCount"), j_(std::move(j)) {}

 protected:
  void Run() override {
    require_finite(j_.x, j_.n * j_.dd, "points");
    j_.cancel = cancel_;
    if (wants_progress()) j_.progress = [this](double done) { report(0, 0, done); };
    fractal::box_count(j_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Float64Array s = Napi::Float64Array::New(env, j_.scales.size());
    for (size_t i = 0; i < j_.scales.size(); ++i) s[i] = j_.scales[i];
    Napi::Float64Array c = Napi::Float64Array::New(env, j_.counts.size());
    for (size_t i = 0; i < j_.counts.size(); ++i) c[i] = j_.counts[i];
    o.Set("scales", s);
    o.Set("counts", c);
    return o;
  }

 private:
  Job j_;
};

class EncodeWorker : public Worker {
 public:
  using Job = Call<fractal::EncodeJob>;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    fractal::EncodeJob& e = j.job;
    fractal::CodecHeader& h = e.hd;
    h.w = (uint32_t)get_int(a, "width", 1, 1, 65536);
    h.h = (uint32_t)get_int(a, "height", 1, 1, 65536);
    h.rmin = (int)get_int(a, "minBlock", 4, 4, 32);
    h.rmax = (int)get_int(a, "maxBlock", 16, 4, 32);
    if ((h.rmin & (h.rmin - 1)) || (h.rmax & (h.rmax - 1)) || h.rmin > h.rmax)
      fail("E_RANGE", "minBlock and maxBlock must be powers of two with 4 <= minBlock <= maxBlock <= 32");
    if ((uint64_t)h.pw() * h.ph() > fractal::kCodecMaxPixels) fail("E_TOO_LARGE", "image has more than 2^28 pixels");
    h.step_code = (int)get_int(a, "stepCode", 2, 0, 2);
    e.img = in.input<float>("image", (long long)h.w * h.h);
    e.classified = get(a, "classified").ToBoolean();
    double tol = get_number(a, "tolerance", 0);
    if (tol < 0) fail("E_RANGE", "tolerance must be >= 0");
    e.tol = tol;
    e.target_bytes = get_number(a, "targetBytes", 0);
    if (!(e.target_bytes >= 0)) fail("E_RANGE", "targetBytes must be >= 0");
    Napi::Value tn = get(a, "targetName");
    if (tn.IsString()) e.target_name = tn.As<Napi::String>().Utf8Value();
    h.type = (int)get_int(a, "valueType", 0, 0, 2);
    Napi::Value lo = get(a, "lo"), hi = get(a, "hi");
    if (!lo.IsUndefined()) h.lo = get_float(a, "lo", 0);
    if (!hi.IsUndefined()) h.hi = get_float(a, "hi", 1);
    e.range_given = !lo.IsUndefined() && !hi.IsUndefined();
    if (e.range_given && !(h.hi > h.lo)) fail("E_RANGE", "lo must be below hi");
    // The smallest level's domain table and its copy in tiles dominate: 8
    // isometries of r^2 floats for each of (r / step)^2 / r^2 domains per
    // pixel (step r / 2: 32 floats), twice, plus copies of the image.
    const double per_pixel = h.step_code == 2 ? 32 : (h.step_code == 1 ? 8 : 2);
    check_budget((double)h.pw() * h.ph() * (4.0 * per_pixel * 2 + 16), "encode");
    return j;
  }
  EncodeWorker(Inputs& in, Job j) : Worker(in, "semfield.encode"), j_(std::move(j)) {}

 protected:
  void Run() override {
    fractal::EncodeJob& e = j_.job;
    idx n = (idx)e.hd.w * e.hd.h;
    require_finite(e.img, n, "image");
    if (!e.range_given) {
      float lo = e.img[0], hi = e.img[0];
      for (idx i = 1; i < n; ++i) {
        lo = std::min(lo, e.img[i]);
        hi = std::max(hi, e.img[i]);
      }
      if (!(hi > lo)) hi = lo + 1;
      e.hd.lo = lo;
      e.hd.hi = hi;
    } else {
      for (idx i = 0; i < n; ++i)
        if (e.img[i] < e.hd.lo || e.img[i] > e.hd.hi)
          fail("E_RANGE", "image[" + std::to_string(i) + "] lies outside [lo, hi]");
    }
    e.tol = e.tol / ((double)e.hd.hi - e.hd.lo);
    e.cancel = cancel_;
    if (wants_progress()) e.progress = [this](int level, double done) { report(0, level, done); };
    run_on(j_.target, e, cpu::codec_encode, cuda::codec_encode);
  }
  Napi::Value Result(Napi::Env env) override {
    const fractal::EncodeJob& e = j_.job;
    Napi::Object o = Napi::Object::New(env);
    Napi::Uint8Array code = Napi::Uint8Array::New(env, e.code.size());
    std::memcpy(code.Data(), e.code.data(), e.code.size());
    o.Set("code", code);
    o.Set("leaves", (double)e.hd.leaves);
    Napi::Array per = Napi::Array::New(env, e.leaves_per_size.size());
    for (size_t i = 0; i < e.leaves_per_size.size(); ++i) per.Set((uint32_t)i, e.leaves_per_size[i]);
    o.Set("leavesPerSize", per);
    o.Set("collageRmse", e.collage_rmse * ((double)e.hd.hi - e.hd.lo));
    o.Set("lo", e.hd.lo);
    o.Set("hi", e.hd.hi);
    o.Set("lambda", e.lambda);
    return o;
  }

 private:
  Job j_;
};

class DecodeWorker : public Worker {
 public:
  using Job = Call<fractal::DecodeJob>;
  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    fractal::DecodeJob& d = j.job;
    Napi::TypedArray c = typed<uint8_t>(get(a, "code"), "code", -1);
    d.bytes = c.ElementLength();
    d.code = in.input<uint8_t>("code", (long long)d.bytes);
    if (!d.code && d.bytes > 0) fail("E_TYPE", "code must not be detached");
    double scale = get_number(a, "scale", 1);
    if (scale == 0.5) {
      d.scale_num = 1;
      d.scale_den = 2;
    } else if (scale == 1 || scale == 2 || scale == 4) {
      d.scale_num = (int)scale;
    } else {
      fail("E_RANGE", "scale must be 0.5, 1, 2 or 4");
    }
    d.max_iterations = (int)get_int(a, "maxIterations", 64, 1, 10000);
    d.tol = get_number(a, "tol", 1e-5);
    if (!(d.tol >= 0)) fail("E_RANGE", "tol must be >= 0");
    // Parsing checks the header before anything is allocated for the image.
    static const uint8_t none = 0;
    fractal::read_header(d.code ? d.code : &none, d.bytes);
    return j;
  }
  DecodeWorker(Inputs& in, Job j) : Worker(in, "semfield.decode"), j_(std::move(j)) {}

 protected:
  void Run() override {
    fractal::DecodeJob& d = j_.job;
    fractal::decode_leaves(d);
    check_budget((double)d.pw * d.ph * 16, "decode");
    d.out = out_.alloc((idx)d.w * d.h);
    d.cancel = cancel_;
    run_on(j_.target, d, cpu::codec_decode, cuda::codec_decode);
  }
  Napi::Value Result(Napi::Env env) override {
    const fractal::DecodeJob& d = j_.job;
    Napi::Object o = Napi::Object::New(env);
    o.Set("image", out_.release(env));
    o.Set("width", d.w);
    o.Set("height", d.h);
    o.Set("valueType", d.hd.type);
    Napi::Float64Array ch = Napi::Float64Array::New(env, d.changes.size());
    for (size_t i = 0; i < d.changes.size(); ++i) ch[i] = d.changes[i] * ((double)d.hd.hi - d.hd.lo);
    o.Set("changes", ch);
    return o;
  }

 private:
  Job j_;
  OutBuf<float> out_;
};

}  // namespace

Napi::Value Unfold(const Napi::CallbackInfo& info) { return launch<UnfoldWorker>(info); }
Napi::Value ChaosGame(const Napi::CallbackInfo& info) { return launch<ChaosWorker>(info); }
Napi::Value TokenUnfold(const Napi::CallbackInfo& info) { return launch<TokenWorker>(info); }
Napi::Value PairCounts(const Napi::CallbackInfo& info) { return launch<PairCountWorker>(info); }
Napi::Value BoxCount(const Napi::CallbackInfo& info) { return launch<BoxCountWorker>(info); }
Napi::Value Encode(const Napi::CallbackInfo& info) { return launch<EncodeWorker>(info); }
Napi::Value Decode(const Napi::CallbackInfo& info) { return launch<DecodeWorker>(info); }

// The header of a code, read synchronously (40 bytes and a checksum).
Napi::Value CodeInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Object a = args_of(info);
    Napi::TypedArray c = typed<uint8_t>(get(a, "code"), "code", -1);
    static const uint8_t none = 0;
    const uint8_t* p = typed_data<uint8_t>(c);
    fractal::CodecHeader h = fractal::read_header(p ? p : &none, c.ElementLength());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("width", h.w);
    o.Set("height", h.h);
    o.Set("minBlock", h.rmin);
    o.Set("maxBlock", h.rmax);
    o.Set("stepCode", h.step_code);
    o.Set("lo", h.lo);
    o.Set("hi", h.hi);
    o.Set("leaves", h.leaves);
    o.Set("bytes", h.bytes);
    o.Set("valueType", h.type == fractal::kCodecUint8 ? "uint8" : (h.type == fractal::kCodecUint16 ? "uint16" : "float32"));
    return o;
  });
}

}  // namespace sf
