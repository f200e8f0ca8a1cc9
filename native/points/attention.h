// Field attention on the CPU tiles with online softmax (one pass over the
// keys; running max, running sum and the weighted values are rescaled when
// the max grows). Per (batch, head): queries in groups of 4, keys in blocks
// of 32; the 4 x 32 logits come from the same dot-product tile as every pair
// sum, then p = exp(logit - max) weights the block's values. Distance kinds
// centre queries and keys on the keys' mean; the dot kind uses raw vectors.
#pragma once
#include <cmath>
#include <limits>
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "tiles.h"

namespace sf {
namespace points {

// One (batch, head): keys packed once, query groups over the exec's threads.
inline void attention_head(const CpuExec& ex, const AttentionJob& a, int b, int h) {
  const int d = a.d, dv = a.dv;
  const idx n = a.n, m = a.m;
  const size_t bh = (size_t)b * a.heads + h;
  const float* q = a.q + bh * n * d;
  const float* key = a.key + bh * m * d;
  const float* v = a.v + bh * m * dv;
  const float* bias = a.bias ? a.bias + bh * m : nullptr;
  const uint8_t* mask = a.mask ? a.mask + (size_t)b * m : nullptr;
  const bool dot = a.kind == A_DOT;
  std::vector<float> centre = dot ? std::vector<float>((size_t)d, 0.0f) : tiles::centre_of(key, m, d);
  tiles::Packed p = tiles::pack(key, m, d, centre.data(), nullptr);
  tiles::Targets t = tiles::centre_targets(q, n, d, centre.data());
  if (dot) {  // zero norms: the tiles then hold -2 q.k
    std::fill(p.norm.begin(), p.norm.end(), 0.0f);
    std::fill(t.norm.begin(), t.norm.end(), 0.0f);
  }
  const float NEG = -std::numeric_limits<float>::infinity();
  float* out = a.out + bh * n * dv;
  idx groups = (n + tiles::TI - 1) / tiles::TI;
  ex.for_ranges(groups, 1, [&](idx g0, idx g1) {
    std::vector<double> acc((size_t)tiles::TI * dv);
    std::vector<float> blk((size_t)dv);
    for (idx g = g0; g < g1; ++g) {
      if (a.cancel && *a.cancel) fail("E_ABORTED", "attention: aborted");
      idx i0 = g * tiles::TI;
      int rows = (int)std::min<idx>(tiles::TI, n - i0);
      double mx[tiles::TI], l[tiles::TI];
      for (int i = 0; i < tiles::TI; ++i) {
        mx[i] = NEG;
        l[i] = 0;
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      tiles::over_blocks(t, p, i0, rows, [&](idx bidx, float (&s)[tiles::TI][tiles::TJ]) {
        idx j0 = bidx * tiles::TJ;
        for (int i = 0; i < tiles::TI; ++i) {
          idx qi = i0 + i;
          for (int j = 0; j < tiles::TJ; ++j) {
            idx kj = j0 + j;
            bool ok = kj < m && (!mask || mask[kj]) && (!a.causal || kj <= qi + (m - n));
            float x = dot ? -0.5f * s[i][j] : s[i][j];
            s[i][j] = ok ? attention_logit(a, x) + (bias ? bias[kj] : 0.0f) : NEG;
          }
        }
        for (int i = 0; i < rows; ++i) {
          float bm = NEG;
          for (int j = 0; j < tiles::TJ; ++j) bm = s[i][j] > bm ? s[i][j] : bm;
          if (bm == NEG) continue;
          double mnew = bm > mx[i] ? (double)bm : mx[i];
          double scale = mx[i] == (double)NEG ? 0.0 : std::exp(mx[i] - mnew);
          std::fill(blk.begin(), blk.end(), 0.0f);
          float psum = 0.0f;
          for (int j = 0; j < tiles::TJ; ++j) {
            if (s[i][j] == NEG) continue;
            float pj = sf_expf(s[i][j] - (float)mnew);
            psum += pj;
            const float* vj = v + (size_t)(j0 + j) * dv;
            for (int c = 0; c < dv; ++c) blk[c] += pj * vj[c];
          }
          double* ac = acc.data() + (size_t)i * dv;
          for (int c = 0; c < dv; ++c) ac[c] = ac[c] * scale + (double)blk[c];
          l[i] = l[i] * scale + psum;
          mx[i] = mnew;
        }
      }, !dot);
      for (int i = 0; i < rows; ++i) {
        float* o = out + (size_t)(i0 + i) * dv;
        const double* ac = acc.data() + (size_t)i * dv;
        for (int c = 0; c < dv; ++c) o[c] = l[i] > 0 ? (float)(ac[c] / l[i]) : 0.0f;
      }
    }
  });
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
