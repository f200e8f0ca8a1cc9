// Comparisons between ragged point sets on the CPU: every needed total
// T(p, q) = sum_i sum_j a_i b_j G(r_ij) (weights normalised per set) is one
// work item, computed serially on the tiles; items are shared out over the
// thread pool and each lands in its own slot, so results do not depend on the
// schedule. Points are centred once on the mean of everything.
#pragma once
#include <atomic>
#include <mutex>
#include <vector>

#include "../errors.h"
#include "../thread_pool.h"
#include "jobs.h"
#include "sums.h"

namespace sf {
namespace points {

struct SetView {
  const float* x;
  idx n;
  std::vector<float> w;  // normalised weights
};

inline std::vector<SetView> views(const float* x, const int32_t* off, int sets, const float* w, int d) {
  std::vector<SetView> v((size_t)sets);
  for (int s = 0; s < sets; ++s) {
    idx a = off[s], b = off[s + 1];
    v[s].x = x + a * d;
    v[s].n = b - a;
    double total = 0;
    for (idx i = a; i < b; ++i) total += w ? (double)w[i] : 1.0;
    if (!(total > 0)) fail("E_RANGE", "set " + std::to_string(s) + " has no positive total weight");
    v[s].w.resize((size_t)(b - a));
    for (idx i = a; i < b; ++i) v[s].w[(size_t)(i - a)] = (float)((w ? (double)w[i] : 1.0) / total);
  }
  return v;
}

inline void set_matrix_cpu(SetMatrixJob& job) {
  const int d = job.d;
  std::vector<SetView> docs = views(job.x, job.off, job.sets, job.w, d);
  std::vector<SetView> rows = job.qx ? views(job.qx, job.qoff, job.qsets, job.qw, d) : std::vector<SetView>();
  const bool query = job.qx != nullptr;
  const int nrows = query ? job.qsets : job.sets;
  KernelSpec k = job.k;
  if (job.metric == M_ENERGY_DISTANCE) k.kind = K_ENERGY;

  // One centre for all points, so every pair of sets shares it.
  std::vector<double> c((size_t)d, 0.0);
  idx total = 0;
  auto add = [&](const std::vector<SetView>& v) {
    for (const SetView& s : v)
      for (idx i = 0; i < s.n; ++i)
        for (int q = 0; q < d; ++q) c[q] += s.x[i * d + q];
    for (const SetView& s : v) total += s.n;
  };
  add(docs);
  add(rows);
  std::vector<float> centre((size_t)d);
  for (int q = 0; q < d; ++q) centre[q] = (float)(c[q] / (double)total);

  auto prep = [&](const std::vector<SetView>& v, std::vector<tiles::Packed>& p, std::vector<tiles::Targets>& t) {
    p.resize(v.size());
    t.resize(v.size());
    ThreadPool::instance().run((int)v.size(), [&](int s) {
      p[s] = tiles::pack(v[s].x, v[s].n, d, centre.data(), v[s].w.data());
      t[s] = tiles::centre_targets(v[s].x, v[s].n, d, centre.data());
    });
  };
  std::vector<tiles::Packed> dp, rp;
  std::vector<tiles::Targets> dt, rt;
  prep(docs, dp, dt);
  if (query) prep(rows, rp, rt);
  const std::vector<tiles::Targets>& rowT = query ? rt : dt;
  const std::vector<SetView>& rowV = query ? rows : docs;

  // Work: the self totals of docs (and of query rows), and the cross totals.
  bool need_self = job.metric != M_CROSS;
  std::vector<double> self_doc(need_self ? job.sets : 0), self_row(need_self && query ? nrows : 0);
  std::vector<double> cross((size_t)nrows * job.sets, 0.0);
  struct Item {
    int kind;  // 0 doc self, 1 row self, 2 cross
    int a, b;
  };
  std::vector<Item> items;
  if (need_self) {
    for (int s = 0; s < job.sets; ++s) items.push_back({0, s, s});
    for (int s = 0; s < (int)self_row.size(); ++s) items.push_back({1, s, s});
  }
  int diag = job.metric == M_CROSS ? 0 : 1;  // a set against itself: 0 by definition, unless raw totals
  for (int r = 0; r < nrows; ++r)
    for (int s = query ? 0 : r + diag; s < job.sets; ++s) items.push_back({2, r, s});
  std::atomic<size_t> next{0}, finished{0};
  std::mutex report;
  const size_t every = std::max<size_t>(1, items.size() / 100);
  int workers = ThreadPool::instance().size();
  ThreadPool::instance().run(workers, [&](int) {
    for (size_t i; (i = next.fetch_add(1)) < items.size();) {
      if (job.cancel && *job.cancel) fail("E_ABORTED", "aborted");
      const Item& it = items[i];
      if (it.kind == 0) self_doc[it.a] = kernel_total(dt[it.a], docs[it.a].w.data(), dp[it.a], k);
      else if (it.kind == 1) self_row[it.a] = kernel_total(rt[it.a], rows[it.a].w.data(), rp[it.a], k);
      else cross[(size_t)it.a * job.sets + it.b] = kernel_total(rowT[it.a], rowV[it.a].w.data(), dp[it.b], k);
      size_t f = finished.fetch_add(1) + 1;
      if (job.progress && (f % every == 0 || f == items.size())) {
        std::lock_guard<std::mutex> l(report);
        job.progress((int)f, (int)items.size());
      }
    }
  });

  for (int r = 0; r < nrows; ++r)
    for (int s = 0; s < job.sets; ++s) {
      double v = 0.0;
      if (query || s != r || job.metric == M_CROSS) {
        double x = !query && s < r ? cross[(size_t)s * job.sets + r] : cross[(size_t)r * job.sets + s];
        double sr = need_self ? (query ? self_row[r] : self_doc[r]) : 0.0, sd = need_self ? self_doc[s] : 0.0;
        // MMD^2 = T(X,X) + T(Y,Y) - 2T(X,Y); with G = -r the same form is the
        // energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'|.
        v = job.metric == M_CROSS ? x : sr + sd - 2.0 * x;
      }
      job.out[(size_t)r * job.sets + s] = v;
    }
}

}  // namespace points
}  // namespace sf
