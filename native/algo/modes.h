// The lowest eigenpairs of H = -c^2 lap_h + V on the mesh by LOBPCG
// (Knyazev 2001) with soft locking, for any execution policy. Vectors and
// H are fp64 (an eigenvalue's error follows the rounding of H's largest
// eigenvalue, 8 c^2 / h^2, so fp32 would lose digits on fine grids). The
// preconditioner is one full-multigrid cycle of the potential solver for
// c^2 (-lap) + sigma, or the diagonal when the grid has too few factors of
// two. Rayleigh-Ritz runs on the host in fp64 (algo/dense.h).
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../../cuda/poisson_k.h"
#include "../errors.h"
#include "../jobs.h"
#include "dense.h"
#include "multigrid.h"

namespace sf {

template <class Exec>
class Lobpcg {
 public:
  Lobpcg(Exec& ex, const Grid& g, double c, const float* V, int m, CancelFlag cancel)
      : ex_(ex), g_(g), c2_(c * c), V_(V), m_(m), N_(g.cells()), cancel_(cancel) {
    S_ = ex.template alloc<double>(N_ * 3 * m);
    HS_ = ex.template alloc<double>(N_ * 3 * m);
    T_ = ex.template alloc<double>(N_ * 3 * m);
    coef_ = ex.template alloc<double>(9 * m * m);
    rf_ = ex.template alloc<float>(N_);
    pf_ = ex.template alloc<float>(N_);
  }

  double* col(int j) { return S_ + (idx)j * N_; }
  double* hcol(int j) { return HS_ + (idx)j * N_; }

  void apply(const double* x, double* y) {
    const Grid g = g_;
    const double ih2 = 1.0 / (g.h * g.h), c2 = c2_;
    const float* V = V_;
    ex_.for_cells(g, [=] SF_LAMBDA(idx c, int xx, int yy, int zz) {
      y[c] = c2 * apply_point<double>(g, x, c, xx, yy, zz, ih2, 0.0) + (V ? (double)V[c] : 0.0) * x[c];
    });
  }

  double dot(const double* a, const double* b) {
    return ex_.sum_n(N_, [=] SF_LAMBDA(idx i) { return a[i] * b[i]; });
  }

  // An abort lands between blocks of dense work (a column of a product, a
  // row of a Gram matrix: at most a few ms each), not only between iterations.
  void check() const {
    if (cancel_ && *cancel_) fail("E_ABORTED", "modes: aborted");
  }

  // out[:, j] = sum_i S[:, cols[i]] C[i, j] for j < ncols, from S or HS.
  void combine(const double* base, const std::vector<int>& cols, const std::vector<double>& C, int ncols, double* out) {
    int nc = (int)cols.size();
    std::vector<double> full((size_t)3 * m_ * ncols, 0.0);  // coefficients by absolute column
    for (int i = 0; i < nc; ++i)
      for (int j = 0; j < ncols; ++j) full[(size_t)cols[i] * ncols + j] = C[(size_t)i * ncols + j];
    ex_.upload_into(coef_, full.data(), (idx)3 * m_ * ncols);
    const double* cf = coef_;
    const idx N = N_;
    const int width = 3 * m_;
    for (int j = 0; j < ncols; ++j) {
      check();
      ex_.for_n(N, [=] SF_LAMBDA(idx t) {
        double s = 0;
        for (int i = 0; i < width; ++i) {
          double w = cf[(idx)i * ncols + j];
          if (w != 0.0) s += base[(idx)i * N + t] * w;
        }
        out[j * N + t] = s;
      });
    }
  }

  Exec& ex_;
  Grid g_;
  double c2_;
  const float* V_;
  int m_;
  idx N_;
  CancelFlag cancel_;
  double *S_, *HS_, *T_, *coef_;
  float *rf_, *pf_;
};

template <class Exec>
void modes_field(Exec& ex, ModesJob& job, int b) {
  const Grid g = job.g;
  const idx N = g.cells();
  const int k = job.k, m = k;
  const float* V = job.V ? ex.upload(job.V + (job.v_per_field ? (idx)b * N : 0), N) : nullptr;
  Lobpcg<Exec> L(ex, g, job.c, V, m, job.cancel);
  // The preconditioner's shift: V's floor (clipped at 0) plus the box's
  // lowest Laplacian scale, so the operator is positive definite.
  double vmin = 0;
  if (job.V) {
    vmin = INFINITY;
    const float* hv = job.V + (job.v_per_field ? (idx)b * N : 0);
    for (idx i = 0; i < N; ++i) vmin = std::min(vmin, (double)hv[i]);
    vmin = std::max(vmin, 0.0);
  }
  double extent = g.h * std::max(g.n[0], std::max(g.n[1], g.n[2]));
  double sigma = vmin + job.c * job.c / (extent * extent);
  SolveOptions so;
  so.kappa = std::sqrt(sigma / (job.c * job.c));
  so.tol = 1e-12;
  so.max_cycles = 1;
  const bool use_mg = level_grids(g).back().cells() <= 65536;
  Multigrid<Exec>* mg = use_mg ? new Multigrid<Exec>(ex, g, nullptr, so) : nullptr;
  struct Guard {
    Multigrid<Exec>* p;
    ~Guard() { delete p; }
  } guard{mg};
  const double ih2 = 1.0 / (g.h * g.h), c2 = job.c * job.c;
  const double lam_ref = c2 / (extent * extent);

  // Deterministic start: smooth-ish pseudo-random columns.
  for (int j = 0; j < m; ++j) {
    L.check();
    double* x = L.col(j);
    ex.for_n(N, [=] SF_LAMBDA(idx i) {
      uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + (uint64_t)(j + 1) * 0xBF58476D1CE4E5B9ull;
      z ^= z >> 31;
      z *= 0x94D049BB133111EBull;
      z ^= z >> 29;
      x[i] = (double)(z >> 11) * (1.0 / 9007199254740992.0) - 0.5;
    });
  }
  std::vector<double> lambda(m, 0.0), res(m, INFINITY);
  std::vector<bool> active(m, true);
  bool have_p = false;
  int it = 0;
  auto normalize = [&](int j) {
    double nrm = std::sqrt(L.dot(L.col(j), L.col(j)));
    if (!(nrm > 0)) return false;
    double s = 1.0 / nrm;
    double* x = L.col(j);
    double* hx = L.hcol(j);
    ex.for_n(N, [=] SF_LAMBDA(idx i) {
      x[i] *= s;
      hx[i] *= s;
    });
    return true;
  };
  for (int j = 0; j < m; ++j) {
    L.check();
    L.apply(L.col(j), L.hcol(j));
  }
  for (;; ++it) {
    if (job.cancel && *job.cancel) fail("E_ABORTED", "modes: aborted");
    // Rayleigh-Ritz on X, W (active), P (active).
    std::vector<int> cols;
    for (int j = 0; j < m; ++j) cols.push_back(j);
    if (it > 0)
      for (int j = 0; j < m; ++j)
        if (active[j]) cols.push_back(m + j);
    if (have_p)
      for (int j = 0; j < m; ++j)
        if (active[j]) cols.push_back(2 * m + j);
    for (int attempt = 0;; ++attempt) {
      int nc = (int)cols.size();
      std::vector<double> G((size_t)nc * nc), M((size_t)nc * nc);
      for (int a = 0; a < nc; ++a) {
        L.check();
        for (int c = a; c < nc; ++c) {
          G[(size_t)a * nc + c] = G[(size_t)c * nc + a] = L.dot(L.col(cols[a]), L.hcol(cols[c]));
          M[(size_t)a * nc + c] = M[(size_t)c * nc + a] = L.dot(L.col(cols[a]), L.col(cols[c]));
        }
      }
      std::vector<double> Lc;
      if (!dense::cholesky(M, nc, Lc, 1e-14)) {
        // The search directions lost independence: drop P, then W.
        size_t before = cols.size();
        int drop = have_p && attempt == 0 ? 2 * m : m;
        cols.erase(std::remove_if(cols.begin(), cols.end(), [&](int cc) { return cc >= drop; }), cols.end());
        if (cols.size() == before || attempt > 2) fail("E_NOT_CONVERGED", "modes: the search basis became singular");
        continue;
      }
      std::vector<double> w, Z;
      dense::eigh(dense::congruence(Lc, G, nc), nc, w, Z);
      // Ritz vectors' coefficients in the basis: C = L^{-T} Z[:, 0:m].
      std::vector<double> Zm((size_t)nc * m);
      for (int i = 0; i < nc; ++i)
        for (int j = 0; j < m; ++j) Zm[(size_t)i * m + j] = Z[(size_t)i * nc + j];
      std::vector<double> C = dense::solve_lt(Lc, nc, Zm, m);
      for (int j = 0; j < m; ++j) lambda[j] = w[j];
      // X <- S C, HX <- HS C; P <- (W, P parts of S) C.
      double* S = L.S_;
      double* HS = L.HS_;
      const double* T = L.T_;
      L.combine(S, cols, C, m, L.T_);
      ex.for_n(N * m, [=] SF_LAMBDA(idx e) { S[e] = T[e]; });
      L.combine(HS, cols, C, m, L.T_);
      ex.for_n(N * m, [=] SF_LAMBDA(idx e) { HS[e] = T[e]; });
      if (nc > m) {
        std::vector<double> Cp(C);
        for (int i = 0; i < nc; ++i)
          if (cols[i] < m)
            for (int j = 0; j < m; ++j) Cp[(size_t)i * m + j] = 0;
        L.combine(L.S_, cols, Cp, m, L.T_ + N * m);
        L.combine(L.HS_, cols, Cp, m, L.T_ + 2 * N * m);
        double* P = L.S_ + 2 * N * m;
        double* HP = L.HS_ + 2 * N * m;
        const double* tp = L.T_ + N * m;
        const double* thp = L.T_ + 2 * N * m;
        ex.for_n(N * m, [=] SF_LAMBDA(idx e) {
          P[e] = tp[e];
          HP[e] = thp[e];
        });
        have_p = true;
      }
      break;
    }
    // Residuals R = HX - lambda X into the W block; recompute HX now and then
    // to keep it exact.
    if (it % 10 == 9)
      for (int j = 0; j < m; ++j) L.apply(L.col(j), L.hcol(j));
    double worst = 0;
    bool all = true;
    for (int j = 0; j < m; ++j) {
      const double* x = L.col(j);
      const double* hx = L.hcol(j);
      double* r = L.col(m + j);
      const double lj = lambda[j];
      ex.for_n(N, [=] SF_LAMBDA(idx i) { r[i] = hx[i] - lj * x[i]; });
      double xn = std::sqrt(L.dot(x, x));
      res[j] = std::sqrt(L.dot(r, r)) / (xn * std::max(std::fabs(lj), lam_ref));
      active[j] = res[j] > job.tol;
      all = all && !active[j];
      worst = std::max(worst, res[j]);
    }
    if (job.progress && (it % 8 == 0 || all)) job.progress(b, it, worst);
    if (all || it >= job.max_iter) {
      job.iterations[b] = it;
      job.residual[b] = worst;
      job.converged[b] = all;
      break;
    }
    // W = T R for the active columns, scaled to unit norm.
    for (int j = 0; j < m; ++j) {
      if (!active[j]) continue;
      L.check();
      double* r = L.col(m + j);
      if (mg) {
        float* rf = L.rf_;
        float* pf = L.pf_;
        double rn = std::sqrt(L.dot(r, r));
        double s = rn > 0 ? 1.0 / rn : 1.0;
        ex.for_n(N, [=] SF_LAMBDA(idx i) { rf[i] = (float)(r[i] * s); });
        mg->solve(rf, nullptr, pf, job.cancel, Progress());
        ex.for_n(N, [=] SF_LAMBDA(idx i) { r[i] = (double)pf[i]; });
      } else {
        const float* Vv = V;
        ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) {
          Neighbours<double> nb = neighbours(g, r, c, x, y, z);
          r[c] /= c2 * nb.diag * ih2 + (Vv ? (double)Vv[c] : 0.0) + 1e-300;
        });
      }
      L.apply(r, L.hcol(m + j));
      normalize(m + j);
    }
    for (int j = 0; j < m && have_p; ++j)
      if (active[j]) normalize(2 * m + j);
  }
  // Outputs: eigenvalues, vectors with sum psi^2 h^dim = 1 and the largest
  // component positive.
  const double hk = std::pow(g.h, g.dim);
  for (int j = 0; j < m; ++j) {
    double* x = L.col(j);
    double nrm = std::sqrt(L.dot(x, x) * hk);
    std::vector<double> hx((size_t)N);
    ex.download(hx.data(), x, N);
    idx big = 0;
    for (idx i = 1; i < N; ++i)
      if (std::fabs(hx[(size_t)i]) > std::fabs(hx[(size_t)big]) * (1 + 1e-9)) big = i;
    double s = (hx[(size_t)big] < 0 ? -1.0 : 1.0) / nrm;
    float* out = job.vectors + ((idx)b * k + j) * N;
    for (idx i = 0; i < N; ++i) out[i] = (float)(hx[(size_t)i] * s);
    job.values[(idx)b * k + j] = lambda[j];
  }
  ex.sync();
}

}  // namespace sf
