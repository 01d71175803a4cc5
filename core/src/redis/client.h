// One connection to Redis on the runtime's libuv loop, through hiredis's libuv adapter. It adds
// what hiredis 0.14 leaves to its user: name lookup off the loop (uv_getaddrinfo; hiredis would
// block in getaddrinfo), AUTH and SELECT before anything else, a deadline on connecting and on
// every command, and a bound on a reply's size. Any failure closes the connection and is reported
// once; what to do next (reconnect after a backoff, answer 503) is the owner's decision.
// I/O thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../timer.h"
#include "tidewire/tidewire.h"
#include "url.h"

struct redisAsyncContext;
struct redisReader;
struct redisReply;
struct redisReplyObjectFunctions;

namespace tidewire::detail::redis {

struct ClientSettings {
  RedisUrl url;
  int64_t connect_timeout_ms = 10000;  // lookup, TCP connect, AUTH, SELECT and a PING
  int64_t command_timeout_ms = 5000;   // from sending a command to its reply (plus any BLOCK time)
  size_t max_reply_bytes = 64u << 20;  // one reply's bytes waiting in the read buffer
  std::string key;                     // the configuration key the URL came from, for messages
};

// Why a connection ended. `fatal`: retrying cannot help (refused credentials, wrong database).
struct Failure {
  tw_err err = TW_ERR_IO;
  bool fatal = false;
  std::string message;
};

class Client {
 public:
  // A reply (which may be a Redis error reply), or null with `failure` when the connection ended
  // before the reply came. The reply is borrowed for the duration of the call.
  using Callback = std::function<void(const redisReply* reply, const Failure* failure)>;

  // on_ready: connected, authenticated, database selected. on_down: the connection ended (never
  // after the destructor, nor after disconnect()); the client may be deleted from inside it.
  Client(uv_loop_t* loop, ClientSettings settings, std::function<void()> on_ready,
         std::function<void(const Failure&)> on_down);
  // Closes the connection; no callback of this client runs afterwards.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void connect();
  bool ready() const { return ready_; }
  // Sends a command (arguments are binary-safe). `cb` runs exactly once unless the client is
  // deleted first; it may be empty. `block_ms` extends the deadline of a command that the server
  // holds (XREADGROUP BLOCK). Commands given before ready() wait, in order, behind the setup.
  void command(const std::vector<std::string_view>& args, Callback cb, int64_t block_ms = 0);
  // Commands sent whose reply has not come yet.
  size_t in_flight() const { return pending_.size(); }
  const ClientSettings& settings() const { return settings_; }

 private:
  struct Pending;
  struct Watch;
  static void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);
  static void on_connected(const redisAsyncContext* ctx, int status);
  static void on_disconnected(const redisAsyncContext* ctx, int status);
  void resolved(int status, const std::string& ip);
  void open(const std::string& ip);
  void send(const std::vector<std::string_view>& args, Pending* p);
  void arm_deadline();
  void check_reply_size();
  void close_watch();
  void probe();
  // Ends the connection: every pending callback gets `f`, then on_down.
  void fail(Failure f);

  uv_loop_t* const loop_;
  const ClientSettings settings_;
  const std::function<void()> on_ready_;
  const std::function<void(const Failure&)> on_down_;
  redisAsyncContext* ctx_ = nullptr;
  uv_getaddrinfo_t* lookup_ = nullptr;
  Watch* watch_ = nullptr;
  std::list<Pending*> pending_;  // in the order sent, which is the order of the replies
  std::vector<Callback> orphaned_;  // commands hiredis gave up on, reported by fail()
  int64_t last_deadline_ = 0;
  Timer deadline_;
  // hiredis 0.14's libuv adapter drops the error status libuv gives a poll handle on POLLERR (a
  // refused connect, a reset): hiredis would wait for an event that never comes. The socket's
  // pending error is looked at every kProbeMs instead.
  Timer probe_;
  bool ready_ = false;
  bool down_ = false;
  std::shared_ptr<bool> alive_;
};

// The bound on one reply: hiredis allocates whatever a reply announces (an array header of a
// billion elements is one huge calloc). limit_replies() makes `reader` count each reply as it is
// built (string bytes, array slots and a fixed cost per object) and refuse it past `limit`: the
// reader then fails as out of memory, and `too_large` tells why. `state` outlives the reader's use.
struct ReplyLimit {
  redisReplyObjectFunctions* inner = nullptr;  // the reader's own functions
  size_t reply_bytes = 0;
  size_t limit = 0;
  bool too_large = false;
};
void limit_replies(redisReader* reader, ReplyLimit* state);

// Reply helpers: the text of a string, status or error reply ("" otherwise).
std::string_view reply_text(const redisReply* reply);
bool is_error(const redisReply* reply);
// An error reply that says "not now" (LOADING, BUSY, TRYAGAIN, MASTERDOWN, CLUSTERDOWN): worth
// retrying on a new connection, unlike a refusal.
bool is_transient_error(const redisReply* reply);

}  // namespace tidewire::detail::redis
