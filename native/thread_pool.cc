#include "thread_pool.h"

#include "fault.h"
#include "nice.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SF_PAUSE() _mm_pause()
#else
#define SF_PAUSE() ((void)0)
#endif
#include <mutex>
#include <system_error>
#if defined(__linux__)
#include <pthread.h>
#endif
#include <thread>
#include <vector>

namespace sf {

namespace {
thread_local bool tl_inside = false;
}

struct ThreadPool::Impl {
  std::vector<std::thread> workers;
  std::mutex turn;  // one run() at a time
  std::mutex m;
  std::condition_variable wake, done;
  const std::function<void(int)>* task = nullptr;
  int ntasks = 0;
  std::atomic<int> next{0};
  // A run is open from its generation's start until the caller has done
  // what it could of it (closed = its generation), and the caller then
  // waits only for the helpers inside it. A helper counts itself in, then
  // takes part only if the run it saw is still the current one and open
  // (sequentially consistent: either the caller sees it inside or it sees
  // the run closed). A helper that the scheduler set aside while it waited
  // for work is not waited for: the caller has taken its tasks. (On a
  // 2-vCPU machine a kernel thread can take a helper's CPU for milliseconds;
  // waiting for every helper to check in made one small solve in ten take
  // several times its median.)
  std::atomic<int> inside{0};
  std::atomic<unsigned long> generation{0};
  std::atomic<unsigned long> closed{0};
  int sleeping = 0;  // workers blocked on wake (guarded by m)
  bool stop = false;
  std::exception_ptr error;

  void work() {
    int t;
    while ((t = next.fetch_add(1)) < ntasks) {
      try {
        (*task)(t);
      } catch (...) {
        std::lock_guard<std::mutex> g(m);
        if (!error) error = std::current_exception();
        // The run has failed (run() throws the first error): no more of its
        // tasks are handed out. (An aborted batch of 50000 small fields
        // otherwise set up each field to see the abort.)
        next.store(ntasks);
      }
    }
  }

  void loop() {
    tl_inside = true;
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "semfield-pool");  // as top and /proc show it
#endif
    lower_this_thread_priority();
    unsigned long seen = 0;
    for (;;) {
      // Multigrid issues many short parallel steps in a row: spin a little
      // for the next one before sleeping (a futex wake-up costs more than a
      // coarse level's whole sweep).
      for (int i = 0; i < 20000 && generation.load(std::memory_order_acquire) == seen; ++i) SF_PAUSE();
      {
        std::unique_lock<std::mutex> l(m);
        ++sleeping;
        wake.wait(l, [&] { return stop || generation.load() != seen; });
        --sleeping;
        if (stop) return;
        seen = generation.load();
      }
      inside.fetch_add(1);
      if (generation.load() == seen && closed.load() != seen) work();
      if (inside.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> g(m);
        done.notify_all();
      }
    }
  }
};

ThreadPool::ThreadPool() : impl_(new Impl) {
  int n = (int)std::thread::hardware_concurrency();
  if (const char* e = std::getenv("SEMFIELD_THREADS")) {
    int v = std::atoi(e);
    if (v > 0) n = v;
  }
  n = std::max(1, n);
  // The caller of run() works too, so n - 1 helpers make n threads.
  for (int i = 0; i < n - 1; ++i) impl_->workers.emplace_back([this] { impl_->loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  for (auto& w : impl_->workers) w.join();
  delete impl_;
}

ThreadPool& ThreadPool::instance() {
  // Never destroyed: worker threads must not be joined during static
  // destruction while an addon instance may still be unloading.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

int ThreadPool::size() const { return (int)impl_->workers.size() + 1; }

bool ThreadPool::inside_task() { return tl_inside; }

void ThreadPool::run(int ntasks, const std::function<void(int)>& task) {
  if (fault_now(FAULT_SYSTEM)) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again), "thread pool (injected fault)");
  if (ntasks <= 0) return;
  if (tl_inside || ntasks == 1 || impl_->workers.empty()) {
    for (int t = 0; t < ntasks; ++t) task(t);
    return;
  }
  std::lock_guard<std::mutex> turn(impl_->turn);
  {
    std::lock_guard<std::mutex> g(impl_->m);
    impl_->task = &task;
    impl_->ntasks = ntasks;
    impl_->next = 0;
    impl_->error = nullptr;
    impl_->generation.fetch_add(1);
    if (impl_->sleeping > 0) impl_->wake.notify_all();
  }
  const unsigned long gen = impl_->generation.load();  // (only a caller holding turn changes it)
  tl_inside = true;
  impl_->work();
  tl_inside = false;
  impl_->closed.store(gen);
  // The helpers inside finish a short run within microseconds of the
  // caller: wait for them spinning first (a sleep and wake-up costs tens of
  // microseconds on a virtual machine, more than a coarse grid's launch).
  for (int i = 0; i < 20000 && impl_->inside.load() != 0; ++i) SF_PAUSE();
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> l(impl_->m);
    impl_->done.wait(l, [&] { return impl_->inside.load() == 0; });
    err = impl_->error;
    impl_->task = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace sf
