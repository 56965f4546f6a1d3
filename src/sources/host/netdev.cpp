// netdev: node_network_{receive,transmit}_*_total per interface from
// /proc/net/dev.
#include "core/regex.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"
#include "sources/host/parse/net_dev.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {

namespace {

using metrics::Type;

struct NetFamily {
  const char* name;
  const char* help;  // node_exporter's: "Network device statistic <stat>."
  NetDevField field;
};

constexpr NetFamily kFamilies[] = {
    {"node_network_receive_bytes_total", "Network device statistic receive_bytes.", kRxBytes},
    {"node_network_receive_packets_total", "Network device statistic receive_packets.", kRxPackets},
    {"node_network_receive_errs_total", "Network device statistic receive_errs.", kRxErrs},
    {"node_network_receive_drop_total", "Network device statistic receive_drop.", kRxDrop},
    {"node_network_receive_fifo_total", "Network device statistic receive_fifo.", kRxFifo},
    {"node_network_receive_frame_total", "Network device statistic receive_frame.", kRxFrame},
    {"node_network_receive_compressed_total", "Network device statistic receive_compressed.",
     kRxCompressed},
    {"node_network_receive_multicast_total", "Network device statistic receive_multicast.",
     kRxMulticast},
    {"node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", kTxBytes},
    {"node_network_transmit_packets_total", "Network device statistic transmit_packets.",
     kTxPackets},
    {"node_network_transmit_errs_total", "Network device statistic transmit_errs.", kTxErrs},
    {"node_network_transmit_drop_total", "Network device statistic transmit_drop.", kTxDrop},
    {"node_network_transmit_fifo_total", "Network device statistic transmit_fifo.", kTxFifo},
    {"node_network_transmit_colls_total", "Network device statistic transmit_colls.", kTxColls},
    {"node_network_transmit_carrier_total", "Network device statistic transmit_carrier.",
     kTxCarrier},
    {"node_network_transmit_compressed_total", "Network device statistic transmit_compressed.",
     kTxCompressed},
};

class NetdevCollector final : public SyncCollector {
 public:
  NetdevCollector(const config::Config& config, Regex exclude)
      : file_(config.collect.procfs + "/net/dev"), exclude_(std::move(exclude)) {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_net_dev(buf_, &devices_);
    if (!err.empty()) return file_.path() + ": " + err;
    std::erase_if(devices_, [this](const NetDevStats& d) {
      name_.assign(d.name);
      return exclude_.matches(name_);
    });
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    for (const NetFamily& f : kFamilies) {
      sink.begin({f.name, f.help, Type::kCounter});
      for (const NetDevStats& d : devices_)
        sink.sample({{"device", d.name}}, static_cast<double>(d.values[f.field]));
    }
  }

 private:
  ProcFile file_;
  Regex exclude_;
  std::string buf_;
  std::string name_;
  std::vector<NetDevStats> devices_;  // names point into buf_
  bool ok_ = false;
};

const Registration kReg{
    "netdev",
    [](const config::Config& config, std::string* error) {
      Regex exclude;
      std::string err =
          exclude.compile(config.collect.collectors.get<NetdevOptions>("netdev").devices_exclude);
      if (!err.empty()) {
        *error = "collect.netdev.devices_exclude: " + err;
        return std::unique_ptr<Collector>();
      }
      return std::unique_ptr<Collector>(new NetdevCollector(config, std::move(exclude)));
    },
    "Network interface counters from /proc/net/dev.", config::make_options<NetdevOptions>};

}  // namespace
}  // namespace edgemon::collect
