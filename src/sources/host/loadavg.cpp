// loadavg: node_load1/5/15 from /proc/loadavg.
#include "sources/host/parse/loadavg.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

class LoadavgCollector final : public SyncCollector {
 public:
  explicit LoadavgCollector(const config::Config& config)
      : file_(config.collect.procfs + "/loadavg") {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_loadavg(buf_, &load_);
    if (!err.empty()) return file_.path() + ": " + err;
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"node_load1", "1m load average.", Type::kGauge});
    sink.sample(load_.load1);
    sink.begin({"node_load5", "5m load average.", Type::kGauge});
    sink.sample(load_.load5);
    sink.begin({"node_load15", "15m load average.", Type::kGauge});
    sink.sample(load_.load15);
  }

 private:
  ProcFile file_;
  std::string buf_;
  Loadavg load_;
  bool ok_ = false;
};

const Registration kReg{"loadavg", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new LoadavgCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
