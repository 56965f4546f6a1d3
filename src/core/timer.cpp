#include "core/timer.hpp"

#include <cassert>

namespace edgemon {

Timer::Timer(uv_loop_t* loop) {
  int rc = uv_timer_init(loop, handle_.get());
  assert(rc == 0);  // uv_timer_init cannot fail on a valid loop.
  (void)rc;
  handle_.mark_initialized();
  handle_.get()->data = this;
}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> callback) {
  callback_ = std::move(callback);
  uv_timer_start(
      handle_.get(),
      [](uv_timer_t* t) {
        if (auto* self = static_cast<Timer*>(t->data)) self->callback_();
      },
      timeout_ms, repeat_ms);
}

void Timer::stop() {
  uv_timer_stop(handle_.get());
}

bool Timer::active() const {
  return uv_is_active(handle_.base()) != 0;
}

void Timer::unref() {
  uv_unref(handle_.base());
}

void Timer::ref() {
  uv_ref(handle_.base());
}

}  // namespace edgemon
