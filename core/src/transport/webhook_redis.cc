#include "webhook_redis.h"

#include <hiredis/hiredis.h>

#include "../error.h"
#include "../log.h"
#include "redis.h"

namespace tidewire::detail {
namespace {

// KEYS: the dedup key, the stream. ARGV: window in ms, MAXLEN ("" = none), then field, value, ...
// The key is set only together with the entry: if XADD fails, the key goes again, so the
// sender's retry is not taken for a duplicate.
constexpr const char* kAcceptScript = R"lua(
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local args = {KEYS[2]}
if ARGV[2] ~= '' then
  args[#args + 1] = 'MAXLEN'
  args[#args + 1] = '~'
  args[#args + 1] = ARGV[2]
end
args[#args + 1] = '*'
for i = 3, #ARGV do args[#args + 1] = ARGV[i] end
local added = redis.pcall('XADD', unpack(args))
if type(added) == 'table' and added.err then
  redis.call('DEL', KEYS[1])
  return added
end
return 1
)lua";

bool same_server(const redis::RedisUrl& a, const redis::RedisUrl& b) {
  return a.host == b.host && a.port == b.port && a.db == b.db && a.user == b.user && a.password == b.password;
}

}  // namespace

std::unique_ptr<WebhookRedis> WebhookRedis::from_config(uv_loop_t* loop, const Config& config) {
  const bool dedup = !config.str("webhook.dedup_store").empty();
  const bool handoff = !config.str("webhook.handoff").empty();
  if (!handoff && !config.boolean("webhook.local_queue"))
    throw Error(TW_ERR_INVALID_VALUE,
                "webhook.local_queue=false needs webhook.handoff: accepted deliveries would go nowhere");
  if (!dedup && !handoff) return nullptr;
  redis::ClientSettings settings = redis_client_settings(config, handoff ? "webhook.handoff" : "webhook.dedup_store");
  std::string stream, maxlen;
  if (handoff) {
    stream = settings.url.param("stream");
    if (stream.empty())
      throw Error(TW_ERR_INVALID_VALUE, "webhook.handoff: the URL needs ?stream=NAME (the Redis Stream to append to)");
    maxlen = settings.url.param("maxlen");
    if (!maxlen.empty() && (maxlen.find_first_not_of("0123456789") != std::string::npos || maxlen.size() > 15))
      throw Error(TW_ERR_INVALID_VALUE, "webhook.handoff: maxlen must be a whole number of entries");
    if (dedup) {
      redis::RedisUrl store = redis::RedisUrl::parse(config.str("webhook.dedup_store"), "webhook.dedup_store");
      if (!same_server(store, settings.url))
        throw Error(TW_ERR_INVALID_VALUE,
                    "webhook.dedup_store and webhook.handoff must name the same Redis (host, port, db and "
                    "credentials), so that a delivery is marked seen only together with its entry");
    }
  }
  BackoffSettings backoff;
  backoff.initial_ms = config.integer("reconnect.initial_ms");
  backoff.max_ms = config.integer("reconnect.max_ms");
  backoff.reset_after_ms = config.integer("reconnect.reset_after_ms");
  return std::unique_ptr<WebhookRedis>(new WebhookRedis(loop, std::move(settings), dedup, std::move(stream),
                                                        std::move(maxlen), config.str("redis.key_prefix"), backoff));
}

WebhookRedis::WebhookRedis(uv_loop_t* loop, redis::ClientSettings settings, bool dedup, std::string stream,
                           std::string maxlen, std::string prefix, BackoffSettings backoff)
    : loop_(loop),
      settings_(std::move(settings)),
      dedup_(dedup),
      stream_(std::move(stream)),
      maxlen_(std::move(maxlen)),
      prefix_(std::move(prefix)),
      backoff_(backoff),
      retry_(loop, [this] { connect(); }) {}

WebhookRedis::~WebhookRedis() = default;

void WebhookRedis::start() { connect(); }

void WebhookRedis::connect() {
  retired_.reset();
  client_ = std::make_unique<redis::Client>(
      loop_, settings_,
      [this] {
        backoff_.connected(static_cast<int64_t>(uv_now(loop_)));
        log(TW_LOG_INFO, "webhook: connected to " + settings_.url.display());
      },
      [this](const redis::Failure& f) {
        retired_ = std::move(client_);
        int64_t delay = backoff_.next_delay(static_cast<int64_t>(uv_now(loop_)), std::nullopt).value_or(0);
        log(TW_LOG_WARN, "webhook: " + f.message + "; deliveries are answered 503 until it is back (retrying in " +
                             std::to_string(delay) + " ms)");
        retry_.start(static_cast<uint64_t>(delay));
      });
  client_->connect();
}

void WebhookRedis::accept(const Delivery& d, std::function<void(Outcome, const std::string&)> done) {
  auto finish = [this, done = std::move(done)](const redisReply* reply, const redis::Failure* failure) {
    if (failure) return done(Outcome::unavailable, failure->message);
    if (redis::is_error(reply))
      return done(Outcome::unavailable, settings_.url.display() + " refused: " + std::string(redis::reply_text(reply)));
    // SET NX answers nil for a key already there; the script answers 0.
    const bool duplicate =
        reply->type == REDIS_REPLY_NIL || (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0);
    done(duplicate ? Outcome::duplicate : Outcome::accepted, "");
  };
  const std::string window = std::to_string(d.window_ms);
  std::vector<std::string_view> args;
  if (handoff() && !d.dedup_key.empty()) {
    args = {"EVAL", kAcceptScript, "2", d.dedup_key, stream_, window, maxlen_};
  } else if (handoff()) {
    args = {"XADD", stream_};
    if (!maxlen_.empty()) args.insert(args.end(), {"MAXLEN", "~", maxlen_});
    args.push_back("*");
  } else if (!d.dedup_key.empty()) {
    args = {"SET", d.dedup_key, "1", "NX", "PX", window};
  } else {
    return done(Outcome::accepted, "");  // a dedup store alone, and a delivery without an id
  }
  if (handoff())
    for (const auto& f : d.fields) args.insert(args.end(), {f.first, f.second});
  client_->command(args, std::move(finish));
}

}  // namespace tidewire::detail
