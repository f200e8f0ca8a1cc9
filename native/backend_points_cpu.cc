// The CPU backend of the points operations: the tiled drivers.
#include "backend.h"
#include "points/attention.h"
#include "points/induce.h"
#include "points/meanshift.h"
#include "points/resonance.h"
#include "points/sets.h"
#include "points/sums.h"

namespace sf {
namespace cpu {

void kernel_sum(KernelSumJob& job) { points::kernel_sum_cpu(job); }
void set_matrix(SetMatrixJob& job) { points::set_matrix_cpu(job); }
void attention(AttentionJob& job) { points::attention_cpu(job); }
void resonance(ResonanceJob& job) { points::resonance_cpu(job); }
void mean_shift(MeanShiftJob& job) { points::mean_shift_cpu(job); }
void induce(InduceJob& job) { points::induce_cpu(job); }

}  // namespace cpu
}  // namespace sf
