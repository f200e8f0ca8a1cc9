// Tiled pair sums on the CPU: the N x M matrix of pairs is never stored.
// Sources are centred (every kernel depends on x - y only, and centring keeps
// |x|^2 + |y|^2 - 2 x.y from cancelling), then packed in blocks of 32 with
// coordinates interleaved ([block][d][32]); a tile is 4 targets x 32 sources
// whose dot products are accumulated in registers (dot_tile), then turned
// into squared distances and handed to an epilogue.
#pragma once
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "../../cuda/pairs_k.h"
#include "../exec_cpu.h"

namespace sf {
namespace tiles {

constexpr int TJ = 32;  // sources per block
constexpr int TI = 4;   // targets per tile

struct Packed {
  int d = 0;
  idx m = 0;       // sources
  idx blocks = 0;  // ceil(m / TJ)
  std::vector<float> y;     // [blocks][d][TJ], zero padded
  std::vector<float> norm;  // [blocks * TJ] squared norms of the centred sources
  std::vector<float> w;     // [blocks * TJ] weights, 0 on padding
};

// Mean of a point set in fp64: the centre both sides are moved by.
inline std::vector<float> centre_of(const float* y, idx m, int d) {
  std::vector<double> c((size_t)d, 0.0);
  for (idx j = 0; j < m; ++j)
    for (int k = 0; k < d; ++k) c[k] += y[j * d + k];
  std::vector<float> out((size_t)d);
  for (int k = 0; k < d; ++k) out[k] = m > 0 ? (float)(c[k] / (double)m) : 0.0f;
  return out;
}

inline Packed pack(const float* y, idx m, int d, const float* centre, const float* w) {
  Packed p;
  p.d = d;
  p.m = m;
  p.blocks = (m + TJ - 1) / TJ;
  p.y.assign((size_t)(p.blocks * d * TJ), 0.0f);
  p.norm.assign((size_t)(p.blocks * TJ), 0.0f);
  p.w.assign((size_t)(p.blocks * TJ), 0.0f);
  for (idx j = 0; j < m; ++j) {
    idx b = j / TJ, l = j % TJ;
    double n2 = 0;
    for (int k = 0; k < d; ++k) {
      float v = y[j * d + k] - centre[k];
      p.y[(size_t)((b * d + k) * TJ + l)] = v;
      n2 += (double)v * v;
    }
    p.norm[(size_t)j] = (float)n2;
    p.w[(size_t)j] = w ? w[j] : 1.0f;
  }
  return p;
}

// Centred targets [n][d] and their squared norms.
struct Targets {
  int d = 0;
  idx n = 0;
  std::vector<float> x;
  std::vector<float> norm;
};

inline Targets centre_targets(const float* x, idx n, int d, const float* centre) {
  Targets t;
  t.d = d;
  t.n = n;
  t.x.resize((size_t)(n * d));
  t.norm.resize((size_t)n);
  for (idx i = 0; i < n; ++i) {
    double n2 = 0;
    for (int k = 0; k < d; ++k) {
      float v = x[i * d + k] - centre[k];
      t.x[(size_t)(i * d + k)] = v;
      n2 += (double)v * v;
    }
    t.norm[(size_t)i] = (float)n2;
  }
  return t;
}

// acc[i][j] = x_i . y_j for R target rows and one packed block (R x TJ
// accumulators stay in registers: R = 4 for the pair sums, 8 in attention).
template <int R = TI>
inline void dot_tile(const float* const* xr, const float* yb, int d, float (&acc)[R][TJ]) {
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < TJ; ++j) acc[i][j] = 0.0f;
  for (int k = 0; k < d; ++k) {
    const float* yk = yb + (size_t)k * TJ;
    float xk[R];
    for (int i = 0; i < R; ++i) xk[i] = xr[i][k];
    for (int j = 0; j < TJ; ++j) {
      float v = yk[j];
      for (int i = 0; i < R; ++i) acc[i][j] += xk[i] * v;
    }
  }
}

// Squared distances of a tile, in place: r2 = |x|^2 + |y|^2 - 2 x.y.
template <int R = TI>
inline void to_r2(float (&acc)[R][TJ], const float* xn, const float* yn) {
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < TJ; ++j) acc[i][j] = xn[i] + yn[j] - 2.0f * acc[i][j];
}

// Pairs closer than 2^-7 of their norms lose most digits of r^2 to the
// cancellation in |x|^2 + |y|^2 - 2 x.y (a point against itself would be at
// distance sqrt(eps) |x| instead of 0): those are recomputed by differences.
template <int R = TI>
inline void refine_close(const float* const* xr, const float* xn, const float* yb, const float* yn, int d,
                         float (&r2)[R][TJ]) {
  const float thr = 1.0f / 128.0f;
  bool any = false;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < TJ; ++j) any |= r2[i][j] < thr * (xn[i] + yn[j]);
  if (!any) return;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < TJ; ++j) {
      if (!(r2[i][j] < thr * (xn[i] + yn[j]))) continue;
      float s = 0.0f;
      for (int k = 0; k < d; ++k) {
        float t = xr[i][k] - yb[(size_t)k * TJ + j];
        s += t * t;
      }
      r2[i][j] = s;
    }
}

// Calls f(b, r2) for every source block, r2 holding the squared distances of
// targets [i0, i0 + rows) (rows <= TI; the rows past the end repeat the last
// target and are to be ignored) to the block's sources. With distances =
// false and zero norms, r2 holds -2 x.y instead (dot-product attention).
template <class F>
void over_blocks(const Targets& t, const Packed& p, idx i0, int rows, const F& f, bool distances = true) {
  float acc[TI][TJ];
  const float* xr[TI];
  float xn[TI];
  for (int i = 0; i < TI; ++i) {
    idx r = i0 + std::min(i, rows - 1);
    xr[i] = t.x.data() + (size_t)(r * t.d);
    xn[i] = t.norm[(size_t)r];
  }
  for (idx b = 0; b < p.blocks; ++b) {
    const float* yb = p.y.data() + (size_t)(b * p.d * TJ);
    const float* yn = p.norm.data() + (size_t)(b * TJ);
    dot_tile(xr, yb, p.d, acc);
    to_r2(acc, xn, yn);
    if (distances) refine_close(xr, xn, yb, yn, p.d, acc);
    f(b, acc);
  }
}

// Calls f(std::integral_constant<int, KIND>) for a real kernel kind, so the
// tile loops are compiled once per kind.
template <class F>
auto with_kernel(int kind, F&& f) {
  switch (kind) {
    case K_COULOMB: return f(std::integral_constant<int, K_COULOMB>{});
    case K_YUKAWA: return f(std::integral_constant<int, K_YUKAWA>{});
    case K_GAUSSIAN: return f(std::integral_constant<int, K_GAUSSIAN>{});
    default: return f(std::integral_constant<int, K_ENERGY>{});
  }
}

}  // namespace tiles
}  // namespace sf
