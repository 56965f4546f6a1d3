#pragma once
// TLS for one client connection, with OpenSSL working on memory buffers
// only: the connection hands it the bytes libuv read and sends what it
// produces, so OpenSSL never touches a socket and never blocks the loop.
#include <cstddef>
#include <memory>
#include <string>

#include "http/openssl_library.hpp"

namespace edgemon::http {

// What every connection with the same CA file and verification setting
// shares: the CA store is read once, not per connection.
class TlsContext {
 public:
  // Null with *error set when OpenSSL cannot be loaded or the CA file read.
  static std::shared_ptr<TlsContext> create(const std::string& ca_file, bool verify,
                                            std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  bool verify() const { return verify_; }

 private:
  TlsContext(const OpensslLibrary* lib, SSL_CTX* ctx, bool verify)
      : lib_(lib), ctx_(ctx), verify_(verify) {}
  const OpensslLibrary* lib_;
  SSL_CTX* ctx_;
  bool verify_;
};

class TlsSession {
 public:
  enum class Status { kOk, kWantMore, kClosed, kError };

  // `host` is the URL's host: sent as SNI (names only) and checked against
  // the certificate (names and IP addresses) when the context verifies.
  static std::unique_ptr<TlsSession> create(std::shared_ptr<TlsContext> context,
                                            const std::string& host, bool host_is_ip,
                                            std::string* error);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext from the peer.
  bool received(const char* data, size_t len);
  // kOk once the handshake is done; kWantMore until then.
  Status handshake();
  // Plaintext into buf: kOk with *n > 0, kWantMore when more ciphertext is
  // needed, kClosed at the peer's close_notify.
  Status read(char* buf, size_t cap, size_t* n);
  // Encrypts all of `data` (the output buffer grows to hold it).
  Status write(const char* data, size_t len);
  // Ciphertext to send: moves out what OpenSSL produced so far.
  std::string take_output();
  size_t pending_output() const;

  // Why the last call failed, in an operator's words.
  const std::string& error() const { return error_; }

 private:
  TlsSession(const OpensslLibrary* lib, std::shared_ptr<TlsContext> context, SSL* ssl, BIO* in,
             BIO* out)
      : lib_(lib), context_(std::move(context)), ssl_(ssl), in_(in), out_(out) {}
  Status failed(int rc, const char* what);

  const OpensslLibrary* lib_;
  std::shared_ptr<TlsContext> context_;
  SSL* ssl_;
  BIO* in_;   // owned by ssl_
  BIO* out_;  // owned by ssl_
  std::string error_;
};

}  // namespace edgemon::http
