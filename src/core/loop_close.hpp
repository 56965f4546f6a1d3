#pragma once
// Ending a loop at exit: run it until every handle has closed, bounded.
#include <uv.h>

namespace edgemon {

// Runs the loop until every handle has closed, but not forever: a statfs
// stuck on a dead NFS server holds a thread-pool request that no close can
// cancel, and that must not turn SIGTERM into a hang. Returns the number of
// handles still open, which after an orderly shutdown is a bug (each is
// logged).
// *closed (if given) says whether the loop is closed: it is not while
// thread-pool work is still running, and must then stay allocated.
int close_loop(uv_loop_t* loop, bool* closed = nullptr);

}  // namespace edgemon
