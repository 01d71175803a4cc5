#include "client.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "../log.h"

namespace tidewire::detail::redis {

// Every reply callback carries one of these. hiredis calls each callback exactly once (with a null
// reply when it frees the context), so the callback deletes it; `owner` is cleared when the client
// has already reported the failure or is gone.
struct Client::Pending {
  Client* owner;
  Callback cb;
  int64_t deadline_ms;
};

namespace {

constexpr size_t kObjectBytes = 48;  // what one reply object costs beside its string
constexpr uint64_t kProbeMs = 100;

ReplyLimit* state_of(const redisReadTask* task) { return static_cast<ReplyLimit*>(task->privdata); }

// Counts one object of the reply; false once the reply is past the limit (hiredis then fails the
// connection as out of memory, and the client reports the limit instead).
bool count(const redisReadTask* task, size_t bytes) {
  ReplyLimit* s = state_of(task);
  if (!task->parent) s->reply_bytes = 0;  // a new reply begins
  s->reply_bytes += bytes + kObjectBytes;
  if (s->reply_bytes > s->limit) s->too_large = true;
  return !s->too_large;
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  return count(task, len) ? state_of(task)->inner->createString(task, str, len) : nullptr;
}
void* create_array(const redisReadTask* task, int elements) {
  size_t n = elements > 0 ? static_cast<size_t>(elements) : 0;
  return count(task, n * sizeof(void*)) ? state_of(task)->inner->createArray(task, elements) : nullptr;
}
void* create_integer(const redisReadTask* task, long long value) {
  return count(task, 0) ? state_of(task)->inner->createInteger(task, value) : nullptr;
}
void* create_nil(const redisReadTask* task) { return count(task, 0) ? state_of(task)->inner->createNil(task) : nullptr; }

// freeReplyObject is what hiredis's own functions free with.
redisReplyObjectFunctions counting_functions = {create_string, create_array, create_integer, create_nil,
                                                freeReplyObject};

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Errors that retrying cannot cure: refused credentials, a database that does not exist.
bool fatal_setup_error(std::string_view text) {
  for (const char* prefix : {"WRONGPASS", "NOAUTH", "NOPERM", "ERR invalid password", "ERR DB index",
                             "ERR AUTH", "ERR invalid DB", "ERR Client sent AUTH"})
    if (text.substr(0, std::strlen(prefix)) == prefix) return true;
  return false;
}

}  // namespace

// Watches the reply being received, once per loop iteration (the check phase follows the reads): a
// bulk string the server announces as huge is refused while it is still arriving. Freed when its
// handle closes, after hiredis has finished with the context that points at `state`.
struct Client::Watch {
  uv_check_t handle;
  Client* owner;
  ReplyLimit state;
};

void limit_replies(redisReader* reader, ReplyLimit* state) {
  state->inner = reader->fn;
  reader->fn = &counting_functions;
  reader->privdata = state;
}

std::string_view reply_text(const redisReply* reply) {
  if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS &&
                 reply->type != REDIS_REPLY_ERROR))
    return {};
  return std::string_view(reply->str, reply->len);
}

bool is_error(const redisReply* reply) { return reply && reply->type == REDIS_REPLY_ERROR; }

bool is_transient_error(const redisReply* reply) {
  if (!is_error(reply)) return false;
  std::string_view text = reply_text(reply);
  for (std::string_view prefix : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"})
    if (text.substr(0, prefix.size()) == prefix) return true;
  return false;
}

Client::Client(uv_loop_t* loop, ClientSettings settings, std::function<void()> on_ready,
               std::function<void(const Failure&)> on_down)
    : loop_(loop),
      settings_(std::move(settings)),
      on_ready_(std::move(on_ready)),
      on_down_(std::move(on_down)),
      deadline_(loop, [this] {
        run_contained("a redis deadline", [this] {
          const bool connecting = !ready_;
          fail({TW_ERR_IO, false,
                settings_.url.display() + (connecting ? " did not accept the connection within " + settings_.key +
                                                            " connect_timeout_ms=" +
                                                            std::to_string(settings_.connect_timeout_ms)
                                                      : " did not answer within redis.timeout_ms=" +
                                                            std::to_string(settings_.command_timeout_ms))});
        });
      }),
      probe_(loop, [this] { run_contained("a redis socket probe", [this] { probe(); }); }),
      alive_(std::make_shared<bool>(true)) {}

Client::~Client() {
  *alive_ = false;
  down_ = true;
  if (lookup_) {
    lookup_->data = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(lookup_));  // the callback frees it
  }
  for (Pending* p : pending_) p->owner = nullptr;
  pending_.clear();
  close_watch();
  if (ctx_) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    ctx->data = nullptr;
    redisAsyncFree(ctx);
  }
}

void Client::connect() {
  deadline_.start(static_cast<uint64_t>(settings_.connect_timeout_ms));
  last_deadline_ = 0;
  const std::string& host = settings_.url.host;
  if (is_ip_literal(host)) return open(host);
  lookup_ = new uv_getaddrinfo_t{};
  lookup_->data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(
      loop_, lookup_,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* self = static_cast<Client*>(req->data);
        std::string ip;
        if (status == 0 && res) {
          char text[INET6_ADDRSTRLEN] = "";
          if (res->ai_family == AF_INET6)
            uv_ip6_name(reinterpret_cast<sockaddr_in6*>(res->ai_addr), text, sizeof text);
          else
            uv_ip4_name(reinterpret_cast<sockaddr_in*>(res->ai_addr), text, sizeof text);
          ip = text;
        }
        uv_freeaddrinfo(res);
        delete req;
        if (!self) return;
        self->lookup_ = nullptr;
        run_contained("a redis name lookup", [&] { self->resolved(status, ip); });
      },
      host.c_str(), nullptr, &hints);
  if (rc != 0) {
    delete lookup_;
    lookup_ = nullptr;
    resolved(rc, "");
  }
}

void Client::resolved(int status, const std::string& ip) {
  if (status != 0 || ip.empty())
    return fail({TW_ERR_IO, false,
                 "cannot resolve " + settings_.url.display() + ": " + (status ? uv_strerror(status) : "no address")});
  open(ip);
}

void Client::open(const std::string& ip) {
  ctx_ = redisAsyncConnect(ip.c_str(), settings_.url.port);
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) redisAsyncFree(ctx_);
    ctx_ = nullptr;
    return fail({TW_ERR_IO, false, "cannot connect to " + settings_.url.display() + ": " + why});
  }
  ctx_->data = this;
  if (redisLibuvAttach(ctx_, loop_) != REDIS_OK) {
    redisAsyncFree(ctx_);
    ctx_ = nullptr;
    return fail({TW_ERR_INTERNAL, false, "cannot attach a redis connection to the loop"});
  }
  watch_ = new Watch{};
  watch_->owner = this;
  watch_->state.limit = settings_.max_reply_bytes;
  limit_replies(ctx_->c.reader, &watch_->state);
  uv_check_init(loop_, &watch_->handle);
  watch_->handle.data = watch_;
  uv_check_start(&watch_->handle, [](uv_check_t* h) {
    auto* w = static_cast<Watch*>(h->data);
    if (w->owner) run_contained("a redis reply check", [w] { w->owner->check_reply_size(); });
  });
  probe_.start(kProbeMs);
  redisAsyncSetConnectCallback(ctx_, on_connected);
  redisAsyncSetDisconnectCallback(ctx_, on_disconnected);

  // The setup goes first; ready once the PING behind it is answered.
  auto setup_failed = [this](const redisReply* reply, const Failure* failure) {
    if (failure) return;  // reported by fail() already
    if (is_error(reply)) {
      std::string text(reply_text(reply));
      fail({TW_ERR_IO, fatal_setup_error(text), settings_.url.display() + " refused the connection setup: " + text});
    }
  };
  const RedisUrl& u = settings_.url;
  if (!u.password.empty()) {
    if (u.user.empty())
      command({"AUTH", u.password}, setup_failed);
    else
      command({"AUTH", u.user, u.password}, setup_failed);
  }
  const std::string db = std::to_string(u.db);
  if (u.db != 0) command({"SELECT", db}, setup_failed);
  command({"PING"}, [this, setup_failed](const redisReply* reply, const Failure* failure) {
    if (failure || is_error(reply)) return setup_failed(reply, failure);
    ready_ = true;
    arm_deadline();
    on_ready_();
  });
}

void Client::command(const std::vector<std::string_view>& args, Callback cb, int64_t block_ms) {
  int64_t now = static_cast<int64_t>(uv_now(loop_));
  // A reply cannot come before the replies ahead of it: a command's deadline is never earlier
  // than theirs (an XACK behind a blocking read must not time out while the read legitimately waits).
  int64_t deadline = std::max(now + settings_.command_timeout_ms + block_ms, last_deadline_);
  last_deadline_ = deadline;
  auto* p = new Pending{this, std::move(cb), deadline};
  if (down_ || !ctx_) {
    Failure f{TW_ERR_IO, false, settings_.url.display() + " is not connected"};
    Callback callback = std::move(p->cb);
    delete p;
    if (callback) callback(nullptr, &f);
    return;
  }
  send(args, p);
}

void Client::send(const std::vector<std::string_view>& args, Pending* p) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  pending_.push_back(p);
  if (redisAsyncCommandArgv(ctx_, on_reply, p, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
    pending_.pop_back();
    Callback callback = std::move(p->cb);
    delete p;
    Failure f{TW_ERR_IO, false, settings_.url.display() + ": the command could not be queued"};
    if (callback) callback(nullptr, &f);
    return;
  }
  if (ready_ && pending_.size() == 1) arm_deadline();
}

void Client::arm_deadline() {
  if (!ready_) return;  // the connect deadline runs
  if (pending_.empty()) return deadline_.stop();
  int64_t now = static_cast<int64_t>(uv_now(loop_));
  deadline_.start(static_cast<uint64_t>(std::max<int64_t>(0, pending_.front()->deadline_ms - now)));
}

void Client::on_reply(redisAsyncContext* ctx, void* r, void* privdata) {
  auto* p = static_cast<Pending*>(privdata);
  (void)ctx;
  Client* self = p->owner;
  Callback cb = std::move(p->cb);
  if (self) self->pending_.remove(p);
  delete p;
  if (!self) return;
  auto* reply = static_cast<redisReply*>(r);
  if (!reply) {
    // hiredis is freeing the context (the disconnect callback follows): fail() reports it.
    self->orphaned_.push_back(std::move(cb));
    return;
  }
  self->arm_deadline();
  if (cb) run_contained("a redis reply", [&] { cb(reply, nullptr); });
}

void Client::on_connected(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<Client*>(ctx->data);
  if (!self || status == REDIS_OK) return;
  // hiredis frees the context after this callback.
  std::string why = ctx->errstr;
  self->ctx_ = nullptr;
  run_contained("a redis connect failure", [&] {
    self->fail({TW_ERR_IO, false, "cannot connect to " + self->settings_.url.display() + ": " + why});
  });
}

void Client::on_disconnected(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<Client*>(ctx->data);
  if (!self) return;
  auto* state = static_cast<ReplyLimit*>(ctx->c.reader ? ctx->c.reader->privdata : nullptr);
  std::string why = state && state->too_large
                        ? "a reply from " + self->settings_.url.display() + " exceeds redis.max_reply_bytes=" +
                              std::to_string(self->settings_.max_reply_bytes)
                        : "connection to " + self->settings_.url.display() + " lost" +
                              (status == REDIS_OK ? std::string() : std::string(": ") + ctx->errstr);
  const bool too_large = state && state->too_large;
  self->ctx_ = nullptr;  // hiredis frees it after this callback
  // The same reply would come again: a limit is not cured by reconnecting.
  run_contained("a redis disconnect", [&] { self->fail({too_large ? TW_ERR_LIMIT : TW_ERR_IO, too_large, why}); });
}

void Client::check_reply_size() {
  if (!ctx_ || !watch_) return;
  const redisReader* reader = ctx_->c.reader;
  if (!watch_->state.too_large && reader->len - reader->pos <= settings_.max_reply_bytes) return;
  fail({TW_ERR_LIMIT, true,
        "a reply from " + settings_.url.display() + " exceeds redis.max_reply_bytes=" +
            std::to_string(settings_.max_reply_bytes)});
}

void Client::probe() {
  if (!ctx_ || down_) return;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(ctx_->c.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
    return fail({TW_ERR_IO, false,
                 (ready_ ? "connection to " : "cannot connect to ") + settings_.url.display() + ": " +
                     std::strerror(err)});
  probe_.start(kProbeMs);
}

void Client::close_watch() {
  if (!watch_) return;
  watch_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&watch_->handle),
           [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
  watch_ = nullptr;
}

void Client::fail(Failure f) {
  if (down_) return;
  down_ = true;
  ready_ = false;
  deadline_.stop();
  probe_.stop();
  std::vector<Callback> callbacks;
  callbacks.swap(orphaned_);
  for (Pending* p : pending_) {
    p->owner = nullptr;
    callbacks.push_back(std::move(p->cb));
  }
  pending_.clear();
  if (ctx_) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    ctx->data = nullptr;
    redisAsyncFree(ctx);
  }
  close_watch();
  std::shared_ptr<bool> alive = alive_;
  log(TW_LOG_DEBUG, "redis: " + f.message);
  for (auto& cb : callbacks) {
    if (!*alive) return;
    if (cb) cb(nullptr, &f);
  }
  if (*alive) on_down_(f);
}

}  // namespace tidewire::detail::redis
