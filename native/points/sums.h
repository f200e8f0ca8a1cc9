// Weighted kernel sums over pairs on the CPU tiles: per target
// phi_i = sum_j w_j G(r_ij), and totals sum_i a_i sum_j b_j G(r_ij). Each
// target accumulates block by block in fp64, in source order; totals add the
// targets' sums in target order: the same numbers for any thread count.
#pragma once
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "tiles.h"

namespace sf {
namespace points {

// Sums of one group of targets against all sources, into s[0..rows).
template <int KIND>
inline void group_sums(const tiles::Targets& t, const tiles::Packed& p, const KernelSpec& k, idx i0, int rows,
                       double* s) {
  double acc[tiles::TI] = {0, 0, 0, 0};
  const float* w = p.w.data();
  tiles::over_blocks(t, p, i0, rows, [&](idx b, float (&r2)[tiles::TI][tiles::TJ]) {
    const float* wb = w + b * tiles::TJ;
    for (int i = 0; i < tiles::TI; ++i) {
      float part = 0.0f;
      for (int j = 0; j < tiles::TJ; ++j) part += wb[j] * kernel_of<KIND>(k, r2[i][j]);
      acc[i] += part;
    }
  });
  for (int i = 0; i < rows; ++i) s[i] = acc[i];
}

// phi[i] for every target, in parallel over groups of targets.
inline void kernel_sums(const CpuExec& ex, const tiles::Targets& t, const tiles::Packed& p, const KernelSpec& k,
                        double* phi, const volatile int32_t* cancel = nullptr) {
  tiles::with_kernel(k.kind, [&](auto K) {
    idx groups = (t.n + tiles::TI - 1) / tiles::TI;
    ex.for_ranges(groups, 4, [&](idx g0, idx g1) {
      for (idx g = g0; g < g1; ++g) {
        if (cancel && *cancel) fail("E_ABORTED", "aborted");
        idx i0 = g * tiles::TI;
        group_sums<decltype(K)::value>(t, p, k, i0, (int)std::min<idx>(tiles::TI, t.n - i0), phi + i0);
      }
    });
  });
}

// sum_i a_i phi_i, serial (callers parallelise over many totals).
inline double kernel_total(const tiles::Targets& t, const float* a, const tiles::Packed& p, const KernelSpec& k) {
  return tiles::with_kernel(k.kind, [&](auto K) {
    double total = 0, s[tiles::TI];
    for (idx i0 = 0; i0 < t.n; i0 += tiles::TI) {
      int rows = (int)std::min<idx>(tiles::TI, t.n - i0);
      group_sums<decltype(K)::value>(t, p, k, i0, rows, s);
      for (int i = 0; i < rows; ++i) total += (a ? (double)a[i0 + i] : 1.0) * s[i];
    }
    return total;
  });
}

// The whole potential job on the CPU: centred on the sources' mean; the
// complex helmholtz kernel takes the tile distances into fp64.
inline void kernel_sum_cpu(const KernelSumJob& job) {
  std::vector<float> c = tiles::centre_of(job.src, job.m, job.d);
  tiles::Packed p = tiles::pack(job.src, job.m, job.d, c.data(), job.w);
  tiles::Targets t = tiles::centre_targets(job.tgt, job.n, job.d, c.data());
  CpuExec ex;
  if (job.k.kind != K_HELMHOLTZ) {
    kernel_sums(ex, t, p, job.k, job.out, job.cancel);
    return;
  }
  idx groups = (t.n + tiles::TI - 1) / tiles::TI;
  const KernelSpec k = job.k;
  ex.for_ranges(groups, 4, [&](idx g0, idx g1) {
    for (idx g = g0; g < g1; ++g) {
      if (job.cancel && *job.cancel) fail("E_ABORTED", "aborted");
      idx i0 = g * tiles::TI;
      int rows = (int)std::min<idx>(tiles::TI, t.n - i0);
      double re[tiles::TI] = {0, 0, 0, 0}, im[tiles::TI] = {0, 0, 0, 0};
      tiles::over_blocks(t, p, i0, rows, [&](idx b, float (&r2)[tiles::TI][tiles::TJ]) {
        const float* wb = p.w.data() + b * tiles::TJ;
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < tiles::TJ; ++j) {
            if (wb[j] == 0.0f) continue;
            double gr, gi;
            helmholtz_r2(k.kre, k.kim, k.eps2, r2[i][j], gr, gi);
            re[i] += wb[j] * gr;
            im[i] += wb[j] * gi;
          }
      });
      for (int i = 0; i < rows; ++i) {
        job.out[2 * (i0 + i)] = re[i];
        job.out[2 * (i0 + i) + 1] = im[i];
      }
    }
  });
}

}  // namespace points
}  // namespace sf
