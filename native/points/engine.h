// The pair engine: pair_reduce(exec, formula, reduction, task) evaluates a
// formula (cuda/pairs_k.h) on every (target, source) pair of each problem of
// a task and folds the values into a reduction (cuda/reduce_k.h), in source
// order, without ever storing the N x M matrix (memory O(N + M)).
//
// A task holds ragged segments of target and source points and a list of
// problems (target segment, source segment): one problem for a potential,
// one per (batch, head) for attention, one per pair of sets for a set matrix.
// Every (problem, target) pair has a slot, where the reduction's per-target
// results go.
//
// Executions:
// - CpuExec: register-blocked tiles. Sources are centred on their segment's
//   mean (every formula but the inner product depends on x - y only, and
//   centring keeps |x|^2 + |y|^2 - 2 x.y from cancelling) and packed in
//   blocks of TJ = 32 ([block][d][32]); targets are packed per panel of 64 in
//   micro-tiles of TR rows ([tile][d][TR]). A packed GEMM-style micro-kernel
//   accumulates the TR x 32 inner products in vector registers over chunks of
//   KC coordinates (the source chunk stays in L1 while every micro-tile of
//   the panel uses it); the epilogue forms r^2 = |x|^2 + |y|^2 - 2 x.y,
//   recomputes by differences the pairs closer than 2^-7 of their norms (a
//   point against itself is at distance 0, not sqrt(eps) |x|), and evaluates
//   the formula over the tile with its kind fixed at compile time (the exp
//   and sqrt of pairs_k.h vectorise). Work items are (problem, panel), shared
//   out over the thread pool; each writes only its own slots, in source
//   order: the same numbers for any thread count.
// - Any other exec (the plain loops the kernel tests run, standing in for the
//   GPU): one target per item, pairs by differences, the same Reduction::pair.
// - CudaExec (cuda/pairs_engine.cuh): one thread block per target tile,
//   source tiles staged in shared memory, one launch per call.
// Points whose coordinates reach 2^40 (or stay below 2^-40) are scaled by a
// power of two s before squaring; formula and reduction are rescaled to
// match, so 1e20-sized inputs give finite, correct sums.
#pragma once
#include "../cancel.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "../../cuda/pairs_k.h"
#include "../../cuda/reduce_k.h"
#include "../errors.h"
#include "../exec_cpu.h"
#include "../host_cache.h"

namespace sf {
namespace pairs {

constexpr int TJ = 32;  // sources per packed block
constexpr int TR = 8;   // targets per micro-tile
constexpr int TP = 64;  // targets per work item (panel)
constexpr int KC = 128; // coordinates per chunk of the inner products

struct Segments {
  const float* x = nullptr;  // [points, d]
  std::vector<idx> off{0};   // segment s is points [off[s], off[s + 1])
  idx points() const { return off.back(); }
  idx size(int s) const { return off[(size_t)s + 1] - off[(size_t)s]; }
  int count() const { return (int)off.size() - 1; }
};

struct Problem {
  int t, s;  // target segment, source segment
};

struct PairTask {
  int d = 0;
  Segments targets, sources;
  std::vector<Problem> problems;
  std::vector<idx> slot0;  // first slot of each problem, and the total last
  CancelFlag cancel = nullptr;

  idx slots() const { return slot0.empty() ? 0 : slot0.back(); }
  void number_slots() {
    slot0.assign(problems.size() + 1, 0);
    for (size_t p = 0; p < problems.size(); ++p) slot0[p + 1] = slot0[p] + targets.size(problems[p].t);
  }
  // n targets against m sources.
  static PairTask one(int d, const float* tgt, idx n, const float* src, idx m) { return batched(d, tgt, n, src, m, 1); }
  // count problems of n targets against m sources, stored one after another.
  static PairTask batched(int d, const float* tgt, idx n, const float* src, idx m, int count) {
    PairTask t;
    t.d = d;
    t.targets.x = tgt;
    t.sources.x = src;
    for (int p = 0; p < count; ++p) {
      t.targets.off.push_back((idx)(p + 1) * n);
      t.sources.off.push_back((idx)(p + 1) * m);
      t.problems.push_back({p, p});
    }
    t.number_slots();
    return t;
  }
};

// The power of two the points are divided by before squaring: 1 unless the
// largest coordinate is past 2^40 or below 2^-40 (and not 0).
inline double pair_scale(const PairTask& t) {
  float mx = 0.0f;
  auto scan = [&](const float* x, idx n) {
    for (idx i = 0; i < n; ++i) mx = std::max(mx, std::fabs(x[i]));
  };
  scan(t.targets.x, t.targets.points() * t.d);
  if (t.sources.x != t.targets.x) scan(t.sources.x, t.sources.points() * t.d);
  if (!(mx > 0.0f) || (mx <= 0x1p40f && mx >= 0x1p-40f)) return 1.0;
  return std::ldexp(1.0, std::ilogb(mx));
}

// The scale s of a task's points (pair_scale), and the formula and the
// reduction for points divided by it.
template <class F, class R>
double rescale(const F& f0, const R& r0, const PairTask& task, F& f, R& r) {
  const double s = pair_scale(task);
  static_assert(F::metric != PM_R2_SHIFTED || R::shift_invariant,
                "a formula read off by a per-target constant needs a shift-invariant reduction");
  double factor = 1.0;
  f = s == 1.0 ? f0 : f0.rescaled(s, factor);
  if (!f.representable_as(f0))
    fail("E_RANGE", "the points' coordinates (about 2^" + std::to_string(std::ilogb(s)) +
                        ") put the kernel's parameters outside the fp32 range; rescale the points");
  r = r0.rescaled(s, factor);
  return s;
}

// ---------------------------------------------------------------------------
// What the plain loops and the GPU read of a task: the points divided by s
// where they run, and per problem its first slot, first target, first source
// and number of sources.
// (The host arrays stay in the FlatTask: on the CPU the pointers are theirs.)
struct FlatTask {
  const float* X = nullptr;
  const float* Y = nullptr;
  int np = 0;
  const idx *P0 = nullptr, *PT = nullptr, *PS = nullptr, *PM = nullptr;
  std::vector<idx> pt, ps, pm;
  FlatTask() = default;
  FlatTask(const FlatTask&) = delete;
};

template <class Exec>
void flatten(Exec& ex, const PairTask& task, double s, FlatTask& t) {
  const int d = task.d;
  auto scaled = [&](const float* x, idx n) -> const float* {
    if (s == 1.0) return ex.upload(x, n * d);
    std::vector<float> h((size_t)(n * d));
    const float inv = (float)(1.0 / s);
    for (size_t i = 0; i < h.size(); ++i) h[i] = x[i] * inv;
    float* dev = ex.template alloc<float>(n * d);
    ex.upload_into(dev, h.data(), n * d);
    return dev;
  };
  t.X = scaled(task.targets.x, task.targets.points());
  t.Y = task.sources.x == task.targets.x ? t.X : scaled(task.sources.x, task.sources.points());
  for (const Problem& p : task.problems) {
    t.pt.push_back(task.targets.off[(size_t)p.t]);
    t.ps.push_back(task.sources.off[(size_t)p.s]);
    t.pm.push_back(task.sources.size(p.s));
  }
  t.np = (int)task.problems.size();
  t.P0 = ex.upload(task.slot0.data(), t.np + 1);
  t.PT = ex.upload(t.pt.data(), t.np);
  t.PS = ex.upload(t.ps.data(), t.np);
  t.PM = ex.upload(t.pm.data(), t.np);
}

// The plain execution (and any exec without its own overload): one target
// per item, pairs by differences on scaled copies of the points.
template <class Exec, class F, class R>
void pair_reduce(Exec& ex, const F& f0, const R& r0, const PairTask& task) {
  const int d = task.d;
  F f;
  R r;
  const double s = rescale(f0, r0, task, f, r);
  const size_t mark = ex.mark();  // this call's copies are freed on return
  FlatTask t;
  flatten(ex, task, s, t);
  const float *X = t.X, *Y = t.Y;
  const int np = t.np;
  const idx *P0 = t.P0, *PT = t.PT, *PS = t.PS, *PM = t.PM;
  ex.for_n(task.slots(), [=] SF_LAMBDA(idx slot) {
    int lo = 0, hi = np - 1;  // the problem holding this slot
    while (lo < hi) {
      int mid = (lo + hi + 1) / 2;
      if (P0[mid] <= slot) lo = mid;
      else hi = mid - 1;
    }
    const idx p = lo;
    const float* x = X + (PT[p] + slot - P0[p]) * d;
    typename R::Acc acc;
    r.begin(acc, p, slot);
    for (idx j = PS[p], e = PS[p] + PM[p]; j < e; ++j)
      r.pair(acc, p, slot, j, f(pair_metric<F::metric>(x, Y + j * d, d)));
    r.end(acc, p, slot);
  });
  ex.sync();
  ex.release(mark);
}

// ---------------------------------------------------------------------------
// The CPU tiles.

typedef float f32x16 __attribute__((vector_size(64)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x4 __attribute__((vector_size(16)));

// Explicit vectors where a loop carries a sum or a max: the compiler keeps
// such a loop scalar without reassociation (-ffast-math, which we do not use).
inline f32x16 load16(const float* p) {
  f32x16 v;
  std::memcpy(&v, p, 64);
  return v;
}
// Sums and maxima of the lanes by halving (a fixed order: deterministic).
inline float hsum16(f32x16 v) {
  f32x8 a, b;
  std::memcpy(&a, &v, 32);
  std::memcpy(&b, reinterpret_cast<const char*>(&v) + 32, 32);
  a += b;
  f32x4 c, d;
  std::memcpy(&c, &a, 16);
  std::memcpy(&d, reinterpret_cast<const char*>(&a) + 16, 16);
  c += d;
  return (c[0] + c[2]) + (c[1] + c[3]);
}
// Where the ISA has no 16-lane register (AVX2, SSE), by two halves of 8
// lanes: GCC takes a 16-lane comparison apart lane by lane there, with a
// branch per lane (see cuda/lanes_k.h).
inline f32x16 vmax16(f32x16 a, f32x16 b) {
#if defined(__AVX512F__)
  return a > b ? a : b;
#else
  f32x8 x[2], y[2];
  std::memcpy(x, &a, 64);
  std::memcpy(y, &b, 64);
  for (int k = 0; k < 2; ++k) x[k] = x[k] > y[k] ? x[k] : y[k];
  std::memcpy(&a, x, 64);
  return a;
#endif
}
inline float hmax16(f32x16 v) {
  f32x8 a, b;
  std::memcpy(&a, &v, 32);
  std::memcpy(&b, reinterpret_cast<const char*>(&v) + 32, 32);
  a = a > b ? a : b;
  f32x4 c, d;
  std::memcpy(&c, &a, 16);
  std::memcpy(&d, reinterpret_cast<const char*>(&a) + 16, 16);
  c = c > d ? c : d;
  float x = c[0] > c[2] ? c[0] : c[2], y = c[1] > c[3] ? c[1] : c[3];
  return x > y ? x : y;
}

// Sources of one segment, centred (unless the formula reads inner products)
// and scaled, in blocks of TJ with coordinates interleaved.
struct Packed {
  idx m = 0, blocks = 0, first = 0;
  std::vector<float> c;     // [d] the centre (unscaled)
  HostArray<float> y;       // [blocks][d][TJ], zero padded
  HostArray<float> norm;    // [blocks * TJ]
};

// (The blocks are packed on the pool unless the call is itself one of its tasks.)
inline Packed pack_sources(const CpuExec& ex, const float* x, idx first, idx m, int d, bool centre, double s) {
  Packed p;
  p.m = m;
  p.first = first;
  p.blocks = (m + TJ - 1) / TJ;
  p.c.assign((size_t)d, 0.0f);
  const float* y = x + first * d;
  if (centre) {
    std::vector<double> c((size_t)d, 0.0);
    for (idx j = 0; j < m; ++j)
      for (int k = 0; k < d; ++k) c[(size_t)k] += y[j * d + k];
    for (int k = 0; k < d; ++k) p.c[(size_t)k] = (float)(c[(size_t)k] / (double)m);
  }
  const float inv = (float)(1.0 / s);
  p.y = HostArray<float>((size_t)(p.blocks * d * TJ));
  p.norm = HostArray<float>((size_t)(p.blocks * TJ));
  ex.for_ranges(p.blocks, 16, [&](idx b0, idx b1) {
    std::fill_n(p.y.data() + b0 * d * TJ, (size_t)((b1 - b0) * d * TJ), 0.0f);
    std::fill_n(p.norm.data() + b0 * TJ, (size_t)((b1 - b0) * TJ), 0.0f);
    for (idx j = b0 * TJ; j < std::min(m, b1 * TJ); ++j) {
      idx b = j / TJ, l = j % TJ;
      double n2 = 0;
      for (int k = 0; k < d; ++k) {
        float v = (y[j * d + k] - p.c[(size_t)k]) * inv;
        p.y[(size_t)((b * d + k) * TJ + l)] = v;
        n2 += (double)v * v;
      }
      p.norm[(size_t)j] = (float)n2;
    }
  });
  return p;
}

// acc[r][j] (+)= sum_{k < kn} x[k][r] y[k][j] for one micro-tile and one
// block (the first chunk of coordinates starts from 0): 2 TR vectors of 16
// accumulators, one broadcast per target and coordinate.
// The register block of one pass: MR rows x 2 MW sources of accumulators,
// as many as the instruction set has vector registers for (AVX-512: 16 of
// 32 zmm, the whole 8 x 32 tile in one pass; AVX2: 8 of 16 ymm, four passes;
// SSE2: 8 of 16 xmm, eight passes). Wider blocks than the registers hold
// spill every accumulator to the stack on each step.
#if defined(__AVX512F__)
constexpr int MW = 16, MR = TR;
#elif defined(__AVX__)
constexpr int MW = 8, MR = 4;
#else
constexpr int MW = 4, MR = 4;
#endif
typedef float fvecm __attribute__((vector_size(MW * 4)));
static_assert(TJ % (2 * MW) == 0 && TR % MR == 0, "the micro-kernel's passes tile the block");

// (xs: the floats between one coordinate's TR targets and the next's; TR
// when packed, the row length when x is rows of points read as columns.)
inline void micro_dot(const float* xp, const float* yb, int kn, bool first, float (&acc)[TR][TJ], idx xs = TR) {
  for (int c = 0; c < TJ; c += 2 * MW)
    for (int r0 = 0; r0 < TR; r0 += MR) {
      fvecm a[MR][2];
      for (int r = 0; r < MR; ++r) {
        if (first) {
          a[r][0] = fvecm{};
          a[r][1] = fvecm{};
          continue;
        }
        std::memcpy(&a[r][0], acc[r0 + r] + c, MW * 4);
        std::memcpy(&a[r][1], acc[r0 + r] + c + MW, MW * 4);
      }
      for (int k = 0; k < kn; ++k) {
        fvecm y0, y1;
        std::memcpy(&y0, yb + (size_t)k * TJ + c, MW * 4);
        std::memcpy(&y1, yb + (size_t)k * TJ + c + MW, MW * 4);
        const float* xk = xp + (size_t)k * xs + r0;
        for (int r = 0; r < MR; ++r) {
          const float xv = xk[r];
          a[r][0] += xv * y0;
          a[r][1] += xv * y1;
        }
      }
      for (int r = 0; r < MR; ++r) {
        std::memcpy(acc[r0 + r] + c, &a[r][0], MW * 4);
        std::memcpy(acc[r0 + r] + c + MW, &a[r][1], MW * 4);
      }
    }
}

// Reductions with a vectorised tile form on the CPU (see below).
template <class R, class = void>
struct has_tile : std::false_type {};
template <class R>
struct has_tile<R, decltype(std::declval<const R&>().tile((typename R::Acc*)nullptr, idx(0), idx(0), 0, idx(0), 0,
                                                          std::declval<const float (&)[TR][TJ]>()))>
    : std::true_type {};

template <class R, class = void>
struct has_keys_needed : std::false_type {};
template <class R>
struct has_keys_needed<R, decltype((void)std::declval<const R&>().keys_needed(idx(0), idx(0)))> : std::true_type {};

// Reductions that also add into the sources' rows (R::scatters): a tile
// reads the pair values once, adds to its targets (acc) and leaves its
// sources' weights in the engine's stash; after the panel's tiles,
// scatter_block adds the block's sources' side into a column buffer of
// R::col_floats() floats (laid out as the reduction likes), and col_end
// finishes each source from the summed buffers. And reductions over one
// segment against itself whose pair (i, j) does the work of (j, i) as well
// (R::symmetric): the engine visits only the blocks at or after the panel's
// own, and the tile takes the pairs j > i of them.
template <class R, class = void>
struct scatters : std::false_type {};
template <class R>
struct scatters<R, std::enable_if_t<R::scatters>> : std::true_type {};
template <class R, class = void>
struct symmetric : std::false_type {};
template <class R>
struct symmetric<R, std::enable_if_t<R::symmetric>> : std::true_type {};

template <class R>
inline void reduce_tile(const R& r, typename R::Acc* acc, idx p, idx slot, int rows, idx j0, int cnt,
                        const float (&g)[TR][TJ], float (*stash)[TJ]) {
  if constexpr (scatters<R>::value) {
    r.tile(acc, p, slot, rows, j0, cnt, g, stash);
  } else if constexpr (has_tile<R>::value) {
    (void)stash;
    r.tile(acc, p, slot, rows, j0, cnt, g);
  } else {
    (void)stash;
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cnt; ++j) r.pair(acc[i], p, slot + i, j0 + j, g[i][j]);
  }
}

// How many column buffers a scattering reduction's work is cut into per
// problem: chunks of panels (every G-th panel of a problem, so that causal
// or triangular work shares out evenly), each adding into its own buffer,
// the buffers then summed in order. G follows from the shape alone, never
// from the thread count: the same sums on every machine. Up to 16 chunks in
// all where there are panels for them, and the buffers within 16 MiB
// (zeroing and summing them is memory traffic the pairs do not pay for).
inline int column_groups(idx panels_per_problem, idx problems, idx floats) {
  idx g = std::max<idx>(1, std::min<idx>(panels_per_problem, (16 + problems - 1) / problems));
  while (g > 1 && g * floats * 4 > ((idx)16 << 20)) --g;
  return (int)g;
}

template <class F, class R>
void pair_reduce(CpuExec& ex, const F& f0, const R& r0, const PairTask& task) {
  const int d = task.d;
  F f;
  R r;
  const double s = rescale(f0, r0, task, f, r);
  constexpr int metric = F::metric;
  const bool centre = metric != PM_DOT;
  const float inv = (float)(1.0 / s);
  if constexpr (symmetric<R>::value)
    if (task.targets.x != task.sources.x || task.targets.off != task.sources.off)
      fail("E_DEVICE", "internal error: a symmetric reduction needs its targets to be its sources");

  // Pack every source segment a problem uses, once.
  std::vector<int> used;
  for (const Problem& p : task.problems) used.push_back(p.s);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  std::vector<Packed> packs((size_t)task.sources.count());
  ex.for_items((idx)used.size(), [&](idx u) {
    int sg = used[(size_t)u];
    packs[(size_t)sg] = pack_sources(ex, task.sources.x, task.sources.off[(size_t)sg], task.sources.size(sg), d, centre, s);
  });

  // Work items: (problem, panel of TP targets).
  std::vector<std::pair<int, idx>> items;
  for (size_t p = 0; p < task.problems.size(); ++p)
    for (idx i0 = 0; i0 < task.targets.size(task.problems[p].t); i0 += TP) items.push_back({(int)p, i0});

  struct Scratch {
    std::vector<float> xp;
    float xn[TP];
    alignas(64) float dots[TP / TR][TR][TJ];
    alignas(64) float stash[TP][TJ];  // a scattering reduction's weights of the panel's rows for one block
    float g[TR][TJ];
    typename R::Acc acc[TP];
  };
  // One panel against every source block of its problem (from its own block
  // on, for a symmetric reduction), cols the buffer it scatters into.
  auto panel = [&](Scratch& sc, const std::pair<int, idx>& item, float* cols) {
    constexpr int TILES = TP / TR;
    if (task.cancel && *task.cancel) fail("E_ABORTED", "aborted");
    const int p = item.first;
    const idx i0 = item.second;
    const Problem& pr = task.problems[(size_t)p];
    const Packed& src = packs[(size_t)pr.s];
    const idx nt = task.targets.size(pr.t);
    const int rows = (int)std::min<idx>(TP, nt - i0);
    const int tiles = (rows + TR - 1) / TR;
    const float* x = task.targets.x + (task.targets.off[(size_t)pr.t] + i0) * d;
    float* xp = sc.xp.data();
    float* xn = sc.xn;
    auto& dots = sc.dots;
    auto& g = sc.g;
    typename R::Acc* acc = sc.acc;
    static_assert(TP / TR == TILES, "");
    // Targets of the panel: centred on the sources' centre, scaled, packed
    // [tile][d][TR]; rows past the end repeat the last target.
    for (int i = 0; i < tiles * TR; ++i) {
      const float* xi = x + (size_t)std::min(i, rows - 1) * d;
      float* dst = xp + (size_t)(i / TR) * d * TR + (i % TR);
      double n2 = 0;
      for (int k = 0; k < d; ++k) {
        float v = (xi[k] - src.c[(size_t)k]) * inv;
        dst[(size_t)k * TR] = v;
        n2 += (double)v * v;
      }
      xn[i] = (float)n2;
    }
    const idx slot = task.slot0[(size_t)p] + i0;
    for (int i = 0; i < rows; ++i) r.begin(acc[i], p, slot + i);
    idx blocks = src.blocks, b0 = 0;
    if constexpr (has_keys_needed<R>::value) blocks = (r.keys_needed(p, slot + rows - 1) + TJ - 1) / TJ;
    if constexpr (symmetric<R>::value) b0 = i0 / TJ;
    for (idx b = b0; b < blocks; ++b) {
      // Every block of 32 sources too (one atomic load): a heavy reduction
      // (a sweep of many frequencies) can spend long on one panel.
      if (task.cancel && *task.cancel) fail("E_ABORTED", "aborted");
      const float* yb = src.y.data() + (size_t)(b * d * TJ);
      const float* yn = src.norm.data() + (size_t)(b * TJ);
      const idx j0 = b * TJ;
      const int cnt = (int)std::min<idx>(TJ, src.m - j0);
      for (int k0 = 0; k0 < d; k0 += KC) {
        const int kn = std::min(KC, d - k0);
        for (int t = 0; t < tiles; ++t)
          micro_dot(xp + (size_t)t * d * TR + (size_t)k0 * TR, yb + (size_t)k0 * TJ, kn, k0 == 0, dots[t]);
      }
      for (int t = 0; t < tiles; ++t) {
        const float* xt = xp + (size_t)t * d * TR;
        const float* xnt = xn + t * TR;
        for (int i = 0; i < TR; ++i)
          for (int j = 0; j < TJ; ++j) {
            float v = dots[t][i][j];
            if (metric == PM_R2) v = xnt[i] + yn[j] - 2.0f * v;
            else if (metric == PM_R2_SHIFTED) v = yn[j] - 2.0f * v;
            g[i][j] = v;
          }
        if (metric == PM_R2) {
          // Close pairs lose most digits of r^2 to cancellation: redo them.
          const float thr = 1.0f / 128.0f;
          f32x16 close = {};
          const f32x16 y0 = load16(yn), y1 = load16(yn + 16);
          for (int i = 0; i < TR; ++i) {
            close = vmax16(close, thr * (xnt[i] + y0) - load16(g[i]));
            close = vmax16(close, thr * (xnt[i] + y1) - load16(g[i] + 16));
          }
          if (hmax16(close) > 0.0f)
            for (int i = 0; i < TR; ++i)
              for (int j = 0; j < TJ; ++j) {
                if (!(g[i][j] < thr * (xnt[i] + yn[j]))) continue;
                float q = 0.0f;
                for (int k = 0; k < d; ++k) {
                  float u = xt[(size_t)k * TR + i] - yb[(size_t)k * TJ + j];
                  q += u * u;
                }
                g[i][j] = q;
              }
        }
        for (int i = 0; i < TR; ++i)
          for (int j = 0; j < TJ; ++j) g[i][j] = f(g[i][j]);
        const int tr = std::min(TR, rows - t * TR);
        reduce_tile(r, acc + t * TR, p, slot + t * TR, tr, src.first + j0, cnt, g, sc.stash + t * TR);
      }
      // The sources' side of the block, once for all the panel's rows.
      if constexpr (scatters<R>::value) r.scatter_block(cols, sc.stash, p, slot, rows, src.first + j0);
    }
    for (int i = 0; i < rows; ++i) r.end(acc[i], p, slot + i);
  };

  if constexpr (!scatters<R>::value) {
    ex.for_ranges((idx)items.size(), 1, [&](idx it0, idx it1) {
      Scratch sc;
      sc.xp.resize((size_t)(TP / TR) * d * TR);
      for (idx it = it0; it < it1; ++it) panel(sc, items[(size_t)it], nullptr);
    });
  } else {
    // Chunks (problem, group): every G-th panel of the problem, in order,
    // into buffer `group` of the problem's sources; then the buffers summed
    // in group order, and the reduction's own ending of each source's row.
    const idx CF = r.col_floats(), S = task.sources.points();
    idx most = 1;
    for (const Problem& pr : task.problems) most = std::max<idx>(most, (task.targets.size(pr.t) + TP - 1) / TP);
    const int G = column_groups(most, (idx)task.problems.size(), CF);
    // From the exec's cache of host buffers: fresh pages would cost a fault each, every call.
    const size_t mark = ex.mark();
    std::vector<float*> bufs((size_t)G);
    for (int gi = 0; gi < G; ++gi) bufs[(size_t)gi] = ex.template alloc<float>(CF);
    std::vector<idx> first;  // each problem's first item (items are in problem order), and the end
    for (size_t p = 0, it = 0; p <= task.problems.size(); ++p) {
      first.push_back((idx)it);
      while (it < items.size() && items[it].first == (int)p) ++it;
    }
    // Sources no chunk of a group touches stay zero: clear every buffer once.
    ex.for_ranges(CF * G, 1 << 20, [&](idx lo, idx hi) {
      for (idx e = lo; e < hi;) {  // runs within one buffer
        const idx gi = e / CF, end = std::min(hi, (gi + 1) * CF);
        std::fill_n(bufs[(size_t)gi] + (e - gi * CF), end - e, 0.0f);
        e = end;
      }
    });
    ex.for_items((idx)task.problems.size() * G, [&](idx c) {
      const idx p = c / G;
      const int gi = (int)(c % G);
      Scratch sc;
      sc.xp.resize((size_t)(TP / TR) * d * TR);
      for (idx it = first[(size_t)p] + gi; it < first[(size_t)p + 1]; it += G)
        panel(sc, items[(size_t)it], bufs[(size_t)gi]);
    });
    float* sum = bufs[0];
    ex.for_ranges(CF, 1 << 14, [&](idx lo, idx hi) {
      for (int gi = 1; gi < G; ++gi) {
        const float* bg = bufs[(size_t)gi];
        for (idx e = lo; e < hi; ++e) sum[e] += bg[e];
      }
    });
    ex.for_ranges(S, 256, [&](idx lo, idx hi) { r.col_end(sum, lo, hi); });
    ex.release(mark);
  }
}

// ---------------------------------------------------------------------------
// Vectorised tile forms of the reductions on the CPU: the arithmetic of
// Reduction::pair, a block of 32 sources at a time.

struct SumTiles : SumR {
  int CP = 16;  // C rounded up to whole vectors
  std::shared_ptr<HostArray<float>> vpad;  // [m, CP]: each row of v, zero padded
  SumTiles() = default;
  SumTiles(const SumR& r) : SumR(r) {
    if (C == 1) return;
    CP = (C + 15) / 16 * 16;
    vpad = std::make_shared<HostArray<float>>((size_t)(m * CP), 0.0f);
    for (idx j = 0; j < m; ++j) std::copy_n(v + j * C, C, vpad->data() + j * CP);
  }
  SumTiles rescaled(double s, double f) const {
    SumTiles t = *this;
    t.factor = factor * f;
    return t;
  }
  void tile(Acc* acc, idx, idx slot, int rows, idx j0, int cnt, const float (&g)[TR][TJ]) const {
    if (C == 1) {
      if (cnt == TJ) {
        const f32x16 w0 = v ? load16(v + j0) : f32x16{} + 1.0f, w1 = v ? load16(v + j0 + 16) : f32x16{} + 1.0f;
        for (int i = 0; i < rows; ++i) acc[i].s += hsum16(load16(g[i]) * w0 + load16(g[i] + 16) * w1);
        return;
      }
      for (int i = 0; i < rows; ++i) {
        float part = 0.0f;
        for (int j = 0; j < cnt; ++j) part += g[i][j] * (v ? v[j0 + j] : 1.0f);
        acc[i].s += part;
      }
      return;
    }
    // Channels: each pair's value times the source's row of values, 16
    // channels to a vector, every row of the tile at once (independent
    // chains, one load of a value row for all of them); the block's partial
    // sums in fp32, added to the fp64 sums.
    const float* vb = vpad->data() + j0 * CP;
    for (int c0 = 0; c0 < C; c0 += 16) {
      f32x16 a[TR] = {};
      for (int j = 0; j < cnt; ++j) {
        const f32x16 vr = load16(vb + (size_t)j * CP + c0);
        for (int i = 0; i < TR; ++i) a[i] += g[i][j] * vr;
      }
      for (int i = 0; i < rows; ++i) {
        double* o = out + (slot + i) * C;
        for (int c = c0; c < std::min(C, c0 + 16); ++c) o[c] += a[i][c - c0];
      }
    }
  }
};

// out[r][c] += sum_j p[r][j] v[j][c], NV vectors of 16 columns from c0, for
// R rows sharing each read of the block's values.
template <int R, int NV>
inline void pv_chunk(float* const* o, const float* const* pr, const float* vb, int dv, int cnt, int c0) {
  f32x16 t[R][NV];
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < NV; ++k) std::memcpy(&t[r][k], o[r] + c0 + 16 * k, 64);
  for (int j = 0; j < cnt; ++j) {
    f32x16 vr[NV];
    for (int k = 0; k < NV; ++k) std::memcpy(&vr[k], vb + (size_t)j * dv + c0 + 16 * k, 64);
    for (int r = 0; r < R; ++r) {
      const float pj = pr[r][j];
      for (int k = 0; k < NV; ++k) t[r][k] += pj * vr[k];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < NV; ++k) std::memcpy(o[r] + c0 + 16 * k, &t[r][k], 64);
}

template <int R>
inline void accumulate_pv(float* const* o, const float* const* pr, const float* vb, int dv, int cnt) {
  int c0 = 0;
  if (R == 8)
    for (; c0 + 32 <= dv; c0 += 32) pv_chunk<R, 2>(o, pr, vb, dv, cnt, c0);
  if (R == 4)
    for (; c0 + 64 <= dv; c0 += 64) pv_chunk<R, 4>(o, pr, vb, dv, cnt, c0);
  for (; c0 + 16 <= dv; c0 += 16) pv_chunk<R, 1>(o, pr, vb, dv, cnt, c0);
  for (; c0 < dv; ++c0)
    for (int r = 0; r < R; ++r) {
      float t = o[r][c0];
      for (int j = 0; j < cnt; ++j) t += pr[r][j] * vb[(size_t)j * dv + c0];
      o[r][c0] = t;
    }
}

// o[r] += sum_j p[r][j] v[j] for `rows` rows of a tile: 8 at once, then 4, then 1.
inline void accumulate_rows(float* const* o, const float (*P)[TJ], int rows, const float* vb, int dv, int cnt) {
  int i = 0;
  if (rows == TR) {
    const float* p8[TR];
    for (int r = 0; r < TR; ++r) p8[r] = P[r];
    accumulate_pv<TR>(o, p8, vb, dv, cnt);
    return;
  }
  for (; i + 4 <= rows; i += 4) {
    const float* p4[4] = {P[i], P[i + 1], P[i + 2], P[i + 3]};
    accumulate_pv<4>(o + i, p4, vb, dv, cnt);
  }
  for (; i < rows; ++i) {
    const float* p1[1] = {P[i]};
    accumulate_pv<1>(o + i, p1, vb, dv, cnt);
  }
}

struct GradTiles : GradR {
  GradTiles() = default;
  GradTiles(const GradR& r) : GradR(r) {}
  GradTiles rescaled(double s, double f) const { return GradTiles(GradR::rescaled(s, f)); }
  void tile(Acc* acc, idx, idx slot, int rows, idx j0, int cnt, const float (&g)[TR][TJ]) const {
    float c[TR][TJ];
    for (int i = 0; i < TR; ++i)
      for (int j = 0; j < TJ; ++j) c[i][j] = j < cnt ? g[i][j] * (w ? w[j0 + j] : 1.0f) : 0.0f;
    for (int i = 0; i < rows; ++i) acc[i].z += hsum16(load16(c[i]) + load16(c[i] + 16));
    float* o[TR] = {};
    for (int i = 0; i < rows; ++i) o[i] = mom + (slot + i) * d;
    accumulate_rows(o, c, rows, y + j0 * d, d, cnt);
  }
};

// The sources' side of one block for a panel's rows: C[c][j] += sum_i
// x_i[c] E[i][j] (c < d) and C[d][j] += sum_i E[i][j], C the block's
// [d + 1][TJ] floats of a column buffer, x_i the rows' points (rows of d
// floats). The micro-kernel's product, the points' rows read as its
// columns 8 coordinates at a time, accumulating in place over all the
// panel's rows (E is zero in the block's columns past its sources).
inline void scatter_rows(float* C, const float (*E)[TJ], int rows, const float* x, int d) {
  int c0 = 0;
  for (; c0 + TR <= d; c0 += TR)
    micro_dot(x + c0, &E[0][0], rows, false, *reinterpret_cast<float(*)[TR][TJ]>(C + (size_t)c0 * TJ), d);
  if (c0 < d) {  // the last coordinates, through zero-padded copies
    const int rest = d - c0;
    float xt[TP * TR] = {};
    alignas(64) float acc[TR][TJ] = {};
    for (int i = 0; i < rows; ++i)
      for (int r = 0; r < rest; ++r) xt[i * TR + r] = x[(size_t)i * d + c0 + r];
    std::memcpy(acc, C + (size_t)c0 * TJ, (size_t)rest * TJ * 4);
    micro_dot(xt, &E[0][0], rows, false, acc);
    std::memcpy(C + (size_t)c0 * TJ, acc, (size_t)rest * TJ * 4);
  }
  float* z = C + (size_t)d * TJ;
  f32x16 z0 = load16(z), z1 = load16(z + 16);
  for (int i = 0; i < rows; ++i) {
    z0 += load16(E[i]);
    z1 += load16(E[i] + 16);
  }
  std::memcpy(z, &z0, 64);
  std::memcpy(z + 16, &z1, 64);
}

// Gradient sums of a set against itself, each pair (k, l > k) once: c = h
// w_l to k's row (its z and moment, as GradTiles) and h w_k to l's column
// buffer, which the end adds to l's sum. The engine visits the blocks from
// the panel's own on (symmetric), so half the pairs: 3 products per pair
// where both directions took 4.
struct GradSymTiles : GradSymR {
  static constexpr bool scatters = true, symmetric = true;
  GradSymTiles() = default;
  GradSymTiles(const GradSymR& r) : GradSymR(r) {}
  GradSymTiles rescaled(double s, double f) const { return GradSymTiles(GradSymR::rescaled(s, f)); }
  // The column buffer: per block of TJ points, [d + 1][TJ] (the moments, then z).
  idx col_floats() const { return (points + TJ - 1) / TJ * (d + 1) * TJ; }
  void tile(Acc* acc, idx, idx slot, int rows, idx j0, int cnt, const float (&g)[TR][TJ], float (*e)[TJ]) const {
    float c[TR][TJ], wj[TJ];
    for (int j = 0; j < TJ; ++j) wj[j] = j < cnt ? (w ? w[j0 + j] : 1.0f) : 0.0f;
    const bool past = j0 >= slot + TR;  // every pair of the tile has l > k
    for (int i = 0; i < TR; ++i) {
      const float wi = i < rows ? (w ? w[slot + i] : 1.0f) : 0.0f;
      if (past) {
        for (int j = 0; j < TJ; ++j) {
          c[i][j] = g[i][j] * wj[j];
          e[i][j] = g[i][j] * wi;
        }
        for (int j = cnt; j < TJ; ++j) e[i][j] = 0.0f;
        continue;
      }
      for (int j = 0; j < TJ; ++j) {
        const bool upper = j < cnt && j0 + j > slot + i;  // (k, l > k): on the diagonal block, half of it
        c[i][j] = upper ? g[i][j] * wj[j] : 0.0f;
        e[i][j] = upper ? g[i][j] * wi : 0.0f;
      }
    }
    for (int i = 0; i < rows; ++i) acc[i].z += hsum16(load16(c[i]) + load16(c[i] + 16));
    float* o[TR] = {};
    for (int i = 0; i < rows; ++i) o[i] = mom + (slot + i) * d;
    accumulate_rows(o, c, rows, y + j0 * d, d, cnt);
  }
  // The block's column part for the panel's rows from `slot`: their weights e.
  void scatter_block(float* cols, const float (*e)[TJ], idx, idx slot, int rows, idx j0) const {
    scatter_rows(cols + j0 / TJ * (d + 1) * TJ, e, rows, y + slot * d, d);
  }
  // A row's part alone (its column part comes last).
  void end(Acc& a, idx p, idx slot) const { GradR::end(a, p, slot); }
  // l's column part, z_l x_l - sum_k h w_k x_k, added to its row part; then
  // the self-energy's 2 w_l.
  void col_end(const float* cols, idx lo, idx hi) const {
    for (idx l = lo; l < hi; ++l) {
      const float* cl = cols + l / TJ * (d + 1) * TJ + l % TJ;
      const double f = 2.0 * (w ? (double)w[l] : 1.0);
      for (int k = 0; k < d; ++k)
        out[l * d + k] = f * (out[l * d + k] + factor * ((double)cl[d * TJ] * (double)x[l * d + k] - (double)cl[k * TJ]));
    }
  }
};

// Attention's gradients in one pass on the CPU (FlashAttention-2's order):
// the keys are the targets, the queries the sources. A tile of 8 keys by 32
// queries recomputes P from each query's log-sum-exp, takes dP = dout . v by
// the micro-kernel, and gives dS = P (dP - D) and e = dS c to both sides:
// dK's moment and z and dV = sum P dout on the keys' rows, dQ's moment and z
// scattered into the queries' column buffer (the engine's chunks, summed in
// order), dQ = z q - moment (dot: the moment) at the end. 5 products per
// pair, where two passes took 7.
template <int LK>
struct AttnGradTiles : AttnGradR<LK> {
  using Base = AttnGradR<LK>;
  using typename Base::Acc;
  static constexpr bool scatters = true;
  float* dq = nullptr;  // [problems, n, d]
  // dP = v . dout: the keys' values packed once per micro-tile [dv][TR], the
  // queries' dout once per block [dv][TJ], for every problem.
  idx tiles_p = 0, blocks_p = 0;
  std::shared_ptr<HostArray<float>> rowpack, colpack;
  AttnGradTiles() = default;
  AttnGradTiles(const Base& r) : Base(r) {
    const int dv = r.dv;
    const idx nt = r.m, ns = r.n;
    tiles_p = (nt + TR - 1) / TR;
    blocks_p = (ns + TJ - 1) / TJ;
    rowpack = std::make_shared<HostArray<float>>((size_t)(r.problems * tiles_p * dv * TR));
    colpack = std::make_shared<HostArray<float>>((size_t)(r.problems * blocks_p * dv * TJ), 0.0f);
    for (idx p = 0; p < r.problems; ++p) {
      for (idx t = 0; t < tiles_p; ++t)
        for (int i = 0; i < TR; ++i) {
          const float* src = r.v + (p * nt + std::min<idx>(t * TR + i, nt - 1)) * dv;
          float* dst = rowpack->data() + (size_t)((p * tiles_p + t) * dv * TR) + i;
          for (int c = 0; c < dv; ++c) dst[(size_t)c * TR] = src[c];
        }
      for (idx j = 0; j < ns; ++j) {
        const float* src = r.dout + (p * ns + j) * dv;
        float* dst = colpack->data() + (size_t)((p * blocks_p + j / TJ) * dv * TJ) + j % TJ;
        for (int c = 0; c < dv; ++c) dst[(size_t)c * TJ] = src[c];
      }
    }
  }
  AttnGradTiles rescaled(double, double f) const {
    AttnGradTiles t = *this;
    t.s2 = f;
    return t;
  }
  // The column buffer: per problem and block of TJ queries, [d + 1][TJ] (dQ's moment, then z).
  idx col_floats() const { return this->problems * blocks_p * (this->d + 1) * TJ; }
  void tile(Acc* acc, idx p, idx slot, int rows, idx j0, int cnt, const float (&g)[TR][TJ], float (*E)[TJ]) const {
    const Base& b = *this;
    const int d = b.d, dv = b.dv;
    const float* xp = rowpack->data() + (size_t)((p * tiles_p + (slot - p * b.m) / TR) * dv * TR);
    const float* yp = colpack->data() + (size_t)((p * blocks_p + (j0 - p * b.n) / TJ) * dv * TJ);
    float dP[TR][TJ];
    micro_dot(xp, yp, dv, true, dP);
    float P[TR][TJ];  // and e = dS c in E (the engine's stash) for the block's column part
    const float NEG = -std::numeric_limits<float>::infinity();
    // Per query column: minus its lse, and its D.
    float colA[TJ], colD[TJ];
    for (int j = 0; j < TJ; ++j) {
      const idx q = j0 + std::min(j, cnt - 1);
      colA[j] = -b.lse[q];
      colD[j] = b.D[q];
    }
    const bool plain = !b.mask && !b.causal;
    // ds/dtheta is s0 times a constant: 1 / beta, or -2 / sigma (gaussian).
    const float tfac = AttnLogit<LK>::dtheta(b.k, b.beta, 1.0f);
    for (int i = 0; i < TR; ++i) {
      if (i >= rows) {
        for (int j = 0; j < TJ; ++j) P[i][j] = E[i][j] = 0.0f;
        continue;
      }
      const idx t = slot + i;
      const float rowA = b.bias ? b.bias[t] : 0.0f;
      float s0[TJ], s[TJ];
      float vs[TJ];  // the pair values at the points' own scale
      if (b.s2 == 1.0)
        for (int j = 0; j < TJ; ++j) vs[j] = g[i][j];
      else
        for (int j = 0; j < TJ; ++j) vs[j] = (float)(b.s2 * (double)g[i][j]);
      for (int j = 0; j < TJ; ++j) {
        const float vv = vs[j];
        s0[j] = AttnLogit<LK>::s(b.k, b.beta, vv);
        E[i][j] = AttnLogit<LK>::c(b.k, b.beta, vv);
        s[j] = s0[j] + colA[j] + rowA;
      }
      for (int j = cnt; j < TJ; ++j) s[j] = NEG;
      if (!plain) {
        const idx jl = t - p * b.m;
        const bool hidden = b.mask && !b.mask[(p / b.heads) * b.m + jl];
        for (int j = 0; j < cnt; ++j)
          if (hidden || (b.causal && jl > (j0 + j - p * b.n) + b.shift)) s[j] = NEG;
      }
      for (int j = 0; j < TJ; ++j) {
        const float pj = sf_expf(s[j]);  // -inf gives 0
        const float dS = pj * (dP[i][j] - colD[j]);
        P[i][j] = pj;
        E[i][j] *= dS;
        s0[j] *= dS;
      }
      acc[i].z += hsum16(load16(E[i]) + load16(E[i] + 16));
      acc[i].t += (double)tfac * hsum16(load16(s0) + load16(s0 + 16));
    }
    float* o[TR] = {};
    for (int i = 0; i < rows; ++i) o[i] = b.mom + (slot + i) * d;
    accumulate_rows(o, E, rows, b.q + j0 * d, d, cnt);
    for (int i = 0; i < rows; ++i) o[i] = b.gv + (slot + i) * dv;
    accumulate_rows(o, P, rows, b.dout + j0 * dv, dv, cnt);
  }
  // dQ's side of the block for the panel's keys from `slot`.
  void scatter_block(float* cols, const float (*E)[TJ], idx p, idx slot, int rows, idx j0) const {
    const int d = this->d;
    scatter_rows(cols + (p * blocks_p + (j0 - p * this->n) / TJ) * (d + 1) * TJ, E, rows, this->key + slot * d, d);
  }
  // dQ from the summed column buffer: z q - moment, or the moment (dot).
  void col_end(const float* cols, idx lo, idx hi) const {
    const int d = this->d;
    for (idx j = lo; j < hi; ++j) {
      const idx p = j / this->n, l = j - p * this->n;
      const float* c = cols + (p * blocks_p + l / TJ) * (d + 1) * TJ + l % TJ;
      const float* qj = this->q + j * d;
      for (int k = 0; k < d; ++k)
        dq[j * d + k] = LK == A_DOT ? c[k * TJ] : (float)((double)c[d * TJ] * (double)qj[k] - (double)c[k * TJ]);
    }
  }
};

struct SoftmaxTiles : SoftmaxR {
  SoftmaxTiles() = default;
  SoftmaxTiles(const SoftmaxR& r) : SoftmaxR(r) {}
  SoftmaxTiles rescaled(double, double) const { return *this; }
  void tile(Acc* acc, idx p, idx slot, int rows, idx j0, int cnt, const float (&g)[TR][TJ]) const {
    const float NEG = -std::numeric_limits<float>::infinity();
    float P[TR][TJ];
    const idx jl0 = j0 - p * m;
    // Keys of this block that some row may not see: padding, masked, causal.
    const uint8_t* mk = mask ? mask + (p / heads) * m + jl0 : nullptr;
    for (int i = 0; i < rows; ++i) {
      float* Pi = P[i];
      if (bias && cnt == TJ) {
        for (int j = 0; j < TJ; ++j) Pi[j] = g[i][j] + bias[j0 + j];
      } else if (bias) {
        for (int j = 0; j < TJ; ++j) Pi[j] = j < cnt ? g[i][j] + bias[j0 + j] : NEG;
      } else {
        for (int j = 0; j < TJ; ++j) Pi[j] = g[i][j];
        for (int j = cnt; j < TJ; ++j) Pi[j] = NEG;
      }
      if (mk)
        for (int j = 0; j < cnt; ++j)
          if (!mk[j]) Pi[j] = NEG;
      if (causal) {
        const idx lim = slot + i - p * n + shift - jl0;  // keys j <= lim are seen
        for (int j = (int)std::max<idx>(0, lim + 1); j < TJ; ++j) Pi[j] = NEG;
      }
      const float bm = hmax16(vmax16(load16(Pi), load16(Pi + 16)));
      if (bm == NEG) {
        for (int j = 0; j < TJ; ++j) Pi[j] = 0.0f;
        continue;
      }
      if (bm > acc[i].mx) {  // the running max grows: rescale what was summed
        const float scale = acc[i].mx == NEG ? 0.0f : sf_expf(acc[i].mx - bm);
        float* o = out + (slot + i) * dv;
        for (int c = 0; c < dv; ++c) o[c] *= scale;
        acc[i].l *= scale;
        acc[i].mx = bm;
      }
      const float mi = acc[i].mx;
      for (int j = 0; j < TJ; ++j) Pi[j] = sf_expf(Pi[j] - mi);  // -inf - mi gives 0
      acc[i].l += hsum16(load16(Pi) + load16(Pi + 16));
    }
    float* o[TR] = {};
    for (int i = 0; i < rows; ++i) o[i] = out + (slot + i) * dv;
    accumulate_rows(o, P, rows, v + j0 * dv, dv, cnt);
  }
};

// The tile form of a reduction on the CPU, and the reduction itself elsewhere.
template <class Exec, class R>
struct Tiled {
  using type = R;
};
template <>
struct Tiled<CpuExec, SumR> {
  using type = SumTiles;
};
template <>
struct Tiled<CpuExec, SoftmaxR> {
  using type = SoftmaxTiles;
};
template <>
struct Tiled<CpuExec, GradR> {
  using type = GradTiles;
};
template <>
struct Tiled<CpuExec, GradSymR> {
  using type = GradSymTiles;
};
template <int LK>
struct Tiled<CpuExec, AttnGradR<LK>> {
  using type = AttnGradTiles<LK>;
};

// pair_reduce with the exec's best form of the reduction.
template <class Exec, class F, class R>
void run(Exec& ex, const F& f, const R& r, const PairTask& task) {
  using T = typename Tiled<Exec, R>::type;
  pair_reduce(ex, f, T(r), task);
}

// Calls fn(std::integral_constant<int, K>{}) for a real kernel kind, so the
// loops over a tile are compiled once per kind; an unknown kind is an error.
template <class Fn>
auto with_kernel(int kind, Fn&& fn) {
  switch (kind) {
#define SF_KERNEL_CASE(e, name, pos, pd, eps) \
  case e:                                     \
    return fn(std::integral_constant<int, e>{});
    SF_REAL_KERNELS(SF_KERNEL_CASE)
#undef SF_KERNEL_CASE
    default:
      fail("E_RANGE", "unknown kernel kind " + std::to_string(kind));
  }
}

// The same for attention logits: the real kernels and dot.
template <class Fn>
auto with_logit(int kind, Fn&& fn) {
  if (kind == A_DOT) return fn(std::integral_constant<int, A_DOT>{});
  return with_kernel(kind, fn);
}

}  // namespace pairs
}  // namespace sf
