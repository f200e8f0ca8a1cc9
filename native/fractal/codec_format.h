// The fractal codec's binary code: a 40-byte header and a range-coded stream.
//
//  offset size  field
//   0     4     magic "SFIC"
//   4     1     version (2)
//   5     1     log2 of the smallest range block (2..5)
//   6     1     log2 of the largest range block (>= the smallest, <= 5)
//   7     1     domain lattice step: 0 = 2r, 1 = r, 2 = r/2 (r: range size)
//   8     4     width  (u32, little-endian; any size from 1)
//  12     4     height (u32)
//  16     4     lo: value of mean code 0 (f32)
//  20     4     hi: value of mean code 255 (f32, > lo)
//  24     1     value type of the image: 0 float32, 1 uint8, 2 uint16
//  25     3     reserved (0)
//  28     4     leaves (u32)
//  32     4     bytes in the stream (u32)
//  36     4     CRC-32 (IEEE) of bytes 0..35 and the stream
//  40     ...   the stream, nothing after it
//
// Geometry: the quadtree covers the image padded up to a multiple of the
// largest block; blocks wholly in the padding are not coded, and domains lie
// wholly inside the image, so the padding is never read and costs only the
// part of the edge blocks it fills. Decoding crops it.
//
// The stream (native/fractal/range_coder.h) walks the largest blocks in
// raster order and each quadtree depth first (children: top-left,
// top-right, bottom-left, bottom-right; those outside the image skipped).
// Every left and upper neighbour of a block precedes it in that order, so
// contexts and predictions use them:
// - a block larger than the smallest: split flag, modelled per level and by
//   how many of its left and upper neighbours are smaller than it;
// - a leaf: its scale code (zero?, sign, magnitude; per level), its mean
//   code as a residual from the mean of the leaves along its left and upper
//   edges (zero?, sign, Exp-Golomb magnitude; per "scale is zero"), and,
//   unless the scale is 0, its domain (column, then row on the level's
//   lattice: the top 8 bits of each as an adaptive bit tree per level, the
//   rest equiprobable) and isometry (3-bit tree).
// Reading checks every size, count and code, and that the stream is read
// exactly to its end: a truncated or corrupted code is an error, never an
// over-read.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../../cuda/codec_k.h"
#include "../errors.h"
#include "range_coder.h"

namespace sf {
namespace fractal {

constexpr int kCodecHeader = 40;
constexpr int kCodecVersion = 2;
constexpr int kCodecLevels = 4;  // block sizes 4..32

// Value types of the coded image: decoding clamps to [lo, hi] and, for the
// integer types, [lo, hi] is the type's range.
enum CodecType { kCodecFloat32 = 0, kCodecUint8 = 1, kCodecUint16 = 2 };

struct CodecHeader {
  int rmin = 4, rmax = 16, step_code = 1;
  uint32_t w = 0, h = 0;
  float lo = 0, hi = 1;
  int type = kCodecFloat32;
  uint32_t leaves = 0;
  uint32_t bytes = 0;
  // The padded grid the quadtree covers.
  uint32_t pw() const { return (w + rmax - 1) / rmax * rmax; }
  uint32_t ph() const { return (h + rmax - 1) / rmax * rmax; }
};

// One leaf at scale 1: range (x, y, size), domain index on its level's lattice.
struct CodedLeaf {
  int x, y, size;
  int dom, iso, sq, mq;
};

inline int codec_step(int r, int step_code) { return step_code == 0 ? 2 * r : (step_code == 1 ? r : std::max(1, r / 2)); }

// Domain lattice of a level: positions k * step with the 2r block inside the
// image (w x h, not the padding).
inline void codec_lattice(int w, int h, int r, int step_code, int& ndx, int& ndy) {
  int step = codec_step(r, step_code);
  ndx = w >= 2 * r ? (w - 2 * r) / step + 1 : 0;
  ndy = h >= 2 * r ? (h - 2 * r) / step + 1 : 0;
}

inline int bits_for(uint64_t n) {
  int b = 0;
  while (((uint64_t)1 << b) < n) ++b;
  return b;
}

inline uint32_t crc32(const uint8_t* p, size_t n, uint32_t crc = 0) {
  static uint32_t table[256];
  static bool ready = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)ready;
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

inline void put_u32(uint8_t* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = (uint8_t)(v >> (8 * k));
}
inline uint32_t get_u32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
inline void put_f32(uint8_t* p, float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  put_u32(p, v);
}
inline float get_f32(const uint8_t* p) {
  uint32_t v = get_u32(p);
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}

// A node of the quadtree on one level: -1 absent, -2 split, else a leaf index.
struct CodecTree {
  int rmin, rmax;
  uint32_t pw, ph;  // the padded grid
  std::vector<std::vector<int>> level;  // [log2 r - log2 rmin][(y / r) * (pw / r) + x / r]
  CodecTree(const CodecHeader& hd) : rmin(hd.rmin), rmax(hd.rmax), pw(hd.pw()), ph(hd.ph()) {
    for (int r = rmin; r <= rmax; r *= 2) level.emplace_back((size_t)(pw / r) * (ph / r), -1);
  }
  int& at(int r, int x, int y) { return level[bits_for(r) - bits_for(rmin)][(size_t)(y / r) * (pw / r) + x / r]; }
};

// The four children of block (x, y, r), in the stream's order (top-left,
// top-right, bottom-left, bottom-right).
template <class F>
void for_children(int x, int y, int r, F&& f) {
  const int h = r / 2;
  f(x, y, h);
  f(x + h, y, h);
  f(x, y + h, h);
  f(x + h, y + h, h);
}

// The adaptive models of a stream, one set per code.
struct CodecModels {
  BitModel split[kCodecLevels][3];
  BitModel szero[kCodecLevels], ssign[kCodecLevels], smag[kCodecLevels][16];
  BitModel mzero[2], msign[2];
  GolombModel mres[2];
  BitModel iso[8];
  BitModel dom[kCodecLevels][2][256];  // bit trees over the top 8 bits of the lattice's column and row
};

// The stream in either direction (see the top of the file). Src supplies
// what the encoder codes: int split(x, y, r), CodedLeaf leaf(x, y, r); and
// takes each leaf coded or decoded: put(leaf). A decoded field out of its
// range fails here, so the decoder's values are checked where they are read.
template <class C, class Src>
void code_stream(C& c, const CodecHeader& hd, Src& src) {
  auto models = std::make_unique<CodecModels>();
  CodecModels& M = *models;
  const int cell = hd.rmin, ncx = (int)hd.pw() / cell, ncy = (int)hd.ph() / cell;
  std::vector<int16_t> mean_at((size_t)ncx * ncy, -1);  // mean code of the leaf covering a cell
  std::vector<int8_t> size_at((size_t)ncx * ncy, -1);   // log2 of that leaf's size
  int last_mean = kCodecMeanLevels / 2 + 1;
  const int lmax = bits_for(hd.rmax);
  auto visit = [&](auto& self, int x, int y, int r) -> void {
    if ((uint32_t)x >= hd.w || (uint32_t)y >= hd.h) return;  // wholly in the padding
    const int li = lmax - bits_for(r), cx = x / cell, cy = y / cell, k = r / cell;
    if (r > hd.rmin) {
      int ctx = (cx > 0 && size_at[(size_t)cy * ncx + cx - 1] >= 0 && (1 << size_at[(size_t)cy * ncx + cx - 1]) < r) +
                (cy > 0 && size_at[(size_t)(cy - 1) * ncx + cx] >= 0 && (1 << size_at[(size_t)(cy - 1) * ncx + cx]) < r);
      if (c.bit(M.split[li][ctx], src.split(x, y, r))) {
        for_children(x, y, r, [&](int cx2, int cy2, int r2) { self(self, cx2, cy2, r2); });
        return;
      }
    }
    CodedLeaf L = src.leaf(x, y, r);
    L.x = x;
    L.y = y;
    L.size = r;
    // Scale code.
    if (c.bit(M.szero[li], L.sq == kCodecScaleZero)) {
      L.sq = kCodecScaleZero;
    } else {
      int neg = c.bit(M.ssign[li], L.sq < kCodecScaleZero);
      int mag = (int)code_tree(c, M.smag[li], 4, (uint32_t)(std::abs(L.sq - kCodecScaleZero) - 1)) + 1;
      if (mag > kCodecScaleLevels) fail("E_RANGE", "code: a scale code is out of range (corrupted)");
      L.sq = kCodecScaleZero + (neg ? -mag : mag);
    }
    // Mean code: a residual from the leaves along the left and upper edges.
    int sum = 0, cnt = 0;
    for (int j = 0; j < k; ++j) {
      if (cx > 0 && cy + j < ncy) {
        int v = mean_at[(size_t)(cy + j) * ncx + cx - 1];
        if (v >= 0) sum += v, ++cnt;
      }
      if (cy > 0 && cx + j < ncx) {
        int v = mean_at[(size_t)(cy - 1) * ncx + cx + j];
        if (v >= 0) sum += v, ++cnt;
      }
    }
    const int pred = cnt ? (sum + cnt / 2) / cnt : last_mean;
    const int mc = L.sq == kCodecScaleZero ? 1 : 0, d = L.mq - pred;
    if (c.bit(M.mzero[mc], d == 0)) {
      L.mq = pred;
    } else {
      int neg = c.bit(M.msign[mc], d < 0);
      uint32_t mag = code_golomb(c, M.mres[mc], (uint32_t)(std::abs(d) - 1));
      if (mag == kGolombBad || mag > (uint32_t)kCodecMeanLevels) fail("E_RANGE", "code: a mean code is out of range (corrupted)");
      L.mq = pred + (neg ? -1 : 1) * (int)(mag + 1);
      if (L.mq < 0 || L.mq > kCodecMeanLevels) fail("E_RANGE", "code: a mean code is out of range (corrupted)");
    }
    // Domain and isometry.
    if (L.sq != kCodecScaleZero) {
      int ndx, ndy;
      codec_lattice((int)hd.w, (int)hd.h, r, hd.step_code, ndx, ndy);
      uint64_t nd = (uint64_t)ndx * ndy;
      if (nd == 0) fail("E_RANGE", "code: a leaf has a domain where its level has none (corrupted)");
      // Column and row on the lattice, each as an adaptive bit tree (domains
      // in textured parts of the image are chosen more often).
      auto coord = [&](BitModel* m, int n, uint32_t v) {
        const int bits = bits_for((uint64_t)n), top = std::min(bits, 8), low = bits - top;
        uint32_t hi = code_tree(c, m, top, v >> low);
        return (hi << low) | c.direct(v & ((1u << low) - 1), low);
      };
      uint32_t dx = coord(M.dom[li][0], ndx, (uint32_t)(L.dom % ndx));
      uint32_t dy = coord(M.dom[li][1], ndy, (uint32_t)(L.dom / ndx));
      if (dx >= (uint32_t)ndx || dy >= (uint32_t)ndy) fail("E_RANGE", "code: a domain index is out of range (corrupted)");
      L.dom = (int)(dy * (uint32_t)ndx + dx);
      L.iso = (int)code_tree(c, M.iso, 3, (uint32_t)L.iso);
    } else {
      L.dom = 0;
      L.iso = 0;
    }
    for (int yy = cy; yy < std::min(cy + k, ncy); ++yy)
      for (int xx = cx; xx < std::min(cx + k, ncx); ++xx) {
        mean_at[(size_t)yy * ncx + xx] = (int16_t)L.mq;
        size_at[(size_t)yy * ncx + xx] = (int8_t)bits_for(r);
      }
    last_mean = L.mq;
    src.put(L);
  };
  for (uint32_t y = 0; y < hd.h; y += hd.rmax)
    for (uint32_t x = 0; x < hd.w; x += hd.rmax) visit(visit, (int)x, (int)y, hd.rmax);
}

// The stream of a chosen tree, for the rate search: its bytes only.
inline std::vector<uint8_t> code_tree_stream(const CodecHeader& hd, CodecTree& tree, const std::vector<CodedLeaf>& leaves, uint32_t* written) {
  struct Src {
    CodecTree& tree;
    const std::vector<CodedLeaf>& leaves;
    uint32_t n = 0;
    int split(int x, int y, int r) { return tree.at(r, x, y) == -2 ? 1 : 0; }
    CodedLeaf leaf(int x, int y, int r) {
      int node = tree.at(r, x, y);
      if (node < 0) fail("E_DEVICE", "codec: internal error, a block was neither split nor coded");
      return leaves[(size_t)node];
    }
    void put(const CodedLeaf&) { ++n; }
  } src{tree, leaves};
  RangeEncoder enc;
  code_stream(enc, hd, src);
  if (written) *written = src.n;
  return enc.finish();
}

inline std::vector<uint8_t> write_code(CodecHeader hd, CodecTree& tree, const std::vector<CodedLeaf>& leaves) {
  uint32_t written = 0;
  std::vector<uint8_t> stream = code_tree_stream(hd, tree, leaves, &written);
  if (stream.size() > 0xFFFFFFFFull) fail("E_TOO_LARGE", "code: more than 2^32 bytes");
  std::vector<uint8_t> out(kCodecHeader + stream.size(), 0);
  std::memcpy(out.data(), "SFIC", 4);
  out[4] = (uint8_t)kCodecVersion;
  out[5] = (uint8_t)bits_for(hd.rmin);
  out[6] = (uint8_t)bits_for(hd.rmax);
  out[7] = (uint8_t)hd.step_code;
  put_u32(&out[8], hd.w);
  put_u32(&out[12], hd.h);
  put_f32(&out[16], hd.lo);
  put_f32(&out[20], hd.hi);
  out[24] = (uint8_t)hd.type;
  put_u32(&out[28], written);
  put_u32(&out[32], (uint32_t)stream.size());
  if (!stream.empty()) std::memcpy(out.data() + kCodecHeader, stream.data(), stream.size());
  put_u32(&out[36], crc32(out.data() + kCodecHeader, out.size() - kCodecHeader, crc32(out.data(), 36)));
  return out;
}

// Largest image a code may describe (pixels), so a header cannot ask for
// unbounded memory.
constexpr uint64_t kCodecMaxPixels = (uint64_t)1 << 28;

inline CodecHeader read_header(const uint8_t* p, size_t n) {
  if (n < (size_t)kCodecHeader) fail("E_SHAPE", "code: " + std::to_string(n) + " bytes is shorter than the 40-byte header");
  if (std::memcmp(p, "SFIC", 4) != 0) fail("E_TYPE", "code: not a semfield fractal code (bad magic)");
  if (p[4] != kCodecVersion)
    fail("E_RANGE", "code: version " + std::to_string(p[4]) + " is not supported (" + std::to_string(kCodecVersion) + " is)");
  CodecHeader h;
  if (p[5] < 2 || p[5] > 5 || p[6] < p[5] || p[6] > 5) fail("E_RANGE", "code: block sizes in the header are invalid");
  h.rmin = 1 << p[5];
  h.rmax = 1 << p[6];
  if (p[7] > 2) fail("E_RANGE", "code: domain step code in the header is invalid");
  h.step_code = p[7];
  h.w = get_u32(p + 8);
  h.h = get_u32(p + 12);
  if (h.w == 0 || h.h == 0 || h.w > 65536 || h.h > 65536 || (uint64_t)h.pw() * h.ph() > kCodecMaxPixels)
    fail("E_RANGE", "code: image size in the header is invalid");
  h.lo = get_f32(p + 16);
  h.hi = get_f32(p + 20);
  if (!std::isfinite(h.lo) || !std::isfinite(h.hi) || !(h.hi > h.lo)) fail("E_RANGE", "code: value range in the header is invalid");
  if (p[24] > kCodecUint16 || p[25] || p[26] || p[27]) fail("E_RANGE", "code: value type in the header is invalid");
  h.type = p[24];
  h.leaves = get_u32(p + 28);
  h.bytes = get_u32(p + 32);
  uint64_t want = (uint64_t)kCodecHeader + h.bytes;
  if (want != n) fail("E_SHAPE", "code: the header announces " + std::to_string(want) + " bytes but the code has " + std::to_string(n));
  uint32_t crc = crc32(p + kCodecHeader, n - kCodecHeader, crc32(p, 36));
  if (crc != get_u32(p + 36)) fail("E_RANGE", "code: checksum mismatch (the code is corrupted)");
  return h;
}

// Every leaf of a code at scale 1, each code checked against its limits.
inline std::vector<CodedLeaf> read_leaves(const uint8_t* p, size_t n, CodecHeader& h) {
  h = read_header(p, n);
  uint64_t max_leaves = ((uint64_t)h.pw() / h.rmin) * (h.ph() / h.rmin);
  if (h.leaves > max_leaves) fail("E_RANGE", "code: more leaves than blocks");
  struct Src {
    std::vector<CodedLeaf> leaves;
    uint32_t limit;
    int split(int, int, int) { return 0; }
    CodedLeaf leaf(int x, int y, int r) { return CodedLeaf{x, y, r, 0, 0, kCodecScaleZero, 0}; }
    void put(const CodedLeaf& L) {
      if (leaves.size() >= limit) fail("E_RANGE", "code: more leaves than the header announces (corrupted)");
      leaves.push_back(L);
    }
  } src{{}, h.leaves};
  src.leaves.reserve(h.leaves);
  RangeDecoder dec(p + kCodecHeader, h.bytes);
  code_stream(dec, h, src);
  if (src.leaves.size() != h.leaves) fail("E_RANGE", "code: fewer leaves than the header announces (corrupted)");
  if (dec.consumed() != h.bytes)
    fail("E_SHAPE", dec.consumed() > h.bytes ? "code: the stream ends early (truncated or corrupted)" : "code: bytes left over after the last leaf (corrupted)");
  return std::move(src.leaves);
}

}  // namespace fractal
}  // namespace sf
