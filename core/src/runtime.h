// One runtime: a libuv loop on a thread it owns, with every connection of its streams on that loop.
// Every uv and OpenSSL-session call happens on that thread; other threads hand work over with post().
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "io/connection.h"
#include "io/pool.h"
#include "log.h"

namespace tidewire::detail {

class Transport;


// Throws Error(TW_ERR_INVALID_VALUE) naming tls.ca_file and the path unless the file can be read and
// holds at least one PEM certificate. Any thread: tw_stream_open calls it so that a bad file fails
// the open itself, and the I/O thread again before it builds the TLS context.
void check_ca_file(const std::string& path);

class Runtime {
 public:
  // Starts the I/O thread. Throws Error on failure.
  static std::shared_ptr<Runtime> start();
  ~Runtime();

  // Any thread. Runs fn on the I/O thread, in order. Returns false once shutdown has begun.
  bool post(std::function<void()> fn);
  // Any thread except the I/O thread: ends every stream, stops the loop, joins the thread.
  void shutdown();
  // Any thread: the records logged on this runtime's I/O thread, once the application turns it on.
  LogQueue& log_queue() { return log_queue_; }

  // I/O thread only.
  uv_loop_t* loop() { return &loop_; }
  bool stopping() const { return stopping_; }
  // TLS contexts shared by every connection of this runtime (one per CA file and verify setting).
  io::TlsContextCache& tls_contexts() { return tls_contexts_; }
  // Idle keep-alive connections, shared by every stream of this runtime: streams polling the same
  // origin reuse each other's connections. Gone once shutdown has begun (null then).
  io::ConnectionPool* pool() { return pool_.get(); }
  // Schedules transport->flush() for the end of this loop iteration, so that events received in
  // several callbacks reach the queue as one batch (one lock, one wake-up).
  void defer_flush(Transport* transport);
  // Takes ownership of a transport until it releases itself (or the runtime ends).
  Transport* adopt(std::unique_ptr<Transport> transport);
  void release(Transport* transport);

 private:
  Runtime() = default;
  void thread_main(std::function<void(std::exception_ptr)> started);
  void run_commands();
  void begin_shutdown();
  void bury();

  LogQueue log_queue_;
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_timer_t watchdog_{};
  uv_check_t flush_check_{};
  uv_idle_t flush_idle_{};
  std::vector<Transport*> flush_pending_;
  io::TlsContextCache tls_contexts_;
  std::unique_ptr<io::ConnectionPool> pool_;
  std::thread thread_;
  std::thread::id thread_id_;

  std::mutex mutex_;
  std::vector<std::function<void()>> commands_;
  bool accepting_ = false;
  bool shutdown_requested_ = false;

  bool stopping_ = false;
  std::set<Transport*> transports_;
  std::vector<Transport*> graveyard_;
  std::mutex shutdown_mutex_;
};

}  // namespace tidewire::detail
