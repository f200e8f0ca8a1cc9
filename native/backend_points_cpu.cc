// The CPU backend of the points operations: ops.h on the CPU tiles.
#include "backend.h"
#include "points/ops.h"

namespace sf {
namespace cpu {

void kernel_sum(KernelSumJob& job) {
  CpuExec ex;
  points::kernel_sum(ex, job);
}
void set_matrix(SetMatrixJob& job) {
  CpuExec ex;
  points::set_matrix(ex, job);
}
void attention(AttentionJob& job) {
  CpuExec ex;
  points::attention(ex, job);
}
void resonance(ResonanceJob& job) {
  CpuExec ex;
  points::resonance(ex, job);
}
void mean_shift(MeanShiftJob& job) {
  CpuExec ex;
  points::mean_shift(ex, job);
}
void induce(InduceJob& job) {
  CpuExec ex;
  points::induce(ex, job);
}

}  // namespace cpu
}  // namespace sf
