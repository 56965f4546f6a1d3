// uname: node_uname_info from uname(2).
#include <sys/utsname.h>

#include <cerrno>
#include <cstring>

#include "sources/host/collector.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

class UnameCollector final : public SyncCollector {
 public:
  // Called every time: the host name can change while the daemon runs.
  std::string gather_now(const CollectContext&) override {
    ok_ = ::uname(&uts_) == 0;
    return ok_ ? "" : std::string("uname: ") + std::strerror(errno);
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"node_uname_info",
                "Labeled system information as provided by the uname system call.", Type::kGauge});
    sink.sample({{"domainname", uts_.domainname},
                 {"machine", uts_.machine},
                 {"nodename", uts_.nodename},
                 {"release", uts_.release},
                 {"sysname", uts_.sysname},
                 {"version", uts_.version}},
                1);
  }

 private:
  struct utsname uts_ {};
  bool ok_ = false;
};

const Registration kReg{"uname", [](const config::Config&, std::string*) {
                          return std::unique_ptr<Collector>(new UnameCollector());
                        }};

}  // namespace
}  // namespace edgemon::collect
