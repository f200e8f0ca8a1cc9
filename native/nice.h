// Background threads run at a lower scheduling priority (nice +5 by default,
// SEMFIELD_WORKER_NICE to change, 0 to keep): the numerics keep every core
// busy, and the event-loop thread must still get a core the moment a timer
// or a socket needs it.
#pragma once

namespace sf {
void lower_this_thread_priority();  // once per thread; quiet if not allowed
}
