// Bindings of the mesh operations: argument checks (lib/ has already checked;
// these guard the native side on their own), then an AsyncWorker per call.
#include <cmath>

#include "../cuda/diff_k.h"
#include "backend.h"
#include "bindings.h"
#include "device.h"
#include "worker.h"

namespace sf {

namespace {

Target target_of(const Napi::Object& a) {
  return resolve_target(get_string(a, "backend", ""), (int)get_int(a, "device", 0, 0, 1 << 20));
}

int batch_of(const Napi::Object& a, const Grid& g) {
  int b = (int)get_int(a, "batch", 1, 1, 1 << 24);
  if ((double)b * (double)g.cells() > (double)((idx)1 << 31))
    fail("E_TOO_LARGE", "batch * cells is " + std::to_string((double)b * g.cells()) + "; the limit is 2^31");
  return b;
}

Napi::Object stats_object(Napi::Env env, const SolveStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("cycles", s.cycles);
  o.Set("residual", s.residual);
  o.Set("converged", s.converged);
  o.Set("meanRemoved", s.mean_removed);
  o.Set("energy", s.energy);
  Napi::Float64Array h = Napi::Float64Array::New(env, s.history.size());
  for (size_t i = 0; i < s.history.size(); ++i) h[i] = s.history[i];
  o.Set("history", h);
  return o;
}

class PotentialWorker : public Worker {
 public:
  PotentialWorker(const Napi::Object& a) : Worker(a, "semfield.potential") {
    job_.g = parse_grid(get(a, "grid"));
    job_.batch = batch_of(a, job_.g);
    target_ = target_of(a);
    idx N = job_.g.cells();
    job_.opt.kappa = get_number(a, "kappa", 0);
    if (job_.opt.kappa < 0) fail("E_RANGE", "kappa must be >= 0");
    job_.opt.tol = get_number(a, "tol", 1e-6);
    if (!(job_.opt.tol > 0 && job_.opt.tol < 1)) fail("E_RANGE", "tol must be in (0, 1)");
    job_.opt.max_cycles = (int)get_int(a, "maxCycles", 50, 1, 10000);
    job_.opt.pre = (int)get_int(a, "preSmooth", 2, 1, 16);
    job_.opt.post = (int)get_int(a, "postSmooth", 2, 1, 16);
    job_.rho = input<float>(a, "rho", N * job_.batch);
    Napi::Value m = get(a, "mask");
    if (!m.IsUndefined() && !m.IsNull()) {
      long long len = typed<uint8_t>(m, "mask", -1).ElementLength();
      if (len != N && len != N * job_.batch)
        fail("E_SHAPE", "mask must have length " + std::to_string(N) + " or " + std::to_string(N * job_.batch));
      job_.mask_per_field = job_.batch > 1 && len == N * job_.batch;
      job_.mask = input<uint8_t>(a, "mask", len);
      job_.anchor = input<float>(a, "anchor", len, true);
      mask_len_ = len;
    } else if (!get(a, "anchor").IsUndefined()) {
      fail("E_TYPE", "anchor needs a mask");
    }
    if (get(a, "field").ToBoolean()) efield_.alloc((idx)job_.g.dim * N * job_.batch);
  }

 protected:
  void Run() override {
    idx N = job_.g.cells();
    require_finite(job_.rho, N * job_.batch, "rho");
    if (job_.anchor) require_finite(job_.anchor, mask_len_, "anchor");
    job_.phi = phi_.alloc(N * job_.batch);
    job_.efield = efield_.data();
    job_.cancel = cancel_;
    if (wants_progress()) job_.progress = [this](int b, int c, double r) { report(b, c, r); };
    if (target_.backend == Backend::Cuda) cuda::potential(target_.device, job_);
    else cpu::potential(job_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("phi", phi_.release(env));
    if (efield_.data()) o.Set("E", efield_.release(env));
    Napi::Array st = Napi::Array::New(env, job_.stats.size());
    for (size_t b = 0; b < job_.stats.size(); ++b) st.Set((uint32_t)b, stats_object(env, job_.stats[b]));
    o.Set("fields", st);
    o.Set("backend", backend_name(target_.backend));
    return o;
  }

 private:
  PotentialJob job_;
  Target target_;
  OutBuf<float> phi_, efield_;
  long long mask_len_ = 0;
};

// Positions must lie in the domain along non-periodic axes.
void check_positions(const float* pos, idx np, const Grid& g) {
  for (idx i = 0; i < np; ++i)
    for (int a = 0; a < g.dim; ++a) {
      double p = pos[i * g.dim + a];
      if (!std::isfinite(p)) fail("E_NONFINITE", "positions[" + std::to_string(i * g.dim + a) + "] is not finite");
      // The extent as fp32, so a position at the far wall stored in fp32 is inside.
      if (g.bc[a] != BC_PERIODIC && (p < 0 || p > (double)(float)(g.n[a] * g.h)))
        fail("E_RANGE", "positions[" + std::to_string(i * g.dim + a) + "] = " + std::to_string(p) +
                            " lies outside the domain [0, " + std::to_string(g.n[a] * g.h) + "] of a non-periodic axis");
    }
}

void check_field_of(const int32_t* fo, idx np, int batch) {
  for (idx i = 0; i < np; ++i)
    if (fo[i] < 0 || fo[i] >= batch)
      fail("E_RANGE", "fieldOf[" + std::to_string(i) + "] = " + std::to_string(fo[i]) + " is not a field index in [0, " +
                          std::to_string(batch) + ")");
}

idx points_of(const Napi::Object& a, const Grid& g) {
  Napi::TypedArray p = typed<float>(get(a, "positions"), "positions", -1);
  if (p.ElementLength() % g.dim != 0)
    fail("E_SHAPE", "positions length " + std::to_string(p.ElementLength()) + " is not a multiple of dim " + std::to_string(g.dim));
  return (idx)(p.ElementLength() / g.dim);
}

class DepositWorker : public Worker {
 public:
  DepositWorker(const Napi::Object& a) : Worker(a, "semfield.deposit") {
    job_.g = parse_grid(get(a, "grid"));
    job_.batch = batch_of(a, job_.g);
    target_ = target_of(a);
    job_.points = points_of(a, job_.g);
    job_.pos = input<float>(a, "positions", job_.points * job_.g.dim);
    job_.charge = input<float>(a, "charges", job_.points, true);
    job_.field_of = input<int32_t>(a, "fieldOf", job_.points, true);
    if (job_.batch > 1 && !job_.field_of) fail("E_SHAPE", "fieldOf is required when batch > 1");
  }

 protected:
  void Run() override {
    check_positions(job_.pos, job_.points, job_.g);
    if (job_.charge) require_finite(job_.charge, job_.points, "charges");
    if (job_.field_of) check_field_of(job_.field_of, job_.points, job_.batch);
    job_.out = out_.alloc(job_.g.cells() * job_.batch);
    if (target_.backend == Backend::Cuda) cuda::deposit(target_.device, job_);
    else cpu::deposit(job_);
  }
  Napi::Value Result(Napi::Env env) override { return out_.release(env); }

 private:
  DepositJob job_;
  Target target_;
  OutBuf<float> out_;
};

class InterpolateWorker : public Worker {
 public:
  InterpolateWorker(const Napi::Object& a) : Worker(a, "semfield.interpolate") {
    job_.g = parse_grid(get(a, "grid"));
    job_.batch = batch_of(a, job_.g);
    target_ = target_of(a);
    job_.points = points_of(a, job_.g);
    job_.pos = input<float>(a, "positions", job_.points * job_.g.dim);
    job_.field = input<float>(a, "field", job_.g.cells() * job_.batch);
    job_.field_of = input<int32_t>(a, "fieldOf", job_.points, true);
  }

 protected:
  void Run() override {
    check_positions(job_.pos, job_.points, job_.g);
    require_finite(job_.field, job_.g.cells() * job_.batch, "field");
    if (job_.field_of) check_field_of(job_.field_of, job_.points, job_.batch);
    job_.out = out_.alloc(job_.field_of ? job_.points : job_.points * job_.batch);
    if (target_.backend == Backend::Cuda) cuda::interpolate(target_.device, job_);
    else cpu::interpolate(job_);
  }
  Napi::Value Result(Napi::Env env) override { return out_.release(env); }

 private:
  InterpolateJob job_;
  Target target_;
  OutBuf<float> out_;
};

class DiffWorker : public Worker {
 public:
  DiffWorker(const Napi::Object& a) : Worker(a, "semfield.diff") {
    job_.g = parse_grid(get(a, "grid"));
    job_.batch = batch_of(a, job_.g);
    target_ = target_of(a);
    std::string op = get_string(a, "op", "");
    if (op == "grad") job_.op = OP_GRAD;
    else if (op == "div") job_.op = OP_DIV;
    else if (op == "curl") job_.op = OP_CURL;
    else if (op == "laplacian") job_.op = OP_LAPLACIAN;
    else fail("E_RANGE", "op must be 'grad', 'div', 'curl' or 'laplacian' (got '" + op + "')");
    int need = job_.op == OP_LAPLACIAN ? 4 : 3;
    for (int ax = 0; ax < job_.g.dim; ++ax)
      if (job_.g.bc[ax] != BC_PERIODIC && job_.g.n[ax] < need)
        fail("E_RANGE", "grid.n[" + std::to_string(ax) + "] must be >= " + std::to_string(need) + " for " + op +
                            " on a non-periodic axis");
    idx N = job_.g.cells();
    job_.in = input<float>(a, "input", (idx)op_in_comps(job_.op, job_.g.dim) * N * job_.batch);
  }

 protected:
  void Run() override {
    idx N = job_.g.cells();
    require_finite(job_.in, (idx)op_in_comps(job_.op, job_.g.dim) * N * job_.batch, "input");
    job_.out = out_.alloc((idx)op_out_comps(job_.op, job_.g.dim) * N * job_.batch);
    if (target_.backend == Backend::Cuda) cuda::diff(target_.device, job_);
    else cpu::diff(job_);
  }
  Napi::Value Result(Napi::Env env) override { return out_.release(env); }

 private:
  DiffJob job_;
  Target target_;
  OutBuf<float> out_;
};

class CondenseWorker : public Worker {
 public:
  CondenseWorker(const Napi::Object& a) : Worker(a, "semfield.condense") {
    job_.g = parse_grid(get(a, "grid"));
    job_.batch = batch_of(a, job_.g);
    target_ = target_of(a);
    idx N = job_.g.cells();
    job_.field = input<float>(a, "field", N * job_.batch);
    job_.rho = input<float>(a, "rho", N * job_.batch, true);
  }

 protected:
  void Run() override {
    idx N = job_.g.cells();
    require_finite(job_.field, N * job_.batch, "field");
    if (job_.rho) require_finite(job_.rho, N * job_.batch, "rho");
    job_.labels = labels_.alloc(N * job_.batch);
    job_.cancel = cancel_;
    if (target_.backend == Backend::Cuda) cuda::condense(target_.device, job_);
    else cpu::condense(job_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("labels", labels_.release(env));
    Napi::Array fields = Napi::Array::New(env, job_.basins.size());
    for (size_t b = 0; b < job_.basins.size(); ++b) {
      const auto& bs = job_.basins[b];
      size_t k = bs.size();
      Napi::Float64Array cell = Napi::Float64Array::New(env, k), value = Napi::Float64Array::New(env, k),
                         mass = Napi::Float64Array::New(env, k), cells = Napi::Float64Array::New(env, k);
      Napi::Uint8Array strict = Napi::Uint8Array::New(env, k);
      for (size_t i = 0; i < k; ++i) {
        cell[i] = (double)bs[i].cell;
        value[i] = bs[i].value;
        mass[i] = bs[i].mass;
        cells[i] = (double)bs[i].cells;
        strict[i] = bs[i].strict ? 1 : 0;
      }
      Napi::Object f = Napi::Object::New(env);
      f.Set("cell", cell);
      f.Set("value", value);
      f.Set("mass", mass);
      f.Set("cells", cells);
      f.Set("strict", strict);
      fields.Set((uint32_t)b, f);
    }
    o.Set("fields", fields);
    return o;
  }

 private:
  CondenseJob job_;
  Target target_;
  OutBuf<int32_t> labels_;
};

template <class W>
Napi::Value launch(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return start(new W(args_of(info))); });
}

}  // namespace

Napi::Value Potential(const Napi::CallbackInfo& info) { return launch<PotentialWorker>(info); }
Napi::Value Deposit(const Napi::CallbackInfo& info) { return launch<DepositWorker>(info); }
Napi::Value Interpolate(const Napi::CallbackInfo& info) { return launch<InterpolateWorker>(info); }
Napi::Value Diff(const Napi::CallbackInfo& info) { return launch<DiffWorker>(info); }
Napi::Value Condense(const Napi::CallbackInfo& info) { return launch<CondenseWorker>(info); }

}  // namespace sf
