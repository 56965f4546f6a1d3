#include "sources/host/parse/net_dev.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {
namespace {

bool parse_line(std::string_view line, NetDevStats* d) {
  size_t colon = line.rfind(':');
  if (colon == std::string_view::npos) return false;
  d->name = scan::trim(line.substr(0, colon));
  if (d->name.empty()) return false;
  std::string_view rest = line.substr(colon + 1);
  std::string_view field;
  size_t n = 0;
  while (scan::next_field(&rest, &field)) {
    if (n == kNetDevFieldCount || !scan::to_u64(field, &d->values[n])) return false;
    ++n;
  }
  return n == kNetDevFieldCount;
}

}  // namespace

std::string parse_net_dev(std::string_view text, std::vector<NetDevStats>* out) {
  out->clear();
  return scan::parse_lines(text, "expected \"iface: 16 counters\"", [out](std::string_view line) {
    if (line.find('|') != std::string_view::npos) return true;  // the two header lines
    NetDevStats d;
    if (!parse_line(line, &d)) return false;
    out->push_back(d);
    return true;
  });
}

}  // namespace edgemon::collect
