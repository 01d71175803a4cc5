// poll and long-poll: repeated GETs whose changed answers become events.
// poll: conditional requests (If-None-Match / If-Modified-Since), a 304 or an unchanged body yields
//       no event, the next request waits poll.interval_ms (raised by X-Poll-Interval).
// longpoll: the server holds the request; a cursor from a response header goes back as a query
//       parameter (after a redirect too); after a change the next request is issued at once, after
//       an answer that came back unchanged sooner than a floor it waits (see unchanged_delay_ms).
// Both delay the next request while the queue is paused (backpressure).
#pragma once

#include <optional>
#include <string>

#include "http_transport.h"

namespace tidewire::detail {

class PullTransport final : public HttpTransport {
 public:
  PullTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  void resume() override;
  void restart() override;

 private:
  Request build_request(const Url& url) override;
  bool on_success(int status, const HeaderList& headers) override;
  bool on_success_body(const char* data, size_t len) override;
  void on_success_done(tw_err err, const std::string& message) override;
  int64_t hint_cap_ms() const override;
  std::optional<int64_t> held_response_timeout_ms() const override;
  std::string held_response_timeout_what() const override;
  bool bounded_success_body() const override { return true; }
  int64_t body_deadline_ms() const override;
  int64_t unchanged_delay_ms();
  void on_io_timeout(const std::string& what) override;
  void schedule_next(int64_t delay_ms);

  const bool longpoll_;
  const int64_t max_body_bytes_;
  const int64_t interval_ms_;        // poll.interval_ms
  const std::string cursor_param_;   // longpoll.cursor_param
  std::string cursor_header_;      // lower case
  std::vector<std::string> expose_;  // lower case
  bool expose_all_ = false;          // poll.expose_headers=*
  std::optional<int64_t> hinted_interval_ms_;

  // Validators and the last body, to tell a change from a repeat.
  std::string etag_;
  std::string last_modified_;
  std::optional<std::string> last_body_;
  std::string cursor_;
  // When the request being answered started, and how many unchanged long-poll answers in a row
  // came back sooner than their floor.
  int64_t request_started_ms_ = 0;
  int unchanged_streak_ = 0;

  // The answer being received.
  int status_ = 0;
  HeaderList headers_;
  std::string body_;
  // Set while a request waits for the consumer to make room.
  bool waiting_for_room_ = false;
};

}  // namespace tidewire::detail
