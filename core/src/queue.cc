#include "queue.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <new>
#include <ctime>

namespace tidewire::detail {

namespace {
constexpr size_t kSmallestBlock = 256;
constexpr size_t kLargestBlock = size_t{1} << 20;
}  // namespace

size_t block_class(size_t bytes) {
  if (bytes <= kSmallestBlock) return 1;
  if (bytes > kLargestBlock) return 0;
  // 2^p < bytes <= 2^(p+1), in quarters of 2^p.
  const size_t p = 63 - static_cast<size_t>(__builtin_clzll(bytes - 1));
  const size_t quarter = size_t{1} << (p - 2);
  const size_t k = (bytes - (size_t{1} << p) + quarter - 1) / quarter;  // 1 .. 4
  return 1 + (p - 8) * 4 + k;
}

size_t block_size(size_t cls) {
  if (cls <= 1) return kSmallestBlock;
  const size_t p = 8 + (cls - 2) / 4;
  const size_t k = (cls - 2) % 4 + 1;
  return (size_t{1} << p) + k * (size_t{1} << (p - 2));
}

BlockCache::~BlockCache() {
  for (const Block& b : blocks_) ::operator delete(b.memory);
}

void* BlockCache::take(size_t cls) {
  // Most streams carry messages of one size: the class wanted is at the back, or near it.
  const size_t n = blocks_.size();
  for (size_t i = n; i > 0 && i + 8 > n; --i) {
    if (blocks_[i - 1].cls != cls) continue;
    void* memory = blocks_[i - 1].memory;
    bytes_ -= blocks_[i - 1].size;
    blocks_[i - 1] = blocks_.back();
    blocks_.pop_back();
    return memory;
  }
  return nullptr;
}

bool BlockCache::put(void* block, size_t cls) {
  const size_t size = block_size(cls);
  if (bytes_ + size > kMaxBytes) return false;
  blocks_.push_back({block, static_cast<uint32_t>(cls), static_cast<uint32_t>(size)});
  bytes_ += size;
  return true;
}

void BlockCache::move_into(BlockCache& to) {
  // Whole vectors change hands: only the smaller side's blocks are moved, those that fit at once.
  if (to.blocks_.size() < blocks_.size()) {
    std::swap(blocks_, to.blocks_);
    std::swap(bytes_, to.bytes_);
  }
  size_t keep = blocks_.size();
  size_t moved_bytes = 0;
  while (keep > 0 && to.bytes_ + moved_bytes + blocks_[keep - 1].size <= kMaxBytes) moved_bytes += blocks_[--keep].size;
  to.blocks_.insert(to.blocks_.end(), blocks_.begin() + static_cast<std::ptrdiff_t>(keep), blocks_.end());
  blocks_.resize(keep);
  to.bytes_ += moved_bytes;
  bytes_ -= moved_bytes;
}

}  // namespace tidewire::detail

tw_event* tw_event::with_payload(std::string_view bytes, tidewire::detail::BlockCache* cache) {
  const size_t need = sizeof(tw_event) + bytes.size() + 1;
  const size_t cls = tidewire::detail::block_class(need);
  void* memory = cls != 0 && cache ? cache->take(cls) : nullptr;
  if (!memory) memory = ::operator new(cls != 0 ? tidewire::detail::block_size(cls) : need);
  auto* event = ::new (memory) tw_event;
  event->block.cls = static_cast<uint8_t>(cls);
  char* payload = static_cast<char*>(memory) + sizeof(tw_event);
  if (!bytes.empty()) std::memcpy(payload, bytes.data(), bytes.size());
  payload[bytes.size()] = '\0';
  event->data.inline_ = payload;
  event->data.inline_size_ = bytes.size();
  return event;
}

namespace tidewire::detail {

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

uint64_t event_bytes(const tw_event& e) {
  uint64_t n = e.data.size() + e.id.size() + e.type.size();
  for (const auto& h : e.headers) n += h.first.size() + h.second.size();
  return n;
}

namespace {
bool terminal(const tw_event& e) { return e.kind == TW_KIND_CLOSED || (e.kind == TW_KIND_ERROR && e.ends_stream); }
bool transient_status(const tw_event& e) { return e.kind == TW_KIND_OPEN || e.kind == TW_KIND_RECONNECTING; }
}  // namespace

EventQueue::EventQueue(size_t capacity, Overflow overflow, uint64_t max_bytes)
    : capacity_(capacity), overflow_(overflow), max_bytes_(max_bytes) {}

EventQueue::~EventQueue() = default;

int EventQueue::fd() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fd_.get(readable_locked());
}

bool EventQueue::readable_locked() const { return !events_.empty() || ended_; }

void EventQueue::update_fd_locked() const { fd_.set(readable_locked()); }

bool EventQueue::full_locked() const { return events_.size() >= capacity_ || bytes_ >= max_bytes_; }

void EventQueue::append_locked(EventPtr event) {
  bytes_ += event_bytes(*event);
  tail_ = event.get();
  events_.push_back(std::move(event));
  if (events_.size() > peak_) peak_ = events_.size();
}

void EventQueue::pop_front_locked() {
  if (events_.front().get() == tail_) tail_ = nullptr;
  bytes_ -= event_bytes(*events_.front());
  events_.pop_front();
}

bool EventQueue::push_batch(std::vector<EventPtr>& batch, BlockCache* refill) {
  if (batch.empty()) return paused();
  bool pause;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (refill && !returned_.empty()) returned_.move_into(*refill);
    for (auto& e : batch) {
      // After the end, nothing more is queued: the terminal status stays the last event.
      if (terminal_queued_) break;
      if (overflow_ == Overflow::drop_oldest) {
        // Room by count and by bytes; an event larger than queue.max_bytes empties the queue and
        // is kept alone. Only the producer pushes, and it never pushes after the terminal status,
        // so the oldest event is never the terminal one.
        uint64_t size = event_bytes(*e);
        while (!events_.empty() && (events_.size() >= capacity_ || bytes_ + size > max_bytes_)) {
          pop_front_locked();
          dropped_++;
        }
      }
      append_locked(std::move(e));
    }
    pause = overflow_ == Overflow::pause && full_locked();
    if (pause && !paused_) {
      paused_ = true;
      pauses_++;
    }
    update_fd_locked();
  }
  batch.clear();
  cv_.notify_all();
  return pause;
}

void EventQueue::push_status(EventPtr event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (terminal_queued_) return;
    if (terminal(*event)) {
      // Always queued, over any limit: the consumer must learn how the stream ended.
      terminal_queued_ = true;
      append_locked(std::move(event));
    } else if (!full_locked() || event->kind == TW_KIND_AUTH_REQUIRED || event->kind == TW_KIND_ERROR) {
      // auth_required too goes over the limit: the stream waits on the application to act on it;
      // so does an error the stream goes on after (an mcp request that will get no answer).
      append_locked(std::move(event));
    } else if (tail_ && transient_status(*tail_)) {
      // Full: the newest connection state replaces the older one nobody has read yet.
      bytes_ -= event_bytes(*tail_);
      *tail_ = std::move(*event);
      bytes_ += event_bytes(*tail_);
      dropped_++;
    } else {
      dropped_++;  // full of messages: a transient status is not worth a message's room
      return;
    }
    update_fd_locked();
  }
  cv_.notify_all();
}

void EventQueue::end() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = true;
    paused_ = false;
    update_fd_locked();
  }
  cv_.notify_all();
}

bool EventQueue::paused() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return paused_;
}

void EventQueue::set_resume_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  resume_hook_ = std::move(hook);
}

tw_err EventQueue::pop(std::vector<EventPtr>& out, size_t max, int timeout_ms) {
  std::function<void()> resume;
  tw_err result = TW_OK;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    auto ready = [&] { return !events_.empty() || ended_ || pending_wakeups_ > 0; };
    if (!ready()) {
      if (timeout_ms < 0) {
        cv_.wait(lock, ready);
      } else if (timeout_ms > 0) {
        cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
      }
    }
    if (pending_wakeups_ > 0) {
      pending_wakeups_--;
      return TW_ERR_WAKEUP;
    }
    if (events_.empty()) return ended_ ? TW_ERR_CLOSED : TW_ERR_TIMEOUT;
    size_t n = std::min(max, events_.size());
    for (size_t i = 0; i < n; i++) {
      if (events_.front().get() == tail_) tail_ = nullptr;
      bytes_ -= event_bytes(*events_.front());
      out.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    // Resume at half capacity (and half of queue.max_bytes), not at the first free slot, so the
    // producer wakes once per half queue instead of once per event.
    if (paused_ && events_.size() <= capacity_ / 2 && bytes_ <= max_bytes_ / 2) {
      paused_ = false;
      resume = resume_hook_;
    }
    update_fd_locked();
  }
  if (resume) resume();
  return result;
}

void EventQueue::recycle(tw_event* const* events, size_t count) {
  // Destructors (strings, headers) run outside the lock; then one lock for every block.
  thread_local std::vector<std::pair<void*, size_t>> blocks;
  blocks.clear();
  try {
    blocks.reserve(count);
  } catch (const std::bad_alloc&) {  // no room to keep anything: plain destruction
    for (size_t i = 0; i < count; ++i) delete events[i];
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    tw_event* e = events[i];
    if (!e) continue;
    const size_t cls = e->block.cls;
    if (cls == 0) {
      delete e;
      continue;
    }
    e->~tw_event();
    blocks.emplace_back(e, cls);
  }
  if (blocks.empty()) return;
  size_t kept = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (kept < blocks.size() && returned_.put(blocks[kept].first, blocks[kept].second)) kept++;
  }
  for (size_t i = kept; i < blocks.size(); ++i) ::operator delete(blocks[i].first);
  blocks.clear();
}

void EventQueue::wakeup() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_wakeups_++;
  }
  cv_.notify_all();
}

size_t EventQueue::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_.size();
}

uint64_t EventQueue::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

uint64_t EventQueue::peak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

uint64_t EventQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

uint64_t EventQueue::pauses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pauses_;
}

bool EventQueue::ended() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

}  // namespace tidewire::detail
