// The HTTP/1.1 side of the webhook transport: a listener on the runtime's libuv loop and its
// connections, parsed by llhttp. It enforces what an endpoint open to the network needs — limits on
// the request head and body, a header timeout, a whole-request deadline, an idle timeout and a cap
// on open connections — and handles keep-alive,
// pipelining (answers go out in request order), chunked bodies and Expect: 100-continue.
// What to answer is the Handler's business. I/O thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "webhook_signature.h"

namespace tidewire::detail {

struct ServerLimits {
  size_t max_header_bytes = 16384;  // request line and header fields together
  size_t max_body_bytes = 1 << 20;
  int64_t header_timeout_ms = 10000;  // from a request's first byte to the end of its head
  int64_t idle_timeout_ms = 60000;    // silence on a connection, between requests or inside one
  // From a request's first byte to its last body byte, however steadily it trickles: then 408.
  int64_t request_timeout_ms = 30000;
  size_t max_connections = 1024;  // one more is answered 503 + Retry-After and closed
  int64_t retry_after_s = 5;      // that 503's Retry-After
};

struct ServerRequest {
  std::string method;
  std::string target;       // as sent
  std::string path;         // the target's path: no scheme, authority or query
  WebhookHeaders headers;   // lower-case names, values without surrounding blanks
  std::string body;         // de-chunked; the server reuses its buffer after on_request
  uint64_t ticket = 0;      // names the request in WebhookServer::complete() (on_request only)
};

struct ServerResponse {
  int status = 204;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as text/plain
  // Held back, with every later answer on its connection, until WebhookServer::release_held():
  // a 2xx that acknowledges an event goes on the wire only once the event is queued.
  bool hold = false;
  // Not known yet: the handler answers later with WebhookServer::complete(ticket). Status, headers
  // and body are ignored; later answers on the connection wait behind it. At most 32 such answers
  // wait per connection; a request past that is answered 503 without reaching the handler.
  bool deferred = false;
  uint64_t ticket = 0;  // with `deferred`: the request's ticket
};

class WebhookServer {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A request's head has arrived and passed the server's own checks (413, 417); its body has
    // not been read. An answer refuses the request at once (if a body follows, the connection
    // closes after the answer instead of reading it); nullopt reads the body, after
    // `100 Continue` if the client asked for it.
    virtual std::optional<ServerResponse> on_head(const ServerRequest& head) = 0;
    // A complete request. The answer is written before any later pipelined request is read.
    virtual ServerResponse on_request(ServerRequest& request) = 0;
    // Every final answer sent, the server's own (400, 413, 417, 431) included.
    virtual void on_answered(int status) = 0;
  };

  WebhookServer(uv_loop_t* loop, const ServerLimits& limits, Handler& handler);
  // Closes the listener and every connection at once. libuv frees the handles later, on its own,
  // so the server and its handler may be deleted right away.
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Binds host:port (an IP literal or "localhost"; port 0 picks a free port) and listens.
  // Returns the port bound. Throws Error(TW_ERR_IO) saying why not.
  int listen(const std::string& host, int port);
  // Sends the answers held back (ServerResponse::hold) on every connection.
  void release_held();
  // Gives the answer to a deferred request (ServerResponse::deferred). False when there is no such
  // request waiting any more (its connection closed): nothing is sent.
  bool complete(uint64_t ticket, const ServerResponse& response);

 private:
  class Connection;
  static void on_connection(uv_stream_t* listener, int status);

  uv_loop_t* const loop_;
  const ServerLimits limits_;
  Handler& handler_;
  uv_tcp_t* listener_ = nullptr;
  std::unordered_set<Connection*> connections_;  // served; at most limits_.max_connections
  std::unordered_set<Connection*> refused_;      // answered 503, closing
  std::vector<Connection*> holding_;             // with answers held back (each once)
  std::vector<Connection*> releasing_;           // holding_, taken by release_held()
  std::unordered_map<uint64_t, Connection*> deferred_;  // requests whose answer is not known yet
  uint64_t last_ticket_ = 0;
  // Every connection reads into this one buffer: a read is parsed completely before the next.
  std::unique_ptr<char[]> read_buffer_;
};

}  // namespace tidewire::detail
