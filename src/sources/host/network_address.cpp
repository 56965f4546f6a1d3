// network_address: one info series per address of each interface.
//
// Listing addresses is a netlink dump, the most expensive call of a whole
// collection, for data that changes on a DHCP renewal. So the list is
// refreshed at most every kRefreshMs; a new address shows within that time.
#include <uv.h>

#include <algorithm>
#include <tuple>

#include "sources/host/collector.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

struct Address {
  std::string device;
  std::string address;
  bool ipv6 = false;
};

constexpr int64_t kRefreshMs = 30000;

class NetworkAddressCollector final : public SyncCollector {
 public:
  std::string gather_now(const CollectContext& ctx) override {
    if (ok_ && ctx.now_unix_ms >= listed_at_ms_ && ctx.now_unix_ms - listed_at_ms_ < kRefreshMs) {
      return "";
    }
    ok_ = false;
    uv_interface_address_t* list = nullptr;
    int n = 0;
    int rc = uv_interface_addresses(&list, &n);
    if (rc != 0) return std::string("uv_interface_addresses: ") + uv_strerror(rc);
    count_ = 0;
    for (int i = 0; i < n; ++i)
      add(list[i]);
    uv_free_interface_addresses(list, n);
    std::sort(addresses_.begin(), addresses_.begin() + static_cast<std::ptrdiff_t>(count_),
              [](const Address& a, const Address& b) {
                return std::tie(a.device, a.ipv6, a.address) <
                       std::tie(b.device, b.ipv6, b.address);
              });
    ok_ = true;
    listed_at_ms_ = ctx.now_unix_ms;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"edgemon_host_network_address_info",
                "Addresses assigned to each network interface; value is always 1.", Type::kGauge});
    for (size_t i = 0; i < count_; ++i) {
      const Address& a = addresses_[i];
      sink.sample(
          {{"address", a.address}, {"device", a.device}, {"family", a.ipv6 ? "ipv6" : "ipv4"}}, 1);
    }
  }

 private:
  void add(const uv_interface_address_t& ifa) {
    char text[INET6_ADDRSTRLEN] = {};
    bool ipv6 = ifa.address.address4.sin_family == AF_INET6;
    int rc = ipv6 ? uv_ip6_name(&ifa.address.address6, text, sizeof text)
                  : uv_ip4_name(&ifa.address.address4, text, sizeof text);
    if (rc != 0) return;
    if (count_ == addresses_.size()) addresses_.emplace_back();
    Address& a = addresses_[count_++];
    a.device.assign(ifa.name);
    a.address.assign(text);
    a.ipv6 = ipv6;
  }

  std::vector<Address> addresses_;  // the first count_ are this collection's
  size_t count_ = 0;
  int64_t listed_at_ms_ = 0;
  bool ok_ = false;
};

const Registration kReg{"network_address", [](const config::Config&, std::string*) {
                          return std::unique_ptr<Collector>(new NetworkAddressCollector());
                        }};

}  // namespace
}  // namespace edgemon::collect
