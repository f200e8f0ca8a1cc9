// A binary adaptive range coder (the design of LZMA's: 32-bit range, carry
// propagated through a cached byte, 11-bit probabilities that move 1/32 of
// the way to each coded bit) for the fractal codec's stream.
//
// Every symbol is a string of binary decisions, each coded under a
// probability model (BitModel) chosen by its context; an adaptive model
// costs about the entropy of the decisions it has seen, so skewed fields
// (split flags, scale codes, prediction residuals of block means) shrink
// to their information content and uniform ones (domain positions) cost
// log2 of their count, not the next whole bit.
//
// The decoder reads past the end of its bytes as zeros and counts how far it
// read, so the caller can refuse a stream that ends early or late.
#pragma once
#include <cstdint>
#include <vector>

namespace sf {
namespace fractal {

constexpr int kProbBits = 11;
constexpr uint32_t kProbOne = 1u << kProbBits;
constexpr int kMoveBits = 5;
constexpr uint32_t kTop = 1u << 24;

struct BitModel {
  uint16_t p = kProbOne / 2;  // probability of a 0, in 1/2048
};

inline void adapt(BitModel& m, int bit) {
  if (bit)
    m.p = (uint16_t)(m.p - (m.p >> kMoveBits));
  else
    m.p = (uint16_t)(m.p + ((kProbOne - m.p) >> kMoveBits));
}

class RangeEncoder {
 public:
  int bit(BitModel& m, int b) {
    uint32_t bound = (range_ >> kProbBits) * m.p;
    if (!b) {
      range_ = bound;
    } else {
      low_ += bound;
      range_ -= bound;
    }
    adapt(m, b);
    while (range_ < kTop) {
      range_ <<= 8;
      shift_low();
    }
    return b;
  }
  // `bits` equiprobable bits of v, most significant first.
  uint32_t direct(uint32_t v, int bits) {
    for (int k = bits - 1; k >= 0; --k) {
      range_ >>= 1;
      if ((v >> k) & 1) low_ += range_;
      while (range_ < kTop) {
        range_ <<= 8;
        shift_low();
      }
    }
    return v;
  }
  std::vector<uint8_t> finish() {
    for (int i = 0; i < 5; ++i) shift_low();
    // The first byte is always 0 (the cache's initial value): leave it out.
    return std::vector<uint8_t>(out_.begin() + 1, out_.end());
  }

 private:
  void shift_low() {
    if ((uint32_t)low_ < 0xFF000000u || (low_ >> 32) != 0) {
      uint8_t carry = (uint8_t)(low_ >> 32);
      uint8_t temp = cache_;
      do {
        out_.push_back((uint8_t)(temp + carry));
        temp = 0xFF;
      } while (--pending_ != 0);
      cache_ = (uint8_t)(low_ >> 24);
    }
    ++pending_;
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }
  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  uint64_t pending_ = 1;
  std::vector<uint8_t> out_;
};

class RangeDecoder {
 public:
  RangeDecoder(const uint8_t* p, size_t n) : p_(p), n_(n) {
    for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | next();
  }
  int bit(BitModel& m, int = 0) {
    uint32_t bound = (range_ >> kProbBits) * m.p;
    int b;
    if (code_ < bound) {
      range_ = bound;
      b = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      b = 1;
    }
    adapt(m, b);
    normalize();
    return b;
  }
  uint32_t direct(uint32_t, int bits) {
    uint32_t v = 0;
    for (int k = 0; k < bits; ++k) {
      range_ >>= 1;
      uint32_t b = code_ >= range_ ? 1 : 0;
      if (b) code_ -= range_;
      v = (v << 1) | b;
      normalize();
    }
    return v;
  }
  // Bytes read, counting reads past the end (a valid stream is read
  // exactly to its end: the encoder's flush leaves nothing over).
  size_t consumed() const { return pos_; }

 private:
  uint32_t next() {
    uint32_t v = pos_ < n_ ? p_[pos_] : 0;
    ++pos_;
    return v;
  }
  void normalize() {
    while (range_ < kTop) {
      range_ <<= 8;
      code_ = (code_ << 8) | next();
    }
  }
  const uint8_t* p_;
  size_t n_, pos_ = 0;
  uint32_t code_ = 0, range_ = 0xFFFFFFFFu;
};

// Binarisations shared by the encoder and the decoder. A coder C has
// int C::bit(BitModel&, int b) and uint32_t C::direct(uint32_t v, int bits):
// the encoder codes b (or v) and returns it, the decoder ignores it and
// returns what it reads. So each field is written once for both directions.

// An n-bit value as a binary tree of 2^n - 1 models (most significant first).
template <class C>
uint32_t code_tree(C& c, BitModel* m, int bits, uint32_t v) {
  uint32_t node = 1;
  for (int k = bits - 1; k >= 0; --k) node = (node << 1) | (uint32_t)c.bit(m[node], (int)((v >> k) & 1));
  return node - (1u << bits);
}

// Exp-Golomb order 0 of v >= 0 (v + 1 = 1 x...x: the length of x...x in
// unary, then x...x) for v < 2^16 - 1, every bit adaptive: the unary prefix under one model
// per position, the suffix under one per (length, position). Returns
// kGolombBad when a decoded prefix runs past 16.
constexpr uint32_t kGolombBad = 0xFFFFFFFFu;
struct GolombModel {
  BitModel prefix[17];
  BitModel suffix[17][16];
};

template <class C>
uint32_t code_golomb(C& c, GolombModel& g, uint32_t v) {
  uint32_t w = v + 1;
  int len = 0;
  while (len < 16 && (w >> (len + 1)) != 0) ++len;  // 2^len <= w
  int L = 0;
  while (L < 16 && c.bit(g.prefix[L], L < len ? 1 : 0)) ++L;
  if (L == 16) return kGolombBad;
  uint32_t x = 1;
  for (int k = L - 1; k >= 0; --k) x = (x << 1) | (uint32_t)c.bit(g.suffix[L][k], (int)((w >> k) & 1));
  return x - 1;
}

}  // namespace fractal
}  // namespace sf
