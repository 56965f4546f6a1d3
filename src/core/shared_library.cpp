#include "core/shared_library.hpp"

#include <dlfcn.h>

namespace edgemon {

SharedLibrary::SharedLibrary(const char* soname, const char* package) : soname_(soname) {
  // RTLD_LOCAL: the symbols are reached through the pointers bound here and
  // must not resolve anything else in the process.
  handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = dlerror();
    error_ = "cannot load " + soname_ + " (Debian package " + package +
             "): " + (why != nullptr ? why : "unknown error");
  }
}

void* SharedLibrary::find(const char* name) {
  if (handle_ == nullptr) return nullptr;  // error_ says why already
  void* symbol = dlsym(handle_, name);
  if (symbol == nullptr) error_ = soname_ + " lacks " + name;
  return symbol;
}

}  // namespace edgemon
