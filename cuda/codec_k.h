// The fractal codec (partitioned IFS, Jacquin 1992, Fisher 1995): kernel
// bodies shared by the encoder's search and the decoder's iteration.
//
// A range block R (n x n) is coded as an isometry of a domain block D (2n x
// 2n, averaged down to n x n) under the gray map R ~ s (D - mean D) + mean R,
// i.e. s D + o with o = mean R - s mean D. s takes 31 levels k/16, |k| <= 15
// (so |s| < 1 and the decoder's map is contractive), and mean R 8 bits over
// the image's value range. Coding the offset through mean R rather than o
// keeps its quantization error small and independent of s.
#pragma once
#include <math.h>

#include "lanes_k.h"
#include "sf_config.h"

namespace sf {

constexpr int kCodecScaleLevels = 15;  // s = k / 16, k in [-15, 15]
constexpr int kCodecScaleZero = 15;    // code of s = 0 (stored without a domain)
constexpr int kCodecMeanLevels = 255;  // mean R = q / 255 of the value range

// Isometry k of an n x n block (the dihedral group D4): output pixel (x, y)
// takes source pixel (sx, sy). Bit 2 transposes, bit 0 mirrors x, bit 1
// mirrors y.
SF_HD void codec_iso_src(int k, int n, int x, int y, int& sx, int& sy) {
  int u = x, v = y;
  if (k & 4) {
    u = y;
    v = x;
  }
  if (k & 1) u = n - 1 - u;
  if (k & 2) v = n - 1 - v;
  sx = u;
  sy = v;
}

SF_HD float codec_scale(int q) { return (float)(q - kCodecScaleZero) * (1.0f / 16.0f); }

// Class of a block for the classified search: the order of its four quadrant
// sums (0..23), brightest first; ties keep the quadrant order. A domain that
// matches a range with s > 0 tends to share its order, with s < 0 the reverse.
SF_HD int codec_order_class(float q0, float q1, float q2, float q3) {
  float q[4] = {q0, q1, q2, q3};
  int rank[4];
  for (int i = 0; i < 4; ++i) {
    int r = 0;
    for (int j = 0; j < 4; ++j)
      if (q[j] > q[i] || (q[j] == q[i] && j < i)) ++r;
    rank[i] = r;
  }
  // Lehmer code of the permutation rank[] (a bijection onto 0..23).
  int code = 0;
  for (int i = 0; i < 4; ++i) {
    int smaller = 0;
    for (int j = i + 1; j < 4; ++j)
      if (rank[j] < rank[i]) ++smaller;
    code = code * (4 - i) + smaller;
  }
  return code;
}

struct CodecFit {
  float err;  // sum of squared errors of the quantized map, normalized units
  int sq;     // scale code
  int mq;     // mean code
};

// The quantized least-squares gray map of a range (sums sr, srr) onto a
// domain (sums sd, sdd), given their inner product sdr, over n pixels, in
// units where the value range is [0, 1].
SF_HD CodecFit codec_fit(int n, double sr, double srr, double sd, double sdd, double sdr) {
  double inv = 1.0 / n;
  double vr = srr - sr * sr * inv;  // n var(R)
  double vd = sdd - sd * sd * inv;  // n var(D)
  double cdr = sdr - sd * sr * inv; // n cov(D, R)
  double mean = sr * inv;
  int mq = (int)floor(mean * kCodecMeanLevels + 0.5);
  mq = mq < 0 ? 0 : (mq > kCodecMeanLevels ? kCodecMeanLevels : mq);
  double s = vd > 1e-12 ? cdr / vd : 0.0;
  int k = (int)floor(s * 16.0 + 0.5);
  k = k < -kCodecScaleLevels ? -kCodecScaleLevels : (k > kCodecScaleLevels ? kCodecScaleLevels : k);
  double sqv = k / 16.0, dm = mean - mq * (1.0 / kCodecMeanLevels);
  double e = vr - 2.0 * sqv * cdr + sqv * sqv * vd + n * dm * dm;
  CodecFit f;
  f.err = (float)(e > 0 ? e : 0);
  f.sq = k + kCodecScaleZero;
  f.mq = mq;
  return f;
}

// One coded block as the decoder uses it, in pixels of the output scale.
struct CodecLeaf {
  int x, y, size;   // range block
  int dx, dy;       // domain block (2 * size square)
  int iso, sq, mq;
};

// One pixel of a decoding iteration: pixel (px, py) of leaf L from the
// previous iterate img (width w), given the mean of the leaf's domain in it,
// clamped to the coded range [0, 1] (the clamp is a contraction too, so the
// iteration still converges, to a fixed point inside the range).
SF_HD float codec_decode_pixel(const CodecLeaf& L, const float* img, int w, int px, int py, float domain_mean) {
  float s = codec_scale(L.sq);
  float mean = (float)L.mq * (1.0f / kCodecMeanLevels);
  if (L.sq == kCodecScaleZero) return mean;
  int sx, sy;
  codec_iso_src(L.iso, L.size, px - L.x, py - L.y, sx, sy);
  const float* d = img + (idx)(L.dy + 2 * sy) * w + L.dx + 2 * sx;
  float avg = 0.25f * ((d[0] + d[1]) + (d[w] + d[w + 1]));
  float v = fmaf(s, avg - domain_mean, mean);
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

// Element e of the level's domain table: [domain, isometry, pixel] over n x n
// pixels, each the 2 x 2 average of the 2n x 2n domain block of img (width
// w) at lattice position (domain mod ndx, domain / ndx) * step, seen through
// the isometry.
SF_HD void codec_domain_elem(const float* img, int w, int ndx, int step, int n, float* table, idx e) {
  int n2 = n * n;
  idx di = e / (8 * n2);
  int rest = (int)(e - di * 8 * n2);
  int iso = rest / n2, pix = rest - iso * n2;
  int sx, sy;
  codec_iso_src(iso, n, pix % n, pix / n, sx, sy);
  int dx = (int)(di % ndx) * step, dy = (int)(di / ndx) * step;
  const float* d = img + (idx)(dy + 2 * sy) * w + dx + 2 * sx;
  table[e] = 0.25f * ((d[0] + d[1]) + (d[w] + d[w + 1]));
}

// Quadrant sums of an n x n block (n even) and its order class.
SF_HD int codec_block_class(const float* v, int n) {
  float q[4] = {0, 0, 0, 0};
  int h = n / 2;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) q[(y >= h ? 2 : 0) + (x >= h ? 1 : 0)] += v[y * n + x];
  return codec_order_class(q[0], q[1], q[2], q[3]);
}

// The inner product of two blocks of n2 pixels (a multiple of 8) in eight
// independent partial sums, which the CPU compiler vectorises.
SF_HD float codec_dot(const float* a, const float* b, int n2) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < n2; k += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[k + j] * b[k + j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

struct CodecMatch {
  float err;   // of the best map
  float err0;  // of the flat map (s = 0, no domain): the cheapest leaf
  int cand;    // domain * 8 + isometry, or -1 for s = 0
  int sq, mq;
};

// The search runs over candidate tiles: kCodecTile candidates side by side,
// pixel-major ([tile][pixel][lane]), so one range is compared with a whole
// tile in vector lanes (one AVX-512 register of floats per pixel on the CPU).
// Per lane: the candidate's sum (csum), n var (cvd) and its index into the
// domain table (cid, -1 for padding, whose cvd of 0 never wins).
constexpr int kCodecTile = 16;

// kCodecTile lanes of floats and of ints, as one vector register on the CPU
// (GCC's vector extensions: the compiler's auto-vectoriser keeps arrays of
// lanes in memory, at a fifth of the speed) and as plain arrays under nvcc,
// where each thread runs the lanes in turn. The scan below is written once
// over them.
#if defined(__CUDACC__)
struct CodecLanes {
  float v[kCodecTile];
};
struct CodecLaneInts {
  int v[kCodecTile];
};
SF_HD CodecLanes lanes_load(const float* p) {
  CodecLanes r;
  for (int j = 0; j < kCodecTile; ++j) r.v[j] = p[j];
  return r;
}
SF_HD CodecLanes lanes_splat(float x) {
  CodecLanes r;
  for (int j = 0; j < kCodecTile; ++j) r.v[j] = x;
  return r;
}
SF_HD CodecLaneInts lanes_splat_int(int x) {
  CodecLaneInts r;
  for (int j = 0; j < kCodecTile; ++j) r.v[j] = x;
  return r;
}
SF_HD float lane(const CodecLanes& a, int j) { return a.v[j]; }
SF_HD int lane(const CodecLaneInts& a, int j) { return a.v[j]; }
// acc + x * t
SF_HD CodecLanes lanes_fma(const CodecLanes& acc, float x, const CodecLanes& t) {
  CodecLanes r;
  for (int j = 0; j < kCodecTile; ++j) r.v[j] = acc.v[j] + x * t.v[j];
  return r;
}
// The gain of the clamped least-squares map, lane by lane (see the scan).
SF_HD CodecLanes lanes_gain(const CodecLanes& acc, const CodecLanes& S, float mr, const CodecLanes& I, const CodecLanes& V, float smax) {
  CodecLanes r;
  for (int j = 0; j < kCodecTile; ++j) {
    const float cov = acc.v[j] - S.v[j] * mr;
    float sc = cov * I.v[j];
    sc = sc > smax ? smax : (sc < -smax ? -smax : sc);
    r.v[j] = sc * (sc * V.v[j] - 2.0f * cov);
  }
  return r;
}
// Where g < be: be = g and bt = t.
SF_HD void lanes_keep_min(CodecLanes& be, CodecLaneInts& bt, const CodecLanes& g, int t) {
  for (int j = 0; j < kCodecTile; ++j)
    if (g.v[j] < be.v[j]) {
      be.v[j] = g.v[j];
      bt.v[j] = t;
    }
}
#else
static_assert(kCodecTile == kLanes16, "a tile is one vector of lanes");
typedef Lanes16 CodecLanes;
typedef LaneInts16 CodecLaneInts;
inline CodecLanes lanes_splat(float x) { return CodecLanes{} + x; }
inline CodecLaneInts lanes_splat_int(int x) { return CodecLaneInts{} + x; }
inline float lane(const CodecLanes& a, int j) { return a[j]; }
inline int lane(const CodecLaneInts& a, int j) { return a[j]; }
inline CodecLanes lanes_fma(const CodecLanes& acc, float x, const CodecLanes& t) { return acc + x * t; }
inline CodecLanes lanes_gain(const CodecLanes& acc, const CodecLanes& S, float mr, const CodecLanes& I, const CodecLanes& V, float smax) {
  const CodecLanes cov = acc - S * mr;
  CodecLanes sc = cov * I;
  const CodecLanes hi = lanes_splat(smax), lo = lanes_splat(-smax);
  sc = lanes_select(sc > hi, hi, sc);
  sc = lanes_select(sc < lo, lo, sc);
  return sc * (sc * V - 2.0f * cov);
}
inline void lanes_keep_min(CodecLanes& be, CodecLaneInts& bt, const CodecLanes& g, int t) {
  const CodecLaneInts better = g < be;
  bt = lanes_select(better, lanes_splat_int(t), bt);
  be = lanes_select(better, g, be);
}
#endif

// The best candidate of tiles [t0, t1) for each of kCodecGroup ranges of
// one class (R[m]: N pixels, mean mr[m]), by the error of the unquantized
// least-squares map with s clamped to the coded range (vr - 2 s cov +
// s^2 vd), i.e. the largest gain over the flat map: pos[m] is its position
// (tile * kCodecTile + lane), or -1 if none gains, and gain[m] (<= 0) its
// gain; ties go to the earlier position. civd is 1 / vd (0 for padding).
// The ranges share every tile loaded (the search is a small matrix product,
// and reads the tiles once per group rather than once per range).
constexpr int kCodecGroup = 4;

template <int N>
SF_HD void codec_scan_group_n(const float* const* R, const float* mr, const float* tiles, const float* csum, const float* cvd,
                              const float* civd, idx t0, idx t1, float* gain, int* pos) {
  const float smax = kCodecScaleLevels / 16.0f;
  CodecLanes be[kCodecGroup];
  CodecLaneInts bt[kCodecGroup];
  for (int m = 0; m < kCodecGroup; ++m) {
    be[m] = lanes_splat(0.0f);
    bt[m] = lanes_splat_int(-1);
  }
  for (idx t = t0; t < t1; ++t) {
    const float* T = tiles + t * N * kCodecTile;
    CodecLanes acc[kCodecGroup];
    for (int m = 0; m < kCodecGroup; ++m) acc[m] = lanes_splat(0.0f);
    for (int k = 0; k < N; ++k) {
      const CodecLanes tk = lanes_load(T + k * kCodecTile);
      for (int m = 0; m < kCodecGroup; ++m) acc[m] = lanes_fma(acc[m], R[m][k], tk);
    }
    const CodecLanes S = lanes_load(csum + t * kCodecTile), V = lanes_load(cvd + t * kCodecTile), I = lanes_load(civd + t * kCodecTile);
    for (int m = 0; m < kCodecGroup; ++m) lanes_keep_min(be[m], bt[m], lanes_gain(acc[m], S, mr[m], I, V, smax), (int)t);
  }
  for (int m = 0; m < kCodecGroup; ++m) {
    float e = 0.0f;
    int p = -1;
    for (int j = 0; j < kCodecTile; ++j) {
      const int tj = lane(bt[m], j);
      const int pj = tj < 0 ? -1 : tj * kCodecTile + j;
      const float ej = lane(be[m], j);
      if (pj >= 0 && (ej < e || (ej == e && pj < p))) {
        e = ej;
        p = pj;
      }
    }
    gain[m] = e;
    pos[m] = p;
  }
}

// Merges the best of a later run of tiles (g2, p2) into (g, p): the lower
// gain, and on a tie the lower position, as one scan of both runs chooses.
SF_HD void codec_keep_best(float* g, int* p, const float* g2, const int* p2) {
  for (int m = 0; m < kCodecGroup; ++m)
    if (p2[m] >= 0 && (g2[m] < g[m] || (g2[m] == g[m] && p2[m] < p[m]))) {
      g[m] = g2[m];
      p[m] = p2[m];
    }
}

SF_HD void codec_scan_group(const float* const* R, int n2, const float* mr, const float* tiles, const float* csum, const float* cvd,
                            const float* civd, idx t0, idx t1, float* gain, int* pos) {
  switch (n2) {
    case 16: codec_scan_group_n<16>(R, mr, tiles, csum, cvd, civd, t0, t1, gain, pos); break;
    case 64: codec_scan_group_n<64>(R, mr, tiles, csum, cvd, civd, t0, t1, gain, pos); break;
    case 256: codec_scan_group_n<256>(R, mr, tiles, csum, cvd, civd, t0, t1, gain, pos); break;
    default: codec_scan_group_n<1024>(R, mr, tiles, csum, cvd, civd, t0, t1, gain, pos); break;
  }
}

// The quantized map of range R onto table entry c (domain * 8 + isometry),
// or the flat map when that is no worse.
SF_HD CodecMatch codec_refit(const float* R, int n2, const float* table, const float* dsum, const float* dsq, int c) {
  double sr = 0, srr = 0;
  for (int k = 0; k < n2; ++k) {
    sr += R[k];
    srr += (double)R[k] * R[k];
  }
  CodecFit flat = codec_fit(n2, sr, srr, 0, 0, 0);
  CodecMatch m;
  m.err = flat.err;
  m.err0 = flat.err;
  m.cand = -1;
  m.sq = kCodecScaleZero;
  m.mq = flat.mq;
  if (c >= 0) {
    int dom = c >> 3;
    CodecFit f = codec_fit(n2, sr, srr, dsum[dom], dsq[dom], (double)codec_dot(R, table + (idx)c * n2, n2));
    if (f.err < m.err && f.sq != kCodecScaleZero) {
      m.err = f.err;
      m.cand = c;
      m.sq = f.sq;
      m.mq = f.mq;
    }
  }
  return m;
}

}  // namespace sf
