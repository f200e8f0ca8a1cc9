// The CPU backend: the drivers of native/algo on CpuExec. Fields of a batch
// run one per thread when each is too small to share out; large fields run
// one after another, each over all threads.
#include <mutex>

#include "algo/mesh_ops.h"
#include "algo/multigrid.h"
#include "algo/helmholtz.h"
#include "algo/maxwell.h"
#include "algo/modes.h"
#include "algo/wave.h"
#include "backend.h"
#include "exec_cpu.h"
#include "potential_field.h"
#include "wave_cpu.h"
#include "mg_cpu.h"

namespace sf {
namespace cpu {

namespace {
constexpr idx kSmallField = 65536;  // cells below which a field runs on one thread

template <class Body>
void over_fields(int batch, idx cells, const Body& body) {
  if (batch > 1 && cells < kSmallField && !ThreadPool::inside_task()) {
    ThreadPool::instance().run(batch, [&](int b) {
      CpuExec ex(false);
      body(ex, b);
    });
  } else {
    for (int b = 0; b < batch; ++b) {
      CpuExec ex(true);
      body(ex, b);
    }
  }
}
// For the length of a call: the job's progress callback serialised for the
// pool's threads; the caller's own callback is put back however the call
// ends (an abort or an error throws through here).
template <class F>
class SerialProgress {
 public:
  explicit SerialProgress(F& slot) : slot_(slot), saved_(slot) {
    if (saved_)
      slot_ = [this](auto... a) {
        std::lock_guard<std::mutex> l(lock_);
        saved_(a...);
      };
  }
  ~SerialProgress() { slot_ = std::move(saved_); }
  SerialProgress(const SerialProgress&) = delete;
  SerialProgress& operator=(const SerialProgress&) = delete;

 private:
  F& slot_;
  F saved_;
  std::mutex lock_;
};
template <class F>
SerialProgress(F&) -> SerialProgress<F>;
}  // namespace

void potential(PotentialJob& job) {
  job.stats.assign(job.batch, SolveStats{});
  SerialProgress serial(job.progress);
  over_fields(job.batch, job.g.cells(), [&](CpuExec& ex, int b) { potential_field(ex, job, b); });
}

void deposit(DepositJob& job) {
  CpuExec ex;
  run_deposit(ex, job);
}

void interpolate(InterpolateJob& job) {
  CpuExec ex;
  run_interpolate(ex, job);
}

void diff(DiffJob& job) {
  CpuExec ex;
  run_diff(ex, job);
}

void condense(CondenseJob& job) {
  job.basins.assign(job.batch, {});
  over_fields(job.batch, job.g.cells(), [&](CpuExec& ex, int b) { condense_field(ex, job, b); });
}

void wave(WaveJob& job) {
  SerialProgress serial(job.progress);
  over_fields(job.batch, job.g.cells(), [&](CpuExec& ex, int b) { wave_field(ex, job, b); });
}

void modes(ModesJob& job) {
  job.iterations.assign(job.batch, 0);
  job.residual.assign(job.batch, 0);
  job.converged.assign(job.batch, false);
  for (int b = 0; b < job.batch; ++b) {
    CpuExec ex;
    modes_field(ex, job, b);
  }
}

void resonance_mesh(MeshResonanceJob& job) {
  CpuExec ex;
  sf::resonance_mesh(ex, job);
}

// Small fields of a batch run side by side (over_fields). The progress
// counts the steps taken over the whole batch: each field's latest reported
// step (all its steps once it is done), summed under a lock, so the count
// only grows and, fields one after another, is b steps + n as before.
void maxwell(MaxwellJob& job) {
  std::mutex lock;
  std::vector<long long> seen((size_t)job.batch, 0);
  long long total = 0;
  auto advance = [&](int b, long long n) {
    total += n - seen[(size_t)b];
    seen[(size_t)b] = n;
  };
  MaxwellJob all = job;
  if (job.progress)
    all.progress = [&](int step) {
      std::lock_guard<std::mutex> l(lock);
      advance(step / job.steps, step % job.steps);
      job.progress((int)total);
    };
  over_fields(job.batch, job.g.cells(), [&](CpuExec& ex, int b) {
    maxwell_field(ex, all, b);
    std::lock_guard<std::mutex> l(lock);
    advance(b, job.steps);
  });
}

}  // namespace cpu

// A device's coarse levels (multigrid.h): the CPU multigrid on this thread.
void host_multigrid_solve(const Grid& g, const float* f, const unsigned char* mask, double kappa, float* u, CancelFlag cancel) {
  CpuExec ex(false);
  SolveOptions opt;
  opt.kappa = kappa;
  opt.tol = 1e-7;
  opt.max_cycles = 30;
  Multigrid<CpuExec> mg(ex, g, mask, opt);
  mg.solve(f, nullptr, u, cancel, Progress());
}

}  // namespace sf
