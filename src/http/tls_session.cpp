#include "http/tls_session.hpp"

#include <algorithm>
#include <climits>

namespace edgemon::http {

namespace {

// The first queued OpenSSL error as text, and the queue cleared: errors
// left behind would be reported against a later, unrelated call.
std::string take_error(const OpensslLibrary& lib) {
  unsigned long code = lib.err_get_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    lib.err_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  lib.err_clear_error();
  return text.empty() ? "unknown OpenSSL error" : text;
}

}  // namespace

std::shared_ptr<TlsContext> TlsContext::create(const std::string& ca_file, bool verify,
                                               std::string* error) {
  const OpensslLibrary* lib = openssl_library(error);
  if (lib == nullptr) return nullptr;
  lib->err_clear_error();
  SSL_CTX* ctx = lib->ctx_new(lib->tls_client_method());
  if (ctx == nullptr) {
    *error = "cannot create a TLS context: " + take_error(*lib);
    return nullptr;
  }
  std::shared_ptr<TlsContext> context(new TlsContext(lib, ctx, verify));
  // TLS 1.0 and 1.1 are broken and every server of ours speaks 1.2.
  lib->ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  // An idle kept-alive connection then holds no 34 KiB of record buffers.
  lib->ctx_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS, nullptr);
  if (!verify) return context;
  int ok = ca_file.empty() ? lib->ctx_set_default_verify_paths(ctx)
                           : lib->ctx_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  if (ok != 1) {
    *error = ca_file.empty() ? "cannot load the system's CA certificates: " + take_error(*lib)
                             : "cannot load the CA file " + ca_file + ": " + take_error(*lib);
    return nullptr;
  }
  return context;
}

TlsContext::~TlsContext() {
  lib_->ctx_free(ctx_);
}

std::unique_ptr<TlsSession> TlsSession::create(std::shared_ptr<TlsContext> context,
                                               const std::string& host, bool host_is_ip,
                                               std::string* error) {
  const OpensslLibrary* lib = openssl_library(error);
  if (lib == nullptr) return nullptr;
  lib->err_clear_error();
  SSL* ssl = lib->ssl_new(context->get());
  BIO* in = lib->bio_new(lib->bio_s_mem());
  BIO* out = lib->bio_new(lib->bio_s_mem());
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    *error = "cannot create a TLS session: " + take_error(*lib);
    if (ssl != nullptr) lib->ssl_free(ssl);
    if (in != nullptr) lib->bio_free(in);
    if (out != nullptr) lib->bio_free(out);
    return nullptr;
  }
  lib->set_bio(ssl, in, out);
  std::unique_ptr<TlsSession> session(new TlsSession(lib, context, ssl, in, out));
  lib->set_connect_state(ssl);
  bool ok = true;
  // SNI takes names only (RFC 6066); SSL_set_tlsext_host_name is a macro
  // over SSL_ctrl.
  if (!host_is_ip) {
    ok = lib->ssl_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                       const_cast<char*>(host.c_str())) == 1;
  }
  if (context->verify()) {
    lib->set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = lib->get0_param(ssl);
    ok = ok && (host_is_ip ? lib->param_set1_ip_asc(param, host.c_str())
                           : lib->param_set1_host(param, host.c_str(), host.size())) == 1;
  } else {
    lib->set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  if (!ok) {
    *error = "cannot set up TLS for " + host + ": " + take_error(*lib);
    return nullptr;
  }
  return session;
}

TlsSession::~TlsSession() {
  lib_->ssl_free(ssl_);  // frees both BIOs
}

bool TlsSession::received(const char* data, size_t len) {
  while (len > 0) {
    int chunk = static_cast<int>(std::min<size_t>(len, INT_MAX));
    int n = lib_->bio_write(in_, data, chunk);
    if (n <= 0) {
      error_ = "TLS: cannot buffer received data";
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

TlsSession::Status TlsSession::failed(int rc, const char* what) {
  int code = lib_->get_error(ssl_, rc);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return Status::kWantMore;
  if (code == SSL_ERROR_ZERO_RETURN) return Status::kClosed;
  long verify = lib_->get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    error_ = std::string("TLS certificate verification failed: ") +
             lib_->verify_cert_error_string(verify);
    lib_->err_clear_error();
  } else if (code == SSL_ERROR_SYSCALL) {
    // With memory BIOs this is the peer's stream ending mid-record.
    error_ = std::string("TLS ") + what + " failed: the connection ended unexpectedly";
    lib_->err_clear_error();
  } else {
    error_ = std::string("TLS ") + what + " failed: " + take_error(*lib_);
  }
  return Status::kError;
}

TlsSession::Status TlsSession::handshake() {
  lib_->err_clear_error();
  int rc = lib_->do_handshake(ssl_);
  return rc == 1 ? Status::kOk : failed(rc, "handshake");
}

TlsSession::Status TlsSession::read(char* buf, size_t cap, size_t* n) {
  *n = 0;
  lib_->err_clear_error();
  int rc = lib_->read(ssl_, buf, static_cast<int>(std::min<size_t>(cap, INT_MAX)));
  if (rc > 0) {
    *n = static_cast<size_t>(rc);
    return Status::kOk;
  }
  return failed(rc, "read");
}

TlsSession::Status TlsSession::write(const char* data, size_t len) {
  while (len > 0) {
    lib_->err_clear_error();
    int rc = lib_->write(ssl_, data, static_cast<int>(std::min<size_t>(len, INT_MAX)));
    if (rc <= 0) return failed(rc, "write");
    data += rc;
    len -= static_cast<size_t>(rc);
  }
  return Status::kOk;
}

std::string TlsSession::take_output() {
  std::string out;
  size_t pending = lib_->bio_ctrl_pending(out_);
  if (pending == 0) return out;
  out.resize(pending);
  int n = lib_->bio_read(out_, out.data(), static_cast<int>(std::min<size_t>(pending, INT_MAX)));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

size_t TlsSession::pending_output() const {
  return lib_->bio_ctrl_pending(out_);
}

}  // namespace edgemon::http
