#include "http/openssl_library.hpp"

#include <dlfcn.h>

namespace edgemon::http {
namespace {

struct Loaded {
  OpensslLibrary library{};
  std::string error;
};

template <typename F>
bool bind(void* handle, const char* soname, const char* name, F* out, std::string* error) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    *error = std::string(soname) + " lacks " + name;
    return false;
  }
  *out = reinterpret_cast<F>(symbol);
  return true;
}

void* open(const char* soname, std::string* error) {
  // Never closed: OpenSSL keeps per-thread state and atexit handlers that
  // must not be unmapped under them.
  void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = dlerror();
    *error = std::string("cannot load ") + soname +
             " (Debian package libssl3): " + (why != nullptr ? why : "unknown error");
  }
  return h;
}

bool bind_ssl(void* h, OpensslLibrary& o, std::string& e) {
  const char* so = "libssl.so.3";
  return bind(h, so, "TLS_client_method", &o.tls_client_method, &e) &&
         bind(h, so, "SSL_CTX_new", &o.ctx_new, &e) &&
         bind(h, so, "SSL_CTX_free", &o.ctx_free, &e) &&
         bind(h, so, "SSL_CTX_set_default_verify_paths", &o.ctx_set_default_verify_paths, &e) &&
         bind(h, so, "SSL_CTX_load_verify_locations", &o.ctx_load_verify_locations, &e) &&
         bind(h, so, "SSL_CTX_ctrl", &o.ctx_ctrl, &e) && bind(h, so, "SSL_new", &o.ssl_new, &e) &&
         bind(h, so, "SSL_free", &o.ssl_free, &e) && bind(h, so, "SSL_set_bio", &o.set_bio, &e) &&
         bind(h, so, "SSL_set_connect_state", &o.set_connect_state, &e) &&
         bind(h, so, "SSL_set_verify", &o.set_verify, &e) &&
         bind(h, so, "SSL_do_handshake", &o.do_handshake, &e) &&
         bind(h, so, "SSL_read", &o.read, &e) && bind(h, so, "SSL_write", &o.write, &e) &&
         bind(h, so, "SSL_get_error", &o.get_error, &e) &&
         bind(h, so, "SSL_ctrl", &o.ssl_ctrl, &e) &&
         bind(h, so, "SSL_get0_param", &o.get0_param, &e) &&
         bind(h, so, "SSL_get_verify_result", &o.get_verify_result, &e);
}

bool bind_crypto(void* h, OpensslLibrary& o, std::string& e) {
  const char* so = "libcrypto.so.3";
  return bind(h, so, "BIO_s_mem", &o.bio_s_mem, &e) && bind(h, so, "BIO_new", &o.bio_new, &e) &&
         bind(h, so, "BIO_free", &o.bio_free, &e) && bind(h, so, "BIO_read", &o.bio_read, &e) &&
         bind(h, so, "BIO_write", &o.bio_write, &e) &&
         bind(h, so, "BIO_ctrl_pending", &o.bio_ctrl_pending, &e) &&
         bind(h, so, "ERR_get_error", &o.err_get_error, &e) &&
         bind(h, so, "ERR_error_string_n", &o.err_error_string_n, &e) &&
         bind(h, so, "ERR_clear_error", &o.err_clear_error, &e) &&
         bind(h, so, "X509_VERIFY_PARAM_set1_host", &o.param_set1_host, &e) &&
         bind(h, so, "X509_VERIFY_PARAM_set1_ip_asc", &o.param_set1_ip_asc, &e) &&
         bind(h, so, "X509_verify_cert_error_string", &o.verify_cert_error_string, &e);
}

Loaded load() {
  Loaded l;
  void* ssl = open("libssl.so.3", &l.error);
  if (ssl == nullptr) return l;
  void* crypto = open("libcrypto.so.3", &l.error);
  if (crypto == nullptr) return l;
  if (!bind_ssl(ssl, l.library, l.error) || !bind_crypto(crypto, l.library, l.error)) return l;
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
