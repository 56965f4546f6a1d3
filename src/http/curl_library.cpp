#include "http/curl_library.hpp"

#include <dlfcn.h>

namespace edgemon::http {
namespace {

struct Loaded {
  CurlLibrary library{};
  std::string error;
};

template <typename F>
bool bind(void* handle, const char* name, F* out, std::string* error) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    *error = std::string("libcurl lacks ") + name;
    return false;
  }
  *out = reinterpret_cast<F>(symbol);
  return true;
}

Loaded load() {
  Loaded l;
  // Never closed: curl keeps threads (DNS) and OpenSSL state that must not
  // be unmapped under them.
  void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = dlerror();
    l.error = std::string("cannot load libcurl (Debian package libcurl4): ") +
              (why != nullptr ? why : "unknown error");
    return l;
  }
  CurlLibrary& c = l.library;
  std::string& e = l.error;
  CURLcode (*global_init)(long) = nullptr;
  bool ok = bind(h, "curl_global_init", &global_init, &e) &&
            bind(h, "curl_easy_init", &c.easy_init, &e) &&
            bind(h, "curl_easy_cleanup", &c.easy_cleanup, &e) &&
            bind(h, "curl_easy_setopt", &c.easy_setopt, &e) &&
            bind(h, "curl_easy_getinfo", &c.easy_getinfo, &e) &&
            bind(h, "curl_easy_strerror", &c.easy_strerror, &e) &&
            bind(h, "curl_multi_init", &c.multi_init, &e) &&
            bind(h, "curl_multi_cleanup", &c.multi_cleanup, &e) &&
            bind(h, "curl_multi_setopt", &c.multi_setopt, &e) &&
            bind(h, "curl_multi_add_handle", &c.multi_add_handle, &e) &&
            bind(h, "curl_multi_remove_handle", &c.multi_remove_handle, &e) &&
            bind(h, "curl_multi_socket_action", &c.multi_socket_action, &e) &&
            bind(h, "curl_multi_info_read", &c.multi_info_read, &e) &&
            bind(h, "curl_multi_assign", &c.multi_assign, &e) &&
            bind(h, "curl_multi_strerror", &c.multi_strerror, &e) &&
            bind(h, "curl_slist_append", &c.slist_append, &e) &&
            bind(h, "curl_slist_free_all", &c.slist_free_all, &e) &&
            bind(h, "curl_getdate", &c.getdate, &e);
  if (!ok) return l;
  // curl_global_init is not thread-safe; the static in curl_library() runs
  // this exactly once.
  if (CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    e = std::string("curl_global_init failed: ") + c.easy_strerror(rc);
  }
  return l;
}

}  // namespace

const CurlLibrary* curl_library(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) {
    if (error != nullptr) *error = loaded.error;
    return nullptr;
  }
  return &loaded.library;
}

}  // namespace edgemon::http
