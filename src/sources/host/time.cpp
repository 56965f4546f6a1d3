// time: the wall clock, the heartbeat the hub schema expects, and uptime.
#include "sources/host/collector.hpp"
#include "sources/host/parse/uptime.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

class TimeCollector final : public SyncCollector {
 public:
  explicit TimeCollector(const config::Config& config) : file_(config.collect.procfs + "/uptime") {}

  std::string gather_now(const CollectContext& ctx) override {
    ok_ = false;
    now_seconds_ = static_cast<double>(ctx.now_unix_ms) / 1000.0;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_uptime(buf_, &uptime_);
    if (!err.empty()) return file_.path() + ": " + err;
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"node_time_seconds", "System time in seconds since epoch (1970).", Type::kGauge});
    sink.sample(now_seconds_);
    sink.begin({"edgemon_host_heartbeat_timestamp_seconds",
                "Unix time of the collection that produced these metrics.", Type::kGauge});
    sink.sample(now_seconds_);
    sink.begin({"edgemon_host_uptime_seconds",
                "Seconds since the host booted, including time suspended.", Type::kGauge});
    sink.sample(uptime_.uptime_seconds);
  }

 private:
  ProcFile file_;
  std::string buf_;
  Uptime uptime_;
  double now_seconds_ = 0;
  bool ok_ = false;
};

const Registration kReg{"time", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new TimeCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
