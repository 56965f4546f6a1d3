#pragma once
// IP addresses, CIDR blocks and listen addresses as operators write them.
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon {

// An IPv4 or IPv6 address in network byte order. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d, as dual-stack sockets report IPv4 peers) are stored as
// IPv4 so that a v4 allowlist entry matches them.
struct IpAddress {
  int family = AF_UNSPEC;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  static bool parse(std::string_view text, IpAddress* out);
  static IpAddress from_sockaddr(const sockaddr* sa);
  std::string to_string() const;
  size_t length() const { return family == AF_INET ? 4 : 16; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct IpAddressHash {
  size_t operator()(const IpAddress& a) const noexcept;
};

class CidrBlock {
 public:
  // Accepts "10.0.0.0/8", "fd00::/8" and bare addresses (a /32 or /128).
  // Host bits set below the prefix are an error ("10.0.0.1/8"), as they
  // usually mean a typo.
  static std::string parse(std::string_view text, CidrBlock* out);
  bool contains(const IpAddress& address) const;
  std::string to_string() const;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

struct ListenAddress {
  std::string host;  // literal IP, brackets removed for IPv6
  uint16_t port = 0;
  // "127.0.0.1:9110", "[::1]:9110", "0.0.0.0:9110", "[::]:9110".
  static std::string parse(std::string_view text, ListenAddress* out);
  std::string to_string() const;
};

// StringCheck-compatible validators for configuration keys.
std::string check_cidr(std::string_view text);
std::string check_listen_address(std::string_view text);

}  // namespace edgemon
