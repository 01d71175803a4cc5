// A uv timer that may be disposed of at any time by its owner: the handle frees itself once libuv
// has closed it, so the owner can be deleted right after dispose() without waiting for the close.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace tidewire::detail {

class Timer {
 public:
  // I/O thread only.
  Timer(uv_loop_t* loop, std::function<void()> on_fire);
  ~Timer();  // disposes
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(uint64_t delay_ms);
  void stop();
  bool active() const;

 private:
  struct Handle {
    uv_timer_t timer;
    std::function<void()> on_fire;
    bool disposed;
  };
  Handle* handle_;
};

}  // namespace tidewire::detail
