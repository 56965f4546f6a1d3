#pragma once
// The collector seam. A collector is one file: a class implementing
// Collector plus one `const Registration` line; nothing central lists them.
//
// Collection is two-phase so that gathering may be asynchronous (statfs on a
// possibly hung NFS mount runs in libuv's thread pool) while writing is a
// plain synchronous walk over what was gathered, into any MetricSink:
//   gather(ctx, ready)  – read the sources, keep the result, call ready(error)
//   write(sink)         – emit the families of the last successful gather
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "metrics/metric_sink.hpp"

namespace edgemon::collect {

struct CollectContext {
  const config::Config& config;
  uv_loop_t* loop;
  int64_t now_unix_ms;  // wall clock at the start of this collection
};

class Collector {
 public:
  virtual ~Collector() = default;

  // Must call `ready` exactly once: "" on success, else what went wrong.
  // May call it before returning. Must not block the loop.
  virtual void gather(const CollectContext& ctx, std::function<void(std::string)> ready) = 0;

  // Writes the families of the last gather. After a failed gather it writes
  // nothing (stale values would look healthy).
  virtual void write(metrics::MetricSink& sink) const = 0;
};

// For collectors whose sources are procfs/sysfs files read synchronously.
class SyncCollector : public Collector {
 public:
  void gather(const CollectContext& ctx, std::function<void(std::string)> ready) final {
    ready(gather_now(ctx));
  }
  // Returns "" or the error.
  [[nodiscard]] virtual std::string gather_now(const CollectContext& ctx) = 0;
};

// Builds a collector from the configuration, or returns null with *error set
// (for example when a filter regex does not compile).
using Factory =
    std::function<std::unique_ptr<Collector>(const config::Config& config, std::string* error)>;

// Also makes the name known to the configuration (collect.disable), which
// lives below the collectors and cannot ask them. A collector with options
// declares them here: they become the section collect.<name>, read back
// with config.collect.collectors.get<Options>(name).
struct Registration {
  Registration(const char* name, Factory factory, const char* help = "",
               std::function<std::unique_ptr<config::Options>()> make_options = nullptr);

 private:
  config::KindRegistration known_to_config_;
};

// Sorted by name.
std::vector<std::string> registered_collector_names();
std::unique_ptr<Collector> create_collector(const std::string& name, const config::Config& config,
                                            std::string* error);

}  // namespace edgemon::collect
