// The fractal codec's drivers for any execution policy: the encoder's search
// level by level down the quadtree (every block's best map, candidates in
// class-sorted tiles scanned by groups of ranges), the choice of the tree
// (the tolerance rule, or rate-distortion pruning to a byte budget), and the
// decoder's iteration to the fixed point at any scale. The arithmetic is the
// bodies of cuda/codec_k.h; the stream is codec_format.h.
#pragma once
#include "../cancel.h"
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../cuda/codec_k.h"
#include "codec_format.h"
#include "ifs.h"

namespace sf {
namespace fractal {

struct EncodeJob {
  CodecHeader hd;
  const float* img = nullptr;  // [h, w]
  double tol = 0;              // split a block whose RMS error exceeds this (normalized units)
  double target_bytes = 0;     // > 0: rate control, the code's size (header included) within 3% of this
  std::string target_name = "bytes";  // the caller's name for the target, for messages
  bool classified = true;
  bool range_given = false;  // lo and hi set by the caller, not by the image's extremes
  std::vector<uint8_t> code;
  std::vector<int> leaves_per_size;  // leaves of size rmin, 2 rmin, ...
  double collage_rmse = 0;           // of the quantized maps against the image, normalized units
  double lambda = 0;                 // rate control: the multiplier chosen (normalized SSE per bit)
  CancelFlag cancel = nullptr;
  std::function<void(int level, double done)> progress;
};

// The search's results: the best map of every block searched, per level
// (index 0: the smallest blocks), on the padded grid.
struct CodecFound {
  int rmin, rmax;
  uint32_t pw;
  std::vector<std::vector<CodecMatch>> level;
  std::vector<std::vector<uint8_t>> searched;
  int li(int r) const { return bits_for(r) - bits_for(rmin); }
  size_t at(int r, int x, int y) const { return (size_t)(y / r) * (pw / r) + x / r; }
};

// Rate-distortion choice of the quadtree for a multiplier lambda: each block
// is a leaf (its best map, or the flat map when that costs less) or split,
// whichever has the smaller sum of squared error + lambda * estimated bits
// (Sullivan and Baker's optimal pruning; the code's true size is measured
// by coding it). lambda = -1 instead splits a block whose best map's error
// exceeds limit[level] (the tolerance rule).
struct CodecChoice {
  const CodecHeader& hd;
  const CodecFound& f;
  std::vector<std::vector<double>> scale_bits;  // [level][scale code]
  std::vector<double> domain_bits;              // [level]
  double mean_bits = 5.0;

  CodecChoice(const CodecHeader& h, const CodecFound& found) : hd(h), f(found) {
    for (int r = hd.rmin; r <= hd.rmax; r *= 2) {
      const int l = f.li(r);
      std::vector<double> hist(2 * kCodecScaleLevels + 1, 0.5);
      double total = 0.5 * hist.size();
      for (size_t i = 0; i < f.level[(size_t)l].size(); ++i)
        if (f.searched[(size_t)l][i]) hist[(size_t)f.level[(size_t)l][i].sq] += 1, total += 1;
      std::vector<double> bits(hist.size());
      for (size_t k = 0; k < hist.size(); ++k) bits[k] = -std::log2(hist[k] / total);
      scale_bits.push_back(bits);
      int ndx, ndy;
      codec_lattice((int)hd.w, (int)hd.h, r, hd.step_code, ndx, ndy);
      domain_bits.push_back(std::log2(std::max(1.0, (double)ndx * ndy)) + 3.0);
    }
  }

  // J of the best subtree at (x, y, r); its decisions in `split`, `flat`.
  double prune(double lambda, int x, int y, int r, std::vector<std::vector<uint8_t>>& split, std::vector<std::vector<uint8_t>>& flat) const {
    const int l = f.li(r);
    const size_t i = f.at(r, x, y);
    const CodecMatch& m = f.level[(size_t)l][i];
    const double flag = r > hd.rmin ? 1.0 : 0.0;
    double jbest = m.err + lambda * (flag + scale_bits[(size_t)l][(size_t)m.sq] + mean_bits + (m.sq != kCodecScaleZero ? domain_bits[(size_t)l] : 0.0));
    double jflat = m.err0 + lambda * (flag + scale_bits[(size_t)l][kCodecScaleZero] + mean_bits);
    flat[(size_t)l][i] = jflat < jbest;
    double jleaf = std::min(jbest, jflat);
    split[(size_t)l][i] = 0;
    if (r == hd.rmin) return jleaf;
    double js = lambda * flag;
    for_children(x, y, r, [&](int cx, int cy, int r2) {
      if ((uint32_t)cx < hd.w && (uint32_t)cy < hd.h) js += prune(lambda, cx, cy, r2, split, flat);
    });
    if (js < jleaf) {
      split[(size_t)l][i] = 1;
      return js;
    }
    return jleaf;
  }

  // The tree and its leaves for lambda (>= 0), or by the tolerance rule
  // (lambda < 0, limits per level).
  void build(double lambda, const std::vector<double>& limit, CodecTree& tree, std::vector<CodedLeaf>& leaves, double& sse,
             std::vector<int>& per_size) const {
    const size_t nl = f.level.size();
    std::vector<std::vector<uint8_t>> split(nl), flat(nl);
    for (size_t l = 0; l < nl; ++l) {
      split[l].assign(f.level[l].size(), 0);
      flat[l].assign(f.level[l].size(), 0);
    }
    leaves.clear();
    sse = 0;
    per_size.assign(nl, 0);
    for (auto& lv : tree.level) std::fill(lv.begin(), lv.end(), -1);
    auto walk = [&](auto& self, int x, int y, int r) -> void {
      if ((uint32_t)x >= hd.w || (uint32_t)y >= hd.h) return;
      const int l = f.li(r);
      const size_t i = f.at(r, x, y);
      const CodecMatch& m = f.level[(size_t)l][i];
      bool sp = lambda >= 0 ? split[(size_t)l][i] != 0 : (r > hd.rmin && m.err > limit[(size_t)l]);
      if (sp) {
        tree.at(r, x, y) = -2;
        for_children(x, y, r, [&](int cx, int cy, int r2) { self(self, cx, cy, r2); });
        return;
      }
      tree.at(r, x, y) = (int)leaves.size();
      bool fl = lambda >= 0 && flat[(size_t)l][i];
      if (fl || m.cand < 0)
        leaves.push_back(CodedLeaf{x, y, r, 0, 0, kCodecScaleZero, m.mq});
      else
        leaves.push_back(CodedLeaf{x, y, r, m.cand >> 3, m.cand & 7, m.sq, m.mq});
      sse += fl ? m.err0 : m.err;
      ++per_size[(size_t)l];
    };
    for (uint32_t y = 0; y < hd.h; y += hd.rmax)
      for (uint32_t x = 0; x < hd.w; x += hd.rmax) {
        if (lambda >= 0) prune(lambda, (int)x, (int)y, hd.rmax, split, flat);
        walk(walk, (int)x, (int)y, hd.rmax);
      }
  }
};

template <class Exec>
void encode(Exec& ex, EncodeJob& job) {
  CodecHeader& hd = job.hd;
  const int w = (int)hd.w, h = (int)hd.h, pw = (int)hd.pw(), ph = (int)hd.ph();
  // The domain table and its tiles are filled in chunks of 2^19 entries,
  // with the abort flag read between them: 5-6 ms each on two cores of an
  // EPYC (the first touch of fresh pages included), so that a machine
  // several times slower still stops within 100 ms. Chunks of 2^22 took
  // 40-50 ms, and over 100 ms on a loaded machine.
  constexpr idx kChunk = (idx)1 << 19;
  const idx npix = (idx)pw * ph;
  // The image in units where [lo, hi] is [0, 1], padded by repeating its
  // last row and column (smooth, so edge blocks code it cheaply).
  // Not zero-filled: its pages are first touched row by row, between the
  // cancellation checks.
  std::unique_ptr<float[]> norm(new float[(size_t)npix]);
  double scale = 1.0 / ((double)hd.hi - hd.lo);
  for (int y = 0; y < ph; ++y) {
    if (y % 256 == 0) check_cancel(job.cancel, "encode");
    const float* row = job.img + (idx)std::min(y, h - 1) * w;
    float* out = norm.get() + (size_t)y * pw;
    for (int x = 0; x < w; ++x) out[x] = (float)(((double)row[x] - hd.lo) * scale);
    for (int x = w; x < pw; ++x) out[x] = out[w - 1];
  }
  float* dimg = ex.template alloc<float>(npix);
  ex.upload_into(dimg, norm.get(), npix);

  const bool rate = job.target_bytes > 0;
  const int nlev = bits_for(hd.rmax) - bits_for(hd.rmin) + 1;
  CodecFound found{hd.rmin, hd.rmax, (uint32_t)pw, {}, {}};
  found.level.resize((size_t)nlev);
  found.searched.resize((size_t)nlev);
  std::vector<double> limit((size_t)nlev);
  std::vector<std::pair<int, int>> ranges;
  for (int y = 0; y < h; y += hd.rmax)
    for (int x = 0; x < w; x += hd.rmax) ranges.emplace_back(x, y);
  int level = 0;
  for (int r = hd.rmax; r >= hd.rmin && !ranges.empty(); r /= 2, ++level) {
    check_cancel(job.cancel, "encode");
    const int n2 = r * r, li = found.li(r);
    found.level[(size_t)li].assign((size_t)(pw / r) * (ph / r), CodecMatch{0, 0, -1, kCodecScaleZero, 0});
    found.searched[(size_t)li].assign((size_t)(pw / r) * (ph / r), 0);
    limit[(size_t)li] = job.tol * job.tol * n2;
    int ndx, ndy;
    codec_lattice(w, h, r, hd.step_code, ndx, ndy);
    const idx nd = (idx)ndx * ndy, ncand = nd * 8;
    const int step = codec_step(r, hd.step_code);
    // The domain table: every domain, averaged down, under every isometry.
    float* table = ex.template alloc<float>(std::max<idx>(ncand * n2, 1));
    // In chunks of kChunk entries, for cancellation within 100 ms.
    for (idx e0 = 0, total = ncand * n2; e0 < total; e0 += kChunk) {
      check_cancel(job.cancel, "encode");
      ex.for_n(std::min<idx>(kChunk, total - e0), [=] SF_LAMBDA(idx e) { codec_domain_elem(dimg, pw, ndx, step, r, table, e0 + e); });
    }
    check_cancel(job.cancel, "encode");
    float* dsum = ex.template alloc<float>(std::max<idx>(nd, 1));
    float* dsq = ex.template alloc<float>(std::max<idx>(nd, 1));
    ex.for_n(nd, [=] SF_LAMBDA(idx di) {
      const float* v = table + di * 8 * n2;
      double s = 0, q = 0;
      for (int k = 0; k < n2; ++k) {
        s += v[k];
        q += (double)v[k] * v[k];
      }
      dsum[di] = (float)s;
      dsq[di] = (float)q;
    });
    // The ranges of this level, gathered as contiguous blocks.
    const idx nr = (idx)ranges.size();
    std::vector<int> pos((size_t)nr * 2);
    for (idx i = 0; i < nr; ++i) {
      pos[(size_t)(2 * i)] = ranges[(size_t)i].first;
      pos[(size_t)(2 * i + 1)] = ranges[(size_t)i].second;
    }
    const int* dpos = ex.upload(pos.data(), nr * 2);
    float* rtab = ex.template alloc<float>(nr * n2);
    ex.for_n(nr * n2, [=] SF_LAMBDA(idx e) {
      idx ri = e / n2;
      int pix = (int)(e - ri * n2);
      rtab[e] = dimg[(idx)(dpos[2 * ri + 1] + pix / r) * pw + dpos[2 * ri] + pix % r];
    });
    // Candidates in classes, each class in tiles of kCodecTile (see
    // codec_scan_group). Classified search: the class is the order of the
    // quadrants' sums and a range tries its own class (s > 0) and the
    // reverse (s < 0); exhaustive search: one class of every candidate.
    const int nclass = job.classified ? 24 : 1;
    std::vector<int> hcls((size_t)ncand, 0);
    int* rclass = ex.template alloc<int>(std::max<idx>(nr * 2, 1));
    if (job.classified) {
      int* cls = ex.template alloc<int>(std::max<idx>(ncand, 1));
      ex.for_n(ncand, [=] SF_LAMBDA(idx c) { cls[c] = codec_block_class(table + c * n2, r); });
      ex.download(hcls.data(), cls, ncand);
      ex.for_n(nr, [=] SF_LAMBDA(idx ri) {
        const float* R = rtab + ri * n2;
        rclass[2 * ri] = codec_block_class(R, r);
        // The order of the negated block: its quadrants ranked the other way.
        float q[4] = {0, 0, 0, 0};
        int hh = r / 2;
        for (int y = 0; y < r; ++y)
          for (int x = 0; x < r; ++x) q[(y >= hh ? 2 : 0) + (x >= hh ? 1 : 0)] -= R[y * r + x];
        rclass[2 * ri + 1] = codec_order_class(q[0], q[1], q[2], q[3]);
      });
    } else {
      ex.for_n(nr * 2, [=] SF_LAMBDA(idx i) { rclass[i] = 0; });
    }
    std::vector<idx> count((size_t)nclass, 0), toff((size_t)nclass + 1, 0);
    for (int c : hcls) ++count[(size_t)c];
    for (int c = 0; c < nclass; ++c) toff[(size_t)c + 1] = toff[(size_t)c] + (count[(size_t)c] + kCodecTile - 1) / kCodecTile;
    const idx ntiles = toff[(size_t)nclass], nlanes = ntiles * kCodecTile;
    std::vector<int> hcid((size_t)std::max<idx>(nlanes, 1), -1);
    {
      std::vector<idx> fill(toff.begin(), toff.end() - 1);
      for (int c = 0; c < nclass; ++c) fill[(size_t)c] *= kCodecTile;
      for (idx c = 0; c < ncand; ++c) hcid[(size_t)fill[(size_t)hcls[(size_t)c]]++] = (int)c;
    }
    const int* cid = ex.upload(hcid.data(), std::max<idx>(nlanes, 1));
    const idx* dtoff = ex.upload(toff.data(), nclass + 1);
    float* tiles = ex.template alloc<float>(std::max<idx>(nlanes * n2, 1));
    float* csum = ex.template alloc<float>(std::max<idx>(nlanes, 1));
    float* cvd = ex.template alloc<float>(std::max<idx>(nlanes, 1));
    float* civd = ex.template alloc<float>(std::max<idx>(nlanes, 1));
    for (idx e0 = 0, total = nlanes * n2; e0 < total; e0 += kChunk) {
      check_cancel(job.cancel, "encode");
      ex.for_n(std::min<idx>(kChunk, total - e0), [=] SF_LAMBDA(idx i) {
        const idx e = e0 + i, t = e / ((idx)n2 * kCodecTile);
        int rest = (int)(e - t * n2 * kCodecTile), k = rest / kCodecTile, j = rest - k * kCodecTile;
        int c = cid[t * kCodecTile + j];
        tiles[e] = c >= 0 ? table[(idx)c * n2 + k] : 0.0f;
      });
    }
    ex.for_n(nlanes, [=] SF_LAMBDA(idx p) {
      int c = cid[p];
      float s = c >= 0 ? dsum[c >> 3] : 0.0f;
      double v = c >= 0 ? (double)dsq[c >> 3] - (double)s * s / n2 : 0.0;
      csum[p] = s;
      cvd[p] = (float)(v > 0 ? v : 0);
      civd[p] = v > 1e-12 ? (float)(1.0 / v) : 0.0f;
    });
    // Ranges grouped by their pair of classes, kCodecGroup to a group (the
    // last of a pair's groups padded with -1), so a group scans the same
    // tiles (codec_scan_group).
    std::vector<int> hrc((size_t)nr * 2);
    ex.download(hrc.data(), rclass, nr * 2);
    std::vector<int> members;
    {
      std::vector<int> order((size_t)nr);
      std::vector<idx> start((size_t)nclass * nclass + 1, 0);
      auto key = [&](idx i) { return (size_t)hrc[(size_t)(2 * i)] * nclass + hrc[(size_t)(2 * i + 1)]; };
      for (idx i = 0; i < nr; ++i) ++start[key(i) + 1];
      for (size_t k = 0; k + 1 < start.size(); ++k) start[k + 1] += start[k];
      std::vector<idx> fill(start.begin(), start.end() - 1);
      for (idx i = 0; i < nr; ++i) order[(size_t)fill[key(i)]++] = (int)i;
      for (size_t k = 0; k + 1 < start.size(); ++k)
        for (idx i = start[k]; i < start[k + 1]; i += kCodecGroup)
          for (int m = 0; m < kCodecGroup; ++m) members.push_back(i + m < start[k + 1] ? order[(size_t)(i + m)] : -1);
    }
    const idx ng = (idx)members.size() / kCodecGroup;
    const int* dmem = ex.upload(members.data(), std::max<idx>(ng * kCodecGroup, 1));
    CodecMatch* best = ex.template alloc<CodecMatch>(nr);
    // Searched in slices of groups of about 2^24 pixel comparisons (a few
    // ms; at least 16 groups, to keep every thread busy), for cancellation
    // within 100 ms and progress; on the CPU a group of an aborted call is
    // skipped, so a slice of heavy groups ends soon after the abort too.
    const double per_group = (double)n2 * kCodecGroup * (job.classified ? std::max<idx>(1, ncand / 6) : ncand);
    const idx slice = std::max<idx>(16, (idx)((double)((idx)1 << 24) / std::max(1.0, per_group)));
    const CancelFlag cancel = job.cancel;
    double reported = 0;
    for (idx g0 = 0; g0 < ng; g0 += slice) {
      check_cancel(job.cancel, "encode");
      idx g1 = std::min(ng, g0 + slice);
      ex.for_items(g1 - g0, [=] SF_LAMBDA(idx k) {
#if !defined(__CUDA_ARCH__)
        if (cancel.raised()) return;
#else
        (void)cancel;  // the device cannot read the host's flag: the slice ends the work
#endif
        const int* mem = dmem + (g0 + k) * kCodecGroup;
        const float* R[kCodecGroup];
        float mr[kCodecGroup];
        for (int m = 0; m < kCodecGroup; ++m) {
          R[m] = rtab + (idx)(mem[m] >= 0 ? mem[m] : mem[0]) * n2;
          float sr = 0;
          for (int q = 0; q < n2; ++q) sr += R[m][q];
          mr[m] = sr / n2;
        }
        const int c0 = rclass[2 * mem[0]], c1 = rclass[2 * mem[0] + 1];
        float ga[kCodecGroup], gb[kCodecGroup];
        int pa[kCodecGroup], pb[kCodecGroup];
        auto scan = [&](idx t0, idx t1, float* g, int* p) {
#if !defined(__CUDA_ARCH__)
          // A class's tiles in runs of about 2^20 multiply-adds, with the
          // cancellation flag read between runs: an exhaustive search scans
          // every tile for each group (70 ms at 16 x 16 on a 2048^2 image).
          for (int m = 0; m < kCodecGroup; ++m) {
            g[m] = 0.0f;
            p[m] = -1;
          }
          const idx run = std::max<idx>(1, ((idx)1 << 20) / ((idx)n2 * kCodecTile * kCodecGroup));
          for (idx a = t0; a < t1 && !cancel.raised(); a += run) {
            float g2[kCodecGroup];
            int p2[kCodecGroup];
            codec_scan_group(R, n2, mr, tiles, csum, cvd, civd, a, std::min(t1, a + run), g2, p2);
            codec_keep_best(g, p, g2, p2);
          }
#else
          codec_scan_group(R, n2, mr, tiles, csum, cvd, civd, t0, t1, g, p);
#endif
        };
        scan(dtoff[c0], dtoff[c0 + 1], ga, pa);
        if (c1 != c0) scan(dtoff[c1], dtoff[c1 + 1], gb, pb);
        for (int m = 0; m < kCodecGroup; ++m) {
          if (mem[m] < 0) continue;
          int p = c1 != c0 && pb[m] >= 0 && (pa[m] < 0 || gb[m] < ga[m]) ? pb[m] : pa[m];
          best[mem[m]] = codec_refit(R[m], n2, table, dsum, dsq, p >= 0 ? cid[p] : -1);
        }
      });
      ex.sync();
      const double done = (double)g1 / (double)ng;
      if (job.progress && (done - reported >= 1.0 / 256 || g1 == ng)) {
        job.progress(level, done);
        reported = done;
      }
    }
    check_cancel(job.cancel, "encode");
    std::vector<CodecMatch> hb((size_t)nr);
    ex.download(hb.data(), best, nr);
    // Keep every block's best map; search the children of every block
    // (rate control chooses the tree afterwards) or of those the tolerance
    // splits.
    std::vector<std::pair<int, int>> next;
    for (idx i = 0; i < nr; ++i) {
      int x = ranges[(size_t)i].first, y = ranges[(size_t)i].second;
      const size_t at = found.at(r, x, y);
      found.level[(size_t)li][at] = hb[(size_t)i];
      found.searched[(size_t)li][at] = 1;
      if (r > hd.rmin && (rate || hb[(size_t)i].err > limit[(size_t)li]))
        for_children(x, y, r, [&](int cx, int cy, int) {
          if (cx < w && cy < h) next.emplace_back(cx, cy);
        });
    }
    ranges.swap(next);
  }

  CodecChoice choice(hd, found);
  CodecTree tree(hd);
  std::vector<CodedLeaf> leaves;
  double sse = 0;
  if (!rate) {
    choice.build(-1, limit, tree, leaves, sse, job.leaves_per_size);
  } else {
    // The multiplier by bisection on its logarithm: the code's size falls as
    // lambda grows. Keep the code closest to the target, preferring one
    // within it.
    const double target = job.target_bytes;
    auto size_at = [&](double lambda) {
      choice.build(lambda, limit, tree, leaves, sse, job.leaves_per_size);
      return (double)kCodecHeader + (double)code_tree_stream(hd, tree, leaves, nullptr).size();
    };
    double best_lambda = 0, best_size = size_at(0), best_gap = std::fabs(best_size - target);
    if (best_size > target) {
      double lo = -36, hi = 8;  // log2 lambda
      const double smallest = size_at(std::exp2(hi));
      if (smallest > target * 1.03)
        fail("E_RANGE", job.target_name + " asks for " + std::to_string((long long)std::ceil(target)) + " bytes, below the smallest code of this image at these block sizes (" +
                            std::to_string((long long)smallest) + " bytes)");
      for (int it = 0; it < 48 && hi - lo > 1e-4; ++it) {
        check_cancel(job.cancel, "encode");
        double mid = 0.5 * (lo + hi), size = size_at(std::exp2(mid));
        double gap = std::fabs(size - target) + (size > target ? 1e-9 : 0);
        if (gap < best_gap || (size <= target && best_size > target && gap <= 0.03 * target)) {
          best_gap = gap;
          best_size = size;
          best_lambda = std::exp2(mid);
        }
        if (size > target)
          lo = mid;
        else
          hi = mid;
        if (size <= target && size >= target * 0.995) break;
      }
    }
    job.lambda = best_lambda;
    choice.build(best_lambda, limit, tree, leaves, sse, job.leaves_per_size);
  }
  job.collage_rmse = std::sqrt(sse / (double)npix);
  hd.leaves = (uint32_t)leaves.size();
  job.code = write_code(hd, tree, leaves);
}

struct DecodeJob {
  const uint8_t* code = nullptr;
  size_t bytes = 0;
  int scale_num = 1, scale_den = 1;  // output scale: 1/2, 1, 2 or 4
  int max_iterations = 64;
  double tol = 1e-5;  // stop when the RMS change falls below this (normalized units)
  CodecHeader hd;
  int w = 0, h = 0;    // output size: the image's, scaled (rounded up)
  int pw = 0, ph = 0;  // the padded grid at the output scale
  float* out = nullptr;
  std::vector<double> changes;  // RMS change of each iteration, normalized units
  std::vector<CodecLeaf> leaves;  // at the output scale (decode_leaves)
  CancelFlag cancel = nullptr;
};

// Parses the code into job.leaves (on the host; every check before any
// device work).
inline void decode_leaves(DecodeJob& job) {
  std::vector<CodedLeaf> coded = read_leaves(job.code, job.bytes, job.hd);
  const CodecHeader& hd = job.hd;
  auto sc = [&](int v) { return v * job.scale_num / job.scale_den; };
  job.w = (int)(((int64_t)hd.w * job.scale_num + job.scale_den - 1) / job.scale_den);
  job.h = (int)(((int64_t)hd.h * job.scale_num + job.scale_den - 1) / job.scale_den);
  job.pw = sc((int)hd.pw());
  job.ph = sc((int)hd.ph());
  std::vector<CodecLeaf> out;
  out.reserve(coded.size());
  for (const CodedLeaf& c : coded) {
    int ndx, ndy;
    codec_lattice((int)hd.w, (int)hd.h, c.size, hd.step_code, ndx, ndy);
    int step = codec_step(c.size, hd.step_code);
    CodecLeaf L;
    L.x = sc(c.x);
    L.y = sc(c.y);
    L.size = sc(c.size);
    L.dx = c.sq == kCodecScaleZero ? 0 : sc((c.dom % std::max(ndx, 1)) * step);
    L.dy = c.sq == kCodecScaleZero ? 0 : sc((c.dom / std::max(ndx, 1)) * step);
    L.iso = c.iso;
    L.sq = c.sq;
    L.mq = c.mq;
    out.push_back(L);
  }
  job.leaves.swap(out);
}

template <class Exec>
void decode(Exec& ex, DecodeJob& job) {
  const std::vector<CodecLeaf>& hleaves = job.leaves;
  const int pw = job.pw, ph = job.ph, w = job.w, h = job.h;
  const idx npix = (idx)pw * ph, nl = (idx)hleaves.size();
  // Pixels of the padding no leaf covers stay -1 (never read: domains lie
  // inside the image).
  std::vector<int> owner((size_t)npix, -1);
  for (idx i = 0; i < nl; ++i) {
    const CodecLeaf& L = hleaves[(size_t)i];
    for (int y = L.y; y < L.y + L.size; ++y)
      for (int x = L.x; x < L.x + L.size; ++x) owner[(size_t)y * pw + x] = (int)i;
  }
  const CodecLeaf* leaves = ex.upload(hleaves.data(), nl);
  const int* own = ex.upload(owner.data(), npix);
  float* a = ex.template zeros<float>(npix);
  float* b = ex.template zeros<float>(npix);
  float* dmean = ex.template alloc<float>(std::max<idx>(nl, 1));
  job.changes.clear();
  for (int it = 0; it < job.max_iterations; ++it) {
    check_cancel(job.cancel, "decode");
    const float* prev = a;
    float* next = b;
    ex.for_n(nl, [=] SF_LAMBDA(idx i) {
      CodecLeaf L = leaves[i];
      int n = 2 * L.size;
      double s = 0;
      if (L.sq != kCodecScaleZero)
        for (int y = 0; y < n; ++y)
          for (int x = 0; x < n; ++x) s += prev[(idx)(L.dy + y) * pw + L.dx + x];
      dmean[i] = (float)(s / ((double)n * n));
    });
    ex.for_n(npix, [=] SF_LAMBDA(idx p) {
      int l = own[p];
      if (l < 0) return;
      int px = (int)(p % pw), py = (int)(p / pw);
      next[p] = codec_decode_pixel(leaves[l], prev, pw, px, py, dmean[l]);
    });
    double ss = ex.sum_n(npix, [=] SF_LAMBDA(idx p) {
      double d = (double)next[p] - prev[p];
      return d * d;
    });
    std::swap(a, b);
    double change = std::sqrt(ss / (double)npix);
    job.changes.push_back(change);
    if (change < job.tol) break;
  }
  // The image's part, back in its units.
  const idx nout = (idx)w * h;
  float* out = ex.output(job.out, nout);
  const float lo = job.hd.lo, span = job.hd.hi - job.hd.lo;
  const float* fin = a;
  ex.for_n(nout, [=] SF_LAMBDA(idx p) {
    idx y = p / w, x = p - y * w;
    float v = lo + span * fin[y * pw + x];
    out[p] = v < lo ? lo : (v > lo + span ? lo + span : v);
  });
  ex.finish_output(job.out, out, nout);
  ex.sync();
}

}  // namespace fractal
}  // namespace sf
