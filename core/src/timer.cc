#include "timer.h"

#include "log.h"

namespace tidewire::detail {

Timer::Timer(uv_loop_t* loop, std::function<void()> on_fire) : handle_(new Handle{{}, std::move(on_fire), false}) {
  uv_timer_init(loop, &handle_->timer);
  handle_->timer.data = handle_;
}

Timer::~Timer() {
  // The callback may be running right now (it may be what deletes the owner), so it is only
  // marked; the handle and the callback go away in the close callback.
  handle_->disposed = true;
  uv_timer_stop(&handle_->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::start(uint64_t delay_ms) {
  uv_timer_start(
      &handle_->timer,
      [](uv_timer_t* t) {
        auto* h = static_cast<Handle*>(t->data);
        if (!h->disposed) run_contained("a timer callback", h->on_fire);
      },
      delay_ms, 0);
}

void Timer::stop() { uv_timer_stop(&handle_->timer); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0; }

}  // namespace tidewire::detail
