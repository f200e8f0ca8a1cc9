// The fractal codec's drivers for any execution policy: the encoder's search
// level by level down the quadtree, and the decoder's iteration to the fixed
// point at any scale. The arithmetic is the bodies of cuda/codec_k.h.
#pragma once
#include "../cancel.h"
#include <algorithm>
#include <functional>
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
  bool classified = true;
  bool range_given = false;  // lo and hi set by the caller, not by the image's extremes
  std::vector<uint8_t> code;
  std::vector<int> leaves_per_size;  // leaves of size rmin, 2 rmin, ...
  double collage_rmse = 0;           // of the quantized maps against the image, normalized units
  CancelFlag cancel = nullptr;
  std::function<void(int level, double done)> progress;
};

template <class Exec>
void encode(Exec& ex, EncodeJob& job) {
  CodecHeader& hd = job.hd;
  const int w = (int)hd.w, h = (int)hd.h;
  const idx npix = (idx)w * h;
  // The image in units where [lo, hi] is [0, 1].
  std::vector<float> norm((size_t)npix);
  double scale = 1.0 / ((double)hd.hi - hd.lo);
  for (idx i = 0; i < npix; ++i) norm[(size_t)i] = (float)(((double)job.img[i] - hd.lo) * scale);
  float* dimg = ex.template alloc<float>(npix);
  ex.upload_into(dimg, norm.data(), npix);

  CodecTree tree{hd.rmin, hd.rmax, hd.w, hd.h, {}};
  for (int r = hd.rmin; r <= hd.rmax; r *= 2) tree.level.emplace_back((size_t)(w / r) * (h / r), -1);
  std::vector<CodedLeaf> leaves;
  job.leaves_per_size.assign(bits_for(hd.rmax) - bits_for(hd.rmin) + 1, 0);
  double sse = 0;

  std::vector<std::pair<int, int>> ranges;
  for (int y = 0; y < h; y += hd.rmax)
    for (int x = 0; x < w; x += hd.rmax) ranges.emplace_back(x, y);
  int level = 0;
  for (int r = hd.rmax; r >= hd.rmin && !ranges.empty(); r /= 2, ++level) {
    check_cancel(job.cancel, "encode");
    const int n2 = r * r;
    int ndx, ndy;
    codec_lattice(w, h, r, hd.step_code, ndx, ndy);
    const idx nd = (idx)ndx * ndy, ncand = nd * 8;
    const int step = codec_step(r, hd.step_code);
    // The domain table: every domain, averaged down, under every isometry.
    float* table = ex.template alloc<float>(std::max<idx>(ncand * n2, 1));
    // In chunks of 2^22 entries (a few ms), for cancellation within 100 ms.
    for (idx e0 = 0, total = ncand * n2; e0 < total; e0 += (idx)1 << 22) {
      check_cancel(job.cancel, "encode");
      ex.for_n(std::min<idx>((idx)1 << 22, total - e0), [=] SF_LAMBDA(idx e) { codec_domain_elem(dimg, w, ndx, step, r, table, e0 + e); });
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
      rtab[e] = dimg[(idx)(dpos[2 * ri + 1] + pix / r) * w + dpos[2 * ri] + pix % r];
    });
    // Classified search: candidates grouped by the order class of their
    // quadrants; a range tries its own class (s > 0) and the reverse (s < 0).
    const int* cand = nullptr;
    const int* coff = nullptr;
    int* rclass = nullptr;
    std::vector<int> off, items;  // host copies (on the CPU, the very arrays searched)
    if (job.classified) {
      int* cls = ex.template alloc<int>(std::max<idx>(ncand, 1));
      ex.for_n(ncand, [=] SF_LAMBDA(idx c) { cls[c] = codec_block_class(table + c * n2, r); });
      std::vector<int> hcls((size_t)ncand);
      ex.download(hcls.data(), cls, ncand);
      off.assign(25, 0);
      items.assign((size_t)std::max<idx>(ncand, 1), 0);
      for (int c : hcls) ++off[(size_t)c + 1];
      for (int k = 0; k < 24; ++k) off[(size_t)k + 1] += off[(size_t)k];
      std::vector<int> fillp(off.begin(), off.end() - 1);
      for (idx c = 0; c < ncand; ++c) items[(size_t)fillp[(size_t)hcls[(size_t)c]]++] = (int)c;
      cand = ex.upload(items.data(), std::max<idx>(ncand, 1));
      coff = ex.upload(off.data(), 25);
      rclass = ex.template alloc<int>(nr * 2);
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
    }
    CodecMatch* best = ex.template alloc<CodecMatch>(nr);
    const bool classified = job.classified;
    // Searched in slices of ranges of about 2^24 pixel comparisons (a few ms;
    // at least 16 ranges, to keep every thread busy), for cancellation within
    // 100 ms and progress; on the CPU a range of an aborted call is skipped,
    // so a slice of heavy ranges ends soon after the abort too.
    const double per_range = (double)n2 * (classified ? std::max<idx>(1, ncand / 6) : ncand);
    const idx slice = std::max<idx>(16, (idx)((double)((idx)1 << 24) / std::max(1.0, per_range)));
    const CancelFlag cancel = job.cancel;
    double reported = 0;
    for (idx r0 = 0; r0 < nr; r0 += slice) {
      check_cancel(job.cancel, "encode");
      idx r1 = std::min(nr, r0 + slice);
      ex.for_items(r1 - r0, [=] SF_LAMBDA(idx k) {
#if !defined(__CUDA_ARCH__)
        if (cancel.raised()) return;
#else
        (void)cancel;  // the device cannot read the host's flag: the slice ends the work
#endif
        idx ri = r0 + k;
        const float* R = rtab + ri * n2;
        if (!classified) {
          best[ri] = codec_search(R, n2, table, dsum, dsq, nullptr, ncand);
          return;
        }
        int c0 = rclass[2 * ri], c1 = rclass[2 * ri + 1];
        CodecMatch a = codec_search(R, n2, table, dsum, dsq, cand + coff[c0], coff[c0 + 1] - coff[c0]);
        CodecMatch b = codec_search(R, n2, table, dsum, dsq, cand + coff[c1], coff[c1 + 1] - coff[c1]);
        best[ri] = b.err < a.err ? b : a;
      });
      ex.sync();
      const double done = (double)r1 / (double)nr;
      if (job.progress && (done - reported >= 1.0 / 256 || r1 == nr)) {
        job.progress(level, done);
        reported = done;
      }
    }
    check_cancel(job.cancel, "encode");
    std::vector<CodecMatch> hb((size_t)nr);
    ex.download(hb.data(), best, nr);
    // Split what is not good enough and can still be split; code the rest.
    std::vector<std::pair<int, int>> next;
    double limit = job.tol * job.tol * n2;
    for (idx i = 0; i < nr; ++i) {
      int x = ranges[(size_t)i].first, y = ranges[(size_t)i].second;
      const CodecMatch& m = hb[(size_t)i];
      if (r > hd.rmin && m.err > limit) {
        tree.at(r, x, y) = -2;
        int c = r / 2;
        next.emplace_back(x, y);
        next.emplace_back(x + c, y);
        next.emplace_back(x, y + c);
        next.emplace_back(x + c, y + c);
        continue;
      }
      tree.at(r, x, y) = (int)leaves.size();
      CodedLeaf L{x, y, r, m.cand >= 0 ? m.cand >> 3 : 0, m.cand >= 0 ? m.cand & 7 : 0, m.sq, m.mq};
      leaves.push_back(L);
      ++job.leaves_per_size[(size_t)(bits_for(r) - bits_for(hd.rmin))];
      sse += m.err;
    }
    ranges.swap(next);
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
  int w = 0, h = 0;  // output size
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
  job.w = sc((int)hd.w);
  job.h = sc((int)hd.h);
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
  const int w = job.w, h = job.h;
  const idx npix = (idx)w * h, nl = (idx)hleaves.size();
  std::vector<int> owner((size_t)npix, -1);
  for (idx i = 0; i < nl; ++i) {
    const CodecLeaf& L = hleaves[(size_t)i];
    for (int y = L.y; y < L.y + L.size; ++y)
      for (int x = L.x; x < L.x + L.size; ++x) owner[(size_t)y * w + x] = (int)i;
  }
  const CodecLeaf* leaves = ex.upload(hleaves.data(), nl);
  const int* own = ex.upload(owner.data(), npix);
  float* a = ex.template zeros<float>(npix);
  float* b = ex.template alloc<float>(npix);
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
          for (int x = 0; x < n; ++x) s += prev[(idx)(L.dy + y) * w + L.dx + x];
      dmean[i] = (float)(s / ((double)n * n));
    });
    ex.for_n(npix, [=] SF_LAMBDA(idx p) {
      int l = own[p];
      int px = (int)(p % w), py = (int)(p / w);
      next[p] = codec_decode_pixel(leaves[l], prev, w, px, py, dmean[l]);
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
  // Back to the image's units.
  float* out = ex.output(job.out, npix);
  const float lo = job.hd.lo, span = job.hd.hi - job.hd.lo;
  const float* fin = a;
  ex.for_n(npix, [=] SF_LAMBDA(idx p) { out[p] = lo + span * fin[p]; });
  ex.finish_output(job.out, out, npix);
  ex.sync();
}

}  // namespace fractal
}  // namespace sf
