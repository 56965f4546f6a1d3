#pragma once
// libcurl, loaded with dlopen() when the first outbound request needs it.
//
// Linking libcurl costs every edgemon about 8 MiB of resident memory: its
// thirty dependencies (OpenSSL, GnuTLS via librtmp, Kerberos, LDAP...) are
// mapped and relocated at start, and initialising OpenSSL allocates more.
// Most boards only serve /metrics and never make a request, and 8 MiB is
// more than the whole daemon; so the library is loaded on demand, once.
#include <curl/curl.h>

#include <ctime>
#include <string>

namespace edgemon::http {

struct CurlLibrary {
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  CURLM* (*multi_init)();
  CURLMcode (*multi_cleanup)(CURLM*);
  CURLMcode (*multi_setopt)(CURLM*, CURLMoption, ...);
  CURLMcode (*multi_add_handle)(CURLM*, CURL*);
  CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
  CURLMcode (*multi_socket_action)(CURLM*, curl_socket_t, int, int*);
  CURLMsg* (*multi_info_read)(CURLM*, int*);
  CURLMcode (*multi_assign)(CURLM*, curl_socket_t, void*);
  const char* (*multi_strerror)(CURLMcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
  time_t (*getdate)(const char*, const time_t*);
};

// The loaded and initialised library, or null with *error saying why (the
// libcurl4 package missing, say). Loads at most once; thread-safe.
const CurlLibrary* curl_library(std::string* error = nullptr);

}  // namespace edgemon::http
