// Induction (SPEC, Points, induce): the host side of the harmonic
// extension. ops.h computes the kernel mat-vecs q_i = sum_j W_ij p_j over the
// unlabelled points by the pair engine (W never stored; the self pair removed
// afterwards) or the k nearest neighbours of every point; here are the
// Jacobi-preconditioned block CG and the symmetric kNN graph.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "../errors.h"
#include "../exec_cpu.h"
#include "engine.h"
#include "jobs.h"

namespace sf {
namespace points {

// Every unknown must be connected to the graph, or its value is undetermined.
inline void require_connected(const std::vector<double>& diag, const std::vector<idx>& U) {
  for (size_t a = 0; a < diag.size(); ++a)
    if (!(diag[a] > 0))
      fail("E_RANGE", "induce: point " + std::to_string(U[a]) +
                          " has no edge of positive weight (raise sigma or knn, or check the kernel)");
}

// Preconditioned CG for C systems A x_c = b_c sharing one matvec per step.
// A is SPD on the unknowns; diag its diagonal. Vectors are [u, C]. The
// mat-vecs are fp32 pair sums: on a large graph the relative residual they
// allow bottoms out near 1e-9, past which CG only drifts. So the best
// iterate is kept, and an iteration that has not improved on it by 10%
// within STALL steps ends the solve (not converged: the residual reported is
// that of the iterate returned).
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
  constexpr int STALL = 30;
  double best = INFINITY, mark = INFINITY;
  int mark_it = 0;
  std::vector<double> x_best;
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
    if (worst < best) {
      best = worst;
      x_best = x;
    }
    if (worst < 0.9 * mark) {
      mark = worst;
      mark_it = it;
    }
    if (it == job.max_iter || it - mark_it >= STALL) {
      x.swap(x_best);
      job.residual = best;
      return;
    }
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

// The kNN form: the symmetric graph (union of the neighbour lists ids [n, kk])
// with weights G(r_ij) from fp64 distances, then CG on (D - W)_UU.
inline void induce_graph(InduceJob& job, const std::vector<idx>& U, const std::vector<int>& role,
                         const std::vector<int32_t>& ids, int kk) {
  const int d = job.d, C = job.channels;
  const idx n = job.n, u = (idx)U.size();
  const KernelSpec k = job.k;
  std::vector<std::vector<std::pair<idx, double>>> adj((size_t)n);
  const double s = [&] {  // the scale the engine would use: distances stay finite
    pairs::PairTask t = pairs::PairTask::one(d, job.x, n, job.x, n);
    return pairs::pair_scale(t);
  }();
  auto weight = [&](idx i, idx j) {
    double r2 = 0;
    for (int c = 0; c < d; ++c) {
      double t = ((double)job.x[i * d + c] - job.x[j * d + c]) / s;
      r2 += t * t;
    }
    return pairs::with_kernel(k.kind, [&](auto K) {
      double factor = 1.0;
      KernelF<decltype(K)::value> f{k};
      if (s != 1.0) f = f.rescaled(s, factor);
      return factor * (double)f((float)r2);
    });
  };
  for (idx i = 0; i < n; ++i)
    for (int q = 0; q < kk; ++q) {
      idx j = ids[(size_t)(i * kk + q)];
      if (j < 0) continue;
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
  std::vector<double> diag((size_t)u), b((size_t)(u * C), 0.0), x;
  for (idx a = 0; a < u; ++a) {
    double sum = 0;
    for (auto& e : adj[(size_t)U[a]]) {
      sum += e.second;
      int l = role[(size_t)e.first];
      if (l >= 0)
        for (int c = 0; c < C; ++c) b[(size_t)(a * C + c)] += e.second * job.values[(size_t)(l * C + c)];
    }
    diag[(size_t)a] = sum;
  }
  require_connected(diag, U);
  CpuExec ex;
  block_cg(job, u, C, diag, b,
           [&](const std::vector<double>& p, std::vector<double>& q) {
             ex.for_n(u, [&](idx a) {
               for (int c = 0; c < C; ++c) {
                 double v = diag[(size_t)a] * p[(size_t)(a * C + c)];
                 for (auto& e : adj[(size_t)U[a]]) {
                   idx j = pos_in_u[(size_t)e.first];
                   if (j >= 0) v -= e.second * p[(size_t)(j * C + c)];
                 }
                 q[(size_t)(a * C + c)] = v;
               }
             });
           },
           x);
  for (idx a = 0; a < u; ++a)
    for (int c = 0; c < C; ++c) job.out[(size_t)(U[a] * C + c)] = (float)x[(size_t)(a * C + c)];
}

}  // namespace points
}  // namespace sf
