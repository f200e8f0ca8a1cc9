// Plain descriptions of the points operations, filled on the main thread and
// read by the backends (see native/jobs.h for the mesh ones).
#pragma once
#include "../cancel.h"
#include <cstdint>
#include <functional>
#include <vector>

#include "../../cuda/pairs_k.h"

namespace sf {

// phi_i = sum_j w_j G(|t_i - s_j|), or the complex helmholtz sum.
struct KernelSumJob {
  int d = 0;
  KernelSpec k{};
  const float* src = nullptr;  // [m, d]
  idx m = 0;
  const float* w = nullptr;    // [m] or null (ones)
  const float* tgt = nullptr;  // [n, d]
  idx n = 0;
  double* out = nullptr;       // [n] (real) or [n, 2] (helmholtz: re, im)
  CancelFlag cancel = nullptr;
};

// Gradient sums g_i = sum_j w_j h(r_ij) (t_i - s_j), h = G'(r) / r: the
// gradient of sum_j w_j G(|t_i - s_j|) with respect to t_i, from which every
// energy's and discrepancy's gradient is assembled (lib/points.ts).
struct KernelGradJob {
  int d = 0;
  KernelSpec k{};
  const float* src = nullptr;  // [m, d]
  idx m = 0;
  const float* w = nullptr;    // [m] or null (ones)
  const float* tgt = nullptr;  // [n, d]
  idx n = 0;
  bool self = false;           // the sources against themselves (tgt = src, n = m): out = 2 w_i g_i,
                               // the gradient of sum_ij w_i w_j G(r_ij)
  double* out = nullptr;       // [n, d]
  CancelFlag cancel = nullptr;
};

enum SetMetric : int { M_ENERGY_DISTANCE = 0, M_MMD = 1, M_CROSS = 2 };

// Pairwise comparison of ragged weighted point sets: rows (the query sets, or
// the sets themselves) against the sets. Each set's weights are normalised to
// sum 1. M_ENERGY_DISTANCE: 2E|X-Y| - E|X-X'| - E|Y-Y'| (kernel ignored);
// M_MMD: E k(X,X') + E k(Y,Y') - 2E k(X,Y); M_CROSS: E k(X,Y).
struct SetMatrixJob {
  int d = 0;
  KernelSpec k{};
  int metric = M_ENERGY_DISTANCE;
  const float* x = nullptr;  // [N, d], sets one after another
  const int32_t* off = nullptr;  // [S + 1]
  int sets = 0;
  const float* w = nullptr;  // [N] or null
  const float* qx = nullptr;  // query sets, or null: rows are the sets themselves
  const int32_t* qoff = nullptr;
  int qsets = 0;
  const float* qw = nullptr;
  double* out = nullptr;  // [rows, sets]
  CancelFlag cancel = nullptr;
  std::function<void(int done, int total)> progress;  // set totals computed so far
};

// R_AB(w) = |sum_i sum_j a_i b_j G_w(r_ij)|, G_w the helmholtz kernel with
// k(w) = sqrt(w^2 + i g w - kappa^2) / c (the root with Im k >= 0).
struct ResonanceJob {
  int d = 0;
  const float* a = nullptr;   // [na, d]
  const float* wa = nullptr;  // [na] or null
  idx na = 0;
  const float* b = nullptr;   // [nb, d]
  const float* wb = nullptr;
  idx nb = 0;
  const double* w = nullptr;  // [nw] frequencies
  int nw = 0;
  double g = 0, kappa = 0, c = 1, eps = 1e-3;
  double* out = nullptr;  // [nw, 2]: the complex sum (|R| is its modulus)
  CancelFlag cancel = nullptr;
};

// k(w) = sqrt(w^2 - kappa^2 + i g w) / c with Im k >= 0, computed in units
// of the largest of |w|, kappa and g so that no square overflows (kappa
// 1e308 gives k = i kappa / c, not NaN).
SF_HD void resonance_k(double w, double g, double kappa, double c, double& kre, double& kim) {
  double s = fabs(w) > kappa ? fabs(w) : kappa;
  s = g > s ? g : s;
  if (!(s > 0)) {
    kre = kim = 0;
    return;
  }
  const double ws = w / s, ks = kappa / s, gs = g / s;
  double zr = ws * ws - ks * ks, zi = gs * ws;
  // principal sqrt of z = zr + i zi: (sqrt((|z| + zr) / 2), sign(zi) sqrt((|z| - zr) / 2))
  double m = hypot(zr, zi);
  double a = sqrt(0.5 * (m + zr)), b = sqrt(0.5 * (m - zr));
  if (zi < 0) b = -b;
  kre = a * s / c;
  kim = b * s / c;
  if (kim < 0) {
    kre = -kre;
    kim = -kim;
  }
}

// Mean-shift condensation: every point is a seed and climbs the density
// sum_j w_j K(|x - x_j|) (gaussian, or flat: the ball of radius bandwidth,
// as sklearn.cluster.MeanShift(bin_seeding=False)); see meanshift.h.
struct MeanShiftJob {
  int d = 0;
  idx n = 0;
  const float* x = nullptr;
  const float* w = nullptr;
  bool flat = false;
  double bandwidth = 1, tol = 1e-3, merge = 1;
  int max_iter = 300;
  CancelFlag cancel = nullptr;
  std::function<void(int iteration, double moving)> progress;  // seeds still moving
  // results
  std::vector<double> centers;    // [k, d]
  std::vector<double> intensity;  // [k] weighted kernel sum at the centre
  std::vector<double> mass;       // [k] weight of the points labelled k
  std::vector<double> potential;  // [k] -sum_j w_j G(|c - x_j|)
  int32_t* labels = nullptr;      // [n]
  int iterations = 0;
};

// Induction: the harmonic function on the kernel graph W_ij = G(r_ij) (i != j,
// optionally kept only between k-nearest neighbours, symmetrised) that takes
// the given values on the labelled points: (D - W)_UU f_U = W_UL f_L, solved
// by Jacobi-preconditioned conjugate gradients, one system per channel.
struct InduceJob {
  int d = 0;
  idx n = 0;
  const float* x = nullptr;
  const int32_t* labeled = nullptr;  // [nl] point indices, distinct
  idx nl = 0;
  const float* values = nullptr;     // [nl, channels]
  int channels = 1;
  KernelSpec k{};
  int knn = 0;  // 0: dense
  double tol = 1e-8;
  int max_iter = 1000;
  CancelFlag cancel = nullptr;
  std::function<void(int iteration, double residual)> progress;
  float* out = nullptr;  // [n, channels]
  int iterations = 0;
  double residual = 0;
  bool converged = false;
};

// out[b,h,i] = sum_j softmax_j(logit_ij) v[b,h,j] with the logit of kind
//   A_DOT    beta q.k                K_GAUSSIAN  -r^2 / (2 s^2)
//   any other real kernel G          beta G(r)
// plus bias_j. Key j is seen by query i when causal allows (j <= i + shift,
// shift = m - n bottom-right or 0 top-left) and mask[b, j] is 1. A query
// that sees no key gets zeros.
struct AttentionJob {
  int batch = 1, heads = 1, d = 0, dv = 0;
  idx n = 0, m = 0;
  int kind = A_DOT;
  float beta = 1.0f;
  KernelSpec k{};
  bool causal = false;
  bool top_left = false;           // causal alignment (default bottom-right)
  const float* q = nullptr;        // [B, H, n, d]
  const float* key = nullptr;      // [B, H, m, d]
  const float* v = nullptr;        // [B, H, m, dv]
  const uint8_t* mask = nullptr;   // [B, m] or null
  const float* bias = nullptr;     // [B, H, m] or null
  float* out = nullptr;            // [B, H, n, dv]
  float* lse = nullptr;            // [B, H, n] or null: log sum_j exp(logit_ij) per query
  CancelFlag cancel = nullptr;
};

// The gradient of sum(out * dout) through attention: dQ, dK, dV and the
// logit's own parameter per (batch, head) (beta; sigma for gaussian). From
// the forward pass's output and log-sum-exp per query (the caller's, saved
// from attention, or recomputed), the pair engine recomputes the logits and
// P (FlashAttention's backward, without storing P): one pass on the CPU, two
// on the other executions (ops.h).
struct AttentionGradJob {
  AttentionJob a;                  // q, key, v, mask, bias, kind, k, beta, causal (out, lse unused)
  const float* dout = nullptr;     // [B, H, n, dv]
  const float* fwd_out = nullptr;  // [B, H, n, dv] and
  const float* fwd_lse = nullptr;  // [B, H, n]: the forward's, or null
  float* dq = nullptr;             // [B, H, n, d]
  float* dk = nullptr;             // [B, H, m, d]
  float* dv = nullptr;             // [B, H, m, dv]
  double* dparam = nullptr;        // [B, H]
};

// The points operations, each a function of its job: the table the backends'
// forwarding is generated from (backend.h, backend_points_cpu.cc,
// cuda/backend_cuda.cu, backend_cuda_stub.cc). X(name, Job)
#define SF_POINTS_OPS(X)          \
  X(kernel_sum, KernelSumJob)     \
  X(kernel_grad, KernelGradJob)   \
  X(set_matrix, SetMatrixJob)     \
  X(attention, AttentionJob)      \
  X(attention_grad, AttentionGradJob) \
  X(resonance, ResonanceJob)      \
  X(mean_shift, MeanShiftJob)     \
  X(induce, InduceJob)

}  // namespace sf
