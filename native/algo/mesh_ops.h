// Drivers for the mesh operations other than the solver: cloud-in-cell
// deposit and interpolate, the difference operators, steepest-descent basins.
// Written once over the execution policy; the bodies are in cuda/*_k.h.
#pragma once
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../../cuda/cic_k.h"
#include "../../cuda/descent_k.h"
#include "../../cuda/diff_k.h"
#include "../jobs.h"

namespace sf {

template <class Exec>
void diff_field(Exec& ex, const Grid& g, int op, const float* in, float* out, double scale) {
  ex.for_cells(g, [=] SF_LAMBDA(idx c, int x, int y, int z) { diff_point(g, op, in, out, c, x, y, z, scale); });
}

template <class Exec>
void run_diff(Exec& ex, DiffJob& job) {
  const Grid g = job.g;
  idx N = g.cells();
  idx nin = (idx)op_in_comps(job.op, g.dim) * N, nout = (idx)op_out_comps(job.op, g.dim) * N;
  const float* in = ex.upload(job.in, nin * job.batch);
  float* out = ex.output(job.out, nout * job.batch);
  for (int b = 0; b < job.batch; ++b) diff_field(ex, g, job.op, in + b * nin, out + b * nout, 1.0);
  ex.finish_output(job.out, out, nout * job.batch);
  ex.sync();
}

// Fixed-point scale for deposition: the largest |cell sum| is at most sum |q|,
// which must stay below 2^62.
inline double fixed_scale(double abs_total) {
  if (!(abs_total > 0)) return 0;
  int e;
  std::frexp(abs_total, &e);  // abs_total < 2^e
  return std::ldexp(1.0, 62 - e);
}

template <class Exec>
void run_deposit(Exec& ex, DepositJob& job) {
  const Grid g = job.g;
  idx N = g.cells(), np = job.points;
  int dim = g.dim;
  double total = 0;
  for (idx i = 0; i < np; ++i) total += job.charge ? std::fabs((double)job.charge[i]) : 1.0;
  const double scale = fixed_scale(total);
  long long* acc = ex.template zeros<long long>(N * job.batch);
  if (scale > 0) {
    const float* pos = ex.upload(job.pos, np * dim);
    const float* q = ex.upload(job.charge, np);
    const int32_t* fo = ex.upload(job.field_of, np);
    ex.for_n(np, [=] SF_LAMBDA(idx i) {
      long long* a = acc + (fo ? (idx)fo[i] * N : 0);
      deposit_point(g, pos + i * dim, q ? (double)q[i] : 1.0, scale, a);
    });
  }
  float* out = ex.output(job.out, N * job.batch);
  const double inv = scale > 0 ? 1.0 / (scale * std::pow(g.h, dim)) : 0.0;
  ex.for_n(N * job.batch, [=] SF_LAMBDA(idx i) { out[i] = (float)((double)acc[i] * inv); });
  ex.finish_output(job.out, out, N * job.batch);
  ex.sync();
}

template <class Exec>
void run_interpolate(Exec& ex, InterpolateJob& job) {
  const Grid g = job.g;
  idx N = g.cells(), np = job.points;
  int dim = g.dim;
  const float* field = ex.upload(job.field, N * job.batch);
  const float* pos = ex.upload(job.pos, np * dim);
  const int32_t* fo = ex.upload(job.field_of, np);
  idx nout = fo ? np : np * job.batch;
  float* out = ex.output(job.out, nout);
  ex.for_n(nout, [=] SF_LAMBDA(idx k) {
    idx i = k % np, b = fo ? (idx)fo[i] : k / np;
    out[k] = (float)interpolate_point(g, pos + i * dim, field + b * N);
  });
  ex.finish_output(job.out, out, nout);
  ex.sync();
}

// Basins of one field: descent pointers, pointer jumping to the roots, then on
// the host the roots ordered by (value, index), labels and masses.
template <class Exec>
void condense_field(Exec& ex, CondenseJob& job, int b) {
  const Grid g = job.g;
  idx N = g.cells();
  const float* u = ex.upload(job.field + b * N, N);
  idx* par = ex.template alloc<idx>(N);
  idx* nxt = ex.template alloc<idx>(N);
  ex.for_n(N, [=] SF_LAMBDA(idx c) { par[c] = descent_point(g, u, c); });
  for (;;) {
    if (job.cancel && *job.cancel) fail("E_ABORTED", "condense: aborted");
    idx* p = par;
    idx* q = nxt;
    double moved = ex.sum_n(N, [=] SF_LAMBDA(idx c) {
      idx a = p[c], r = p[a];
      q[c] = r;
      return r != a ? 1.0 : 0.0;
    });
    std::swap(par, nxt);
    if (moved == 0) break;
  }
  std::vector<idx> root(N);
  ex.download(root.data(), par, N);
  const float* hu = job.field + b * N;
  std::vector<idx> mins;
  for (idx c = 0; c < N; ++c)
    if (root[c] == c) mins.push_back(c);
  std::sort(mins.begin(), mins.end(), [&](idx a, idx c) { return lower(hu[a], a, hu[c], c); });
  std::vector<int32_t> label_of_root(N, -1);
  std::vector<Basin> basins;
  for (size_t k = 0; k < mins.size(); ++k) {
    label_of_root[mins[k]] = (int32_t)k;
    basins.push_back(Basin{mins[k], hu[mins[k]], strict_minimum(g, hu, mins[k]), 0.0, 0});
  }
  const float* rho = job.rho ? job.rho + b * N : nullptr;
  double hk = std::pow(g.h, g.dim);
  int32_t* labels = job.labels + b * N;
  for (idx c = 0; c < N; ++c) {
    int32_t l = label_of_root[root[c]];
    labels[c] = l;
    basins[l].cells += 1;
    if (rho) basins[l].mass += (double)rho[c] * hk;
  }
  job.basins[b] = std::move(basins);
}

}  // namespace sf
