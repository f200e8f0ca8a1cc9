// The resonance spectrum of two point sets on the CPU tiles: each tile's
// distances are computed once and serve every frequency of the sweep.
#pragma once
#include <cmath>
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "tiles.h"

namespace sf {
namespace points {

inline void resonance_cpu(ResonanceJob& job) {
  const int d = job.d, nw = job.nw;
  std::vector<double> kre((size_t)nw), kim((size_t)nw);
  for (int q = 0; q < nw; ++q) resonance_k(job.w[q], job.g, job.kappa, job.c, kre[q], kim[q]);
  std::vector<float> c = tiles::centre_of(job.b, job.nb, d);
  tiles::Packed p = tiles::pack(job.b, job.nb, d, c.data(), job.wb);
  tiles::Targets t = tiles::centre_targets(job.a, job.na, d, c.data());
  const double eps2 = job.eps * job.eps;
  idx groups = (t.n + tiles::TI - 1) / tiles::TI;
  // Partial sums per group, added in group order afterwards (deterministic).
  std::vector<double> part((size_t)groups * nw * 2, 0.0);
  CpuExec ex;
  ex.for_ranges(groups, 1, [&](idx g0, idx g1) {
    std::vector<float> r((size_t)tiles::TJ), amp((size_t)tiles::TJ);
    for (idx g = g0; g < g1; ++g) {
      if (job.cancel && *job.cancel) fail("E_ABORTED", "resonance: aborted");
      idx i0 = g * tiles::TI;
      int rows = (int)std::min<idx>(tiles::TI, t.n - i0);
      double* acc = part.data() + (size_t)g * nw * 2;
      tiles::over_blocks(t, p, i0, rows, [&](idx b, float (&r2)[tiles::TI][tiles::TJ]) {
        const float* wb = p.w.data() + b * tiles::TJ;
        for (int i = 0; i < rows; ++i) {
          double ai = job.wa ? (double)job.wa[i0 + i] : 1.0;
          for (int j = 0; j < tiles::TJ; ++j) {
            float x = r2[i][j] > 0.0f ? r2[i][j] : 0.0f;
            r[j] = std::sqrt(x);
            amp[j] = (float)(ai * wb[j] / std::sqrt((double)x + eps2));
          }
          for (int q = 0; q < nw; ++q) {
            double sr = 0, si = 0;
            for (int j = 0; j < tiles::TJ; ++j) {
              if (amp[j] == 0.0f) continue;
              double a = amp[j] * std::exp(-kim[q] * r[j]), ph = kre[q] * r[j];
              sr += a * std::cos(ph);
              si += a * std::sin(ph);
            }
            acc[2 * q] += sr;
            acc[2 * q + 1] += si;
          }
        }
      });
    }
  });
  for (int q = 0; q < nw; ++q) {
    double sr = 0, si = 0;
    for (idx g = 0; g < groups; ++g) {
      sr += part[((size_t)g * nw + q) * 2];
      si += part[((size_t)g * nw + q) * 2 + 1];
    }
    job.out[2 * q] = sr;
    job.out[2 * q + 1] = si;
  }
}

}  // namespace points
}  // namespace sf
