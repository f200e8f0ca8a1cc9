// Sixteen floats (or ints) as one value on the CPU, held in the ISA's own
// registers: one 16-lane GCC vector under AVX-512, two of 8 lanes under AVX,
// four of 4 lanes otherwise. The compiler keeps them in registers, where its
// auto-vectoriser would keep an array of lanes in memory at a fifth of the
// speed.
//  - Why parts rather than one 16-lane vector everywhere: where the ISA has
//    no 16-lane register (AVX2, SSE), GCC takes a 16-lane comparison or
//    `m ? a : b` apart lane by lane, through memory and with a branch per
//    lane; that made the codec's scan 6x and the stencil rows' blend 3x
//    slower on AVX2 than the arithmetic allows. Each part's comparison and
//    blend is one instruction of that ISA.
//  - Lanes are chosen by bit masks (lanes_select): a comparison gives all
//    ones or zero per lane, and the blend is and, or and not on the bits.
//  - The arithmetic is lane by lane, the same operations in the same order
//    whatever the parts, so the parts change no result of a build.
// Loads and stores go through memcpy, so any address will do. Host code
// only: the kernels that use it (the codec's scan, the CPU's stencil rows)
// have plain per-lane forms for nvcc.
#pragma once
#if !defined(__CUDACC__)

namespace sf {

// On a function or a lambda (after its parameters): inlined wherever it is
// called. The row forms' bodies need it: called out of line, a body reaches
// its caller's locals through a pointer, and since its stores (memcpy) may
// alias them, it reloads them for every block.
#define SF_ALWAYS_INLINE __attribute__((always_inline))

constexpr int kLanes16 = 16;
#if defined(__AVX512F__)
constexpr int kLanePart = 16;
#elif defined(__AVX__)
constexpr int kLanePart = 8;
#else
constexpr int kLanePart = 4;
#endif
constexpr int kLaneParts = kLanes16 / kLanePart;
typedef float LanePart __attribute__((vector_size(4 * kLanePart)));
typedef int LaneIntPart __attribute__((vector_size(4 * kLanePart)));

// Value-initialised ({}) to zero in every lane.
struct Lanes16 {
  LanePart p[kLaneParts];
  float operator[](int i) const { return p[i / kLanePart][i % kLanePart]; }
};
struct LaneInts16 {
  LaneIntPart p[kLaneParts];
  int operator[](int i) const { return p[i / kLanePart][i % kLanePart]; }
};

// Lane-wise operators: vector with vector, vector with scalar, scalar with
// vector.
#define SF_LANES_OP(V, S, OP)                                                 \
  inline V operator OP(const V& a, const V& b) {                             \
    V r;                                                                     \
    for (int k = 0; k < kLaneParts; ++k) r.p[k] = a.p[k] OP b.p[k];          \
    return r;                                                                \
  }                                                                          \
  inline V operator OP(const V& a, S b) {                                    \
    V r;                                                                     \
    for (int k = 0; k < kLaneParts; ++k) r.p[k] = a.p[k] OP b;               \
    return r;                                                                \
  }                                                                          \
  inline V operator OP(S a, const V& b) {                                    \
    V r;                                                                     \
    for (int k = 0; k < kLaneParts; ++k) r.p[k] = a OP b.p[k];               \
    return r;                                                                \
  }
SF_LANES_OP(Lanes16, float, +)
SF_LANES_OP(Lanes16, float, -)
SF_LANES_OP(Lanes16, float, *)
SF_LANES_OP(LaneInts16, int, +)
SF_LANES_OP(LaneInts16, int, &)
SF_LANES_OP(LaneInts16, int, |)
#undef SF_LANES_OP

// Comparisons: all ones where true, zero where false (NaN compares false).
inline LaneInts16 operator<(const Lanes16& a, const Lanes16& b) {
  LaneInts16 r;
  for (int k = 0; k < kLaneParts; ++k) r.p[k] = a.p[k] < b.p[k];
  return r;
}
inline LaneInts16 operator>(const Lanes16& a, const Lanes16& b) { return b < a; }

inline LaneInts16 operator~(const LaneInts16& a) {
  LaneInts16 r;
  for (int k = 0; k < kLaneParts; ++k) r.p[k] = ~a.p[k];
  return r;
}

inline Lanes16 lanes_load(const float* p) {
  Lanes16 v;
  for (int k = 0; k < kLaneParts; ++k) __builtin_memcpy(&v.p[k], p + k * kLanePart, sizeof(LanePart));
  return v;
}
inline LaneInts16 lanes_load(const int* p) {
  LaneInts16 v;
  for (int k = 0; k < kLaneParts; ++k) __builtin_memcpy(&v.p[k], p + k * kLanePart, sizeof(LaneIntPart));
  return v;
}
inline void lanes_store(float* p, const Lanes16& v) {
  for (int k = 0; k < kLaneParts; ++k) __builtin_memcpy(p + k * kLanePart, &v.p[k], sizeof(LanePart));
}

// Lane shifts across two consecutive blocks a, b (a's cells, then b's):
// lanes_next(a, b) is the block one cell after a (a[1..15], b[0]), and
// lanes_prev(a, b) the block one cell before b (a[15], b[0..14]). Each part
// is one two-register permute (valignd under AVX-512).
#if defined(__AVX512F__)
#define SF_LANES_NEXT {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
#define SF_LANES_PREV {15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}
#elif defined(__AVX__)
#define SF_LANES_NEXT {1, 2, 3, 4, 5, 6, 7, 8}
#define SF_LANES_PREV {7, 8, 9, 10, 11, 12, 13, 14}
#else
#define SF_LANES_NEXT {1, 2, 3, 4}
#define SF_LANES_PREV {3, 4, 5, 6}
#endif
inline Lanes16 lanes_next(const Lanes16& a, const Lanes16& b) {
  Lanes16 r;
  for (int k = 0; k < kLaneParts; ++k)
    r.p[k] = __builtin_shuffle(a.p[k], k + 1 < kLaneParts ? a.p[k + 1] : b.p[0], (LaneIntPart)SF_LANES_NEXT);
  return r;
}
inline Lanes16 lanes_prev(const Lanes16& a, const Lanes16& b) {
  Lanes16 r;
  for (int k = 0; k < kLaneParts; ++k)
    r.p[k] = __builtin_shuffle(k > 0 ? b.p[k - 1] : a.p[kLaneParts - 1], b.p[k], (LaneIntPart)SF_LANES_PREV);
  return r;
}
#undef SF_LANES_NEXT
#undef SF_LANES_PREV

// Lane i of a where m[i] is all ones, of b where it is zero.
inline Lanes16 lanes_select(const LaneInts16& m, const Lanes16& a, const Lanes16& b) {
  Lanes16 r;
  for (int k = 0; k < kLaneParts; ++k)
    r.p[k] = (LanePart)(((LaneIntPart)a.p[k] & m.p[k]) | ((LaneIntPart)b.p[k] & ~m.p[k]));
  return r;
}
inline LaneInts16 lanes_select(const LaneInts16& m, const LaneInts16& a, const LaneInts16& b) { return (a & m) | (b & ~m); }

}  // namespace sf

#endif
