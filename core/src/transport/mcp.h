// MCP Streamable HTTP (spec 2025-11-25, basic/transports) as a stream. Each message the application
// sends is a POST; whatever comes back (one JSON answer, an SSE stream of messages, or 202 with
// nothing) and whatever the server pushes on the GET stream becomes one `message` event per JSON-RPC
// message, in arrival order. The session id (Mcp-Session-Id) and the negotiated MCP-Protocol-Version
// go on every later request; a 404 to a request that carried the session id ends the stream (the
// session is gone: the application initializes a new one). The GET stream opens once the
// initialize result is in and is kept up by the one reconnect policy (retry:, Last-Event-ID); a
// POST's SSE stream cut after an event id is resumed by a GET with Last-Event-ID until its answer
// arrives, and one cut without an id is reported (an `error` event of type "cut" whose id is the
// JSON-RPC request id), never sent again. close() ends the session with a DELETE.
//
// POSTs go out one at a time in the order sent: the next once the previous one's response head is
// in (the server has the message then), so a server sees notifications/initialized before the
// requests after it; their responses stream concurrently.
#pragma once

#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../url.h"
#include "connect.h"
#include "transport.h"

namespace tidewire::detail {

class McpTransport final : public Transport {
 public:
  McpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~McpTransport() override;

  void close() override;
  void send_ready() override;
  void resume() override;
  void restart() override;

  class Exchange;

 private:
  friend class Exchange;
  enum class Role { post, listen, resume };

  void attempt() override;
  void stop_io() override;

  // Sends the next POST if none is waiting for its response head.
  void dispatch();
  Exchange* start_exchange(Role role, std::string body, std::vector<std::string> pending_ids,
                           std::string last_event_id, uint64_t delay_ms);
  std::vector<std::pair<std::string, std::string>> headers_for(Exchange& ex);
  // Callbacks from an exchange.
  void exchange_head(Exchange& ex, int status, const std::vector<std::pair<std::string, std::string>>& headers);
  // One JSON-RPC payload (an object or a batch) received; `event_id` is the SSE id it came with.
  void exchange_payload(Exchange& ex, std::string_view json, const std::string& event_id, int64_t received_ns);
  void exchange_error_status(Exchange& ex, int status, const std::string& body, std::optional<int64_t> hint_ms);
  // The response ended (err TW_OK) or broke off (err and message).
  void exchange_done(Exchange& ex, tw_err err, const std::string& message);
  void retire(Exchange& ex);
  // A POST's answer will not come: an `error` event per pending request id.
  void report_lost(const std::vector<std::string>& ids, tw_err err, int http_status, const std::string& type,
                   const std::string& message);
  void session_expired();
  // The server refused the GET stream other than with 405: an `error` event of type "get_stream"
  // (id empty), and no GET stream from now on.
  void refuse_listen(int http_status, const std::string& message);
  void resume_later(Exchange& ex, std::optional<int64_t> hint_ms, const std::string& why);
  void pause_all(bool pause);

  const Url url_;
  Dial dial_;
  const int64_t connect_timeout_ms_;
  const int64_t read_timeout_ms_;
  const size_t max_message_bytes_;
  const size_t sse_max_line_bytes_;
  const size_t sse_max_event_bytes_;
  const int64_t reconnect_max_ms_;
  const bool listen_enabled_;
  // Messages taken from the send buffer and put back (held for new credentials), oldest first;
  // the rest wait in the send buffer, which bounds them.
  std::deque<std::string> outgoing_;
  std::list<std::unique_ptr<Exchange>> exchanges_;
  // Exchanges that ended inside their own callbacks, freed from the loop.
  std::vector<std::unique_ptr<Exchange>> retired_;
  Timer reaper_;
  Exchange* post_waiting_head_ = nullptr;
  Exchange* listen_ = nullptr;
  std::string session_id_;
  std::string listen_last_event_id_;  // where the GET stream resumes
  std::string protocol_version_;  // mcp.protocol_version, or the initialize result's
  bool protocol_version_configured_ = false;
  bool initialized_ = false;
  bool listen_refused_ = false;      // the server offers no GET stream (405)
  bool held_for_credentials_ = false;  // a POST refused with 401/403 waits for new credentials
  bool paused_ = false;
  bool restarting_ = false;
  std::vector<EventPtr> batch_;
};

}  // namespace tidewire::detail
