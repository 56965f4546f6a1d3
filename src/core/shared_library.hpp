#pragma once
// A library that only some configurations need, opened with dlopen() the
// first time one of them needs it instead of being linked, so that a daemon
// configured without it never maps it (libsnappy and libprotobuf-c for
// remote_write). Its prototypes come from its headers; the symbols are bound
// to function pointers once, by the loader of that library.
#include <string>

namespace edgemon {

class SharedLibrary {
 public:
  // Opens `soname` (as the dynamic linker would find it). On failure every
  // bind() fails and error() names `package`, the Debian package to install.
  SharedLibrary(const char* soname, const char* package);
  // Not closed: the function pointers bound from it are kept for the life of
  // the process, and a library's own state must not be unmapped under them.
  ~SharedLibrary() = default;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  // Binds the symbol `name` to *out; false, with error() saying why, when
  // the library did not load or lacks it.
  template <typename F>
  bool bind(const char* name, F* out) {
    void* symbol = find(name);
    if (symbol == nullptr) return false;
    *out = reinterpret_cast<F>(symbol);
    return true;
  }

  // Why the library or the last symbol asked for could not be had, or "".
  const std::string& error() const { return error_; }

 private:
  void* find(const char* name);

  std::string soname_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace edgemon
