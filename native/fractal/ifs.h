// Drivers of the IFS operations for any execution policy (CpuExec, CudaExec):
// they move data and launch the bodies of cuda/ifs_k.h and
// cuda/dimension_k.h. On the CPU the chaos game steps groups of chains per
// thread and renders into per-block grids (the same points and counts).
#pragma once
#include "../cancel.h"
#include <algorithm>
#include <string>
#include <vector>

#include "../../cuda/dimension_k.h"
#include "../errors.h"
#include "../host_cache.h"
#include "jobs.h"

namespace sf {
namespace fractal {

inline void check_cancel(CancelFlag c, const char* what) {
  if (c && *c) fail("E_ABORTED", std::string(what) + ": aborted");
}

// Level by level from one start point: level k holds the m^k points of depth
// k in address order (see ifs_unfold_point).
template <class Exec>
void unfold(Exec& ex, IfsJob& job) {
  const int dd = job.dd;
  const float* A = ex.upload(job.A, (idx)job.m * dd * dd);
  const float* b = ex.upload(job.b, (idx)job.m * dd);
  float* out = ex.output(job.points, job.n * dd);
  // Ping-pong between out and a scratch buffer, arranged so the last level
  // lands in out.
  float* scratch = ex.template alloc<float>(std::max<idx>(job.n / job.m, 1) * dd);
  float* bufs[2] = {out, scratch};
  int cur = job.depth % 2 == 0 ? 0 : 1;
  ex.upload_into(bufs[cur], job.start.data(), dd);
  idx prev_n = 1;
  for (int k = 1; k <= job.depth; ++k) {
    check_cancel(job.cancel, "unfold");
    const float* prev = bufs[cur];
    float* next = bufs[1 - cur];
    idx pn = prev_n;
    // A level's points for each map in chunks of 2^20, with the abort flag
    // read between them (the last level of 2^26 points writes 512 MB).
    for (int i = 0; i < job.m; ++i)
      for (idx q0 = 0; q0 < pn; q0 += (idx)1 << 20) {
        if (q0 > 0) check_cancel(job.cancel, "unfold");
        ex.for_n(std::min<idx>((idx)1 << 20, pn - q0), [=] SF_LAMBDA(idx q) { ifs_unfold_point(A, b, i, dd, prev, pn, next, q0 + q); });
      }
    cur = 1 - cur;
    prev_n *= job.m;
  }
  ex.finish_output(job.points, out, job.n * dd);
  ex.sync();
}

// Chains a CPU thread steps together (independent work to overlap).
constexpr int kHostGroup = 8;

// One round of the chaos game on the CPU as points: groups of chains.
template <class Exec>
void points_round_host(Exec& ex, const ChaosSpec& s, float* state, int dd, idx chains, float* pts, idx t0, idx t1) {
  ex.for_items((chains + kHostGroup - 1) / kHostGroup, [&](idx grp) {
    idx c = grp * kHostGroup;
    chaos_steps_group<kHostGroup>(s, c, chains, t0, t1, state + c * dd, [&](idx p, const float* x) {
      float* o = pts + p * dd;
      // Spelled out for the common sizes: a loop of runtime length becomes
      // a memmove call per point.
      switch (dd) {
        case 1: o[0] = x[0]; break;
        case 2: o[0] = x[0]; o[1] = x[1]; break;
        case 3: o[0] = x[0]; o[1] = x[1]; o[2] = x[2]; break;
        default: for (int k = 0; k < dd; ++k) o[k] = x[k];
      }
    });
  });
}

// One round of the chaos game on the CPU binned per block of chains (see
// chaos_game), then the blocks' counts added into counts.
template <class Exec>
void bin_round_host(Exec& ex, const ChaosSpec& s, float* state, int dd, const RenderBox& box, idx chains, idx blocks, idx cells,
                    uint32_t* hist, unsigned long long* counts, idx t0, idx t1) {
  ex.for_items(blocks, [&](idx blk) {
    uint32_t* hb = hist + blk * cells;
    idx hi = (blk + 1) * chains / blocks;
    for (idx c = blk * chains / blocks; c < hi; c += kHostGroup)
      chaos_steps_group<kHostGroup>(s, c, hi, t0, t1, state + c * dd, [&](idx, const float* x) {
        idx cell = render_cell(x, dd, box);
        if (cell >= 0) ++hb[cell];
      });
  });
  ex.for_n(cells, [&](idx cell) {
    unsigned long long sum = 0;
    for (idx blk = 0; blk < blocks; ++blk) {
      sum += hist[blk * cells + cell];
      hist[blk * cells + cell] = 0;
    }
    counts[cell] += sum;
  });
}

// The chaos game in rounds of steps, so that a long run can be stopped and
// report progress; each chain's state carries over between rounds.
template <class Exec>
void chaos_game(Exec& ex, IfsJob& job) {
  const int dd = job.dd;
  ChaosSpec s;
  s.A = ex.upload(job.A, (idx)job.m * dd * dd);
  s.b = ex.upload(job.b, (idx)job.m * dd);
  s.thresholds = ex.upload(job.thresholds.data(), job.m);
  s.m = job.m;
  s.dd = dd;
  s.seed_lo = (uint32_t)job.seed;
  s.seed_hi = (uint32_t)(job.seed >> 32);
  s.per_chain = (job.n + job.chains - 1) / job.chains;
  s.burn_in = job.burn_in;
  s.n = job.n;
  std::vector<float> init((size_t)job.chains * dd);
  for (idx c = 0; c < job.chains; ++c) std::copy(job.start.begin(), job.start.end(), init.begin() + c * dd);
  float* state = ex.template alloc<float>(job.chains * dd);
  ex.upload_into(state, init.data(), job.chains * dd);
  idx cells = (idx)job.rn[0] * job.rn[1] * job.rn[2];
  float* pts = job.render ? nullptr : ex.output(job.points, job.n * dd);
  unsigned long long* counts = job.render ? ex.output(job.counts, cells) : nullptr;
  // Fresh output memory is mapped in (and the grid zeroed) in pieces between
  // abort checks: each chain writes its own stretch of the points, so the
  // first round alone would touch every page of them (0.4-0.9 s for 2^27
  // points in 2D).
  const auto check = [&] { check_cancel(job.cancel, job.render ? "render" : "chaosGame"); };
  if (job.render) ex.fill_zero(counts, cells, check);
  else ex.touch(pts, job.n * dd, check);
  RenderBox box;
  for (int k = 0; k < 3; ++k) {
    box.lo[k] = job.lo[k];
    box.inv[k] = job.inv[k];
    box.n[k] = job.rn[k];
  }
  idx total = (idx)s.burn_in + s.per_chain;
  // About 2^20 steps over all chains per round (a few ms: an abort lands
  // within 100 ms even when each step also writes its point out).
  idx round = std::max<idx>(64, ((idx)1 << 20) / std::max<idx>(job.chains, 1));
  // On the CPU, atomic adds from all cores to one grid cost more than the
  // chaos game itself: there each block of chains bins into its own grid of
  // 32-bit counts (a round adds fewer than 2^32), and the blocks are added up
  // after each round. Integer sums: the same counts either way.
  constexpr bool host = !Exec::on_device;  // (CUDA: atomics into one grid)
  idx blocks = host && job.render ? std::min<idx>(job.chains, 8) : 0;
  if (blocks > 0 && (double)blocks * cells * 4 > 512.0 * 1048576) blocks = 0;
  HostArray<uint32_t> local((size_t)(blocks * cells));
  uint32_t* hist = local.data();
  if constexpr (host) ex.fill_zero(hist, blocks * cells, check);  // (host memory: never the device's memset)
  const CancelFlag cancel = job.cancel;
  for (idx t0 = 0; t0 < total; t0 += round) {
    check();
    idx t1 = std::min(total, t0 + round);
    bool binned = false;  // done by the CPU's grouped loops
    if constexpr (host) {
      if (blocks > 0) {
        bin_round_host(ex, s, state, dd, box, job.chains, blocks, cells, hist, counts, t0, t1);
        binned = true;
      } else if (!job.render) {
        points_round_host(ex, s, state, dd, job.chains, pts, t0, t1);
        binned = true;
      }
    }
    if (!binned && job.render) {
      // Atomics into a grid too large for a grid per block: each step may
      // miss the caches, and a round of 2^20 steps into a 2^26-cell grid
      // takes 100-200 ms. On the CPU a chain of an aborted call is skipped.
      ex.for_items(job.chains, [=] SF_LAMBDA(idx c) {
#if !defined(__CUDA_ARCH__)
        if (cancel.raised()) return;
#else
        (void)cancel;  // the device cannot read the host's flag: the round ends the work
#endif
        chaos_steps(s, c, t0, t1, state + c * dd, [&](idx, const float* x) {
          idx cell = render_cell(x, dd, box);
          if (cell >= 0) sf_atomic_add_u64(counts + cell, 1ull);
        });
      });
    } else if (!binned) {
      ex.for_items(job.chains, [=] SF_LAMBDA(idx c) {
        chaos_steps(s, c, t0, t1, state + c * dd, [&](idx p, const float* x) {
          for (int k = 0; k < dd; ++k) pts[p * dd + k] = x[k];
        });
      });
    }
    ex.sync();
    if (job.progress) job.progress((double)t1 / (double)total);
  }
  if (job.render) ex.finish_output(job.counts, counts, cells);
  else ex.finish_output(job.points, pts, job.n * dd);
  ex.sync();
}

// A fractal token under each context: level by level from the context's mean,
// one point per thread; then the addresses' weights.
template <class Exec>
void token_unfold(Exec& ex, TokenJob& job) {
  const int d = job.d, m = job.m;
  const float* P = ex.upload(job.P, (idx)m * d);
  const float s = job.s;
  const idx n = job.n;
  float* out = ex.output(job.points, (idx)job.contexts * n * d);
  double* wout = ex.output(job.weights, (idx)job.contexts * n);
  float* scratch = ex.template alloc<float>(std::max<idx>(n / m, 1) * d);
  const double* pi = ex.upload(job.pi.data(), (idx)job.contexts * m);
  for (int c = 0; c < job.contexts; ++c) {
    float* bufs[2] = {out + (idx)c * n * d, scratch};
    int cur = job.depth % 2 == 0 ? 0 : 1;
    ex.upload_into(bufs[cur], job.start.data() + (idx)c * d, d);
    idx prev_n = 1;
    for (int k = 1; k <= job.depth; ++k) {
      const float* prev = bufs[cur];
      float* next = bufs[1 - cur];
      idx pn = prev_n;
      for (int i = 0; i < m; ++i) ex.for_items(pn, [=] SF_LAMBDA(idx q) { token_unfold_point(P, s, i, d, prev, pn, next, q); });
      cur = 1 - cur;
      prev_n *= m;
    }
    const double* pc = pi + (idx)c * m;
    double* wc = wout + (idx)c * n;
    int depth = job.depth;
    ex.for_n(n, [=] SF_LAMBDA(idx p) { wc[p] = token_weight(pc, m, depth, p); });
  }
  ex.finish_output(job.points, out, (idx)job.contexts * n * d);
  ex.finish_output(job.weights, wout, (idx)job.contexts * n);
  ex.sync();
}

// Correlation sum by one row of pairs per thread, counted into a histogram
// with exact atomic adds.
template <class Exec>
void pair_counts(Exec& ex, PairCountJob& job) {
  const int d = job.d;
  const idx n = job.n;
  const int nb = (int)job.edges2.size();
  const float* x = ex.upload(job.x, n * d);
  const float* e2 = ex.upload(job.edges2.data(), nb);
  unsigned long long* h = ex.template zeros<unsigned long long>(nb + 1);
  // Rows in slices of about 2^24 pair-coordinates (a few ms; at least 16
  // rows), for cancellation within 100 ms at any n; on the CPU the rows of an
  // aborted call are skipped. Row i pairs with j > i.
  const idx slice = std::max<idx>(16, ((idx)1 << 24) / std::max<idx>(1, n * d));
  const CancelFlag cancel = job.cancel;
  for (idx i0 = 0; i0 < n; i0 += slice) {
    check_cancel(job.cancel, "correlationDimension");
    idx i1 = std::min(n, i0 + slice);
    ex.for_items(i1 - i0, [=] SF_LAMBDA(idx r) {
#if !defined(__CUDA_ARCH__)
      if (cancel.raised()) return;
#else
      (void)cancel;  // the device cannot read the host's flag: the slice ends the work
#endif
      idx i = i0 + r;
      unsigned long long local[kDimMaxBins + 1];
      for (int k = 0; k <= nb; ++k) local[k] = 0;
      for (idx j = i + 1; j < n; ++j) ++local[dim_bin(e2, nb, dim_r2(x + i * d, x + j * d, d))];
      for (int k = 0; k <= nb; ++k)
        if (local[k]) sf_atomic_add_u64(h + k, local[k]);
    });
    ex.sync();
  }
  check_cancel(job.cancel, "correlationDimension");
  job.counts.assign((size_t)nb + 1, 0);
  ex.download(job.counts.data(), h, nb + 1);
}

}  // namespace fractal
}  // namespace sf
