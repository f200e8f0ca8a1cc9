// The core kernels without Node. Besides the numbers themselves, every
// operation is run twice on the CPU: once by the CPU backend's drivers (row
// sweeps, tiles) and once by the generic drivers the CUDA backend launches,
// here on PlainExec, a CpuExec the CPU overloads do not match. Agreement to
// 1e-5 checks the CUDA backend's driver logic on machines without a GPU.
// The pair engine's own tests are in pairs_test.cc.
#include <atomic>
#include <chrono>
#include <thread>
#include <cfloat>
#include <cmath>
#include <complex>
#include <cstring>
#include <cstdio>
#include <functional>
#include <string>
#include <random>
#include <stdexcept>
#include <vector>

#include "algo/helmholtz.h"
#include "algo/mesh_ops.h"
#include "backend.h"
#include "device.h"
#include "exec_cpu.h"
#include "mg_cpu.h"
#include "pca.h"
#include "potential_field.h"
#include "fractal/codec.h"
#include "fractal/ifs.h"
#include "fractal/ifs_check.h"
#include "algo/maxwell.h"
#include "algo/wave.h"
#include "wave_cpu.h"

using namespace sf;

struct PlainExec : CpuExec {};

static int passed = 0, failed = 0;

// A CpuExec that reports itself as a device: drivers take their GPU paths
// (atomics, one chain per thread) and run them on the CPU.
struct AtomicExec : CpuExec {
  static constexpr bool on_device = true;
};

static void check(bool ok, const std::string& what) {
  if (ok) ++passed;
  else {
    ++failed;
    std::printf("FAIL %s\n", what.c_str());
  }
}

template <class A, class B>
static double rel_diff(const A& a, const B& b, size_t n) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; ++i) {
    d = std::max(d, std::fabs((double)a[i] - (double)b[i]));
    s = std::max(s, std::fabs((double)b[i]));
  }
  return s > 0 ? d / s : d;
}

static std::vector<float> wave(size_t n, double f, double s = 0) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (float)std::sin(f * (double)i + s);
  return v;
}

// The n^dim grid of the unit square or cube with one boundary kind.
static Grid unit_grid(int dim, int n, int bc) {
  Grid g{};
  g.dim = dim;
  for (int a = 0; a < 3; ++a) {
    g.n[a] = a < dim ? n : 1;
    g.bc[a] = bc;
  }
  g.h = 1.0 / n;
  return g;
}

// A potential job for one field: tol, and held cells when mask is given.
static PotentialJob potential_job(const Grid& g, const float* rho, float* phi, double tol, const unsigned char* mask = nullptr,
                                  const float* anchor = nullptr) {
  PotentialJob j;
  j.g = g;
  j.opt.tol = tol;
  j.rho = rho;
  j.mask = mask;
  j.anchor = anchor;
  j.phi = phi;
  j.stats.assign(1, SolveStats{});
  return j;
}

static void potential_tests() {
  const double PI = 3.14159265358979;
  for (int bc : {BC_DIRICHLET, BC_NEUMANN, BC_PERIODIC})
    for (int dim : {2, 3}) {
      int n = dim == 2 ? 64 : 16;
      Grid g = unit_grid(dim, n, bc);
      idx N = g.cells();
      std::vector<float> rho(N), exact(N);
      for (idx c = 0; c < N; ++c) {
        int x, y, z;
        g.coords(c, x, y, z);
        double w = bc == BC_PERIODIC ? 2 * PI : PI;
        auto f = [&](int i) { return bc == BC_NEUMANN ? std::cos(w * (i + 0.5) * g.h) : std::sin(w * (i + 0.5) * g.h); };
        double u = f(x) * f(y) * (dim == 3 ? f(z) : 1.0);
        exact[c] = (float)u;
        rho[c] = (float)(dim * w * w * u);
      }
      std::vector<unsigned char> mask(N, 0);
      std::vector<float> anchor(N, 0.0f);
      for (int pass = 0; pass < 2; ++pass) {
        bool anchored = pass == 1;
        if (anchored)
          for (idx c = N / 3; c < N / 3 + n; ++c) {
            mask[c] = 1;
            anchor[c] = exact[c];
          }
        std::vector<float> phi_cpu(N), phi_gen(N), e_cpu(dim * N), e_gen(dim * N);
        auto job = [&](float* phi, float* e) {
          PotentialJob j = potential_job(g, rho.data(), phi, 1e-9, anchored ? mask.data() : nullptr, anchored ? anchor.data() : nullptr);
          j.efield = e;
          return j;
        };
        PotentialJob a = job(phi_cpu.data(), e_cpu.data());
        cpu::potential(a);
        PotentialJob b = job(phi_gen.data(), e_gen.data());
        PlainExec ex;
        potential_field(ex, b, 0);
        std::string tag = "potential dim " + std::to_string(dim) + " bc " + std::to_string(bc) + (anchored ? " anchored" : "");
        check(a.stats[0].converged && b.stats[0].converged, tag + ": both converge");
        check(rel_diff(phi_gen, phi_cpu, N) < 1e-5, tag + ": generic drivers agree with the CPU drivers");
        check(rel_diff(e_gen, e_cpu, dim * N) < 1e-4, tag + ": E agrees");
        if (!anchored) check(rel_diff(phi_cpu, exact, N) < (dim == 2 ? 2e-3 : 2e-2), tag + ": close to the exact solution");
      }
      // One full multigrid cycle (tol 'discretization'): the CPU's cubic
      // interpolation by rows against the generic per-cell passes.
      std::vector<float> phi_cpu(N), phi_gen(N);
      auto once = [&](float* phi) {
        PotentialJob j = potential_job(g, rho.data(), phi, SolveOptions().tol);
        j.opt.discretization = true;
        return j;
      };
      PotentialJob a = once(phi_cpu.data());
      cpu::potential(a);
      PotentialJob b = once(phi_gen.data());
      PlainExec ex;
      potential_field(ex, b, 0);
      std::string tag = "full multigrid cycle dim " + std::to_string(dim) + " bc " + std::to_string(bc);
      check(a.stats[0].cycles == 1 && b.stats[0].cycles == 1 && a.stats[0].converged, tag + ": one cycle");
      check(rel_diff(phi_gen, phi_cpu, N) < 1e-5, tag + ": generic drivers agree with the CPU drivers");
      check(rel_diff(phi_cpu, exact, N) < (dim == 2 ? 2e-3 : 2e-2), tag + ": at the discretisation error");
    }
  // The cubic interpolation alone, on rough data and odd coarse sizes (the
  // CPU's edge cells and its n < 5 path), every boundary: rows against cells.
  for (int bc : {BC_DIRICHLET, BC_NEUMANN, BC_PERIODIC})
    for (int dim : {2, 3})
      for (int n : {2, 3, 4, 5, 7, 12}) {
        Grid gc = unit_grid(dim, n, bc);
        for (int a = 1; a < dim; ++a) gc.n[a] += a;  // unequal sides
        Grid gf = gc;
        for (int a = 0; a < dim; ++a) gf.n[a] *= 2;
        gf.h = gc.h / 2;
        idx nc = gc.cells(), nf = gf.cells();
        std::vector<double> pc(nc), a(nf), b(nf), t1(nf), t2(nf);
        for (idx i = 0; i < nc; ++i) pc[i] = std::sin(1.7 * (double)i) + 0.01 * (double)i;
        CpuExec ce;
        PlainExec pe;
        prolong_solution(ce, gc, pc.data(), gf, a.data(), t1.data(), t2.data());
        prolong_solution(pe, gc, pc.data(), gf, b.data(), t1.data(), t2.data());
        check(rel_diff(a, b, nf) < 1e-14, "cubic interpolation rows vs cells, dim " + std::to_string(dim) + " bc " +
                                              std::to_string(bc) + " n " + std::to_string(n));
      }
  // Full multigrid's first restriction, by rows on the CPU against the
  // generic per-cell form: the coarse right-hand side bit for bit, the norm
  // to rounding (the squares are summed in another order).
  for (int bc : {BC_DIRICHLET, BC_PERIODIC})
    for (int dim : {2, 3})
      for (int n : {4, 6, dim == 2 ? 256 : 32}) {
        Grid gf = unit_grid(dim, n, bc);
        for (int a = 1; a < dim; ++a) gf.n[a] += 2 * a;
        const Grid gc = gf.coarse();
        std::vector<float> rho = wave(gf.cells(), 0.41, 0.3), a(gc.cells()), b(gc.cells());
        CpuExec ce;
        PlainExec pe;
        for (double shift : {0.0, 0.3}) {
          const double na = restrict_rhs(ce, gf, rho.data(), shift, gc, a.data());
          const double nb = restrict_rhs(pe, gf, rho.data(), shift, gc, b.data());
          check(std::memcmp(a.data(), b.data(), gc.cells() * sizeof(float)) == 0 && std::fabs(na - nb) <= 1e-12 * nb,
                "first restriction by rows vs cells, dim " + std::to_string(dim) + " n " + std::to_string(n) + " shift " +
                    std::to_string(shift));
        }
      }
  // Full multigrid's finest level on the CPU, where the interpolated answer
  // is formed slab by slab and stored only when asked: its residual and
  // answer are those of storing it (prolong_solution, outer_residual,
  // last_correction), bit for bit, on small grids and on grids cut into
  // several ranges of slabs, every boundary and both dimensions.
  for (int bc : {BC_DIRICHLET, BC_NEUMANN, BC_PERIODIC})
    for (int dim : {2, 3})
      for (int n : {2, 3, 5, dim == 2 ? 128 : 24}) {
        Grid gc = unit_grid(dim, n, bc);
        for (int a = 1; a < dim; ++a) gc.n[a] += 2 * a;  // unequal sides
        Grid gf = gc;
        for (int a = 0; a < dim; ++a) gf.n[a] *= 2;
        gf.h = gc.h / 2;
        const idx nc = gc.cells(), nf = gf.cells();
        std::vector<double> pc(nc), stored(nf), kept(nf, -1.0), untouched(nf, -1.0), none;
        for (idx i = 0; i < nc; ++i) pc[i] = std::sin(0.37 * (double)i) + 0.01 * (double)(i % 11);
        std::vector<float> rho = wave(nf, 0.29), e = wave(nf, 0.013, 0.25), r1(nf), r2(nf), r3(nf), out1(nf), out2(nf);
        CpuExec ce;
        const std::string tag = "finest full multigrid level, dim " + std::to_string(dim) + " bc " + std::to_string(bc) +
                                " coarse n " + std::to_string(n);
        for (double shift : {0.0, 0.25}) {
          prolong_solution(ce, gc, pc.data(), gf, stored.data(), nullptr, nullptr);
          outer_residual(ce, gf, stored.data(), rho.data(), shift, nullptr, r1.data(), 0.75);
          double sum_kept = 0, sum_untouched = 0, sum_stored = 0;
          fmg_finest_residual(ce, gc, pc.data(), gf, kept.data(), nullptr, nullptr, rho.data(), shift, r2.data(), 0.75, true,
                              &sum_kept);
          fmg_finest_residual(ce, gc, pc.data(), gf, untouched.data(), nullptr, nullptr, rho.data(), shift, r3.data(), 0.75, false,
                              &sum_untouched);
          double scale = 0;
          for (idx i = 0; i < nf; ++i) sum_stored += stored[i], scale += std::fabs(stored[i]);
          check(sum_kept == sum_untouched && std::fabs(sum_kept - sum_stored) <= 1e-13 * scale,
                tag + ": the sum of the interpolation, formed slab by slab, is that of the stored one");
          check(std::memcmp(r1.data(), r2.data(), nf * sizeof(float)) == 0 && std::memcmp(r1.data(), r3.data(), nf * sizeof(float)) == 0,
                tag + ": the residual is that of the stored interpolation, bit for bit");
          check(std::memcmp(stored.data(), kept.data(), nf * sizeof(double)) == 0, tag + ": keep_phi stores the interpolation");
          bool left = true;
          for (idx i = 0; i < nf; ++i) left = left && untouched[i] == -1.0;
          check(left, tag + ": without keep_phi phi is not written");
          // (A mean to subtract with a shift, as a singular problem has.)
          const double mean = shift == 0 ? 0.0 : 0.3125;
          double ea = 0, eb = 0;
          std::vector<double> p = stored;
          const double na = last_correction(ce, gf, p.data(), e.data(), rho.data(), shift, r1.data(), 0.75, out1.data(), &ea, mean);
          const double nb = fmg_last_correction(ce, gc, pc.data(), gf, untouched.data(), e.data(), rho.data(), shift, r2.data(), 0.75,
                                                out2.data(), &eb, mean);
          check(std::memcmp(out1.data(), out2.data(), nf * sizeof(float)) == 0 && na == nb && ea == eb,
                tag + " shift " + std::to_string(shift) + ": the last correction from the coarse answer is that from the stored one, bit for bit");
          bool answer = true;
          for (idx i = 0; i < nf; ++i) answer = answer && out1[i] == (float)(stored[i] + (double)e[i] - mean);
          check(answer, tag + " shift " + std::to_string(shift) + ": the answer is phi + e less the mean, rounded once");
        }
      }
}

// Full multigrid's wall ramp (transfer_k.h): on every ramped wall it takes
// g = -(3/8) h^2 f at the wall's cells, its profiles solve -u'' + k^2 u = 0
// along each axis, and it is the Boolean sum of its walls (so a constant g
// gives s = g everywhere without screening). Full multigrid ramps 2D grids
// only (wall_ramp_axes); the ramp itself is taken here on every Dirichlet
// axis in 2D and 3D.
// The corner solve (algo/multigrid.h): its basis is the square's
// eigenvectors; with the gate open it zeroes the residual on the four
// squares, changes phi there only, and keeps r, out, sum rho out and the
// returned ||r||^2 those of the new phi; closed, it changes nothing; the
// CPU's transforms by rows agree with the generic ones.
static void corner_solve_tests() {
  CpuExec ex;
  const int p = kCornerSquare;
  {
    CornerSolve c = corner_solve_basis(ex);
    double orth = 0, eig = 0, tr = 0;
    for (int k = 0; k < p; ++k) {
      for (int l = 0; l < p; ++l) {
        double d = 0;
        for (int i = 0; i < p; ++i) d += c.V[i * p + k] * c.V[i * p + l];
        orth = std::max(orth, std::fabs(d - (k == l ? 1.0 : 0.0)));
      }
      for (int i = 0; i < p; ++i) {
        const double tv = (i == 0 ? 3.0 : 2.0) * c.V[i * p + k] - (i > 0 ? c.V[(i - 1) * p + k] : 0.0) -
                          (i < p - 1 ? c.V[(i + 1) * p + k] : 0.0);
        eig = std::max(eig, std::fabs(tv - c.lam[k] * c.V[i * p + k]));
        tr = std::max(tr, std::fabs(c.Vt[k * p + i] - c.V[i * p + k]));
      }
    }
    check(orth < 1e-13, "corner solve: the basis is orthonormal");
    check(eig < 1e-13, "corner solve: the basis holds T's eigenvectors (3 at the wall cell, 0 beyond the square)");
    check(tr == 0, "corner solve: Vt is V's transpose");
  }
  const int shapes[][2] = {{264, 256}, {256, 288}};
  for (const auto& sh : shapes)
    for (double k2 : {0.0, 900.0}) {
      Grid g;
      g.dim = 2;
      g.n[0] = sh[0];
      g.n[1] = sh[1];
      g.n[2] = 1;
      for (int a = 0; a < 3; ++a) g.bc[a] = a < 2 ? BC_DIRICHLET : BC_PERIODIC;
      g.h = 1.0 / g.n[0];
      const std::string tag = "corner solve " + std::to_string(g.n[0]) + "x" + std::to_string(g.n[1]) + " k2 " +
                              std::to_string((int)k2);
      check(corner_solve_applies(g), tag + ": applies");
      {
        Grid s2 = g;
        s2.n[1] = 8 * kCornerSquare - 2;
        Grid s3 = g;
        s3.bc[0] = BC_NEUMANN;
        check(!corner_solve_applies(s2) && !corner_solve_applies(s3), tag + ": not on small grids or other walls");
      }
      const idx N = g.cells();
      std::vector<float> rho = wave(N, 0.31, 0.2), r(N), out(N);
      std::vector<double> phi(N);
      for (idx i = 0; i < N; ++i) phi[i] = 1e-4 * std::sin(0.7 * (double)i) + 1e-3;
      const double rn2 = outer_residual(ex, g, phi.data(), rho.data(), 0.0, nullptr, r.data(), k2);
      double rho_out = 0;
      for (idx i = 0; i < N; ++i) {
        out[i] = (float)phi[i];
        rho_out += (double)rho[i] * (double)out[i];
      }
      CornerSolve c = corner_solve_basis(ex);
      // Closed: what lies outside the squares is above target.
      std::vector<double> phi1 = phi;
      std::vector<float> r1 = r, out1 = out;
      double ro1 = rho_out;
      const double same = corner_solve(ex, g, c, phi1.data(), rho.data(), r1.data(), k2, out1.data(), &ro1, rn2, 0.5 * rn2);
      check(same == rn2 && phi1 == phi && r1 == r && out1 == out && ro1 == rho_out, tag + ": closed, nothing changes");
      check(corner_solve(ex, g, c, phi1.data(), rho.data(), r1.data(), k2, out1.data(), &ro1, rn2, rn2) == rn2 &&
                phi1 == phi,
            tag + ": a residual within the target is left as it is");
      // Open.
      const double got = corner_solve(ex, g, c, phi1.data(), rho.data(), r1.data(), k2, out1.data(), &ro1, rn2, 0.99 * rn2);
      std::vector<float> rf(N);
      const double full = outer_residual(ex, g, phi1.data(), rho.data(), 0.0, nullptr, rf.data(), k2);
      check(std::fabs(got - full) <= 1e-12 * full, tag + ": the returned ||r||^2 is the new phi's (" + std::to_string(got) + " " + std::to_string(full) + " " + std::to_string(rn2) + ")");
      check(full < 0.95 * rn2, tag + ": the residual falls");
      check(r1 == rf, tag + ": r is the new phi's residual");
      double sq = 0, sq0 = 0, ro = 0;
      bool only_squares = true, rounded = true;
      for (int y = 0; y < g.n[1]; ++y)
        for (int x = 0; x < g.n[0]; ++x) {
          const idx i = g.at(x, y, 0);
          const bool in = std::min(x, g.n[0] - 1 - x) < p && std::min(y, g.n[1] - 1 - y) < p;
          if (in) {
            sq = std::max(sq, std::fabs((double)rf[i]));
            sq0 = std::max(sq0, std::fabs((double)r[i]));
          } else if (phi1[i] != phi[i]) {
            only_squares = false;
          }
          rounded = rounded && out1[i] == (float)phi1[i];
          ro += (double)rho[i] * (double)out1[i];
        }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2e", sq / sq0);
      // (to the rounding of the stored residual it starts from)
      check(sq <= 1e-6 * sq0, tag + ": the squares' residual is zeroed (" + buf + ")");
      check(only_squares, tag + ": phi changes on the squares only");
      check(rounded && std::fabs(ro1 - ro) <= 1e-10 * std::fabs(ro), tag + ": out and sum rho out follow phi");
      // The CPU's transforms by rows against the generic ones.
      CornerSolve c2 = corner_solve_basis(ex);
      std::vector<float> rw = wave(4 * (size_t)p * p, 0.13);
      for (int i = 0; i < 4 * p * p; ++i) c.a[i] = c2.a[i] = rw[(size_t)i];
      corner_transforms(ex, c, 1.0 / (g.h * g.h), k2);
      PlainExec pe;
      corner_transforms(pe, c2, 1.0 / (g.h * g.h), k2);
      check(rel_diff(c.a, c2.a, 4 * (size_t)p * p) < 1e-13, tag + ": rows agree with the generic transforms");
    }
}

static void wall_ramp_tests() {
  const int shapes[][3] = {{16, 12, 1}, {8, 8, 8}, {12, 10, 16}};
  const int bcs[][3] = {{BC_DIRICHLET, BC_DIRICHLET, BC_DIRICHLET},
                        {BC_DIRICHLET, BC_PERIODIC, BC_DIRICHLET},
                        {BC_PERIODIC, BC_DIRICHLET, BC_NEUMANN}};
  for (const auto& sh : shapes)
    for (const auto& bc : bcs)
      for (double k2 : {0.0, 40.0}) {
        Grid g;
        g.dim = sh[2] == 1 ? 2 : 3;
        for (int a = 0; a < 3; ++a) {
          g.n[a] = sh[a];
          g.bc[a] = a < g.dim ? bc[a] : BC_PERIODIC;
        }
        g.h = 1.0 / g.n[0];
        const idx N = g.cells();
        const std::string tag = "wall ramp " + std::to_string(g.n[0]) + "x" + std::to_string(g.n[1]) + "x" +
                                std::to_string(g.n[2]) + " bc " + std::to_string(bc[0]) + std::to_string(bc[1]) +
                                std::to_string(bc[2]) + " k2 " + std::to_string((int)k2);
        CpuExec ex;
        int mask = 0;
        for (int a = 0; a < g.dim; ++a)
          if (bc[a] == BC_DIRICHLET) mask |= 1 << a;
        check(wall_ramp_axes(g) == (g.dim == 2 ? mask : 0), tag + ": full multigrid ramps the Dirichlet axes in 2D");
        std::vector<double> prof((size_t)std::max<idx>(1, wall_profiles_size(g, mask))),
            vals((size_t)std::max<idx>(1, wall_values_size(g, mask)));
        const double h = g.h / 2, c = -0.375 * h * h;  // the fine level's h
        // f = 1 everywhere: g = c on every wall
        std::vector<float> one(N, 1.0f);
        WallRamp w = wall_ramp_profiles(ex, g, k2, prof.data(), mask);
        wall_ramp_values(ex, g, one.data(), h, vals.data(), w);
        double worst = 0;
        for (int z = 0; z < g.n[2]; ++z)
          for (int y = 0; y < g.n[1]; ++y)
            for (int x = 0; x < g.n[0]; ++x) {
              const double s = w.at(x, y, z);
              // The value the walls' profiles give: 1 - prod over ramped axes of (1 - phi0 - phi1).
              double rest = 1;
              const int p[3] = {x, y, z};
              for (int a = 0; a < 3; ++a)
                if (w.mask >> a & 1) rest *= 1 - w.prof[a][p[a]] - w.prof[a][g.n[a] + p[a]];
              worst = std::max(worst, std::fabs(s - c * (1 - rest)));
            }
        check(worst <= 1e-12 * std::fabs(c), tag + ": a constant wall value is the Boolean sum of the profiles");
        if (k2 == 0) check(w.mask == 0 || std::fabs(w.at(g.n[0] / 2, g.n[1] / 2, g.n[2] / 2) - c) < 1e-12 * std::fabs(c),
                           tag + ": without screening a constant wall value is constant inside");
        // Rough f: each face takes its own cells' values, and the CPU's rows
        // (add_wall_ramp) agree with the per-cell form.
        std::vector<float> rho = wave(N, 0.37, 0.5);
        WallRamp v = w;
        wall_ramp_values(ex, g, rho.data(), h, vals.data(), v);
        std::vector<double> rows(N, 0.0), cells(N, 0.0);
        add_wall_ramp(ex, g, rows.data(), v);
        PlainExec pe;
        add_wall_ramp(pe, g, cells.data(), v);
        check(rel_diff(rows, cells, N) < 1e-13, tag + ": rows agree with cells");
        for (int a = 0; a < 3; ++a) {
          if (!(v.mask >> a & 1)) continue;
          const int S = 1 << a;
          const idx oc = v.others(S);
          double e = 0;
          for (idx i = 0; i < 2 * oc; ++i) {
            int q[3] = {0, 0, 0};
            idx r = i % oc;
            for (int b = 0; b < 3; ++b)
              if (b != a) {
                q[b] = (int)(r % g.n[b]);
                r /= g.n[b];
              }
            q[a] = i / oc ? g.n[a] - 1 : 0;
            e = std::max(e, std::fabs(v.G[S][i] - c * (double)rho[g.at(q[0], q[1], q[2])]));
          }
          check(e <= 1e-15, tag + ": face " + std::to_string(a) + " takes c f of its cells");
        }
        // The profiles: 1 at the wall, 0 at the other, and -phi'' + k2 phi = 0.
        for (int a = 0; a < 3; ++a) {
          if (!(v.mask >> a & 1)) continue;
          const int n = g.n[a];
          const double* p = v.prof[a];
          double worst_ode = 0;
          for (int i = 1; i + 1 < n; ++i) {
            const double r2 = (p[i - 1] - 2 * p[i] + p[i + 1]) / (g.h * g.h);
            worst_ode = std::max(worst_ode, std::fabs(-r2 + k2 * p[i]) / (1 + k2));
          }
          const double ends = std::fabs(0.5 * (3 * p[0] - p[1]) - 1) + std::fabs(0.5 * (3 * p[n - 1] - p[n - 2]));
          check(worst_ode < 0.1 * k2 * k2 * g.h * g.h + 1e-9 && ends < k2 * g.h * g.h + 1e-12 &&
                    std::fabs(p[n + 3] - p[n - 4]) < 1e-15,
                tag + ": axis " + std::to_string(a) + " profiles");
        }
      }
}

// A device's multigrid stops at kHostCoarseCells and solves that level by
// the host's multigrid (AtomicExec takes the device path on the CPU): the
// same answer as the CPU backend, in as many cycles, every boundary, with
// and without held cells.
// The CPU smoother takes two sweeps in one pass (a wavefront over the slabs,
// blocks per thread, fills at the block edges and the periodic wrap): bit for
// bit the sweeps taken one at a time, on one thread and on all, for every
// boundary, with and without held cells, on grids too small for the
// wavefront (fewer than 8 slabs) and large enough to be split.
static void smoother_tests() {
  struct Shape {
    int dim, nx, ny, nz;
  };
  const Shape shapes[] = {{2, 16, 6, 1}, {2, 12, 8, 1}, {2, 40, 17, 1}, {2, 256, 256, 1}, {2, 64, 1024, 1},
                          {3, 8, 8, 8},  {3, 10, 12, 9}, {3, 64, 64, 32}, {3, 32, 32, 96}};
  for (const Shape& sh : shapes)
    for (int bc : {BC_DIRICHLET, BC_NEUMANN, BC_PERIODIC})
      for (bool held : {false, true}) {
        Grid g = unit_grid(sh.dim, sh.nx, bc);
        g.n[1] = sh.ny;
        g.n[2] = sh.nz;
        const idx N = g.cells();
        std::vector<float> f = wave(N, 0.37), u0 = wave(N, 0.011, 1.0);
        std::vector<unsigned char> mask(N, 0);
        for (idx c = 0; c < N; c += 23) mask[c] = 1;
        std::string tag = "smoother " + std::to_string(sh.nx) + "x" + std::to_string(sh.ny) + "x" + std::to_string(sh.nz) + " bc " +
                          std::to_string(bc) + (held ? " held" : "");
        for (int sweeps : {2, 3}) {
          std::vector<float> one = u0, fused = u0, serial = u0;
          MgLevel L{g, one.data(), f.data(), nullptr, held ? mask.data() : nullptr};
          CpuExec ex, ex1(false);
          for (int s = 0; s < sweeps; ++s) rbgs(ex, L, 0.5f, 1, 1.15f);
          L.u = fused.data();
          rbgs(ex, L, 0.5f, sweeps, 1.15f);
          L.u = serial.data();
          rbgs(ex1, L, 0.5f, sweeps, 1.15f);
          check(std::memcmp(one.data(), fused.data(), N * sizeof(float)) == 0,
                tag + ": " + std::to_string(sweeps) + " sweeps in one call are the sweeps one by one, bit for bit");
          check(std::memcmp(serial.data(), fused.data(), N * sizeof(float)) == 0,
                tag + ": " + std::to_string(sweeps) + " sweeps on one thread and on all, bit for bit");
        }
        {
          // The CPU's row forms (rows beside walls and across periodic wraps
          // included) against the generic per-cell launches, bit for bit: a
          // sweep, the residual, the residual restricted and the coarse
          // correction added.
          CpuExec cx;
          PlainExec px;
          std::vector<float> a = u0, b = u0, ra(N), rb(N);
          MgLevel La{g, a.data(), f.data(), ra.data(), held ? mask.data() : nullptr}, Lb = La;
          Lb.u = b.data();
          Lb.r = rb.data();
          rbgs(cx, La, 0.5f, 1, 1.15f);
          rbgs(px, Lb, 0.5f, 1, 1.15f);
          check(std::memcmp(a.data(), b.data(), N * sizeof(float)) == 0, tag + ": a sweep by rows is the per-cell sweep, bit for bit");
          level_residual(cx, La, 0.5f);
          level_residual(px, Lb, 0.5f);
#if defined(__FMA__)
          // Built for an ISA with fused multiply-adds (-march=x86-64-v3 and
          // up, as the AVX2 and AVX-512 addons are), the compiler fuses
          // f - ((diag u - s) ih2 + k2 u) by one product in the row form and
          // the other in the per-cell one: where 1/h^2 is not a power of two
          // (40x17) some cells differ by an ulp of the terms. The sweep's
          // (f + s ih2) inv has one way to fuse, and stays bit for bit.
          float rmax = 0, rdiff = 0;
          for (idx c = 0; c < N; ++c) rmax = std::max(rmax, std::fabs(rb[c])), rdiff = std::max(rdiff, std::fabs(ra[c] - rb[c]));
          check(rdiff <= 4 * FLT_EPSILON * rmax, tag + ": the residual by rows is the per-cell one, up to fused multiply-adds");
#else
          check(std::memcmp(ra.data(), rb.data(), N * sizeof(float)) == 0, tag + ": the residual by rows is the per-cell one, bit for bit");
#endif
          if (sh.nx % 2 == 0 && sh.ny % 2 == 0 && sh.nz % (sh.dim == 3 ? 2 : 1) == 0) {
            const Grid gc = g.coarse();
            std::vector<float> ec = wave(gc.cells(), 0.29, 0.5), fa(gc.cells()), fb(gc.cells());
            MgLevel Ca{gc, ec.data(), fa.data(), nullptr, nullptr}, Cb = Ca;
            Cb.f = fb.data();
            residual_restrict(cx, La, Ca, 0.5f);
            residual_restrict(px, Lb, Cb, 0.5f);
            check(std::memcmp(fa.data(), fb.data(), gc.cells() * sizeof(float)) == 0,
                  tag + ": the residual restricted by rows is the per-cell one, bit for bit");
            prolong_add(cx, Ca, La);
            prolong_add(px, Cb, Lb);
            check(std::memcmp(a.data(), b.data(), N * sizeof(float)) == 0,
                  tag + ": the coarse correction added by rows is the per-cell one, bit for bit");
          }
        }
        if (!held) {
          // The energy step of a correction e: by rows on the CPU against the
          // generic launches, the step a recovered from r = a A e (A e in fp64,
          // r rounded to fp32), and 1 for e = 0.
          CpuExec cx;
          PlainExec px;
          const double k2 = 0.5, ih2 = 1.0 / (g.h * g.h);
          std::vector<float> e = wave(N, 0.021, 0.4), r(N), zero(N, 0.0f);
          for (idx c = 0; c < N; ++c) {
            const int x = (int)(c % g.n[0]), y = (int)(c / g.n[0] % g.n[1]), z = (int)(c / ((idx)g.n[0] * g.n[1]));
            r[c] = (float)(2.5 * apply_point<float, double>(g, e.data(), c, x, y, z, ih2, k2));
          }
          const double ac = energy_step(cx, g, r.data(), e.data(), k2), ap = energy_step(px, g, r.data(), e.data(), k2);
          check(std::fabs(ac - ap) <= 1e-12 * std::fabs(ap), tag + ": the energy step by rows is the generic one");
          check(std::fabs(ac - 2.5) <= 1e-6, tag + ": the energy step recovers a from r = a A e (" + std::to_string(ac) + ")");
          check(energy_step(cx, g, r.data(), zero.data(), k2) == 1.0 && energy_step(px, g, r.data(), zero.data(), k2) == 1.0,
                tag + ": the energy step of a zero correction is 1");
        }
        if (!held) {
          // The last correction (the answer only) against the fused
          // correction that also stores phi + e and the residual, and the
          // generic driver.
          std::vector<float> e = wave(N, 0.013, 0.25), r(N), r2(N), out1(N), out2(N), out3(N);
          std::vector<double> phi(N), phi2, phi3;
          for (idx c = 0; c < N; ++c) phi[c] = 0.5 * std::sin(0.003 * (double)c) + 1e-9 * (double)(c % 7);
          phi2 = phi3 = phi;
          CpuExec ex;
          PlainExec px;
          for (double shift : {0.0, 0.125}) {
            double e1 = 0, e2 = 0, e3 = 0;
            const double mean = shift == 0 ? 0.0 : -0.0625;
            std::vector<double> p1 = phi, p2 = phi, p3 = phi;
            double n1 = correct_and_residual(ex, g, p1.data(), e.data(), f.data(), shift, nullptr, r.data(), 0.75, out1.data(), &e1, mean);
            double n2 = last_correction(ex, g, p2.data(), e.data(), f.data(), shift, r2.data(), 0.75, out2.data(), &e2, mean);
            double n3 = last_correction(px, g, p3.data(), e.data(), f.data(), shift, r2.data(), 0.75, out3.data(), &e3, mean);
            std::string t = tag + " shift " + std::to_string(shift) + ": the last correction";
            check(std::memcmp(out1.data(), out2.data(), N * sizeof(float)) == 0 && std::memcmp(out1.data(), out3.data(), N * sizeof(float)) == 0,
                  t + "'s answer is the fused correction's and the generic driver's, bit for bit");
            check(n1 == n2, t + "'s residual norm is the fused correction's, bit for bit");
            // (The generic driver sums the squares of the fp64 residual, the
            // CPU's those of its fp32 copy.)
            check(std::fabs(n3 - n1) <= 1e-6 * n1, t + "'s residual norm is the generic driver's");
            check(std::fabs(e2 - e1) <= 1e-12 * std::fabs(e1) + 1e-300 && std::fabs(e3 - e1) <= 1e-12 * std::fabs(e1) + 1e-300,
                  t + "'s energy is the fused correction's");
            bool answer = true;
            for (idx c = 0; c < N; ++c) answer = answer && out1[c] == (float)(p1[c] - mean);
            check(answer, t + "'s answer is phi less the mean, rounded once");
            check(std::memcmp(p2.data(), phi.data(), N * sizeof(double)) == 0, t + " leaves phi as it was");
          }
        }
        // A V-cycle's smoothing with the pass before it in the same wavefront:
        // from zero, and after the coarse correction is added.
        std::vector<float> one = u0, fused = u0;
        MgLevel L{g, one.data(), f.data(), nullptr, held ? mask.data() : nullptr};
        CpuExec ex;
        ex.fill_zero(L.u, N);
        for (int s = 0; s < 2; ++s) rbgs(ex, L, 0.5f, 1, 1.15f);
        L.u = fused.data();
        smooth_from_zero(ex, L, 0.5f, 2, 1.15f);
        check(std::memcmp(one.data(), fused.data(), N * sizeof(float)) == 0, tag + ": smoothing from zero in one pass, bit for bit");
        if (sh.nx % 2 == 0 && sh.ny % 2 == 0 && sh.nz % (sh.dim == 3 ? 2 : 1) == 0) {
          // The descent (smoothing from zero, then the residual restricted)
          // in one pass, coarse slabs restricted as the wavefront finishes
          // their fine ones: the two passes' values, bit for bit, on all
          // threads, on one, and by the generic per-cell launches.
          const Grid gc = g.coarse();
          std::vector<float> fa(gc.cells()), fb(gc.cells(), -1.0f), fc(gc.cells(), -2.0f), fd(gc.cells(), -3.0f);
          std::vector<float> ub = u0, uc = u0, ud = u0, rd(N);
          MgLevel C{gc, nullptr, fa.data(), nullptr, nullptr};
          L.u = one.data();
          residual_restrict(ex, L, C, 0.5f);
          CpuExec serial(false);
          PlainExec px;
          MgLevel Lb = L, Lc = L, Ld = L, Cb = C, Cc = C, Cd = C;
          Lb.u = ub.data(), Cb.f = fb.data();
          Lc.u = uc.data(), Cc.f = fc.data();
          Ld.u = ud.data(), Ld.r = rd.data(), Cd.f = fd.data();
          smooth_residual_restrict(ex, Lb, Cb, 0.5f, 2, 1.15f);
          smooth_residual_restrict(serial, Lc, Cc, 0.5f, 2, 1.15f);
          smooth_residual_restrict(px, Ld, Cd, 0.5f, 2, 1.15f);
          const size_t cb = gc.cells() * sizeof(float);
          check(std::memcmp(one.data(), ub.data(), N * sizeof(float)) == 0 && std::memcmp(fa.data(), fb.data(), cb) == 0,
                tag + ": the descent in one pass is the smoothing and the residual restricted, bit for bit");
          check(std::memcmp(ub.data(), uc.data(), N * sizeof(float)) == 0 && std::memcmp(fb.data(), fc.data(), cb) == 0,
                tag + ": the descent on one thread and on all, bit for bit");
          check(std::memcmp(ub.data(), ud.data(), N * sizeof(float)) == 0 && std::memcmp(fb.data(), fd.data(), cb) == 0,
                tag + ": the descent is the generic launches', bit for bit");
        }
        if (sh.nx % 2 == 0 && sh.ny % 2 == 0 && sh.nz % (sh.dim == 3 ? 2 : 1) == 0) {
          Grid gc = g.coarse();
          std::vector<float> ec = wave(gc.cells(), 0.29, 0.5);
          MgLevel C{gc, ec.data(), nullptr, nullptr, nullptr};
          for (int sweeps : {1, 2}) {
            one = u0;
            fused = u0;
            L.u = one.data();
            prolong_add(ex, C, L);
            for (int s = 0; s < sweeps; ++s) rbgs(ex, L, 0.5f, 1, 1.15f);
            L.u = fused.data();
            prolong_add_smooth(ex, C, L, 0.5f, sweeps, 1.15f);
            check(std::memcmp(one.data(), fused.data(), N * sizeof(float)) == 0,
                  tag + ": the coarse correction added and smoothed " + std::to_string(sweeps) + " times in one pass, bit for bit");
            // With the correction's sum, taken slab by slab in the wavefront
            // (each slab once, after its last stage), on all threads and on
            // one: the same values, and the sum of what they hold.
            std::vector<float> summed = u0, summed1 = u0;
            double sum = 0, sum1 = 0, ref = 0, scale = 0;
            L.u = summed.data();
            prolong_add_smooth(ex, C, L, 0.5f, sweeps, 1.15f, &sum);
            CpuExec serial(false);
            L.u = summed1.data();
            prolong_add_smooth(serial, C, L, 0.5f, sweeps, 1.15f, &sum1);
            for (idx c = 0; c < N; ++c) ref += (double)one[c], scale += std::fabs((double)one[c]);
            check(std::memcmp(one.data(), summed.data(), N * sizeof(float)) == 0 && sum == sum1 &&
                      std::fabs(sum - ref) <= 1e-13 * scale,
                  tag + ": the correction's sum after " + std::to_string(sweeps) + " sweeps, the same on any number of threads");
          }
        }
      }
}

static void device_coarse_tests() {
  const double PI = 3.14159265358979;
  for (int bc : {BC_DIRICHLET, BC_NEUMANN, BC_PERIODIC})
    for (int dim : {2, 3}) {
      const int n = dim == 2 ? 256 : 32;
      Grid g = unit_grid(dim, n, bc);
      const idx N = g.cells();
      check(level_grids(g, kHostCoarseCells).back().cells() <= kHostCoarseCells &&
                level_grids(g, kHostCoarseCells).size() < level_grids(g).size(),
            "device levels stop at the host's threshold, dim " + std::to_string(dim));
      std::vector<float> rho(N);
      for (idx c = 0; c < N; ++c) {
        int x, y, z;
        g.coords(c, x, y, z);
        rho[c] = (float)(std::sin(2 * PI * (x + 0.5) * g.h) * std::cos(2 * PI * (y + 0.5) * g.h) + 0.3 * std::sin(6 * PI * (z + 0.5) / n) +
                         0.1 * std::sin(0.37 * (double)c));
      }
      std::vector<unsigned char> mask(N, 0);
      std::vector<float> anchor(N, 0.0f);
      for (int pass = 0; pass < 2; ++pass) {
        const bool anchored = pass == 1;
        if (anchored)
          for (idx c = N / 2; c < N / 2 + n; ++c) {
            mask[c] = 1;
            anchor[c] = 0.5f;
          }
        std::vector<float> phi_cpu(N), phi_dev(N);
        auto job = [&](float* phi) {
          return potential_job(g, rho.data(), phi, 1e-8, anchored ? mask.data() : nullptr, anchored ? anchor.data() : nullptr);
        };
        PotentialJob a = job(phi_cpu.data());
        cpu::potential(a);
        PotentialJob b = job(phi_dev.data());
        AtomicExec ex;
        potential_field(ex, b, 0);
        std::string tag = "device coarse levels on the host, dim " + std::to_string(dim) + " bc " + std::to_string(bc) +
                          (anchored ? " anchored" : "");
        check(a.stats[0].converged && b.stats[0].converged, tag + ": both converge");
        check(b.stats[0].cycles <= a.stats[0].cycles + 1, tag + ": cycles " + std::to_string(b.stats[0].cycles) + " vs " +
                                                              std::to_string(a.stats[0].cycles));
        check(rel_diff(phi_dev, phi_cpu, N) < 1e-5, tag + ": agrees with the CPU backend");
      }
    }
}

// The host scratch cache (host_cache.h): a block given back is the one the
// next request of its size gets; past the cap the least recently given back
// are freed first; a block larger than the cap is not kept; release empties
// it. (Run first, on an empty cache; other tests leave blocks behind.)
// The thread pool: every task of a run once; a run whose task throws
// rethrows that error and hands out no more tasks; runs back to back with
// helpers that come late (a helper the scheduler set aside is not waited for,
// and takes no part in a run that has moved on).
static void thread_pool_tests() {
  ThreadPool& pool = ThreadPool::instance();
  for (int ntasks : {1, 2, 3, 64, 1000}) {
    std::vector<std::atomic<int>> hits((size_t)ntasks);
    for (auto& h : hits) h = 0;
    pool.run(ntasks, [&](int t) { hits[(size_t)t].fetch_add(1); });
    bool once = true;
    for (auto& h : hits) once = once && h.load() == 1;
    check(once, "thread pool: each of " + std::to_string(ntasks) + " tasks runs once");
  }
  // (Each task takes 0.1 ms: all of them would take seconds; the throw
  // itself, unwound under the sanitizers, takes up to a few milliseconds.)
  std::atomic<int> ran{0};
  std::string what;
  try {
    pool.run(100000, [&](int t) {
      ran.fetch_add(1);
      if (t == 0) throw std::runtime_error("task 0 failed");
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
  } catch (const std::exception& e) {
    what = e.what();
  }
  check(what == "task 0 failed" && ran.load() < 1000,
        "thread pool: a failed task's error is rethrown and the run stops handing out tasks (" + std::to_string(ran.load()) +
            " of 100000 ran)");
  // Many short runs in a row, each summing its own tasks' numbers: a helper
  // in a run that has closed would add to the wrong sum.
  bool right = true;
  for (int r = 0; r < 20000 && right; ++r) {
    const int n = 2 + r % 7;
    std::atomic<long> sum{0};
    pool.run(n, [&](int t) { sum.fetch_add(t + 1 + r); });
    right = sum.load() == (long)n * (n + 1) / 2 + (long)n * r;
  }
  check(right, "thread pool: 20000 short runs back to back, each task once and in its own run");
}

// The CPU's reductions (sum_n, sum_cells): the same result on one thread
// and on all of them, for any length (every remainder of the sixteen lanes
// and of the 16384-value chunks), and within a few ulps of the sum of the
// magnitudes of an exact sum (long double, Neumaier-compensated).
static void reduction_tests() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> U(-1, 1);
  bool same = true, close = true;
  double worst = 0;
  for (idx n : {(idx)1, (idx)15, (idx)16, (idx)17, (idx)1000, (idx)16383, (idx)16384, (idx)16385, (idx)100003}) {
    std::vector<float> v((size_t)n);
    for (auto& x : v) x = (float)(U(rng) * 1e3 + 1e4);  // f(i) below: terms of both signs, near 1e7
    const float* p = v.data();
    CpuExec par(true), one(false);
    const double a = par.sum_n(n, [=](idx i) { return (double)p[i] * p[i] - 1e8; });
    const double b = one.sum_n(n, [=](idx i) { return (double)p[i] * p[i] - 1e8; });
    long double s = 0, c = 0, mag = 0;
    for (idx i = 0; i < n; ++i) {
      const long double t = (long double)((double)p[i] * p[i] - 1e8), u = s + t;
      c += std::fabs(s) >= std::fabs(t) ? (s - u) + t : (t - u) + s;
      s = u;
      mag += std::fabs(t);
    }
    const double err = std::fabs((double)(s + c) - a) / (double)mag;
    worst = std::max(worst, err);
    same = same && a == b;
    close = close && err < 8 * 2.2e-16;
    Grid g{};
    g.dim = 2, g.n[0] = (int)std::min<idx>(n, 1000), g.n[1] = (int)((n + g.n[0] - 1) / g.n[0]), g.n[2] = 1;
    const idx cells = g.cells();
    std::vector<float> w((size_t)cells);
    for (idx i = 0; i < cells; ++i) w[(size_t)i] = v[(size_t)(i % n)];
    const float* q = w.data();
    auto f = [=](idx c, int x, int y, int) { return (double)q[c] + 1e-3 * x - 1e-4 * y; };
    same = same && par.sum_cells(g, f) == one.sum_cells(g, f);
  }
  check(same, "CPU reductions: sum_n and sum_cells give the same result on one thread and on all");
  char msg[160];
  std::snprintf(msg, sizeof msg, "CPU reductions: sum_n within 8 ulps of the magnitudes of an exact sum (worst %.2g)", worst);
  check(close, msg);
}

static void host_cache_tests() {
  host_cache_release();
  const size_t saved = host_cache_state().cap, K = 1 << 20;
  host_cache_set_cap(3 * K);
  void* a = host_acquire(K);
  void* b = host_acquire(K);
  void* c = host_acquire(2 * K);
  std::memset(a, 1, K);
  host_release(a, K);
  host_release(b, K);
  check(host_cache_state().held == 2 * K && host_cache_state().blocks == 2, "host cache: two blocks kept");
  check(host_acquire(K) == b, "host cache: the newest block of a size is taken first");
  host_release(b, K);
  host_release(c, 2 * K);  // 4K > cap: the oldest (a) goes
  HostCacheState st = host_cache_state();
  check(st.held == 3 * K && st.blocks == 2, "host cache: the cap holds (" + std::to_string(st.held) + " bytes)");
  void* a2 = host_acquire(K);
  check(a2 == b, "host cache: the least recently given back went first");
  check(host_cache_state().held == 2 * K, "host cache: held less the block taken");
  void* big = host_acquire(4 * K);
  host_release(big, 4 * K);  // larger than the cap: freed, nothing evicted
  check(host_cache_state().held == 2 * K, "host cache: a block over the cap is not kept");
  host_release(a2, K);
  host_cache_set_cap(K);  // lowering the cap frees the oldest until it holds
  st = host_cache_state();
  check(st.held == K && st.blocks == 1 && host_acquire(K) == a2, "host cache: a lower cap keeps the newest");
  host_release(a2, K);
  host_cache_set_cap(saved);
  check(host_cache_release() == K && host_cache_state().held == 0 && host_cache_state().blocks == 0, "host cache: release empties it");
  void* small = host_acquire(1000);  // below the cached sizes: straight to malloc
  host_release(small, 1000);
  check(host_cache_state().blocks == 0, "host cache: small blocks are not kept");
}

// Backend resolution (native/device.h) on made-up device lists: compute
// capability below the build's oldest, a device lost to a sticky error, the
// one line 'auto' prints, and SEMFIELD_BACKEND.
static void device_tests() {
  cuda::DeviceList l;
  l.built = true;
  l.names = {"Old V100", "New H200"};
  l.memory_gib = {16, 141};
  l.compute_capability = {70, 90};
  DeviceSet d = filter_devices(l, 75);
  check(d.usable.size() == 1 && d.usable[0] == 1, "a device below compute capability 7.5 is not usable");
  check(d.note.find("Old V100") != std::string::npos && d.note.find("7.0") != std::string::npos &&
            d.note.find("7.5") != std::string::npos,
        "the note names the old device and both capabilities: " + d.note);
  DeviceHealth h;
  std::vector<std::string> lines;
  auto notice = [&](const std::string& s) { lines.push_back(s); };
  auto code_of = [&](const std::string& req, const std::string& env, int dev) -> std::string {
    try {
      resolve_in(d, h, req, env, dev, notice);
      return "";
    } catch (const Error& e) {
      return e.code + ": " + e.what();
    }
  };
  Target t = resolve_in(d, h, "auto", "", -1, notice);
  check(t.backend == Backend::Cuda && t.device == 1, "auto picks the first usable device");
  check(resolve_in(d, h, "", "cpu", -1, notice).backend == Backend::Cpu, "SEMFIELD_BACKEND=cpu is the default");
  check(resolve_in(d, h, "cuda", "cpu", -1, notice).backend == Backend::Cuda, "a call's own backend wins over the env");
  check(code_of("cuda", "", 0).rfind("E_RANGE", 0) == 0, "asking for the old device is E_RANGE: " + code_of("cuda", "", 0));
  check(code_of("", "gpu", -1).rfind("E_RANGE", 0) == 0, "a bad SEMFIELD_BACKEND is E_RANGE");
  h.mark_lost(1, "an illegal memory access was encountered in kernel launch");
  h.mark_lost(1, "a later error");
  std::string e = code_of("cuda", "", -1);
  check(e.rfind("E_DEVICE", 0) == 0 && e.find("illegal memory access") != std::string::npos && e.find("restart") != std::string::npos,
        "backend 'cuda' on a lost device is E_DEVICE naming the first error: " + e);
  check(resolve_in(d, h, "auto", "", -1, notice).backend == Backend::Cpu, "auto falls back to the CPU");
  check(resolve_in(d, h, "", "", -1, notice).backend == Backend::Cpu, "and again");
  check(lines.size() == 1 && lines[0].find("New H200") != std::string::npos, "one line, once, naming the device");
  cuda::DeviceList none;
  none.built = true;
  none.note = "no usable CUDA device: CUDA driver version is insufficient for CUDA runtime version";
  DeviceSet z = filter_devices(none, 75);
  check(resolve_in(z, h, "auto", "", -1, notice).backend == Backend::Cpu && lines.size() == 1, "no driver: CPU, quietly");
  std::string ez;
  try {
    resolve_in(z, h, "cuda", "", -1, notice);
  } catch (const Error& x) {
    ez = x.what();
  }
  check(ez.find("insufficient") != std::string::npos, "backend 'cuda' without a driver says why: " + ez);
}

// The mesh resonance on the generic drivers (as CUDA runs it) against the
// CPU's, and against a dense complex solve of the same discrete operator.
static void resonance_tests() {
  for (int dim : {2, 3}) {
    Grid g = unit_grid(dim, dim == 2 ? 16 : 8, BC_DIRICHLET);
    idx N = g.cells();
    std::vector<float> ra = wave((size_t)N, 0.37), rb = wave((size_t)N, 0.11, 1.0);
    auto job = [&](std::vector<double>& out) {
      MeshResonanceJob j;
      j.g = g;
      j.gamma = 0.3;
      j.kappa = 1.5;
      j.rho_a = ra.data();
      j.rho_b = rb.data();
      j.w = {0.5, 4.4, 9.0, 14.0};
      out.assign(4 * j.w.size(), 0.0);
      j.out = out.data();
      return j;
    };
    std::vector<double> o1, o2;
    MeshResonanceJob a = job(o1), b = job(o2);
    cpu::resonance_mesh(a);
    PlainExec ex;
    resonance_mesh(ex, b);
    bool conv = true;
    for (size_t k = 0; k < a.w.size(); ++k) conv = conv && a.converged[k] && b.converged[k] && a.residual[k] <= 1e-8;
    check(conv, "resonance dim " + std::to_string(dim) + ": every frequency converged on both drivers");
    // Dense reference: (H - z) U = rho_A by complex Gaussian elimination.
    const double ih2 = 1.0 / (g.h * g.h), k2 = 2.25;
    double worst = 0;
    for (size_t k = 0; k < a.w.size(); ++k) {
      const double w = a.w[k];
      std::vector<std::complex<double>> M((size_t)(N * N)), u((size_t)N);
      std::vector<double> e((size_t)N, 0.0);
      for (idx j = 0; j < N; ++j) {
        e[(size_t)j] = 1;
        for (idx i = 0; i < N; ++i) {
          int x, y, z;
          g.coords(i, x, y, z);
          double v = apply_point<double>(g, e.data(), i, x, y, z, ih2, k2);
          M[(size_t)(i * N + j)] = v - (i == j ? std::complex<double>(w * w, 0.3 * w) : 0.0);
        }
        e[(size_t)j] = 0;
      }
      for (idx i = 0; i < N; ++i) u[(size_t)i] = ra[(size_t)i];
      for (idx c = 0; c < N; ++c) {
        idx p = c;
        for (idx r = c + 1; r < N; ++r)
          if (std::abs(M[(size_t)(r * N + c)]) > std::abs(M[(size_t)(p * N + c)])) p = r;
        for (idx q = 0; q < N; ++q) std::swap(M[(size_t)(c * N + q)], M[(size_t)(p * N + q)]);
        std::swap(u[(size_t)c], u[(size_t)p]);
        for (idx r = c + 1; r < N; ++r) {
          std::complex<double> f = M[(size_t)(r * N + c)] / M[(size_t)(c * N + c)];
          if (f == 0.0) continue;
          for (idx q = c; q < N; ++q) M[(size_t)(r * N + q)] -= f * M[(size_t)(c * N + q)];
          u[(size_t)r] -= f * u[(size_t)c];
        }
      }
      for (idx c = N; c-- > 0;) {
        for (idx q = c + 1; q < N; ++q) u[(size_t)c] -= M[(size_t)(c * N + q)] * u[(size_t)q];
        u[(size_t)c] /= M[(size_t)(c * N + c)];
      }
      std::complex<double> R = 0;
      for (idx i = 0; i < N; ++i) R += (double)rb[(size_t)i] * u[(size_t)i];
      R *= std::pow(g.h, dim);
      worst = std::max(worst, std::abs(std::complex<double>(o1[4 * k], o1[4 * k + 1]) - R) / std::abs(R));
      worst = std::max(worst, std::abs(std::complex<double>(o2[4 * k], o2[4 * k + 1]) - R) / std::abs(R));
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2e", worst);
    std::printf("resonance dim %d: worst relative difference from the dense solve %s\n", dim, buf);
    check(worst < 1e-6, "resonance dim " + std::to_string(dim) + ": R on both drivers matches a dense complex solve (" + buf + ")");
  }
}

static void mesh_tests() {
  Grid g{};
  g.dim = 2;
  g.n[0] = 40;
  g.n[1] = 30;
  g.n[2] = 1;
  g.bc[0] = BC_PERIODIC;
  g.bc[1] = BC_DIRICHLET;
  g.h = 0.1;
  idx N = g.cells(), P = 500;
  std::vector<float> pos(2 * P), q = wave(P, 0.9);
  for (idx i = 0; i < P; ++i) {
    pos[2 * i] = (float)(7.9 * std::fabs(std::sin(0.31 * i)));
    pos[2 * i + 1] = (float)(2.9 * std::fabs(std::cos(0.17 * i)));
  }
  std::vector<float> r1(N), r2(N);
  DepositJob d;
  d.g = g;
  d.points = P;
  d.pos = pos.data();
  d.charge = q.data();
  d.out = r1.data();
  cpu::deposit(d);
  d.out = r2.data();
  PlainExec ex;
  run_deposit(ex, d);
  check(rel_diff(r1, r2, N) == 0, "deposit: bit for bit on both drivers");
  double total = 0, charge = 0;
  for (float v : r1) total += v * g.h * g.h;
  for (float v : q) charge += v;
  check(std::fabs(total - charge) < 1e-5, "deposit: charge conserved");

  CondenseJob c;
  c.g = g;
  c.field = r1.data();
  std::vector<int32_t> l1(N), l2(N);
  c.labels = l1.data();
  cpu::condense(c);
  CondenseJob c2 = c;
  c2.labels = l2.data();
  c2.basins.assign(1, {});
  PlainExec ex2;
  condense_field(ex2, c2, 0);
  check(l1 == l2 && c.basins[0].size() == c2.basins[0].size(), "condense: the same basins on both drivers");

  for (int op : {OP_GRAD, OP_DIV, OP_CURL, OP_LAPLACIAN}) {
    std::vector<float> in = wave(2 * N, 0.05), o1(2 * N), o2(2 * N);
    DiffJob j;
    j.g = g;
    j.op = op;
    j.in = in.data();
    j.out = o1.data();
    cpu::diff(j);
    j.out = o2.data();
    PlainExec e3;
    run_diff(e3, j);
    check(rel_diff(o1, o2, (size_t)op_out_comps(op, 2) * N) == 0, "diff op " + std::to_string(op) + ": both drivers");
  }
}

void pairs_tests(int& passed, int& failed);

static void points_tests() {
  pairs_tests(passed, failed);
  const int d = 7;
  const idx m = 450;
  std::vector<float> src = wave(m * d, 0.37);
  {
    PcaResult r = pca(src.data(), m, d, 2, 0, 200, 1e-13, nullptr);
    double dot = 0;
    for (int j = 0; j < d; ++j) dot += r.components[j] * r.components[d + j];
    check(std::fabs(dot) < 1e-9 && r.variance[0] >= r.variance[1], "pca: orthonormal axes by decreasing variance");
  }
}

// Philox4x32-10 against the known-answer vectors of Random123 (kat_vectors),
// the IFS checks, and the codec's bit stream.
// An image [h, w] with values in [-span, span] through the CPU encoder, by
// tolerance or to a byte budget.
static fractal::EncodeJob encode_image(const std::vector<float>& img, int w, int h, float span, double tol, double bytes) {
  fractal::EncodeJob e;
  e.hd.w = (uint32_t)w;
  e.hd.h = (uint32_t)h;
  e.hd.lo = -span;
  e.hd.hi = span;
  e.img = img.data();
  e.tol = tol;
  e.target_bytes = bytes;
  cpu::codec_encode(e);
  return e;
}

static void fractal_tests() {
  Philox4 a = philox4x32(0, 0, 0, 0, 0, 0);
  check(a.v[0] == 0x6627e8d5u && a.v[1] == 0xe169c58du && a.v[2] == 0xbc57ac4cu && a.v[3] == 0x9b00dbd8u, "philox kat zero");
  Philox4 b = philox4x32(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  check(b.v[0] == 0x408f276du && b.v[1] == 0x41c83b0eu && b.v[2] == 0xa20bc7c6u && b.v[3] == 0x6d5451fdu, "philox kat ones");
  Philox4 c = philox4x32(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
  check(c.v[0] == 0xd16cfe09u && c.v[1] == 0x94fdccebu && c.v[2] == 0x5001e420u && c.v[3] == 0x24126ea1u, "philox kat pi");

  // Spectral norm of a shear [[0.5, 0.6], [0, 0.5]]: sqrt of the top eigenvalue of A^T A.
  float shear[4] = {0.5f, 0.6f, 0.0f, 0.5f};
  double t = 0.25 + 0.36 + 0.25, det = 0.25 * 0.25;
  double top = std::sqrt((t + std::sqrt(t * t - 4 * det)) / 2);
  check(std::fabs(fractal::spectral_norm(shear, 2) - top) < 1e-6, "spectral norm of a shear");
  float A[4] = {0.5f, 0.0f, 0.0f, 0.5f}, bb[2] = {0.5f, 0.25f};
  std::vector<float> fp = fractal::fixed_point(A, bb, 2);
  check(std::fabs(fp[0] - 1.0f) < 1e-6 && std::fabs(fp[1] - 0.5f) < 1e-6, "fixed point");

  // The chaos game: the CPU driver over the thread pool and a plain serial
  // run of the same body (as one GPU thread per chain would) give the same bits.
  float sA[12] = {0.5f, 0, 0, 0.5f, 0.5f, 0, 0, 0.5f, 0.5f, 0, 0, 0.5f}, sb[6] = {0, 0, 0.5f, 0, 0.25f, 0.433f};
  double p[3] = {1, 1, 1};
  IfsJob job;
  job.m = 3;
  job.dd = 2;
  job.A = sA;
  job.b = sb;
  job.start = fractal::fixed_point(sA, sb, 2);
  job.thresholds = fractal::thresholds_of(p, 3);
  job.seed = 7;
  job.burn_in = 10;
  job.chains = 37;
  job.n = 10000;
  std::vector<float> pts((size_t)job.n * 2), serial((size_t)job.n * 2);
  job.points = pts.data();
  cpu::chaos_game(job);
  ChaosSpec s{sA, sb, job.thresholds.data(), 3, 2, 7u, 0u, (job.n + job.chains - 1) / job.chains, 10, job.n};
  for (idx ch = 0; ch < job.chains; ++ch) {
    float x[2] = {job.start[0], job.start[1]};
    chaos_steps(s, ch, 0, 1 << 30, x, [&](idx i, const float* y) {
      serial[(size_t)(2 * i)] = y[0];
      serial[(size_t)(2 * i + 1)] = y[1];
    });
  }
  check(std::memcmp(pts.data(), serial.data(), pts.size() * sizeof(float)) == 0, "chaos game: grouped chains and serial identical");
  std::vector<float> device_path(pts.size());
  job.points = device_path.data();
  AtomicExec dx;
  fractal::chaos_game(dx, job);
  check(std::memcmp(pts.data(), device_path.data(), pts.size() * sizeof(float)) == 0, "chaos game: CPU and GPU paths identical");

  // Rendering: the CPU's per-block grids and the GPU's atomic adds into one
  // grid (here run on the CPU through an executor that reports itself as a
  // device) count the same points.
  std::vector<unsigned long long> blocked(64 * 64), atomic(64 * 64);
  job.render = true;
  job.rn[0] = job.rn[1] = 64;
  job.lo[0] = job.lo[1] = -0.05f;
  job.inv[0] = job.inv[1] = 64 / 1.1f;
  job.points = nullptr;
  job.counts = blocked.data();
  cpu::chaos_game(job);
  job.counts = atomic.data();
  AtomicExec ax;
  fractal::chaos_game(ax, job);
  unsigned long long total = 0;
  for (auto v : blocked) total += v;
  check(blocked == atomic && total == (unsigned long long)job.n, "render: per-block grids and atomic adds agree (" + std::to_string(total) + " points)");

  // A code survives a write and read, and a cut or flipped code is refused.
  const int W = 32;
  std::vector<float> img(W * W);
  for (int i = 0; i < W * W; ++i) img[i] = (float)(std::sin(0.2 * (i % W)) * std::cos(0.15 * (i / W)));
  fractal::EncodeJob ej = encode_image(img, W, W, 1, 0.01, 0);
  fractal::CodecHeader h;
  std::vector<fractal::CodedLeaf> leaves = fractal::read_leaves(ej.code.data(), ej.code.size(), h);
  check(h.leaves == leaves.size() && h.w == (uint32_t)W && leaves.size() > 0, "codec: read back what was written");
  int refused = 0, tries = 0;
  for (size_t cut = 0; cut < ej.code.size(); ++cut, ++tries) {
    try {
      fractal::read_leaves(ej.code.data(), cut, h);
    } catch (const Error&) {
      ++refused;
    }
  }
  for (size_t bit = 0; bit < ej.code.size() * 8; ++bit, ++tries) {
    std::vector<uint8_t> bad = ej.code;
    bad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
    try {
      fractal::read_leaves(bad.data(), bad.size(), h);
    } catch (const Error&) {
      ++refused;
    }
  }
  std::printf("codec: %d of %d truncated or bit-flipped codes refused\n", refused, tries);
  check(refused == tries, "codec: every truncated or bit-flipped code refused (" + std::to_string(refused) + "/" + std::to_string(tries) + ")");

  // The range coder: skewed bits under adaptive models, equiprobable bits,
  // bit trees and Exp-Golomb values come back as coded, the stream is read
  // exactly to its end, and skewed bits cost less than one bit each.
  {
    std::mt19937 g(7);
    const int n = 20000;
    std::vector<int> bits(n), direct(n), tree(n);
    std::vector<uint32_t> gol(n);
    for (int i = 0; i < n; ++i) {
      bits[i] = (g() % 100) < 8;  // p(1) = 0.08: about 0.4 bits each
      direct[i] = (int)(g() & 0x1FF);
      tree[i] = (int)(g() % 11);
      gol[i] = (g() % 4 == 0) ? g() % 65535 : g() % 5;  // code_golomb takes v < 2^16 - 1
    }
    auto run = [&](auto& c, std::vector<int>& b, std::vector<int>& d, std::vector<int>& t, std::vector<uint32_t>& gv) {
      fractal::BitModel m[2], tm[16];
      fractal::GolombModel gm;
      for (int i = 0; i < n; ++i) {
        b[i] = c.bit(m[i & 1], b[i]);
        d[i] = (int)c.direct((uint32_t)d[i], 9);
        t[i] = (int)fractal::code_tree(c, tm, 4, (uint32_t)t[i]);
        gv[i] = fractal::code_golomb(c, gm, gv[i]);
      }
    };
    fractal::RangeEncoder enc;
    std::vector<int> b = bits, d = direct, t = tree;
    std::vector<uint32_t> gv = gol;
    run(enc, b, d, t, gv);
    std::vector<uint8_t> stream = enc.finish();
    fractal::RangeDecoder dec(stream.data(), stream.size());
    std::vector<int> b2(n, 0), d2(n, 0), t2(n, 0);
    std::vector<uint32_t> g2(n, 0);
    run(dec, b2, d2, t2, g2);
    check(b2 == bits && d2 == direct && t2 == tree && g2 == gol, "range coder: every field decodes as coded");
    check(dec.consumed() == stream.size(), "range coder: a stream is read exactly to its end");
    fractal::RangeEncoder only;
    fractal::BitModel m1;
    for (int i = 0; i < n; ++i) only.bit(m1, bits[i]);
    double per = 8.0 * only.finish().size() / n;
    std::printf("range coder: %.3f bits per bit at p = 0.08 (entropy 0.402)\n", per);
    check(per < 0.43, "range coder: skewed bits cost near their entropy");
  }

  // Any image size: a 37 x 21 image (not a multiple of any block size)
  // codes, reads back with the right geometry and decodes to its own size.
  {
    const int w = 37, hh = 21;
    std::vector<float> im((size_t)w * hh);
    for (int i = 0; i < w * hh; ++i) im[(size_t)i] = (float)(std::sin(0.3 * (i % w)) + std::cos(0.2 * (i / w)));
    fractal::EncodeJob e2 = encode_image(im, w, hh, 2, 0, 120);
    fractal::DecodeJob dj;
    dj.code = e2.code.data();
    dj.bytes = e2.code.size();
    fractal::decode_leaves(dj);
    std::vector<float> out((size_t)dj.w * dj.h);
    dj.out = out.data();
    cpu::codec_decode(dj);
    double mx = 0;
    for (float v : out) mx = std::max(mx, (double)std::fabs(v));
    check(dj.w == w && dj.h == hh && std::fabs((double)e2.code.size() / 120 - 1) <= 0.03 && mx <= 2.0,
          "codec: a 37 x 21 image to a 120-byte budget decodes to 37 x 21 inside its range (" + std::to_string(e2.code.size()) + " bytes)");
  }
}

// The wave and Yee steps: the CPU's row loops against the generic drivers the
// CUDA backend launches (PlainExec), on fields with boundaries of every kind.
static void wave_maxwell_tests() {
  // Small grids (one run of slabs on the CPU, steps fused in pairs) and
  // grids past the parallel threshold (runs of slabs, each leaving the
  // second step of its end slabs to a second phase, and a start velocity);
  // an odd number of steps, and the energy every 3 steps, which leaves
  // single steps between the pairs.
  for (int bc : {BC_DIRICHLET, BC_NEUMANN, BC_PERIODIC})
    for (int dim : {2, 3})
      for (int large : {0, 1}) {
        Grid g = unit_grid(dim, dim == 2 ? (large ? 192 : 40) : (large ? 34 : 12), bc);
        idx N = g.cells();
        const int steps = large ? 31 : 30;
        std::vector<float> u0 = wave(N, 0.37), src = wave(N, 0.11, 1.0), v0 = wave(N, 0.23, 0.5), f(steps, 0.5f);
        for (int k = 0; k < steps; ++k) f[(size_t)k] = 0.5f + 0.01f * k;
        WaveJob job;
        job.g = g;
        job.dt = 0.5 * g.h / std::sqrt((double)dim);
        job.kappa = 2;
        job.gamma = 0.3;
        job.steps = steps;
        job.u0 = u0.data();
        job.v0 = large ? v0.data() : nullptr;  // the start step with and without a velocity
        job.src = src.data();
        job.f = f.data();
        job.energy_every = large && bc == BC_PERIODIC ? 3 : 0;
        const size_t W = job.energy_every ? (size_t)(steps / job.energy_every + 1) : 1;
        std::vector<float> a(N), ap(N), b(N), bp(N);
        std::vector<double> wa(W), wb(W);
        job.u = a.data();
        job.uprev_out = ap.data();
        job.energy = job.energy_every ? wa.data() : nullptr;
        CpuExec cx;
        wave_field(cx, job, 0);
        job.u = b.data();
        job.uprev_out = bp.data();
        job.energy = job.energy_every ? wb.data() : nullptr;
        PlainExec px;
        wave_field(px, job, 0);
        double e = 0;
        for (size_t k = 0; k < W; ++k) e = std::max(e, std::fabs(wa[k] - wb[k]) / std::max(1e-30, std::fabs(wb[k])));
        double umax = 0;
        for (float v : b) umax = std::max(umax, (double)std::fabs(v));
        check(rel_diff(a, b, (size_t)N) < 1e-5 && rel_diff(ap, bp, (size_t)N) < 1e-5 && e < 1e-5 && umax > 1e-3,
              "wave rows vs generic, bc " + std::to_string(bc) + " dim " + std::to_string(dim) + " n " + std::to_string(g.n[0]));
      }
  // Small grids (one run of slabs on the CPU) with one boundary kind on
  // every axis, and grids past kParallelCells (runs of slabs on the threads,
  // each leaving its first E slab to a second phase) with a different kind
  // per axis and the energy, which saves E(n) inside the fused sweep.
  struct YeeCase {
    int dim, n[3], bc[3], energy_every;
    bool plain;  // no materials, no sources
    bool tmz;    // Ez, Hx, Hy only (the other three held at their start)
  };
  std::vector<YeeCase> cases;
  for (int dim : {2, 3})
    for (int bc : {YEE_PEC, YEE_PERIODIC, YEE_CPML})
      cases.push_back({dim, {dim == 2 ? 32 : 10, dim == 2 ? 32 : 10, dim == 2 ? 1 : 10}, {bc, bc, bc}, 0, bc == YEE_PEC, false});
  cases.push_back({2, {136, 130, 1}, {YEE_PERIODIC, YEE_CPML, YEE_PEC}, 3, false, true});
  cases.push_back({2, {130, 136, 1}, {YEE_CPML, YEE_PERIODIC, YEE_PEC}, 1, true, false});
  cases.push_back({3, {26, 27, 28}, {YEE_CPML, YEE_PERIODIC, YEE_PEC}, 4, false, false});
  cases.push_back({3, {28, 26, 27}, {YEE_PEC, YEE_CPML, YEE_PERIODIC}, 0, true, false});
  cases.push_back({3, {27, 28, 26}, {YEE_PERIODIC, YEE_PEC, YEE_CPML}, 2, false, false});
  for (const YeeCase& yc : cases) {
    MaxwellJob m;
    m.g.dim = yc.dim;
    bool cpml = false;
    for (int a = 0; a < 3; ++a) {
      m.g.n[a] = yc.n[a];
      m.g.bc[a] = yc.bc[a];
      cpml = cpml || (yc.bc[a] == YEE_CPML && yc.n[a] > 1);
    }
    m.h = 1.0 / m.g.n[0];
    m.g.inv_h = (float)(1 / m.h);
    m.dt = 0.5 * m.h / std::sqrt((double)yc.dim);
    m.steps = 25;
    if (cpml) {
      m.npml = 3;
      m.pml_sigma = 3.2 / m.h;
      m.pml_kappa = 2;
      m.pml_alpha = 0.05;
    }
    idx N = m.g.cells();
    std::vector<float> init = wave(6 * N, 0.23), prof = wave(N, 0.7), f(25, 1.0f), eps(N, 2.0f);
    m.init = init.data();
    if (!yc.plain) {
      m.eps = eps.data();
      m.sources.push_back({2, prof.data(), f.data()});
      m.sources.push_back({yc.dim == 3 ? 0 : 2, prof.data(), f.data()});
    }
    m.energy_every = yc.energy_every;
    if (yc.tmz)
      for (int q = 0; q < 6; ++q) m.active[q] = q == 2 || q == 3 || q == 4;
    const size_t W = yc.energy_every ? (size_t)(m.steps / yc.energy_every + 1) : 1;
    std::vector<float> a(6 * N), b(6 * N);
    std::vector<double> wa(W), wb(W);
    std::vector<float> pr(1), em(1);
    m.probes = pr.data();
    m.emf = em.data();
    m.fields = a.data();
    m.energy = yc.energy_every ? wa.data() : nullptr;
    CpuExec cx;
    maxwell_run(cx, m);
    m.fields = b.data();
    m.energy = yc.energy_every ? wb.data() : nullptr;
    PlainExec px;
    maxwell_run(px, m);
    std::string name = "yee rows vs generic, " + std::to_string(m.g.n[0]) + "x" + std::to_string(m.g.n[1]) + "x" + std::to_string(m.g.n[2]) +
                       " bc " + std::to_string(yc.bc[0]) + std::to_string(yc.bc[1]) + std::to_string(yc.bc[2]);
    double e = 0;
    for (size_t k = 0; k < W; ++k) e = std::max(e, std::fabs(wa[k] - wb[k]) / std::max(1e-30, std::fabs(wb[k])));
    double fmax = 0;
    for (float v : b) fmax = std::max(fmax, (double)std::fabs(v));
    check(rel_diff(a, b, a.size()) < 1e-5 && fmax > 1e-3, name);
    if (yc.energy_every) check(e < 1e-5 && wb[W - 1] > 0, name + ", energy");
  }
}

int main() {
  thread_pool_tests();
  reduction_tests();
  host_cache_tests();
  wave_maxwell_tests();
  fractal_tests();
  potential_tests();
  wall_ramp_tests();
  corner_solve_tests();
  smoother_tests();
  device_coarse_tests();
  device_tests();
  resonance_tests();
  mesh_tests();
  points_tests();
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
