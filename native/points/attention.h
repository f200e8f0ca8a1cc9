// Field attention on the CPU tiles with online softmax (one pass over the
// keys; running max, running sum and the weighted values are rescaled when
// the max grows). Per (batch, head): queries in groups of 4, keys in blocks
// of 32; the 4 x 32 logits come from the same dot-product tile as every pair
// sum, then p = exp(logit - max) weights the block's values. Distance kinds
// centre queries and keys on the keys' mean; the dot kind uses raw vectors.
#pragma once
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "tiles.h"

namespace sf {
namespace points {

constexpr int QR = 8;       // query rows per dot-product tile
constexpr int QG = 4 * QR;  // query rows sharing each pass over a key block

// Values are accumulated 16 columns to a vector (GCC vector extension: one
// AVX-512 register, or two or four narrower ones where the CPU has those).
typedef float f32x16 __attribute__((vector_size(64)));

// NV vectors of columns [c0, c0 + 16 NV) for R rows at once: R * NV
// independent accumulators, so the FMAs are not one serial chain.
template <int R, int NV>
inline void pv_chunk(float* const* acc, const float* const* p, const float* vb, int dv, int c0) {
  f32x16 t[R][NV];
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < NV; ++k) std::memcpy(&t[r][k], acc[r] + c0 + 16 * k, sizeof(f32x16));
  for (int j = 0; j < tiles::TJ; ++j) {
    f32x16 vr[NV];
    for (int k = 0; k < NV; ++k) std::memcpy(&vr[k], vb + (size_t)j * dv + c0 + 16 * k, sizeof(f32x16));
    for (int r = 0; r < R; ++r) {
      const float pj = p[r][j];
      for (int k = 0; k < NV; ++k) t[r][k] += pj * vr[k];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < NV; ++k) std::memcpy(acc[r] + c0 + 16 * k, &t[r][k], sizeof(f32x16));
}

// acc[r][c] += sum_j p[r][j] v[j][c] for R rows and one block of TJ value rows.
template <int R>
inline void accumulate_pv(float* const* acc, const float* const* p, const float* vb, int dv) {
  int c0 = 0;
  for (; c0 + 64 <= dv; c0 += 64) pv_chunk<R, 4>(acc, p, vb, dv, c0);
  for (; c0 + 16 <= dv; c0 += 16) pv_chunk<R, 1>(acc, p, vb, dv, c0);
  for (; c0 < dv; ++c0)
    for (int r = 0; r < R; ++r) {
      float t = acc[r][c0];
      for (int j = 0; j < tiles::TJ; ++j) t += p[r][j] * vb[(size_t)j * dv + c0];
      acc[r][c0] = t;
    }
}

// One (batch, head): keys packed once, groups of QG queries over the exec's
// threads. Per key block the QG x 32 logits come from QG/QR dot-product tiles;
// each row's running max, sum and fp32 accumulator are rescaled when its max
// grows; the block's values are then read once for all QG rows.
template <int KIND>
void attention_head_kind(const CpuExec& ex, const AttentionJob& a, int b, int h) {
  const int d = a.d, dv = a.dv;
  const idx n = a.n, m = a.m;
  const size_t bh = (size_t)b * a.heads + h;
  const float* q = a.q + bh * n * d;
  const float* key = a.key + bh * m * d;
  const float* v = a.v + bh * m * dv;
  const float* bias = a.bias ? a.bias + bh * m : nullptr;
  const uint8_t* mask = a.mask ? a.mask + (size_t)b * m : nullptr;
  constexpr bool dot = KIND == A_DOT;
  std::vector<float> centre = dot ? std::vector<float>((size_t)d, 0.0f) : tiles::centre_of(key, m, d);
  tiles::Packed p = tiles::pack(key, m, d, centre.data(), nullptr);
  tiles::Targets t = tiles::centre_targets(q, n, d, centre.data());
  if (dot) {  // zero norms: the tiles then hold -2 q.k
    std::fill(p.norm.begin(), p.norm.end(), 0.0f);
    std::fill(t.norm.begin(), t.norm.end(), 0.0f);
  }
  const float NEG = -std::numeric_limits<float>::infinity();
  // Per key: the bias, or -inf where the key is padding or masked out.
  std::vector<float> add((size_t)(p.blocks * tiles::TJ), NEG);
  for (idx j = 0; j < m; ++j) add[(size_t)j] = (mask && !mask[j]) ? NEG : (bias ? bias[j] : 0.0f);
  // Values padded to whole blocks (zeros), so a block's rows are always there.
  std::vector<float> vp((size_t)(p.blocks * tiles::TJ * dv), 0.0f);
  std::copy(v, v + (size_t)m * dv, vp.begin());
  float* out = a.out + bh * n * dv;
  idx groups = (n + QG - 1) / QG;
  ex.for_ranges(groups, 1, [&](idx g0, idx g1) {
    std::vector<float> acc((size_t)QG * dv);
    float P[QG][tiles::TJ];
    float S[QR][tiles::TJ];
    for (idx g = g0; g < g1; ++g) {
      if (a.cancel && *a.cancel) fail("E_ABORTED", "attention: aborted");
      idx r0 = g * QG;
      int rows = (int)std::min<idx>(QG, n - r0);
      float mx[QG], l[QG];
      for (int i = 0; i < QG; ++i) {
        mx[i] = NEG;
        l[i] = 0.0f;
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      const float* xr[QG];
      float xn[QG];
      for (int i = 0; i < QG; ++i) {
        idx r = r0 + std::min(i, rows - 1);
        xr[i] = t.x.data() + (size_t)(r * d);
        xn[i] = t.norm[(size_t)r];
      }
      // With a causal mask, key blocks past the last row's limit are skipped.
      idx blocks = p.blocks;
      if (a.causal) blocks = std::min<idx>(p.blocks, (r0 + rows - 1 + (m - n)) / tiles::TJ + 1);
      for (idx blk = 0; blk < blocks; ++blk) {
        const float* yb = p.y.data() + (size_t)(blk * d * tiles::TJ);
        const float* yn = p.norm.data() + (size_t)(blk * tiles::TJ);
        const float* ab = add.data() + blk * tiles::TJ;
        idx j0 = blk * tiles::TJ;
        for (int sub = 0; sub * QR < rows; ++sub) {
          const float* const* xs = xr + sub * QR;
          const float* xns = xn + sub * QR;
          tiles::dot_tile<QR>(xs, yb, d, S);
          tiles::to_r2<QR>(S, xns, yn);
          if (!dot) tiles::refine_close<QR>(xs, xns, yb, yn, d, S);
          for (int ii = 0; ii < QR; ++ii) {
            int i = sub * QR + ii;
            float* Pi = P[i];
            for (int j = 0; j < tiles::TJ; ++j) Pi[j] = logit_of<KIND>(a, dot ? -0.5f * S[ii][j] : S[ii][j]) + ab[j];
            if (a.causal) {
              idx lim = r0 + i + (m - n) - j0;  // keys j <= lim are seen
              for (int j = 0; j < tiles::TJ; ++j)
                if (j > lim) Pi[j] = NEG;
            }
            float bm = NEG;
            for (int j = 0; j < tiles::TJ; ++j) bm = Pi[j] > bm ? Pi[j] : bm;
            if (bm == NEG) {
              for (int j = 0; j < tiles::TJ; ++j) Pi[j] = 0.0f;
              continue;
            }
            if (bm > mx[i]) {  // the running max grows: rescale what was summed
              float scale = mx[i] == NEG ? 0.0f : sf_expf(mx[i] - bm);
              float* ai = acc.data() + (size_t)i * dv;
              for (int c = 0; c < dv; ++c) ai[c] *= scale;
              l[i] *= scale;
              mx[i] = bm;
            }
            const float mi = mx[i];
            float ps = 0.0f;
            for (int j = 0; j < tiles::TJ; ++j) {
              float e = sf_expf(Pi[j] - mi);  // -inf - mi gives 0
              Pi[j] = e;
              ps += e;
            }
            l[i] += ps;
          }
        }
        const float* vb = vp.data() + (size_t)j0 * dv;
        int i = 0;
        for (; i + 4 <= rows; i += 4) {
          float* a4[4] = {acc.data() + (size_t)i * dv, acc.data() + (size_t)(i + 1) * dv,
                          acc.data() + (size_t)(i + 2) * dv, acc.data() + (size_t)(i + 3) * dv};
          const float* p4[4] = {P[i], P[i + 1], P[i + 2], P[i + 3]};
          accumulate_pv<4>(a4, p4, vb, dv);
        }
        for (; i < rows; ++i) {
          float* a1[1] = {acc.data() + (size_t)i * dv};
          const float* p1[1] = {P[i]};
          accumulate_pv<1>(a1, p1, vb, dv);
        }
      }
      for (int i = 0; i < rows; ++i) {
        float* o = out + (size_t)(r0 + i) * dv;
        const float* ai = acc.data() + (size_t)i * dv;
        const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
        for (int c = 0; c < dv; ++c) o[c] = ai[c] * inv;
      }
    }
  });
}

inline void attention_head(const CpuExec& ex, const AttentionJob& a, int b, int h) {
  switch (a.kind) {
    case A_DOT: return attention_head_kind<A_DOT>(ex, a, b, h);
    case A_GAUSSIAN: return attention_head_kind<A_GAUSSIAN>(ex, a, b, h);
    case A_ENERGY: return attention_head_kind<A_ENERGY>(ex, a, b, h);
    case A_COULOMB: return attention_head_kind<A_COULOMB>(ex, a, b, h);
    default: return attention_head_kind<A_YUKAWA>(ex, a, b, h);
  }
}

// Many heads: one per thread; few: one after another, their queries shared out.
inline void attention_cpu(const AttentionJob& a) {
  int items = a.batch * a.heads;
  if (items >= 2 * ThreadPool::instance().size()) {
    ThreadPool::instance().run(items, [&](int it) {
      CpuExec ex(false);
      attention_head(ex, a, it / a.heads, it % a.heads);
    });
  } else {
    CpuExec ex;
    for (int it = 0; it < items; ++it) attention_head(ex, a, it / a.heads, it % a.heads);
  }
}

}  // namespace points
}  // namespace sf
