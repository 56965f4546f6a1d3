#pragma once
// /proc/net/dev: two header lines, then "iface: 8 receive + 8 transmit
// counters". Large counters leave no blank after the colon
// ("eth0:1234567890 ..."), so the name ends at the last ':' of the line.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::collect {

enum NetDevField : size_t {
  kRxBytes,
  kRxPackets,
  kRxErrs,
  kRxDrop,
  kRxFifo,
  kRxFrame,
  kRxCompressed,
  kRxMulticast,
  kTxBytes,
  kTxPackets,
  kTxErrs,
  kTxDrop,
  kTxFifo,
  kTxColls,
  kTxCarrier,
  kTxCompressed,
  kNetDevFieldCount
};

struct NetDevStats {
  std::string_view name;  // points into the parsed text
  std::array<uint64_t, kNetDevFieldCount> values{};
};

// Fills *out in file order (reusing its capacity). Header lines (those with
// a '|') are skipped. Returns "" or the first malformed line, which is left
// out.
std::string parse_net_dev(std::string_view text, std::vector<NetDevStats>* out);

}  // namespace edgemon::collect
