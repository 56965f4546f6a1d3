// os: node_os_info / node_os_version from the host's os-release.
#include "core/read_file.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/parse/os_release.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

std::string under_root(const std::string& rootfs, const char* path) {
  std::string root = rootfs;
  while (!root.empty() && root.back() == '/')
    root.pop_back();
  return root + path;
}

class OsCollector final : public SyncCollector {
 public:
  explicit OsCollector(const config::Config& config)
      : etc_path_(under_root(config.collect.rootfs, "/etc/os-release")),
        lib_path_(under_root(config.collect.rootfs, "/usr/lib/os-release")) {}

  // os-release lives on a real disk, not in procfs, and changes only with a
  // distribution upgrade; it is read once (a config reload builds a new
  // collector and so reads it again) to keep disk reads off the loop.
  std::string gather_now(const CollectContext&) override {
    if (loaded_) return "";
    std::string buf;
    const std::string* path = &etc_path_;
    std::string err = read_file(*path, &buf, 64 * 1024);
    if (!err.empty()) {
      path = &lib_path_;
      std::string err2 = read_file(*path, &buf, 64 * 1024);
      if (!err2.empty()) return err + "; " + err2;
    }
    err = parse_os_release(buf, &os_);
    if (!err.empty()) return *path + ": " + err;
    has_version_ = os_version_number(os_.values[kOsVersionId], &version_);
    loaded_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!loaded_) return;
    sink.begin({"node_os_info",
                "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
                "image_version, name, pretty_name, variant, variant_id, version, "
                "version_codename, version_id.",
                Type::kGauge});
    metrics::Label labels[kOsFieldCount];
    for (size_t i = 0; i < kOsFieldCount; ++i)
      labels[i] = {kOsLabelNames[i], os_.values[i]};
    sink.sample(metrics::Labels(labels), 1);
    sink.begin({"node_os_version", "Metric containing the major.minor part of the OS version.",
                Type::kGauge});
    if (has_version_)
      sink.sample({{"id", os_.values[kOsId]},
                   {"id_like", os_.values[kOsIdLike]},
                   {"name", os_.values[kOsName]}},
                  version_);
  }

 private:
  std::string etc_path_;
  std::string lib_path_;
  OsRelease os_;
  double version_ = 0;
  bool has_version_ = false;
  bool loaded_ = false;
};

const Registration kReg{"os", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new OsCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
