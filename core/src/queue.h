// A stream's bounded event queue: filled in batches by the I/O thread, drained by any number of
// consumer threads. It owns the level-triggered fd (an eventfd) that is readable while events wait
// or the stream has ended, and it decides backpressure: when full, the producer is told to pause,
// and the consumer that makes room again calls the resume hook.
//
// The eventfd is made on the first fd() call: a consumer that only blocks in pop() (most C and
// Python-sync code) costs no descriptor per stream, and no eventfd write/read per batch.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "event.h"
#include "fifo.h"

namespace tidewire::detail {

struct EventDeleter {
  void operator()(tw_event* e) const { delete e; }
};
using EventPtr = std::unique_ptr<tw_event, EventDeleter>;

enum class Overflow { pause, drop_oldest };

class EventQueue {
 public:
  EventQueue(size_t capacity, Overflow overflow);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Producer side (I/O thread). Takes every event of the batch: with `pause` the queue may exceed
  // its capacity by one batch, never more, because the producer stops reading once told so.
  // Returns true when the producer must pause (the queue is at or above capacity).
  bool push_batch(std::vector<EventPtr>& batch);
  // Status events bypass the capacity: they are few and must not be dropped.
  void push_status(EventPtr event);
  // Marks the end: consumers drain what is queued, then get TW_ERR_CLOSED.
  void end();
  // True while the producer is paused and waiting for room.
  bool paused() const;
  // Called (on a consumer thread, outside the lock) when room has been made after a pause.
  void set_resume_hook(std::function<void()> hook);

  // Consumer side (any thread). Returns TW_OK, TW_ERR_TIMEOUT, TW_ERR_WAKEUP or TW_ERR_CLOSED.
  tw_err pop(std::vector<EventPtr>& out, size_t max, int timeout_ms);
  void wakeup();

  // The readiness descriptor, made on the first call; -1 if it cannot be made (e.g. EMFILE).
  int fd() const;
  size_t depth() const;
  uint64_t peak() const;
  uint64_t dropped() const;
  uint64_t pauses() const;
  bool ended() const;

 private:
  void update_fd_locked() const;

  const size_t capacity_;
  const Overflow overflow_;
  mutable std::mutex mutex_;
  mutable int fd_ = -1;
  mutable bool fd_readable_ = false;
  std::condition_variable cv_;
  Fifo<EventPtr> events_;
  std::function<void()> resume_hook_;
  bool ended_ = false;
  bool paused_ = false;
  uint64_t pending_wakeups_ = 0;
  uint64_t peak_ = 0;
  uint64_t dropped_ = 0;
  uint64_t pauses_ = 0;
};

}  // namespace tidewire::detail
