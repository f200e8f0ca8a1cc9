// The CPU backend of the fractal operations: the generic drivers of
// native/fractal on CpuExec (the same drivers the CUDA backend launches).
#include "backend.h"
#include "exec_cpu.h"
#include "fractal/codec.h"
#include "fractal/ifs.h"

namespace sf {
namespace cpu {

void ifs_unfold(IfsJob& job) {
  CpuExec ex;
  fractal::unfold(ex, job);
}

void chaos_game(IfsJob& job) {
  CpuExec ex;
  fractal::chaos_game(ex, job);
}

void token_unfold(TokenJob& job) {
  CpuExec ex;
  fractal::token_unfold(ex, job);
}

void pair_counts(PairCountJob& job) {
  CpuExec ex;
  fractal::pair_counts(ex, job);
}

void codec_encode(fractal::EncodeJob& job) {
  CpuExec ex;
  fractal::encode(ex, job);
}

void codec_decode(fractal::DecodeJob& job) {
  CpuExec ex;
  fractal::decode(ex, job);
}

}  // namespace cpu
}  // namespace sf
