// One process-wide pool of worker threads (all cores, or SEMFIELD_THREADS).
// run() hands out task numbers to the workers and the caller; concurrent
// callers take turns, and a call from inside a task runs inline, so nested
// parallelism (fields in parallel, each field serial) is safe.
#pragma once
#include <functional>

namespace sf {

class ThreadPool {
 public:
  static ThreadPool& instance();
  int size() const;
  void run(int ntasks, const std::function<void(int)>& task);
  static bool inside_task();

 private:
  ThreadPool();
  ~ThreadPool();
  struct Impl;
  Impl* impl_;
};

}  // namespace sf
