// Mean-shift condensation (SPEC, Points, condense): stable nodes of
// phi(x) = -sum_j w_j G(|x - x_j|). Every point is a seed; a seed moves to the
// kernel-weighted mean of the points until it moves less than tol *
// bandwidth (or max_iter). Then, as sklearn.cluster.MeanShift does: seeds are
// ordered by (intensity, coordinates) descending, where intensity is the
// kernel sum at the seed's last position; a seed becomes a centre unless a
// centre already taken lies within `merge`; every point is labelled with its
// nearest centre. The iteration step runs on the CPU tiles or, for other
// backends, one seed per thread; the rest runs on the host.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "tiles.h"

namespace sf {
namespace points {

// The weight the kernel gives a squared distance.
SF_HD float shift_weight(bool flat, float r2, float bw2, float inv2s2) {
  return flat ? (r2 <= bw2 ? 1.0f : 0.0f) : sf_expf(-(r2 > 0.0f ? r2 : 0.0f) * inv2s2);
}

// One step on the CPU tiles for the seeds in `pos` [s, d]: new positions into
// `next`, the kernel sums at the old positions into `z`.
inline void shift_step_cpu(const MeanShiftJob& job, const tiles::Packed& p, const std::vector<float>& xc,
                           const float* centre, const std::vector<double>& pos, idx s, std::vector<double>& next,
                           std::vector<double>& z) {
  const int d = job.d;
  std::vector<float> pf((size_t)(s * d));
  for (size_t i = 0; i < pf.size(); ++i) pf[i] = (float)pos[i];
  tiles::Targets t = tiles::centre_targets(pf.data(), s, d, centre);
  const float bw2 = (float)(job.bandwidth * job.bandwidth), inv2s2 = (float)(1.0 / (2 * job.bandwidth * job.bandwidth));
  CpuExec ex;
  idx groups = (s + tiles::TI - 1) / tiles::TI;
  ex.for_ranges(groups, 1, [&](idx g0, idx g1) {
    std::vector<double> acc((size_t)tiles::TI * d);
    std::vector<float> blk((size_t)d);
    for (idx g = g0; g < g1; ++g) {
      if (job.cancel && *job.cancel) fail("E_ABORTED", "condense: aborted");
      idx i0 = g * tiles::TI;
      int rows = (int)std::min<idx>(tiles::TI, s - i0);
      double zs[tiles::TI] = {0, 0, 0, 0};
      std::fill(acc.begin(), acc.end(), 0.0);
      tiles::over_blocks(t, p, i0, rows, [&](idx b, float (&r2)[tiles::TI][tiles::TJ]) {
        const float* wb = p.w.data() + b * tiles::TJ;
        for (int i = 0; i < rows; ++i) {
          std::fill(blk.begin(), blk.end(), 0.0f);
          float zb = 0.0f;
          for (int j = 0; j < tiles::TJ; ++j) {
            float kw = wb[j] * shift_weight(job.flat, r2[i][j], bw2, inv2s2);
            if (kw == 0.0f) continue;
            zb += kw;
            const float* xj = xc.data() + (size_t)(b * tiles::TJ + j) * d;
            for (int c = 0; c < d; ++c) blk[c] += kw * xj[c];
          }
          zs[i] += zb;
          double* a = acc.data() + (size_t)i * d;
          for (int c = 0; c < d; ++c) a[c] += blk[c];
        }
      });
      for (int i = 0; i < rows; ++i) {
        z[(size_t)(i0 + i)] = zs[i];
        for (int c = 0; c < d; ++c)
          next[(size_t)((i0 + i) * d + c)] =
              zs[i] > 0 ? centre[c] + acc[(size_t)i * d + c] / zs[i] : pos[(size_t)((i0 + i) * d + c)];
      }
    }
  });
}

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

inline void mean_shift_cpu(MeanShiftJob& job) {
  const int d = job.d;
  std::vector<float> centre = tiles::centre_of(job.x, job.n, d);
  tiles::Packed p = tiles::pack(job.x, job.n, d, centre.data(), job.w);
  std::vector<float> xc((size_t)(p.blocks * tiles::TJ * d), 0.0f);  // centred rows, padded
  for (idx j = 0; j < job.n; ++j)
    for (int c = 0; c < d; ++c) xc[(size_t)(j * d + c)] = job.x[j * d + c] - centre[c];
  mean_shift(job, [&](const std::vector<double>& cur, idx s, std::vector<double>& next, std::vector<double>& z) {
    shift_step_cpu(job, p, xc, centre.data(), cur, s, next, z);
  });
}

}  // namespace points
}  // namespace sf
