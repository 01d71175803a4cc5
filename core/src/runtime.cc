#include "runtime.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>

#include "error.h"
#include "log.h"
#include "url.h"
#include "transport/transport.h"

namespace tidewire::detail {
namespace {

// How long shutdown waits for connections to finish closing (WebSocket close frames leaving, the
// server's answer to them) before the loop is stopped regardless.
constexpr uint64_t kShutdownWatchdogMs = 2000;
// Idle connections kept per origin (a connection pool key).
constexpr size_t kMaxIdlePerOrigin = 8;

}  // namespace

void check_ca_file(const std::string& path) {
  auto fail = [&](const std::string& why) {
    ERR_clear_error();  // not to be taken for a later connection's TLS error
    throw Error(TW_ERR_INVALID_VALUE, "tls.ca_file \"" + path + "\": " + why);
  };
  errno = 0;
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (!bio) fail(std::string("cannot be read (") + (errno ? std::strerror(errno) : "open failed") + ")");
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  int certs = 0;
  for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++)
    if (sk_X509_INFO_value(infos, i)->x509) certs++;
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  if (certs == 0) fail("holds no PEM certificate");
  ERR_clear_error();
}

namespace {
// The I/O thread takes no asynchronous signal. They stay the application's, for its own threads;
// and a write to a peer that is gone fails with EPIPE instead of raising SIGPIPE, which would end
// a C program that never chose to ignore it. Signals a fault raises in the thread itself, and
// profilers' SIGPROF, stay deliverable. Blocked around the thread's creation, which inherits the
// mask, so that no signal reaches the thread before it could block them itself.
class IoThreadSignalMask {
 public:
  IoThreadSignalMask() {
    sigset_t blocked;
    sigfillset(&blocked);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGPROF}) sigdelset(&blocked, sig);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous_);
  }
  ~IoThreadSignalMask() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  IoThreadSignalMask(const IoThreadSignalMask&) = delete;
  IoThreadSignalMask& operator=(const IoThreadSignalMask&) = delete;

 private:
  sigset_t previous_;
};
}  // namespace

std::shared_ptr<Runtime> Runtime::start() {
  std::shared_ptr<Runtime> rt(new Runtime);
  std::promise<void> started;
  auto ready = started.get_future();
  {
    IoThreadSignalMask mask;
    rt->thread_ = std::thread([raw = rt.get(), &started] {
      raw->thread_main([&started](std::exception_ptr error) {
        if (error)
          started.set_exception(error);
        else
          started.set_value();
      });
    });
  }
  try {
    ready.get();
  } catch (...) {
    rt->thread_.join();
    throw;
  }
  return rt;
}

Runtime::~Runtime() { shutdown(); }

void Runtime::thread_main(std::function<void(std::exception_ptr)> started) {
  thread_id_ = std::this_thread::get_id();
  log_route_this_thread(&log_queue_);
  if (uv_loop_init(&loop_) != 0) return started(std::make_exception_ptr(Error(TW_ERR_INTERNAL, "uv_loop_init failed")));
  uv_async_init(&loop_, &async_, [](uv_async_t* a) { static_cast<Runtime*>(a->data)->run_commands(); });
  async_.data = this;
  uv_timer_init(&loop_, &watchdog_);
  watchdog_.data = this;
  uv_check_init(&loop_, &flush_check_);
  flush_check_.data = this;
  uv_idle_init(&loop_, &flush_idle_);

  // Parked connections per origin: a few per origin are enough for one stream's polls and a
  // reconnect; each stream bounds how long its own wait (http.idle_timeout_ms).
  pool_ = std::make_unique<io::ConnectionPool>(&loop_, 30000, kMaxIdlePerOrigin);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = true;
  }
  started(nullptr);

  uv_run(&loop_, UV_RUN_DEFAULT);

  // The loop ended by itself once every connection had closed (or the watchdog stopped it).
  bury();
  for (Transport* t : transports_) delete t;
  transports_.clear();
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&watchdog_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) log(TW_LOG_WARN, "runtime ended with libuv handles still open");
}

bool Runtime::post(std::function<void()> fn) {
  // uv_async_send under the lock: once shutdown() has taken the lock and stopped accepting, no
  // post can still be about to touch the async handle that the loop thread is about to close.
  std::lock_guard<std::mutex> lock(mutex_);
  if (!accepting_) return false;
  commands_.push_back(std::move(fn));
  uv_async_send(&async_);
  return true;
}

void Runtime::run_commands() {
  std::vector<std::function<void()>> batch;
  bool shutdown;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(commands_);
    shutdown = shutdown_requested_ && !stopping_;
  }
  for (auto& fn : batch) run_contained("a command on the I/O thread", fn);
  if (shutdown) begin_shutdown();
  bury();
}

void Runtime::begin_shutdown() {
  stopping_ = true;
  // Copy: closing a transport releases (removes) it.
  std::set<Transport*> open(transports_);
  for (Transport* t : open) t->shutdown();
  pool_.reset();  // closes parked connections
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_idle_), nullptr);
  // Connections still closing (a WebSocket waiting for the server's answer to its close frame)
  // keep the loop running until they are done; the watchdog bounds that wait.
  uv_timer_start(
      &watchdog_,
      [](uv_timer_t* t) {
        log(TW_LOG_WARN, "runtime shutdown: connections did not finish closing in time; stopping the loop");
        uv_stop(t->loop);
      },
      kShutdownWatchdogMs, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog_));
}

void Runtime::shutdown() {
  std::lock_guard<std::mutex> serial(shutdown_mutex_);
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    shutdown_requested_ = true;
    uv_async_send(&async_);
  }
  thread_.join();
}

void Runtime::defer_flush(Transport* transport) {
  if (std::find(flush_pending_.begin(), flush_pending_.end(), transport) != flush_pending_.end()) return;
  if (flush_pending_.empty() && !stopping_) {
    uv_check_start(&flush_check_, [](uv_check_t* check) {
      auto* self = static_cast<Runtime*>(check->data);
      std::vector<Transport*> pending;
      pending.swap(self->flush_pending_);
      uv_check_stop(check);
      uv_idle_stop(&self->flush_idle_);
      for (Transport* t : pending) run_contained("handing events to a stream's queue", [t] { t->flush(); });
    });
    // Events can arrive from a callback that runs before the poll phase (a timer, a deferred
    // delivery): an active idle handle keeps that poll from blocking, so the check phase (and the
    // flush) follows at once.
    uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
  }
  flush_pending_.push_back(transport);
}

Transport* Runtime::adopt(std::unique_ptr<Transport> transport) {
  Transport* t = transport.release();
  transports_.insert(t);
  return t;
}

void Runtime::release(Transport* transport) {
  if (!transports_.erase(transport)) return;
  flush_pending_.erase(std::remove(flush_pending_.begin(), flush_pending_.end(), transport), flush_pending_.end());
  // Usually released from inside its own callbacks: deleted once they have unwound.
  graveyard_.push_back(transport);
  if (!stopping_) uv_async_send(&async_);
}

void Runtime::bury() {
  for (Transport* t : graveyard_) delete t;
  graveyard_.clear();
}

}  // namespace tidewire::detail
