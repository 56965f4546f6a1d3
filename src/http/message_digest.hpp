#pragma once
// MD5 and SHA-256 from OpenSSL's libcrypto, loaded with dlopen() by the
// first digest asked for (HTTP digest authentication of a Shelly plug with
// a password). Like libssl (openssl_library.hpp), libcrypto is several MiB
// of mappings a daemon without such a plug must never pay for; only
// libcrypto is loaded here, not libssl.
#include <optional>
#include <string>
#include <string_view>

namespace edgemon::http {

enum class DigestAlgorithm { kMd5, kSha256 };

// The lower-case hex digest of `bytes`, or nullopt with *error saying why
// (libcrypto missing, say).
std::optional<std::string> hex_digest(DigestAlgorithm algorithm, std::string_view bytes,
                                      std::string* error = nullptr);

}  // namespace edgemon::http
