// The Green's functions of the points view, G(r) with r = |x - y| in any
// dimension, written once for the CPU tiles and the GPU threads:
//   coulomb   1 / sqrt(r^2 + e^2)
//   yukawa    exp(-kappa r) / sqrt(r^2 + e^2)
//   gaussian  exp(-r^2 / (2 s^2))
//   energy    -r
//   helmholtz exp(i k r) / sqrt(r^2 + e^2), complex k with Im k >= 0
// Each takes the squared distance; a squared distance that rounding made
// slightly negative (|x|^2 + |y|^2 - 2 x.y) is clamped to 0 before any sqrt.
#pragma once
#include <math.h>

#include "sf_config.h"

namespace sf {

enum PairKernel : int { K_COULOMB = 0, K_YUKAWA = 1, K_GAUSSIAN = 2, K_ENERGY = 3, K_HELMHOLTZ = 4 };

struct KernelSpec {
  int kind;
  float eps2;    // softening e^2 (coulomb, yukawa, helmholtz)
  float kappa;   // yukawa screening
  float inv2s2;  // gaussian 1 / (2 s^2)
  double kre, kim;  // helmholtz wavenumber
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

// Real kernels of the squared distance, the kind fixed at compile time so
// the loops over a tile vectorise (helmholtz: see helmholtz_r2).
template <int KIND>
SF_HD float kernel_of(const KernelSpec& k, float r2) {
  r2 = r2 > 0.0f ? r2 : 0.0f;
  if (KIND == K_COULOMB) return sf_rsqrtf(r2 + k.eps2);
  if (KIND == K_YUKAWA) return sf_expf(-k.kappa * sf_sqrtf(r2)) * sf_rsqrtf(r2 + k.eps2);
  if (KIND == K_GAUSSIAN) return sf_expf(-r2 * k.inv2s2);
  if (KIND == K_ENERGY) return -sf_sqrtf(r2);
  return 0.0f;
}

SF_HD float kernel_r2(const KernelSpec& k, float r2) {
  switch (k.kind) {
    case K_COULOMB: return kernel_of<K_COULOMB>(k, r2);
    case K_YUKAWA: return kernel_of<K_YUKAWA>(k, r2);
    case K_GAUSSIAN: return kernel_of<K_GAUSSIAN>(k, r2);
    case K_ENERGY: return kernel_of<K_ENERGY>(k, r2);
    default: return 0.0f;
  }
}

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

}  // namespace sf
