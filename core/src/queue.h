// A stream's bounded event queue: filled in batches by the I/O thread, drained by any number of
// consumer threads. Bounded twice: by count (queue.max_events) and by payload bytes
// (queue.max_bytes; see event_bytes()); reaching either is "full".
// It owns the level-triggered fd (an eventfd) that is readable while events wait or the stream
// has ended, and it decides backpressure: when full, the producer is told to pause,
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
#include "level_fd.h"

namespace tidewire::detail {

struct EventDeleter {
  void operator()(tw_event* e) const { delete e; }
};
using EventPtr = std::unique_ptr<tw_event, EventDeleter>;

enum class Overflow { pause, drop_oldest };

// What an event costs against queue.max_bytes: its data, id, type and header names and values.
uint64_t event_bytes(const tw_event& e);

class EventQueue {
 public:
  // max_bytes: payload bytes held at most (see event_bytes); one event larger than that is still
  // accepted into an empty queue, so that nothing is stuck.
  EventQueue(size_t capacity, Overflow overflow, uint64_t max_bytes = UINT64_MAX);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Producer side (I/O thread). Takes every event of the batch: with `pause` the queue may exceed
  // its capacity by one batch, never more, because the producer stops reading once told so.
  // Returns true when the producer must pause (the queue is at or above capacity).
  // `refill`, when given, receives the blocks consumers gave back (recycle), for the producer's
  // next events.
  bool push_batch(std::vector<EventPtr>& batch, BlockCache* refill = nullptr);
  // Status events count against the capacity too (a failing stream must not grow the queue), but
  // the terminal one (CLOSED / ERROR) is always queued, over any limit, and never evicted (so is
  // AUTH_REQUIRED, which the stream waits on the application to act upon). When
  // the queue is full, an OPEN / RECONNECTING status replaces the not-yet-consumed OPEN /
  // RECONNECTING at the tail if there is one (the newest state wins), otherwise it is dropped and
  // counted in dropped(). Nothing is queued after the terminal status.
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
  // Destroys events a consumer is done with and keeps their blocks for push_batch's refill
  // (bounded: what does not fit is freed). Entries may be null.
  void recycle(tw_event* const* events, size_t count);

  // The readiness descriptor, made on the first call; -1 if it cannot be made (e.g. EMFILE).
  int fd() const;
  size_t depth() const;
  uint64_t bytes() const;
  uint64_t peak() const;
  uint64_t dropped() const;
  uint64_t pauses() const;
  bool ended() const;

 private:
  bool readable_locked() const;
  void update_fd_locked() const;
  bool full_locked() const;
  void append_locked(EventPtr event);
  void pop_front_locked();

  const size_t capacity_;
  const Overflow overflow_;
  const uint64_t max_bytes_;
  mutable std::mutex mutex_;
  mutable LevelFd fd_;
  std::condition_variable cv_;
  Fifo<EventPtr> events_;
  std::function<void()> resume_hook_;
  BlockCache returned_;
  bool ended_ = false;
  bool paused_ = false;
  bool terminal_queued_ = false;
  uint64_t bytes_ = 0;
  // The last event queued, while it is still queued (its object does not move): a status there
  // may be coalesced with the next one.
  tw_event* tail_ = nullptr;
  uint64_t pending_wakeups_ = 0;
  uint64_t peak_ = 0;
  uint64_t dropped_ = 0;
  uint64_t pauses_ = 0;
};

}  // namespace tidewire::detail
