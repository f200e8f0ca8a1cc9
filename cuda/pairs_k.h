// The formulas of the points view: the per-pair body of every pair operation,
// written once for the CPU tiles, the plain loops and the GPU threads.
//
// Kernels G(r), r = |x - y| in any dimension (SPEC, Points):
//   coulomb   1 / sqrt(r^2 + e^2)
//   yukawa    exp(-kappa r) / sqrt(r^2 + e^2)
//   gaussian  exp(-r^2 / (2 s^2))
//   energy    -r
//   matern32  (1 + a) exp(-a),            a = sqrt(3) r / l
//   matern52  (1 + a + a^2 / 3) exp(-a),  a = sqrt(5) r / l
//   laplacian exp(-r / l)
//   helmholtz exp(i k r) / sqrt(r^2 + e^2), complex k with Im k >= 0 (fp64,
//             sums only: see helmholtz_r2)
// Each kernel also gives h(r) = G'(r) / r (dr_over_r), from which every
// gradient follows: d/dx G(|x - y|) = h(r) (x - y). Where G has a cusp at
// r = 0 (energy, laplacian, yukawa's exp(-kappa r)) h(0) is taken as 0: the
// subgradient 0, never an infinity times a zero difference.
//
// Each real kernel is a specialisation Kernel<K> of a template that has no
// general definition, listed once in SF_REAL_KERNELS: a kind listed without
// its formula, or a formula the dispatch does not list, does not compile, and
// the run-time dispatch (native/points/engine.h) rejects an unknown kind with
// an error instead of falling back to another kernel.
//
// Attention logits (Logit<K>) reuse the kernels: dot beta q.k, gaussian
// -r^2 / (2 s^2) (the log of the kernel), every other kind beta G(r).
//
// Inputs are squared distances that rounding may have made slightly negative
// (|x|^2 + |y|^2 - 2 x.y): they are clamped to 0 before any sqrt. Points of
// huge or tiny coordinates are scaled before squaring: rescaled() gives the
// formula in units of s and the factor its value is multiplied by.
#pragma once
#include <math.h>

#include "sf_config.h"

namespace sf {

// X(enum, name, positive weights, positive definite, needs eps)
#define SF_REAL_KERNELS(X)                     \
  X(K_COULOMB, "coulomb", true, true, true)    \
  X(K_YUKAWA, "yukawa", true, true, true)      \
  X(K_GAUSSIAN, "gaussian", true, true, false) \
  X(K_ENERGY, "energy", false, false, false)   \
  X(K_MATERN32, "matern32", true, true, false) \
  X(K_MATERN52, "matern52", true, true, false) \
  X(K_LAPLACIAN, "laplacian", true, true, false)

#define SF_KERNEL_ENUM(e, name, pos, pd, eps) e,
enum PairKernel : int { SF_REAL_KERNELS(SF_KERNEL_ENUM) K_HELMHOLTZ, K_COUNT };
#undef SF_KERNEL_ENUM
constexpr int A_DOT = K_COUNT;  // the attention-only kind: beta q.k

// Every parameter any kernel takes; each formula reads its own.
struct KernelSpec {
  int kind = K_GAUSSIAN;
  float eps2 = 0;    // softening e^2 (coulomb, yukawa, helmholtz)
  float kappa = 0;   // yukawa screening
  float inv2s2 = 0;  // gaussian 1 / (2 s^2)
  float inv_l = 0;   // matern32, matern52, laplacian 1 / l
  double kre = 0, kim = 0;  // helmholtz wavenumber
};

// exp(x) in fp32 without branches or library calls, so loops over it
// vectorise: x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a degree-6 polynomial
// (Cephes coefficients), 2^n through the exponent bits. Relative error below
// 2e-7 for x in [-87, 88]; 0 below -87.
SF_HD float sf_expf(float x) {
  const float lo = -87.0f, hi = 88.0f;
  float xc = x < lo ? lo : (x > hi ? hi : x);
  float n = floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int e = (int)n + 127;
  union {
    int i;
    float f;
  } u;
  u.i = e << 23;
  float v = p * u.f;
  return x < lo ? 0.0f : v;
}

// 1 / sqrt(x) for x > 0 without a division or a library call (vectorises):
// the exponent-halving first guess, then three Newton steps (relative error
// 3.4e-2 -> 1.8e-3 -> 4.6e-6 -> below fp32 rounding).
SF_HD float sf_rsqrtf(float x) {
  union {
    float f;
    int i;
  } u;
  u.f = x;
  u.i = 0x5f3759df - (u.i >> 1);
  float y = u.f;
  const float h = 0.5f * x;
  y = y * (1.5f - h * y * y);
  y = y * (1.5f - h * y * y);
  y = y * (1.5f - h * y * y);
  return y;
}

// sqrt(x) for x >= 0 as x / sqrt(x), through sf_rsqrtf (0 at 0).
SF_HD float sf_sqrtf(float x) { return x > 0.0f ? x * sf_rsqrtf(x) : 0.0f; }

template <int K>
struct Kernel;  // no general form: an unlisted kind does not compile

template <>
struct Kernel<K_COULOMB> {
  static SF_HD float of_r2(const KernelSpec& k, float r2) { return sf_rsqrtf(r2 + k.eps2); }
  static SF_HD float dr_over_r(const KernelSpec& k, float r2) {
    float q = sf_rsqrtf(r2 + k.eps2);
    return -q * q * q;
  }
  // G_s(r / s) = s G(r): the value in units of s is multiplied back by 1 / s.
  static void rescale(KernelSpec& k, double s, double& factor) {
    k.eps2 = (float)(k.eps2 / (s * s));
    factor = 1.0 / s;
  }
};
template <>
struct Kernel<K_YUKAWA> {
  static SF_HD float of_r2(const KernelSpec& k, float r2) {
    return sf_expf(-k.kappa * sf_sqrtf(r2)) * sf_rsqrtf(r2 + k.eps2);
  }
  static SF_HD float dr_over_r(const KernelSpec& k, float r2) {
    float ir = r2 > 0.0f ? sf_rsqrtf(r2) : 0.0f, q = sf_rsqrtf(r2 + k.eps2);
    return -sf_expf(-k.kappa * sf_sqrtf(r2)) * (k.kappa * q * ir + q * q * q);
  }
  static void rescale(KernelSpec& k, double s, double& factor) {
    k.eps2 = (float)(k.eps2 / (s * s));
    k.kappa = (float)(k.kappa * s);
    factor = 1.0 / s;
  }
};
template <>
struct Kernel<K_GAUSSIAN> {
  static SF_HD float of_r2(const KernelSpec& k, float r2) { return sf_expf(-r2 * k.inv2s2); }
  static SF_HD float dr_over_r(const KernelSpec& k, float r2) { return -2.0f * k.inv2s2 * sf_expf(-r2 * k.inv2s2); }
  static void rescale(KernelSpec& k, double s, double& factor) {
    k.inv2s2 = (float)(k.inv2s2 * s * s);
    factor = 1.0;
  }
};
template <>
struct Kernel<K_ENERGY> {
  static SF_HD float of_r2(const KernelSpec&, float r2) { return -sf_sqrtf(r2); }
  static SF_HD float dr_over_r(const KernelSpec&, float r2) { return r2 > 0.0f ? -sf_rsqrtf(r2) : 0.0f; }
  static void rescale(KernelSpec&, double s, double& factor) { factor = s; }
};
template <>
struct Kernel<K_MATERN32> {
  static SF_HD float of_r2(const KernelSpec& k, float r2) {
    float a = 1.7320508075688772f * k.inv_l * sf_sqrtf(r2);
    return (1.0f + a) * sf_expf(-a);
  }
  // G' = -3 r / l^2 exp(-a)
  static SF_HD float dr_over_r(const KernelSpec& k, float r2) {
    float a = 1.7320508075688772f * k.inv_l * sf_sqrtf(r2);
    return -3.0f * k.inv_l * k.inv_l * sf_expf(-a);
  }
  static void rescale(KernelSpec& k, double s, double& factor) {
    k.inv_l = (float)(k.inv_l * s);
    factor = 1.0;
  }
};
template <>
struct Kernel<K_MATERN52> {
  static SF_HD float of_r2(const KernelSpec& k, float r2) {
    float a = 2.2360679774997897f * k.inv_l * sf_sqrtf(r2);
    return (1.0f + a + a * a * (1.0f / 3.0f)) * sf_expf(-a);
  }
  // G' = -(5 r / (3 l^2)) (1 + a) exp(-a)
  static SF_HD float dr_over_r(const KernelSpec& k, float r2) {
    float a = 2.2360679774997897f * k.inv_l * sf_sqrtf(r2);
    return -(5.0f / 3.0f) * k.inv_l * k.inv_l * (1.0f + a) * sf_expf(-a);
  }
  static void rescale(KernelSpec& k, double s, double& factor) {
    k.inv_l = (float)(k.inv_l * s);
    factor = 1.0;
  }
};
template <>
struct Kernel<K_LAPLACIAN> {
  static SF_HD float of_r2(const KernelSpec& k, float r2) { return sf_expf(-k.inv_l * sf_sqrtf(r2)); }
  static SF_HD float dr_over_r(const KernelSpec& k, float r2) {
    return r2 > 0.0f ? -k.inv_l * sf_rsqrtf(r2) * sf_expf(-k.inv_l * sf_sqrtf(r2)) : 0.0f;
  }
  static void rescale(KernelSpec& k, double s, double& factor) {
    k.inv_l = (float)(k.inv_l * s);
    factor = 1.0;
  }
};

// How a formula reads a pair: the inner product, the squared distance, or
// the squared distance less the target's squared norm (|y|^2 - 2 x.y: a
// per-target shift that a softmax does not see, so no close-pair refinement).
enum PairMetric : int { PM_DOT = 0, PM_R2 = 1, PM_R2_SHIFTED = 2 };

// Parameters a rescaling left inside the fp32 range (a softening that
// underflowed to 0 would make r = 0 infinite).
inline bool representable(const KernelSpec& k, const KernelSpec& was) {
  return isfinite(k.eps2) && isfinite(k.kappa) && isfinite(k.inv2s2) && isfinite(k.inv_l) &&
         (k.eps2 > 0.0f || !(was.eps2 > 0.0f)) && (k.inv2s2 > 0.0f || !(was.inv2s2 > 0.0f)) &&
         (k.inv_l > 0.0f || !(was.inv_l > 0.0f));
}

// A real kernel as a pair formula.
template <int K>
struct KernelF {
  static constexpr int metric = PM_R2;
  KernelSpec k;
  SF_HD float operator()(float r2) const { return Kernel<K>::of_r2(k, r2 > 0.0f ? r2 : 0.0f); }
  KernelF rescaled(double s, double& factor) const {
    KernelF f = *this;
    Kernel<K>::rescale(f.k, s, factor);
    return f;
  }
  bool representable_as(const KernelF& was) const { return representable(k, was.k); }
};

// h(r) = G'(r) / r of a real kernel as a pair formula; in units of s it
// scales by the kernel's factor over s^2 (G'(r) / r has two more lengths).
template <int K>
struct DerivF {
  static constexpr int metric = PM_R2;
  KernelSpec k;
  SF_HD float operator()(float r2) const { return Kernel<K>::dr_over_r(k, r2 > 0.0f ? r2 : 0.0f); }
  DerivF rescaled(double s, double& factor) const {
    DerivF f = *this;
    Kernel<K>::rescale(f.k, s, factor);
    factor /= s * s;
    return f;
  }
  bool representable_as(const DerivF& was) const { return representable(k, was.k); }
};

// An attention logit as a pair formula: dot beta q.k; gaussian -r^2 / (2 s^2);
// any other kernel beta G(r). The gaussian reads r^2 less |q|^2 (a constant
// per query the softmax does not see) unless EXACT: the log-sum-exp the
// gradients start from needs the logits themselves.
template <int K, bool EXACT = false>
struct LogitF {
  static constexpr int metric = K == A_DOT ? PM_DOT : (K == K_GAUSSIAN && !EXACT ? PM_R2_SHIFTED : PM_R2);
  KernelSpec k;
  float beta = 1.0f;
  SF_HD float operator()(float v) const {
    if (K == A_DOT) return beta * v;
    if (K == K_GAUSSIAN) return -v * k.inv2s2;
    return beta * Kernel<(K == A_DOT || K == K_GAUSSIAN) ? K_ENERGY : K>::of_r2(k, v > 0.0f ? v : 0.0f);
  }
  // Logits do not scale: the kernel's factor is folded into beta (the inner
  // product of points divided by s is s^2 times smaller).
  LogitF rescaled(double s, double& factor) const {
    LogitF f = *this;
    factor = 1.0;
    if (K == A_DOT) {
      f.beta = (float)(beta * s * s);
      return f;
    }
    if (K == K_GAUSSIAN) {
      Kernel<K_GAUSSIAN>::rescale(f.k, s, factor);
      return f;
    }
    Kernel<(K == A_DOT || K == K_GAUSSIAN) ? K_ENERGY : K>::rescale(f.k, s, factor);
    f.beta = (float)(f.beta * factor);
    factor = 1.0;
    return f;
  }
  bool representable_as(const LogitF& was) const { return isfinite(beta) && representable(k, was.k); }
};

// exp(i k r) / sqrt(r^2 + e^2) in fp64: (re, im).
SF_HD void helmholtz_r2(double kre, double kim, double eps2, double r2, double& re, double& im) {
  r2 = r2 > 0.0 ? r2 : 0.0;
  double r = sqrt(r2);
  double a = exp(-kim * r) / sqrt(r2 + eps2);
  re = a * cos(kre * r);
  im = a * sin(kre * r);
}

// Squared distance by differences, for drivers without tiles.
SF_HD float pair_r2(const float* x, const float* y, int d) {
  float s = 0.0f;
  for (int k = 0; k < d; ++k) {
    float t = x[k] - y[k];
    s += t * t;
  }
  return s;
}

SF_HD float pair_dot(const float* x, const float* y, int d) {
  float s = 0.0f;
  for (int k = 0; k < d; ++k) s += x[k] * y[k];
  return s;
}

// What a formula reads from one pair of (centred, scaled) points.
template <int METRIC>
SF_HD float pair_metric(const float* x, const float* y, int d) {
  return METRIC == PM_DOT ? pair_dot(x, y, d) : pair_r2(x, y, d);
}

}  // namespace sf
