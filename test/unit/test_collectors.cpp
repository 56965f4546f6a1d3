// Every host collector run against the fixture tree (test/fixtures/host) or
// a tree built in a temporary directory, asserting exact exposition lines.
// The filesystem collector runs on a real libuv loop with real statfs calls;
// its timeout path is driven by occupying libuv's only pool thread.
#include <ftw.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cmocka_all.hpp"
#include "core/config_loader.hpp"
#include "core/read_file.hpp"
#include "metrics/prometheus_text.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"

using namespace edgemon;
using collect::CollectContext;
using collect::Collector;

namespace {

config::Config fixture_config() {
  config::Config c;
  c.collect.procfs = EDGEMON_FIXTURES "/host/proc";
  c.collect.sysfs = EDGEMON_FIXTURES "/host/sys";
  c.collect.rootfs = EDGEMON_FIXTURES "/host/root";
  return c;
}

std::unique_ptr<Collector> make(const char* name, const config::Config& c) {
  std::string error;
  auto collector = collect::create_collector(name, c, &error);
  if (collector == nullptr) fail_msg("create_collector(%s): %s", name, error.c_str());
  return collector;
}

std::string written(const Collector& collector) {
  std::string out;
  metrics::PrometheusTextWriter writer(out);
  collector.write(writer);
  return out;
}

// Gathers once (the collector must answer before returning) and returns the
// error it reported.
std::string gather_sync(Collector& collector, const config::Config& c, int64_t now_ms = 0) {
  CollectContext ctx{c, nullptr, now_ms};
  bool called = false;
  std::string error;
  collector.gather(ctx, [&](std::string e) {
    called = true;
    error = std::move(e);
  });
  assert_true(called);
  return error;
}

std::string collect_once(const char* name, const config::Config& c, int64_t now_ms = 0) {
  auto collector = make(name, c);
  std::string error = gather_sync(*collector, c, now_ms);
  if (!error.empty()) fail_msg("%s: %s", name, error.c_str());
  return written(*collector);
}

// A family's lines must be one block, with HELP and TYPE first.
void assert_well_formed(const std::string& out) {
  std::vector<std::string> finished;
  std::string current;
  std::string_view text = out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    assert_true(nl != std::string_view::npos);
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.starts_with("# HELP ")) {
      std::string name(line.substr(7, line.find(' ', 7) - 7));
      for (const auto& f : finished)
        if (f == name) fail_msg("family %s written twice", name.c_str());
      if (!current.empty()) finished.push_back(current);
      current = name;
      continue;
    }
    if (line.starts_with("# TYPE ")) continue;
    std::string_view name = line.substr(0, line.find_first_of("{ "));
    if (name != current) fail_msg("sample outside its family: %.*s", (int)line.size(), line.data());
  }
}

// Temporary directory trees.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/edgemon-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    path_ = tmpl;
  }
  ~TempDir() {
    nftw(
        path_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }

  std::string mkdirs(const std::string& relative) const {
    std::string full = path_;
    size_t start = 0;
    while (start < relative.size()) {
      size_t end = relative.find('/', start + 1);
      if (end == std::string::npos) end = relative.size();
      full += relative.substr(start, end - start);
      mkdir(full.c_str(), 0755);
      start = end;
    }
    return full;
  }

  void write(const std::string& relative, std::string_view content) const {
    size_t slash = relative.rfind('/');
    if (slash != std::string::npos && slash > 0) mkdirs(relative.substr(0, slash));
    std::string full = path_ + relative;
    FILE* f = fopen(full.c_str(), "w");
    assert_non_null(f);
    fwrite(content.data(), 1, content.size(), f);
    fclose(f);
  }

 private:
  std::string path_;
};

std::string fixture_text(const char* relative) {
  std::string text;
  assert_string_equal(read_file(std::string(EDGEMON_FIXTURES) + relative, &text).c_str(), "");
  return text;
}

// ---- registration and factories ----

void every_collector_is_registered(void**) {
  auto names = collect::registered_collector_names();
  for (const char* want :
       {"cpu", "diskstats", "filefd", "filesystem", "loadavg", "meminfo", "netdev",
        "network_address", "os", "self", "stat", "thermal", "time", "uname"}) {
    bool found = false;
    for (const auto& n : names)
      found = found || n == want;
    if (!found) fail_msg("collector %s not registered", want);
  }
}

void bad_regex_fails_the_factory(void**) {
  struct Case {
    const char* collector;
    void (*set)(config::Config*);
    const char* key;
  } cases[] = {
      {"diskstats",
       [](config::Config* c) {
         c->collect.collectors.get_mut<collect::DiskstatsOptions>("diskstats").devices_exclude =
             "(";
       },
       "collect.diskstats.devices_exclude"},
      {"netdev",
       [](config::Config* c) {
         c->collect.collectors.get_mut<collect::NetdevOptions>("netdev").devices_exclude = "a[b";
       },
       "collect.netdev.devices_exclude"},
      {"filesystem",
       [](config::Config* c) {
         c->collect.collectors.get_mut<collect::FilesystemOptions>("filesystem")
             .mount_points_exclude = "(";
       },
       "collect.filesystem.mount_points_exclude"},
      {"filesystem",
       [](config::Config* c) {
         c->collect.collectors.get_mut<collect::FilesystemOptions>("filesystem").fs_types_exclude =
             "*(";
       },
       "collect.filesystem.fs_types_exclude"},
  };
  for (const Case& k : cases) {
    config::Config c = fixture_config();
    k.set(&c);
    std::string error;
    assert_true(collect::create_collector(k.collector, c, &error) == nullptr);
    assert_contains(error, k.key);
  }
}

void missing_files_fail_and_write_nothing(void**) {
  config::Config c = fixture_config();
  c.collect.procfs = "/nonexistent-procfs";
  for (const char* name :
       {"cpu", "diskstats", "filefd", "loadavg", "meminfo", "netdev", "stat", "time"}) {
    auto collector = make(name, c);
    assert_contains(gather_sync(*collector, c), "/nonexistent-procfs/");
    assert_string_equal(written(*collector).c_str(), "");
  }
}

// ---- cpu ----

void cpu_seconds_and_usage(void**) {
  TempDir t;
  config::Config c = fixture_config();
  c.collect.procfs = t.path();
  auto cpu = make("cpu", c);

  t.write("/stat", fixture_text("/host/proc/stat.t0"));
  assert_string_equal(gather_sync(*cpu, c).c_str(), "");
  std::string out = written(*cpu);
  assert_contains(out, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 260\n");
  // No previous sample yet: no ratio, not a made-up 0.
  assert_not_contains(out, "usage_ratio");

  t.write("/stat", fixture_text("/host/proc/stat"));
  assert_string_equal(gather_sync(*cpu, c).c_str(), "");
  out = written(*cpu);
  assert_well_formed(out);
  assert_contains(out,
                  "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
                  "# TYPE node_cpu_seconds_total counter\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 261\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"nice\"} 5\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"system\"} 80.4\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 1991.1\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"iowait\"} 15.3\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"irq\"} 0\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"softirq\"} 6\n"
                  "node_cpu_seconds_total{cpu=\"0\",mode=\"steal\"} 0\n");
  assert_contains(out, "node_cpu_seconds_total{cpu=\"3\",mode=\"idle\"} 2001.2\n");
  assert_contains(out, "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 10.3\n");
  assert_contains(out, "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"} 0\n");
  // Aggregate 40.0 %, not the naive 45.5 %; per core 50 / 40 / 33.3 / 34.8 %.
  assert_contains(out, "\nedgemon_host_cpu_usage_ratio 0.4\n");
  assert_contains(out, "edgemon_host_cpu_core_usage_ratio{cpu=\"0\"} 0.5\n");
  assert_contains(out, "edgemon_host_cpu_core_usage_ratio{cpu=\"1\"} 0.4\n");
  assert_contains(out, "edgemon_host_cpu_core_usage_ratio{cpu=\"2\"} 0.3333333333333333\n");
  assert_contains(out, "edgemon_host_cpu_core_usage_ratio{cpu=\"3\"} 0.34782608695652173\n");
  assert_not_contains(out, "cpu=\"\"");
}

void cpu_counters_never_decrease(void**) {
  TempDir t;
  config::Config c = fixture_config();
  c.collect.procfs = t.path();
  auto cpu = make("cpu", c);
  t.write("/stat", "cpu 0 0 0 0\ncpu0 100 0 100 10000 500 0 0 0 0 0\ncpu1 1 1 1 1000\n");
  assert_string_equal(gather_sync(*cpu, c).c_str(), "");
  // iowait goes backwards (the kernel allows it): the counter holds.
  t.write("/stat", "cpu 0 0 0 0\ncpu0 150 0 150 10100 400 0 0 0 0 0\ncpu1 1 1 1 1000\n");
  assert_string_equal(gather_sync(*cpu, c).c_str(), "");
  std::string out = written(*cpu);
  assert_contains(out, "node_cpu_seconds_total{cpu=\"0\",mode=\"iowait\"} 5\n");
  assert_contains(out, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 1.5\n");
  // cpu0: 50 user + 50 system busy of 200 (iowait delta clamped to 0).
  assert_contains(out, "edgemon_host_cpu_core_usage_ratio{cpu=\"0\"} 0.5\n");
  // idle falls by 3 s or more: a hot-plugged CPU, counters start again.
  // cpu1 went offline: it has no line and no series.
  t.write("/stat", "cpu 0 0 0 0\ncpu0 10 0 10 500 10 0 0 0 0 0\n");
  assert_string_equal(gather_sync(*cpu, c).c_str(), "");
  out = written(*cpu);
  assert_contains(out, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 5\n");
  assert_contains(out, "node_cpu_seconds_total{cpu=\"0\",mode=\"iowait\"} 0.1\n");
  assert_not_contains(out, "cpu=\"1\"");
  // A malformed file fails the collection and writes nothing.
  t.write("/stat", "cpu 1 2\n");
  assert_contains(gather_sync(*cpu, c), "line 1");
  assert_string_equal(written(*cpu).c_str(), "");
}

// ---- the small procfs collectors ----

void loadavg_collector(void**) {
  std::string out = collect_once("loadavg", fixture_config());
  assert_well_formed(out);
  assert_string_equal(
      out.c_str(),
      "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.52\n"
      "# HELP node_load5 5m load average.\n# TYPE node_load5 gauge\nnode_load5 0.61\n"
      "# HELP node_load15 15m load average.\n# TYPE node_load15 gauge\n"
      "node_load15 0.58\n");
}

void meminfo_collector(void**) {
  std::string out = collect_once("meminfo", fixture_config());
  assert_well_formed(out);
  assert_contains(out,
                  "# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n"
                  "# TYPE node_memory_MemTotal_bytes gauge\n"
                  "node_memory_MemTotal_bytes 7989481472\n");
  assert_contains(out, "\nnode_memory_MemAvailable_bytes 5439610880\n");
  assert_contains(out, "\nnode_memory_Active_anon_bytes 1538265088\n");
  assert_contains(out, "\nnode_memory_SwapFree_bytes 3927629824\n");
  assert_contains(out,
                  "# HELP node_memory_HugePages_Total Memory information field HugePages_Total.\n"
                  "# TYPE node_memory_HugePages_Total gauge\nnode_memory_HugePages_Total 0\n");
  assert_contains(out, "\nnode_memory_Hugepagesize_bytes 2097152\n");
  assert_contains(out, "\nedgemon_host_memory_usage_ratio 0.3191534520652306\n");
}

void stat_collector(void**) {
  std::string out = collect_once("stat", fixture_config());
  assert_well_formed(out);
  assert_contains(out,
                  "# HELP node_boot_time_seconds Node boot time, in unixtime.\n"
                  "# TYPE node_boot_time_seconds gauge\nnode_boot_time_seconds 1736420000\n");
  assert_contains(out,
                  "# TYPE node_context_switches_total counter\n"
                  "node_context_switches_total 91240123\n");
  assert_contains(out, "\nnode_forks_total 123470\n");
  assert_contains(out, "\nnode_intr_total 48208911\n");
  assert_contains(out, "\nnode_procs_running 3\n");
  assert_contains(out, "\nnode_procs_blocked 1\n");
  assert_contains(out, "\nnode_processes_pids 3\n");  // proc/1, proc/42, proc/24567
  assert_contains(out, "\nnode_processes_threads 912\n");
}

void filefd_collector(void**) {
  std::string out = collect_once("filefd", fixture_config());
  assert_well_formed(out);
  assert_contains(out, "\nnode_filefd_allocated 12896\n");
  assert_contains(out, "\nnode_filefd_maximum 9223372036854775808\n");
}

void time_collector(void**) {
  std::string out = collect_once("time", fixture_config(), 1736420000123);
  assert_well_formed(out);
  assert_contains(out, "\nnode_time_seconds 1736420000.123\n");
  assert_contains(out, "\nedgemon_host_heartbeat_timestamp_seconds 1736420000.123\n");
  assert_contains(out, "\nedgemon_host_uptime_seconds 350735.47\n");
}

// ---- diskstats and netdev ----

void diskstats_collector(void**) {
  std::string out = collect_once("diskstats", fixture_config());
  assert_well_formed(out);
  assert_contains(out,
                  "# HELP node_disk_read_bytes_total The total number of bytes read successfully.\n"
                  "# TYPE node_disk_read_bytes_total counter\n"
                  "node_disk_read_bytes_total{device=\"mmcblk0\"} 10928987136\n"
                  "node_disk_read_bytes_total{device=\"mmcblk0p1\"} 10905600000\n"
                  "node_disk_read_bytes_total{device=\"nvme0n1\"} 63209875968\n");
  assert_contains(out, "node_disk_written_bytes_total{device=\"nvme0n1\"} 50567901184\n");
  assert_contains(out, "node_disk_written_bytes_total{device=\"mmcblk0\"} 5056790016\n");
  assert_contains(out, "node_disk_read_time_seconds_total{device=\"mmcblk0\"} 190.234\n");
  assert_contains(out, "node_disk_io_now{device=\"nvme0n1\"} 2\n");
  assert_contains(
      out, "node_disk_io_time_weighted_seconds_total{device=\"mmcblk0\"} 702.5790000000001\n");
  assert_contains(out, "node_disk_discards_completed_total{device=\"nvme0n1\"} 1234\n");
  assert_contains(out, "node_disk_discard_time_seconds_total{device=\"nvme0n1\"} 0.012\n");
  assert_contains(out, "node_disk_flush_requests_total{device=\"mmcblk0\"} 12345\n");
  assert_contains(out, "node_disk_flush_requests_time_seconds_total{device=\"nvme0n1\"} 3.456\n");
  // Default exclusions, node_exporter 1.5's: sd/nvme partitions and loop
  // devices; zram (swap on most boards) and SD-card partitions stay.
  for (const char* gone : {"nvme0n1p1", "loop0"})
    assert_not_contains(out, std::string("device=\"") + gone + "\"");
  for (const char* kept : {"mmcblk0p1", "zram0"})
    assert_contains(out, std::string("node_disk_reads_completed_total{device=\"") + kept + "\"}");
}

void diskstats_old_kernels_and_custom_exclude(void**) {
  TempDir t;
  t.write("/diskstats", fixture_text("/host/parse/diskstats_columns"));
  config::Config c = fixture_config();
  c.collect.procfs = t.path();
  assert_string_equal(config::set_key(&c, "collect.diskstats.devices_exclude", "^dm-").c_str(), "");
  std::string out = collect_once("diskstats", c);
  assert_well_formed(out);
  assert_contains(out, "node_disk_reads_completed_total{device=\"sda\"} 5000\n");
  assert_contains(out, "node_disk_reads_completed_total{device=\"sda1\"} 4900\n");
  assert_not_contains(out, "dm-0");
  // 14 columns: no discard or flush series; 18 columns: discards only.
  assert_not_contains(out, "node_disk_discards_completed_total{device=\"sda\"}");
  assert_contains(out, "node_disk_discarded_sectors_total{device=\"sda1\"} 800\n");
  assert_not_contains(out, "node_disk_flush_requests_total{device=\"sda1\"}");
  assert_contains(out, "node_disk_flush_requests_total{device=\"mmcblk0\"} 12345\n");
}

void netdev_collector(void**) {
  config::Config c = fixture_config();
  std::string out = collect_once("netdev", c);
  assert_well_formed(out);
  assert_contains(out,
                  "# HELP node_network_receive_bytes_total Network device statistic "
                  "receive_bytes.\n# TYPE node_network_receive_bytes_total counter\n"
                  "node_network_receive_bytes_total{device=\"lo\"} 4571234\n"
                  "node_network_receive_bytes_total{device=\"eth0\"} 1234567890\n");
  assert_contains(out, "node_network_receive_drop_total{device=\"eth0\"} 12\n");
  assert_contains(out, "node_network_receive_multicast_total{device=\"eth0\"} 4321\n");
  assert_contains(out, "node_network_transmit_bytes_total{device=\"eth0\"} 987654321\n");
  assert_contains(out, "node_network_transmit_packets_total{device=\"wlan0\"} 2345\n");
  assert_contains(out, "node_network_transmit_carrier_total{device=\"eth0\"} 0\n");
  // The empty default pattern excludes nothing.
  assert_contains(out, "device=\"veth3f2a1b0\"");
  assert_contains(out, "device=\"docker0\"");

  assert_string_equal(
      config::set_key(&c, "collect.netdev.devices_exclude", "^(veth|docker)").c_str(), "");
  out = collect_once("netdev", c);
  assert_not_contains(out, "veth3f2a1b0");
  assert_not_contains(out, "docker0");
  assert_contains(out, "node_network_receive_bytes_total{device=\"wlan0\"} 123456\n");
}

// ---- os, uname, thermal, network_address, self ----

void os_collector(void**) {
  std::string out = collect_once("os", fixture_config());
  assert_well_formed(out);
  assert_contains(out,
                  "node_os_info{build_id=\"\",id=\"ubuntu\",id_like=\"debian\",image_id=\"\","
                  "image_version=\"\",name=\"Ubuntu\",pretty_name=\"Ubuntu 22.04.4 LTS\","
                  "variant=\"\",variant_id=\"\",version=\"22.04.4 LTS (Jammy Jellyfish)\","
                  "version_codename=\"jammy\",version_id=\"22.04\"} 1\n");
  assert_contains(out, "node_os_version{id=\"ubuntu\",id_like=\"debian\",name=\"Ubuntu\"} 22.04\n");
}

void os_falls_back_to_usr_lib(void**) {
  TempDir t;
  t.write("/usr/lib/os-release", "NAME='Raspbian GNU/Linux'\nID=raspbian\nVERSION_ID=\"11\"\n");
  config::Config c = fixture_config();
  c.collect.rootfs = t.path() + "/";
  std::string out = collect_once("os", c);
  assert_contains(out, "name=\"Raspbian GNU/Linux\"");
  assert_contains(out,
                  "node_os_version{id=\"raspbian\",id_like=\"\",name=\"Raspbian GNU/Linux\"} 11\n");

  c.collect.rootfs = t.path() + "/nothing";
  auto os = make("os", c);
  assert_contains(gather_sync(*os, c), "os-release");
  assert_string_equal(written(*os).c_str(), "");
}

void uname_collector(void**) {
  std::string out = collect_once("uname", fixture_config());
  assert_well_formed(out);
  assert_contains(out, "# TYPE node_uname_info gauge\nnode_uname_info{domainname=\"");
  assert_contains(out, "\",sysname=\"Linux\",version=\"");
  assert_contains(out, "\"} 1\n");
}

void thermal_collector(void**) {
  std::string out = collect_once("thermal", fixture_config());
  assert_well_formed(out);
  assert_string_equal(out.c_str(),
                      "# HELP node_thermal_zone_temp Zone temperature in Celsius\n"
                      "# TYPE node_thermal_zone_temp gauge\n"
                      "node_thermal_zone_temp{type=\"cpu-thermal\",zone=\"0\"} 45.5\n"
                      "node_thermal_zone_temp{type=\"gpu-thermal\",zone=\"1\"} 43.968\n");
  // thermal_zone2's sensor gives no reading: skipped, not a failure.
  config::Config c = fixture_config();
  c.collect.sysfs = "/nonexistent-sysfs";
  assert_string_equal(collect_once("thermal", c).c_str(), "");
}

void network_address_collector(void**) {
  std::string out = collect_once("network_address", fixture_config());
  assert_well_formed(out);
  assert_contains(out,
                  "edgemon_host_network_address_info{address=\"127.0.0.1\",device=\"lo\","
                  "family=\"ipv4\"} 1\n");
}

double value_of(const std::string& out, const std::string& series) {
  size_t at = out.find("\n" + series + " ");
  if (at == std::string::npos) fail_msg("no %s in:\n%s", series.c_str(), out.c_str());
  return std::strtod(out.c_str() + at + series.size() + 2, nullptr);
}

void self_collector(void**) {
  config::Config c = fixture_config();  // must not read the fixture procfs
  std::string out = collect_once("self", c);
  assert_well_formed(out);
  assert_true(value_of(out, "edgemon_process_resident_memory_bytes") > 1e5);
  assert_true(value_of(out, "edgemon_process_resident_memory_max_bytes") >=
              value_of(out, "edgemon_process_resident_memory_bytes"));
  assert_true(value_of(out, "edgemon_process_open_fds") >= 3);
  assert_true(value_of(out, "edgemon_process_max_fds") >= 64);
  // This test's own strings are on glibc's heap; under AddressSanitizer,
  // whose allocator replaces it, mallinfo2() counts nothing.
#if defined(__SANITIZE_ADDRESS__)
  assert_true(value_of(out, "edgemon_process_heap_bytes{state=\"in_use\"}") >= 0);
#else
  assert_true(value_of(out, "edgemon_process_heap_bytes{state=\"in_use\"}") > 1000);
#endif
  assert_true(value_of(out, "edgemon_process_heap_bytes{state=\"free\"}") >= 0);
  assert_true(value_of(out, "edgemon_process_sqlite_memory_bytes") >= 0);
  assert_true(value_of(out, "edgemon_process_cpu_seconds_total{mode=\"user\"}") >= 0);
  assert_contains(out, "edgemon_process_cpu_seconds_total{mode=\"system\"} ");
  double start = value_of(out, "edgemon_process_start_time_seconds");
  double now = static_cast<double>(time(nullptr));
  assert_true(start <= now + 1 && start > now - 3600);
}

// ---- filesystem ----

struct Gather {
  bool called = false;
  std::string error;
  std::function<void(std::string)> callback() {
    return [this](std::string e) {
      called = true;
      error = std::move(e);
    };
  }
};

void run_until(uv_loop_t* loop, const Gather& g) {
  // Bounded: a statfs of a local directory, or the 100 ms timeout.
  for (int i = 0; i < 1000 && !g.called; ++i)
    uv_run(loop, UV_RUN_ONCE);
  assert_true(g.called);
}

void close_loop(uv_loop_t* loop) {
  uv_run(loop, UV_RUN_DEFAULT);  // handle closes and late requests
  assert_int_equal(uv_loop_close(loop), 0);
}

std::string statfs_size(const std::string& path) {
  struct statfs st {};
  assert_int_equal(statfs(path.c_str(), &st), 0);
  return std::to_string(static_cast<uint64_t>(st.f_blocks) * static_cast<uint64_t>(st.f_bsize));
}

void filesystem_from_mounts(void**) {
  TempDir t;
  t.mkdirs("/root/a");
  t.mkdirs("/root/b c");
  t.write("/proc/mounts",
          "/dev/sda1 / ext4 rw,relatime 0 0\n"
          "/dev/sdb1 /b\\040c ext4 ro,relatime 0 0\n"
          "tmpfs /run tmpfs rw,nosuid 0 0\n"
          "proc /proc proc rw 0 0\n"
          "/dev/sda1 /a ext4 rw 0 0\n"
          "/dev/sdc1 /missing xfs rw 0 0\n");
  config::Config c = fixture_config();
  c.collect.procfs = t.path() + "/proc";
  c.collect.rootfs = t.path() + "/root";
  auto fs = make("filesystem", c);
  uv_loop_t loop;
  uv_loop_init(&loop);
  Gather g;
  fs->gather(CollectContext{c, &loop, 0}, g.callback());
  assert_true(g.called);  // local block devices are asked directly, not via the pool
  assert_string_equal(g.error.c_str(), "");
  std::string out = written(*fs);
  assert_well_formed(out);
  const std::string root = "{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"}";
  assert_contains(
      out, "node_filesystem_size_bytes" + root + " " + statfs_size(t.path() + "/root") + "\n");
  assert_contains(out, "node_filesystem_device_error" + root + " 0\n");
  assert_contains(out, "node_filesystem_readonly" + root + " 0\n");
  assert_contains(out, "node_filesystem_avail_bytes" + root + " ");
  assert_contains(out, "node_filesystem_files_free" + root + " ");
  assert_contains(out,
                  "node_filesystem_readonly{device=\"/dev/sdb1\",fstype=\"ext4\","
                  "mountpoint=\"/b c\"} 1\n");
  // statfs fails: only the error is reported.
  const std::string missing = "{device=\"/dev/sdc1\",fstype=\"xfs\",mountpoint=\"/missing\"}";
  assert_contains(out, "node_filesystem_device_error" + missing + " 1\n");
  assert_not_contains(out, "node_filesystem_size_bytes" + missing);
  assert_not_contains(out, "node_filesystem_readonly" + missing);
  // Excluded types and points, and the second mount of /dev/sda1.
  assert_not_contains(out, "/run");
  assert_not_contains(out, "/proc");
  assert_not_contains(out, "mountpoint=\"/a\"");
  fs.reset();
  close_loop(&loop);
}

// In a container (rootfs elsewhere) the host's mount table is init's, not
// the daemon's own.
void filesystem_in_container_reads_init_mount_table(void**) {
  TempDir t;
  t.mkdirs("/root/data");
  t.write("/proc/1/mountinfo", "30 1 8:1 / /data rw,relatime - ext4 /dev/host-disk rw\n");
  t.write("/proc/self/mountinfo", "40 1 0:50 / / rw - overlay overlay rw\n");
  config::Config c = fixture_config();
  c.collect.procfs = t.path() + "/proc";
  c.collect.rootfs = t.path() + "/root";
  auto fs = make("filesystem", c);
  uv_loop_t loop;
  uv_loop_init(&loop);
  Gather g;
  fs->gather(CollectContext{c, &loop, 0}, g.callback());
  run_until(&loop, g);
  assert_string_equal(g.error.c_str(), "");
  assert_contains(written(*fs),
                  "node_filesystem_device_error{device=\"/dev/host-disk\",fstype=\"ext4\","
                  "mountpoint=\"/data\"} 0\n");
  fs.reset();
  close_loop(&loop);
}

void filesystem_from_mountinfo(void**) {
  TempDir t;
  for (const char* dir : {"/root/boot/firmware", "/root/media/usb stick", "/root/mnt/nas",
                          "/root/data", "/root/mnt/back\\slash\ttab"})
    t.mkdirs(dir);
  t.write("/proc/self/mountinfo", fixture_text("/host/parse/mountinfo"));
  t.write("/proc/mounts", "/dev/wrong / ext4 rw 0 0\n");  // mountinfo wins
  config::Config c = fixture_config();
  c.collect.procfs = t.path() + "/proc";
  c.collect.rootfs = t.path() + "/root/";
  auto fs = make("filesystem", c);
  uv_loop_t loop;
  uv_loop_init(&loop);
  Gather g;
  fs->gather(CollectContext{c, &loop, 0}, g.callback());
  run_until(&loop, g);
  assert_string_equal(g.error.c_str(), "");
  std::string out = written(*fs);
  assert_well_formed(out);
  std::string errors;
  for (size_t at = out.find("\nnode_filesystem_device_error{"); at != std::string::npos;
       at = out.find("\nnode_filesystem_device_error{", at + 1))
    errors += out.substr(at + 1, out.find('\n', at + 1) - at);
  // Bind mounts of 179:2 (/var/lib/docker, /mnt/data) are reported once, as /.
  assert_string_equal(
      errors.c_str(),
      "node_filesystem_device_error{device=\"/dev/mmcblk0p2\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
      "node_filesystem_device_error{device=\"/dev/mmcblk0p1\",fstype=\"vfat\","
      "mountpoint=\"/boot/firmware\"} 0\n"
      "node_filesystem_device_error{device=\"/dev/sda1\",fstype=\"exfat\","
      "mountpoint=\"/media/usb stick\"} 0\n"
      "node_filesystem_device_error{device=\"nas.local:/export\",fstype=\"nfs4\","
      "mountpoint=\"/mnt/nas\"} 0\n"
      "node_filesystem_device_error{device=\"/dev/nvme0n1p1\",fstype=\"btrfs\","
      "mountpoint=\"/data\"} 0\n"
      "node_filesystem_device_error{device=\"/dev/sdb1\",fstype=\"ext4\","
      "mountpoint=\"/mnt/back\\\\slash\ttab\"} 0\n");
  assert_contains(out,
                  "node_filesystem_readonly{device=\"/dev/sda1\",fstype=\"exfat\","
                  "mountpoint=\"/media/usb stick\"} 1\n");
  assert_contains(out,
                  "node_filesystem_readonly{device=\"/dev/nvme0n1p1\",fstype=\"btrfs\","
                  "mountpoint=\"/data\"} 1\n");
  fs.reset();
  close_loop(&loop);
}

// Occupies libuv's only pool thread (main() sets UV_THREADPOOL_SIZE=1) so
// that statfs requests queue behind it, as they would behind a dead NFS
// server. The gate is static and release_pool() is the tests' teardown, so a
// failed assertion (cmocka longjmps out of the test) cannot leave the pool
// blocked for the tests after it.
uv_sem_t pool_gate;
bool pool_blocked = false;
uv_work_t pool_work;

void block_pool(uv_loop_t* loop) {
  pool_blocked = true;
  uv_queue_work(
      loop, &pool_work, [](uv_work_t*) { uv_sem_wait(&pool_gate); }, [](uv_work_t*, int) {});
}

int release_pool(void**) {
  if (pool_blocked) uv_sem_post(&pool_gate);
  pool_blocked = false;
  return 0;
}

config::Config two_mounts(const TempDir& t) {
  t.mkdirs("/root/data");
  // Network filesystems: the kind whose statfs goes to the thread pool.
  t.write("/proc/mounts", "nas:/export / nfs4 rw 0 0\nnas:/data /data nfs4 rw 0 0\n");
  config::Config c = fixture_config();
  c.collect.procfs = t.path() + "/proc";
  c.collect.rootfs = t.path() + "/root";
  assert_string_equal(config::set_key(&c, "collect.filesystem.stat_timeout", "100ms").c_str(), "");
  return c;
}

void filesystem_stuck_mounts(void**) {
  TempDir t;
  config::Config c = two_mounts(t);
  auto fs = make("filesystem", c);
  uv_loop_t loop;
  uv_loop_init(&loop);
  block_pool(&loop);
  const std::string data = "{device=\"nas:/data\",fstype=\"nfs4\",mountpoint=\"/data\"}";

  Gather first;
  fs->gather(CollectContext{c, &loop, 0}, first.callback());
  Gather overlapping;  // the scheduler never does this, but it must be safe
  fs->gather(CollectContext{c, &loop, 0}, overlapping.callback());
  assert_true(overlapping.called);
  assert_contains(overlapping.error, "still waiting");
  uint64_t started = uv_hrtime();
  run_until(&loop, first);
  assert_true(uv_hrtime() - started >= 90 * 1000 * 1000);  // it was the timeout
  assert_string_equal(first.error.c_str(), "");
  std::string out = written(*fs);
  assert_contains(out, "node_filesystem_device_error" + data + " 1\n");
  assert_not_contains(out, "node_filesystem_size_bytes");

  // Both statfs calls are still queued: no new ones, an immediate answer.
  Gather second;
  fs->gather(CollectContext{c, &loop, 0}, second.callback());
  assert_true(second.called);
  assert_string_equal(second.error.c_str(), "");
  assert_contains(written(*fs), "node_filesystem_device_error" + data + " 1\n");

  // The calls return (late): the mounts are measured again next time.
  release_pool(nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  Gather third;
  fs->gather(CollectContext{c, &loop, 0}, third.callback());
  assert_false(third.called);
  run_until(&loop, third);
  out = written(*fs);
  assert_contains(out, "node_filesystem_device_error" + data + " 0\n");
  assert_contains(out, "node_filesystem_size_bytes" + data + " ");
  fs.reset();
  close_loop(&loop);
}

void filesystem_destroyed_while_statfs_in_flight(void**) {
  TempDir t;
  config::Config c = two_mounts(t);
  auto fs = make("filesystem", c);
  uv_loop_t loop;
  uv_loop_init(&loop);
  block_pool(&loop);
  Gather g;
  fs->gather(CollectContext{c, &loop, 0}, g.callback());
  fs.reset();  // a config reload while two requests wait for the pool
  release_pool(nullptr);
  close_loop(&loop);  // the late callbacks only free their own memory
  assert_false(g.called);
}

}  // namespace

int main() {
  // One pool thread, so PoolBlocker can hold back every statfs. Must be set
  // before anything starts libuv's pool.
  setenv("UV_THREADPOOL_SIZE", "1", 1);
  uv_sem_init(&pool_gate, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_collector_is_registered),
      cmocka_unit_test(bad_regex_fails_the_factory),
      cmocka_unit_test(missing_files_fail_and_write_nothing),
      cmocka_unit_test(cpu_seconds_and_usage),
      cmocka_unit_test(cpu_counters_never_decrease),
      cmocka_unit_test(loadavg_collector),
      cmocka_unit_test(meminfo_collector),
      cmocka_unit_test(stat_collector),
      cmocka_unit_test(filefd_collector),
      cmocka_unit_test(time_collector),
      cmocka_unit_test(diskstats_collector),
      cmocka_unit_test(diskstats_old_kernels_and_custom_exclude),
      cmocka_unit_test(netdev_collector),
      cmocka_unit_test(os_collector),
      cmocka_unit_test(os_falls_back_to_usr_lib),
      cmocka_unit_test(uname_collector),
      cmocka_unit_test(thermal_collector),
      cmocka_unit_test(network_address_collector),
      cmocka_unit_test(self_collector),
      cmocka_unit_test(filesystem_from_mounts),
      cmocka_unit_test(filesystem_from_mountinfo),
      cmocka_unit_test(filesystem_in_container_reads_init_mount_table),
      cmocka_unit_test_teardown(filesystem_stuck_mounts, release_pool),
      cmocka_unit_test_teardown(filesystem_destroyed_while_statfs_in_flight, release_pool),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
