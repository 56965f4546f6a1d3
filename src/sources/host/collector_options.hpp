#pragma once
// The options of the host collectors that have some. Each is the section
// collect.<collector> of the configuration, declared to it by the
// collector's Registration, and read back with
// config.collect.collectors.get<XOptions>("x").
#include <string>

#include "core/config_types.hpp"
#include "core/regex.hpp"

namespace edgemon::collect {

using namespace std::chrono_literals;

struct FilesystemOptions {
  std::string mount_points_exclude =
      "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
  std::string fs_types_exclude =
      "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
      "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
      "erofs|sysfs|tracefs|tmpfs|ramfs)$";
  config::Duration stat_timeout = 5s;

  template <class V>
  void visit(V& v) {
    v.field("mount_points_exclude", mount_points_exclude,
            "Mount points not reported (POSIX extended regex).", check_regex);
    v.field("fs_types_exclude", fs_types_exclude,
            "Filesystem types not reported (POSIX extended regex).", check_regex);
    v.field("stat_timeout", stat_timeout,
            "A mount whose statfs takes longer (a dead NFS server) reports device_error 1 and is "
            "skipped until the call returns.",
            config::IntRange{100, 600000});
  }
};

struct DiskstatsOptions {
  // node_exporter 1.5's default, so that the same dashboards see the same
  // devices: zram0 (the swap of most Raspberry Pi and Jetson images) and
  // SD-card partitions (mmcblk0p1) included.
  std::string devices_exclude = "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p)[0-9]+$";

  template <class V>
  void visit(V& v) {
    v.field("devices_exclude", devices_exclude,
            "Block devices not reported (POSIX extended regex); by default node_exporter 1.5's: "
            "ram and loop devices, floppies, and partitions of sd/hd/vd/xvd and NVMe disks "
            "(zram and mmcblk partitions are reported).",
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

}  // namespace edgemon::collect
