// meminfo: node_memory_<Field>_bytes for every /proc/meminfo line, plus the
// usage ratio dashboards would otherwise compute in PromQL.
#include "sources/host/parse/meminfo.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

struct Family {
  std::string name;
  std::string help;
  double value = 0;
};

class MeminfoCollector final : public SyncCollector {
 public:
  explicit MeminfoCollector(const config::Config& config)
      : file_(config.collect.procfs + "/meminfo") {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_meminfo(buf_, &fields_);
    if (!err.empty()) return file_.path() + ": " + err;
    // Names are rebuilt in place each time: the strings keep their capacity,
    // so this allocates only when the kernel adds a field.
    if (families_.size() < fields_.size()) families_.resize(fields_.size());
    for (size_t i = 0; i < fields_.size(); ++i)
      describe(fields_[i], &families_[i]);
    count_ = fields_.size();
    update_usage();
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    for (size_t i = 0; i < count_; ++i) {
      const Family& f = families_[i];
      sink.begin({f.name, f.help, Type::kGauge});
      sink.sample(f.value);
    }
    sink.begin({"edgemon_host_memory_usage_ratio",
                "Share of memory in use, (MemTotal - MemAvailable) / MemTotal, 0 to 1.",
                Type::kGauge});
    if (has_usage_) sink.sample(usage_);
  }

 private:
  static void describe(const MeminfoField& field, Family* f) {
    f->name.assign("node_memory_");
    append_meminfo_metric_key(field.key, &f->name);
    if (field.in_bytes) f->name += "_bytes";
    f->help.assign("Memory information field ");
    f->help.append(f->name, 12);  // node_exporter repeats the name minus "node_memory_"
    f->help.push_back('.');
    f->value = static_cast<double>(field.value);
  }

  void update_usage() {
    const MeminfoField* total = find_meminfo(fields_, "MemTotal");
    const MeminfoField* available = find_meminfo(fields_, "MemAvailable");
    has_usage_ = total != nullptr && available != nullptr && total->value > 0;
    if (!has_usage_) return;
    uint64_t avail = available->value < total->value ? available->value : total->value;
    usage_ = static_cast<double>(total->value - avail) / static_cast<double>(total->value);
  }

  ProcFile file_;
  std::string buf_;
  std::vector<MeminfoField> fields_;
  std::vector<Family> families_;
  size_t count_ = 0;
  double usage_ = 0;
  bool has_usage_ = false;
  bool ok_ = false;
};

const Registration kReg{"meminfo", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new MeminfoCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
