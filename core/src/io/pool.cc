#include "io/pool.h"

#include <algorithm>

#include "timer.h"

namespace tidewire::detail::io {

// The pool's observer for one parked connection.
struct ConnectionPool::Parked : Connection::Observer {
  ConnectionPool* pool;
  PoolKey key;
  Connection* connection;
  Timer idle_timer;

  Parked(ConnectionPool* owner, PoolKey pool_key, Connection* parked)
      : pool(owner), key(std::move(pool_key)), connection(parked), idle_timer(owner->loop_, [this] {
          Connection* expired = connection;
          pool->forget(this);  // deletes this
          expired->close();
        }) {}

  void on_open() override {}
  bool wants_drained() const override { return false; }
  // A parked connection has no request outstanding: anything the peer sends now cannot be
  // attributed to a future request, so the connection is unusable.
  void on_data(const char*, size_t) override {
    Connection* spoiled = connection;
    pool->forget(this);
    spoiled->close();
  }
  void on_close(const Error&) override { pool->forget(this); }
};

ConnectionPool::ConnectionPool(uv_loop_t* loop, uint64_t idle_timeout_ms, size_t max_idle_per_key)
    : loop_(loop), idle_timeout_ms_(idle_timeout_ms), max_idle_per_key_(max_idle_per_key) {}

ConnectionPool::~ConnectionPool() {
  for (auto& entry : idle_) {
    for (auto& parked : entry.second) {
      parked->connection->set_observer(nullptr);
      parked->connection->close();
    }
  }
}

Connection* ConnectionPool::take(const PoolKey& key) {
  auto found = idle_.find(key);
  if (found == idle_.end()) return nullptr;
  auto& parked = found->second;
  Connection* result = nullptr;
  while (!parked.empty() && result == nullptr) {
    std::unique_ptr<Parked> last = std::move(parked.back());
    parked.pop_back();
    Connection* candidate = last->connection;
    candidate->set_observer(nullptr);
    // The peer may have closed it in this very loop turn, before its EOF was read.
    if (candidate->has_unsolicited_input()) {
      candidate->close();
    } else {
      result = candidate;
      // Kept for the next put(): a poll parks and takes a connection every request, and its entry
      // (a timer handle among it) and map node need not be made anew each time.
      last->idle_timer.stop();
      last->connection = nullptr;
      spare_ = std::move(last);
    }
  }
  if (parked.empty()) spare_node_ = idle_.extract(found);
  return result;
}

void ConnectionPool::put(const PoolKey& key, Connection* connection, uint64_t idle_timeout_ms) {
  if (connection == nullptr) return;
  auto found = idle_.find(key);
  if (found == idle_.end()) {
    if (spare_node_) {
      spare_node_.key() = key;
      found = idle_.insert(std::move(spare_node_)).position;
    } else {
      found = idle_.emplace(key, std::vector<std::unique_ptr<Parked>>()).first;
    }
  }
  auto& parked = found->second;
  // The socket itself is looked at once, by take(), right before the connection carries a request:
  // the later look sees as much, and a poll that parks and takes within one loop turn makes one
  // system call for it, not two. Until then the parked connection is read, so a peer that closes or
  // speaks is noticed by the loop (on_close, on_data below).
  if (idle_timeout_ms == 0 || !connection->is_open() || parked.size() >= max_idle_per_key_ ||
      connection->has_buffered_input()) {
    if (parked.empty()) idle_.erase(found);
    connection->set_observer(nullptr);
    connection->close();
    return;
  }
  std::unique_ptr<Parked> entry;
  if (spare_) {
    entry = std::move(spare_);
    entry->key = key;
    entry->connection = connection;
  } else {
    entry = std::make_unique<Parked>(this, key, connection);
  }
  connection->set_observer(entry.get());
  // Reading stays on while parked so that the peer's close is noticed (and the socket freed) at once.
  connection->resume_reading();
  entry->idle_timer.start(idle_timeout_ms);
  parked.push_back(std::move(entry));
}

void ConnectionPool::forget(Parked* gone) {
  auto found = idle_.find(gone->key);
  if (found == idle_.end()) return;
  auto& parked = found->second;
  auto it = std::find_if(parked.begin(), parked.end(), [gone](const auto& p) { return p.get() == gone; });
  if (it != parked.end()) parked.erase(it);
  if (parked.empty()) idle_.erase(found);
}

size_t ConnectionPool::idle_count(const PoolKey& key) const {
  auto found = idle_.find(key);
  return found == idle_.end() ? 0 : found->second.size();
}

size_t ConnectionPool::idle_count() const {
  size_t total = 0;
  for (const auto& entry : idle_) total += entry.second.size();
  return total;
}

}  // namespace tidewire::detail::io
