#pragma once
// The daemon's configuration as typed structs. Each struct declares its keys
// once in visit(): name, storage, help text and constraints. Loading YAML,
// applying environment overrides and printing the commented reference file
// (`edgemon config`, checked in as etc/edgemon.yaml) are all visitors over
// these declarations, so the three can never disagree.
#include <string>
#include <vector>

#include "core/config_types.hpp"
#include "core/net_address.hpp"
#include "core/regex.hpp"

namespace edgemon::config {

using namespace std::chrono_literals;

std::string check_log_level(std::string_view text);
std::string check_collector_name(std::string_view text);

struct LogSection {
  std::string level = "info";
  std::string file;
  ByteSize max_size{10 * 1024 * 1024};
  int64_t max_files = 3;

  template <class V>
  void visit(V& v) {
    v.field("level", level, "Lowest level written: debug, info, warn or error.", check_log_level);
    v.field("file", file, "Log file path. Empty: JSON lines to stderr (journald under systemd).",
            nullptr);
    v.field("max_size", max_size, "Rotate the log file when it reaches this size.",
            IntRange{4096, int64_t{1} << 40});
    v.field("max_files", max_files, "Rotated files kept (file.1 ... file.N); 0 truncates instead.",
            IntRange{0, 100});
  }
};

struct HttpLimits {
  int64_t max_connections = 1024;
  ByteSize max_header_bytes{16 * 1024};
  ByteSize max_body_bytes{1024 * 1024};
  Duration header_timeout = 10s;
  Duration body_timeout = 30s;
  Duration idle_timeout = 60s;
  ByteSize max_pending_response_bytes{4 * 1024 * 1024};
  Duration shutdown_timeout = 5s;

  template <class V>
  void visit(V& v) {
    v.field("max_connections", max_connections,
            "Open connections accepted at once; beyond this new ones get 503.",
            IntRange{1, 1000000});
    v.field("max_header_bytes", max_header_bytes,
            "Largest request line plus headers; larger requests get 431.",
            IntRange{1024, 1024 * 1024});
    v.field("max_body_bytes", max_body_bytes, "Largest request body; larger ones get 413.",
            IntRange{0, int64_t{1} << 32});
    v.field("header_timeout", header_timeout,
            "Time a client has to send a complete request head (slowloris guard); then 408.",
            IntRange{100, 600000});
    v.field("body_timeout", body_timeout, "Time a client has to send the request body; then 408.",
            IntRange{100, 3600000});
    v.field("idle_timeout", idle_timeout,
            "An idle keep-alive connection (or one not reading its responses) is closed after "
            "this.",
            IntRange{100, 3600000});
    v.field("max_pending_response_bytes", max_pending_response_bytes,
            "Responses queued for one slow client before reading its pipelined requests pauses.",
            IntRange{64 * 1024, int64_t{1} << 32});
    v.field("shutdown_timeout", shutdown_timeout,
            "On SIGTERM, time given to in-flight responses before connections are closed.",
            IntRange{0, 600000});
  }
};

struct AccessGroup {
  std::vector<std::string> allow;
  double rate = 0;
  int64_t burst = 0;
  std::vector<std::string> tokens;

  template <class V>
  void visit(V& v) {
    v.field("allow", allow,
            "Client networks allowed (CIDR or address); others get 403. Empty allows none.",
            check_cidr);
    v.field("rate", rate, "Requests per second allowed per client address; 0 is unlimited.",
            DoubleRange{0, 1e9});
    v.field("burst", burst, "Requests a client may make at once above the rate (bucket size).",
            IntRange{0, 1000000});
    v.field("tokens", tokens,
            "Bearer tokens accepted (Authorization: Bearer TOKEN). Empty: no token needed for "
            "reads; mutating endpoints are disabled until one is set.",
            nullptr);
  }
};

struct AccessSection {
  AccessGroup read{{"0.0.0.0/0", "::/0"}, 0, 0, {}};
  AccessGroup write{{"127.0.0.0/8", "::1/128"}, 5, 10, {}};

  template <class V>
  void visit(V& v) {
    v.section("read", read,
              "Read-only endpoints: GET /metrics, /health, /status. Open by default; the listen "
              "address keeps them on loopback.");
    v.section("write", write,
              "Endpoints that change state: POST /reload. Need a bearer token from `tokens`.");
  }
};

struct HttpSection {
  std::vector<std::string> listen{"127.0.0.1:9110"};
  HttpLimits limits;
  AccessSection access;

  template <class V>
  void visit(V& v) {
    v.field("listen", listen,
            "Addresses the HTTP API listens on: IPv4 \"HOST:PORT\" or IPv6 \"[HOST]:PORT\".",
            check_listen_address);
    v.section("limits", limits, "Protection against slow, large or too many requests.");
    v.section("access", access, "Who may call which endpoints, and how often.");
  }
};

struct FilesystemOptions {
  std::string mount_points_exclude =
      "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
  std::string fs_types_exclude =
      "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
      "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
      "erofs|sysfs|tracefs|tmpfs|ramfs)$";
  Duration stat_timeout = 5s;

  template <class V>
  void visit(V& v) {
    v.field("mount_points_exclude", mount_points_exclude,
            "Mount points not reported (POSIX extended regex).", check_regex);
    v.field("fs_types_exclude", fs_types_exclude,
            "Filesystem types not reported (POSIX extended regex).", check_regex);
    v.field("stat_timeout", stat_timeout,
            "A mount whose statfs takes longer (a dead NFS server) reports device_error 1 and is "
            "skipped until the call returns.",
            IntRange{100, 600000});
  }
};

struct DiskstatsOptions {
  std::string devices_exclude =
      "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p|mmcblk[0-9]+p)[0-9]+$";

  template <class V>
  void visit(V& v) {
    v.field("devices_exclude", devices_exclude,
            "Block devices not reported (POSIX extended regex); by default partitions, loop and "
            "ram devices.",
            check_regex);
  }
};

struct NetdevOptions {
  std::string devices_exclude;

  template <class V>
  void visit(V& v) {
    v.field("devices_exclude", devices_exclude,
            "Network interfaces not reported (POSIX extended regex), e.g. \"^veth\".", check_regex);
  }
};

struct CollectSection {
  Duration interval = 15s;
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  std::vector<std::string> disable;
  FilesystemOptions filesystem;
  DiskstatsOptions diskstats;
  NetdevOptions netdev;

  template <class V>
  void visit(V& v) {
    v.field("interval", interval, "Time between collections. /metrics serves the latest one.",
            IntRange{100, 3600000});
    v.field("procfs", procfs, "Where procfs is mounted (the host's /proc inside a container).",
            nullptr);
    v.field("sysfs", sysfs, "Where sysfs is mounted.", nullptr);
    v.field("rootfs", rootfs, "The host's root, for /etc/os-release and mount points.", nullptr);
    v.field("disable", disable,
            "Collectors turned off, by name: cpu, diskstats, filefd, filesystem, loadavg, "
            "meminfo, netdev, network_address, os, self, stat, thermal, time, uname.",
            check_collector_name);
    v.section("filesystem", filesystem, "Filesystem usage per mount point.");
    v.section("diskstats", diskstats, "Block device I/O from /proc/diskstats.");
    v.section("netdev", netdev, "Network interface counters from /proc/net/dev.");
  }
};

struct Config {
  std::string device_id;
  std::string state_dir;
  LogSection log;
  HttpSection http;
  CollectSection collect;

  template <class V>
  void visit(V& v) {
    v.field("device_id", device_id,
            "Stable name of this device. Empty: /etc/machine-id, else the primary MAC address.",
            nullptr);
    v.field("state_dir", state_dir,
            "Directory for local state. Empty: $STATE_DIRECTORY (systemd), /var/lib/edgemon as "
            "root, else $XDG_STATE_HOME/edgemon or ~/.local/state/edgemon.",
            nullptr);
    v.section("log", log, "Logging.");
    v.section("http", http, "The HTTP API.");
    v.section("collect", collect, "Host metric collection.");
  }
};

}  // namespace edgemon::config
