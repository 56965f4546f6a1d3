#include "core/loop_close.hpp"

#include "core/log.hpp"

namespace edgemon {

int close_loop(uv_loop_t* loop, bool* closed) {
  uv_timer_t deadline;
  uv_timer_init(loop, &deadline);
  uv_timer_start(
      &deadline, [](uv_timer_t* t) { uv_stop(t->loop); }, 2000, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&deadline));
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  bool done = uv_loop_close(loop) == 0;
  if (closed != nullptr) *closed = done;
  if (done) return 0;
  int leaked = 0;
  uv_walk(
      loop,
      [](uv_handle_t* h, void* count) {
        if (uv_is_closing(h)) return;
        ++*static_cast<int*>(count);
        log::error("handle_leaked", {{"type", uv_handle_type_name(uv_handle_get_type(h))}});
      },
      &leaked);
  if (leaked == 0) log::warn("requests_abandoned", {{"reason", "thread-pool work still running"}});
  return leaked;
}

}  // namespace edgemon
