// The reductions of the pair engine (native/points/engine.h), written once
// for every execution: per target i of problem p, an accumulator Acc is
// begun, fed the formula's value g of each pair (i, j) in source order, and
// ended. Slots number the (problem, target) pairs, so one target array can
// serve many problems (set comparisons) and each gets its own result.
//
//   SumR      out[slot, c] = f sum_j g_ij v[j, c]            (weighted sums)
//   HelmSumR  out[slot] = sum_j w_j exp(i k r) / sqrt(r^2 + e^2) (complex, fp64)
//   SpectrumR out[slot, q] = sum_j w_j G_{k_q}(r_ij) for every frequency q
//   SoftmaxR  out[i] = sum_j softmax_j(g_ij + bias_j) v_j  (online, max-shifted)
//   ShiftR    mean-shift moments sum_j w_j g_ij (y_j, 1)
//   GradR     gradient sums f sum_j w_j h_ij (x_i - y_j)      (h = G'(r) / r)
//   KnnR      the k nearest sources by squared distance (itself excluded)
//   ArgminR   the nearest source and its squared distance
//   AttnGradR attention's dQ (queries as targets) or dK and dV (keys as
//             targets), the softmax recomputed from each query's log-sum-exp
// (with the formulas DistF, FlatF and DotF defined here beside them).
//
// A formula of metric PM_R2_SHIFTED (a value off by a per-target constant)
// pairs only with a reduction that declares shift_invariant (the softmax):
// the engine refuses any other pairing at compile time.
//
// The engine may hand a formula points scaled by 1 / s (see pairs_k.h);
// rescaled(s, factor) gives the reduction that undoes it (f, or s^2 for the
// reductions that read squared distances). On the CPU tiles a reduction may
// add a vectorised tile() of the same arithmetic (engine.h); on the GPU and
// the plain loops pair() is all there is.
#pragma once
#include <math.h>

#include "pairs_k.h"
#include "sf_config.h"

namespace sf {

// A formula that is the squared distance itself (KnnR, ArgminR, the fp64
// reductions that evaluate their kernel from r^2).
struct DistF {
  static constexpr int metric = PM_R2;
  SF_HD float operator()(float r2) const { return r2 > 0.0f ? r2 : 0.0f; }
  DistF rescaled(double s, double& factor) const {
    factor = s * s;
    return *this;
  }
  bool representable_as(const DistF&) const { return true; }
};

// The flat mean-shift kernel: 1 inside the ball of radius b, 0 outside.
struct FlatF {
  static constexpr int metric = PM_R2;
  float b2 = 1.0f;
  SF_HD float operator()(float r2) const { return r2 <= b2 ? 1.0f : 0.0f; }
  FlatF rescaled(double s, double& factor) const {
    FlatF f = *this;
    f.b2 = (float)(b2 / (s * s));
    factor = 1.0;
    return f;
  }
  bool representable_as(const FlatF&) const { return isfinite(b2); }
};

struct SumR {
  static constexpr bool shift_invariant = false;
  const float* v = nullptr;  // [sources, C], or null for C = 1: weights 1
  int C = 1;
  idx m = 0;                 // rows of v (the CPU tiles keep a padded copy when C > 1)
  double* out = nullptr;     // [slots, C]
  double factor = 1.0;
  struct Acc {
    double s;  // C == 1
  };
  SumR rescaled(double, double f) const {
    SumR r = *this;
    r.factor = factor * f;
    return r;
  }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.s = 0;
    if (C > 1)
      for (int c = 0; c < C; ++c) out[slot * C + c] = 0;
  }
  SF_HD void pair(Acc& a, idx, idx slot, idx j, float g) const {
    if (C == 1) {
      a.s += (double)g * (v ? (double)v[j] : 1.0);
      return;
    }
    double* o = out + slot * C;
    const float* vj = v + j * C;
    for (int c = 0; c < C; ++c) o[c] += (double)g * (double)vj[c];
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    if (C == 1) {
      out[slot] = factor * a.s;
      return;
    }
    for (int c = 0; c < C; ++c) out[slot * C + c] *= factor;
  }
};

// Complex helmholtz sums from the squared distance (formula DistF) in fp64.
struct HelmSumR {
  static constexpr bool shift_invariant = false;
  const float* w = nullptr;  // [sources] or null
  double kre = 0, kim = 0, eps2 = 0;
  double s2 = 1.0;  // r^2 = s2 * (the value handed in)
  double* out = nullptr;  // [slots, 2]
  struct Acc {
    double re, im;
  };
  HelmSumR rescaled(double, double f) const {
    HelmSumR r = *this;
    r.s2 = f;
    return r;
  }
  SF_HD void begin(Acc& a, idx, idx) const { a.re = a.im = 0; }
  SF_HD void pair(Acc& a, idx, idx, idx j, float r2) const {
    double wj = w ? (double)w[j] : 1.0;
    if (wj == 0.0) return;
    double gr, gi;
    helmholtz_r2(kre, kim, eps2, s2 * (double)r2, gr, gi);
    a.re += wj * gr;
    a.im += wj * gi;
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    out[2 * slot] = a.re;
    out[2 * slot + 1] = a.im;
  }
};

// The resonance sweep: per target, sum_j w_j G_{k_q}(r_ij) for nw wavenumbers
// (each pair's distance read once for all of them); accumulated in out.
struct SpectrumR {
  static constexpr bool shift_invariant = false;
  const float* w = nullptr;
  const double* kre = nullptr;  // [nw]
  const double* kim = nullptr;
  int nw = 0;
  double eps2 = 0, s2 = 1.0;
  double* out = nullptr;  // [slots, nw, 2]
  struct Acc {
    double* o;
  };
  SpectrumR rescaled(double, double f) const {
    SpectrumR r = *this;
    r.s2 = f;
    return r;
  }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.o = out + slot * 2 * nw;
    for (int q = 0; q < 2 * nw; ++q) a.o[q] = 0;
  }
  SF_HD void pair(Acc& a, idx, idx, idx j, float r2s) const {
    double wj = w ? (double)w[j] : 1.0;
    if (wj == 0.0) return;
    double r2 = s2 * (double)r2s;
    double r = sqrt(r2), amp = wj / sqrt(r2 + eps2);
    for (int q = 0; q < nw; ++q) {
      double m = amp * exp(-kim[q] * r), ph = kre[q] * r;
      a.o[2 * q] += m * cos(ph);
      a.o[2 * q + 1] += m * sin(ph);
    }
  }
  SF_HD void end(Acc&, idx, idx) const {}
};

// Online softmax with value accumulation (the max-shifted running sum of
// FlashAttention): per query the running max m, the running sum l and the
// unnormalised output o (the output row itself) are rescaled by exp(m - m')
// when the max grows to m'. Problems are (batch, head) pairs of n queries
// and m keys each; key j of a head is seen by its query i when the mask
// allows and, if causal, j <= i + shift (shift = m - n: bottom-right
// alignment; 0: top-left).
struct SoftmaxR {
  static constexpr bool shift_invariant = true;  // a per-query constant cancels
  const float* v = nullptr;     // [problems, m, dv]
  const float* bias = nullptr;  // [problems, m] or null
  const uint8_t* mask = nullptr;  // [batch, m] or null
  int heads = 1, dv = 1;
  idx n = 0, m = 0;
  bool causal = false;
  idx shift = 0;
  float* out = nullptr;  // [problems, n, dv]
  float* lse = nullptr;  // [problems, n] or null: the log-sum-exp of each query's logits
  struct Acc {
    float mx, l;
  };
  SoftmaxR rescaled(double, double) const { return *this; }
  // How many keys of problem p the queries up to slot see (causal skipping).
  SF_HD idx keys_needed(idx p, idx last_slot) const {
    if (!causal) return m;
    idx lim = last_slot - p * n + shift + 1;
    return lim < m ? (lim > 0 ? lim : 0) : m;
  }
  SF_HD bool seen(idx p, idx slot, idx j) const {
    idx jl = j - p * m;
    if (mask && !mask[(p / heads) * m + jl]) return false;
    return !causal || jl <= slot - p * n + shift;
  }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.mx = -INFINITY;
    a.l = 0.0f;
    float* o = out + slot * dv;
    for (int c = 0; c < dv; ++c) o[c] = 0.0f;
  }
  SF_HD void pair(Acc& a, idx p, idx slot, idx j, float g) const {
    if (!seen(p, slot, j)) return;
    float s = g + (bias ? bias[j] : 0.0f);
    float* o = out + slot * dv;
    if (s > a.mx) {
      float scale = a.mx == -INFINITY ? 0.0f : sf_expf(a.mx - s);
      for (int c = 0; c < dv; ++c) o[c] *= scale;
      a.l *= scale;
      a.mx = s;
    }
    float e = sf_expf(s - a.mx);
    a.l += e;
    const float* vj = v + j * dv;
    for (int c = 0; c < dv; ++c) o[c] += e * vj[c];
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    float inv = a.l > 0.0f ? 1.0f / a.l : 0.0f;
    float* o = out + slot * dv;
    for (int c = 0; c < dv; ++c) o[c] *= inv;
    if (lse) lse[slot] = a.l > 0.0f ? a.mx + logf(a.l) : -INFINITY;
  }
};

// The inner product as a pair formula (attention's gradients read it raw).
struct DotF {
  static constexpr int metric = PM_DOT;
  SF_HD float operator()(float v) const { return v; }
  DotF rescaled(double s, double& factor) const {
    factor = s * s;
    return *this;
  }
  bool representable_as(const DotF&) const { return true; }
};

// A logit of kind LK from the pair's inner product (dot) or squared distance
// (the rest), with what its gradients need: c = ds/dv' where the logit moves
// with the query as c (q - k) (distances) or c k (dot), and ds/dtheta for the
// kind's own parameter (beta; sigma for gaussian).
template <int LK>
struct AttnLogit {
  static SF_HD float s(const KernelSpec& k, float beta, float v) {
    if (LK == A_DOT) return beta * v;
    if (LK == K_GAUSSIAN) return -v * k.inv2s2;
    return beta * Kernel<(LK == A_DOT || LK == K_GAUSSIAN) ? K_ENERGY : LK>::of_r2(k, v > 0.0f ? v : 0.0f);
  }
  static SF_HD float c(const KernelSpec& k, float beta, float v) {
    if (LK == A_DOT) return beta;
    if (LK == K_GAUSSIAN) return -2.0f * k.inv2s2;
    return beta * Kernel<(LK == A_DOT || LK == K_GAUSSIAN) ? K_ENERGY : LK>::dr_over_r(k, v > 0.0f ? v : 0.0f);
  }
  // s0 = the logit less its bias: ds/dbeta = s0 / beta; gaussian ds/dsigma = -2 s0 / sigma.
  static SF_HD float dtheta(const KernelSpec& k, float beta, float s0) {
    if (LK == K_GAUSSIAN) return -2.0f * s0 * sqrtf(2.0f * k.inv2s2);
    return beta != 0.0f ? s0 / beta : 0.0f;
  }
};

// Attention's gradients, one pass each way (targets the queries for dQ and
// the parameter, the keys for dK and dV), the softmax recomputed from each
// query's log-sum-exp: P = exp(s - lse), dP = dout_i . v_j,
// dS = P (dP - D_i) with D_i = dout_i . out_i; e = dS c; the target's sum
// z = sum e and moment sum e y (y the other side's points) give
// dq = z q - moment (distances) or the moment (dot), and likewise for dk.
template <int LK>
struct AttnGradR {
  static constexpr bool shift_invariant = false;
  KernelSpec k{};
  float beta = 1.0f;
  bool keys_are_targets = false;  // the second pass
  int problems = 1, heads = 1, d = 0, dv = 1;
  idx n = 0, m = 0;
  bool causal = false;
  idx shift = 0;
  const uint8_t* mask = nullptr;  // [batch, m]
  const float* bias = nullptr;    // [problems, m]
  const float* q = nullptr;       // [problems, n, d]
  const float* key = nullptr;     // [problems, m, d]
  const float* v = nullptr;       // [problems, m, dv]
  const float* dout = nullptr;    // [problems, n, dv]
  const float* lse = nullptr;     // [problems, n]
  const float* D = nullptr;       // [problems, n]
  float* mom = nullptr;           // [slots, d] scratch
  float* grad = nullptr;          // [slots, d]: dq (first pass) or dk
  float* gv = nullptr;            // [slots, dv]: dv (second pass)
  double* dtheta = nullptr;       // [slots]: the first pass's (or the one pass's on the CPU)
  double s2 = 1.0;                // the pair value is s2 times the one handed in
  struct Acc {
    double z, t;
  };
  AttnGradR rescaled(double, double f) const {
    AttnGradR r = *this;
    r.s2 = f;
    return r;
  }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.z = a.t = 0;
    for (int c = 0; c < d; ++c) mom[slot * d + c] = 0.0f;
    if (keys_are_targets)
      for (int c = 0; c < dv; ++c) gv[slot * dv + c] = 0.0f;
  }
  // slot and j: (query, key) in the first pass, (key, query) in the second.
  SF_HD void pair(Acc& a, idx p, idx slot, idx j, float val) const {
    const idx qi = keys_are_targets ? j : slot, kj = keys_are_targets ? slot : j;
    const idx il = qi - p * n, jl = kj - p * m;
    if (mask && !mask[(p / heads) * m + jl]) return;
    if (causal && jl > il + shift) return;
    const float vv = (float)(s2 * (double)val);
    const float s0 = AttnLogit<LK>::s(k, beta, vv);
    const float P = expf(s0 + (bias ? bias[kj] : 0.0f) - lse[qi]);
    const float* go = dout + qi * dv;
    const float* vj = v + kj * dv;
    float dP = 0.0f;
    for (int c = 0; c < dv; ++c) dP += go[c] * vj[c];
    const float dS = P * (dP - D[qi]);
    const float e = dS * AttnLogit<LK>::c(k, beta, vv);
    a.z += e;
    const float* other = keys_are_targets ? q + qi * d : key + kj * d;
    for (int c = 0; c < d; ++c) mom[slot * d + c] += e * other[c];
    if (keys_are_targets)
      for (int c = 0; c < dv; ++c) gv[slot * dv + c] += P * go[c];
    else
      a.t += (double)dS * AttnLogit<LK>::dtheta(k, beta, s0);
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    const float* self = keys_are_targets ? key + slot * d : q + slot * d;
    for (int c = 0; c < d; ++c)
      grad[slot * d + c] = LK == A_DOT ? mom[slot * d + c] : (float)(a.z * (double)self[c] - (double)mom[slot * d + c]);
    if (dtheta) dtheta[slot] = a.t;
  }
};

// Mean-shift moments: z = sum_j w_j g_ij and sum_j w_j g_ij y_j, y the
// sources as given; next = the weighted mean (or the seed itself when z = 0).
struct ShiftR {
  static constexpr bool shift_invariant = false;
  const float* y = nullptr;  // [sources, d]
  const float* w = nullptr;  // [sources] or null
  const double* seeds = nullptr;  // [slots, d]: where each seed is now
  int d = 0;
  double* next = nullptr;  // [slots, d]
  double* z = nullptr;     // [slots]
  struct Acc {
    double z;
  };
  ShiftR rescaled(double, double) const { return *this; }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.z = 0;
    for (int c = 0; c < d; ++c) next[slot * d + c] = 0;
  }
  SF_HD void pair(Acc& a, idx, idx slot, idx j, float g) const {
    double kw = (double)g * (w ? (double)w[j] : 1.0);
    if (kw == 0.0) return;
    a.z += kw;
    for (int c = 0; c < d; ++c) next[slot * d + c] += kw * (double)y[j * d + c];
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    z[slot] = a.z;
    for (int c = 0; c < d; ++c)
      next[slot * d + c] = a.z > 0 ? next[slot * d + c] / a.z : seeds[slot * d + c];
  }
};

// Gradient sums out[slot] = f sum_j w_j h_ij (x_i - y_j) with the formula
// DerivF (h = G'(r) / r): z = sum_j c_j and the moment sum_j c_j y_j
// (c_j = w_j h_ij, the moment in fp32 in mom, as the tiles keep it), then
// z x_i - moment. x and y are the targets and sources centred alike (ops.h),
// so the difference does not cancel.
struct GradR {
  static constexpr bool shift_invariant = false;
  const float* x = nullptr;  // [slots, d]
  const float* y = nullptr;  // [sources, d]
  const float* w = nullptr;  // [sources] or null
  int d = 0;
  float* mom = nullptr;      // [slots, d] scratch
  double* out = nullptr;     // [slots, d]
  double factor = 1.0;
  struct Acc {
    double z;
  };
  GradR rescaled(double, double f) const {
    GradR r = *this;
    r.factor = factor * f;
    return r;
  }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.z = 0;
    for (int k = 0; k < d; ++k) mom[slot * d + k] = 0.0f;
  }
  SF_HD void pair(Acc& a, idx, idx slot, idx j, float h) const {
    const float c = h * (w ? w[j] : 1.0f);
    a.z += c;
    for (int k = 0; k < d; ++k) mom[slot * d + k] += c * y[j * d + k];
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    for (int k = 0; k < d; ++k)
      out[slot * d + k] = factor * (a.z * (double)x[slot * d + k] - (double)mom[slot * d + k]);
  }
};

// The gradient of a set's self-energy sum_ij w_i w_j G(r_ij) (targets ==
// sources): 2 w_i times the gradient sums, asked for as such so that an
// execution may take each pair once for both its points (the CPU tiles,
// engine.h); elsewhere every pair, as GradR.
struct GradSymR : GradR {
  idx points = 0;  // of the set
  GradSymR() = default;
  GradSymR(const GradR& r) : GradR(r) {}
  GradSymR rescaled(double s, double f) const {
    GradSymR t = *this;
    static_cast<GradR&>(t) = GradR::rescaled(s, f);
    return t;
  }
  SF_HD void end(Acc& a, idx p, idx slot) const {
    GradR::end(a, p, slot);
    const double f = 2.0 * (w ? (double)w[slot] : 1.0);
    for (int k = 0; k < d; ++k) out[slot * d + k] *= f;
  }
};

// The k nearest sources of every target (formula DistF), kept sorted by
// (r^2, index) in ids/r2 [slots, k]; with self set, source j == slot is
// skipped (one problem whose targets are its sources). Unfilled entries hold -1.
struct KnnR {
  static constexpr bool shift_invariant = false;
  int k = 1;
  bool self = false;
  int32_t* ids = nullptr;
  float* r2 = nullptr;
  struct Acc {
    int n;
  };
  KnnR rescaled(double, double) const { return *this; }
  SF_HD void begin(Acc& a, idx, idx slot) const {
    a.n = 0;
    for (int q = 0; q < k; ++q) ids[slot * k + q] = -1;
  }
  SF_HD void pair(Acc& a, idx, idx slot, idx j, float d2) const {
    if (self && j == slot) return;
    int32_t* id = ids + slot * k;
    float* rr = r2 + slot * k;
    if (a.n == k && !(d2 < rr[k - 1])) return;  // ties keep the earlier index
    int q = a.n < k ? a.n++ : k - 1;
    while (q > 0 && d2 < rr[q - 1]) {
      rr[q] = rr[q - 1];
      id[q] = id[q - 1];
      --q;
    }
    rr[q] = d2;
    id[q] = (int32_t)j;
  }
  SF_HD void end(Acc&, idx, idx) const {}
};

// The nearest source (the first on ties) and its squared distance, unscaled.
struct ArgminR {
  static constexpr bool shift_invariant = false;
  int32_t* arg = nullptr;  // [slots]
  float* best = nullptr;   // [slots]
  double s2 = 1.0;
  struct Acc {
    float b;
    idx a;
  };
  ArgminR rescaled(double, double f) const {
    ArgminR r = *this;
    r.s2 = f;
    return r;
  }
  SF_HD void begin(Acc& a, idx, idx) const {
    a.b = INFINITY;
    a.a = -1;
  }
  SF_HD void pair(Acc& a, idx, idx, idx j, float d2) const {
    if (d2 < a.b) {
      a.b = d2;
      a.a = j;
    }
  }
  SF_HD void end(Acc& a, idx, idx slot) const {
    arg[slot] = (int32_t)a.a;
    if (best) best[slot] = (float)(s2 * (double)a.b);
  }
};

}  // namespace sf
