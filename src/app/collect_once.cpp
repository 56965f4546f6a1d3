#include "app/collect_once.hpp"

#include <uv.h>

#include <cstdio>
#include <memory>

#include "app/identity.hpp"
#include "core/log.hpp"
#include "core/loop_close.hpp"
#include "metrics/line_protocol.hpp"
#include "sources/host/scheduler.hpp"

namespace edgemon::app {
namespace {

// A one-shot run has nothing left to flush: give stuck thread-pool work (a
// statfs on a dead NFS mount) a moment, then leave without waiting for it.
// The points of the round just completed, in nanosecond precision: what an
// output configured with this schema would send.
std::string render_line_protocol(const config::Config& config, const collect::Scheduler& scheduler,
                                 collect::HostSchema schema) {
  collect::HostPoints points(
      collect::host_common_tags(resolve_device_id(config), hostname(), config.tags));
  std::vector<metrics::Point> host;
  std::vector<metrics::Point> system;
  points.take(scheduler, schema.host ? &host : nullptr, schema.system_metrics ? &system : nullptr);
  metrics::LineProtocolEncoder encoder;
  std::string out;
  for (const auto* list : {&host, &system}) {
    for (const metrics::Point& p : *list)
      encoder.append(out, p);
  }
  const metrics::LineProtocolCounters& dropped = encoder.counters();
  if (dropped.dropped_points + dropped.dropped_fields + dropped.dropped_tags > 0) {
    std::fprintf(stderr, "line protocol dropped %llu points, %llu fields, %llu tags\n",
                 static_cast<unsigned long long>(dropped.dropped_points),
                 static_cast<unsigned long long>(dropped.dropped_fields),
                 static_cast<unsigned long long>(dropped.dropped_tags));
  }
  return out;
}

}  // namespace

int collect_once(const ConfigSource& source, const CollectOptions& options) {
  auto config = std::make_shared<config::Config>();
  if (auto errors = source.load(config.get()); !errors.empty()) {
    print_errors(errors);
    return 2;
  }
  std::string ignored;
  log::configure(log_options(*config), &ignored);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    collect::Scheduler scheduler(&loop);
    if (std::string err = scheduler.configure(config); !err.empty()) {
      std::fprintf(stderr, "%s\n", err.c_str());
      exit_code = 2;
    } else {
      std::string out;
      scheduler.run_once([&] {
        if (options.format == CollectFormat::kLineProtocol) {
          out = render_line_protocol(*config, scheduler, options.schema);
        } else {
          scheduler.write_exposition(out);
        }
        std::fwrite(out.data(), 1, out.size(), stdout);
        for (const auto& s : scheduler.statuses()) {
          if (s.success) continue;
          std::fprintf(stderr, "collector %s failed: %s\n", s.name.c_str(), s.error.c_str());
          exit_code = 1;
        }
        uv_stop(&loop);
      });
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  close_loop(&loop);
  return exit_code;
}

}  // namespace edgemon::app
