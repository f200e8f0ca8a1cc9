// One field of a potential job on any execution policy: upload, solve, E.
#pragma once
#include "algo/mesh_ops.h"
#include "algo/multigrid.h"
#include "jobs.h"

namespace sf {

template <class Exec>
void potential_field(Exec& ex, PotentialJob& job, int b) {
  const Grid g = job.g;
  idx N = g.cells();
  idx moff = job.mask_per_field ? (idx)b * N : 0;
  const float* rho = ex.upload(job.rho + (idx)b * N, N);
  const unsigned char* mask = job.mask ? ex.upload(job.mask + moff, N) : nullptr;
  const float* anchor = job.anchor ? ex.upload(job.anchor + moff, N) : nullptr;
  float* phi = ex.output(job.phi + (idx)b * N, N);
  Multigrid<Exec> mg(ex, g, mask, job.opt);
  Progress report;
  if (job.progress) report = [&job, b](int cycle, double rel) { job.progress(b, cycle, rel); };
  job.stats[b] = mg.solve(rho, anchor, phi, job.cancel, report);
  if (job.efield) {
    idx ne = (idx)g.dim * N;
    float* e = ex.output(job.efield + (idx)b * ne, ne);
    diff_field(ex, g, OP_GRAD, phi, e, -1.0);
    ex.finish_output(job.efield + (idx)b * ne, e, ne);
  }
  ex.finish_output(job.phi + (idx)b * N, phi, N);
  ex.sync();
}

}  // namespace sf
