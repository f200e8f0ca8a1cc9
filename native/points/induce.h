// Induction on the CPU (SPEC, Points, induce). The matrix-free form never
// stores W: each CG step is one tiled pass q_i = sum_j W_ij p_j over the
// unlabelled points (the self pair removed afterwards). The kNN form builds a
// symmetric sparse graph first (exact neighbours by the same tiles).
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "tiles.h"

namespace sf {
namespace points {

// out[i, c] = sum_j G(r_ij) v[j, c] for every target, channels C. The values
// are regrouped per block as [C][32] so that each channel is a 32-lane dot
// product with the tile's kernel row (both loops vectorise).
template <int KIND>
void kernel_matvec_kind(const CpuExec& ex, const tiles::Targets& t, const tiles::Packed& p, const KernelSpec& k,
                        const float* v, int C, double* out, const volatile int32_t* cancel) {
  std::vector<float> vt((size_t)(p.blocks * C * tiles::TJ), 0.0f);
  for (idx b = 0; b < p.blocks; ++b)
    for (int j = 0; j < tiles::TJ; ++j) {
      idx jj = b * tiles::TJ + j;
      if (jj >= p.m) break;
      for (int c = 0; c < C; ++c) vt[(size_t)((b * C + c) * tiles::TJ + j)] = v[(size_t)jj * C + c];
    }
  idx groups = (t.n + tiles::TI - 1) / tiles::TI;
  ex.for_ranges(groups, 1, [&](idx g0, idx g1) {
    std::vector<double> acc((size_t)tiles::TI * C);
    for (idx g = g0; g < g1; ++g) {
      if (cancel && *cancel) fail("E_ABORTED", "induce: aborted");
      idx i0 = g * tiles::TI;
      int rows = (int)std::min<idx>(tiles::TI, t.n - i0);
      std::fill(acc.begin(), acc.end(), 0.0);
      tiles::over_blocks(t, p, i0, rows, [&](idx b, float (&r2)[tiles::TI][tiles::TJ]) {
        const float* wb = p.w.data() + b * tiles::TJ;  // 0 on padding
        float gk[tiles::TJ];
        for (int i = 0; i < rows; ++i) {
          for (int j = 0; j < tiles::TJ; ++j) gk[j] = wb[j] * kernel_of<KIND>(k, r2[i][j]);
          for (int c = 0; c < C; ++c) {
            const float* vc = vt.data() + (size_t)((b * C + c) * tiles::TJ);
            float s = 0.0f;
            for (int j = 0; j < tiles::TJ; ++j) s += gk[j] * vc[j];
            acc[(size_t)i * C + c] += s;
          }
        }
      });
      for (int i = 0; i < rows; ++i)
        for (int c = 0; c < C; ++c) out[(size_t)(i0 + i) * C + c] = acc[(size_t)i * C + c];
    }
  });
}

inline void kernel_matvec(const CpuExec& ex, const tiles::Targets& t, const tiles::Packed& p, const KernelSpec& k,
                          const float* v, int C, double* out, const volatile int32_t* cancel) {
  tiles::with_kernel(k.kind, [&](auto K) { kernel_matvec_kind<decltype(K)::value>(ex, t, p, k, v, C, out, cancel); });
}

// Every unknown must be connected to the graph, or its value is undetermined.
inline void require_connected(const std::vector<double>& diag, const std::vector<idx>& U) {
  for (size_t a = 0; a < diag.size(); ++a)
    if (!(diag[a] > 0))
      fail("E_RANGE", "induce: point " + std::to_string(U[a]) +
                          " has no edge of positive weight (raise sigma or knn, or check the kernel)");
}

// Preconditioned CG for C systems A x_c = b_c sharing one matvec per step.
// A is SPD on the unknowns; diag its diagonal. Vectors are [u, C].
inline void block_cg(InduceJob& job, idx u, int C, const std::vector<double>& diag, const std::vector<double>& b,
                     const std::function<void(const std::vector<double>&, std::vector<double>&)>& apply,
                     std::vector<double>& x) {
  const size_t N = (size_t)u * C;
  std::vector<double> r(b), z(N), p(N), q(N);
  x.assign(N, 0.0);
  std::vector<double> bn(C, 0.0), rz(C, 0.0);
  for (size_t i = 0; i < N; ++i) bn[i % C] += b[i] * b[i];
  for (int c = 0; c < C; ++c) bn[c] = std::sqrt(bn[c]);
  auto precondition = [&]() {
    for (size_t i = 0; i < N; ++i) z[i] = r[i] / diag[i / C];
  };
  precondition();
  p = z;
  for (size_t i = 0; i < N; ++i) rz[i % C] += r[i] * z[i];
  std::vector<bool> done(C, false);
  job.converged = false;
  for (int it = 0; it <= job.max_iter; ++it) {
    std::vector<double> rn(C, 0.0);
    for (size_t i = 0; i < N; ++i) rn[i % C] += r[i] * r[i];
    double worst = 0;
    for (int c = 0; c < C; ++c) {
      double rel = bn[c] > 0 ? std::sqrt(rn[c]) / bn[c] : 0.0;
      done[c] = rel <= job.tol;
      worst = std::max(worst, rel);
    }
    job.residual = worst;
    job.iterations = it;
    if (job.progress) job.progress(it, worst);
    if (worst <= job.tol) {
      job.converged = true;
      return;
    }
    if (it == job.max_iter) return;
    if (job.cancel && *job.cancel) fail("E_ABORTED", "induce: aborted");
    apply(p, q);
    std::vector<double> pq(C, 0.0);
    for (size_t i = 0; i < N; ++i) pq[i % C] += p[i] * q[i];
    std::vector<double> alpha(C, 0.0);
    for (int c = 0; c < C; ++c) alpha[c] = (done[c] || !(pq[c] > 0)) ? 0.0 : rz[c] / pq[c];
    for (size_t i = 0; i < N; ++i) {
      x[i] += alpha[i % C] * p[i];
      r[i] -= alpha[i % C] * q[i];
    }
    precondition();
    std::vector<double> rz2(C, 0.0);
    for (size_t i = 0; i < N; ++i) rz2[i % C] += r[i] * z[i];
    for (size_t i = 0; i < N; ++i) {
      int c = (int)(i % C);
      double beta = rz[c] > 0 ? rz2[c] / rz[c] : 0.0;
      p[i] = z[i] + beta * p[i];
    }
    rz = rz2;
  }
}

// The k nearest neighbours of every point (itself excluded), by the tiles.
inline std::vector<std::vector<idx>> knn_lists(const tiles::Targets& t, const tiles::Packed& p, int kk) {
  std::vector<std::vector<idx>> out((size_t)t.n);
  CpuExec ex;
  idx groups = (t.n + tiles::TI - 1) / tiles::TI;
  ex.for_ranges(groups, 1, [&](idx g0, idx g1) {
    for (idx g = g0; g < g1; ++g) {
      idx i0 = g * tiles::TI;
      int rows = (int)std::min<idx>(tiles::TI, t.n - i0);
      std::vector<std::vector<std::pair<float, idx>>> best((size_t)rows);
      tiles::over_blocks(t, p, i0, rows, [&](idx b, float (&r2)[tiles::TI][tiles::TJ]) {
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < tiles::TJ; ++j) {
            idx jj = b * tiles::TJ + j;
            if (jj >= p.m || jj == i0 + i) continue;
            auto& h = best[(size_t)i];
            std::pair<float, idx> e{r2[i][j], jj};
            if ((int)h.size() < kk) {
              h.push_back(e);
              std::push_heap(h.begin(), h.end());
            } else if (e < h.front()) {
              std::pop_heap(h.begin(), h.end());
              h.back() = e;
              std::push_heap(h.begin(), h.end());
            }
          }
      });
      for (int i = 0; i < rows; ++i) {
        for (auto& e : best[(size_t)i]) out[(size_t)(i0 + i)].push_back(e.second);
      }
    }
  });
  return out;
}

// The unknowns of an induction: writes the given values of the labelled
// points into the output and returns the other points in order, with each
// point's index among the labelled (-1 for an unknown) in role.
inline std::vector<idx> unknowns(InduceJob& job, std::vector<int>& role) {
  const int C = job.channels;
  role.assign((size_t)job.n, -1);
  for (idx l = 0; l < job.nl; ++l) role[(size_t)job.labeled[l]] = (int)l;
  std::vector<idx> U;
  for (idx i = 0; i < job.n; ++i)
    if (role[(size_t)i] < 0) U.push_back(i);
  for (idx l = 0; l < job.nl; ++l)
    for (int c = 0; c < C; ++c) job.out[(size_t)job.labeled[l] * C + c] = job.values[(size_t)l * C + c];
  if (U.empty()) job.converged = true;
  return U;
}

inline void induce_cpu(InduceJob& job) {
  const int d = job.d, C = job.channels;
  const idx n = job.n;
  std::vector<int> role;
  const std::vector<idx> U = unknowns(job, role);
  const idx u = (idx)U.size();
  if (u == 0) return;
  std::vector<float> centre = tiles::centre_of(job.x, n, d);
  std::vector<float> xu((size_t)(u * d));
  for (idx a = 0; a < u; ++a) std::copy_n(job.x + U[a] * d, d, xu.begin() + a * d);
  const KernelSpec k = job.k;
  const double g0 = kernel_r2(k, 0.0f);
  CpuExec ex;
  std::vector<double> diag((size_t)u), b((size_t)(u * C), 0.0), x;

  if (job.knn == 0) {
    tiles::Targets tu = tiles::centre_targets(xu.data(), u, d, centre.data());
    tiles::Packed pu = tiles::pack(xu.data(), u, d, centre.data(), nullptr);
    tiles::Packed pall = tiles::pack(job.x, n, d, centre.data(), nullptr);
    // Degrees: sum over all points, less the self pair.
    std::vector<float> ones((size_t)(pall.blocks * tiles::TJ), 1.0f);
    kernel_matvec(ex, tu, pall, k, ones.data(), 1, diag.data(), job.cancel);
    for (double& v : diag) v -= g0;
    require_connected(diag, U);
    // Right-hand side W_UL f_L: labelled values as sources, unlabelled zero.
    std::vector<float> vl((size_t)(pall.blocks * tiles::TJ * C), 0.0f);
    for (idx l = 0; l < job.nl; ++l)
      for (int c = 0; c < C; ++c) vl[(size_t)job.labeled[l] * C + c] = job.values[(size_t)l * C + c];
    kernel_matvec(ex, tu, pall, k, vl.data(), C, b.data(), job.cancel);
    std::vector<float> pf((size_t)(pu.blocks * tiles::TJ * C), 0.0f);
    std::vector<double> wp((size_t)(u * C));
    block_cg(job, u, C, diag, b,
             [&](const std::vector<double>& p, std::vector<double>& q) {
               for (size_t i = 0; i < p.size(); ++i) pf[i] = (float)p[i];
               kernel_matvec(ex, tu, pu, k, pf.data(), C, wp.data(), job.cancel);
               for (idx i = 0; i < u; ++i)
                 for (int c = 0; c < C; ++c) {
                   size_t s = (size_t)i * C + c;
                   q[s] = diag[(size_t)i] * p[s] - (wp[s] - g0 * (double)pf[s]);
                 }
             },
             x);
  } else {
    // Symmetric kNN graph over all points, weights G(r_ij).
    tiles::Targets ta = tiles::centre_targets(job.x, n, d, centre.data());
    tiles::Packed pa = tiles::pack(job.x, n, d, centre.data(), nullptr);
    std::vector<std::vector<idx>> nb = knn_lists(ta, pa, std::min<int>(job.knn, (int)n - 1));
    std::vector<std::vector<std::pair<idx, double>>> adj((size_t)n);
    auto weight = [&](idx i, idx j) {
      double r2 = 0;
      for (int c = 0; c < d; ++c) {
        double t = (double)job.x[i * d + c] - job.x[j * d + c];
        r2 += t * t;
      }
      return (double)kernel_r2(k, (float)r2);
    };
    for (idx i = 0; i < n; ++i)
      for (idx j : nb[(size_t)i]) {
        double w = weight(i, j);
        adj[(size_t)i].push_back({j, w});
        adj[(size_t)j].push_back({i, w});
      }
    for (auto& a : adj) {  // union: one edge per neighbour pair
      std::sort(a.begin(), a.end());
      a.erase(std::unique(a.begin(), a.end(), [](auto& p, auto& q) { return p.first == q.first; }), a.end());
    }
    std::vector<idx> pos_in_u((size_t)n, -1);
    for (idx a = 0; a < u; ++a) pos_in_u[(size_t)U[a]] = a;
    for (idx a = 0; a < u; ++a) {
      double s = 0;
      for (auto& e : adj[(size_t)U[a]]) {
        s += e.second;
        int l = role[(size_t)e.first];
        if (l >= 0)
          for (int c = 0; c < C; ++c) b[(size_t)a * C + c] += e.second * job.values[(size_t)l * C + c];
      }
      diag[(size_t)a] = s;
    }
    require_connected(diag, U);
    block_cg(job, u, C, diag, b,
             [&](const std::vector<double>& p, std::vector<double>& q) {
               ex.for_n(u, [&](idx a) {
                 for (int c = 0; c < C; ++c) {
                   double s = diag[(size_t)a] * p[(size_t)a * C + c];
                   for (auto& e : adj[(size_t)U[a]]) {
                     idx j = pos_in_u[(size_t)e.first];
                     if (j >= 0) s -= e.second * p[(size_t)j * C + c];
                   }
                   q[(size_t)a * C + c] = s;
                 }
               });
             },
             x);
  }
  for (idx a = 0; a < u; ++a)
    for (int c = 0; c < C; ++c) job.out[(size_t)U[a] * C + c] = (float)x[(size_t)a * C + c];
}

}  // namespace points
}  // namespace sf
