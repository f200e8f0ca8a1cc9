// The points operations for any execution policy without tiles: one target
// per thread, squared distances by differences (pair_r2). The CUDA backend
// runs these; the CPU backend has the tiled forms (sums.h, sets.h), and the
// tests hold both to the same fp64 references.
#pragma once
#include <vector>

#include "../errors.h"
#include "jobs.h"
#include "induce.h"
#include "meanshift.h"
#include "sets.h"

namespace sf {
namespace points {

template <class Exec>
void kernel_sum_direct(Exec& ex, KernelSumJob& job) {
  const int d = job.d;
  const idx m = job.m, n = job.n;
  const KernelSpec k = job.k;
  const float* src = ex.upload(job.src, m * d);
  const float* w = ex.upload(job.w, m);
  const float* tgt = ex.upload(job.tgt, n * d);
  const bool cplx = k.kind == K_HELMHOLTZ;
  double* out = ex.output(job.out, cplx ? 2 * n : n);
  ex.for_n(n, [=] SF_LAMBDA(idx i) {
    const float* x = tgt + i * d;
    double re = 0, im = 0;
    for (idx j = 0; j < m; ++j) {
      float r2 = pair_r2(x, src + j * d, d);
      double wj = w ? (double)w[j] : 1.0;
      if (cplx) {
        double gr, gi;
        helmholtz_r2(k.kre, k.kim, k.eps2, r2, gr, gi);
        re += wj * gr;
        im += wj * gi;
      } else {
        re += wj * (double)kernel_r2(k, r2);
      }
    }
    if (cplx) {
      out[2 * i] = re;
      out[2 * i + 1] = im;
    } else {
      out[i] = re;
    }
  });
  ex.finish_output(job.out, out, cplx ? 2 * n : n);
  ex.sync();
}

// sum_i a_i sum_j b_j G(r_ij) for device arrays.
template <class Exec>
double kernel_total_direct(Exec& ex, const float* tx, const float* ta, idx tn, const float* sx, const float* sb, idx sn,
                           int d, const KernelSpec& k) {
  return ex.sum_n(tn, [=] SF_LAMBDA(idx i) {
    double s = 0;
    for (idx j = 0; j < sn; ++j) s += (double)sb[j] * (double)kernel_r2(k, pair_r2(tx + i * d, sx + j * d, d));
    return (double)ta[i] * s;
  });
}

template <class Exec>
void set_matrix_direct(Exec& ex, SetMatrixJob& job) {
  const int d = job.d;
  KernelSpec k = job.k;
  if (job.metric == M_ENERGY_DISTANCE) k.kind = K_ENERGY;
  std::vector<SetView> docs = views(job.x, job.off, job.sets, job.w, d);
  const bool query = job.qx != nullptr;
  std::vector<SetView> rows = query ? views(job.qx, job.qoff, job.qsets, job.qw, d) : std::vector<SetView>();
  auto upload = [&](const std::vector<SetView>& v, std::vector<const float*>& xs, std::vector<const float*>& ws) {
    for (const SetView& s : v) {
      xs.push_back(ex.upload(s.x, s.n * d));
      ws.push_back(ex.upload(s.w.data(), s.n));
    }
  };
  std::vector<const float*> dx, dw, rx, rw;
  upload(docs, dx, dw);
  if (query) upload(rows, rx, rw);
  auto total = [&](bool row_is_query, int r, int s) {
    const std::vector<const float*>& X = row_is_query ? rx : dx;
    const std::vector<const float*>& W = row_is_query ? rw : dw;
    const SetView& R = row_is_query ? rows[r] : docs[r];
    if (job.cancel && *job.cancel) fail("E_ABORTED", "aborted");
    return kernel_total_direct(ex, X[r], W[r], R.n, dx[s], dw[s], docs[s].n, d, k);
  };
  int nrows = query ? job.qsets : job.sets;
  std::vector<double> self_doc(job.sets, 0.0);
  if (job.metric != M_CROSS)
    for (int s = 0; s < job.sets; ++s) self_doc[s] = total(false, s, s);
  for (int r = 0; r < nrows; ++r) {
    double sr = 0.0;
    if (job.metric != M_CROSS)
      sr = query ? kernel_total_direct(ex, rx[r], rw[r], rows[r].n, rx[r], rw[r], rows[r].n, d, k) : self_doc[r];
    for (int s = 0; s < job.sets; ++s) {
      double v = 0.0;
      if (query || s != r || job.metric == M_CROSS) {
        if (!query && s < r && job.metric != M_CROSS) v = job.out[(size_t)s * job.sets + r];
        else {
          double x = total(query, r, s);
          v = job.metric == M_CROSS ? x : sr + self_doc[s] - 2.0 * x;
        }
      }
      job.out[(size_t)r * job.sets + s] = v;
    }
  }
}

// Mean shift with one seed per thread for each step.
template <class Exec>
void mean_shift_direct(Exec& ex, MeanShiftJob& job) {
  const int d = job.d;
  const idx n = job.n;
  const float* X = ex.upload(job.x, n * d);
  const float* W = ex.upload(job.w, n);
  const bool flat = job.flat;
  const float bw2 = (float)(job.bandwidth * job.bandwidth), inv2s2 = (float)(1.0 / (2 * job.bandwidth * job.bandwidth));
  double* cur_d = ex.template alloc<double>(n * d);
  double* next_d = ex.template alloc<double>(n * d);
  double* z_d = ex.template alloc<double>(n);
  mean_shift(job, [&](const std::vector<double>& cur, idx s, std::vector<double>& next, std::vector<double>& z) {
    ex.upload_into(cur_d, cur.data(), s * d);
    const double* c = cur_d;
    double* nx = next_d;
    double* zz = z_d;
    ex.for_n(s, [=] SF_LAMBDA(idx i) {
      double zs = 0;
      for (int q = 0; q < d; ++q) nx[i * d + q] = 0;
      for (idx j = 0; j < n; ++j) {
        float r2 = 0;
        for (int q = 0; q < d; ++q) {
          float t = (float)c[i * d + q] - X[j * d + q];
          r2 += t * t;
        }
        float kw = (W ? W[j] : 1.0f) * shift_weight(flat, r2, bw2, inv2s2);
        if (kw == 0.0f) continue;
        zs += kw;
        for (int q = 0; q < d; ++q) nx[i * d + q] += (double)kw * X[j * d + q];
      }
      for (int q = 0; q < d; ++q) nx[i * d + q] = zs > 0 ? nx[i * d + q] / zs : c[i * d + q];
      zz[i] = zs;
    });
    ex.download(next.data(), next_d, s * d);
    ex.download(z.data(), z_d, s);
  });
}

// Dense induction with one unknown per thread in each matrix-free product;
// the CG itself runs on the host. (kNN graphs are built and solved on the
// host: induce_cpu.)
template <class Exec>
void induce_direct(Exec& ex, InduceJob& job) {
  if (job.knn > 0) {
    induce_cpu(job);
    return;
  }
  const int d = job.d, C = job.channels;
  const idx n = job.n;
  std::vector<int> role;
  const std::vector<idx> U = unknowns(job, role);
  const idx u = (idx)U.size();
  if (u == 0) return;
  std::vector<int32_t> uidx(U.begin(), U.end());
  const float* X = ex.upload(job.x, n * d);
  const int32_t* Ud = ex.upload(uidx.data(), u);
  const KernelSpec k = job.k;
  // sums[a, c] = sum_{j != U[a]} G(r) v[j, c] over all points (v [n, C]).
  double* out_d = ex.template alloc<double>(u * C);
  float* v_d = ex.template alloc<float>(n * C);
  auto pass = [&](const std::vector<float>& v, std::vector<double>& out) {
    ex.upload_into(v_d, v.data(), n * C);
    const float* vv = v_d;
    double* o = out_d;
    ex.for_n(u, [=] SF_LAMBDA(idx a) {
      idx i = Ud[a];
      for (int c = 0; c < C; ++c) o[a * C + c] = 0;
      for (idx j = 0; j < n; ++j) {
        if (j == i) continue;
        double g = (double)kernel_r2(k, pair_r2(X + i * d, X + j * d, d));
        for (int c = 0; c < C; ++c) o[a * C + c] += g * (double)vv[j * C + c];
      }
    });
    out.resize((size_t)(u * C));
    ex.download(out.data(), out_d, u * C);
  };
  std::vector<float> v((size_t)(n * C), 0.0f);
  std::vector<double> diag, b, x, tmp;
  {
    std::vector<float> ones((size_t)(n * C), 0.0f);
    for (idx i = 0; i < n; ++i) ones[(size_t)i * C] = 1.0f;
    pass(ones, tmp);
    diag.resize((size_t)u);
    for (idx a = 0; a < u; ++a) diag[(size_t)a] = tmp[(size_t)a * C];
    require_connected(diag, U);
  }
  for (idx l = 0; l < job.nl; ++l)
    for (int c = 0; c < C; ++c) v[(size_t)job.labeled[l] * C + c] = job.values[(size_t)l * C + c];
  pass(v, b);
  block_cg(job, u, C, diag, b,
           [&](const std::vector<double>& p, std::vector<double>& q) {
             std::fill(v.begin(), v.end(), 0.0f);
             for (idx a = 0; a < u; ++a)
               for (int c = 0; c < C; ++c) v[(size_t)U[a] * C + c] = (float)p[(size_t)a * C + c];
             pass(v, tmp);
             for (size_t s = 0; s < q.size(); ++s) q[s] = diag[s / C] * p[s] - tmp[s];
           },
           x);
  for (idx a = 0; a < u; ++a)
    for (int c = 0; c < C; ++c) job.out[(size_t)U[a] * C + c] = (float)x[(size_t)a * C + c];
}

// Resonance: one (frequency, point of A) per thread, reduced on the host.
template <class Exec>
void resonance_direct(Exec& ex, ResonanceJob& job) {
  const int d = job.d, nw = job.nw;
  const idx na = job.na, nb = job.nb;
  const float* A = ex.upload(job.a, na * d);
  const float* wa = ex.upload(job.wa, na);
  const float* B = ex.upload(job.b, nb * d);
  const float* wb = ex.upload(job.wb, nb);
  const double* w = ex.upload(job.w, nw);
  const double g = job.g, kappa = job.kappa, c = job.c, eps2 = job.eps * job.eps;
  idx cells = (idx)nw * na;
  double* part = ex.template alloc<double>(2 * cells);
  ex.for_n(cells, [=] SF_LAMBDA(idx t) {
    int q = (int)(t / na);
    idx i = t % na;
    double kre, kim;
    resonance_k(w[q], g, kappa, c, kre, kim);
    double sr = 0, si = 0, ai = wa ? (double)wa[i] : 1.0;
    for (idx j = 0; j < nb; ++j) {
      double gr, gi;
      helmholtz_r2(kre, kim, eps2, pair_r2(A + i * d, B + j * d, d), gr, gi);
      double bj = wb ? (double)wb[j] : 1.0;
      sr += bj * gr;
      si += bj * gi;
    }
    part[2 * t] = ai * sr;
    part[2 * t + 1] = ai * si;
  });
  std::vector<double> h((size_t)(2 * cells));
  ex.download(h.data(), part, 2 * cells);
  for (int q = 0; q < nw; ++q) {
    double sr = 0, si = 0;
    for (idx i = 0; i < na; ++i) {
      sr += h[(size_t)(2 * ((idx)q * na + i))];
      si += h[(size_t)(2 * ((idx)q * na + i) + 1)];
    }
    job.out[2 * q] = sr;
    job.out[2 * q + 1] = si;
  }
}

// Attention, one query row per thread, in two passes over the keys (the
// largest logit, then the weights and the weighted values).
template <class Exec>
void attention_direct(Exec& ex, AttentionJob& job) {
  AttentionJob a = job;
  const size_t heads = (size_t)job.batch * job.heads;
  a.q = ex.upload(job.q, (idx)(heads * job.n * job.d));
  a.key = ex.upload(job.key, (idx)(heads * job.m * job.d));
  a.v = ex.upload(job.v, (idx)(heads * job.m * job.dv));
  a.mask = ex.upload(job.mask, (idx)job.batch * job.m);
  a.bias = ex.upload(job.bias, (idx)(heads * job.m));
  idx total = (idx)(heads * job.n * job.dv);
  a.out = ex.output(job.out, total);
  a.cancel = nullptr;
  ex.for_n((idx)(heads * job.n), [=] SF_LAMBDA(idx row) {
    const idx n = a.n, m = a.m;
    const int d = a.d, dv = a.dv;
    idx i = row % n;
    size_t bh = (size_t)(row / n);
    size_t b = bh / (size_t)a.heads;
    const float* qi = a.q + (size_t)row * d;
    const float* keys = a.key + bh * m * d;
    const float* vals = a.v + bh * m * dv;
    float* o = a.out + (size_t)row * dv;
    auto logit = [&](idx j, bool& ok) {
      ok = (!a.mask || a.mask[b * m + j]) && (!a.causal || j <= i + (m - n));
      if (!ok) return 0.0f;
      const float* kj = keys + (size_t)j * d;
      float x;
      if (a.kind == A_DOT) {
        x = 0.0f;
        for (int c = 0; c < d; ++c) x += qi[c] * kj[c];
      } else {
        x = pair_r2(qi, kj, d);
      }
      return attention_logit(a, x) + (a.bias ? a.bias[bh * m + j] : 0.0f);
    };
    float mx = -3.0e38f;
    bool any = false;
    for (idx j = 0; j < m; ++j) {
      bool ok;
      float s = logit(j, ok);
      if (ok) {
        any = true;
        mx = s > mx ? s : mx;
      }
    }
    for (int c = 0; c < dv; ++c) o[c] = 0.0f;
    if (!any) return;
    double l = 0;
    for (idx j = 0; j < m; ++j) {
      bool ok;
      float s = logit(j, ok);
      if (!ok) continue;
      float p = sf_expf(s - mx);
      l += p;
      for (int c = 0; c < dv; ++c) o[c] += p * vals[(size_t)j * dv + c];
    }
    for (int c = 0; c < dv; ++c) o[c] = (float)(o[c] / l);
  });
  ex.finish_output(job.out, a.out, total);
  ex.sync();
}

}  // namespace points
}  // namespace sf
