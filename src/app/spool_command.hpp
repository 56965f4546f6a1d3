#pragma once
// `edgemon spool ...`: the operator's view of the spool file, safe to use
// while the daemon runs.
#include <string>

#include "core/config.hpp"

namespace edgemon::app {

// argv[0] is "spool". Returns the exit code: 0, 1 (failed) or 2 (usage).
int spool_command(int argc, char** argv);

}  // namespace edgemon::app
