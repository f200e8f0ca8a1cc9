// The damped wave equation's steady response to a time-harmonic drive:
//   (H - z) U = rho_A,  H = -c^2 lap_h + kappa^2,  z = w^2 + i g w,
// solved per frequency by BiCGSTAB (complex, fp64) right-preconditioned with
// one full-multigrid cycle of the real, positive definite H + w^2 applied to
// the real and imaginary parts. R_AB(w) = sum rho_B U h^dim.
#pragma once
#include <cmath>
#include <complex>
#include <memory>
#include <vector>

#include "../../cuda/poisson_k.h"
#include "../errors.h"
#include "../jobs.h"
#include "multigrid.h"

namespace sf {

using cplx = std::complex<double>;

// A complex vector as its real and imaginary parts (device arrays).
struct ComplexVec {
  double* re;
  double* im;
};

template <class Exec>
void resonance_mesh(Exec& ex, MeshResonanceJob& job) {
  const Grid g = job.g;
  const idx N = g.cells();
  const double c2 = job.c * job.c, k2 = job.kappa * job.kappa, ih2 = 1.0 / (g.h * g.h), hk = std::pow(g.h, g.dim);
  const float* ra = ex.upload(job.rho_a, N);
  const float* rb = ex.upload(job.rho_b, N);
  auto vec = [&]() { return ComplexVec{ex.template alloc<double>(N), ex.template alloc<double>(N)}; };
  ComplexVec x = vec(), r = vec(), rh = vec(), p = vec(), v = vec(), s = vec(), t = vec(), ph = vec(), sh = vec();
  float* fin = ex.template alloc<float>(N);
  float* fout = ex.template alloc<float>(N);
  const bool use_mg = level_grids(g).back().cells() <= 65536;
  double bnorm = std::sqrt(ex.sum_n(N, [=] SF_LAMBDA(idx i) { return (double)ra[i] * ra[i]; }));
  const size_t W = job.w.size();
  job.iterations.assign(W, 0);
  job.converged.assign(W, false);

  for (size_t wi = 0; wi < W; ++wi) {
    const double w = job.w[wi];
    const double zr = w * w, zi = job.gamma * w;
    SolveOptions so;
    so.kappa = std::sqrt((k2 + w * w) / c2);
    so.tol = 1e-12;
    so.max_cycles = 1;
    // One multigrid object per frequency: its shift changes with w.
    // (A singular M, periodic or Neumann everywhere at w = kappa = 0, would
    // make a wrong preconditioner: the diagonal serves there.)
    bool dirichlet = false;
    for (int a = 0; a < g.dim; ++a) dirichlet = dirichlet || g.bc[a] == BC_DIRICHLET;
    // Its levels are this frequency's scratch: returned before the next one
    // (otherwise a sweep of W frequencies would hold W hierarchies).
    const size_t frame = ex.mark();
    std::unique_ptr<Multigrid<Exec>> mg(use_mg && (so.kappa > 0 || dirichlet) ? new Multigrid<Exec>(ex, g, nullptr, so) : nullptr);
    double cycles = 0;
    // y = A x
    auto apply = [&](const ComplexVec& a, const ComplexVec& y) {
      const double* are = a.re;
      const double* aim = a.im;
      double* yre = y.re;
      double* yim = y.im;
      ex.for_cells(g, [=] SF_LAMBDA(idx c, int xx, int yy, int zz) {
        double hr = c2 * apply_point<double>(g, are, c, xx, yy, zz, ih2, 0.0) + k2 * are[c];
        double hi = c2 * apply_point<double>(g, aim, c, xx, yy, zz, ih2, 0.0) + k2 * aim[c];
        yre[c] = hr - zr * are[c] + zi * aim[c];
        yim[c] = hi - zr * aim[c] - zi * are[c];
      });
    };
    // y = M^-1 a, M = H + w^2 (real): each part through the multigrid cycle
    // (or the diagonal when the grid has too few factors of two).
    auto precond = [&](const ComplexVec& a, const ComplexVec& y) {
      for (int part = 0; part < 2; ++part) {
        const double* src = part ? a.im : a.re;
        double* dst = part ? y.im : y.re;
        if (mg) {
          double nrm = std::sqrt(ex.sum_n(N, [=] SF_LAMBDA(idx i) { return src[i] * src[i]; }));
          if (!(nrm > 0)) {
            ex.fill_zero(dst, N);
            continue;
          }
          double sc = 1.0 / nrm;
          float* f = fin;
          float* o = fout;
          ex.for_n(N, [=] SF_LAMBDA(idx i) { f[i] = (float)(src[i] * sc); });
          mg->solve(fin, nullptr, fout, job.cancel, Progress());
          cycles += 1;
          double back = nrm / c2;
          ex.for_n(N, [=] SF_LAMBDA(idx i) { dst[i] = (double)o[i] * back; });
        } else {
          const double shift = k2 + w * w;
          ex.for_cells(g, [=] SF_LAMBDA(idx c, int xx, int yy, int zz) {
            Neighbours<double> nb = neighbours(g, src, c, xx, yy, zz);
            dst[c] = src[c] / (c2 * nb.diag * ih2 + shift);
          });
        }
      }
    };
    // Hermitian inner product <a, b> = sum conj(a) b.
    auto dot = [&](const ComplexVec& a, const ComplexVec& b) {
      const double *ar = a.re, *ai = a.im, *br = b.re, *bi = b.im;
      double re = ex.sum_n(N, [=] SF_LAMBDA(idx i) { return ar[i] * br[i] + ai[i] * bi[i]; });
      double im = ex.sum_n(N, [=] SF_LAMBDA(idx i) { return ar[i] * bi[i] - ai[i] * br[i]; });
      return cplx(re, im);
    };
    auto norm = [&](const ComplexVec& a) { return std::sqrt(dot(a, a).real()); };
    // a = b + s1 c (+ s2 d)
    auto axpy = [&](const ComplexVec& a, const ComplexVec& b, cplx s1, const ComplexVec& cc, cplx s2, const ComplexVec* d) {
      double *ar = a.re, *ai = a.im;
      const double *br = b.re, *bi = b.im, *cr = cc.re, *ci = cc.im;
      const double *dr = d ? d->re : nullptr, *di = d ? d->im : nullptr;
      const double s1r = s1.real(), s1i = s1.imag(), s2r = s2.real(), s2i = s2.imag();
      ex.for_n(N, [=] SF_LAMBDA(idx i) {
        double xr = br[i] + s1r * cr[i] - s1i * ci[i];
        double xi = bi[i] + s1r * ci[i] + s1i * cr[i];
        if (dr) {
          xr += s2r * dr[i] - s2i * di[i];
          xi += s2r * di[i] + s2i * dr[i];
        }
        ar[i] = xr;
        ai[i] = xi;
      });
    };
    // x = 0, r = rh = b.
    ex.fill_zero(x.re, N);
    ex.fill_zero(x.im, N);
    ex.fill_zero(p.re, N);
    ex.fill_zero(p.im, N);
    ex.fill_zero(v.re, N);
    ex.fill_zero(v.im, N);
    {
      double *rr = r.re, *ri = r.im, *hr = rh.re, *hi = rh.im;
      ex.for_n(N, [=] SF_LAMBDA(idx i) {
        rr[i] = hr[i] = (double)ra[i];
        ri[i] = hi[i] = 0.0;
      });
    }
    cplx rho(1, 0), alpha(1, 0), omega(1, 0);
    bool ok = bnorm == 0;
    int it = 0;
    for (; !ok && it < job.max_iter; ++it) {
      if (job.cancel && *job.cancel) fail("E_ABORTED", "resonance: aborted");
      cplx rho1 = dot(rh, r);
      if (std::abs(rho1) == 0) break;  // breakdown
      cplx beta = (rho1 / rho) * (alpha / omega);
      // p = r + beta (p - omega v)
      axpy(p, p, -omega, v, 0, nullptr);
      axpy(p, r, beta, p, 0, nullptr);
      precond(p, ph);
      apply(ph, v);
      alpha = rho1 / dot(rh, v);
      axpy(s, r, -alpha, v, 0, nullptr);
      if (norm(s) <= job.tol * bnorm) {
        axpy(x, x, alpha, ph, 0, nullptr);
        ok = true;
        ++it;
        break;
      }
      precond(s, sh);
      apply(sh, t);
      cplx tt = dot(t, t);
      omega = tt.real() > 0 ? dot(t, s) / tt : cplx(0, 0);
      axpy(x, x, alpha, ph, omega, &sh);
      axpy(r, s, -omega, t, 0, nullptr);
      rho = rho1;
      double rel = norm(r) / bnorm;
      if (job.progress && (it % 16 == 0)) job.progress((int)wi, it, rel);
      if (rel <= job.tol) {
        ok = true;
        ++it;
        break;
      }
      if (std::abs(omega) == 0) break;
    }
    job.iterations[wi] = it;
    job.converged[wi] = ok;
    // R = sum rho_B U h^dim
    const double *xr = x.re, *xi = x.im;
    double Rr = hk * ex.sum_n(N, [=] SF_LAMBDA(idx i) { return (double)rb[i] * xr[i]; });
    double Ri = hk * ex.sum_n(N, [=] SF_LAMBDA(idx i) { return (double)rb[i] * xi[i]; });
    job.out[4 * wi] = Rr;
    job.out[4 * wi + 1] = Ri;
    job.out[4 * wi + 2] = std::hypot(Rr, Ri);
    job.out[4 * wi + 3] = cycles;
    mg.reset();
    ex.sync();
    ex.release(frame);
  }
  ex.sync();
}

}  // namespace sf
