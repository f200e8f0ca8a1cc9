// The addon's own pool threads run at a lower scheduling priority (nice +5 by
// default, SEMFIELD_WORKER_NICE to change, 0 to keep): the numerics keep
// every core busy, and the event-loop thread must still get a core the moment
// a timer or a socket needs it. Only threads the addon owns: libuv's shared
// threads also serve fs, crypto and zlib, and a nice value, once raised,
// cannot be lowered again without privilege.
#pragma once

namespace sf {
void lower_this_thread_priority();  // once per thread; quiet if not allowed
}
