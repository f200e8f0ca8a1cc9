#include "pca.h"

#include <algorithm>
#include <cmath>

#include "algo/dense.h"
#include "errors.h"
#include "exec_cpu.h"

namespace sf {

namespace {

// Orthonormalises the l columns of q [d, l] (column j at q[i*l + j]) by
// modified Gram-Schmidt, twice for stability.
void orthonormalise(std::vector<double>& q, int d, int l) {
  for (int pass = 0; pass < 2; ++pass)
    for (int j = 0; j < l; ++j) {
      for (int p = 0; p < j; ++p) {
        double dot = 0;
        for (int i = 0; i < d; ++i) dot += q[(size_t)i * l + j] * q[(size_t)i * l + p];
        for (int i = 0; i < d; ++i) q[(size_t)i * l + j] -= dot * q[(size_t)i * l + p];
      }
      double nrm = 0;
      for (int i = 0; i < d; ++i) nrm += q[(size_t)i * l + j] * q[(size_t)i * l + j];
      nrm = std::sqrt(nrm);
      for (int i = 0; i < d; ++i) q[(size_t)i * l + j] = nrm > 0 ? q[(size_t)i * l + j] / nrm : 0.0;
    }
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double gaussian(uint64_t& s) {
  double u1 = ((splitmix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  double u2 = ((splitmix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// w [d, l] = Xc^T Xc q, with Xc = X - 1 mean^T, in row blocks summed in order.
void gram_apply(const float* x, idx n, int d, const std::vector<double>& mean, const std::vector<double>& q, int l,
                std::vector<double>& w, CancelFlag cancel) {
  constexpr idx block = 512;
  idx nb = (n + block - 1) / block;
  std::vector<std::vector<double>> part((size_t)nb);
  CpuExec ex;
  ex.for_ranges(nb, 1, [&](idx lo, idx hi) {
    std::vector<double> z((size_t)l), xc((size_t)d);
    for (idx b = lo; b < hi; ++b) {
      if (cancel && *cancel) return;  // an abort lands within a block of 512 rows
      std::vector<double>& acc = part[(size_t)b];
      acc.assign((size_t)d * l, 0.0);
      for (idx i = b * block; i < std::min(n, (b + 1) * block); ++i) {
        const float* xi = x + i * d;
        for (int j = 0; j < d; ++j) xc[j] = (double)xi[j] - mean[j];
        std::fill(z.begin(), z.end(), 0.0);
        for (int j = 0; j < d; ++j)
          for (int c = 0; c < l; ++c) z[c] += xc[j] * q[(size_t)j * l + c];
        for (int j = 0; j < d; ++j)
          for (int c = 0; c < l; ++c) acc[(size_t)j * l + c] += xc[j] * z[c];
      }
    }
  });
  if (cancel && *cancel) return;  // blocks were skipped: the caller fails with E_ABORTED
  w.assign((size_t)d * l, 0.0);
  for (auto& p : part)
    for (size_t i = 0; i < w.size(); ++i) w[i] += p[i];
}

}  // namespace

PcaResult pca(const float* x, idx n, int d, int k, uint64_t seed, int max_iter, double tol,
              CancelFlag cancel) {
  PcaResult r;
  r.mean.assign(d, 0.0);
  for (idx i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) r.mean[j] += x[i * d + j];
  for (int j = 0; j < d; ++j) r.mean[j] /= (double)n;
  for (idx i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) {
      double c = x[i * d + j] - r.mean[j];
      r.total_variance += c * c;
    }
  r.total_variance /= std::max<double>(1, (double)n - 1);

  int l = std::min(d, std::max(2 * k, k + 8));
  std::vector<double> q((size_t)d * l), w, evals, evecs, prev((size_t)k, 0.0);
  uint64_t s = seed ^ 0x5e3f1e1d5e3f1e1dULL;
  for (double& e : q) e = gaussian(s);
  orthonormalise(q, d, l);
  for (int it = 1; it <= max_iter; ++it) {
    if (cancel && *cancel) fail("E_ABORTED", "project: aborted");
    gram_apply(x, n, d, r.mean, q, l, w, cancel);
    if (cancel && *cancel) fail("E_ABORTED", "project: aborted");
    // Rayleigh-Ritz on span(q): B = q^T W / (n - 1).
    std::vector<double> b((size_t)l * l, 0.0);
    for (int a = 0; a < l; ++a)
      for (int c = 0; c < l; ++c) {
        double acc = 0;
        for (int j = 0; j < d; ++j) acc += q[(size_t)j * l + a] * w[(size_t)j * l + c];
        b[(size_t)a * l + c] = acc / std::max<double>(1, (double)n - 1);
      }
    for (int a = 0; a < l; ++a)
      for (int c = a + 1; c < l; ++c) b[(size_t)a * l + c] = b[(size_t)c * l + a] = 0.5 * (b[(size_t)a * l + c] + b[(size_t)c * l + a]);
    dense::eigh(b, l, evals, evecs);
    std::vector<int> order(l);
    for (int i = 0; i < l; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int a, int c) { return evals[a] > evals[c]; });
    // Ritz vectors: q * evecs, sorted.
    std::vector<double> ritz((size_t)d * l);
    for (int j = 0; j < d; ++j)
      for (int c = 0; c < l; ++c) {
        double acc = 0;
        for (int a = 0; a < l; ++a) acc += q[(size_t)j * l + a] * evecs[(size_t)a * l + order[c]];
        ritz[(size_t)j * l + c] = acc;
      }
    double change = 0, scale = std::max(evals[order[0]], 1e-300);
    for (int c = 0; c < k; ++c) change = std::max(change, std::fabs(evals[order[c]] - prev[c]) / scale);
    for (int c = 0; c < k; ++c) prev[c] = evals[order[c]];
    r.iterations = it;
    r.components.assign((size_t)k * d, 0.0);
    r.variance.assign(k, 0.0);
    for (int c = 0; c < k; ++c) {
      r.variance[c] = evals[order[c]];
      int big = 0;
      for (int j = 0; j < d; ++j)
        if (std::fabs(ritz[(size_t)j * l + c]) > std::fabs(ritz[(size_t)big * l + c])) big = j;
      double sign = ritz[(size_t)big * l + c] < 0 ? -1 : 1;
      for (int j = 0; j < d; ++j) r.components[(size_t)c * d + j] = sign * ritz[(size_t)j * l + c];
    }
    if (it >= 3 && change <= tol) break;
    // Next subspace: the Gram matrix applied to the current one.
    q = w;
    orthonormalise(q, d, l);
  }
  return r;
}

void pca_transform(const float* x, idx n, int d, const double* mean, const double* comps, int k, float* out) {
  CpuExec ex;
  ex.for_n(n, [&](idx i) {
    const float* xi = x + i * d;
    for (int c = 0; c < k; ++c) {
      double acc = 0;
      for (int j = 0; j < d; ++j) acc += ((double)xi[j] - mean[j]) * comps[(size_t)c * d + j];
      out[i * k + c] = (float)acc;
    }
  });
}

}  // namespace sf
