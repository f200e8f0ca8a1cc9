// Mean-shift condensation (SPEC, Points, condense): stable nodes of
// phi(x) = -sum_j w_j G(|x - x_j|). Every point is a seed; a seed moves to the
// kernel-weighted mean of the points until it moves less than tol *
// bandwidth (or max_iter). Then, as sklearn.cluster.MeanShift does: seeds are
// ordered by (intensity, coordinates) descending, where intensity is the
// kernel sum at the seed's last position; a seed becomes a centre unless a
// centre already taken lies within `merge`; every point is labelled with its
// nearest centre. The step (the kernel moments around every seed) is the
// pair engine's (ops.h); the rest runs here on the host.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../errors.h"
#include "jobs.h"

namespace sf {
namespace points {

// |x - c|^2 in fp64 for a point and a centre.
inline double dist2(const float* x, const double* c, int d) {
  double r2 = 0;
  for (int q = 0; q < d; ++q) {
    double t = (double)x[q] - c[q];
    r2 += t * t;
  }
  return r2;
}

// Iterates the active seeds with `step` until each moves less than tol *
// bandwidth, then picks the centres and labels the points.
template <class Step>
void mean_shift(MeanShiftJob& job, const Step& step) {
  const int d = job.d;
  const idx n = job.n;
  std::vector<double> pos((size_t)(n * d)), inten((size_t)n, 0.0);
  for (idx i = 0; i < n * d; ++i) pos[(size_t)i] = job.x[i];
  std::vector<idx> active((size_t)n);
  std::iota(active.begin(), active.end(), 0);
  const double stop = job.tol * job.bandwidth;
  for (int it = 0; it < job.max_iter && !active.empty(); ++it) {
    if (job.cancel && *job.cancel) fail("E_ABORTED", "condense: aborted");
    idx s = (idx)active.size();
    std::vector<double> cur((size_t)(s * d)), next((size_t)(s * d)), z((size_t)s);
    for (idx a = 0; a < s; ++a)
      std::copy_n(pos.begin() + active[a] * d, d, cur.begin() + a * d);
    step(cur, s, next, z);
    std::vector<idx> still;
    for (idx a = 0; a < s; ++a) {
      idx i = active[a];
      inten[(size_t)i] = z[(size_t)a];
      double moved = 0;
      for (int c = 0; c < d; ++c) {
        double dlt = next[(size_t)(a * d + c)] - pos[(size_t)(i * d + c)];
        moved += dlt * dlt;
      }
      std::copy_n(next.begin() + a * d, d, pos.begin() + i * d);
      if (z[(size_t)a] > 0 && std::sqrt(moved) > stop) still.push_back(i);
    }
    active.swap(still);
    job.iterations = it + 1;
    if (job.progress) job.progress(it + 1, (double)active.size());
  }

  // Centres: seeds by (intensity, coordinates) descending; a seed within
  // `merge` of a centre already taken is absorbed.
  std::vector<idx> order((size_t)n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](idx a, idx b) {
    if (inten[(size_t)a] != inten[(size_t)b]) return inten[(size_t)a] > inten[(size_t)b];
    for (int c = 0; c < d; ++c)
      if (pos[(size_t)(a * d + c)] != pos[(size_t)(b * d + c)]) return pos[(size_t)(a * d + c)] > pos[(size_t)(b * d + c)];
    return a < b;
  });
  const double merge2 = job.merge * job.merge;
  job.centers.clear();
  job.intensity.clear();
  for (idx a : order) {
    if (!(inten[(size_t)a] > 0)) continue;
    const double* pa = pos.data() + a * d;
    bool near = false;
    for (size_t k = 0; k < job.intensity.size() && !near; ++k) {
      double r2 = 0;
      for (int c = 0; c < d; ++c) r2 += (pa[c] - job.centers[k * d + c]) * (pa[c] - job.centers[k * d + c]);
      near = r2 <= merge2;
    }
    if (near) continue;
    job.centers.insert(job.centers.end(), pa, pa + d);
    job.intensity.push_back(inten[(size_t)a]);
  }
  const size_t kc = job.intensity.size();
  // Only all-zero weights leave no seed with a positive density.
  if (kc == 0) fail("E_RANGE", "condense: the weights have no positive total");
  job.mass.assign(kc, 0.0);
  job.potential.assign(kc, 0.0);
  // Labels: the nearest centre (the first on ties); potentials at the centres.
  for (idx i = 0; i < n; ++i) {
    double best = INFINITY;
    int32_t lab = 0;
    for (size_t k = 0; k < kc; ++k) {
      double r2 = dist2(job.x + i * d, job.centers.data() + k * d, d);
      if (r2 < best) {
        best = r2;
        lab = (int32_t)k;
      }
    }
    job.labels[i] = lab;
    double wi = job.w ? (double)job.w[i] : 1.0;
    job.mass[(size_t)lab] += wi;
  }
  const double bw2 = job.bandwidth * job.bandwidth;
  for (size_t k = 0; k < kc; ++k) {
    double phi = 0;
    for (idx j = 0; j < n; ++j) {
      double r2 = dist2(job.x + j * d, job.centers.data() + k * d, d);
      double g = job.flat ? (r2 <= bw2 ? 1.0 : 0.0) : std::exp(-r2 / (2 * bw2));
      phi -= (job.w ? (double)job.w[j] : 1.0) * g;
    }
    job.potential[k] = phi;
  }
}

}  // namespace points
}  // namespace sf
