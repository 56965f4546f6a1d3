#pragma once
// `edgemon run`: the long-running daemon.
#include "app/config_source.hpp"

namespace edgemon::app {

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_daemon(const ConfigSource& source);

}  // namespace edgemon::app
