// Geometric multigrid for (-lap + k2) phi = rho on one field, written once for
// any execution policy (CpuExec, CudaExec).
//
// Precision: the V-cycle works in fp32 on the correction; an outer defect
// correction keeps phi and its residual in fp64. (In fp32 alone the residual
// of an n = 1024 grid stalls near 1e-3: rounding phi by eps is amplified by
// 4/h^2.) Each outer step: r = rho - A phi (fp64, stored fp32), one V-cycle
// for A e = r from e = 0, phi += e.
//
// Singular problems (no Dirichlet axis, k2 = 0, no anchors) are solvable only
// for zero-mean rho: the mean is subtracted (and reported) and the returned
// phi has zero mean.
#pragma once
#include "../cancel.h"
#include <cmath>
#include <functional>
#include <vector>

#include "../../cuda/poisson_k.h"
#include "../../cuda/transfer_k.h"
#include "../errors.h"
#include "coarse_cg.h"

namespace sf {

struct SolveOptions {
  double kappa = 0;
  double tol = 1e-6;
  // Stop after the full multigrid cycle, whose error is within the
  // discretisation error (grids without held cells; with held cells, tol
  // applies).
  bool discretization = false;
  int max_cycles = 50;
  int pre = 2, post = 2;
  // Post-smoothing sweeps in the full multigrid cycle's V-cycles when the
  // solve stops after it (discretization). One is enough there: measured on
  // the manufactured solutions of tests/potential.test.ts (2D n = 64, 256,
  // 1024; 3D n = 16, 32, 64; every boundary kind), one FMG cycle with V(2,1)
  // leaves at most 0.137 of the discretisation error against 0.136 with
  // V(2,2); the pre-smoothing is what matters (V(1,2) left up to 0.46). A
  // solve to a tolerance keeps post: the second sweep halves what is left of
  // the high-frequency residual (3D, rho with a component at 7.31 rad per
  // cell: 0.04 of rho's norm after V(2,1), under 0.01 after V(2,2)).
  // bind_mesh sets it to post when the caller gives postSmooth.
  int fmg_post = 1;
  // The smoother is red-black over-relaxation with this factor. 1.15 rather
  // than Gauss-Seidel's 1: measured on the manufactured solutions of
  // tests/potential.test.ts, one full multigrid cycle leaves 0.003-0.14 of
  // the discretisation error instead of 0.04-0.19 (2D, n from 64 to 1024)
  // and 0.01-0.10 instead of 0.04-0.19 (3D, n from 16 to 128), and in 3D a
  // V(2,2) cycle reduces the residual 45- to 75-fold instead of 16-fold, so
  // a 128^3 solve to 1e-6 takes 4 cycles instead of 5. (1.05 to 1.3 were
  // measured; 1.15 was best in 2D and 3D.)
  double omega = 1.15;
};

struct SolveStats {
  int cycles = 0;
  double residual = 0;
  bool converged = false;
  double mean_removed = 0;
  double energy = 0;
  std::vector<double> history;  // relative residual before each cycle and at the end
};

struct MgLevel {
  Grid g;
  float* u;
  float* f;
  float* r;
  unsigned char* mask;  // null when nothing is held
};

using Progress = std::function<void(int cycle, double relative_residual)>;

// The levels of a grid: halved while every extent is even and at least 4.
// stop_cells > 0 ends the list at the first level of at most that many cells
// (a device's coarsest level, below which the host solves).
inline std::vector<Grid> level_grids(const Grid& g, idx stop_cells = 0) {
  std::vector<Grid> gs{g};
  for (;;) {
    const Grid& c = gs.back();
    if (stop_cells > 0 && c.cells() <= stop_cells) break;
    bool even = c.n[0] % 2 == 0 && c.n[1] % 2 == 0 && (c.dim == 2 || c.n[2] % 2 == 0);
    bool big = c.n[0] >= 4 && c.n[1] >= 4 && (c.dim == 2 || c.n[2] >= 4);
    if (!even || !big) break;
    gs.push_back(c.coarse());
  }
  return gs;
}

inline bool any_dirichlet(const Grid& g) {
  for (int a = 0; a < g.dim; ++a)
    if (g.bc[a] == BC_DIRICHLET) return true;
  return false;
}

// The fp64 sum of n values of an array on the executor's side.
template <class Exec, class T>
double sum_array(Exec& ex, idx n, const T* v) {
  return ex.sum_n(n, [=] SF_LAMBDA(idx i) { return (double)v[i]; });
}

// The multigrid kernels as launches over cells. CpuExec has its own
// overloads (native/mg_cpu.h): row loops with vectorisable row forms and
// the same per-cell arithmetic.

// Red-black Gauss-Seidel, over-relaxed by w, one launch per colour over that
// colour's cells only: the launch is half as wide as the grid in x (cell xh
// of a row is x = 2 xh + the row's parity), so no thread idles on the other
// colour.
template <class Exec>
void rbgs(Exec& ex, const MgLevel& L, float k2, int sweeps, float w = 1.0f) {
  Grid g = L.g;
  float* u = L.u;
  const float* f = L.f;
  const unsigned char* m = L.mask;
  float ih2 = (float)(1.0 / (g.h * g.h));
  Grid half = g;
  half.n[0] = (g.n[0] + 1) / 2;
  for (int s = 0; s < sweeps; ++s)
    for (int col = 0; col < 2; ++col)
      ex.for_cells(half, [=] SF_LAMBDA(idx, int xh, int y, int z) {
        const int x = 2 * xh + ((y + z + col) & 1);
        if (x >= g.n[0]) return;
        const idx c = g.at(x, y, z);
        if (m && m[c]) return;
        u[c] = over_relax(u[c], relax_point(g, u, f[c], c, x, y, z, ih2, k2), w);
      });
}

// A V-cycle's pre-smoothing of a correction that starts from zero, and its
// post-smoothing after the coarse correction is added (the CPU takes each
// in one pass over memory, mg_cpu.h).
template <class Exec>
void smooth_from_zero(Exec& ex, const MgLevel& L, float k2, int sweeps, float w) {
  ex.fill_zero(L.u, L.g.cells());
  rbgs(ex, L, k2, sweeps, w);
}

template <class Exec>
void level_residual(Exec& ex, const MgLevel& L, float k2) {
  Grid g = L.g;
  const float* u = L.u;
  const float* f = L.f;
  float* r = L.r;
  const unsigned char* m = L.mask;
  float ih2 = (float)(1.0 / (g.h * g.h));
  ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    r[c] = (m && m[c]) ? 0.0f : residual_point<float, float>(g, u, f[c], c, x, y, z, ih2, k2);
  });
}

// The coarse right-hand side from a fine array: the fine residual in a
// V-cycle, the fine right-hand side itself in full multigrid.
template <class Exec>
void restrict_level(Exec& ex, const MgLevel& F, const MgLevel& C, const float* src) {
  Grid gf = F.g;
  const float* rf = src;
  float* fc = C.f;
  ex.for_cells(C.g, [=] SF_LAMBDA(idx c, int X, int Y, int Z) { fc[c] = restrict_point(gf, rf, X, Y, Z); });
}

// The fine residual restricted to the coarse right-hand side: two launches
// here; CpuExec fuses them into one pass (native/mg_cpu.h).
template <class Exec>
void residual_restrict(Exec& ex, const MgLevel& L, const MgLevel& C, float k2) {
  level_residual(ex, L, k2);
  restrict_level(ex, L, C, L.r);
}

// A V-cycle's descent on level L: the pre-smoothing of a correction that
// starts from zero, then its residual restricted to C's right-hand side. The
// CPU takes both in one pass over memory (native/mg_cpu.h).
template <class Exec>
void smooth_residual_restrict(Exec& ex, const MgLevel& L, const MgLevel& C, float k2, int sweeps, float w) {
  smooth_from_zero(ex, L, k2, sweeps, w);
  residual_restrict(ex, L, C, k2);
}

template <class Exec>
void prolong_add(Exec& ex, const MgLevel& C, const MgLevel& F) {
  Grid gc = C.g;
  const float* uc = C.u;
  float* u = F.u;
  const unsigned char* m = F.mask;
  int dim = F.g.dim;
  ex.for_cells(F.g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    if (!(m && m[c])) u[c] += prolong_point(gc, uc, x, y, z, dim);
  });
}

// With sum, also sum u over the level after the smoothing (a singular
// problem's finest correction: what it adds to the answer's mean).
template <class Exec>
void prolong_add_smooth(Exec& ex, const MgLevel& C, const MgLevel& F, float k2, int sweeps, float w,
                        double* sum = nullptr) {
  prolong_add(ex, C, F);
  rbgs(ex, F, k2, sweeps, w);
  if (sum) *sum = sum_array(ex, F.g.cells(), (const float*)F.u);
}

// The outer fp64 residual r = (rho - shift) - A phi, stored in fp32 into r;
// returns ||r||^2. Held cells have r = 0.
template <class Exec>
double outer_residual(Exec& ex, const Grid& g, const double* phi, const float* rho, double shift,
                      const unsigned char* m, float* r, double k2) {
  const double ih2 = 1.0 / (g.h * g.h);
  return ex.sum_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    double v = 0;
    if (!(m && m[c])) v = residual_point<double, double>(g, phi, (double)rho[c] - shift, c, x, y, z, ih2, k2);
    r[c] = (float)v;
    return v * v;
  });
}

// phi += alpha e on free cells (alpha: energy_step, or 1), then
// outer_residual: one step of the defect correction. With out, also the
// answer phi - mean in fp32 into out and sum (rho - shift) out into rho_out:
// the answer and its energy, should this step be the last. (A singular
// problem's answer is phi less its mean, which the caller knows before this
// pass: the mean of the phi it started from plus that of alpha e. Elsewhere
// mean is 0, and out is phi rounded.) CpuExec fuses it all into one pass
// (native/mg_cpu.h).
template <class Exec>
double correct_and_residual(Exec& ex, const Grid& g, double* phi, const float* e, const float* rho, double shift,
                            const unsigned char* m, float* r, double k2, float* out = nullptr, double* rho_out = nullptr,
                            double mean = 0, double alpha = 1.0) {
  ex.for_n(g.cells(), [=] SF_LAMBDA(idx i) {
    if (!(m && m[i])) phi[i] += alpha * (double)e[i];
  });
  double rn2 = outer_residual(ex, g, phi, rho, shift, m, r, k2);
  if (out) *rho_out = ex.sum_n(g.cells(), [=] SF_LAMBDA(idx i) {
    float o = (float)(phi[i] - mean);
    out[i] = o;
    return ((double)rho[i] - shift) * (double)o;
  });
  return rn2;
}

// The step along a V-cycle's correction e of the residual r that minimises
// the energy norm of the error, (r . e) / (e . A e), in fp64 (A e from the
// fp32 e summed in fp64: its terms cancel by up to 8 / (h^2 lambda)). Taking
// that step instead of the whole correction is steepest descent
// preconditioned by the V-cycle, which the error's energy norm can only
// gain from. Measured: on rough right-hand sides (2D n = 64 to 1024, 3D
// n = 16 to 64, every boundary kind) the residual contracts by 0.023 to
// 0.040 per cycle instead of 0.039 to 0.051; on the bench's smooth ones by
// 1/36 to 1/240 in 2D instead of 1/24 to 1/124, so a 1024^2 or 256^2
// Dirichlet solve to 1e-6 takes 2 cycles instead of 3 and a 64^3 one 3
// instead of 4. The pass reads r and e once: 5% of the samples of a 4096^2
// solve to 1e-6. 1 where e . A e is not positive (e = 0: nothing left to
// correct). CpuExec takes both sums in one pass by rows (native/mg_cpu.h).
inline double energy_step_of(double re, double eae) {
  const double a = re / eae;
  return eae > 0 && std::isfinite(a) ? a : 1.0;
}
template <class Exec>
double energy_step(Exec& ex, const Grid& g, const float* r, const float* e, double k2) {
  const double ih2 = 1.0 / (g.h * g.h);
  const double re = ex.sum_n(g.cells(), [=] SF_LAMBDA(idx i) { return (double)r[i] * (double)e[i]; });
  const double eae = ex.sum_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    return (double)e[c] * apply_point<float, double>(g, e, c, x, y, z, ih2, k2);
  });
  return energy_step_of(re, eae);
}

// The last step of the defect correction, when phi itself is not needed
// afterwards: the same sums and answer as correct_and_residual with out and
// no held cells (r is scratch). CpuExec stores neither phi + e nor the
// residual (native/mg_cpu.h).
template <class Exec>
double last_correction(Exec& ex, const Grid& g, double* phi, const float* e, const float* rho, double shift, float* r,
                       double k2, float* out, double* rho_out, double mean) {
  return correct_and_residual(ex, g, phi, e, rho, shift, nullptr, r, k2, out, rho_out, mean);
}

// Full multigrid's transfers of a whole answer in fp64: the coarse answer
// on the fine grid by cubic interpolation (transfer_k.h), one axis per pass
// (x into t1 = [nfx, ncy, ncz]; y into t2 = [nfx, nfy, ncz] in 3D, or into
// the answer in 2D; z into the answer), the right-hand side restricted, a
// level's fp32 answer widened, and a correction added. CpuExec has its own
// interpolation by rows (native/mg_cpu.h).
template <class Exec>
void cubic_axis(Exec& ex, const double* src, const Grid& gs, int axis, double* dst) {
  Grid gd = gs;
  gd.n[axis] *= 2;
  const idx s = gs.stride(axis);
  const int n = gs.n[axis], bc = gs.bc[axis];
  const bool wall = wall_cubic(gs.dim, n, bc);
  ex.for_cells(gd, [=] SF_LAMBDA(idx c, int x, int y, int z) {
    int p[3] = {x, y, z};
    int f = p[axis];
    p[axis] = 0;
    dst[c] = cubic_point<double>(src, gs.at(p[0], p[1], p[2]), s, f, n, bc, wall);
  });
}

// The axes of coarse grid gc whose interpolation takes full multigrid's
// wall ramp (transfer_k.h): those with the one-sided cubic.
inline int wall_ramp_axes(const Grid& gc) {
  int m = 0;
  for (int a = 0; a < gc.dim; ++a)
    if (wall_cubic(gc.dim, gc.n[a], gc.bc[a])) m |= 1 << a;
  return m;
}

// The doubles of a wall ramp on g for the axes in mask: its profiles
// (wall_ramp_profiles), and its wall values (wall_ramp_values).
inline idx wall_profiles_size(const Grid& g, int mask) {
  idx s = 0;
  for (int a = 0; a < 3; ++a)
    if (mask >> a & 1) s += 2 * (idx)g.n[a];
  return s;
}
inline idx wall_values_size(const Grid& g, int mask) {
  WallRamp w;
  for (int a = 0; a < 3; ++a) w.n[a] = g.n[a];
  idx s = 0;
  for (int S = 1; S < 8; ++S)
    if ((S & mask) == S) s += ((idx)1 << WallRamp::count(S)) * w.others(S);
  return s;
}

// A side's profile at x along an axis of length L: sinh(k (L - x)) /
// sinh(k L), written so that no term overflows; 1 - x / L without screening.
inline double wall_profile(double x, double L, double k) {
  if (k == 0) return 1 - x / L;
  return std::exp(-k * x) * std::expm1(-2 * k * (L - x)) / std::expm1(-2 * k * L);
}

// The wall ramp (transfer_k.h) of an interpolation from coarse level g
// along the axes in mask (wall_ramp_axes(g); the formulas hold for any
// Dirichlet axes), for screening k2, sampled at g's cells: its profiles,
// formed on the host into buf (wall_profiles_size(g, mask) doubles). They
// depend on the grid alone: full multigrid forms them once per level.
template <class Exec>
WallRamp wall_ramp_profiles(Exec& ex, const Grid& g, double k2, double* buf, int mask) {
  WallRamp w;
  w.mask = mask;
  for (int a = 0; a < 3; ++a) w.n[a] = g.n[a];
  std::vector<double> host;
  for (int a = 0; a < 3; ++a) {
    if (!(mask >> a & 1)) continue;
    const int n = g.n[a];
    host.assign(2 * (size_t)n, 0.0);
    for (int i = 0; i < n; ++i) host[(size_t)i] = host[2 * (size_t)n - 1 - i] = wall_profile((i + 0.5) * g.h, n * g.h, std::sqrt(k2));
    ex.upload_into(buf, host.data(), 2 * (idx)n);
    w.prof[a] = buf;
    buf += 2 * (idx)n;
  }
  return w;
}

// The ramp's wall values for the coarse level's right-hand side f and a fine
// level of cell size h: g = -(3/8) h^2 f at the wall cells, each G[S] by one
// launch into buf (wall_values_size(g, w.mask) doubles).
template <class Exec>
void wall_ramp_values(Exec& ex, const Grid& g, const float* f, double h, double* buf, WallRamp& w) {
  const double c = -0.375 * h * h;
  for (int S = 1; S < 8; ++S) {
    if ((S & w.mask) != S) continue;
    const idx oc = w.others(S), m = ((idx)1 << WallRamp::count(S)) * oc;
    double* dst = buf;
    w.G[S] = dst;
    buf += m;
    const Grid gg = g;
    ex.for_n(m, [=] SF_LAMBDA(idx i) {
      const int sd = (int)(i / oc);
      idx r = i % oc;
      int q[3] = {0, 0, 0};
      for (int a = 0; a < 3; ++a)
        if (!(S >> a & 1)) {
          q[a] = (int)(r % gg.n[a]);
          r /= gg.n[a];
        }
      int j = 0;
      for (int a = 0; a < 3; ++a)
        if (S >> a & 1) q[a] = (sd >> j++ & 1) ? gg.n[a] - 1 : 0;
      dst[i] = c * (double)f[gg.at(q[0], q[1], q[2])];
    });
  }
}

// The coarse answer pc plus the wall ramp of its interpolation
// (wall_ramp_profiles, wall_ramp_values): the cubic interpolation
// reproduces the ramp's linear profiles (the screened ones to O(H^4 k^4))
// and carries the wall values along the walls, so the fine level receives
// the ramp with the answer.
template <class Exec>
void add_wall_ramp(Exec& ex, const Grid& gc, double* pc, const WallRamp& ramp) {
  if (!ramp.mask) return;
  const WallRamp w = ramp;
  ex.for_cells(gc, [=] SF_LAMBDA(idx c, int x, int y, int z) { pc[c] += w.at(x, y, z); });
}

template <class Exec>
void prolong_solution(Exec& ex, const Grid& gc, const double* pc, const Grid& gf, double* pf, double* t1, double* t2) {
  Grid g1 = gc;
  g1.n[0] *= 2;
  cubic_axis(ex, pc, gc, 0, t1);
  if (gf.dim == 2) {
    cubic_axis(ex, t1, g1, 1, pf);
    return;
  }
  Grid g2 = g1;
  g2.n[1] *= 2;
  cubic_axis(ex, t1, g1, 1, t2);
  cubic_axis(ex, t2, g2, 2, pf);
}

// Full multigrid on the finest level: phi = the coarse answer pc
// interpolated, and the fp32 residual of phi into r; phi is needed afterwards
// only when keep_phi (more cycles follow); with phi_sum, sum phi too (a
// singular problem's answer is phi less its mean). With fmg_last_correction,
// the last step when full multigrid is the whole solve. Here phi is stored
// and read back; CpuExec forms the interpolation slab by slab where it is
// used and stores it only when keep_phi (native/mg_cpu.h).
template <class Exec>
void fmg_finest_residual(Exec& ex, const Grid& gc, const double* pc, const Grid& g, double* phi, double* t1, double* t2,
                         const float* rho, double shift, float* r, double k2, bool, double* phi_sum = nullptr) {
  prolong_solution(ex, gc, pc, g, phi, t1, t2);
  outer_residual(ex, g, phi, rho, shift, nullptr, r, k2);
  if (phi_sum) *phi_sum = sum_array(ex, g.cells(), (const double*)phi);
}

template <class Exec>
double fmg_last_correction(Exec& ex, const Grid&, const double*, const Grid& g, double* phi, const float* e,
                           const float* rho, double shift, float* r, double k2, float* out, double* rho_out,
                           double mean) {
  return last_correction(ex, g, phi, e, rho, shift, r, k2, out, rho_out, mean);
}

template <class Exec>
void restrict_into(Exec& ex, const Grid& gf, const float* src, const Grid& gc, float* dst) {
  ex.for_cells(gc, [=] SF_LAMBDA(idx c, int X, int Y, int Z) { dst[c] = restrict_point(gf, src, X, Y, Z); });
}

// Full multigrid's first restriction, straight from rho: coarse cell c takes
// the mean of its children's rho - shift, each rounded to fp32 as a copy on
// the fine level would hold it (the same numbers restrict_into gives from
// that copy), and the children's (rho - shift)^2 in fp64 are summed: the
// first residual's norm. The fine copy is never written, a pass fewer.
template <class Exec>
double restrict_rhs(Exec& ex, const Grid& gf, const float* rho, double shift, const Grid& gc, float* dst) {
  return ex.sum_cells(gc, [=] SF_LAMBDA(idx c, int X, int Y, int Z) {
    const int k = gf.dim == 3 ? 8 : 4;
    float v[8];
    double s = 0;
    for (int i = 0; i < k; ++i) {
      const double d = (double)rho[gf.at(2 * X + (i & 1), 2 * Y + ((i >> 1) & 1), gf.dim == 3 ? 2 * Z + (i >> 2) : 0)] - shift;
      v[i] = (float)d;
      s += d * d;
    }
    Grid kids = gf;  // the children as a 2 x 2 (x 2) grid, in v's order
    kids.n[0] = kids.n[1] = 2;
    kids.n[2] = gf.dim == 3 ? 2 : 1;
    dst[c] = restrict_point(kids, (const float*)v, 0, 0, 0);
    return s;
  });
}

template <class Exec>
void widen(Exec& ex, idx n, const float* u, double* phi) {
  ex.for_n(n, [=] SF_LAMBDA(idx i) { phi[i] = (double)u[i]; });
}

template <class Exec>
void add_correction(Exec& ex, idx n, const float* e, double* phi) {
  ex.for_n(n, [=] SF_LAMBDA(idx i) { phi[i] += (double)e[i]; });
}

// The corner solve. Where two Dirichlet walls meet (2D) and rho is not 0 at
// the corner, u is not smooth (u_xx = u_yy = 0 there while -lap u = rho),
// and what a cycle leaves of the residual gathers at the corners: after the
// full multigrid cycle on a 2048^2 box (rho = sin 2 pi x sin 4 pi y + 0.3
// cos 6 pi x), 1.78e-6 of rho's norm, of which 8.4e-7 lies outside the
// 16-cell squares at the corners. The corner solve removes it where it lies:
// on a p x p square at each corner, the correction d that zeroes the
// residual in the square with d = 0 outside it (A_square d = r, solved
// exactly). It leaves a residual only on the cells beside the square (d's
// edge values / h^2), which is small as d is there. The square's operator is
// separable: per axis T = tridiag(-1, 2, -1), with 3 at the wall cell (the
// ghost -u) and cut at p. Its eigenvectors are sin((i + 1/2) theta_k),
// theta_k = 2 k pi / (2 p + 1) for k = 1..p (sin(-theta / 2) is the wall's
// ghost, sin((p + 1/2) theta_k) = 0 the zero beyond the square), with
// eigenvalues 4 sin^2(theta_k / 2). So d = V (V^T r V ./ ((lam_l + lam_k) /
// h^2 + k2)) V^T, four products of p x p matrices per corner: with the
// residual before and after, some 80 microseconds on the CPU for p = 32,
// against a V-cycle's 10 ms at 2048^2.
// Measured on that box, p = 16 leaves 9.3e-7, p = 32 8.5e-7, p = 48 8.2e-7
// (so its one cycle ends a solve to 1e-6); with rho 2.5 at a corner, 1024^2:
// 6.0e-6 before, 8.2e-7 after. A solve takes it only where the residual
// outside the squares is within the tolerance already (corner_solve), so it
// is what ends the solve a cycle early; elsewhere the next V-cycle takes the
// corners with the rest.
constexpr int kCornerSquare = 32;

// Grids of at least 8 squares' widths: on smaller ones the corner solve
// (some 80 us on the CPU, 10 us when it finds the residual outside the
// squares too large) costs as much as a cycle.
inline bool corner_solve_applies(const Grid& g) {
  return g.dim == 2 && g.bc[0] == BC_DIRICHLET && g.bc[1] == BC_DIRICHLET && g.n[0] >= 8 * kCornerSquare &&
         g.n[1] >= 8 * kCornerSquare;
}

// The squares' basis (on the executor's side; null: not made yet) and
// scratch, for p = kCornerSquare.
struct CornerSolve {
  const double* V = nullptr;    // p x p, V[i p + k] = v_k(i), orthonormal
  const double* Vt = nullptr;   // its transpose
  const double* lam = nullptr;  // the p eigenvalues of T
  double* a = nullptr;          // 4 p^2 each: one value per cell of the four squares
  double* b = nullptr;
};

// The cell of index t of the corner region: t < 4 p^2 is cell (i, j) of
// square q = t / p^2 (i = t % p, j = t / p % p, counted from its corner's
// walls: x = i or nx - 1 - i as q & 1, y = j or ny - 1 - j as q & 2); then
// 2 p cells beside each square: (p, j), then (i, p).
SF_HD idx corner_cell(const Grid& g, idx t, int& x, int& y) {
  constexpr int p = kCornerSquare;
  constexpr idx P = 4 * (idx)p * p;
  int q, i, j;
  if (t < P) {
    q = (int)(t / ((idx)p * p));
    i = (int)(t % p);
    j = (int)(t / p % p);
  } else {
    const idx u = t - P;
    q = (int)(u / (2 * p));
    const int s = (int)(u % (2 * p));
    i = s < p ? p : s - p;
    j = s < p ? s : p;
  }
  x = (q & 1) ? g.n[0] - 1 - i : i;
  y = (q & 2) ? g.n[1] - 1 - j : j;
  return g.at(x, y, 0);
}

template <class Exec>
CornerSolve corner_solve_basis(Exec& ex) {
  constexpr int p = kCornerSquare;
  std::vector<double> v((size_t)p * p), vt((size_t)p * p), lam((size_t)p);
  const double pi = 3.14159265358979323846;
  for (int k = 0; k < p; ++k) {
    const double th = 2 * pi * (k + 1) / (2 * p + 1);
    double n2 = 0;
    for (int i = 0; i < p; ++i) n2 += std::sin((i + 0.5) * th) * std::sin((i + 0.5) * th);
    for (int i = 0; i < p; ++i) v[(size_t)i * p + k] = vt[(size_t)k * p + i] = std::sin((i + 0.5) * th) / std::sqrt(n2);
    lam[(size_t)k] = 4 * std::sin(th / 2) * std::sin(th / 2);
  }
  CornerSolve c;
  double* V = ex.template alloc<double>((idx)p * p);
  double* Vt = ex.template alloc<double>((idx)p * p);
  double* L = ex.template alloc<double>(p);
  ex.upload_into(V, v.data(), (idx)p * p);
  ex.upload_into(Vt, vt.data(), (idx)p * p);
  ex.upload_into(L, lam.data(), p);
  c.V = V;
  c.Vt = Vt;
  c.lam = L;
  c.a = ex.template alloc<double>(4 * (idx)p * p);
  c.b = ex.template alloc<double>(4 * (idx)p * p);
  return c;
}

// The four squares' corrections from their residuals: c.a holds r on entry
// and d on return (c.b: scratch). Each output sums its p terms in order
// (CpuExec's overload, native/mg_cpu.h, adds them in the same order by rows).
template <class Exec>
void corner_transforms(Exec& ex, const CornerSolve& c, double ih2, double k2) {
  constexpr int p = kCornerSquare;
  constexpr idx P = 4 * (idx)p * p, pp = (idx)p * p;
  const double *V = c.V, *lam = c.lam;
  double *a = c.a, *b = c.b;
  ex.for_n(P, [=] SF_LAMBDA(idx t) {  // b = a V (along x)
    const idx row = t - t % p;
    const int k = (int)(t % p);
    double s = 0;
    for (int i = 0; i < p; ++i) s += a[row + i] * V[(idx)i * p + k];
    b[t] = s;
  });
  ex.for_n(P, [=] SF_LAMBDA(idx t) {  // a = V^T b (along y), over the eigenvalues
    const idx sq = t - t % pp;
    const int l = (int)(t / p % p), k = (int)(t % p);
    double s = 0;
    for (int j = 0; j < p; ++j) s += V[(idx)j * p + l] * b[sq + (idx)j * p + k];
    a[t] = s / ((lam[l] + lam[k]) * ih2 + k2);
  });
  ex.for_n(P, [=] SF_LAMBDA(idx t) {  // b = V a (back along y)
    const idx sq = t - t % pp;
    const int j = (int)(t / p % p), k = (int)(t % p);
    double s = 0;
    for (int l = 0; l < p; ++l) s += V[(idx)j * p + l] * a[sq + (idx)l * p + k];
    b[t] = s;
  });
  ex.for_n(P, [=] SF_LAMBDA(idx t) {  // a = b V^T (back along x)
    const idx row = t - t % p;
    const int i = (int)(t % p);
    double s = 0;
    for (int k = 0; k < p; ++k) s += b[row + k] * V[(idx)i * p + k];
    a[t] = s;
  });
}

// The corner solve on phi (2D, corner_solve_applies, no held cells: the
// problem is not singular, and phi_out is phi rounded), given r, phi's fp32
// residual, and rn2 = ||r||^2 (of the stored values on the CPU; the fp64
// ones elsewhere, which differ in the eighth digit). When rn2 is above
// target and what lies outside the squares is at most target: phi += d (d
// from the stored residual, so rounded to 1e-7 of itself), r, out and
// *rho_out (sum rho out) kept those of phi where given, and the new ||r||^2
// returned. Otherwise rn2, and nothing changes.
template <class Exec>
double corner_solve(Exec& ex, const Grid& g, const CornerSolve& c, double* phi, const float* rho, float* r,
                    double k2, float* out, double* rho_out, double rn2, double target) {
  if (!(rn2 > target)) return rn2;  // within the tolerance already (or not finite: the caller reports it)
  constexpr int p = kCornerSquare;
  constexpr idx P = 4 * (idx)p * p, region = P + 8 * (idx)p;
  const double ih2 = 1.0 / (g.h * g.h);
  const Grid gg = g;
  double* a = c.a;
  const float* rr = r;
  const double old2 = ex.sum_n(region, [=] SF_LAMBDA(idx t) {  // from the stored residual, which rn2 sums
    int x, y;
    const double v = rr[corner_cell(gg, t, x, y)];
    if (t < P) a[t] = v;
    return v * v;
  });
  const double outside = rn2 > old2 ? rn2 - old2 : 0.0;
  if (!(outside <= target)) return rn2;
  corner_transforms(ex, c, ih2, k2);
  const double dro = ex.sum_n(P, [=] SF_LAMBDA(idx t) {
    int x, y;
    const idx cell = corner_cell(gg, t, x, y);
    phi[cell] += a[t];
    if (!out) return 0.0;
    const float o = (float)phi[cell];
    const double dv = (double)rho[cell] * ((double)o - (double)out[cell]);
    out[cell] = o;
    return dv;
  });
  if (out && rho_out) *rho_out += dro;
  const double new2 = ex.sum_n(region, [=] SF_LAMBDA(idx t) {
    int x, y;
    const idx cell = corner_cell(gg, t, x, y);
    const float v = (float)residual_point<double, double>(gg, phi, (double)rho[cell], cell, x, y, 0, ih2, k2);
    r[cell] = v;
    return (double)v * (double)v;
  });
  return outside + new2;
}

template <class Exec>
void restrict_mask_level(Exec& ex, const MgLevel& F, const MgLevel& C) {
  Grid gf = F.g;
  const unsigned char* mf = F.mask;
  unsigned char* mc = C.mask;
  ex.for_cells(C.g, [=] SF_LAMBDA(idx c, int X, int Y, int Z) { mc[c] = restrict_mask(gf, mf, X, Y, Z); });
}

template <class Exec>
idx count_held(Exec& ex, idx n, const unsigned char* mask) {
  return (idx)ex.sum_n(n, [=] SF_LAMBDA(idx i) { return mask[i] ? 1.0 : 0.0; });
}

// A device's coarse levels are solved on the host below this many cells
// (HPGMG's rule: a level too small to fill the device costs launch latency,
// not bandwidth). host_multigrid_solve is the CPU backend's multigrid
// (backend_cpu.cc), serial, to a relative residual of 1e-7.
constexpr idx kHostCoarseCells = 16384;
void host_multigrid_solve(const Grid& g, const float* f, const unsigned char* mask, double kappa, float* u, CancelFlag cancel);

// (Kernel lambdas sit in public members or free functions only: nvcc's
// extended lambdas may not live in constructors or private members.)
template <class Exec>
class Multigrid {
 public:
  // mask: device pointer to the held cells of the finest grid, or null.
  Multigrid(Exec& ex, const Grid& g, const unsigned char* mask, const SolveOptions& opt)
      : ex_(ex), opt_(opt), k2_(opt.kappa * opt.kappa) {
    std::vector<Grid> gs = level_grids(g, Exec::on_device ? kHostCoarseCells : 0);
    for (size_t l = 0; l < gs.size(); ++l) {
      idx n = gs[l].cells();
      MgLevel L{gs[l], ex.template alloc<float>(n), ex.template alloc<float>(n), ex.template alloc<float>(n), nullptr};
      if (mask) L.mask = l == 0 ? const_cast<unsigned char*>(mask) : ex.template alloc<unsigned char>(n);
      if (mask && l > 0) restrict_mask_level(ex, levels_[l - 1], L);
      levels_.push_back(L);
    }
    phi_ = ex.template alloc<double>(g.cells());
    held_ = mask ? count_held(ex, g.cells(), mask) : 0;
    singular_ = !any_dirichlet(g) && k2_ == 0 && held_ == 0;
  }

  // Solves for one field. rho, anchor and phi_out are device pointers; anchor
  // gives the held cells' values (null: zero).
  SolveStats solve(const float* rho, const float* anchor, float* phi_out, CancelFlag cancel,
                   const Progress& progress) {
    const Grid g = levels_[0].g;
    const idx n = g.cells();
    const unsigned char* m = levels_[0].mask;
    double* phi = phi_;
    float* f0 = levels_[0].f;
    float* u0 = levels_[0].u;
    const double k2 = k2_;
    SolveStats st;
    cancel_ = cancel;

    double shift = 0;
    if (singular_) shift = sum_array(ex_, n, rho) / (double)n;
    st.mean_removed = shift;
    // Without held cells the first cycle is full multigrid, which sets phi
    // itself: the residual of phi = 0 is rho - shift, whose norm is taken in
    // the pass that restricts it to level 1 (phi is zeroed only if no cycle
    // runs).
    const bool starts_fmg = held_ == 0 && levels_.size() > 1;
    double ref, rn2;
    if (starts_fmg) {
      fmg_buffers();
      rn2 = restrict_rhs(ex_, g, rho, shift, levels_[1].g, levels_.size() == 2 ? levels_[1].f : fine_rhs_[1]);
      ref = std::sqrt(rn2);
    } else {
      ex_.for_n(n, [=] SF_LAMBDA(idx i) { phi[i] = (m && m[i]) ? (anchor ? (double)anchor[i] : 0.0) : 0.0; });
      ref = std::sqrt(ex_.sum_n(n, [=] SF_LAMBDA(idx i) {
        double v = (m && m[i]) ? 0.0 : (double)rho[i] - shift;
        return v * v;
      }));
      rn2 = outer_residual(ex_, g, phi, rho, shift, m, f0, k2);
    }
    // Every free cell's rho is in ref (an fp64 sum of squares of fp32
    // values: no finite rho overflows it), so this is where a rho that is not
    // finite shows; bind_mesh then scans rho to name it.
    if (!std::isfinite(ref)) fail("E_NONFINITE", "the right-hand side of a multigrid solve is not finite");
    bool fmg_done = false;
    // Without held cells each correction pass writes phi_out and sums
    // (rho - shift) phi_out (a write of fp32 per cell), which saves the final
    // pass over phi and rho when that correction is the last. On a singular
    // problem phi_out is phi less its mean, known before the pass: phi_total
    // follows sum phi as each pass adds to it (full multigrid's interpolated
    // answer, summed as it is formed, then each V-cycle's correction, summed
    // by its last smoothing), so no pass over the answer follows.
    const bool fuse_out = held_ == 0;
    bool out_current = false;  // phi_out and rho_phi are those of phi
    double rho_phi = 0, phi_total = 0;
    for (int cycle = 0;; ++cycle) {
      double rn = std::sqrt(rn2);
      if (cycle == 0 && ref == 0) ref = rn;  // rho = 0: measure against the anchors' initial residual
      double rel = ref > 0 ? rn / ref : 0.0;
      if (!std::isfinite(rel)) fail("E_NONFINITE", "potential: the residual became non-finite");
      st.history.push_back(rel);
      st.residual = rel;
      st.cycles = cycle;
      if (progress) progress(cycle, rel);
      if (rel <= opt_.tol || (opt_.discretization && cycle == 1 && fmg_done)) {
        st.converged = true;
        if (starts_fmg && !fmg_done) ex_.fill_zero(phi, n);
        break;
      }
      if (cycle >= opt_.max_cycles) {
        if (starts_fmg && !fmg_done) ex_.fill_zero(phi, n);
        break;
      }
      out_current = false;
      if (cancel && *cancel) fail("E_ABORTED", "potential: aborted");
      double added = 0;  // sum of the correction (singular problems)
      double alpha = 1.0;  // the step taken along the correction
      if (cycle == 0 && held_ == 0 && levels_.size() > 1) {
        fmg(rho, shift, singular_ ? &phi_total : nullptr, singular_ ? &added : nullptr);
        fmg_done = true;
      } else {
        vcycle(0, opt_.post, singular_ ? &added : nullptr);
        // Without held cells (those take flexible conjugate gradients,
        // krylov_step) the correction is scaled by its energy step.
        if (held_ == 0 && levels_.size() > 1) {
          alpha = energy_step(ex_, g, f0, u0, k2);
          added *= alpha;
        }
      }
      const double mean = singular_ ? (phi_total + added) / (double)n : 0.0;
      phi_total += added;
      if (held_ > 0) {
        krylov_step(cycle);
        rn2 = outer_residual(ex_, g, phi, rho, shift, m, f0, k2);
      } else if (opt_.discretization && fmg_done && cycle == 0) {
        // The last correction: the loop stops after full multigrid.
        rn2 = fmg_last_correction(ex_, levels_[1].g, fine_phi_[1], g, phi, u0, rho, shift, f0, k2, phi_out, &rho_phi,
                                  mean);
        out_current = true;
      } else {
        rn2 = correct_and_residual(ex_, g, phi, u0, rho, shift, m, f0, k2, fuse_out ? phi_out : nullptr, &rho_phi,
                                   mean, alpha);
        out_current = fuse_out;
        if (held_ == 0 && corner_solve_applies(g)) {
          if (!corners_.V) corners_ = corner_solve_basis(ex_);
          const double target = (opt_.tol * ref) * (opt_.tol * ref);
          rn2 = corner_solve(ex_, g, corners_, phi, rho, f0, k2, phi_out, &rho_phi, rn2, target);
        }
      }
    }

    // phi_out = phi - mean and U = 1/2 h^dim sum rho phi_out in one pass
    // (after the mean's, on a singular problem), unless the last correction
    // pass wrote them.
    double hk = std::pow(g.h, g.dim);
    if (out_current) {
      st.energy = 0.5 * hk * rho_phi;
      return st;
    }
    double mean = singular_ ? sum_array(ex_, n, (const double*)phi) / (double)n : 0.0;
    st.energy = 0.5 * hk * ex_.sum_n(n, [=] SF_LAMBDA(idx i) {
      float o = (float)(phi[i] - mean);
      phi_out[i] = o;
      return (double)rho[i] * (double)o;
    });
    return st;
  }

  // With held cells the coarse grids represent the anchors only roughly (a
  // coarse cell is held when any child is), and a plain V-cycle iteration can
  // slow to a factor near 0.7 on near-singular problems. There the V-cycle is
  // used as the preconditioner of flexible conjugate gradients instead
  // (Notay's FCG(1): beta from z.(r - r_prev)), which removes those few slow
  // modes. On entry: r (fp32, level 0 f) and z = M r (level 0 u).
  void krylov_step(int iter) {
    const Grid g = levels_[0].g;
    const idx n = g.cells();
    const unsigned char* m = levels_[0].mask;
    if (!kp_) {
      kp_ = ex_.template alloc<double>(n);
      kr_ = ex_.template alloc<float>(n);
    }
    double *p = kp_, *phi = phi_;
    float* rp = kr_;
    const float* r = levels_[0].f;
    const float* z = levels_[0].u;
    double rz = ex_.sum_n(n, [=] SF_LAMBDA(idx i) { return (double)r[i] * (double)z[i]; });
    double beta = 0;
    if (iter > 0 && krz_prev_ != 0) {
      double num = ex_.sum_n(n, [=] SF_LAMBDA(idx i) { return (double)z[i] * ((double)r[i] - (double)rp[i]); });
      beta = num / krz_prev_;
    }
    ex_.for_n(n, [=] SF_LAMBDA(idx i) {
      p[i] = (double)z[i] + beta * (iter > 0 ? p[i] : 0.0);
      rp[i] = r[i];
    });
    const double ih2 = 1.0 / (g.h * g.h), k2 = k2_;
    double pq = ex_.sum_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z3) {
      return (m && m[c]) ? 0.0 : apply_point<double>(g, p, c, x, y, z3, ih2, k2) * p[c];
    });
    krz_prev_ = rz;
    if (!(pq > 0)) return;  // converged to rounding: nothing left to add
    double alpha = rz / pq;
    ex_.for_n(n, [=] SF_LAMBDA(idx i) {
      if (!(m && m[i])) phi[i] += alpha * p[i];
    });
  }

  // Full multigrid's buffers: each level's right-hand side and fp64 answer,
  // and the interpolation's passes.
  void fmg_buffers() {
    if (!fine_rhs_.empty()) return;
    const size_t last = levels_.size() - 1;
    fine_rhs_.assign(levels_.size(), nullptr);
    fine_phi_.assign(levels_.size(), nullptr);
    for (size_t l = 1; l <= last; ++l) {
      idx n = levels_[l].g.cells();
      fine_rhs_[l] = ex_.template alloc<float>(n);
      fine_phi_[l] = ex_.template alloc<double>(n);
    }
    // The interpolation's passes: at most half the finest grid each (the
    // second in 3D only). (CpuExec's interpolation never touches them.)
    idx half = levels_[0].g.cells() / 2;
    fmg_t1_ = ex_.template alloc<double>(half);
    if (levels_[0].g.dim == 3) fmg_t2_ = ex_.template alloc<double>(half);
    // The wall ramp (transfer_k.h) of each interpolation, from levels 1 to
    // last: the profiles of each level, and room for one level's wall
    // values at a time.
    ramps_.assign(levels_.size(), WallRamp());
    for (size_t l = 1; l <= last; ++l) {
      const Grid& g = levels_[l].g;
      const int mask = wall_ramp_axes(g);
      if (!mask) continue;
      ramps_[l] = wall_ramp_profiles(ex_, g, k2_, ex_.template alloc<double>(wall_profiles_size(g, mask)), mask);
      if (l == 1) ramp_values_ = ex_.template alloc<double>(wall_values_size(g, mask));
    }
  }

  // Full multigrid for the first correction (phi = 0, so the correction is
  // the solution; on entry level 1 holds rho - shift restricted, by
  // restrict_rhs): the right-hand side restricted to every level, the
  // coarsest solved, then on each finer level the interpolated coarser
  // answer improved by one V-cycle. It leaves the error below the
  // discretisation error for about the price of 1.3 V-cycles
  // (tests/potential.test.ts measures it).
  //  - The coarser answer is interpolated by cubics: a linear interpolation
  //    leaves an error the size of the discretisation error, and in 3D one
  //    V-cycle does not remove enough of it (2 to 3 times the discretisation
  //    error remained).
  //  - Each level keeps its answer in fp64 and takes its V-cycle on the fp64
  //    residual of the interpolated answer, the same defect correction as the
  //    outer iteration: an fp32 answer alone stalls near 3e-5 of phi
  //    (rounding u by eps costs 4 eps / h^2 in A u), far above the
  //    discretisation error of a fine grid (8e-7 at 1024^2).
  // With phi_sum and added (a singular problem): the sum of the finest
  // level's interpolated answer and of the correction its V-cycle leaves.
  void fmg(const float* rho, double shift, double* phi_sum, double* added) {
    const size_t last = levels_.size() - 1;
    const int post = opt_.discretization ? opt_.fmg_post : opt_.post;
    for (size_t l = 1; l < last; ++l)
      restrict_into(ex_, levels_[l].g, fine_rhs_[l], levels_[l + 1].g, l + 1 == last ? levels_[last].f : fine_rhs_[l + 1]);
    coarse(levels_[last]);
    widen(ex_, levels_[last].g.cells(), levels_[last].u, fine_phi_[last]);
    const double k2 = k2_;
    for (size_t l = last; l-- > 0;) {
      const MgLevel& L = levels_[l];
      double* phi = l == 0 ? phi_ : fine_phi_[l];
      WallRamp& ramp = ramps_[l + 1];
      if (ramp.mask) {
        const Grid& gc = levels_[l + 1].g;
        wall_ramp_values(ex_, gc, l + 1 == last ? levels_[last].f : fine_rhs_[l + 1], L.g.h, ramp_values_, ramp);
        add_wall_ramp(ex_, gc, fine_phi_[l + 1], ramp);
      }
      if (l == 0) {
        // phi is kept when cycles follow; else the caller's last correction
        // forms it again from level 1's answer.
        fmg_finest_residual(ex_, levels_[1].g, fine_phi_[1], L.g, phi, fmg_t1_, fmg_t2_, rho, shift, L.f, k2,
                            !opt_.discretization, phi_sum);
        vcycle(0, post, added);  // the caller adds the correction (fused with its residual)
        return;
      }
      prolong_solution(ex_, levels_[l + 1].g, fine_phi_[l + 1], L.g, phi, fmg_t1_, fmg_t2_);
      outer_residual(ex_, L.g, phi, fine_rhs_[l], 0.0, nullptr, L.f, k2);
      vcycle(l, post);
      add_correction(ex_, L.g.cells(), L.u, phi);
    }
  }

  // One V-cycle for level l's correction u from its f, with post
  // post-smoothing sweeps on each level; u starts from zero (what it held
  // before is not read). With sum, also the sum of the correction.
  void vcycle(size_t l, int post, double* sum = nullptr) {
    // Checked on every level, so an abort lands within a few sweeps.
    if (cancel_ && *cancel_) fail("E_ABORTED", "potential: aborted");
    MgLevel& L = levels_[l];
    float k2 = (float)k2_;
    if (l + 1 == levels_.size()) {
      coarse(L);
      if (sum) *sum = sum_array(ex_, L.g.cells(), (const float*)L.u);
      return;
    }
    MgLevel& C = levels_[l + 1];
    smooth_residual_restrict(ex_, L, C, k2, opt_.pre, (float)opt_.omega);
    vcycle(l + 1, post);
    prolong_add_smooth(ex_, C, L, k2, post, (float)opt_.omega, sum);
  }

  // The coarsest level, on the host: by conjugate gradients when it is the
  // last of the halvings (a few cells), by the CPU's multigrid when a device
  // stopped at kHostCoarseCells.
  void coarse(MgLevel& L) {
    idx n = L.g.cells();
    coarse_f_.resize((size_t)n);
    coarse_u_.resize((size_t)n);
    ex_.download(coarse_f_.data(), L.f, n);
    if (L.mask && coarse_mask_.empty()) {
      coarse_mask_.resize((size_t)n);
      ex_.download(coarse_mask_.data(), L.mask, n);
    }
    const unsigned char* mk = L.mask ? coarse_mask_.data() : nullptr;
    if (Exec::on_device && level_grids(L.g).size() > 1)
      host_multigrid_solve(L.g, coarse_f_.data(), mk, opt_.kappa, coarse_u_.data(), cancel_);
    else
      coarse_cg(L.g, coarse_f_.data(), mk, k2_, singular_, coarse_u_.data(), cancel_);
    ex_.upload_into(L.u, coarse_u_.data(), n);
  }

 private:
  Exec& ex_;
  SolveOptions opt_;
  double k2_;
  std::vector<MgLevel> levels_;
  double* phi_ = nullptr;
  std::vector<float*> fine_rhs_;          // full multigrid: each level's right-hand side
  std::vector<double*> fine_phi_;         // and its fp64 answer (level 0: phi_)
  double* fmg_t1_ = nullptr;              // cubic interpolation's passes
  double* fmg_t2_ = nullptr;
  std::vector<WallRamp> ramps_;           // each level's wall ramp (profiles; mask 0: none)
  double* ramp_values_ = nullptr;         // the wall values of one of them
  CornerSolve corners_;                   // 2D Dirichlet corners (corner_solve)
  double* kp_ = nullptr;                  // FCG direction
  float* kr_ = nullptr;                   // previous residual
  double krz_prev_ = 0;
  std::vector<float> coarse_f_, coarse_u_;      // the coarsest level on the host
  std::vector<unsigned char> coarse_mask_;
  CancelFlag cancel_ = nullptr;
  idx held_ = 0;
  bool singular_ = false;
};

}  // namespace sf
