#include "core/signal_watcher.hpp"

namespace edgemon {

SignalWatcher::SignalWatcher(uv_loop_t* loop, int signum, std::function<void()> callback)
    : callback_(std::move(callback)) {
  if (uv_signal_init(loop, handle_.get()) != 0) return;
  handle_.mark_initialized();
  handle_.get()->data = this;
  uv_signal_start(
      handle_.get(),
      [](uv_signal_t* s, int) {
        if (auto* self = static_cast<SignalWatcher*>(s->data)) self->callback_();
      },
      signum);
}

void SignalWatcher::unref() {
  uv_unref(handle_.base());
}

}  // namespace edgemon
