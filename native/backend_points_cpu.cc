// The CPU backend of the points operations: ops.h on the CPU tiles, one
// function per row of SF_POINTS_OPS (points/jobs.h).
#include "backend.h"
#include "points/ops.h"

namespace sf {
namespace cpu {

#define SF_CPU_OP(name, Job) \
  void name(Job& job) {      \
    CpuExec ex;              \
    points::name(ex, job);   \
  }
SF_POINTS_OPS(SF_CPU_OP)
#undef SF_CPU_OP

}  // namespace cpu
}  // namespace sf
