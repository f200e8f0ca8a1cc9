// Bindings of the time-dependent and spectral mesh operations: the wave
// equation (arguments, the stability check, the outputs of a leapfrog run)
// the modes of -c^2 lap + V and the steady response to a harmonic drive.
#include <cmath>

#include "backend.h"
#include "bindings.h"
#include "mesh_args.h"
#include "worker.h"

namespace sf {

namespace {

class WaveWorker : public Worker {
 public:
  using Job = Call<WaveJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<WaveJob>(a);
    WaveJob& w = j.job;
    const Grid& g = w.g;
    const idx N = g.cells();
    w.c = get_number(a, "c", 1);
    if (!(w.c > 0)) fail("E_RANGE", "c must be > 0");
    w.kappa = get_number(a, "kappa", 0);
    if (w.kappa < 0) fail("E_RANGE", "kappa must be >= 0");
    w.gamma = get_number(a, "damping", 0);
    if (w.gamma < 0) fail("E_RANGE", "damping must be >= 0");
    w.dt = get_number(a, "dt", 0);
    if (!(w.dt > 0)) fail("E_RANGE", "dt must be > 0");
    // Leapfrog is stable while dt^2 (c^2 max eig(-lap) + kappa^2) <= 4, max eig = 4 dim / h^2:
    // c dt sqrt(dim) / h <= 1 without screening (SPEC's CFL condition).
    double limit = 1.0 / std::sqrt(w.c * w.c * g.dim / (g.h * g.h) + w.kappa * w.kappa / 4);
    if (w.dt > limit * (1 + 1e-12))
      fail("E_CFL", "dt = " + num(w.dt) + " violates the CFL condition: c dt sqrt(sum 1/h^2) = " +
                        num(w.c * w.dt * std::sqrt((double)g.dim) / g.h) + "; dt must be at most " + num(limit) +
                        " (c = " + num(w.c) + ", h = " + num(g.h) + ", kappa = " + num(w.kappa) + ")");
    w.steps = (int)get_int(a, "steps", 0, 0, 100000000);
    w.u0 = in.input<float>("u0", N * w.batch);
    w.v0 = in.input<float>("v0", N * w.batch, true);
    w.uprev = in.input<float>("uPrev", N * w.batch, true);
    if (w.v0 && w.uprev) fail("E_TYPE", "give v0 or uPrev, not both");
    Napi::Value s = get(a, "source");
    if (!s.IsUndefined()) {
      long long len = typed<float>(s, "source", -1).ElementLength();
      if (len != N && len != N * w.batch) fail("E_SHAPE", "source must have length " + std::to_string(N) + " or " + std::to_string(N * w.batch));
      w.src_per_field = w.batch > 1 && len == N * w.batch;
      w.src = in.input<float>("source", len);
    }
    Napi::Value f = get(a, "f");
    if (!f.IsUndefined()) {
      if (!w.src) fail("E_TYPE", "f (the source's time profile) needs a source");
      long long len = typed<float>(f, "f", -1).ElementLength();
      if (len != w.steps && len != (long long)w.steps * w.batch)
        fail("E_SHAPE", "f must have length steps = " + std::to_string(w.steps) + " or batch * steps");
      w.f_per_field = w.batch > 1 && len == (long long)w.steps * w.batch;
      w.f = in.input<float>("f", len);
    }
    Napi::Value p = get(a, "probes");
    if (!p.IsUndefined()) {
      long long len = typed<float>(p, "probes", -1).ElementLength();
      if (len % g.dim) fail("E_SHAPE", "probes must be [P, " + std::to_string(g.dim) + "] positions");
      w.np = (int)(len / g.dim);
      w.probes = in.input<float>("probes", len);
    }
    w.every = (int)get_int(a, "every", 0, 0, 100000000);
    w.energy_every = (int)get_int(a, "energyEvery", 0, 0, 100000000);
    double snaps = w.every ? (double)(w.steps / w.every + 1) * N * w.batch : 0;
    double probes = (double)(w.steps + 1) * w.np * w.batch;
    if (snaps + probes > (double)((idx)1 << 31)) fail("E_TOO_LARGE", "snapshots and probe records would hold " + num(snaps + probes) + " values; the limit is 2^31");
    check_budget((double)N * 16 + (snaps + probes) * 4, "wave");
    return j;
  }

  WaveWorker(Inputs& in, Job j) : Worker(in, "semfield.wave"), j_(std::move(j)) {}

 protected:
  void Run() override {
    WaveJob& w = j_.job;
    const idx N = w.g.cells();
    require_finite(w.u0, N * w.batch, "u0");
    if (w.v0) require_finite(w.v0, N * w.batch, "v0");
    if (w.uprev) require_finite(w.uprev, N * w.batch, "uPrev");
    if (w.src) require_finite(w.src, w.src_per_field ? N * w.batch : N, "source");
    if (w.f) require_finite(w.f, w.f_per_field ? (idx)w.steps * w.batch : w.steps, "f");
    if (w.probes) check_positions(w.probes, w.np, w.g, "probes");
    w.u = u_.alloc(N * w.batch);
    w.uprev_out = up_.alloc(N * w.batch);
    if (w.np) w.probe_out = probes_.alloc((idx)(w.steps + 1) * w.np * w.batch);
    if (w.every) w.snaps = snaps_.alloc((idx)(w.steps / w.every + 1) * N * w.batch);
    if (w.energy_every) w.energy = energy_.alloc((idx)(w.steps / w.energy_every + 1) * w.batch);
    w.cancel = cancel_;
    if (wants_progress()) w.progress = [this](int b, int n) { report(b, n, 0); };
    run_on(j_.target, w, cpu::wave, cuda::wave);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("u", u_.release(env));
    o.Set("uPrev", up_.release(env));
    if (probes_.data()) o.Set("probes", probes_.release(env));
    if (snaps_.data()) o.Set("snapshots", snaps_.release(env));
    if (energy_.data()) o.Set("energy", energy_.release(env));
    o.Set("backend", backend_name(j_.target.backend));
    return o;
  }

 private:
  Job j_;
  OutBuf<float> u_, up_, probes_, snaps_;
  OutBuf<double> energy_;
};

class ModesWorker : public Worker {
 public:
  using Job = Call<ModesJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<ModesJob>(a);
    ModesJob& m = j.job;
    const idx N = m.g.cells();
    m.c = get_number(a, "c", 1);
    if (!(m.c > 0)) fail("E_RANGE", "c must be > 0");
    m.k = (int)get_int(a, "k", 1, 1, 256);
    if ((idx)m.k * 4 > N) fail("E_RANGE", "k = " + std::to_string(m.k) + " is too large for a grid of " + std::to_string(N) + " cells (at most cells / 4)");
    m.tol = get_number(a, "tol", 1e-8);
    if (!(m.tol > 0 && m.tol < 1)) fail("E_RANGE", "tol must be in (0, 1)");
    m.max_iter = (int)get_int(a, "maxIter", 1000, 1, 1000000);
    Napi::Value v = get(a, "V");
    if (!v.IsUndefined()) {
      long long len = typed<float>(v, "V", -1).ElementLength();
      if (len != N && len != N * m.batch) fail("E_SHAPE", "V must have length " + std::to_string(N) + " or " + std::to_string(N * m.batch));
      m.v_per_field = m.batch > 1 && len == N * m.batch;
      m.V = in.input<float>("V", len);
    }
    check_budget((double)N * 8 * 3 * m.k * 3 + (double)N * 24, "modes");
    return j;
  }

  ModesWorker(Inputs& in, Job j) : Worker(in, "semfield.modes"), j_(std::move(j)) {}

 protected:
  void Run() override {
    ModesJob& m = j_.job;
    const idx N = m.g.cells();
    if (m.V) require_finite(m.V, m.v_per_field ? N * m.batch : N, "V");
    m.values = values_.alloc((idx)m.k * m.batch);
    m.vectors = vectors_.alloc((idx)m.k * m.batch * N);
    m.cancel = cancel_;
    if (wants_progress()) m.progress = [this](int b, int it, double r) { report(b, it, r); };
    run_on(j_.target, m, cpu::modes, cuda::modes);
  }
  Napi::Value Result(Napi::Env env) override {
    const ModesJob& m = j_.job;
    Napi::Object o = Napi::Object::New(env);
    o.Set("values", values_.release(env));
    o.Set("vectors", vectors_.release(env));
    Napi::Array st = Napi::Array::New(env, m.batch);
    for (int b = 0; b < m.batch; ++b) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("iterations", m.iterations[b]);
      s.Set("residual", m.residual[b]);
      s.Set("converged", (bool)m.converged[b]);
      st.Set((uint32_t)b, s);
    }
    o.Set("fields", st);
    o.Set("backend", backend_name(j_.target.backend));
    return o;
  }

 private:
  Job j_;
  OutBuf<double> values_;
  OutBuf<float> vectors_;
};

class MeshResonanceWorker : public Worker {
 public:
  using Job = Call<MeshResonanceJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j = mesh_call<MeshResonanceJob>(a);
    MeshResonanceJob& r = j.job;
    const idx N = r.g.cells();
    r.c = get_number(a, "c", 1);
    if (!(r.c > 0)) fail("E_RANGE", "c must be > 0");
    r.kappa = get_number(a, "kappa", 0);
    if (r.kappa < 0) fail("E_RANGE", "kappa must be >= 0");
    r.gamma = get_number(a, "damping", 0);
    if (r.gamma < 0) fail("E_RANGE", "damping must be >= 0");
    r.tol = get_number(a, "tol", 1e-8);
    if (!(r.tol > 0 && r.tol < 1)) fail("E_RANGE", "tol must be in (0, 1)");
    r.max_iter = (int)get_int(a, "maxIter", 2000, 1, 1000000);
    r.rho_a = in.input<float>("rhoA", N);
    r.rho_b = in.input<float>("rhoB", N, true);
    if (!r.rho_b) r.rho_b = r.rho_a;
    Napi::TypedArray w = typed<double>(get(a, "w"), "w", -1);
    if (w.ElementLength() == 0 || w.ElementLength() > 100000) fail("E_SHAPE", "w must hold 1 to 100000 frequencies");
    const double* wd = in.input<double>("w", (long long)w.ElementLength());
    for (size_t i = 0; i < w.ElementLength(); ++i) {
      if (!std::isfinite(wd[i]) || wd[i] < 0) fail("E_RANGE", "w[" + std::to_string(i) + "] must be finite and >= 0");
      r.w.push_back(wd[i]);
    }
    // The layout the chosen backend allocates: 4 fp64 Lanczos vectors, two
    // fp32 staging fields, the multigrid hierarchy (3 fp32 arrays over 4/3 N
    // cells and its fp64 solution), and on CUDA the two uploaded charge
    // fields. (Nothing grows with the number of frequencies but W x 4 doubles.)
    const bool cuda = j.target.backend == Backend::Cuda;
    check_budget((double)N * (4 * 8 + 2 * 4 + 12 * 4 / 3.0 + 8 + (cuda ? 2 * 4 : 0)), "resonance");
    return j;
  }

  MeshResonanceWorker(Inputs& in, Job j) : Worker(in, "semfield.resonance"), j_(std::move(j)) {}

 protected:
  void Run() override {
    MeshResonanceJob& r = j_.job;
    const idx N = r.g.cells();
    require_finite(r.rho_a, N, "rhoA");
    require_finite(r.rho_b, N, "rhoB");
    r.out = out_.alloc((idx)r.w.size() * 4);
    r.cancel = cancel_;
    if (wants_progress()) r.progress = [this](int i, int it, double res) { report(i, it, res); };
    run_on(j_.target, r, cpu::resonance_mesh, cuda::resonance_mesh);
  }
  Napi::Value Result(Napi::Env env) override {
    const MeshResonanceJob& r = j_.job;
    Napi::Object o = Napi::Object::New(env);
    o.Set("table", out_.release(env));
    Napi::Int32Array it = Napi::Int32Array::New(env, r.w.size());
    Napi::Uint8Array ok = Napi::Uint8Array::New(env, r.w.size());
    Napi::Float64Array res = Napi::Float64Array::New(env, r.w.size());
    for (size_t i = 0; i < r.w.size(); ++i) {
      it[i] = r.iterations[i];
      ok[i] = r.converged[i] ? 1 : 0;
      res[i] = r.residual[i];
    }
    o.Set("iterations", it);
    o.Set("residual", res);
    o.Set("converged", ok);
    o.Set("backend", backend_name(j_.target.backend));
    return o;
  }

 private:
  Job j_;
  OutBuf<double> out_;
};

}  // namespace

Napi::Value Wave(const Napi::CallbackInfo& info) { return launch<WaveWorker>(info); }
Napi::Value Modes(const Napi::CallbackInfo& info) { return launch<ModesWorker>(info); }
Napi::Value MeshResonance(const Napi::CallbackInfo& info) { return launch<MeshResonanceWorker>(info); }

}  // namespace sf
