#include "core/net_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace edgemon {

bool IpAddress::parse(std::string_view text, IpAddress* out) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.family = AF_INET6;
  } else {
    return false;
  }
  *out = a;
  return true;
}

IpAddress IpAddress::from_sockaddr(const sockaddr* sa) {
  IpAddress a;
  if (sa->sa_family == AF_INET) {
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
      a.family = AF_INET;
      std::memcpy(a.bytes.data(), in6->s6_addr + 12, 4);
    } else {
      a.family = AF_INET6;
      std::memcpy(a.bytes.data(), in6->s6_addr, 16);
    }
  }
  return a;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family == AF_INET || family == AF_INET6) inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
  // FNV-1a over the significant bytes: cheap and good enough for a table of
  // client addresses.
  uint64_t h = 1469598103934665603ULL ^ static_cast<uint64_t>(a.family);
  for (size_t i = 0; i < a.length(); ++i) {
    h ^= a.bytes[i];
    h *= 1099511628211ULL;
  }
  return static_cast<size_t>(h);
}

std::string CidrBlock::parse(std::string_view text, CidrBlock* out) {
  std::string_view addr = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty()) {
      return "invalid prefix length in '" + std::string(text) + "'";
    }
  }
  CidrBlock block;
  if (!IpAddress::parse(addr, &block.network_)) {
    return "invalid address in '" + std::string(text) + "' (expected e.g. 10.0.0.0/8 or fd00::/8)";
  }
  int max_bits = static_cast<int>(block.network_.length() * 8);
  if (prefix < 0) prefix = max_bits;
  if (prefix > max_bits) {
    return "prefix length " + std::to_string(prefix) + " is longer than " +
           std::to_string(max_bits) + " in '" + std::string(text) + "'";
  }
  block.prefix_ = prefix;
  for (int bit = prefix; bit < max_bits; ++bit) {
    if (block.network_.bytes[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
      return "'" + std::string(text) + "' has host bits set below the /" + std::to_string(prefix) +
             " prefix";
    }
  }
  *out = block;
  return "";
}

bool CidrBlock::contains(const IpAddress& address) const {
  if (address.family != network_.family) return false;
  int full = prefix_ / 8;
  if (std::memcmp(address.bytes.data(), network_.bytes.data(), static_cast<size_t>(full)) != 0) {
    return false;
  }
  int rest = prefix_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[static_cast<size_t>(full)] & mask) ==
         (network_.bytes[static_cast<size_t>(full)] & mask);
}

std::string CidrBlock::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_);
}

std::string ListenAddress::parse(std::string_view text, ListenAddress* out) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return "expected [IPv6]:PORT, got '" + std::string(text) + "'";
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return "expected HOST:PORT, got '" + std::string(text) + "'";
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "IPv6 addresses need brackets: [" + std::string(host) + "]:PORT";
    }
  }
  if (host == "localhost") host = "127.0.0.1";
  IpAddress ip;
  if (!IpAddress::parse(host, &ip)) {
    return "'" + std::string(host) +
           "' is not an IP address (use 127.0.0.1, 0.0.0.0, [::1] or [::])";
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) {
    return "port must be 0-65535, got '" + std::string(port) + "'";
  }
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(value);
  return "";
}

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string check_cidr(std::string_view text) {
  CidrBlock block;
  return CidrBlock::parse(text, &block);
}

std::string check_listen_address(std::string_view text) {
  ListenAddress address;
  return ListenAddress::parse(text, &address);
}

}  // namespace edgemon
