#include "app/identity.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/read_file.hpp"

namespace edgemon::app {
namespace {

std::string primary_mac() {
  uv_interface_address_t* addresses = nullptr;
  int count = 0;
  if (uv_interface_addresses(&addresses, &count) != 0) return "";
  std::string mac;
  for (int i = 0; i < count && mac.empty(); ++i) {
    const auto& a = addresses[i];
    bool zero = true;
    for (char b : a.phys_addr)
      zero = zero && b == 0;
    if (a.is_internal || zero) continue;
    char buf[18];
    auto* p = reinterpret_cast<const unsigned char*>(a.phys_addr);
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4],
                  p[5]);
    mac = buf;
  }
  uv_free_interface_addresses(addresses, count);
  return mac;
}

std::string join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace

std::string hostname() {
  char buf[256] = "";
  size_t size = sizeof buf;
  if (uv_os_gethostname(buf, &size) != 0) return "unknown";
  return buf;
}

std::string resolve_device_id(const config::Config& config) {
  if (!config.device_id.empty()) return config.device_id;
  std::string machine_id;
  if (read_trimmed(join(config.collect.rootfs, "etc/machine-id"), &machine_id).empty() &&
      !machine_id.empty()) {
    return machine_id;
  }
  if (std::string mac = primary_mac(); !mac.empty()) return mac;
  return hostname();
}

std::string resolve_state_dir(const config::Config& config) {
  if (!config.state_dir.empty()) return config.state_dir;
  if (const char* systemd = std::getenv("STATE_DIRECTORY"); systemd != nullptr && *systemd) {
    std::string first(systemd);
    return first.substr(0, first.find(':'));
  }
  if (geteuid() == 0) return "/var/lib/edgemon";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg) {
    return join(xdg, "edgemon");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home) {
    return join(home, ".local/state/edgemon");
  }
  return "/tmp/edgemon-" + std::to_string(geteuid());
}

std::string prepare_state_dir(const std::string& path) {
  // mkdir -p, one component at a time.
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0750) != 0 && errno != EEXIST) {
      return "cannot create state directory " + part + ": " + std::strerror(errno);
    }
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return "state directory " + path + " is not writable: " + std::strerror(errno);
  }
  return "";
}

namespace {

std::string state_file(const config::Config& config, const std::string& configured,
                       const char* name) {
  if (!configured.empty()) return configured;
  std::string dir = resolve_state_dir(config);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  return dir + name;
}

}  // namespace

std::string spool_path(const config::Config& config) {
  return state_file(config, config.spool.path, "spool.db");
}

std::string alerts_path(const config::Config& config) {
  return state_file(config, "", "alerts.db");
}

std::string history_path(const config::Config& config) {
  return state_file(config, config.history.path, "history.db");
}

std::string source_state_path(const config::Config& config) {
  return state_file(config, "", "state.db");
}

std::string metric_selection_path(const config::Config& config) {
  return state_file(config, "", "metrics.json");
}

std::string config_store_path(const config::Config& config) {
  return state_file(config, "", "configs.db");
}

}  // namespace edgemon::app
