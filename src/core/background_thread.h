// Background threads (writers, pollers) yield the CPU to threads that answer requests.
//
// MarkBackgroundThread names the calling thread (as `top -H` and `perf` show it; at most 15 characters) and
// lowers its scheduling priority (nice 10 for this thread only, Linux). On a machine with as many busy
// threads as cores, a writer woken at the normal priority preempts a request for a whole time slice, which
// showed as millisecond p99 latencies of /v1/score; at nice 10 it runs in the gaps, and the bounded queues
// it drains make the producers wait if it ever falls behind. Failures are ignored (best effort).
#pragma once

#include <string_view>

namespace gyre {

void MarkBackgroundThread(std::string_view name);

}  // namespace gyre
