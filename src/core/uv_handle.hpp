#pragma once
// RAII ownership of libuv handles.
//
// libuv requires a handle's memory to stay valid until its close callback has
// run, which happens on a later loop iteration. So the handle lives on the
// heap, and the owner's destructor only *starts* the close; the close callback
// frees the memory. Before closing we clear `data`, so no callback can reach
// an owner that no longer exists (libuv delivers none after uv_close except
// the close callback itself).
#include <uv.h>

#include <utility>

namespace edgemon {

template <typename T>
class UvHandle {
 public:
  UvHandle() : handle_(new T{}) {}
  ~UvHandle() { close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)),
        initialized_(std::exchange(other.initialized_, false)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, nullptr);
      initialized_ = std::exchange(other.initialized_, false);
    }
    return *this;
  }

  T* get() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }

  // Call after a successful uv_*_init so the destructor knows to uv_close.
  void mark_initialized() { initialized_ = true; }
  bool initialized() const { return initialized_; }

  void close() {
    if (handle_ == nullptr) return;
    if (initialized_) {
      uv_handle_t* h = base();
      h->data = nullptr;
      if (!uv_is_closing(h)) {
        uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
      }
      // If someone else already started the close, their callback owns the memory.
    } else {
      delete handle_;
    }
    handle_ = nullptr;
    initialized_ = false;
  }

 private:
  T* handle_;
  bool initialized_ = false;
};

}  // namespace edgemon
