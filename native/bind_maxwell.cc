// Binding of the Yee FDTD solver: the grid and its boundaries, materials,
// sources, probes, emf loops, and the Courant check.
#include <cmath>

#include "algo/maxwell.h"
#include "backend.h"
#include "bindings.h"
#include "target_arg.h"
#include "dispatch.h"
#include "worker.h"

namespace sf {

namespace {

const char* kComp[6] = {"Ex", "Ey", "Ez", "Hx", "Hy", "Hz"};

class MaxwellWorker : public Worker {
 public:
  using Job = Call<MaxwellJob>;

  static Job parse(Inputs& in) {
    const Napi::Object& a = in.args;
    Job j;
    j.target = target_of(a);
    MaxwellJob& m = j.job;
    YeeGrid& g = m.g;
    // The grid as the mesh operations read it; bc 0, 1, 2 mean periodic, PEC, CPML here.
    const Grid mesh = parse_grid(get(a, "grid"));
    g.dim = mesh.dim;
    for (int k = 0; k < 3; ++k) {
      g.n[k] = mesh.n[k];
      g.bc[k] = mesh.bc[k];
    }
    if (mesh.cells() > ((idx)1 << 28)) fail("E_TOO_LARGE", "the grid has more than 2^28 cells");
    const idx N = g.cells();
    m.h = mesh.h;
    g.inv_h = (float)(1 / m.h);
    m.dt = get_number(a, "dt", 0);
    double courant = m.h / std::sqrt((double)g.dim);
    if (!(m.dt > 0)) fail("E_RANGE", "dt must be > 0");
    if (m.dt > courant * (1 + 1e-12))
      fail("E_CFL", "dt = " + num(m.dt) + " violates the Courant condition dt <= h / sqrt(dim) = " + num(courant));
    m.steps = (int)get_int(a, "steps", 0, 0, 100000000);
    std::string mode = get_string(a, "mode", g.dim == 3 ? "3D" : "TMz");
    if (g.dim == 2 && mode == "TMz") m.active[0] = m.active[1] = m.active[5] = false;
    else if (g.dim == 2 && mode == "TEz") m.active[2] = m.active[3] = m.active[4] = false;
    else if (!(g.dim == 3 && mode == "3D")) fail("E_RANGE", "mode must be 'TMz' or 'TEz' in 2D and '3D' in 3D (got '" + mode + "')");
    m.batch = (int)get_int(a, "batch", 1, 1, 1 << 16);
    const idx B = m.batch;
    // Per field or shared: a length of B fields or of one.
    auto either = [&](const char* key, idx one, bool& per) -> const float* {
      Napi::Value v = get(a, key);
      if (v.IsUndefined()) return nullptr;
      long long len = typed<float>(v, key, -1).ElementLength();
      if (len != one && len != one * B) fail("E_SHAPE", std::string(key) + " must have length " + std::to_string(one) + " or " + std::to_string(one * B));
      per = B > 1 && len == one * B;
      return in.input<float>(key, len);
    };
    m.eps = either("eps", N, m.eps_per_field);
    m.sigma = either("sigma", N, m.sigma_per_field);
    m.init = either("init", 6 * N, m.init_per_field);
    bool pml = false;
    for (int k = 0; k < g.dim; ++k) pml = pml || g.bc[k] == YEE_CPML;
    if (pml) {
      m.npml = (int)get_int(a, "pmlCells", 10, 1, 4096);
      for (int k = 0; k < g.dim; ++k)
        if (g.bc[k] == YEE_CPML && 2 * m.npml >= g.n[k]) fail("E_RANGE", "pmlCells = " + std::to_string(m.npml) + " leaves no interior along axis " + std::to_string(k));
      m.pml_sigma = get_number(a, "pmlSigma", 0.8 * 4 / m.h);
      m.pml_kappa = get_number(a, "pmlKappa", 1);
      m.pml_alpha = get_number(a, "pmlAlpha", 0);
      if (m.pml_sigma < 0 || m.pml_kappa < 1 || m.pml_alpha < 0) fail("E_RANGE", "pmlSigma >= 0, pmlKappa >= 1 and pmlAlpha >= 0 are required");
    }
    Napi::Value sv = get(a, "sources");
    if (!sv.IsUndefined()) {
      if (!sv.IsArray()) fail("E_TYPE", "sources must be an array");
      Napi::Array sa = sv.As<Napi::Array>();
      int per[3] = {0, 0, 0};
      for (uint32_t i = 0; i < sa.Length(); ++i) {
        if (!sa.Get(i).IsObject()) fail("E_TYPE", "sources[" + std::to_string(i) + "] must be an object");
        Napi::Object so = sa.Get(i).As<Napi::Object>();
        int comp = (int)get_int(so, "component", 0, 0, 2);
        if (++per[comp] > 4) fail("E_RANGE", "at most 4 sources per current component");
        std::string name = "sources[" + std::to_string(i) + "]";
        Napi::TypedArray pr = in.keep(typed<float>(get(so, "profile"), (name + ".profile").c_str(), N));
        Napi::TypedArray f = in.keep(typed<float>(get(so, "f"), (name + ".f").c_str(), m.steps));
        m.sources.push_back({comp, typed_data<float>(pr), typed_data<float>(f)});
      }
    }
    Napi::Value pv = get(a, "probes");
    if (!pv.IsUndefined()) {
      Napi::TypedArray p = typed<int32_t>(pv, "probes", -1);
      if (p.ElementLength() % 4) fail("E_SHAPE", "probes must be [P, 4]: component, i, j, k");
      const int32_t* pd = in.input<int32_t>("probes", (long long)p.ElementLength());
      for (size_t i = 0; i < p.ElementLength() / 4; ++i) {
        int comp = pd[4 * i];
        if (comp < 0 || comp > 5) fail("E_RANGE", "probes[" + std::to_string(i) + "]: component must be 0..5 (Ex Ey Ez Hx Hy Hz)");
        for (int k = 0; k < 3; ++k)
          if (pd[4 * i + 1 + k] < 0 || pd[4 * i + 1 + k] >= g.n[k])
            fail("E_RANGE", "probes[" + std::to_string(i) + "]: index " + std::to_string(k) + " lies outside the grid");
        if (!m.active[comp]) fail("E_RANGE", std::string("probes[") + std::to_string(i) + "]: " + kComp[comp] + " is not part of mode " + mode);
        m.probe_comp.push_back(comp);
        m.probe_cell.push_back(((idx)pd[4 * i + 3] * g.n[1] + pd[4 * i + 2]) * g.n[0] + pd[4 * i + 1]);
      }
    }
    Napi::Value lv = get(a, "loops");
    if (!lv.IsUndefined()) {
      if (!lv.IsArray()) fail("E_TYPE", "loops must be an array of Int32Array vertex lists");
      Napi::Array la = lv.As<Napi::Array>();
      for (uint32_t l = 0; l < la.Length(); ++l) m.loops.push_back(parse_loop(in, la.Get(l), l, m, mode));
    }
    m.energy_every = (int)get_int(a, "energyEvery", 0, 0, 100000000);
    m.every = (int)get_int(a, "every", 0, 0, 100000000);
    double rec = m.batch * ((double)(m.steps + 1) * (m.probe_comp.size() + m.loops.size()) + (m.every ? (double)(m.steps / m.every + 1) * 6 * N : 0));
    if (rec > (double)((idx)1 << 31)) fail("E_TOO_LARGE", "records and snapshots would hold more than 2^31 values");
    check_budget((double)N * 4 * (6 + 2 + 3 + (pml ? 12 : 0)) + rec * 4 + (double)m.batch * 6 * N * 4, "maxwell");
    return j;
  }

  // A closed loop of axis-aligned segments between grid nodes: its edges.
  static std::vector<MaxwellJob::Edge> parse_loop(Inputs& in, const Napi::Value& v, uint32_t l, const MaxwellJob& m, const std::string& mode) {
    const YeeGrid& g = m.g;
    std::string name = "loops[" + std::to_string(l) + "]";
    Napi::TypedArray t = in.keep(typed<int32_t>(v, name.c_str(), -1));
    if (t.ElementLength() % 3 || t.ElementLength() < 12) fail("E_SHAPE", name + " must be [V, 3] node indices with at least 4 vertices");
    const int32_t* p = typed_data<int32_t>(t);
    size_t nv = t.ElementLength() / 3;
    for (int k = 0; k < 3; ++k)
      if (p[k] != p[3 * (nv - 1) + k]) fail("E_RANGE", name + " is not closed: its last vertex must equal its first");
    std::vector<MaxwellJob::Edge> edges;
    for (size_t s = 0; s + 1 < nv; ++s) {
      const int32_t* a = p + 3 * s;
      const int32_t* b = p + 3 * (s + 1);
      int axis = -1, moved = 0;
      for (int k = 0; k < 3; ++k) {
        if (a[k] < 0 || a[k] > g.n[k] || (g.n[k] == 1 && a[k] != 0)) fail("E_RANGE", name + ": vertex " + std::to_string(s) + " lies outside the grid's nodes");
        if (a[k] != b[k]) axis = k, ++moved;
      }
      if (moved != 1) fail("E_RANGE", name + ": segment " + std::to_string(s) + " must run along one axis");
      if (!m.active[axis]) fail("E_RANGE", name + std::string(": ") + kComp[axis] + " is not part of mode " + mode + " (in 2D loops lie in the xy-plane of TEz)");
      int step = b[axis] > a[axis] ? 1 : -1;
      for (int x = a[axis]; x != b[axis]; x += step) {
        int c[3] = {a[0], a[1], a[2]};
        c[axis] = step > 0 ? x : x - 1;  // the edge's lower node
        bool wall = false;
        for (int k = 0; k < 3; ++k) {
          if (c[k] == g.n[k]) {
            if (g.bc[k] == YEE_PERIODIC) c[k] = 0;
            else wall = true;  // on the far PEC wall: tangential E is 0
          }
        }
        if (wall) continue;
        edges.push_back({axis, ((idx)c[2] * g.n[1] + c[1]) * g.n[0] + c[0], (float)step});
      }
    }
    return edges;
  }

  MaxwellWorker(Inputs& in, Job j) : Worker(in, "semfield.maxwell"), j_(std::move(j)) {}

 protected:
  void Run() override {
    MaxwellJob& m = j_.job;
    const idx N = m.g.cells();
    const idx B = m.batch;
    if (m.eps) {
      idx n = m.eps_per_field ? N * B : N;
      require_finite(m.eps, n, "eps");
      for (idx i = 0; i < n; ++i)
        if (m.eps[i] < 1) fail("E_RANGE", "eps[" + std::to_string(i) + "] = " + num(m.eps[i]) + " must be >= 1");
    }
    if (m.sigma) {
      idx n = m.sigma_per_field ? N * B : N;
      require_finite(m.sigma, n, "sigma");
      for (idx i = 0; i < n; ++i)
        if (m.sigma[i] < 0) fail("E_RANGE", "sigma[" + std::to_string(i) + "] = " + num(m.sigma[i]) + " must be >= 0");
    }
    if (m.init) require_finite(m.init, m.init_per_field ? 6 * N * B : 6 * N, "init");
    for (size_t s = 0; s < m.sources.size(); ++s) {
      require_finite(m.sources[s].profile, N, ("sources[" + std::to_string(s) + "].profile").c_str());
      require_finite(m.sources[s].f, m.steps, ("sources[" + std::to_string(s) + "].f").c_str());
    }
    m.fields = fields_.alloc(B * 6 * N);
    const idx P = (idx)m.probe_comp.size(), L = (idx)m.loops.size();
    m.probes = probes_.alloc(B * (m.steps + 1) * P);
    m.emf = emf_.alloc(B * (m.steps + 1) * L);
    if (m.energy_every) m.energy = energy_.alloc(B * (m.steps / m.energy_every + 1));
    if (m.every) m.snaps = snaps_.alloc(B * (m.steps / m.every + 1) * 6 * N);
    m.cancel = cancel_;
    if (wants_progress()) m.progress = [this](int n) { report(0, n, 0); };
    run_on(j_.target, m, cpu::maxwell, cuda::maxwell);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("fields", fields_.release(env));
    o.Set("probes", probes_.release(env));
    o.Set("emf", emf_.release(env));
    if (energy_.data()) o.Set("energy", energy_.release(env));
    if (snaps_.data()) o.Set("snapshots", snaps_.release(env));
    o.Set("backend", backend_name(j_.target.backend));
    return o;
  }

 private:
  Job j_;
  OutBuf<float> fields_, probes_, emf_, snaps_;
  OutBuf<double> energy_;
};

}  // namespace

Napi::Value Maxwell(const Napi::CallbackInfo& info) { return launch<MaxwellWorker>(info); }

}  // namespace sf
