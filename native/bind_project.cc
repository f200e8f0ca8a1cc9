// Bindings of PCA (fit and transform); the numerics are in pca.cc.
#include "bindings.h"
#include "pca.h"
#include "worker.h"

namespace sf {

namespace {

struct Shape {
  idx n;
  int d;
};

Shape shape_of(const Napi::Object& a) {
  long long n = get_int(a, "n", 0, 1, (long long)1 << 31);
  long long d = get_int(a, "d", 0, 1, 65536);
  return Shape{(idx)n, (int)d};
}

class PcaWorker : public Worker {
 public:
  struct Job {
    Shape s{};
    int k = 2;
    uint64_t seed = 0;
    int max_iter = 200;
    double tol = 1e-13;
    const float* x = nullptr;
  };

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.s = shape_of(a);
    j.k = (int)get_int(a, "k", 2, 1, 64);
    if (j.k > j.s.d) fail("E_RANGE", "k must be <= d (" + std::to_string(j.s.d) + ")");
    if (j.s.n < 2) fail("E_RANGE", "n must be >= 2 to estimate a covariance");
    j.seed = (uint64_t)get_int(a, "seed", 0, 0, (long long)1 << 53);
    j.max_iter = (int)get_int(a, "maxIter", 200, 1, 100000);
    j.tol = get_number(a, "tol", 1e-13);
    if (!(j.tol > 0)) fail("E_RANGE", "tol must be > 0");
    j.x = in.input<float>("x", j.s.n * j.s.d);
    return j;
  }

  PcaWorker(Inputs& in, Job j)
      : Worker(in, "semfield.pca"), s_(j.s), k_(j.k), seed_(j.seed), max_iter_(j.max_iter), tol_(j.tol), x_(j.x) {}

 protected:
  void Run() override {
    require_finite(x_, s_.n * s_.d, "embeddings");
    r_ = pca(x_, s_.n, s_.d, k_, seed_, max_iter_, tol_, cancel_);
    coords_.alloc(s_.n * k_);
    pca_transform(x_, s_.n, s_.d, r_.mean.data(), r_.components.data(), k_, coords_.data());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    auto f64 = [&](const std::vector<double>& v) {
      Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
      for (size_t i = 0; i < v.size(); ++i) a[i] = v[i];
      return a;
    };
    o.Set("mean", f64(r_.mean));
    o.Set("components", f64(r_.components));
    o.Set("variance", f64(r_.variance));
    o.Set("totalVariance", r_.total_variance);
    o.Set("iterations", r_.iterations);
    o.Set("coords", coords_.release(env));
    return o;
  }

 private:
  Shape s_{};
  int k_ = 2;
  uint64_t seed_ = 0;
  int max_iter_ = 200;
  double tol_ = 1e-13;
  const float* x_ = nullptr;
  PcaResult r_;
  OutBuf<float> coords_;
};

class PcaTransformWorker : public Worker {
 public:
  struct Job {
    Shape s{};
    int k = 2;
    const float* x = nullptr;
    const double* mean = nullptr;
    const double* comps = nullptr;
  };

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.s = shape_of(a);
    j.k = (int)get_int(a, "k", 2, 1, 64);
    j.x = in.input<float>("x", j.s.n * j.s.d);
    j.mean = in.input<double>("mean", j.s.d);
    j.comps = in.input<double>("components", (idx)j.k * j.s.d);
    return j;
  }

  PcaTransformWorker(Inputs& in, Job j)
      : Worker(in, "semfield.pcaTransform"), s_(j.s), k_(j.k), x_(j.x), mean_(j.mean), comps_(j.comps) {}

 protected:
  void Run() override {
    require_finite(x_, s_.n * s_.d, "embeddings");
    pca_transform(x_, s_.n, s_.d, mean_, comps_, k_, out_.alloc(s_.n * k_));
  }
  Napi::Value Result(Napi::Env env) override { return out_.release(env); }

 private:
  Shape s_{};
  int k_ = 2;
  const float* x_ = nullptr;
  const double* mean_ = nullptr;
  const double* comps_ = nullptr;
  OutBuf<float> out_;
};

}  // namespace

Napi::Value Pca(const Napi::CallbackInfo& info) { return launch<PcaWorker>(info); }
Napi::Value PcaTransform(const Napi::CallbackInfo& info) { return launch<PcaTransformWorker>(info); }

}  // namespace sf
