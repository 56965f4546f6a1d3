// Writes a stretch of history for a fleet straight into a history file
// through the daemon's own HistoryDb, so bench/query_bench.py queries a file
// our own code wrote (and the same points can be loaded into influxd).
//
//   history_fill FILE [--devices N] [--hours H] [--interval-s S]
//                [--end-ms MS] [--lp OUT]
//
// One system_metrics point per device every S seconds (default 50 devices,
// 24 hours, 10 s, ending now) with the edge agent's fields: cpu, memory,
// disk, memory_used, memory_total, disk_used, disk_total, heartbeat,
// cpu_core_0, cpu_core_1; tags device_id, host, device_type, location,
// zone. --lp also writes the points as line protocol (ms precision) to OUT.
// Prints the values written and the file size.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "metrics/line_protocol.hpp"
#include "store/history_batch.hpp"
#include "store/history_db.hpp"
#include "store/history_devices.hpp"

using namespace edgemon;

namespace {

struct Options {
  std::string path;
  int64_t devices = 50;
  int64_t hours = 24;
  int64_t interval_s = 10;
  int64_t end_ms = 0;
  std::string lp;
};

bool parse(int argc, char** argv, Options* o) {
  if (argc < 2) return false;
  o->path = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--devices")
      o->devices = std::strtoll(v, nullptr, 10);
    else if (flag == "--hours")
      o->hours = std::strtoll(v, nullptr, 10);
    else if (flag == "--interval-s")
      o->interval_s = std::strtoll(v, nullptr, 10);
    else if (flag == "--end-ms")
      o->end_ms = std::strtoll(v, nullptr, 10);
    else if (flag == "--lp")
      o->lp = v;
    else
      return false;
  }
  return o->devices > 0 && o->hours > 0 && o->interval_s > 0;
}

// Deterministic, plausible values: a daily wave per device plus jitter.
metrics::Point make_point(int64_t device, int64_t t_ms, int64_t heartbeat) {
  double phase = static_cast<double>(t_ms % 86400000) / 86400000.0 * 2 * M_PI;
  double jitter = static_cast<double>((t_ms / 1000 * 2654435761u + device * 40503u) % 1000) / 100.0;
  double cpu = 30 + 20 * std::sin(phase + static_cast<double>(device)) + jitter;
  double memory = 45 + 10 * std::cos(phase / 2 + static_cast<double>(device)) + jitter / 2;
  double disk = 60 + static_cast<double>(device % 30) + static_cast<double>(heartbeat % 1000) / 1e4;
  int64_t mem_total = int64_t{4} << 30;
  int64_t disk_total = int64_t{64} << 30;
  metrics::Point p;
  p.measurement = "system_metrics";
  std::string id = "dev-" + std::to_string(device);
  p.tags = {{"device_id", id},
            {"host", "host-" + std::to_string(device)},
            {"device_type", device % 2 == 0 ? "jetson" : "rpi"},
            {"location", "site-" + std::to_string(device % 5)},
            {"zone", "zone-" + std::to_string(device % 3)}};
  p.fields = {{"cpu", cpu},
              {"memory", memory},
              {"disk", disk},
              {"memory_used", static_cast<int64_t>(memory / 100 * static_cast<double>(mem_total))},
              {"memory_total", mem_total},
              {"disk_used", static_cast<int64_t>(disk / 100 * static_cast<double>(disk_total))},
              {"disk_total", disk_total},
              {"heartbeat", heartbeat},
              {"cpu_core_0", cpu + 1},
              {"cpu_core_1", cpu - 1}};
  p.time_ns = t_ms * 1000000;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fputs(
        "usage: history_fill FILE [--devices N] [--hours H] [--interval-s S] [--end-ms MS] "
        "[--lp OUT]\n",
        stderr);
    return 2;
  }
  if (o.end_ms == 0) o.end_ms = static_cast<int64_t>(std::time(nullptr)) * 1000;
  std::string error;
  auto db = store::HistoryDb::open({o.path, false, 1024, 1000}, nullptr, &error);
  if (!db) {
    std::fprintf(stderr, "history_fill: %s\n", error.c_str());
    return 1;
  }
  FILE* lp = o.lp.empty() ? nullptr : std::fopen(o.lp.c_str(), "w");
  metrics::LineProtocolEncoder encoder({metrics::Precision::kMs, false});
  int64_t step = o.interval_s * 1000;
  int64_t start = o.end_ms - o.hours * 3600000;
  int64_t rounds = o.hours * 3600000 / step;
  int64_t written = 0;
  store::PointBatch batch;
  std::string text;
  int64_t non_finite = 0;
  // One transaction per 360 rounds (an hour at 10 s): every commit touches
  // the last page of each series, so fewer, larger commits fill faster.
  for (int64_t r = 0; r < rounds; ++r) {
    int64_t t = start + r * step;
    for (int64_t d = 0; d < o.devices; ++d) {
      metrics::Point p = make_point(d, t + d, r);
      batch.append(p, store::device_of(p), &non_finite);
      if (lp != nullptr) encoder.append(text, p);
    }
    if ((r + 1) % 360 == 0 || r + 1 == rounds) {
      store::WriteStats stats;
      std::vector<store::DeviceRow> devices;
      if (r + 1 == rounds) {
        for (int64_t d = 0; d < o.devices; ++d) {
          metrics::Point last = make_point(d, t, r);
          std::erase_if(last.tags, [](const metrics::Tag& tag) { return tag.key == "device_id"; });
          devices.push_back(
              {"dev-" + std::to_string(d), store::tags_json(last.tags), start, t, rounds});
        }
      }
      error = db->write(batch.take(), devices, {}, &stats);
      if (!error.empty()) {
        std::fprintf(stderr, "history_fill: %s\n", error.c_str());
        return 1;
      }
      written += stats.written;
      if (lp != nullptr) {
        std::fwrite(text.data(), 1, text.size(), lp);
        text.clear();
      }
    }
  }
  if (lp != nullptr) std::fclose(lp);
  std::printf("values %lld file_bytes %lld series %lld\n", static_cast<long long>(written),
              static_cast<long long>(db->file_bytes()), static_cast<long long>(db->series_count()));
  return 0;
}
