// filefd: node_filefd_allocated / node_filefd_maximum from
// /proc/sys/fs/file-nr.
#include "sources/host/collector.hpp"
#include "sources/host/parse/file_nr.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

class FilefdCollector final : public SyncCollector {
 public:
  explicit FilefdCollector(const config::Config& config)
      : file_(config.collect.procfs + "/sys/fs/file-nr") {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_file_nr(buf_, &nr_);
    if (!err.empty()) return file_.path() + ": " + err;
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"node_filefd_allocated", "File descriptor statistics: allocated.", Type::kGauge});
    sink.sample(static_cast<double>(nr_.allocated));
    sink.begin({"node_filefd_maximum", "File descriptor statistics: maximum.", Type::kGauge});
    sink.sample(static_cast<double>(nr_.maximum));
  }

 private:
  ProcFile file_;
  std::string buf_;
  FileNr nr_;
  bool ok_ = false;
};

const Registration kReg{"filefd", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new FilefdCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
