#pragma once
// OpenSSL's libssl and libcrypto, loaded with dlopen() by the first https://
// request.
//
// A daemon that sends only plain http:// (or nothing) never maps them: they
// are 5 MiB of mappings and about 1 MiB of resident memory once initialised,
// which on a 1 GiB board is more than edgemon's own heap. The headers give
// the prototypes and constants; the symbols are bound once, here.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string>

namespace edgemon::http {

struct OpensslLibrary {
  // libssl
  const SSL_METHOD* (*tls_client_method)();
  SSL_CTX* (*ctx_new)(const SSL_METHOD*);
  void (*ctx_free)(SSL_CTX*);
  int (*ctx_set_default_verify_paths)(SSL_CTX*);
  int (*ctx_load_verify_locations)(SSL_CTX*, const char*, const char*);
  long (*ctx_ctrl)(SSL_CTX*, int, long, void*);
  SSL* (*ssl_new)(SSL_CTX*);
  void (*ssl_free)(SSL*);
  void (*set_bio)(SSL*, BIO*, BIO*);
  void (*set_connect_state)(SSL*);
  void (*set_verify)(SSL*, int, SSL_verify_cb);
  int (*do_handshake)(SSL*);
  int (*read)(SSL*, void*, int);
  int (*write)(SSL*, const void*, int);
  int (*get_error)(const SSL*, int);
  long (*ssl_ctrl)(SSL*, int, long, void*);
  X509_VERIFY_PARAM* (*get0_param)(SSL*);
  long (*get_verify_result)(const SSL*);
  // libcrypto
  const BIO_METHOD* (*bio_s_mem)();
  BIO* (*bio_new)(const BIO_METHOD*);
  int (*bio_free)(BIO*);
  int (*bio_read)(BIO*, void*, int);
  int (*bio_write)(BIO*, const void*, int);
  size_t (*bio_ctrl_pending)(BIO*);
  unsigned long (*err_get_error)();
  void (*err_error_string_n)(unsigned long, char*, size_t);
  void (*err_clear_error)();
  int (*param_set1_host)(X509_VERIFY_PARAM*, const char*, size_t);
  int (*param_set1_ip_asc)(X509_VERIFY_PARAM*, const char*);
  const char* (*verify_cert_error_string)(long);
};

// The loaded library, or null with *error saying why (libssl3 missing, say).
// Loads at most once; thread-safe.
const OpensslLibrary* openssl_library(std::string* error = nullptr);

}  // namespace edgemon::http
