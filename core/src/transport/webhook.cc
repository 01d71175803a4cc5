#include "webhook.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "../error.h"
#include "../log.h"

namespace tidewire::detail {
namespace {

Url listen_url(const Config& config) {
  Url url = Url::parse_listen(config.str("url"));
  if (url.scheme != "http")
    throw Error(TW_ERR_INVALID_VALUE, "url: a webhook endpoint listens on plain http:// (terminate TLS in front "
                                      "of it), not " + url.scheme + "://");
  return url;
}

ServerLimits server_limits(const Config& config) {
  ServerLimits l;
  l.max_header_bytes = static_cast<size_t>(config.integer("webhook.max_header_bytes"));
  l.max_body_bytes = static_cast<size_t>(config.integer("webhook.max_body_bytes"));
  l.header_timeout_ms = config.integer("webhook.header_timeout_ms");
  l.idle_timeout_ms = config.integer("webhook.idle_timeout_ms");
  l.request_timeout_ms = config.integer("webhook.request_timeout_ms");
  l.max_connections = static_cast<size_t>(config.integer("webhook.max_connections"));
  l.retry_after_s = config.integer("webhook.retry_after_s");
  return l;
}

std::vector<std::string> lower_names(std::vector<std::string> names) {
  for (auto& n : names)
    for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return names;
}

const char* scheme_name(WebhookScheme scheme) {
  switch (scheme) {
    case WebhookScheme::standard: return "standard";
    case WebhookScheme::svix: return "svix";
    case WebhookScheme::github: return "github";
    case WebhookScheme::stripe: return "stripe";
    case WebhookScheme::slack: return "slack";
    case WebhookScheme::hmac_sha256: return "hmac-sha256";
    case WebhookScheme::none: return "none";
  }
  return "?";
}

}  // namespace

WebhookTransport::WebhookTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      url_(listen_url(core_->config)),
      path_(url_.target.substr(0, url_.target.find('?'))),
      signature_(SignatureSettings::from_config(core_->config)),
      limits_(server_limits(core_->config)),
      retry_after_s_(core_->config.integer("webhook.retry_after_s")),
      drop_oldest_(core_->config.str("queue.overflow") == "drop_oldest"),
      dedup_(core_->config.integer("webhook.dedup_window_s") * 1000,
             static_cast<size_t>(core_->config.integer("webhook.dedup_max_ids"))),
      local_queue_(core_->config.boolean("webhook.local_queue")),
      handoff_headers_(lower_names(core_->config.list("webhook.handoff_headers"))),
      redis_(WebhookRedis::from_config(runtime.loop(), core_->config)) {}

WebhookTransport::~WebhookTransport() = default;

void WebhookTransport::attempt() {
  server_ = std::make_unique<WebhookServer>(runtime_.loop(), limits_, static_cast<WebhookServer::Handler&>(*this));
  try {
    Url bound = url_;
    bound.port = server_->listen(url_.host, url_.port);
    core_->set_url(bound.to_string());
  } catch (const Error& e) {
    report_ready(e.code(), e.what());
    return end_with_error(e.code(), 0, e.what());
  }
  if (redis_) redis_->start();
  report_ready(TW_OK, "");
  log(TW_LOG_INFO, "webhook: listening on " + core_->url());
  opened();
}

void WebhookTransport::stop_io() {
  server_.reset();
  redis_.reset();
  if (!ready_reported_) report_ready(TW_ERR_CLOSED, "url: the stream ended before its endpoint was listening");
}

void WebhookTransport::report_ready(tw_err err, const std::string& message) {
  ready_reported_ = true;
  core_->report_ready(err, message);
}

bool WebhookTransport::refusing() const { return local_queue_ && !drop_oldest_ && core_->queue.paused(); }

ServerResponse WebhookTransport::busy() const {
  return {503, {{"Retry-After", std::to_string(retry_after_s_)}}, "the receiver's queue is full; retry later\n"};
}

std::optional<ServerResponse> WebhookTransport::on_head(const ServerRequest& head) {
  if (head.path != path_)
    return ServerResponse{404, {}, "no webhook endpoint at this path\n"};
  if (head.method != "POST") return ServerResponse{405, {{"Allow", "POST"}}, "webhooks are delivered with POST\n"};
  // Refused before the body is read (and, with Expect: 100-continue, before it is sent).
  if (refusing()) return busy();
  return std::nullopt;
}

ServerResponse WebhookTransport::on_request(ServerRequest& request) {
  WebhookVerdict verdict = verify_webhook(signature_, request.headers, request.body, std::time(nullptr));
  if (!verdict.ok()) {
    log(TW_LOG_DEBUG, "webhook: refused a delivery: " + verdict.reason);
    return {verdict.status, {}, verdict.reason + "\n"};
  }
  // A redelivery of what is already queued (or consumed) is acknowledged, not queued twice; held
  // like any acknowledgment, as the first delivery may still wait in this iteration's batch.
  std::optional<DedupWindow::Key> key;
  if (!verdict.id.empty() && dedup_.enabled()) key = dedup_.key_of(verdict.id);
  if (key && dedup_.seen(*key, now_ms())) return acknowledged();
  if (refusing()) return busy();
  // Slack checks a new endpoint once by asking for its challenge back; that is not an event.
  if (signature_.scheme == WebhookScheme::slack && verdict.type == "url_verification")
    return {200, {}, json_top_level_string(request.body, "challenge").value_or("")};

  // The body is copied into the event's own allocation (the server reuses its buffer).
  EventPtr event = new_message(request.body, monotonic_ns());
  if (redis_) {
    event->id = verdict.id;
    event->type = verdict.type;
    return via_redis(request, verdict, std::move(event));
  }
  event->id = std::move(verdict.id);
  event->type = std::move(verdict.type);
  event->headers = std::move(request.headers);
  // Queued at the end of this loop iteration with the other deliveries read in it: one lock and
  // one consumer wake-up per batch, not per request. The 204 is held by the server until that
  // flush has queued the batch (flush() releases it), so a 2xx on the wire always acknowledges a
  // queued event; if the stream ends first, the held answers are never sent. A full queue refuses
  // the next deliveries, as one batch may exceed queue.max_events.
  batch_.push_back(std::move(event));
  if (key) dedup_.remember(*key, now_ms(), keep_until_ms(verdict));
  return acknowledged();
}

ServerResponse WebhookTransport::via_redis(ServerRequest& request, const WebhookVerdict& verdict, EventPtr event) {
  if (!redis_->ready())
    return busy_redis();
  WebhookRedis::Delivery d;
  if (redis_->dedup() && !verdict.id.empty()) {
    d.dedup_key = redis_->prefix() + scheme_name(signature_.scheme) + ":" + verdict.id;
    // The window covers the signed timestamp's tolerance too, as the local one does.
    d.window_ms = std::max<int64_t>(core_->config.integer("webhook.dedup_window_s") * 1000,
                                    keep_until_ms(verdict) - now_ms());
    if (d.window_ms <= 0) d.dedup_key.clear();  // dedup_window_s=0: off
  }
  if (redis_->handoff()) {
    d.fields = {{"id", verdict.id},
                {"type", verdict.type},
                {"data", std::string(event->data.view())},
                {"scheme", scheme_name(signature_.scheme)},
                {"received_at", std::to_string(static_cast<int64_t>(std::time(nullptr)) * 1000)}};
    for (const auto& name : handoff_headers_)
      for (const auto& h : request.headers)
        if (h.first == name) d.fields.emplace_back("h." + name, h.second);
  }
  event->headers = std::move(request.headers);
  const uint64_t ticket = request.ticket;
  const std::string id = verdict.id;
  const int64_t keep_until = keep_until_ms(verdict);
  auto pending = std::make_shared<EventPtr>(std::move(event));
  answering_ = ticket;
  redis_->accept(d, [this, ticket, id, keep_until, pending](WebhookRedis::Outcome outcome, const std::string& why) {
    switch (outcome) {
      case WebhookRedis::Outcome::unavailable:
        log(TW_LOG_DEBUG, "webhook: answered 503: " + why);
        return redis_answered(ticket, busy_redis());
      case WebhookRedis::Outcome::duplicate:  // accepted before, here or by another receiver
        return redis_answered(ticket, {204, {}, ""});
      case WebhookRedis::Outcome::accepted:
        if (!id.empty()) dedup_.remember(id, now_ms(), keep_until);
        if (!local_queue_) return redis_answered(ticket, {204, {}, ""});
        batch_.push_back(std::move(*pending));
        return redis_answered(ticket, acknowledged());
    }
  });
  answering_ = 0;
  if (immediate_) {
    ServerResponse r = std::move(*immediate_);
    immediate_.reset();
    return r;
  }
  ServerResponse deferred;
  deferred.deferred = true;
  deferred.ticket = ticket;
  return deferred;
}

ServerResponse WebhookTransport::busy_redis() const {
  return {503, {{"Retry-After", std::to_string(retry_after_s_)}}, "the receiver cannot reach Redis; retry later\n"};
}

void WebhookTransport::redis_answered(uint64_t ticket, ServerResponse response) {
  if (answering_ == ticket) {
    immediate_ = std::move(response);
    return;
  }
  if (server_) server_->complete(ticket, response);
}

ServerResponse WebhookTransport::acknowledged() {
  runtime_.defer_flush(this);  // once per iteration: it ignores a transport already pending
  return {204, {}, "", true};
}

int64_t WebhookTransport::keep_until_ms(const WebhookVerdict& verdict) const {
  // A signed timestamp stays acceptable until timestamp + tolerance: the id must be remembered
  // that long too, or a replay inside the tolerance would be queued again. Wall clock to loop
  // clock: the same distance from now.
  if (!verdict.timestamp || signature_.tolerance_s <= 0) return 0;
  int64_t left_s = *verdict.timestamp + signature_.tolerance_s - static_cast<int64_t>(std::time(nullptr));
  return now_ms() + std::max<int64_t>(0, left_s) * 1000;
}

void WebhookTransport::flush() {
  if (ended()) return;
  if (!batch_.empty()) deliver(batch_);
  if (server_) server_->release_held();
}

void WebhookTransport::on_answered(int status) {
  core_->stats.requests++;
  if (status >= 400) core_->stats.errors++;
}

}  // namespace tidewire::detail
