#pragma once
// Who this device is and where it keeps its state.
#include <string>

#include "core/config.hpp"

namespace edgemon::app {

// config.device_id, else the machine id (rootfs/etc/machine-id), else the
// first non-loopback MAC address, else the hostname: stable across restarts
// and reinstalls of edgemon, which is what fleet dashboards key on.
std::string resolve_device_id(const config::Config& config);

std::string hostname();

// config.state_dir, else $STATE_DIRECTORY (systemd StateDirectory=), else
// /var/lib/edgemon for root, else $XDG_STATE_HOME/edgemon or
// ~/.local/state/edgemon.
std::string resolve_state_dir(const config::Config& config);

// Creates the directory (and parents) and checks it is writable.
// Returns "" or the error.
[[nodiscard]] std::string prepare_state_dir(const std::string& path);

// The spool file the daemon uses under `config`: spool.path, else spool.db
// in the state directory.
std::string spool_path(const config::Config& config);

// The alert store the hub's Alertmanager receiver uses: alerts.db in the
// state directory.
std::string alerts_path(const config::Config& config);

// The local history: history.path, else history.db in the state directory.
std::string history_path(const config::Config& config);
// The sources' durable state (offsets, discovered metrics): state.db in the
// state directory.
std::string source_state_path(const config::Config& config);
// The record of metric families and their switches (bus/family_selection_file.hpp):
// metrics.json in the state directory.
std::string metric_selection_path(const config::Config& config);
// The config server's documents (a hub with config_server.serve): configs.db
// in the state directory.
std::string config_store_path(const config::Config& config);

}  // namespace edgemon::app
