// Box-counting dimension (points and masks) and the least-squares fit shared
// with the correlation dimension. Box counting runs on the CPU on every
// backend: it is a sort per scale and offset, not a kernel sum.
#pragma once
#include "../cancel.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../errors.h"
#include "../thread_pool.h"
#include "jobs.h"

namespace sf {
namespace fractal {

// Grid offsets for box counting: offset j shifts the grid by frac(j * alpha)
// of a box along each axis, alpha from the generalized golden ratio (an R_d
// low-discrepancy sequence). Offset 0 is the unshifted grid.
inline double box_shift(int j, int axis, int dd) {
  double phi = 2.0;
  for (int it = 0; it < 32; ++it) phi = std::pow(1.0 + phi, 1.0 / (dd + 1));
  double alpha = std::pow(1.0 / phi, axis + 1);
  double v = j * alpha;
  return v - std::floor(v);
}

struct BoxCountJob {
  int dd = 0;
  idx n = 0;
  const float* x = nullptr;  // [n, dd]: points, or the set cells' centres of a mask
  bool integer_shifts = false;  // masks: grids shifted by whole cells
  std::vector<double> scales;   // box sizes, largest first
  int offsets = 1;
  std::vector<double> counts;   // [scales, offsets]
  double saturation = 0;        // stop after the first scale whose smallest count exceeds this (0: never)
  CancelFlag cancel = nullptr;
  std::function<void(double)> progress;
};

// LSD radix sort of keys below 2^bits, 11 bits per pass: linear time, and
// only as many passes as the keys have bits (often 2 or 3).
inline void radix_sort(std::vector<uint64_t>& key, int bits) {
  const int R = 11;
  std::vector<uint64_t> tmp(key.size());
  std::vector<size_t> count((size_t)1 << R);
  for (int shift = 0; shift < bits; shift += R) {
    std::fill(count.begin(), count.end(), 0);
    for (uint64_t k : key) ++count[(k >> shift) & ((1u << R) - 1)];
    size_t sum = 0;
    for (size_t& c : count) {
      size_t v = c;
      c = sum;
      sum += v;
    }
    for (uint64_t k : key) tmp[count[(k >> shift) & ((1u << R) - 1)]++] = k;
    key.swap(tmp);
  }
}

// Number of distinct boxes of size eps holding a point, for the grid shifted
// by shift[] (in boxes); lo and hi bound the points.
inline double count_boxes(const float* x, idx n, int dd, const double* lo, const double* hi, double eps, const double* shift) {
  double inv = 1.0 / eps;
  auto coord = [&](idx i, int k) {
    int64_t v = (int64_t)std::floor(((double)x[i * dd + k] - lo[k]) * inv + shift[k]);
    return v < 0 ? 0 : v;
  };
  int bits = 0, b[16];
  for (int k = 0; k < dd; ++k) {
    int64_t cmax = (int64_t)std::floor((hi[k] - lo[k]) * inv + shift[k]) + 1;
    b[k] = 1;
    while (b[k] < 63 && (cmax >> b[k]) != 0) ++b[k];
    bits += b[k];
  }
  if (bits <= 64) {
    // One key per point, the box's coordinates side by side.
    std::vector<uint64_t> key((size_t)n);
    for (idx i = 0; i < n; ++i) {
      uint64_t v = 0;
      for (int k = 0; k < dd; ++k) v = (b[k] == 64 ? 0 : v << b[k]) | (uint64_t)coord(i, k);
      key[(size_t)i] = v;
    }
    radix_sort(key, bits);
    return (double)(std::unique(key.begin(), key.end()) - key.begin());
  }
  // Too many bits for one word: sort the coordinate rows themselves.
  std::vector<int64_t> c((size_t)n * dd);
  for (idx i = 0; i < n; ++i)
    for (int k = 0; k < dd; ++k) c[(size_t)(i * dd + k)] = coord(i, k);
  std::vector<idx> order((size_t)n);
  for (idx i = 0; i < n; ++i) order[(size_t)i] = i;
  auto less = [&](idx a, idx bb) {
    return std::lexicographical_compare(c.begin() + a * dd, c.begin() + (a + 1) * dd, c.begin() + bb * dd, c.begin() + (bb + 1) * dd);
  };
  std::sort(order.begin(), order.end(), less);
  double distinct = n > 0 ? 1 : 0;
  for (idx i = 1; i < n; ++i) distinct += less(order[(size_t)i - 1], order[(size_t)i]) ? 1 : 0;
  return distinct;
}

inline void box_count(BoxCountJob& job) {
  const int dd = job.dd;
  std::vector<double> lo(dd, INFINITY), hi(dd, -INFINITY);
  for (idx i = 0; i < job.n; ++i)
    for (int k = 0; k < dd; ++k) {
      lo[k] = std::min(lo[k], (double)job.x[i * dd + k]);
      hi[k] = std::max(hi[k], (double)job.x[i * dd + k]);
    }
  if (job.integer_shifts)
    for (int k = 0; k < dd; ++k) lo[k] = 0;
  size_t S = job.scales.size();
  int K = job.offsets;
  job.counts.assign(S * K, 0);
  size_t done = 0;
  for (size_t si = 0; si < S; ++si) {
    if (job.cancel && *job.cancel) fail("E_ABORTED", "boxDimension: aborted");
    double eps = job.scales[si];
    ThreadPool::instance().run(K, [&](int j) {
      double shift[16];
      for (int k = 0; k < dd; ++k) {
        double f = box_shift(j, k, dd);
        // Masks: whole cells; the box edge then never cuts a cell.
        shift[k] = job.integer_shifts ? std::floor(f * eps) / eps : f;
      }
      job.counts[si * K + j] = count_boxes(job.x, job.n, dd, lo.data(), hi.data(), eps, shift);
    });
    done = si + 1;
    if (job.progress) job.progress((double)done / (double)S);
    double least = *std::min_element(job.counts.begin() + si * K, job.counts.begin() + (si + 1) * K);
    if (job.saturation > 0 && least > job.saturation) break;
  }
  job.scales.resize(done);
  job.counts.resize(done * K);
}

}  // namespace fractal
}  // namespace sf
