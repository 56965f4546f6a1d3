#pragma once
// HTTP Digest access authentication (RFC 7616), the client side, on top of
// HttpClient (which knows only Basic): a 401's WWW-Authenticate challenge is
// parsed, and every later request of the same exchange carries an
// Authorization header computed from it. Shelly Gen2+ plugs require this
// (SHA-256, qop=auth); MD5 is accepted for other servers of the RFC.
//
// Not supported: the -sess algorithms, qop=auth-int, SHA-512-256 and
// userhash; a challenge asking for them is refused with a reason.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message_digest.hpp"

namespace edgemon::http {

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;  // echoed back when present
  bool has_opaque = false;
  bool qop_auth = false;  // qop offered and includes "auth"; false: RFC 2069 style
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;  // RFC default when absent
  bool stale = false;
};

// The first usable Digest challenge among a response's WWW-Authenticate
// values, preferring SHA-256 over MD5; nullopt with *error saying why
// (no Digest challenge, an unsupported algorithm, no nonce...).
std::optional<DigestChallenge> parse_digest_challenge(const std::vector<std::string>& values,
                                                      std::string* error);

// The challenge of one server, and the count of requests made with its
// nonce (RFC 7616 nc): a server that allows reusing a nonce (Shelly from
// firmware 2.0) then needs one request per poll instead of two.
class DigestSession {
 public:
  DigestSession(std::string username, std::string password)
      : username_(std::move(username)), password_(std::move(password)) {}

  void set_challenge(DigestChallenge challenge) {
    challenge_ = std::move(challenge);
    nonce_count_ = 0;
  }
  void forget_challenge() { challenge_.reset(); }
  bool has_challenge() const { return challenge_.has_value(); }

  // "Authorization: Digest ..." for `method` and `uri` (the request-target,
  // path and query), counting one more use of the nonce; nullopt with
  // *error when there is no challenge or no digest could be computed.
  // `cnonce` is the client's nonce: random in use, fixed in tests.
  std::optional<std::string> authorization(std::string_view method, std::string_view uri,
                                           std::string_view cnonce, std::string* error);

 private:
  std::string username_;
  std::string password_;
  std::optional<DigestChallenge> challenge_;
  uint32_t nonce_count_ = 0;
};

// A fresh client nonce: 16 random bytes in hex.
std::string random_cnonce();

}  // namespace edgemon::http
