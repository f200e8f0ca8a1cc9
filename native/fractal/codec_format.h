// The fractal codec's binary code: a 36-byte header and a bit stream.
//
//  offset size  field
//   0     4     magic "SFIC"
//   4     1     version (1)
//   5     1     log2 of the smallest range block (2..5)
//   6     1     log2 of the largest range block (>= the smallest, <= 5)
//   7     1     domain lattice step: 0 = 2r, 1 = r, 2 = r/2 (r: range size)
//   8     4     width  (u32, little-endian; a multiple of the largest block)
//  12     4     height (u32)
//  16     4     lo: value of mean code 0 (f32)
//  20     4     hi: value of mean code 255 (f32, > lo)
//  24     4     leaves (u32)
//  28     4     bits in the stream (u32)
//  32     4     CRC-32 (IEEE) of bytes 0..31 and the stream
//  36     ...   the stream, ceil(bits / 8) bytes, nothing after it
//
// The stream walks the largest blocks in raster order and each quadtree depth
// first (children: top-left, top-right, bottom-left, bottom-right). A block
// larger than the smallest size starts with one bit: 1 = split. A leaf holds
// its scale code (5 bits, 0..30), mean code (8 bits) and, unless the scale is
// 0, its domain (ceil(log2 domains) bits, raster order on the lattice) and
// isometry (3 bits). Reading checks every size, count and code: a truncated
// or corrupted code is an error, never an over-read.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../../cuda/codec_k.h"
#include "../errors.h"

namespace sf {
namespace fractal {

constexpr int kCodecHeader = 36;

struct CodecHeader {
  int rmin = 4, rmax = 16, step_code = 1;
  uint32_t w = 0, h = 0;
  float lo = 0, hi = 1;
  uint32_t leaves = 0;
  uint32_t bits = 0;
};

// One leaf at scale 1: range (x, y, size), domain index on its level's lattice.
struct CodedLeaf {
  int x, y, size;
  int dom, iso, sq, mq;
};

inline int codec_step(int r, int step_code) { return step_code == 0 ? 2 * r : (step_code == 1 ? r : std::max(1, r / 2)); }

// Domain lattice of a level: positions k * step with the 2r block inside.
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

class BitWriter {
 public:
  void put(uint32_t v, int bits) {
    for (int k = bits - 1; k >= 0; --k) {
      if (n_ % 8 == 0) bytes_.push_back(0);
      if ((v >> k) & 1) bytes_.back() |= (uint8_t)(0x80 >> (n_ % 8));
      ++n_;
    }
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  uint64_t bits() const { return n_; }

 private:
  std::vector<uint8_t> bytes_;
  uint64_t n_ = 0;
};

class BitReader {
 public:
  BitReader(const uint8_t* p, uint64_t bits) : p_(p), bits_(bits) {}
  uint32_t get(int bits) {
    if (pos_ + (uint64_t)bits > bits_) fail("E_SHAPE", "code: the bit stream ends early (truncated or corrupted)");
    uint32_t v = 0;
    for (int k = 0; k < bits; ++k, ++pos_) v = (v << 1) | ((p_[pos_ / 8] >> (7 - pos_ % 8)) & 1);
    return v;
  }
  uint64_t pos() const { return pos_; }

 private:
  const uint8_t* p_;
  uint64_t bits_, pos_ = 0;
};

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
  uint32_t w, h;
  std::vector<std::vector<int>> level;  // [log2 r - log2 rmin][(y / r) * (w / r) + x / r]
  int& at(int r, int x, int y) { return level[bits_for(r) - bits_for(rmin)][(size_t)(y / r) * (w / r) + x / r]; }
};

inline std::vector<uint8_t> write_code(const CodecHeader& hd, CodecTree& tree, const std::vector<CodedLeaf>& leaves) {
  BitWriter bw;
  uint32_t written = 0;
  auto visit = [&](auto& self, int x, int y, int r) -> void {
    int node = tree.at(r, x, y);
    if (r > hd.rmin) bw.put(node == -2 ? 1 : 0, 1);
    if (node == -2) {
      int c = r / 2;
      self(self, x, y, c);
      self(self, x + c, y, c);
      self(self, x, y + c, c);
      self(self, x + c, y + c, c);
      return;
    }
    if (node < 0) fail("E_DEVICE", "codec: internal error, a block was neither split nor coded");
    const CodedLeaf& L = leaves[(size_t)node];
    bw.put((uint32_t)L.sq, 5);
    bw.put((uint32_t)L.mq, 8);
    if (L.sq != kCodecScaleZero) {
      int ndx, ndy;
      codec_lattice((int)hd.w, (int)hd.h, r, hd.step_code, ndx, ndy);
      bw.put((uint32_t)L.dom, bits_for((uint64_t)ndx * ndy));
      bw.put((uint32_t)L.iso, 3);
    }
    ++written;
  };
  for (uint32_t y = 0; y < hd.h; y += hd.rmax)
    for (uint32_t x = 0; x < hd.w; x += hd.rmax) visit(visit, (int)x, (int)y, hd.rmax);
  if (bw.bits() > 0xFFFFFFFFull) fail("E_TOO_LARGE", "code: more than 2^32 bits");
  std::vector<uint8_t> out(kCodecHeader + bw.bytes().size());
  std::memcpy(out.data(), "SFIC", 4);
  out[4] = 1;
  out[5] = (uint8_t)bits_for(hd.rmin);
  out[6] = (uint8_t)bits_for(hd.rmax);
  out[7] = (uint8_t)hd.step_code;
  put_u32(&out[8], hd.w);
  put_u32(&out[12], hd.h);
  put_f32(&out[16], hd.lo);
  put_f32(&out[20], hd.hi);
  put_u32(&out[24], written);
  put_u32(&out[28], (uint32_t)bw.bits());
  if (!bw.bytes().empty()) std::memcpy(out.data() + kCodecHeader, bw.bytes().data(), bw.bytes().size());
  put_u32(&out[32], crc32(out.data() + kCodecHeader, out.size() - kCodecHeader, crc32(out.data(), 32)));
  return out;
}

// Largest image a code may describe (pixels), so a header cannot ask for
// unbounded memory.
constexpr uint64_t kCodecMaxPixels = (uint64_t)1 << 28;

inline CodecHeader read_header(const uint8_t* p, size_t n) {
  if (n < (size_t)kCodecHeader) fail("E_SHAPE", "code: " + std::to_string(n) + " bytes is shorter than the 36-byte header");
  if (std::memcmp(p, "SFIC", 4) != 0) fail("E_TYPE", "code: not a semfield fractal code (bad magic)");
  if (p[4] != 1) fail("E_RANGE", "code: version " + std::to_string(p[4]) + " is not supported (1 is)");
  CodecHeader h;
  if (p[5] < 2 || p[5] > 5 || p[6] < p[5] || p[6] > 5) fail("E_RANGE", "code: block sizes in the header are invalid");
  h.rmin = 1 << p[5];
  h.rmax = 1 << p[6];
  if (p[7] > 2) fail("E_RANGE", "code: domain step code in the header is invalid");
  h.step_code = p[7];
  h.w = get_u32(p + 8);
  h.h = get_u32(p + 12);
  if (h.w == 0 || h.h == 0 || h.w % h.rmax || h.h % h.rmax || (uint64_t)h.w * h.h > kCodecMaxPixels || h.w < 2 * (uint32_t)h.rmin ||
      h.h < 2 * (uint32_t)h.rmin)
    fail("E_RANGE", "code: image size in the header is invalid");
  h.lo = get_f32(p + 16);
  h.hi = get_f32(p + 20);
  if (!std::isfinite(h.lo) || !std::isfinite(h.hi) || !(h.hi > h.lo)) fail("E_RANGE", "code: value range in the header is invalid");
  h.leaves = get_u32(p + 24);
  h.bits = get_u32(p + 28);
  uint64_t want = (uint64_t)kCodecHeader + ((uint64_t)h.bits + 7) / 8;
  if (want != n) fail("E_SHAPE", "code: the header announces " + std::to_string(want) + " bytes but the code has " + std::to_string(n));
  uint32_t crc = crc32(p + kCodecHeader, n - kCodecHeader, crc32(p, 32));
  if (crc != get_u32(p + 32)) fail("E_RANGE", "code: checksum mismatch (the code is corrupted)");
  return h;
}

// Every leaf of a code at scale 1, each code checked against its limits.
inline std::vector<CodedLeaf> read_leaves(const uint8_t* p, size_t n, CodecHeader& h) {
  h = read_header(p, n);
  BitReader br(p + kCodecHeader, h.bits);
  std::vector<CodedLeaf> leaves;
  uint64_t max_leaves = ((uint64_t)h.w / h.rmin) * (h.h / h.rmin);
  if (h.leaves > max_leaves) fail("E_RANGE", "code: more leaves than blocks");
  leaves.reserve(h.leaves);
  auto visit = [&](auto& self, int x, int y, int r) -> void {
    if (r > h.rmin && br.get(1)) {
      int c = r / 2;
      self(self, x, y, c);
      self(self, x + c, y, c);
      self(self, x, y + c, c);
      self(self, x + c, y + c, c);
      return;
    }
    CodedLeaf L{x, y, r, 0, 0, 0, 0};
    L.sq = (int)br.get(5);
    if (L.sq > 2 * kCodecScaleLevels) fail("E_RANGE", "code: a scale code is out of range (corrupted)");
    L.mq = (int)br.get(8);
    if (L.sq != kCodecScaleZero) {
      int ndx, ndy;
      codec_lattice((int)h.w, (int)h.h, r, h.step_code, ndx, ndy);
      uint64_t nd = (uint64_t)ndx * ndy;
      L.dom = (int)br.get(bits_for(nd));
      if ((uint64_t)L.dom >= nd) fail("E_RANGE", "code: a domain index is out of range (corrupted)");
      L.iso = (int)br.get(3);
    }
    if (leaves.size() >= h.leaves) fail("E_RANGE", "code: more leaves than the header announces (corrupted)");
    leaves.push_back(L);
  };
  for (uint32_t y = 0; y < h.h; y += h.rmax)
    for (uint32_t x = 0; x < h.w; x += h.rmax) visit(visit, (int)x, (int)y, h.rmax);
  if (leaves.size() != h.leaves) fail("E_RANGE", "code: fewer leaves than the header announces (corrupted)");
  if (br.pos() != h.bits) fail("E_SHAPE", "code: bits left over after the last leaf (corrupted)");
  return leaves;
}

}  // namespace fractal
}  // namespace sf
