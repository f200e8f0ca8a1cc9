// The damped wave equation's steady response to a time-harmonic drive:
//   (H - z) U = rho_A,  H = -c^2 lap_h + kappa^2,  z = w^2 + i g w,
// and R_AB(w) = sum rho_B U h^dim, for a whole sweep of w at once by
// shift-and-invert Lanczos (the frequency response of a symmetric system, as
// in model reduction by Pade via Lanczos).
//
// With a real shift sigma > 0, P = (H + sigma)^-1 is symmetric positive
// definite and H - z = (H + sigma)(I + s P), s = -sigma - z. Lanczos on P from
// v_1 = rho_A / |rho_A| gives P V_k = V_k T_k + beta_k v_{k+1} e_k^T, one
// Krylov space for every frequency: U = P V_k t with (I + s T_k) t = |rho_A| e_1
// (a k x k tridiagonal solve per frequency), so
//   R = h^dim (c^T T_k t + beta_k c_{k+1} t_k),  c_i = rho_B . v_i,
// and U itself is never formed. Each step costs one solve with H + sigma
// (real, positive definite: the multigrid of algo/multigrid.h with fp64
// defect correction) whatever the number of frequencies. The eigenvalues of H
// near w^2 are the largest of P, which Lanczos finds first; with damping they
// are never singular.
//
// The residual of the U each frequency gets is bounded without forming it:
// with d_i = v_i - (H + sigma) w_i the inner solves' residuals,
//   rho_A - (H - z) U = -s beta_k t_k v_{k+1} + sum_i d_i t_i,
// so |r| <= |s| beta_k |t_k| + sum_i |d_i| |t_i|, whatever the orthogonality
// of V. A frequency is converged, and frozen, when that bound is within
// tol |rho_A|. (At an eigenvalue with no damping, H - z is singular and the
// frequency does not converge.)
#pragma once
#include <cmath>
#include <complex>
#include <vector>

#include "../../cuda/poisson_k.h"
#include "../errors.h"
#include "../jobs.h"
#include "multigrid.h"

namespace sf {

using cplx = std::complex<double>;

// Solves (I + s T) t = b e_1 for the symmetric tridiagonal T (diagonal al,
// off-diagonal be) by Gaussian elimination with partial pivoting (LAPACK's
// gtsv); returns false when the matrix is singular to working precision.
inline bool shifted_tridiagonal_solve(const std::vector<double>& al, const std::vector<double>& be, cplx s, double b,
                                      std::vector<cplx>& t) {
  const size_t k = al.size();
  std::vector<cplx> dl(k), d(k), du(k), du2(k, cplx(0, 0));
  t.assign(k, cplx(0, 0));
  t[0] = b;
  for (size_t i = 0; i < k; ++i) {
    d[i] = 1.0 + s * al[i];
    if (i + 1 < k) dl[i] = du[i] = s * be[i];
  }
  for (size_t i = 0; i + 1 < k; ++i) {
    if (std::abs(d[i]) >= std::abs(dl[i])) {
      if (std::abs(d[i]) == 0) return false;
      cplx f = dl[i] / d[i];
      d[i + 1] -= f * du[i];
      t[i + 1] -= f * t[i];
    } else {
      cplx f = d[i] / dl[i];
      d[i] = dl[i];
      cplx tmp = d[i + 1];
      d[i + 1] = du[i] - f * tmp;
      if (i + 2 < k) {
        du2[i] = du[i + 1];
        du[i + 1] = -f * du2[i];
      }
      du[i] = tmp;
      std::swap(t[i], t[i + 1]);
      t[i + 1] -= f * t[i];
    }
  }
  if (std::abs(d[k - 1]) == 0) return false;
  for (size_t i = k; i-- > 0;) {
    cplx v = t[i];
    if (i + 1 < k) v -= du[i] * t[i + 1];
    if (i + 2 < k) v -= du2[i] * t[i + 2];
    t[i] = v / d[i];
  }
  for (const cplx& v : t)
    if (!std::isfinite(v.real()) || !std::isfinite(v.imag())) return false;
  return true;
}

template <class Exec>
void resonance_mesh(Exec& ex, MeshResonanceJob& job) {
  const Grid g = job.g;
  const idx N = g.cells();
  const size_t W = job.w.size();
  const double c2 = job.c * job.c, k2 = job.kappa * job.kappa, ih2 = 1.0 / (g.h * g.h), hk = std::pow(g.h, g.dim);
  job.iterations.assign(W, 0);
  job.converged.assign(W, false);
  job.residual.assign(W, 0.0);
  const float* ra = ex.upload(job.rho_a, N);
  const float* rb = ex.upload(job.rho_b, N);
  double bnorm = std::sqrt(ex.sum_n(N, [=] SF_LAMBDA(idx i) { return (double)ra[i] * ra[i]; }));
  if (bnorm == 0) {
    for (size_t j = 0; j < W; ++j) {
      for (int q = 0; q < 4; ++q) job.out[4 * j + q] = 0;
      job.converged[j] = true;
    }
    return;
  }

  // The shift: half the largest w^2 (measured on 128^2 sweeps from 0: the
  // same steps from 1/3 to 1 times w_max^2, more beyond), plus c^2 (2 pi /
  // L)^2, the size of the lowest nonzero periodic eigenvalue, so that sigma > 0
  // and H + sigma is positive definite on every grid even for w = 0 alone.
  double wmax = 0, L = 0;
  for (double w : job.w) wmax = std::max(wmax, w);
  for (int a = 0; a < g.dim; ++a) L = std::max(L, g.n[a] * g.h);
  const double sigma = 0.5 * wmax * wmax + c2 * (2 * M_PI / L) * (2 * M_PI / L);
  SolveOptions so;
  so.kappa = std::sqrt((k2 + sigma) / c2);
  so.tol = 1e-6;  // an fp32 right-hand side's reach; the outer fp64 correction does the rest
  so.max_cycles = 20;
  Multigrid<Exec> mg(ex, g, nullptr, so);

  double* v = ex.template alloc<double>(N);
  double* vp = ex.template alloc<double>(N);
  double* wv = ex.template alloc<double>(N);
  double* r = ex.template alloc<double>(N);
  float* fin = ex.template alloc<float>(N);
  float* fout = ex.template alloc<float>(N);
  double cycles = 0;
  // The inner solves' target: their residuals enter the bound above, which
  // must stay below tol |rho_A| with room for the Lanczos part.
  const double inner = 1e-3 * job.tol;

  // r = x - (H + sigma) y; returns |r|.
  auto inner_residual = [&](const double* x, const double* y) {
    const double sh = k2 + sigma;
    return std::sqrt(ex.sum_cells(g, [=] SF_LAMBDA(idx c, int xx, int yy, int zz) {
      double e = x[c] - (c2 * apply_point<double>(g, y, c, xx, yy, zz, ih2, 0.0) + sh * y[c]);
      r[c] = e;
      return e * e;
    }));
  };
  // y = (H + sigma)^-1 x (|x| = 1) by multigrid with fp64 defect correction;
  // returns the residual |x - (H + sigma) y|.
  auto inner_solve = [&](const double* x, double* y) {
    ex.fill_zero(y, N);
    ex.for_n(N, [=] SF_LAMBDA(idx i) { r[i] = x[i]; });
    double rn = 1;
    for (int pass = 0; pass < 8 && rn > inner; ++pass) {
      const double sc = 1.0 / rn;
      float* f = fin;
      const float* o = fout;
      const double* rr = r;
      ex.for_n(N, [=] SF_LAMBDA(idx i) { f[i] = (float)(rr[i] * sc); });
      SolveStats st = mg.solve(fin, nullptr, fout, job.cancel, Progress());
      cycles += st.cycles;
      const double back = rn / c2;
      ex.for_n(N, [=] SF_LAMBDA(idx i) { y[i] += (double)o[i] * back; });
      rn = inner_residual(x, y);
    }
    return rn;
  };

  std::vector<double> al, be, cc, eta;
  {
    const double sc = 1.0 / bnorm;
    ex.for_n(N, [=] SF_LAMBDA(idx i) { v[i] = (double)ra[i] * sc; });
    ex.fill_zero(vp, N);
    cc.push_back(ex.sum_n(N, [=] SF_LAMBDA(idx i) { return (double)rb[i] * v[i]; }));
  }
  std::vector<cplx> t;
  std::vector<char> done(W, 0);
  size_t left = W;
  // Freezes frequency j at the current step: its R, bound and state.
  auto settle = [&](size_t j, bool final_pass) {
    const size_t k = al.size();
    const double w = job.w[j];
    const cplx s(-sigma - w * w, -job.gamma * w);
    double bound = INFINITY;
    cplx R(0, 0);
    if (k > 0 && shifted_tridiagonal_solve(al, be, s, bnorm, t)) {
      double gap = 0;
      for (size_t i = 0; i < k; ++i) gap += eta[i] * std::abs(t[i]);
      bound = (std::abs(s) * be[k - 1] * std::abs(t[k - 1]) + gap) / bnorm;
      // c^T T t + beta_k c_{k+1} t_k
      for (size_t i = 0; i < k; ++i) {
        cplx Tt = al[i] * t[i];
        if (i > 0) Tt += be[i - 1] * t[i - 1];
        if (i + 1 < k) Tt += be[i] * t[i + 1];
        R += cc[i] * Tt;
      }
      R += be[k - 1] * cc[k] * t[k - 1];
      R *= hk;
    }
    job.residual[j] = bound;
    if (!(bound <= job.tol) && !final_pass) return;
    job.out[4 * j] = R.real();
    job.out[4 * j + 1] = R.imag();
    job.out[4 * j + 2] = std::abs(R);
    job.iterations[j] = (int)k;
    job.converged[j] = bound <= job.tol;
    done[j] = 1;
    --left;
  };

  bool exhausted = false;  // an invariant subspace: every answer is exact there
  for (int k = 0; k < job.max_iter && left > 0 && !exhausted; ++k) {
    if (job.cancel && *job.cancel) fail("E_ABORTED", "resonance: aborted");
    eta.push_back(inner_solve(v, wv));
    const double a = ex.sum_n(N, [=] SF_LAMBDA(idx i) { return v[i] * wv[i]; });
    const double bprev = be.empty() ? 0.0 : be.back();
    const double* vv = v;
    const double* vo = vp;
    double* ww = wv;
    double b2 = ex.sum_n(N, [=] SF_LAMBDA(idx i) {
      double e = ww[i] - a * vv[i] - bprev * vo[i];
      ww[i] = e;
      return e * e;
    });
    const double b = std::sqrt(b2);
    al.push_back(a);
    be.push_back(b);
    if (!(b > 1e-300) || !std::isfinite(b)) {
      exhausted = true;
      cc.push_back(0);
      be.back() = 0;
    } else {
      // v_{k+1} = w / b, and v_k becomes the previous vector.
      const double ib = 1.0 / b;
      double* vn = vp;
      ex.for_n(N, [=] SF_LAMBDA(idx i) {
        vn[i] = ww[i] * ib;
      });
      std::swap(v, vp);  // v = the new vector, vp = the old v
      const double* nv = v;
      cc.push_back(ex.sum_n(N, [=] SF_LAMBDA(idx i) { return (double)rb[i] * nv[i]; }));
    }
    const size_t steps = al.size();
    // Checked every 10 steps, then every steps / 16 (the check costs
    // steps x the unconverged frequencies).
    if (exhausted || steps % std::max<size_t>(10, steps / 160 * 10) == 0) {
      double worst = 0;
      size_t first = W;
      for (size_t j = 0; j < W; ++j)
        if (!done[j]) {
          if ((j & 1023) == 1023 && job.cancel && *job.cancel) fail("E_ABORTED", "resonance: aborted");
          settle(j, exhausted);
          if (!done[j]) {
            worst = std::max(worst, job.residual[j]);
            if (first == W) first = j;
          }
        }
      if (job.progress && first < W) job.progress((int)first, (int)steps, worst);
    }
  }
  for (size_t j = 0; j < W; ++j)
    if (!done[j]) settle(j, true);
  for (size_t j = 0; j < W; ++j) job.out[4 * j + 3] = cycles / (double)W;
  ex.sync();
}

}  // namespace sf
