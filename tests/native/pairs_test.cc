// The pair engine (native/points/engine.h): every formula against every
// reduction that reads its kind of value, on the CPU tiles and on the plain
// execution that stands in for the GPU (PlainExec), held to each other and,
// for each operation, to fp64 references written here from the mathematics
// (not from cuda/pairs_k.h). Tasks are ragged (segments of odd sizes, several
// problems, partial blocks and panels) and d = 130 crosses a chunk of the
// inner products.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "backend.h"
#include "exec_cpu.h"
#include "points/ops.h"

using namespace sf;

namespace {

struct PlainExec : CpuExec {};

int* g_passed;
int* g_failed;

void check(bool ok, const std::string& what) {
  if (ok) ++*g_passed;
  else {
    ++*g_failed;
    std::printf("FAIL %s\n", what.c_str());
  }
}

template <class A, class B>
double rel_diff(const A& a, const B& b, size_t n) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; ++i) {
    d = std::max(d, std::fabs((double)a[i] - (double)b[i]));
    s = std::max(s, std::fabs((double)b[i]));
  }
  return s > 0 ? d / s : d;
}

std::vector<float> wave(size_t n, double f, double s = 0, double amp = 1) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (float)(amp * std::sin(f * (double)i + s));
  return v;
}

// Every parameter set, so each kernel reads its own.
KernelSpec spec(int kind) {
  KernelSpec k;
  k.kind = kind;
  k.eps2 = 0.01f;
  k.kappa = 0.5f;
  k.inv2s2 = 0.25f;
  k.inv_l = 0.7f;
  k.kre = 2.0;
  k.kim = 0.3;
  return k;
}

// G(r) in fp64 from the definitions of SPEC.
double ref_kernel(int kind, double r2) {
  const double e2 = 0.01, kappa = 0.5, inv2s2 = 0.25, l = 1.0 / 0.7;
  double r = std::sqrt(r2);
  switch (kind) {
    case K_COULOMB: return 1.0 / std::sqrt(r2 + e2);
    case K_YUKAWA: return std::exp(-kappa * r) / std::sqrt(r2 + e2);
    case K_GAUSSIAN: return std::exp(-r2 * inv2s2);
    case K_ENERGY: return -r;
    case K_MATERN32: {
      double a = std::sqrt(3.0) * r / l;
      return (1 + a) * std::exp(-a);
    }
    case K_MATERN52: {
      double a = std::sqrt(5.0) * r / l;
      return (1 + a + a * a / 3) * std::exp(-a);
    }
    case K_LAPLACIAN: return std::exp(-r / l);
  }
  return NAN;
}

double r2_of(const float* x, const float* y, int d) {
  double s = 0;
  for (int k = 0; k < d; ++k) {
    double t = (double)x[k] - y[k];
    s += t * t;
  }
  return s;
}

// A ragged task: target segments of 20 and 53 points, source segments of 33
// and 70, problems (0,0), (1,1), (0,1), (1,0).
struct Ragged {
  int d;
  std::vector<float> x, y;
  pairs::PairTask task;
  explicit Ragged(int d_) : d(d_) {
    x = wave((size_t)73 * d, 0.29, 1.0);
    y = wave((size_t)103 * d, 0.37);
    task.d = d;
    task.targets.x = x.data();
    task.targets.off = {0, 20, 73};
    task.sources.x = y.data();
    task.sources.off = {0, 33, 103};
    task.problems = {{0, 0}, {1, 1}, {0, 1}, {1, 0}};
    task.number_slots();
  }
};

template <class F>
struct Named {
  F f;
  std::string name;
};

// Calls fn(Named<F>) for every formula that yields a value (kernels, logits,
// the flat kernel); distances (DistF) are covered with their reductions. The
// gaussian logit (read off by a per-query constant) pairs with the softmax
// only; the engine does not compile any other pairing of it.
template <class Fn>
void for_each_value_formula(Fn&& fn) {
#define SF_T(e, name, pos, pd, eps) fn(Named<KernelF<e>>{KernelF<e>{spec(e)}, std::string("kernel ") + name});
  SF_REAL_KERNELS(SF_T)
#undef SF_T
#define SF_T(e, name, pos, pd, eps) fn(Named<LogitF<e>>{LogitF<e>{spec(e), 0.8f}, std::string("logit ") + name});
  SF_REAL_KERNELS(SF_T)
#undef SF_T
  fn(Named<LogitF<A_DOT>>{LogitF<A_DOT>{spec(K_GAUSSIAN), 0.8f}, "logit dot"});
  fn(Named<FlatF>{FlatF{0.9f}, "flat"});
}

template <class F>
void value_reductions(const Named<F>& nf, int d) {
  const std::string tag = nf.name + " d=" + std::to_string(d);
  Ragged rg(d);
  const idx slots = rg.task.slots();
  if constexpr (F::metric != PM_R2_SHIFTED) {  // SumR, one channel with weights, and three channels
    std::vector<float> w = wave(103, 0.11);
    std::vector<float> v3 = wave(103 * 3, 0.23);
    for (float& x : v3) x = std::fabs(x) + 0.1f;  // no cancellation to blur the comparison
    for (int C : {1, 3}) {
      std::vector<double> a((size_t)(slots * C)), b((size_t)(slots * C));
      SumR r;
      r.v = C == 1 ? w.data() : v3.data();
      r.C = C;
      r.m = 103;
      r.out = a.data();
      CpuExec ce;
      pairs::run(ce, nf.f, r, rg.task);
      r.out = b.data();
      PlainExec pe;
      pairs::run(pe, nf.f, r, rg.task);
      check(rel_diff(a, b, a.size()) < 2e-5, tag + " x SumR C=" + std::to_string(C) + ": tiles == plain (" + std::to_string(rel_diff(a, b, a.size())) + ")");
    }
  }
  if constexpr (F::metric != PM_R2_SHIFTED) {  // ShiftR
    std::vector<double> seeds((size_t)(slots * d));
    for (size_t p = 0; p < rg.task.problems.size(); ++p)
      for (idx i = 0; i < rg.task.targets.size(rg.task.problems[p].t); ++i)
        for (int c = 0; c < d; ++c)
          seeds[(size_t)((rg.task.slot0[p] + i) * d + c)] = rg.x[(size_t)((rg.task.targets.off[(size_t)rg.task.problems[p].t] + i) * d + c)];
    std::vector<double> n1((size_t)(slots * d)), n2(n1), z1((size_t)slots), z2(z1);
    ShiftR r;
    r.y = rg.y.data();
    r.d = d;
    r.seeds = seeds.data();
    r.next = n1.data();
    r.z = z1.data();
    CpuExec ce;
    pairs::run(ce, nf.f, r, rg.task);
    r.next = n2.data();
    r.z = z2.data();
    PlainExec pe;
    pairs::run(pe, nf.f, r, rg.task);
    check(rel_diff(z1, z2, z1.size()) < 2e-5 && rel_diff(n1, n2, n1.size()) < 2e-4, tag + " x ShiftR: tiles == plain");
  }
  if constexpr (F::metric != PM_R2_SHIFTED) {  // GradR (targets as the slots' rows: one problem)
    pairs::PairTask t = pairs::PairTask::one(d, rg.x.data(), 73, rg.y.data(), 103);
    std::vector<float> w = wave(103, 0.19), mom((size_t)73 * d);
    std::vector<double> a((size_t)73 * d), b(a.size());
    GradR r;
    r.x = rg.x.data();
    r.y = rg.y.data();
    r.w = w.data();
    r.d = d;
    r.mom = mom.data();
    r.out = a.data();
    CpuExec ce;
    pairs::run(ce, nf.f, r, t);
    r.out = b.data();
    PlainExec pe;
    pairs::run(pe, nf.f, r, t);
    check(rel_diff(a, b, a.size()) < 1e-4, tag + " x GradR: tiles == plain (" + std::to_string(rel_diff(a, b, a.size())) + ")");
  }
  {  // SoftmaxR over 3 heads of 19 queries and 35 keys, masked, both causal alignments
    const int H = 3, n = 19, m = 35, dv = 20;
    std::vector<float> q = wave((size_t)H * n * d, 0.13), k = wave((size_t)H * m * d, 0.21), v = wave((size_t)H * m * dv, 0.41);
    std::vector<float> bias = wave((size_t)H * m, 0.7);
    std::vector<uint8_t> mask(m, 1);
    mask[3] = 0;
    mask[34] = 0;
    pairs::PairTask t = pairs::PairTask::batched(d, q.data(), n, k.data(), m, H);
    for (int causal = 0; causal < 3; ++causal) {
      SoftmaxR r;
      r.v = v.data();
      r.bias = bias.data();
      r.mask = mask.data();
      r.heads = H;
      r.dv = dv;
      r.n = n;
      r.m = m;
      r.causal = causal > 0;
      r.shift = causal == 1 ? m - n : 0;
      std::vector<float> a((size_t)H * n * dv), b(a.size());
      r.out = a.data();
      CpuExec ce;
      pairs::run(ce, nf.f, r, t);
      r.out = b.data();
      PlainExec pe;
      pairs::run(pe, nf.f, r, t);
      check(rel_diff(a, b, a.size()) < 2e-5, tag + " x SoftmaxR causal=" + std::to_string(causal) + ": tiles == plain");
    }
  }
}

// Reductions of squared distances: HelmSumR, SpectrumR, KnnR, ArgminR.
void distance_reductions(int d) {
  const std::string tag = "distance d=" + std::to_string(d);
  Ragged rg(d);
  const idx slots = rg.task.slots();
  std::vector<float> w = wave(103, 0.11);
  for (float& v : w) v = std::fabs(v) + 0.1f;
  // fp64 reference per slot: (problem, target) -> list of sources.
  auto each = [&](auto&& fn) {
    for (size_t p = 0; p < rg.task.problems.size(); ++p) {
      const pairs::Problem& pr = rg.task.problems[p];
      for (idx i = 0; i < rg.task.targets.size(pr.t); ++i) {
        const float* x = rg.x.data() + (rg.task.targets.off[(size_t)pr.t] + i) * d;
        fn(rg.task.slot0[p] + i, x, rg.task.sources.off[(size_t)pr.s], rg.task.sources.size(pr.s));
      }
    }
  };
  {
    HelmSumR r;
    r.w = w.data();
    r.kre = 2.0;
    r.kim = 0.3;
    r.eps2 = 0.01;
    std::vector<double> a((size_t)(2 * slots)), b(a), ref(a);
    r.out = a.data();
    CpuExec ce;
    pairs::run(ce, DistF{}, r, rg.task);
    r.out = b.data();
    PlainExec pe;
    pairs::run(pe, DistF{}, r, rg.task);
    each([&](idx slot, const float* x, idx j0, idx m) {
      for (idx j = j0; j < j0 + m; ++j) {
        double r2 = r2_of(x, rg.y.data() + j * d, d), rr = std::sqrt(r2), amp = w[(size_t)j] * std::exp(-0.3 * rr) / std::sqrt(r2 + 0.01);
        ref[(size_t)(2 * slot)] += amp * std::cos(2.0 * rr);
        ref[(size_t)(2 * slot + 1)] += amp * std::sin(2.0 * rr);
      }
    });
    check(rel_diff(a, ref, a.size()) < 1e-5 && rel_diff(b, ref, b.size()) < 1e-5, tag + " x HelmSumR: tiles, plain == fp64");
  }
  {
    std::vector<double> kre{0.0, 1.5, 3.0}, kim{0.4, 0.1, 0.0};
    SpectrumR r;
    r.w = w.data();
    r.kre = kre.data();
    r.kim = kim.data();
    r.nw = 3;
    r.eps2 = 0.01;
    std::vector<double> a((size_t)(6 * slots)), b(a), ref(a);
    r.out = a.data();
    CpuExec ce;
    pairs::run(ce, DistF{}, r, rg.task);
    r.out = b.data();
    PlainExec pe;
    pairs::run(pe, DistF{}, r, rg.task);
    each([&](idx slot, const float* x, idx j0, idx m) {
      for (idx j = j0; j < j0 + m; ++j) {
        double r2 = r2_of(x, rg.y.data() + j * d, d), rr = std::sqrt(r2);
        for (int q = 0; q < 3; ++q) {
          double amp = w[(size_t)j] * std::exp(-kim[q] * rr) / std::sqrt(r2 + 0.01);
          ref[(size_t)(6 * slot + 2 * q)] += amp * std::cos(kre[q] * rr);
          ref[(size_t)(6 * slot + 2 * q + 1)] += amp * std::sin(kre[q] * rr);
        }
      }
    });
    check(rel_diff(a, ref, a.size()) < 1e-5 && rel_diff(b, ref, b.size()) < 1e-5, tag + " x SpectrumR: tiles, plain == fp64");
  }
  {
    const int k = 5;
    KnnR r;
    r.k = k;
    std::vector<int32_t> a((size_t)(k * slots)), b(a), ref(a);
    std::vector<float> ra(a.size()), rb(a.size());
    r.ids = a.data();
    r.r2 = ra.data();
    CpuExec ce;
    pairs::run(ce, DistF{}, r, rg.task);
    r.ids = b.data();
    r.r2 = rb.data();
    PlainExec pe;
    pairs::run(pe, DistF{}, r, rg.task);
    each([&](idx slot, const float* x, idx j0, idx m) {
      std::vector<std::pair<double, int32_t>> all;
      for (idx j = j0; j < j0 + m; ++j) all.push_back({r2_of(x, rg.y.data() + j * d, d), (int32_t)j});
      std::sort(all.begin(), all.end());
      for (int q = 0; q < k; ++q) ref[(size_t)(slot * k + q)] = all[(size_t)q].second;
    });
    check(a == ref && b == ref, tag + " x KnnR: tiles, plain == fp64 order");
  }
  {
    ArgminR r;
    std::vector<int32_t> a((size_t)slots), b(a), ref(a);
    std::vector<float> ba((size_t)slots), bb(ba);
    std::vector<double> bref((size_t)slots);
    r.arg = a.data();
    r.best = ba.data();
    CpuExec ce;
    pairs::run(ce, DistF{}, r, rg.task);
    r.arg = b.data();
    r.best = bb.data();
    PlainExec pe;
    pairs::run(pe, DistF{}, r, rg.task);
    each([&](idx slot, const float* x, idx j0, idx m) {
      double best = INFINITY;
      for (idx j = j0; j < j0 + m; ++j) {
        double r2 = r2_of(x, rg.y.data() + j * d, d);
        if (r2 < best) {
          best = r2;
          ref[(size_t)slot] = (int32_t)j;
        }
      }
      bref[(size_t)slot] = best;
    });
    check(a == ref && b == ref && rel_diff(ba, bref, ba.size()) < 1e-5 && rel_diff(bb, bref, bb.size()) < 1e-5,
          tag + " x ArgminR: tiles, plain == fp64");
  }
}

// Each real kernel's sums against fp64, on one problem with weights (the
// kernels ref_kernel defines; every kernel of the table is held to the plain
// loops by value_reductions, and to fp64 in tests/kernels.test.ts).
void kernel_references(int d) {
  const idx n = 150, m = 230;
  std::vector<float> src = wave((size_t)(m * d), 0.37), tgt = wave((size_t)(n * d), 0.29, 1.0), w = wave((size_t)m, 0.11);
  for (float& v : w) v = std::fabs(v) + 0.1f;
  tgt[0] = src[0];  // a target on a source: r = 0 exactly
  for (int c = 0; c < d; ++c) tgt[(size_t)c] = src[(size_t)c];
  auto one = [&](int kind, auto exec_tag, const char* name) {
    using Exec = decltype(exec_tag);
    if (std::isnan(ref_kernel(kind, 1.0))) return;
    KernelSumJob j;
    j.d = d;
    j.k = spec(kind);
    j.src = src.data();
    j.m = m;
    j.w = w.data();
    j.tgt = tgt.data();
    j.n = n;
    std::vector<double> out((size_t)n), ref((size_t)n, 0.0);
    j.out = out.data();
    Exec ex;
    points::kernel_sum(ex, j);
    for (idx i = 0; i < n; ++i)
      for (idx q = 0; q < m; ++q) ref[(size_t)i] += w[(size_t)q] * ref_kernel(kind, r2_of(tgt.data() + i * d, src.data() + q * d, d));
    check(rel_diff(out, ref, (size_t)n) < 1e-5, std::string(name) + " kernel " + std::to_string(kind) + " d=" + std::to_string(d) + ": sums == fp64");
  };
#define SF_T(e, name, pos, pd, eps) \
  one(e, CpuExec(), "tiles");       \
  one(e, PlainExec(), "plain");
  SF_REAL_KERNELS(SF_T)
#undef SF_T
  // Gradient sums against fp64 central differences of the fp64 sums.
  auto grad = [&](int kind, auto exec_tag, const char* name) {
    using Exec = decltype(exec_tag);
    if (std::isnan(ref_kernel(kind, 1.0))) return;
    KernelGradJob j;
    j.d = d;
    j.k = spec(kind);
    j.src = src.data();
    j.m = m;
    j.w = w.data();
    j.tgt = tgt.data() + d;  // not the target placed on a source
    j.n = n - 1;
    std::vector<double> out((size_t)((n - 1) * d));
    j.out = out.data();
    Exec ex;
    points::kernel_grad(ex, j);
    double worst = 0, scale = 0;
    for (idx i = 0; i < 3; ++i)
      for (int c = 0; c < d; ++c) {
        std::vector<double> x(tgt.begin() + (i + 1) * d, tgt.begin() + (i + 2) * d);
        auto sum = [&]() {
          double s = 0;
          for (idx q = 0; q < m; ++q) {
            double r2 = 0;
            for (int k = 0; k < d; ++k) r2 += (x[(size_t)k] - src[(size_t)(q * d + k)]) * (x[(size_t)k] - src[(size_t)(q * d + k)]);
            s += w[(size_t)q] * ref_kernel(kind, r2);
          }
          return s;
        };
        const double h = 1e-6;
        x[(size_t)c] += h;
        double up = sum();
        x[(size_t)c] -= 2 * h;
        double down = sum();
        double fd = (up - down) / (2 * h);
        worst = std::max(worst, std::fabs(fd - out[(size_t)(i * d + c)]));
        scale = std::max(scale, std::fabs(fd));
      }
    check(worst < 1e-4 * scale, std::string(name) + " kernel " + std::to_string(kind) + " d=" + std::to_string(d) + ": gradient sums == fp64 differences");
  };
#define SF_T(e, name, pos, pd, eps) \
  grad(e, CpuExec(), "tiles");      \
  grad(e, PlainExec(), "plain");
  SF_REAL_KERNELS(SF_T)
#undef SF_T
}

// An attention job of one shape: B x H problems of n queries, m keys, d
// coordinates and dv values; align 0 none, 1 bottom-right, 2 top-left causal.
AttentionJob attention_job(int B, int H, int d, idx n, idx m, int dv, int kind, float beta, int align, const std::vector<float>& Q,
                           const std::vector<float>& K, const std::vector<float>& V, const uint8_t* mask) {
  AttentionJob a;
  a.batch = B;
  a.heads = H;
  a.d = d;
  a.n = n;
  a.m = m;
  a.dv = dv;
  a.kind = kind;
  a.beta = beta;
  a.k = spec(kind == A_DOT ? K_GAUSSIAN : kind);
  a.causal = align > 0;
  a.top_left = align == 2;
  a.q = Q.data();
  a.key = K.data();
  a.v = V.data();
  a.mask = mask;
  return a;
}

// attention_grad on the exec Exec: g = { dQ, dK, dV }, p the parameter's
// derivative per problem; with the forward's saved out and lse when given.
template <class Exec>
void attention_grads(const AttentionJob& a, const std::vector<float>& dout, std::vector<float> (&g)[3], std::vector<double>& p,
                     const float* out = nullptr, const float* lse = nullptr) {
  const size_t bh = (size_t)a.batch * a.heads;
  AttentionGradJob j;
  j.a = a;
  j.a.out = nullptr;
  j.a.lse = nullptr;
  j.dout = dout.data();
  j.fwd_out = out;
  j.fwd_lse = lse;
  g[0].assign(bh * a.n * a.d, 0.0f);
  g[1].assign(bh * a.m * a.d, 0.0f);
  g[2].assign(bh * a.m * a.dv, 0.0f);
  p.assign(bh, 0.0);
  j.dq = g[0].data();
  j.dk = g[1].data();
  j.dv = g[2].data();
  j.dparam = p.data();
  Exec ex;
  points::attention_grad(ex, j);
}

// Attention of every logit kind against an fp64 softmax.
void attention_references() {
  const int B = 2, H = 2, d = 9, n = 21, m = 40, dv = 6;
  std::vector<float> Q = wave((size_t)B * H * n * d, 0.13), K = wave((size_t)B * H * m * d, 0.21), V = wave((size_t)B * H * m * dv, 0.41);
  std::vector<uint8_t> mask((size_t)B * m, 1);
  mask[5] = 0;
  mask[(size_t)m + 39] = 0;
  std::vector<int> kinds = {A_DOT};
#define SF_T(e, name, pos, pd, eps) kinds.push_back(e);
  SF_REAL_KERNELS(SF_T)
#undef SF_T
  for (int kind : kinds)
    for (int align = 0; align < 3; ++align) {
      AttentionJob a = attention_job(B, H, d, n, m, dv, kind, 0.8f, align, Q, K, V, mask.data());
      std::vector<float> o1((size_t)B * H * n * dv), o2(o1.size());
      std::vector<double> ref(o1.size(), 0.0);
      a.out = o1.data();
      CpuExec ce;
      points::attention(ce, a);
      a.out = o2.data();
      PlainExec pe;
      points::attention(pe, a);
      for (int bh = 0; bh < B * H; ++bh)
        for (int i = 0; i < n; ++i) {
          std::vector<double> s((size_t)m, -INFINITY);
          double mx = -INFINITY;
          for (int j = 0; j < m; ++j) {
            bool seen = mask[(size_t)((bh / H) * m + j)] && (!a.causal || j <= i + (a.top_left ? 0 : m - n));
            if (!seen) continue;
            const float* q = Q.data() + ((size_t)bh * n + i) * d;
            const float* k = K.data() + ((size_t)bh * m + j) * d;
            double r2 = r2_of(q, k, d), dot = 0;
            for (int c = 0; c < d; ++c) dot += (double)q[c] * k[c];
            s[(size_t)j] = kind == A_DOT ? 0.8 * dot : kind == K_GAUSSIAN ? -r2 * 0.25 : 0.8 * ref_kernel(kind, r2);
            mx = std::max(mx, s[(size_t)j]);
          }
          double l = 0;
          double* o = ref.data() + ((size_t)bh * n + i) * dv;
          for (int j = 0; j < m; ++j) {
            if (s[(size_t)j] == -INFINITY) continue;
            double e = std::exp(s[(size_t)j] - mx);
            l += e;
            for (int c = 0; c < dv; ++c) o[c] += e * V[((size_t)bh * m + j) * dv + c];
          }
          for (int c = 0; c < dv; ++c) o[c] = l > 0 ? o[c] / l : 0.0;
        }
      check(rel_diff(o1, ref, ref.size()) < 2e-5 && rel_diff(o2, ref, ref.size()) < 2e-5,
            "attention kind " + std::to_string(kind) + " align " + std::to_string(align) + ": tiles, plain == fp64");
      // Its gradients (AttnGradR both ways): the tiles against the plain loops.
      std::vector<float> dout = wave(o1.size(), 0.31);
      std::vector<float> g1[3], g2[3];
      std::vector<double> p1, p2;
      attention_grads<CpuExec>(a, dout, g1, p1);
      attention_grads<PlainExec>(a, dout, g2, p2);
      check(rel_diff(g1[0], g2[0], g1[0].size()) < 1e-4 && rel_diff(g1[1], g2[1], g1[1].size()) < 1e-4 &&
                rel_diff(g1[2], g2[2], g1[2].size()) < 1e-4 && rel_diff(p1, p2, p1.size()) < 1e-4,
            "attention gradients kind " + std::to_string(kind) + " align " + std::to_string(align) + ": tiles == plain");
    }
}

// Attention's gradients at sizes where the CPU's one pass cuts the keys
// into several chunks whose query buffers are summed (and d, dv past one
// vector): against the plain loops' two passes; the forward's saved output
// and log-sum-exp give the same numbers as the forward run again.
void attention_grad_chunks() {
  const int d = 37, dv = 19;
  const idx n = 150, m = 330;
  std::vector<float> Q = wave((size_t)(n * d), 0.17), K = wave((size_t)(m * d), 0.23), V = wave((size_t)(m * dv), 0.37);
  std::vector<float> dout = wave((size_t)(n * dv), 0.29);
  std::vector<uint8_t> mask((size_t)m, 1);
  mask[7] = mask[200] = 0;
  for (int kind : {(int)A_DOT, (int)K_GAUSSIAN, (int)K_ENERGY})
    for (int align = 0; align < 3; ++align) {
      AttentionJob a = attention_job(1, 1, d, n, m, dv, kind, 0.3f, align, Q, K, V, align == 1 ? mask.data() : nullptr);
      std::vector<float> out((size_t)(n * dv)), lse((size_t)n);
      a.out = out.data();
      a.lse = lse.data();
      CpuExec ce;
      points::attention(ce, a);
      std::vector<float> g[3][3];
      std::vector<double> p[3];
      attention_grads<CpuExec>(a, dout, g[0], p[0]);
      attention_grads<CpuExec>(a, dout, g[1], p[1], out.data(), lse.data());
      attention_grads<PlainExec>(a, dout, g[2], p[2]);
      const std::string what = "attention gradients in chunks, kind " + std::to_string(kind) + " align " + std::to_string(align);
      check(g[0][0] == g[1][0] && g[0][1] == g[1][1] && g[0][2] == g[1][2] && p[0] == p[1], what + ": saved forward == recomputed");
      check(rel_diff(g[0][0], g[2][0], g[0][0].size()) < 1e-4 && rel_diff(g[0][1], g[2][1], g[0][1].size()) < 1e-4 &&
                rel_diff(g[0][2], g[2][2], g[0][2].size()) < 1e-4 && rel_diff(p[0], p[2], 1) < 1e-3,
            what + ": one pass == two passes");  // dParam: one total of cancelling terms, in another order
    }
}

// Gradient sums of a set against itself (self): the CPU takes each pair once
// for both points, in chunks of panels; the same as the sums of the set
// against a copy of itself (times 2 w_k), on the tiles and on the plain
// loops, for signed weights, at sizes past one panel and one chunk.
void grad_self() {
  for (int d : {3, 37}) {
    const idx n = 700;
    std::vector<float> x = wave((size_t)(n * d), 0.41), w = wave((size_t)n, 0.7, 0.2);
    for (int kind : {(int)K_ENERGY, (int)K_GAUSSIAN, (int)K_COULOMB}) {
      std::vector<double> out[3];
      for (int run = 0; run < 3; ++run) {
        KernelGradJob j;
        j.d = d;
        j.k = spec(kind);
        j.src = x.data();
        j.m = n;
        j.w = w.data();
        j.n = n;
        j.self = run != 1;
        std::vector<float> copy(x);
        j.tgt = run == 1 ? copy.data() : x.data();
        out[run].assign((size_t)(n * d), 0.0);
        j.out = out[run].data();
        if (run < 2) {
          CpuExec ex;
          points::kernel_grad(ex, j);
        } else {
          PlainExec ex;
          points::kernel_grad(ex, j);
        }
      }
      // self gives 2 w_k g_k, the gradient of the self-energy: the same of the
      // sums against the copy. fp64: h = 2 dG/d(r^2) by central differences,
      // and the scale of the terms sum_l |2 w_k w_l h (x_k - x_l)| that fp32
      // rounding is measured by.
      for (idx k = 0; k < n; ++k)
        for (int c = 0; c < d; ++c) out[1][(size_t)(k * d + c)] *= 2.0 * w[(size_t)k];
      std::vector<double> ref((size_t)(n * d), 0.0);
      double scale = 0;
      for (idx k = 0; k < n; ++k) {
        std::vector<double> abs_terms((size_t)d, 0.0);
        for (idx l = 0; l < n; ++l) {
          if (l == k) continue;
          const double r2 = r2_of(x.data() + k * d, x.data() + l * d, d), e = 1e-6 * std::max(r2, 1e-3);
          const double h = (ref_kernel(kind, r2 + e) - ref_kernel(kind, r2 - e)) / e;
          for (int c = 0; c < d; ++c) {
            const double t = 2.0 * w[(size_t)k] * w[(size_t)l] * h * ((double)x[(size_t)(k * d + c)] - (double)x[(size_t)(l * d + c)]);
            ref[(size_t)(k * d + c)] += t;
            abs_terms[(size_t)c] += std::fabs(t);
          }
        }
        for (double v : abs_terms) scale = std::max(scale, v);
      }
      auto worst = [&](const std::vector<double>& o) {
        double m = 0;
        for (size_t i = 0; i < o.size(); ++i) m = std::max(m, std::fabs(o[i] - ref[i]));
        return m / scale;
      };
      const std::string what = "self gradient sums kernel " + std::to_string(kind) + " d=" + std::to_string(d);
      check(worst(out[0]) < 5e-5 && worst(out[1]) < 5e-5 && worst(out[2]) < 5e-5, what + ": one pass per pair, both ways, plain == fp64");
    }
  }
}

// Coordinates of 1e20 (and 1e-25): scaled before squaring, finite and right.
void scale_references() {
  const int d = 4;
  const idx n = 40, m = 60;
  for (double amp : {1e20, 1e-25}) {
    std::vector<float> src = wave((size_t)(m * d), 0.37, 0, amp), tgt = wave((size_t)(n * d), 0.29, 1.0, amp);
    for (int kind : {K_ENERGY, K_COULOMB}) {
      KernelSumJob j;
      j.d = d;
      j.k = spec(kind);
      j.k.eps2 = (float)(1e-4 * amp * amp);
      j.src = src.data();
      j.m = m;
      j.tgt = tgt.data();
      j.n = n;
      std::vector<double> out((size_t)n), ref((size_t)n, 0.0);
      j.out = out.data();
      CpuExec ex;
      points::kernel_sum(ex, j);
      for (idx i = 0; i < n; ++i)
        for (idx q = 0; q < m; ++q) {
          double r2 = r2_of(tgt.data() + i * d, src.data() + q * d, d);
          ref[(size_t)i] += kind == K_ENERGY ? -std::sqrt(r2) : 1.0 / std::sqrt(r2 + (double)j.k.eps2);
        }
      bool finite = true;
      for (double v : out) finite &= std::isfinite(v);
      check(finite && rel_diff(out, ref, (size_t)n) < 1e-5, "kernel " + std::to_string(kind) + " at coordinates ~" + std::to_string(amp) + ": finite and == fp64");
    }
  }
}

}  // namespace

void pairs_tests(int& passed, int& failed) {
  g_passed = &passed;
  g_failed = &failed;
  for (int d : {5, 130}) {
    for_each_value_formula([&](const auto& nf) { value_reductions(nf, d); });
    distance_reductions(d);
  }
  for (int d : {3, 7, 64}) kernel_references(d);
  attention_references();
  attention_grad_chunks();
  grad_self();
  scale_references();
  bool threw = false;
  try {
    pairs::with_kernel(K_COUNT + 3, [](auto) { return 0; });
  } catch (const Error&) {
    threw = true;
  }
  check(threw, "an unknown kernel kind is an error, not a fallback");
}
