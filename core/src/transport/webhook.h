// webhook: an embedded HTTP endpoint receiving signed POSTs. The stream's url says where to listen
// (port 0 = a free port; the URL really bound is reported through tw_stream_url). Past the
// server's limits (431, 413, 417), each request is checked in this order: path (404), method
// (405), queue room (503 + Retry-After, unless queue.overflow=drop_oldest), signature over the raw
// body (400 / 401), duplicate id (acknowledged, not queued again); then the event is queued, and
// only then acknowledged with 204. With webhook.dedup_store and/or webhook.handoff, Redis is asked
// first (is the id new? append the entry) and the answer waits for it: 204 once Redis has it, 503
// + Retry-After if Redis is unreachable or slow.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../url.h"
#include "transport.h"
#include "webhook_dedup.h"
#include "webhook_redis.h"
#include "webhook_server.h"
#include "webhook_signature.h"

namespace tidewire::detail {

class WebhookTransport final : public Transport, private WebhookServer::Handler {
 public:
  // Throws Error(TW_ERR_INVALID_VALUE) naming the key when the webhook.* settings or the url do not
  // describe a usable endpoint.
  WebhookTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~WebhookTransport() override;

  // Hands the deliveries accepted during this loop iteration to the queue, in one batch.
  void flush() override;

 private:
  // Binds the listener and tells the waiting tw_stream_open how it went.
  void attempt() override;
  void stop_io() override;
  void report_ready(tw_err err, const std::string& message);

  std::optional<ServerResponse> on_head(const ServerRequest& head) override;
  ServerResponse on_request(ServerRequest& request) override;
  void on_answered(int status) override;
  // With queue.overflow=pause, a full queue refuses deliveries rather than lose one.
  bool refusing() const;
  ServerResponse busy() const;
  ServerResponse busy_redis() const;
  // 204, held by the server until the next flush() has queued this iteration's deliveries.
  ServerResponse acknowledged();
  // Until when (loop clock) a delivery's id must be remembered beyond the dedup window; 0: no longer.
  int64_t keep_until_ms(const WebhookVerdict& verdict) const;
  // Hands a verified delivery to Redis; the answer follows when Redis has replied.
  ServerResponse via_redis(ServerRequest& request, const WebhookVerdict& verdict, EventPtr event);
  // The answer to a delivery once Redis replied; `ticket` is the request's.
  void redis_answered(uint64_t ticket, ServerResponse response);

  const Url url_;
  const std::string path_;  // url_'s path, without its query: the one path served
  const SignatureSettings signature_;
  const ServerLimits limits_;
  const int64_t retry_after_s_;
  const bool drop_oldest_;
  DedupWindow dedup_;
  const bool local_queue_;                        // webhook.local_queue
  const std::vector<std::string> handoff_headers_;  // webhook.handoff_headers, lower case
  std::unique_ptr<WebhookRedis> redis_;
  // While on_request waits for Redis: the ticket, and an answer that came at once (no wait).
  uint64_t answering_ = 0;
  std::optional<ServerResponse> immediate_;
  std::unique_ptr<WebhookServer> server_;
  std::vector<EventPtr> batch_;
  bool ready_reported_ = false;
};

}  // namespace tidewire::detail
