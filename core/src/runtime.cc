#include "runtime.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>

#include "error.h"
#include "log.h"
#include "url.h"
#include "transport/lws_link.h"
#include "transport/transport.h"

namespace tidewire::detail {
namespace {

// Every lws connection carries its owner as opaque user data; the one protocol hands it the callbacks.
int dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* client = wsi ? static_cast<LwsClient*>(lws_get_opaque_user_data(wsi)) : nullptr;
  if (!client) return lws_callback_http_dummy(wsi, reason, user, in, len);
  // The verification callback carries the X509_STORE_CTX as user data (see LwsClient).
  if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION) in = user;
  int result = 0;
  // A callback that throws closes its own connection (-1), nothing else.
  if (!run_contained("a libwebsockets callback", [&] { result = client->on_lws(wsi, reason, in, len); })) return -1;
  return result;
}

// rx_buffer_size is the WebSocket frame buffer lws allocates per connection (0 would mean
// pt_serv_buf_size, 16 KiB per idle stream); longer frames arrive in pieces and are reassembled.
// tx_packet_size keeps sends in 16 KiB writes, as before rx_buffer_size was set.
constexpr size_t kWsRxBufferBytes = 4096;
constexpr size_t kTxPacketBytes = 16 * 1024;

const lws_protocols kProtocols[] = {
    {"tidewire", dispatch, 0, kWsRxBufferBytes, 0, nullptr, kTxPacketBytes},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// How long shutdown waits for WebSocket close frames to leave before lws is torn down.
constexpr uint64_t kShutdownGraceMs = 250;
// How long shutdown waits for lws to finish closing before the loop is stopped regardless.
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

std::shared_ptr<Runtime> Runtime::start() {
  std::shared_ptr<Runtime> rt(new Runtime);
  std::promise<void> started;
  auto ready = started.get_future();
  rt->thread_ = std::thread([raw = rt.get(), &started] {
    raw->thread_main([&started](std::exception_ptr error) {
      if (error)
        started.set_exception(error);
      else
        started.set_value();
    });
  });
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
  if (uv_loop_init(&loop_) != 0) return started(std::make_exception_ptr(Error(TW_ERR_INTERNAL, "uv_loop_init failed")));
  uv_async_init(&loop_, &async_, [](uv_async_t* a) { static_cast<Runtime*>(a->data)->run_commands(); });
  async_.data = this;
  uv_timer_init(&loop_, &watchdog_);
  watchdog_.data = this;
  uv_check_init(&loop_, &flush_check_);
  flush_check_.data = this;
  uv_idle_init(&loop_, &flush_idle_);
  uv_timer_init(&loop_, &grace_);
  grace_.data = this;

  lws_set_log_level(lws_log_mask(), lws_log_emit);
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  void* loops[] = {&loop_};
  info.foreign_loops = loops;
  info.pcontext = &context_;
  // Request headers can be large (tokens, cookies): lws refuses headers beyond this buffer.
  info.pt_serv_buf_size = 16 * 1024;
  // lws' own context-wide timeout would kill long-polls and quiet streams; each transport enforces
  // its own deadlines with uv timers instead.
  info.timeout_secs = 24 * 3600;
  info.connect_timeout_secs = 24 * 3600;
  info.user = this;
  context_ = lws_create_context(&info);
  if (!context_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&flush_idle_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&grace_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return started(std::make_exception_ptr(Error(TW_ERR_INTERNAL, "creating the libwebsockets context failed (see log)")));
  }
  // Parked connections per origin: a few per origin are enough for one stream's polls and a
  // reconnect; each stream bounds how long its own wait (http.idle_timeout_ms).
  pool_ = std::make_unique<io::ConnectionPool>(&loop_, 30000, kMaxIdlePerOrigin);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = true;
  }
  started(nullptr);

  uv_run(&loop_, UV_RUN_DEFAULT);

  // Teardown order from the lws notes: the first lws_context_destroy (in begin_shutdown) started
  // lws' asynchronous close; the loop has ended by itself; the second call frees the context.
  lws_context_destroy(context_);
  context_ = nullptr;
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
  if (context_) kick_lws();
}

void Runtime::kick_lws() {
  if (context_) lws_cancel_service(context_);
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
  // lws sends a WebSocket close frame only once the socket is writable: destroying the context at
  // once would swallow the 1001. Wait until every connection is gone, or the grace period ends.
  uv_timer_start(&grace_, [](uv_timer_t* t) { static_cast<Runtime*>(t->data)->finish_shutdown(); },
                 live_links_ == 0 ? 0 : kShutdownGraceMs, 0);
}

void Runtime::link_opened() { live_links_++; }

void Runtime::link_gone() {
  // From inside an lws callback: the context is destroyed from the timer, never from here.
  if (--live_links_ == 0 && stopping_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&grace_)))
    uv_timer_start(&grace_, [](uv_timer_t* t) { static_cast<Runtime*>(t->data)->finish_shutdown(); }, 0, 0);
}

void Runtime::finish_shutdown() {
  uv_close(reinterpret_cast<uv_handle_t*>(&grace_), nullptr);
  lws_context_destroy(context_);
  // If lws never lets the loop end, stop it anyway: destroy must return in bounded time.
  uv_timer_start(
      &watchdog_,
      [](uv_timer_t* t) {
        log(TW_LOG_WARN, "runtime shutdown: libwebsockets did not finish closing in time; stopping the loop");
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

lws_vhost* Runtime::vhost_for(const std::string& ca_file, const std::string& proxy_url) {
  // The context's default vhost trusts the system store and connects directly.
  if (ca_file.empty() && proxy_url.empty()) return nullptr;
  std::string key = ca_file + '\n' + proxy_url;
  auto it = vhosts_.find(key);
  if (it != vhosts_.end()) return it->second;
  lws_context_creation_info info{};
  std::string name = "tidewire-" + std::to_string(vhosts_.size());
  info.vhost_name = name.c_str();
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  if (!ca_file.empty()) {
    // lws only logs a CA file it cannot load, and would then verify against nothing (or, without
    // DISABLE_OS_CA_CERTS, against the system store too): check it here, and let it replace the
    // system store, as curl --cacert does.
    check_ca_file(ca_file);
    info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.client_ssl_ca_filepath = ca_file.c_str();
  }
  std::string proxy_host;
  if (!proxy_url.empty()) {
    Url proxy = Url::parse(proxy_url);
    proxy_host = proxy.host;
    info.http_proxy_address = proxy_host.c_str();
    info.http_proxy_port = static_cast<unsigned int>(proxy.port);
  }
  lws_vhost* vh = lws_create_vhost(context_, &info);
  if (!vh)
    throw Error(ca_file.empty() ? TW_ERR_IO : TW_ERR_TLS,
                "could not set up tls.ca_file \"" + ca_file + "\" / proxy.url \"" + redacted(proxy_url) + "\" (see log)");
  vhosts_.emplace(key, vh);
  return vh;
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
    // Events can arrive from lws' own idle handler, before the poll phase: an active idle handle
    // keeps that poll from blocking, so the check phase (and the flush) follows at once.
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
