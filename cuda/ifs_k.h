// Iterated function systems: the kernel bodies of unfold, the chaos game and
// rendering, shared by the CPU backend and the CUDA kernels. Arithmetic is
// written with explicit fmaf so that both compilers produce the same bits
// (neither may contract or reorder it), which makes the chaos game's points
// identical on CPU and GPU.
#pragma once
#include <math.h>

#include "philox_k.h"
#include "sf_config.h"

namespace sf {

constexpr int kIfsMaxDim = 8;    // dimension of an IFS's space
constexpr int kIfsMaxMaps = 64;  // maps of one IFS

// y = A_i x + b_i for an IFS in dimension dd: A is [m, dd, dd] row-major, b [m, dd].
SF_HD void ifs_apply(const float* A, const float* b, int i, int dd, const float* x, float* y) {
  const float* a = A + (idx)i * dd * dd;
  for (int r = 0; r < dd; ++r) {
    float acc = b[i * dd + r];
    for (int c = 0; c < dd; ++c) acc = fmaf(a[r * dd + c], x[c], acc);
    y[r] = acc;
  }
}

// One level of unfolding, one map at a time. prev holds the m^(k-1) points
// of depth k-1 in address order; point i * m^(k-1) + q of depth k is
// w_i(prev[q]), so the most significant base-m digit of an index is the
// outermost map: points that share a prefix lie in the same sub-copy of the
// attractor. (A launch per map keeps divisions out of the body.)
SF_HD void ifs_unfold_point(const float* A, const float* b, int i, int dd, const float* prev, idx prev_n, float* next, idx q) {
  ifs_apply(A, b, i, dd, prev + q * dd, next + (i * prev_n + q) * dd);
}

// The same level for a fractal token, whose maps are w_i(x) = s x + (1-s) p_i
// in any dimension d: point q under map i, all d coordinates.
SF_HD void token_unfold_point(const float* P, float s, int i, int d, const float* prev, idx prev_n, float* next, idx q) {
  const float* x = prev + q * d;
  const float* p = P + (idx)i * d;
  float* y = next + (i * prev_n + q) * d;
  float r = 1.0f - s;
  for (int k = 0; k < d; ++k) y[k] = fmaf(s, x[k], r * p[k]);
}

// Weight of address p at depth: the product of the context's probabilities
// pi over its digits.
SF_HD double token_weight(const double* pi, int m, int depth, idx p) {
  double w = 1;
  for (int j = 0; j < depth; ++j) {
    w *= pi[p % m];
    p /= m;
  }
  return w;
}

// Map i for a 32-bit random number: the first i whose threshold exceeds u.
// Thresholds are the cumulative probabilities scaled to 2^32, made once on the
// host, so the choice is integer arithmetic and exact everywhere.
SF_HD int ifs_pick(const uint32_t* thresholds, int m, uint32_t u) {
  // Thresholds do not decrease, so that index is the number of thresholds at
  // or below u: counted without branches (the choice is random, a branch on
  // it would be mispredicted at every step).
  int i = 0;
  for (int k = 0; k + 1 < m; ++k) i += u >= thresholds[k] ? 1 : 0;
  return i;
}

// x = y over dd <= kIfsMaxDim floats. A fixed trip count: a copy loop of
// runtime length would become a memmove call per step on the CPU.
SF_HD void ifs_copy(float* x, const float* y, int dd) {
  for (int k = 0; k < kIfsMaxDim; ++k)
    if (k < dd) x[k] = y[k];
}

struct ChaosSpec {
  const float* A;
  const float* b;
  const uint32_t* thresholds;
  int m, dd;
  uint32_t seed_lo, seed_hi;
  idx per_chain;   // points each chain keeps
  int burn_in;     // steps each chain discards first
  idx n;           // points in all
};

// Steps [t0, t1) of chain c of the chaos game, from its state x (dd floats,
// updated in place). Step t uses word t mod 4 of Philox(counter = (t / 4,
// c), key = seed): one call of the generator serves four steps. After burn_in
// steps each point is passed to emit(index, point). A chain's points depend
// only on (seed, c, t), never on how steps are grouped into calls.
template <class Emit>
SF_HD void chaos_steps(const ChaosSpec& s, idx c, idx t0, idx t1, float* x, const Emit& emit) {
  float y[kIfsMaxDim];
  idx first = c * s.per_chain;
  idx keep = s.n - first < s.per_chain ? s.n - first : s.per_chain;
  idx end = (idx)s.burn_in + (keep > 0 ? keep : 0);
  if (t1 > end) t1 = end;
  Philox4 r;
  for (idx t = t0; t < t1; ++t) {
    if (t == t0 || (t & 3) == 0) {
      idx q = t >> 2;
      r = philox4x32((uint32_t)q, (uint32_t)(q >> 32), (uint32_t)c, (uint32_t)(c >> 32), s.seed_lo, s.seed_hi);
    }
    ifs_apply(s.A, s.b, ifs_pick(s.thresholds, s.m, r.v[t & 3]), s.dd, x, y);
    ifs_copy(x, y, s.dd);
    if (t >= s.burn_in) emit(first + t - s.burn_in, x);
  }
}

// G chains at once, step by step: the same arithmetic per chain as
// chaos_steps (the same bits), but G independent dependency chains for the
// CPU to overlap. chains c0 .. c0 + G - 1 (those below `chains`), states x
// [G, dd].
template <int G, class Emit>
SF_HD void chaos_steps_group(const ChaosSpec& s, idx c0, idx chains, idx t0, idx t1, float* x, const Emit& emit) {
  idx end[G], first[G];
  idx tmax = t0;
  for (int g = 0; g < G; ++g) {
    idx c = c0 + g;
    first[g] = c * s.per_chain;
    idx keep = c < chains ? (s.n - first[g] < s.per_chain ? s.n - first[g] : s.per_chain) : 0;
    end[g] = c < chains && keep > 0 ? (idx)s.burn_in + keep : 0;
    if (end[g] > t1) end[g] = t1;
    if (end[g] > tmax) tmax = end[g];
  }
  Philox4 r[G];
  for (idx t = t0; t < tmax; ++t) {
    for (int g = 0; g < G; ++g) {
      if (t >= end[g]) continue;
      if (t == t0 || (t & 3) == 0) {
        idx q = t >> 2, c = c0 + g;
        r[g] = philox4x32((uint32_t)q, (uint32_t)(q >> 32), (uint32_t)c, (uint32_t)(c >> 32), s.seed_lo, s.seed_hi);
      }
      float y[kIfsMaxDim];
      float* xg = x + g * s.dd;
      ifs_apply(s.A, s.b, ifs_pick(s.thresholds, s.m, r[g].v[t & 3]), s.dd, xg, y);
      ifs_copy(xg, y, s.dd);
      if (t >= s.burn_in) emit(first[g] + t - s.burn_in, xg);
    }
  }
}

// A render grid over the box [lo, lo + n / inv) of up to 3 axes, x fastest.
struct RenderBox {
  float lo[3], inv[3];
  int n[3];
};

// Cell of a point on the render grid, or -1 when outside it.
SF_HD idx render_cell(const float* x, int dd, const RenderBox& b) {
  idx cell = 0, stride = 1;
  for (int k = 0; k < dd; ++k) {
    float f = (x[k] - b.lo[k]) * b.inv[k];
    if (!(f >= 0.0f) || f >= (float)b.n[k]) return -1;
    int i = (int)f;
    if (i >= b.n[k]) i = b.n[k] - 1;
    cell += (idx)i * stride;
    stride *= b.n[k];
  }
  return cell;
}

}  // namespace sf
