#include "http/openssl_library.hpp"

#include "core/shared_library.hpp"

namespace edgemon::http {
namespace {

struct Loaded {
  OpensslLibrary library{};
  std::string error;
};

bool bind_ssl(SharedLibrary& h, OpensslLibrary& o) {
  return h.bind("TLS_client_method", &o.tls_client_method) && h.bind("SSL_CTX_new", &o.ctx_new) &&
         h.bind("SSL_CTX_free", &o.ctx_free) &&
         h.bind("SSL_CTX_set_default_verify_paths", &o.ctx_set_default_verify_paths) &&
         h.bind("SSL_CTX_load_verify_locations", &o.ctx_load_verify_locations) &&
         h.bind("SSL_CTX_ctrl", &o.ctx_ctrl) && h.bind("SSL_new", &o.ssl_new) &&
         h.bind("SSL_free", &o.ssl_free) && h.bind("SSL_set_bio", &o.set_bio) &&
         h.bind("SSL_set_connect_state", &o.set_connect_state) &&
         h.bind("SSL_set_verify", &o.set_verify) && h.bind("SSL_do_handshake", &o.do_handshake) &&
         h.bind("SSL_read", &o.read) && h.bind("SSL_write", &o.write) &&
         h.bind("SSL_get_error", &o.get_error) && h.bind("SSL_ctrl", &o.ssl_ctrl) &&
         h.bind("SSL_get0_param", &o.get0_param) &&
         h.bind("SSL_get_verify_result", &o.get_verify_result);
}

bool bind_crypto(SharedLibrary& h, OpensslLibrary& o) {
  return h.bind("BIO_s_mem", &o.bio_s_mem) && h.bind("BIO_new", &o.bio_new) &&
         h.bind("BIO_free", &o.bio_free) && h.bind("BIO_read", &o.bio_read) &&
         h.bind("BIO_write", &o.bio_write) && h.bind("BIO_ctrl_pending", &o.bio_ctrl_pending) &&
         h.bind("ERR_get_error", &o.err_get_error) &&
         h.bind("ERR_error_string_n", &o.err_error_string_n) &&
         h.bind("ERR_clear_error", &o.err_clear_error) &&
         h.bind("X509_VERIFY_PARAM_set1_host", &o.param_set1_host) &&
         h.bind("X509_VERIFY_PARAM_set1_ip_asc", &o.param_set1_ip_asc) &&
         h.bind("X509_verify_cert_error_string", &o.verify_cert_error_string);
}

Loaded load() {
  Loaded l;
  // Never closed: OpenSSL keeps per-thread state and atexit handlers that
  // must not be unmapped under them.
  SharedLibrary ssl("libssl.so.3", "libssl3");
  if (!bind_ssl(ssl, l.library)) {
    l.error = ssl.error();
    return l;
  }
  SharedLibrary crypto("libcrypto.so.3", "libssl3");
  if (!bind_crypto(crypto, l.library)) {
    l.error = crypto.error();
    return l;
  }
  // OpenSSL 3 initialises itself on first use, thread-safely; nothing to
  // call here.
  return l;
}

}  // namespace

const OpensslLibrary* openssl_library(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) {
    if (error != nullptr) *error = loaded.error;
    return nullptr;
  }
  return &loaded.library;
}

}  // namespace edgemon::http
