#include "http/message_digest.hpp"

#include <openssl/evp.h>

#include "core/shared_library.hpp"

namespace edgemon::http {
namespace {

struct Crypto {
  const EVP_MD* (*md5)() = nullptr;
  const EVP_MD* (*sha256)() = nullptr;
  int (*digest)(const void*, size_t, unsigned char*, unsigned int*, const EVP_MD*,
                ENGINE*) = nullptr;
  std::string error;
};

Crypto load() {
  Crypto c;
  // Never closed, as in openssl_library.cpp: OpenSSL keeps atexit handlers.
  SharedLibrary crypto("libcrypto.so.3", "libssl3");
  if (!crypto.bind("EVP_md5", &c.md5) || !crypto.bind("EVP_sha256", &c.sha256) ||
      !crypto.bind("EVP_Digest", &c.digest)) {
    c.error = crypto.error();
  }
  return c;
}

}  // namespace

std::optional<std::string> hex_digest(DigestAlgorithm algorithm, std::string_view bytes,
                                      std::string* error) {
  static const Crypto crypto = load();
  if (!crypto.error.empty()) {
    if (error != nullptr) *error = crypto.error;
    return std::nullopt;
  }
  const EVP_MD* md = algorithm == DigestAlgorithm::kMd5 ? crypto.md5() : crypto.sha256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (md == nullptr || crypto.digest(bytes.data(), bytes.size(), out, &size, md, nullptr) != 1) {
    if (error != nullptr) *error = "libcrypto could not compute the digest";
    return std::nullopt;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xf];
  }
  return hex;
}

}  // namespace edgemon::http
