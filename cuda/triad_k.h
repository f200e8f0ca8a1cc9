// STREAM triad a = b + s c: the memory-bandwidth yardstick the benchmarks
// measure every kernel against, on whichever backend runs them.
#pragma once
#include "sf_config.h"

namespace sf {
SF_HD void triad_point(float* a, const float* b, const float* c, float s, idx i) { a[i] = b[i] + s * c[i]; }
}  // namespace sf
