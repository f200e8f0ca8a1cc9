// Bindings of the mesh operations: argument checks (lib/ has already checked;
// these guard the native side on their own), then an AsyncWorker per call.
#include <cmath>

#include "../cuda/diff_k.h"
#include "backend.h"
#include "bindings.h"
#include "device.h"
#include "dispatch.h"
#include "mesh_args.h"
#include "worker.h"

namespace sf {

namespace {

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

// The coarsest multigrid level is solved by conjugate gradients on the host;
// past this size that solve would dominate (or seem to hang).
constexpr idx kMaxCoarsest = 65536;

class PotentialWorker : public Worker {
 public:
  struct Job : Call<PotentialJob> {
    bool field = false;
    long long mask_len = 0;
  };

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    static_cast<Call<PotentialJob>&>(j) = mesh_call<PotentialJob>(a);
    PotentialJob& p = j.job;
    idx N = p.g.cells();
    idx coarsest = level_grids(p.g).back().cells();
    if (coarsest > kMaxCoarsest)
      fail("E_RANGE", "grid.n has too few factors of two for multigrid: its coarsest level would have " +
                          std::to_string(coarsest) + " cells (at most " + std::to_string(kMaxCoarsest) +
                          "); choose extents divisible by a larger power of two");
    p.opt.kappa = get_number(a, "kappa", 0);
    if (p.opt.kappa < 0) fail("E_RANGE", "kappa must be >= 0");
    p.opt.tol = get_number(a, "tol", 1e-6);
    if (!(p.opt.tol > 0 && p.opt.tol < 1)) fail("E_RANGE", "tol must be in (0, 1)");
    p.opt.discretization = get(a, "discretization").ToBoolean();
    p.opt.max_cycles = (int)get_int(a, "maxCycles", 50, 1, 10000);
    p.opt.pre = (int)get_int(a, "preSmooth", 2, 1, 16);
    p.opt.post = (int)get_int(a, "postSmooth", 2, 1, 16);
    if (!get(a, "postSmooth").IsUndefined()) p.opt.fmg_post = p.opt.post;  // (else the full multigrid cycle's 1)
    p.rho = in.input<float>("rho", N * p.batch);
    Napi::Value m = get(a, "mask");
    if (!m.IsUndefined() && !m.IsNull()) {
      long long len = typed<uint8_t>(m, "mask", -1).ElementLength();
      if (len != N && len != N * p.batch)
        fail("E_SHAPE", "mask must have length " + std::to_string(N) + " or " + std::to_string(N * p.batch));
      p.mask_per_field = p.batch > 1 && len == N * p.batch;
      p.mask = in.input<uint8_t>("mask", len);
      p.anchor = in.input<float>("anchor", len, true);
      j.mask_len = len;
    } else if (!get(a, "anchor").IsUndefined()) {
      fail("E_TYPE", "anchor needs a mask");
    }
    j.field = get(a, "field").ToBoolean();
    // Per field: levels (u, f, r, 4/3 of the finest), the fp64 iterate and
    // FCG vectors, full multigrid's coarse right-hand sides and fp64 answers
    // (1/3 of the finest) and its interpolation passes (half of it each, two
    // in 3D); plus the outputs of all fields.
    check_budget((double)N * (12.0 * 4 / 3 + 8 + 12 + 12.0 / 3 + (p.g.dim == 3 ? 8 : 4)) + (double)N * p.batch * 4 * (1 + (j.field ? p.g.dim : 0)), "potential");
    return j;
  }

  PotentialWorker(Inputs& in, Job j) : Worker(in, "semfield.potential"), j_(std::move(j)) {}

 protected:
  void Run() override {
    PotentialJob& p = j_.job;
    idx N = p.g.cells();
    // Without held cells every rho[i] enters the first residual norm (an
    // fp64 sum of squares of fp32 values, which no finite input overflows),
    // so a value that is not finite fails the solve's first check with
    // E_NONFINITE before any cycle: rho is scanned then, to name the index,
    // instead of before every solve (a pass over rho on one thread, 5% of a
    // 4096^2 solve). Held cells' rho is not in the residual: with a mask it
    // is scanned first.
    const bool scan_first = p.mask != nullptr;
    if (scan_first) require_finite(p.rho, N * p.batch, "rho");
    if (p.anchor) require_finite(p.anchor, j_.mask_len, "anchor");
    p.phi = phi_.alloc(N * p.batch);
    p.efield = j_.field ? efield_.alloc((idx)p.g.dim * N * p.batch) : nullptr;
    p.cancel = cancel_;
    if (wants_progress()) p.progress = [this](int b, int c, double r) { report(b, c, r); };
    try {
      run_on(j_.target, p, cpu::potential, cuda::potential);
    } catch (const Error& e) {
      if (!scan_first && e.code == "E_NONFINITE") require_finite(p.rho, N * p.batch, "rho");
      throw;
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("phi", phi_.release(env));
    if (efield_.data()) o.Set("E", efield_.release(env));
    const auto& stats = j_.job.stats;
    Napi::Array st = Napi::Array::New(env, stats.size());
    for (size_t b = 0; b < stats.size(); ++b) st.Set((uint32_t)b, stats_object(env, stats[b]));
    o.Set("fields", st);
    o.Set("backend", backend_name(j_.target.backend));
    return o;
  }

 private:
  Job j_;
  OutBuf<float> phi_, efield_;
};

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

class DepositWorker : public ArrayWorker<Call<DepositJob>, float> {
 public:
  using Job = Call<DepositJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<DepositJob>(a);
    DepositJob& d = j.job;
    d.points = points_of(a, d.g);
    d.pos = in.input<float>("positions", d.points * d.g.dim);
    d.charge = in.input<float>("charges", d.points, true);
    d.field_of = in.input<int32_t>("fieldOf", d.points, true);
    if (d.batch > 1 && !d.field_of) fail("E_SHAPE", "fieldOf is required when batch > 1");
    check_budget((double)d.g.cells() * d.batch * 12, "deposit");  // fixed-point grid and output
    return j;
  }

  DepositWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.deposit") {}

 protected:
  void Run() override {
    DepositJob& d = j_.job;
    check_positions(d.pos, d.points, d.g);
    if (d.charge) require_finite(d.charge, d.points, "charges");
    if (d.field_of) check_field_of(d.field_of, d.points, d.batch);
    d.out = out_.alloc(d.g.cells() * d.batch);
    run_on(j_.target, d, cpu::deposit, cuda::deposit);
  }
};

class InterpolateWorker : public ArrayWorker<Call<InterpolateJob>, float> {
 public:
  using Job = Call<InterpolateJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<InterpolateJob>(a);
    InterpolateJob& d = j.job;
    d.points = points_of(a, d.g);
    d.pos = in.input<float>("positions", d.points * d.g.dim);
    d.field = in.input<float>("field", d.g.cells() * d.batch);
    d.field_of = in.input<int32_t>("fieldOf", d.points, true);
    return j;
  }

  InterpolateWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.interpolate") {}

 protected:
  void Run() override {
    InterpolateJob& d = j_.job;
    check_positions(d.pos, d.points, d.g);
    require_finite(d.field, d.g.cells() * d.batch, "field");
    if (d.field_of) check_field_of(d.field_of, d.points, d.batch);
    d.out = out_.alloc(d.field_of ? d.points : d.points * d.batch);
    run_on(j_.target, d, cpu::interpolate, cuda::interpolate);
  }
};

class DiffWorker : public ArrayWorker<Call<DiffJob>, float> {
 public:
  using Job = Call<DiffJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<DiffJob>(a);
    DiffJob& d = j.job;
    std::string op = get_string(a, "op", "");
    if (op == "grad") d.op = OP_GRAD;
    else if (op == "div") d.op = OP_DIV;
    else if (op == "curl") d.op = OP_CURL;
    else if (op == "laplacian") d.op = OP_LAPLACIAN;
    else fail("E_RANGE", "op must be 'grad', 'div', 'curl' or 'laplacian' (got '" + op + "')");
    int need = d.op == OP_LAPLACIAN ? 4 : 3;
    for (int ax = 0; ax < d.g.dim; ++ax)
      if (d.g.bc[ax] != BC_PERIODIC && d.g.n[ax] < need)
        fail("E_RANGE", "grid.n[" + std::to_string(ax) + "] must be >= " + std::to_string(need) + " for " + op +
                            " on a non-periodic axis");
    d.in = in.input<float>("input", (idx)op_in_comps(d.op, d.g.dim) * d.g.cells() * d.batch);
    return j;
  }

  DiffWorker(Inputs& in, Job j) : ArrayWorker(in, std::move(j), "semfield.diff") {}

 protected:
  void Run() override {
    DiffJob& d = j_.job;
    idx N = d.g.cells();
    require_finite(d.in, (idx)op_in_comps(d.op, d.g.dim) * N * d.batch, "input");
    d.out = out_.alloc((idx)op_out_comps(d.op, d.g.dim) * N * d.batch);
    run_on(j_.target, d, cpu::diff, cuda::diff);
  }
};

class CondenseWorker : public Worker {
 public:
  using Job = Call<CondenseJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<CondenseJob>(a);
    idx N = j.job.g.cells();
    j.job.field = in.input<float>("field", N * j.job.batch);
    j.job.rho = in.input<float>("rho", N * j.job.batch, true);
    check_budget((double)N * 16 + (double)N * j.job.batch * 4, "condense");  // pointers and labels
    return j;
  }

  CondenseWorker(Inputs& in, Job j) : Worker(in, "semfield.condense"), job_(std::move(j.job)), target_(j.target) {}

 protected:
  void Run() override {
    idx N = job_.g.cells();
    require_finite(job_.field, N * job_.batch, "field");
    if (job_.rho) require_finite(job_.rho, N * job_.batch, "rho");
    job_.labels = labels_.alloc(N * job_.batch);
    job_.cancel = cancel_;
    run_on(target_, job_, cpu::condense, cuda::condense);
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

}  // namespace

Napi::Value Potential(const Napi::CallbackInfo& info) { return launch<PotentialWorker>(info); }
Napi::Value Deposit(const Napi::CallbackInfo& info) { return launch<DepositWorker>(info); }
Napi::Value Interpolate(const Napi::CallbackInfo& info) { return launch<InterpolateWorker>(info); }
Napi::Value Diff(const Napi::CallbackInfo& info) { return launch<DiffWorker>(info); }
Napi::Value Condense(const Napi::CallbackInfo& info) { return launch<CondenseWorker>(info); }

}  // namespace sf
