#include "nice.h"

#include <cstdlib>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sf {

void lower_this_thread_priority() {
  thread_local bool done = false;
  if (done) return;
  done = true;
#if defined(__linux__)
  int delta = 5;
  if (const char* e = std::getenv("SEMFIELD_WORKER_NICE")) delta = std::atoi(e);
  if (delta <= 0) return;
  // On Linux a thread's nice value is per thread (setpriority on its tid).
  pid_t tid = (pid_t)syscall(SYS_gettid);
  int now = getpriority(PRIO_PROCESS, (id_t)tid);
  setpriority(PRIO_PROCESS, (id_t)tid, now + delta);
#endif
}

}  // namespace sf
