// The points operations, each written once over the pair engine (engine.h)
// for every execution (CpuExec tiles, the plain loops, CudaExec): a formula,
// a reduction and the problems of the task; what is left on the host is the
// bookkeeping (set totals in order, the mean-shift iteration, CG).
//   kernel_sum   phi_i = sum_j w_j G(r_ij)               (SumR / HelmSumR)
//   set_matrix   T(p, q) = sum_i a_i sum_j b_j G(r_ij)   (SumR per set pair)
//   attention    softmax over keys of the logits          (SoftmaxR)
//   resonance    sum_ij a_i b_j G_w(r_ij) for every w     (SpectrumR)
//   mean_shift   moments of the kernel around each seed   (ShiftR)
//   induce       kernel mat-vecs for CG, or the kNN graph (SumR, KnnR)
//   kernel_grad  sum_j w_j h(r_ij) (t_i - s_j), h = G'/r    (GradR; GradSymR of a set against itself)
//   attention_grad  dQ, dK, dV and the logit's parameter    (AttnGradR)
#pragma once
#include <algorithm>
#include <memory>
#include <vector>

#include "../errors.h"
#include "engine.h"
#include "induce.h"
#include "jobs.h"
#include "meanshift.h"

namespace sf {
namespace points {

using pairs::PairTask;
using pairs::Problem;

template <class Exec>
void kernel_sum(Exec& ex, KernelSumJob& job) {
  PairTask task = PairTask::one(job.d, job.tgt, job.n, job.src, job.m);
  task.cancel = job.cancel;
  const float* w = ex.upload(job.w, job.m);
  if (job.k.kind == K_HELMHOLTZ) {
    double* out = ex.output(job.out, 2 * job.n);
    HelmSumR r;
    r.w = w;
    r.kre = job.k.kre;
    r.kim = job.k.kim;
    r.eps2 = job.k.eps2;
    r.out = out;
    pairs::run(ex, DistF{}, r, task);
    ex.finish_output(job.out, out, 2 * job.n);
    return;
  }
  double* out = ex.output(job.out, job.n);
  SumR r;
  r.v = w;
  r.out = out;
  pairs::with_kernel(job.k.kind, [&](auto K) { pairs::run(ex, KernelF<decltype(K)::value>{job.k}, r, task); });
  ex.finish_output(job.out, out, job.n);
}

// g_i = sum_j w_j h(r_ij) (t_i - s_j), both sets centred on the sources' mean;
// of a set against itself (self), 2 w_i g_i, the gradient of its self-energy.
template <class Exec>
void kernel_grad(Exec& ex, KernelGradJob& job) {
  const int d = job.d;
  std::vector<double> c((size_t)d, 0.0);
  for (idx j = 0; j < job.m; ++j)
    for (int k = 0; k < d; ++k) c[(size_t)k] += job.src[j * d + k];
  for (int k = 0; k < d; ++k) c[(size_t)k] /= (double)job.m;
  auto centred = [&](const float* x, idx n) {
    HostArray<float> v((size_t)(n * d));
    for (idx i = 0; i < n; ++i)
      for (int k = 0; k < d; ++k) v[(size_t)(i * d + k)] = (float)((double)x[i * d + k] - c[(size_t)k]);
    return v;
  };
  HostArray<float> yc = centred(job.src, job.m), xc = job.self ? HostArray<float>() : centred(job.tgt, job.n);
  const float* tgt = job.self ? job.src : job.tgt;
  PairTask task = PairTask::one(d, tgt, job.n, job.src, job.m);
  task.cancel = job.cancel;
  GradR r;
  r.y = ex.upload(yc.data(), job.m * d);
  r.x = job.self ? r.y : ex.upload(xc.data(), job.n * d);
  r.w = ex.upload(job.w, job.m);
  r.d = d;
  r.mom = ex.template alloc<float>(job.n * d);
  r.out = ex.output(job.out, job.n * d);
  pairs::with_kernel(job.k.kind, [&](auto K) {
    const DerivF<decltype(K)::value> f{job.k};
    if (!job.self) return pairs::run(ex, f, r, task);
    GradSymR sym(r);
    sym.points = job.m;
    pairs::run(ex, f, sym, task);
  });
  ex.finish_output(job.out, r.out, job.n * d);
}

// Sets as segments, with their weights normalised to sum 1.
inline pairs::Segments set_segments(const float* x, const int32_t* off, int sets, const float* w,
                                    std::vector<float>& wn) {
  pairs::Segments sg;
  sg.x = x;
  sg.off.assign(off, off + sets + 1);
  wn.assign((size_t)off[sets], 1.0f);
  for (int s = 0; s < sets; ++s) {
    double total = 0;
    for (idx i = off[s]; i < off[s + 1]; ++i) total += w ? (double)w[i] : 1.0;
    if (!(total > 0)) fail("E_RANGE", "set " + std::to_string(s) + " has no positive total weight");
    for (idx i = off[s]; i < off[s + 1]; ++i) wn[(size_t)i] = (float)((w ? (double)w[i] : 1.0) / total);
  }
  return sg;
}

// Totals sum_i a_i sum_j b_j G(r_ij) of the given problems: per-target sums
// by the engine (batches of at most 2^22 slots), added up in target order.
template <class Exec>
void set_totals(Exec& ex, const KernelSpec& k, int d, const pairs::Segments& T, const std::vector<float>& ta,
                const pairs::Segments& S, const std::vector<float>& sb, const std::vector<Problem>& problems,
                std::vector<double>& totals, SetMatrixJob& job, int& done, int all) {
  const float* sbd = ex.upload(sb.data(), (idx)sb.size());
  totals.assign(problems.size(), 0.0);
  size_t p0 = 0;
  while (p0 < problems.size()) {
    PairTask task;
    task.d = d;
    task.targets = T;
    task.sources = S;
    task.cancel = job.cancel;
    idx slots = 0;
    size_t p1 = p0;
    while (p1 < problems.size() && (p1 == p0 || slots + T.size(problems[p1].t) <= ((idx)1 << 22)))
      slots += T.size(problems[p1++].t);
    task.problems.assign(problems.begin() + p0, problems.begin() + p1);
    task.number_slots();
    double* out = ex.template alloc<double>(slots);
    SumR r;
    r.v = sbd;
    r.out = out;
    pairs::with_kernel(k.kind, [&](auto K) { pairs::run(ex, KernelF<decltype(K)::value>{k}, r, task); });
    std::vector<double> h((size_t)slots);
    ex.download(h.data(), out, slots);
    for (size_t q = 0; q < task.problems.size(); ++q) {
      const Problem& pr = task.problems[q];
      double t = 0;
      const idx first = T.off[(size_t)pr.t];
      for (idx i = 0; i < T.size(pr.t); ++i) t += (double)ta[(size_t)(first + i)] * h[(size_t)(task.slot0[q] + i)];
      totals[p0 + q] = t;
    }
    done += (int)(p1 - p0);
    if (job.progress) job.progress(done, all);
    p0 = p1;
  }
}

template <class Exec>
void set_matrix(Exec& ex, SetMatrixJob& job) {
  KernelSpec k = job.k;
  if (job.metric == M_ENERGY_DISTANCE) k.kind = K_ENERGY;
  std::vector<float> wd, wq;
  pairs::Segments docs = set_segments(job.x, job.off, job.sets, job.w, wd);
  const bool query = job.qx != nullptr;
  pairs::Segments rows = query ? set_segments(job.qx, job.qoff, job.qsets, job.qw, wq) : docs;
  const int nrows = query ? job.qsets : job.sets;
  const bool self = job.metric != M_CROSS;
  // Problems: the self totals of the sets (and of the query sets), then the
  // cross totals (the upper triangle only when the rows are the sets).
  std::vector<Problem> doc_self, row_self, cross;
  if (self) {
    for (int s = 0; s < job.sets; ++s) doc_self.push_back({s, s});
    if (query)
      for (int s = 0; s < nrows; ++s) row_self.push_back({s, s});
  }
  const int diag = self ? 1 : 0;  // a set against itself: 0 by definition, unless raw totals
  for (int r = 0; r < nrows; ++r)
    for (int s = query ? 0 : r + diag; s < job.sets; ++s) cross.push_back({r, s});
  const int all = (int)(doc_self.size() + row_self.size() + cross.size());
  int done = 0;
  std::vector<double> sd, sr, x;
  set_totals(ex, k, job.d, docs, wd, docs, wd, doc_self, sd, job, done, all);
  if (query) set_totals(ex, k, job.d, rows, wq, rows, wq, row_self, sr, job, done, all);
  set_totals(ex, k, job.d, rows, query ? wq : wd, docs, wd, cross, x, job, done, all);
  const std::vector<double>& rs = query ? sr : sd;
  std::vector<double> xm((size_t)nrows * job.sets, 0.0);
  for (size_t q = 0; q < cross.size(); ++q) xm[(size_t)cross[q].t * job.sets + cross[q].s] = x[q];
  for (int r = 0; r < nrows; ++r)
    for (int s = 0; s < job.sets; ++s) {
      double v = 0.0;
      if (query || s != r || !self) {
        double t = !query && s < r ? xm[(size_t)s * job.sets + r] : xm[(size_t)r * job.sets + s];
        // MMD^2 = T(X,X) + T(Y,Y) - 2T(X,Y); with G = -r the same form is the
        // energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'|.
        v = self ? rs[(size_t)r] + sd[(size_t)s] - 2.0 * t : t;
      }
      job.out[(size_t)r * job.sets + s] = v;
    }
}

template <class Exec>
void attention(Exec& ex, AttentionJob& job) {
  const int problems = job.batch * job.heads;
  PairTask task = PairTask::batched(job.d, job.q, job.n, job.key, job.m, problems);
  task.cancel = job.cancel;
  SoftmaxR r;
  r.v = ex.upload(job.v, (idx)problems * job.m * job.dv);
  r.bias = ex.upload(job.bias, (idx)problems * job.m);
  r.mask = ex.upload(job.mask, (idx)job.batch * job.m);
  r.heads = job.heads;
  r.dv = job.dv;
  r.n = job.n;
  r.m = job.m;
  r.causal = job.causal;
  r.shift = job.top_left ? 0 : job.m - job.n;
  const idx total = (idx)problems * job.n * job.dv;
  r.out = ex.output(job.out, total);
  if (job.lse) r.lse = ex.output(job.lse, (idx)problems * job.n);
  pairs::with_logit(job.kind, [&](auto K) {
    if (job.lse) {
      LogitF<decltype(K)::value, true> f;
      f.k = job.k;
      f.beta = job.beta;
      pairs::run(ex, f, r, task);
    } else {
      LogitF<decltype(K)::value> f;
      f.k = job.k;
      f.beta = job.beta;
      pairs::run(ex, f, r, task);
    }
  });
  ex.finish_output(job.out, r.out, total);
  if (job.lse) ex.finish_output(job.lse, r.lse, (idx)problems * job.n);
}

// dQ, dK, dV and the logit's parameter: the forward pass's output and
// log-sum-exp (the caller's saved ones, or the forward again), D_i = dout_i .
// out_i, then the pair engine over keys and queries: one pass where the
// exec's tile form scatters into the queries' rows (the CPU), else one pass
// over the keys per query (dQ, the parameter) and one over the queries per
// key (dK, dV).
template <class Exec>
void attention_grad(Exec& ex, AttentionGradJob& job) {
  AttentionJob a = job.a;
  const int problems = a.batch * a.heads, d = a.d, dv = a.dv;
  const idx n = a.n, m = a.m;
  HostArray<float> out, lse, D((size_t)(problems * n));
  const float *fo = job.fwd_out, *fl = job.fwd_lse;
  if (!fo || !fl) {
    out = HostArray<float>((size_t)(problems * n * dv));
    lse = HostArray<float>((size_t)(problems * n));
    a.out = out.data();
    a.lse = lse.data();
    attention(ex, a);
    fo = out.data();
    fl = lse.data();
  }
  for (idx i = 0; i < problems * n; ++i) {
    double s = 0;
    for (int c = 0; c < dv; ++c) s += (double)job.dout[i * dv + c] * fo[i * dv + c];
    D[(size_t)i] = (float)s;
  }
  pairs::with_logit(a.kind, [&](auto K) {
    constexpr int LK = decltype(K)::value;
    AttnGradR<LK> r;
    r.k = a.k;
    r.beta = a.beta;
    r.problems = problems;
    r.heads = a.heads;
    r.d = d;
    r.dv = dv;
    r.n = n;
    r.m = m;
    r.causal = a.causal;
    r.shift = a.top_left ? 0 : m - n;
    r.mask = ex.upload(a.mask, (idx)a.batch * m);
    r.bias = ex.upload(a.bias, (idx)problems * m);
    r.q = ex.upload(a.q, (idx)problems * n * d);
    r.key = ex.upload(a.key, (idx)problems * m * d);
    r.v = ex.upload(a.v, (idx)problems * m * dv);
    r.dout = ex.upload(job.dout, (idx)problems * n * dv);
    r.lse = ex.upload(fl, (idx)problems * n);
    r.D = ex.upload(D.data(), (idx)problems * n);
    auto run = [&](const PairTask& task, const auto& rr) {
      if constexpr (LK == A_DOT) pairs::pair_reduce(ex, DotF{}, rr, task);
      else pairs::pair_reduce(ex, DistF{}, rr, task);
    };
    // The parameter's derivative: the sum over one side's slots.
    auto dparam = [&](double* dt, idx per) {
      std::vector<double> t((size_t)(problems * per));
      ex.download(t.data(), dt, (idx)problems * per);
      for (int p = 0; p < problems; ++p) {
        double s = 0;
        for (idx i = 0; i < per; ++i) s += t[(size_t)(p * per + i)];
        job.dparam[p] = s;
      }
    };
    using T = typename pairs::Tiled<Exec, AttnGradR<LK>>::type;
    // dK and dV (and, in one pass, dQ and the parameter): the keys are the targets.
    PairTask keys = PairTask::batched(d, a.key, m, a.q, n, problems);
    keys.cancel = a.cancel;
    AttnGradR<LK> r2 = r;
    r2.keys_are_targets = true;
    r2.mom = ex.template alloc<float>((idx)problems * m * d);
    r2.grad = ex.output(job.dk, (idx)problems * m * d);
    r2.gv = ex.output(job.dv, (idx)problems * m * dv);
    if constexpr (pairs::scatters<T>::value) {
      r2.dtheta = ex.template alloc<double>((idx)problems * m);
      T t(r2);
      t.dq = ex.output(job.dq, (idx)problems * n * d);
      run(keys, t);
      ex.finish_output(job.dq, t.dq, (idx)problems * n * d);
      dparam(r2.dtheta, m);
    } else {
      run(keys, T(r2));
      // dQ and the parameter: the queries are the targets.
      PairTask task = PairTask::batched(d, a.q, n, a.key, m, problems);
      task.cancel = a.cancel;
      AttnGradR<LK> r1 = r;
      r1.mom = ex.template alloc<float>((idx)problems * n * d);
      r1.grad = ex.output(job.dq, (idx)problems * n * d);
      r1.dtheta = ex.template alloc<double>((idx)problems * n);
      run(task, T(r1));
      ex.finish_output(job.dq, r1.grad, (idx)problems * n * d);
      dparam(r1.dtheta, n);
    }
    ex.finish_output(job.dk, r2.grad, (idx)problems * m * d);
    ex.finish_output(job.dv, r2.gv, (idx)problems * m * dv);
  });
}

template <class Exec>
void resonance(Exec& ex, ResonanceJob& job) {
  PairTask task = PairTask::one(job.d, job.a, job.na, job.b, job.nb);
  task.cancel = job.cancel;
  std::vector<double> kre((size_t)job.nw), kim((size_t)job.nw);
  for (int q = 0; q < job.nw; ++q) resonance_k(job.w[q], job.g, job.kappa, job.c, kre[q], kim[q]);
  SpectrumR r;
  r.w = ex.upload(job.wb, job.nb);
  r.eps2 = job.eps * job.eps;
  // Frequencies in passes of at most 2^20 outputs (16 MiB): the buffers of a
  // pass are first touched inside it, where an abort is seen every block.
  const int per = (int)std::max<idx>(1, std::min<idx>(job.nw, ((idx)1 << 20) / job.na));
  double* out = ex.template alloc<double>(job.na * per * 2);
  std::unique_ptr<double[]> h(new double[(size_t)(job.na * per * 2)]);
  for (int q0 = 0; q0 < job.nw; q0 += per) {
    if (job.cancel && *job.cancel) fail("E_ABORTED", "aborted");
    r.nw = std::min(per, job.nw - q0);
    r.kre = ex.upload(kre.data() + q0, r.nw);
    r.kim = ex.upload(kim.data() + q0, r.nw);
    r.out = out;
    pairs::run(ex, DistF{}, r, task);
    ex.download(h.get(), out, job.na * r.nw * 2);
    for (int q = 0; q < r.nw; ++q) {
      double sr = 0, si = 0;
      for (idx i = 0; i < job.na; ++i) {
        double ai = job.wa ? (double)job.wa[i] : 1.0;
        sr += ai * h[(size_t)((i * r.nw + q) * 2)];
        si += ai * h[(size_t)((i * r.nw + q) * 2 + 1)];
      }
      job.out[2 * (q0 + q)] = sr;
      job.out[2 * (q0 + q) + 1] = si;
    }
  }
}

template <class Exec>
void mean_shift(Exec& ex, MeanShiftJob& job) {
  const int d = job.d;
  const idx n = job.n;
  ShiftR r;
  r.y = ex.upload(job.x, n * d);
  r.w = ex.upload(job.w, n);
  r.d = d;
  double* seeds = ex.template alloc<double>(n * d);
  r.seeds = seeds;
  r.next = ex.template alloc<double>(n * d);
  r.z = ex.template alloc<double>(n);
  std::vector<float> pf((size_t)(n * d));
  points::mean_shift(job, [&](const std::vector<double>& cur, idx s, std::vector<double>& next, std::vector<double>& z) {
    for (idx i = 0; i < s * d; ++i) pf[(size_t)i] = (float)cur[(size_t)i];
    ex.upload_into(seeds, cur.data(), s * d);
    PairTask task = PairTask::one(d, pf.data(), s, job.x, n);
    task.cancel = job.cancel;
    if (job.flat) pairs::run(ex, FlatF{(float)(job.bandwidth * job.bandwidth)}, r, task);
    else {
      KernelSpec k;
      k.kind = K_GAUSSIAN;
      k.inv2s2 = (float)(1.0 / (2 * job.bandwidth * job.bandwidth));
      pairs::run(ex, KernelF<K_GAUSSIAN>{k}, r, task);
    }
    ex.download(next.data(), r.next, s * d);
    ex.download(z.data(), r.z, s);
  });
}

// The harmonic extension on the kernel graph (induce.h) with the engine's
// mat-vecs (dense) or its k nearest neighbours (graph).
template <class Exec>
void induce(Exec& ex, InduceJob& job) {
  const int d = job.d, C = job.channels;
  const idx n = job.n;
  std::vector<int> role;
  const std::vector<idx> U = unknowns(job, role);
  const idx u = (idx)U.size();
  if (u == 0) return;
  const KernelSpec k = job.k;
  if (job.knn > 0) {
    const int kk = (int)std::min<idx>(job.knn, n - 1);
    PairTask task = PairTask::one(d, job.x, n, job.x, n);
    task.cancel = job.cancel;
    KnnR r;
    r.k = kk;
    r.self = true;
    r.ids = ex.template alloc<int32_t>(n * kk);
    r.r2 = ex.template alloc<float>(n * kk);
    pairs::run(ex, DistF{}, r, task);
    std::vector<int32_t> ids((size_t)(n * kk));
    ex.download(ids.data(), r.ids, n * kk);
    induce_graph(job, U, role, ids, kk);
    return;
  }
  std::vector<float> xu((size_t)(u * d));
  for (idx a = 0; a < u; ++a) std::copy_n(job.x + U[a] * d, d, xu.begin() + a * d);
  const double g0 = pairs::with_kernel(k.kind, [&](auto K) { return (double)KernelF<decltype(K)::value>{k}(0.0f); });
  // sums[a, c] = sum_j G(r_{U[a] j}) v[j, c] over the sources given.
  float* v_all = ex.template alloc<float>(n * C);
  float* v_u = ex.template alloc<float>(u * C);
  double* out = ex.template alloc<double>(u * C);
  auto matvec = [&](const float* src, idx m, const std::vector<float>& v, float* vdev, std::vector<double>& res) {
    ex.upload_into(vdev, v.data(), m * C);
    PairTask task = PairTask::one(d, xu.data(), u, src, m);
    task.cancel = job.cancel;
    SumR r;
    r.v = vdev;
    r.C = C;
    r.m = m;
    r.out = out;
    pairs::with_kernel(k.kind, [&](auto K) { pairs::run(ex, KernelF<decltype(K)::value>{k}, r, task); });
    res.resize((size_t)(u * C));
    ex.download(res.data(), out, u * C);
  };
  std::vector<double> diag((size_t)u), b, x, tmp;
  {
    // Degrees: the sum over all points, less the self pair.
    std::vector<float> ones((size_t)(n * C), 0.0f);
    for (idx i = 0; i < n; ++i) ones[(size_t)(i * C)] = 1.0f;
    matvec(job.x, n, ones, v_all, tmp);
    for (idx a = 0; a < u; ++a) diag[(size_t)a] = tmp[(size_t)(a * C)] - g0;
    require_connected(diag, U);
  }
  // Right-hand side W_UL f_L: the labelled values as sources, the rest zero.
  std::vector<float> vl((size_t)(n * C), 0.0f);
  for (idx l = 0; l < job.nl; ++l)
    for (int c = 0; c < C; ++c) vl[(size_t)(job.labeled[l] * C + c)] = job.values[(size_t)(l * C + c)];
  matvec(job.x, n, vl, v_all, b);
  std::vector<float> pf((size_t)(u * C));
  block_cg(job, u, C, diag, b,
           [&](const std::vector<double>& p, std::vector<double>& q) {
             for (size_t i = 0; i < p.size(); ++i) pf[i] = (float)p[i];
             matvec(xu.data(), u, pf, v_u, tmp);
             for (size_t s = 0; s < q.size(); ++s)
               q[s] = diag[s / C] * p[s] - (tmp[s] - g0 * (double)pf[s]);
           },
           x);
  for (idx a = 0; a < u; ++a)
    for (int c = 0; c < C; ++c) job.out[(size_t)(U[a] * C + c)] = (float)x[(size_t)(a * C + c)];
}

}  // namespace points
}  // namespace sf
