#include "config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <strings.h>

#include "error.h"
#include "redis/url.h"
#include "url.h"

namespace tidewire::detail {
namespace {

constexpr int64_t kDay = 86'400'000;

std::vector<KeySpec> make_table() {
  using K = KeyType;
  return {
      {"transport", K::enumeration, "auto", "auto|poll|longpoll|sse|ws|webhook|mcp|redis",
       "How to reach the source. `auto` means `ws` for ws:// and wss:// URLs and `redis` for redis:// URLs; other URLs "
       "need an explicit transport (`mcp`, MCP Streamable HTTP, is never inferred)."},
      {"url", K::string, "", "an absolute http://, https://, ws://, wss:// or redis:// URL",
       "The source. Required."},
      {"header.", K::map, "", "any header value without CR, LF or NUL (a rejected value is never shown in the error)",
       "A request header sent on every request and handshake, e.g. `header.Authorization`."},
      {"connect_timeout_ms", K::integer, "10000", "1..86400000",
       "Time allowed to connect and receive response headers before the attempt counts as failed (for "
       "long-poll: to connect and send the request; the server may then hold it for longpoll.timeout_ms). With "
       "read_timeout_ms=0 it also bounds a poll or error response body.", 1, kDay},
      {"read_timeout_ms", K::integer, "300000", "0..86400000 (0 = none)",
       "Silence on an open SSE response after which the connection is dropped and resumed (paused reading, "
       "for backpressure, does not count). Also the deadline for a whole poll or long-poll body and for an "
       "error response's body (0: connect_timeout_ms, and for long-poll at least longpoll.timeout_ms); a "
       "stalled error body fails the attempt with its HTTP status.", 0, kDay},
      {"reconnect.initial_ms", K::integer, "1000", "0..86400000",
       "Base delay of the exponential backoff; the n-th consecutive retry waits a random time in "
       "[0, min(reconnect.max_ms, initial·2ⁿ)] (full jitter).", 0, kDay},
      {"reconnect.max_ms", K::integer, "30000", "0..86400000",
       "Upper bound of every reconnect delay, server hints (SSE `retry:`, `Retry-After`) included.", 0, kDay},
      {"reconnect.max_attempts", K::integer, "0", "0..1000000 (0 = unlimited)",
       "Consecutive failed attempts after which the stream ends with TW_ERR_GAVE_UP.", 0, 1'000'000},
      {"reconnect.reset_after_ms", K::integer, "60000", "0..86400000",
       "A connection that stayed healthy this long resets the backoff to its first step.", 0, kDay},
      {"reconnect.first_connect", K::boolean, "true", "true|false",
       "Whether a failed first connection is retried like any other (false: it ends the stream).", 0, 0},
      {"reconnect.on_auth_failure", K::enumeration, "fatal", "fatal|wait",
       "What a 401 or 403 (to a request or a WebSocket handshake) does. `fatal`: the stream ends with "
       "TW_ERR_HTTP_STATUS. `wait`: an `auth_required` event (with the status) is queued, even without "
       "status_events, and the stream waits up to reconnect.auth_wait_ms for tw_stream_set_header or "
       "tw_stream_restart, then tries again once; without either in time it ends as with `fatal`.", 0, 0},
      {"reconnect.auth_wait_ms", K::integer, "60000", "1..86400000",
       "With reconnect.on_auth_failure=wait: how long a stream refused with 401/403 waits for new credentials.",
       1, kDay},
      {"poll.interval_ms", K::integer, "5000", "0..86400000",
       "Delay between the end of one poll and the start of the next.", 0, kDay},
      {"poll.max_interval_ms", K::integer, "300000", "0..86400000",
       "Cap on server hints for polling (`X-Poll-Interval`, `Retry-After`).", 0, kDay},
      {"poll.expose_headers", K::list, "", "comma-separated header names, or *",
       "Response headers copied onto poll and long-poll events, besides content-type, etag, "
       "last-modified, cache-control and the cursor header; `*` copies every response header.", 0, 0},
      {"poll.max_body_bytes", K::integer, "16777216", "1..1073741824",
       "Largest poll or long-poll response body accepted; a larger one ends the stream with TW_ERR_LIMIT.", 1,
       1 << 30},
      {"longpoll.timeout_ms", K::integer, "90000", "1..86400000",
       "Time a long-poll request may be held by the server, counted from when the request is sent; connecting "
       "(TCP, proxy, TLS) is bounded by connect_timeout_ms. A held request past it is re-issued without "
       "counting as a failure. An answer that brings no change (same cursor, or 204) and comes back sooner "
       "than a floor is not re-issued at once: the next request waits for the rest of that floor, which starts "
       "at max(reconnect.initial_ms, 100 ms) and doubles for each such answer in a row, up to "
       "reconnect.max_ms. Any change, or an answer held at least that long, resets it. These waits are not "
       "failures.", 1, kDay},
      {"longpoll.cursor_header", K::string, "", "a header name",
       "Response header carrying the cursor (e.g. `X-Consul-Index`).", 0, 0},
      {"longpoll.cursor_param", K::string, "", "a query parameter name (no CR, LF, NUL, blanks, control characters, &, =, ? or #)",
       "Query parameter that sends the cursor back (e.g. `index`).", 0, 0},
      {"longpoll.cursor", K::string, "", "any string",
       "Cursor to send on the first request.", 0, 0},
      {"sse.end_data", K::string, "", "any text without CR or LF (empty = none)",
       "An SSE event whose data equals this text (e.g. `[DONE]`) ends the stream cleanly; that event is not "
       "delivered.", 0, 0},
      {"sse.end_event", K::string, "", "an event name without CR or LF (empty = none)",
       "An SSE event of this type (e.g. `message_stop`) is delivered, then the stream ends cleanly.", 0, 0},
      {"sse.comments", K::boolean, "false", "true|false",
       "Deliver SSE comment lines (`: text`) as events of kind `comment` whose data is the text after the "
       "colon (one leading space removed). Counted in `comments`, not `messages`.", 0, 0},
      {"sse.last_event_id", K::string, "", "any string without NUL, CR or LF",
       "`Last-Event-ID` to send on the first connection (resume a previous session).", 0, 0},
      {"sse.max_line_bytes", K::integer, "1048576", "16..1073741824",
       "Longest SSE line accepted; a longer line ends the stream with TW_ERR_LIMIT instead of growing "
       "memory.", 16, 1 << 30},
      {"sse.max_event_bytes", K::integer, "16777216", "16..1073741824",
       "Largest SSE event accepted (its data, id and event name together, before dispatch); a larger one ends "
       "the stream with TW_ERR_LIMIT instead of growing memory.", 16, 1 << 30},
      {"queue.max_events", K::integer, "4096", "1..16777216",
       "Capacity of the stream's event queue. Status events count too: CLOSED and ERROR are always queued, "
       "over any limit; when the queue is full a new open or reconnecting event replaces an unread one at the "
       "tail, or else is dropped (counted in `dropped`).", 1, 1 << 24},
      {"queue.max_bytes", K::integer, "268435456", "1..68719476736",
       "Bytes the stream's event queue may hold (each event's data, id, type and header names and values); "
       "reaching it acts like a full queue (queue.overflow), and `pause` resumes once both count and bytes are "
       "at or below half. One event larger than this is still accepted when the queue is empty, so nothing is "
       "stuck.", 1,
       68'719'476'736},
      {"queue.overflow", K::enumeration, "pause", "pause|drop_oldest",
       "When the queue is full: `pause` stops reading the socket (or delays the next poll) until the "
       "consumer catches up; `drop_oldest` discards the oldest event and counts it in `dropped`.", 0, 0},
      {"status_events", K::boolean, "false", "true|false",
       "Also queue open / reconnecting / error / closed events.", 0, 0},
      {"tls.ca_file", K::string, "", "a path to a PEM file",
       "Trusted CA certificates for https:// and wss:// (default: the system store).", 0, 0},
      {"tls.verify", K::boolean, "true", "true|false",
       "Verify the server's certificate and host name. `false` is for tests only.", 0, 0},
      {"redirect.max", K::integer, "5", "0..20",
       "Redirects (301, 302, 303, 307, 308) followed per request; one more ends the stream with "
       "TW_ERR_LIMIT.", 0, 20},
      {"redirect.cross_origin_headers", K::boolean, "false", "true|false",
       "Whether `header.*` values are sent after a redirect to another origin (scheme, host or port). By "
       "default they go only to the configured origin, so a token never reaches a host it was not meant for. "
       "A redirect from https:// to http:// is always refused.", 0, 0},
      {"proxy.url", K::string, "", "http://host:port",
       "HTTP CONNECT proxy for every connection of the stream. When empty, HTTPS_PROXY (https, wss) or "
       "HTTP_PROXY (http, ws) from the environment is used unless NO_PROXY exempts the host.", 0, 0},
      {"http.method", K::string, "GET", "an HTTP method token (GET, POST, PUT, PATCH, DELETE, REPORT, QUERY, ...)",
       "Request method for sse, poll and longpoll (case kept: methods are case-sensitive). Not for ws or "
       "webhook.", 0, 0},
      {"http.body", K::string, "", "any bytes, NUL included",
       "Request body for sse, poll and longpoll, sent with Content-Length and, unless header.Content-Type is "
       "set, `Content-Type: application/json`. Unset: no body. Never logged, never shown in an error. Not for "
       "ws or webhook.", 0, 0},
      {"http.replay_body", K::enumeration, "auto", "auto|always|never",
       "Whether an SSE reconnect (or a retry on a fresh connection after a kept-alive one was found closed) "
       "sends the request again. `auto`: when the method is idempotent (RFC 9110: GET, HEAD, PUT, DELETE, "
       "OPTIONS, TRACE; also QUERY, REPORT, PROPFIND, SEARCH) or the server gave an event id to resume from "
       "(sent as Last-Event-ID); `never`: idempotent methods only; `always`: every method. A stream that may "
       "not send its request again ends when its response ends: cleanly if it completed, with TW_ERR_IO "
       "\"cut, not resumable\" if it was cut, with TW_ERR_HTTP_STATUS if it was answered with an error, "
       "even a transient one (408, 429, 5xx). tw_stream_restart always sends it again.", 0, 0},
      {"http.idle_timeout_ms", K::integer, "30000", "0..86400000 (0 = no reuse)",
       "How long a kept-alive connection waits for the stream's next request (poll, long-poll, a reconnect) "
       "before it is closed; requests to the same origin reuse it instead of connecting again.", 0, kDay},
      {"ws.subprotocols", K::list, "", "comma-separated subprotocol names",
       "Offered in `Sec-WebSocket-Protocol`, in order of preference.", 0, 0},
      {"ws.compression", K::enumeration, "on", "on|off",
       "Whether permessage-deflate (RFC 7692) is offered; the server decides. Decompressed messages are "
       "bounded by ws.max_message_bytes.", 0, 0},
      {"ws.max_message_bytes", K::integer, "16777216", "1..1073741824",
       "Largest message accepted (fragments included); a larger one closes with 1009 and ends the stream "
       "with TW_ERR_LIMIT.", 1, 1 << 30},
      {"ws.send_buffer_bytes", K::integer, "4194304", "1..1073741824",
       "Bytes that tw_stream_send may queue before the I/O thread writes them; beyond it, send returns "
       "TW_ERR_WOULD_BLOCK.", 1, 1 << 30},
      {"ws.ping_interval_ms", K::integer, "20000", "0..86400000 (0 = no pings)",
       "Keepalive ping period.", 0, kDay},
      {"ws.pong_timeout_ms", K::integer, "10000", "1..86400000",
       "A ping unanswered this long drops the connection and reconnects. Measured on the I/O thread, and "
       "suspended while reading is paused for a slow consumer.", 1, kDay},
      {"ws.subscribe_message", K::string, "", "any text",
       "A text message sent after every (re)connect, before anything queued by tw_stream_send.", 0, 0},
      {"webhook.scheme", K::enumeration, "standard", "standard|svix|github|stripe|slack|hmac-sha256|none",
       "How webhook deliveries are signed: Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
       "`webhook-signature`), Svix (the same with `svix-*` headers), GitHub (`X-Hub-Signature-256`), Stripe "
       "(`Stripe-Signature`), Slack (`X-Slack-Signature`), an HMAC-SHA256 of the body in a header of your "
       "choice (`hmac-sha256`), or `none`: unsigned deliveries, accepted only when asked for.", 0, 0},
      {"webhook.secret", K::string, "", "comma-separated secrets (a secret cannot contain a comma)",
       "Signing secrets; list the old and the new one while a secret rotates. Standard and svix take "
       "`whsec_<base64>` secrets; the other schemes use the secret exactly as the sender shows it (Stripe's "
       "`whsec_...` string itself is the key). Required unless webhook.scheme=none. Never logged.", 0, 0},
      {"webhook.tolerance_s", K::integer, "300", "0..31536000 (0 = not checked)",
       "Largest difference, either way, between a delivery's signed timestamp and the clock (standard, svix, "
       "stripe, slack); a stale or future delivery is refused with 401.", 0, 31'536'000},
      {"webhook.signature_header", K::string, "", "a header name",
       "hmac-sha256: the request header that carries the signature. Required for that scheme.", 0, 0},
      {"webhook.signature_encoding", K::enumeration, "hex", "hex|base64",
       "hmac-sha256: how the signature is encoded.", 0, 0},
      {"webhook.signature_prefix", K::string, "", "any text, e.g. `sha256=`",
       "hmac-sha256: text that must precede the signature (compared ignoring case) and is stripped before "
       "decoding. Empty: the whole header value is the signature.", 0, 0},
      {"webhook.id_header", K::string, "", "a header name",
       "hmac-sha256 and none: the request header carrying the delivery id (the event id, and the key for "
       "deduplication). The other schemes have their own.", 0, 0},
      {"webhook.max_body_bytes", K::integer, "1048576", "0..1073741824",
       "Largest request body accepted; a larger one is refused with 413, at once when Content-Length says so, "
       "otherwise as soon as a chunked body grows past it.", 0, 1 << 30},
      {"webhook.max_header_bytes", K::integer, "16384", "256..1048576",
       "Largest request head (request line and header fields) accepted; a larger one is refused with 431.",
       256, 1 << 20},
      {"webhook.header_timeout_ms", K::integer, "10000", "1..86400000",
       "Time a client has from a request's first byte to the end of its head before it is disconnected.", 1,
       kDay},
      {"webhook.idle_timeout_ms", K::integer, "60000", "1..86400000",
       "Silence after which a connection is closed, between requests (keep-alive) or inside one.", 1, kDay},
      {"webhook.request_timeout_ms", K::integer, "30000", "1..86400000",
       "Time a client has from a request's first byte to its last body byte; a slower request is answered "
       "408 and the connection closed, however steadily it trickles.", 1, kDay},
      {"webhook.max_connections", K::integer, "1024", "1..1000000",
       "Open connections the endpoint holds at once; one more is answered 503 with `Retry-After` and "
       "closed at once. At most as many refusals are pending at once; past that a connection is closed "
       "unanswered.", 1, 1'000'000},
      {"webhook.dedup_window_s", K::integer, "300", "0..604800 (0 = off)",
       "A delivery whose id was queued less than this long ago is acknowledged but not queued again. An id is "
       "kept at least until its signed timestamp + webhook.tolerance_s has passed, so a replay inside the "
       "tolerance is still recognised.", 0,
       604'800},
      {"webhook.dedup_max_ids", K::integer, "100000", "1..10000000",
       "Most delivery ids remembered for deduplication (under 100 bytes each, however long the id); past it "
       "the oldest are forgotten first.", 1, 10'000'000},
      {"webhook.retry_after_s", K::integer, "5", "0..86400",
       "`Retry-After` of the 503 that refuses deliveries while the queue is full (queue.overflow=pause).", 0,
       86'400},
      {"mcp.protocol_version", K::string, "", "an MCP protocol version, e.g. 2025-11-25 (empty: the server's)",
       "mcp: the MCP-Protocol-Version header sent after initialization. Empty: the `protocolVersion` of the "
       "server's initialize result."},
      {"mcp.listen", K::boolean, "true", "true|false",
       "mcp: open the GET stream of server-initiated messages once the session is initialized (a server "
       "that answers 405 has none; that is not an error). The policy keeps it up (reconnect.*, retry:, "
       "Last-Event-ID)."},
      {"mcp.max_message_bytes", K::integer, "16777216", "16..1073741824",
       "mcp: the largest JSON response body (one message or a batch); a larger one ends the stream with "
       "TW_ERR_LIMIT. Messages in SSE are bounded by sse.max_line_bytes and sse.max_event_bytes.", 16,
       1'073'741'824},
      {"mcp.send_buffer_bytes", K::integer, "4194304", "1..1073741824",
       "mcp: bytes of messages given to tw_stream_send and not yet posted; a send that would exceed it "
       "returns TW_ERR_WOULD_BLOCK.", 1, 1'073'741'824},
      {"mcp.delete_timeout_ms", K::integer, "2000", "1..60000",
       "mcp: how long closing the stream waits for the server to take the DELETE that ends the session; "
       "the stream itself ends at once.", 1, 60'000},
      {"redis.ack", K::enumeration, "auto", "auto|manual",
       "redis: when an entry is acknowledged (XACK). `auto`: when tw_stream_next hands it to the "
       "application (one still in the stream's queue when the process dies is claimed later). `manual`: when the "
       "application calls tw_stream_ack (bindings: ack()) after handling it; an entry never acknowledged is "
       "claimed by another consumer after redis.claim_idle_ms.", 0, 0},
      {"redis.claim_idle_ms", K::integer, "60000", "0..86400000 (0 = never claim)",
       "redis: entries another consumer of the group has left unacknowledged this long are claimed (XAUTOCLAIM) "
       "and delivered here, so a crashed worker's entries reach a live one. Checked every half of it.", 0, kDay},
      {"redis.block_ms", K::integer, "5000", "1..86400000",
       "redis: how long one XREADGROUP waits on the server for new entries (the long-poll), at most "
       "redis.claim_idle_ms.", 1, kDay},
      {"redis.count", K::integer, "100", "1..100000",
       "redis: entries read (or claimed) per request.", 1, 100'000},
      {"redis.timeout_ms", K::integer, "5000", "1..86400000",
       "Time Redis has to answer a command (beyond a read's redis.block_ms) before the connection counts as failed: "
       "a redis stream reconnects, a webhook answers 503 with `Retry-After`.", 1, kDay},
      {"redis.max_reply_bytes", K::integer, "67108864", "1024..1073741824",
       "Largest reply accepted from Redis (its bytes and objects together); a larger one fails the connection with "
       "TW_ERR_LIMIT instead of growing memory.", 1024, 1 << 30},
      {"redis.key_prefix", K::string, "tidewire:dedup:", "any text",
       "webhook.dedup_store: prefix of the keys (`<prefix><scheme>:<delivery id>`).", 0, 0},
      {"webhook.dedup_store", K::string, "", "empty, or redis://[:password@]host[:port][/db]",
       "Where delivery ids are remembered for deduplication. Empty: in this process (webhook.dedup_max_ids). A "
       "redis:// URL: in Redis (`SET key 1 NX PX window`), shared by every receiver using it, so a delivery retried "
       "to another receiver is acknowledged there without being accepted twice; Redis unreachable or slow: 503 + "
       "`Retry-After`.", 0, 0},
      {"webhook.handoff", K::string, "", "empty, or redis://[:password@]host[:port][/db]?stream=NAME[&maxlen=N]",
       "Durable hand-off: each verified delivery is appended (XADD) to this Redis Stream before it is answered "
       "2xx, with fields id, type, data (the raw body), scheme, received_at and h.<name> for the headers in "
       "webhook.handoff_headers. Redis unreachable or slow: 503 + `Retry-After`, so the sender retries. "
       "`maxlen=N` trims the stream to about N entries (XADD MAXLEN ~).", 0, 0},
      {"webhook.handoff_headers", K::list, "content-type", "comma-separated header names",
       "webhook.handoff: request headers copied into each entry (as h.<lower-case name>).", 0, 0},
      {"webhook.local_queue", K::boolean, "true", "true|false",
       "Whether accepted deliveries are also queued to this stream's consumers. `false` (needs webhook.handoff): "
       "a receiver that only forwards to Redis.", 0, 0},
      {"sink", K::string, "", "empty, or redis://[:password@]host[:port][/db]?stream=NAME[&maxlen=N]",
       "Forward the stream's messages to a Redis Stream (XADD: id, type, data, transport, received_at) instead of "
       "queueing them here, so a poller or SSE reader on one machine feeds redis workers on many. Entries are "
       "kept until Redis confirms them; once queue.max_events wait (Redis unreachable or slow), reading pauses "
       "as for a full queue. When the stream ends, entries not yet confirmed still go, for up to "
       "sink.flush_timeout_ms.", 0, 0},
      {"sink.flush_timeout_ms", K::integer, "5000", "0..600000",
       "sink: how long entries accepted and not yet confirmed by Redis may still take to be appended once the "
       "stream ends (closed, or ended by its source). Those still unconfirmed then are dropped with a warning "
       "naming how many. A runtime being destroyed waits for this too, at most about 2 s.", 0, 600000},
  };
}

bool parse_int(const std::string& text, int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  errno = 0;
  long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (errno) return false;
  out = v;
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  if (text == "true" || text == "1") return out = true, true;
  if (text == "false" || text == "0") return out = false, true;
  return false;
}

// The forms a value may take, so that a binding passes its language's own text of a value (Python
// str(True) is "True", str(2.0) is "2.0", str(["a"]) is "['a']"; Java's List.toString is "[a]")
// and never converts it itself. Each returns the canonical text the rest of the core reads, or
// false.

bool canonical_bool(const std::string& text, std::string& out) {
  if (text == "1" || strcasecmp(text.c_str(), "true") == 0) return out = "true", true;
  if (text == "0" || strcasecmp(text.c_str(), "false") == 0) return out = "false", true;
  return false;
}

// Milliseconds per unit of a duration suffix, for keys counted in ms or s; 0 if none fits.
int64_t unit_scale(const std::string& key, const std::string& unit) {
  bool ms_key = key.size() > 3 && key.compare(key.size() - 3, 3, "_ms") == 0;
  bool s_key = key.size() > 2 && key.compare(key.size() - 2, 2, "_s") == 0;
  if (!ms_key && !s_key) return 0;
  int64_t ms = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 0;
  if (s_key) return ms % 1000 == 0 ? ms / 1000 : 0;
  return ms;
}

// Decimal digits, optionally with a fraction ("2.0", "1.5" before a unit) and, for keys counted in
// ms or s, a unit ("1500ms", "30s", "1.5s", "5m", "1h"). The result must be a whole number.
bool canonical_int(const std::string& key, const std::string& text, std::string& out) {
  size_t end = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, end);
  int64_t scale = 1;
  if (end != std::string::npos && !(scale = unit_scale(key, text.substr(end)))) return false;
  size_t dot = number.find('.');
  std::string whole = number.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : number.substr(dot + 1);
  if (dot != std::string::npos && (fraction.empty() || fraction.find('.') != std::string::npos)) return false;
  int64_t value = 0;
  if (!parse_int(whole, value) || value > INT64_MAX / scale) return false;
  value *= scale;
  // The fraction times the unit must come out whole: 1.5s is 1500 ms, 1.5 (no unit) is refused.
  fraction.erase(fraction.find_last_not_of('0') + 1);
  if (fraction.size() > 12) return false;
  if (!fraction.empty()) {
    int64_t digits = 0, denominator = 1;
    parse_int(fraction, digits);
    for (size_t i = 0; i < fraction.size(); ++i) denominator *= 10;
    if ((digits * scale) % denominator != 0 || value > INT64_MAX - digits * scale / denominator) return false;
    value += digits * scale / denominator;
  }
  out = std::to_string(value);
  return true;
}

// "a,b", or the list written as a list: "[a, b]", "['a', 'b']", "[\"a\",\"b\"]".
std::string canonical_list(const std::string& text) {
  std::string body = text;
  size_t first = body.find_first_not_of(" \t");
  size_t last = body.find_last_not_of(" \t");
  if (first != std::string::npos && body[first] == '[' && body[last] == ']') body = body.substr(first + 1, last - first - 1);
  else return text;
  std::string out;
  for (std::string item : Config::split_list(body)) {
    if (item.size() >= 2 && (item[0] == '\'' || item[0] == '"') && item.back() == item[0])
      item = item.substr(1, item.size() - 2);
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

bool enum_accepts(const char* accepted, const std::string& value) {
  const char* p = accepted;
  while (*p) {
    const char* bar = std::strchr(p, '|');
    size_t len = bar ? static_cast<size_t>(bar - p) : std::strlen(p);
    if (value.size() == len && value.compare(0, len, p, len) == 0) return true;
    if (!bar) break;
    p = bar + 1;
  }
  return false;
}

bool is_token_char(char c) {
  // strchr finds the terminator when asked for '\0': a NUL is no token character.
  return c != '\0' && (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c));
}

// Control bytes shown as \xNN: a NUL would cut the C string of the message before the key's name,
// and CR/LF would forge log lines.
std::string printable(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

[[noreturn]] void invalid(const std::string& key, const std::string& value, const char* accepted) {
  throw Error(TW_ERR_INVALID_VALUE,
              "invalid value \"" + printable(redact_urls(value)) + "\" for " + key + ": expected " + accepted);
}

// For values that may be secrets (header.* carries tokens): the error names the key and the
// problem, never the value.
[[noreturn]] void invalid_secret(const std::string& key, const std::string& problem) {
  throw Error(TW_ERR_INVALID_VALUE, "invalid value for " + key + " (value not shown): " + problem);
}

bool has_line_break(const std::string& value) { return value.find_first_of("\r\n") != std::string::npos; }

// A query parameter name goes into the request line as is: no controls, blanks or query syntax.
bool is_query_name(const std::string& value) {
  for (unsigned char c : value)
    if (c <= 0x20 || c == 0x7f || c == '&' || c == '=' || c == '#' || c == '?') return false;
  return true;
}

// A key as a keyword of the host language: "." written as "_" (reconnect_max_ms).
std::string alias_of(const char* name) {
  std::string alias = name;
  std::replace(alias.begin(), alias.end(), '.', '_');
  return alias;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions, "transprot"), or
// more than `limit` when the lengths alone say so. Three rows of one buffer: an unknown key is
// compared with every key of the table, and a program (or a fuzzer) may try many.
size_t edit_distance(const std::string& a, const std::string& b, size_t limit) {
  if (a.size() > b.size() + limit || b.size() > a.size() + limit) return limit + 1;
  const size_t width = b.size() + 1;
  std::vector<size_t> rows(3 * width);
  size_t* before = rows.data();  // row i - 2
  size_t* previous = before + width;
  size_t* current = previous + width;
  for (size_t j = 0; j < width; ++j) previous[j] = j;
  size_t previous_min = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    size_t row_min = i;
    for (size_t j = 1; j < width; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t d = std::min(std::min(previous[j], current[j - 1]) + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d = std::min(d, before[j - 2] + 1);
      current[j] = d;
      row_min = std::min(row_min, d);
    }
    // Distances never fall from one row to the next but one (a transposition reaches back two
    // rows): two rows over the limit settle it.
    if (row_min > limit && previous_min > limit) return limit + 1;
    previous_min = row_min;
    std::swap(before, previous);  // the old i - 2 row is written over next
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// Each key's alias, in table order.
const std::vector<std::string>& table_aliases() {
  static const std::vector<std::string> aliases = [] {
    std::vector<std::string> out;
    for (const auto& spec : key_table()) out.push_back(alias_of(spec.name));
    return out;
  }();
  return aliases;
}

// Longest key shown in an error, so that a megabyte of key does not become a megabyte of message.
constexpr size_t kShownKeyMax = 80;

std::string shown_key(const std::string& key) {
  std::string shown = printable(key.substr(0, kShownKeyMax));
  return key.size() > kShownKeyMax ? shown + "..." : shown;
}

// One rule for a key given twice, whatever the language: refused, naming both spellings, so that
// neither silently wins (Python keywords and options=, a Java builder, a C program alike).
[[noreturn]] void given_twice(const std::string& name, const std::string& first, const std::string& second) {
  throw Error(TW_ERR_INVALID_VALUE, "key '" + name + "' given twice (as " + shown_key(first) + " and " +
                                        shown_key(second) + ")");
}

// The message for an unknown key: the closest keys (at most three), written the way the caller
// writes keys (dotted, or as keywords when it used no dot), or where the keys are listed.
std::string unknown_key_message(const std::string& key) {
  std::string message = "unknown key '" + shown_key(key) + "'";
  if (key.size() > kShownKeyMax) return message + "; the keys are listed in docs/CONFIGURATION.md";
  std::string wanted = key;
  std::transform(wanted.begin(), wanted.end(), wanted.begin(), [](unsigned char c) { return std::tolower(c); });
  std::replace(wanted.begin(), wanted.end(), '.', '_');
  bool dotted = key.find('.') != std::string::npos;
  std::vector<std::pair<size_t, std::string>> close;
  const auto& table = key_table();
  for (size_t i = 0; i < table.size(); ++i) {
    const KeySpec& spec = table[i];
    if (spec.type == KeyType::map) {
      // "headers.X-Token", "header_X-Token": the header key the caller meant, with its own name.
      size_t dot = key.find_first_of("._");
      if (dot == std::string::npos) continue;
      size_t distance = edit_distance(wanted.substr(0, dot), "header", 2);
      if (distance <= 2) close.emplace_back(distance, "header." + key.substr(dot + 1));
      continue;
    }
    const std::string& alias = table_aliases()[i];
    // Close enough to be a slip of the keyboard: one edit in five characters, at least one, at most three.
    size_t limit = std::clamp<size_t>(alias.size() / 5, 1, 3);
    size_t distance = edit_distance(wanted, alias, limit);
    if (distance <= limit) close.emplace_back(distance, dotted ? std::string(spec.name) : alias);
  }
  std::stable_sort(close.begin(), close.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (close.size() > 3) close.resize(3);
  if (close.empty()) return message + "; the keys are listed in docs/CONFIGURATION.md";
  message += "; did you mean ";
  for (size_t i = 0; i < close.size(); ++i)
    message += (i == 0 ? "" : i + 1 == close.size() ? " or " : ", ") + ("'" + printable(close[i].second) + "'");
  return message + "?";
}

}  // namespace

void check_header(const std::string& name, const std::string* value) {
  const std::string key = "header." + name;
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
    throw Error(TW_ERR_UNKNOWN_KEY, "invalid header name in key \"" + printable(key) +
                                        "\": header.<Name> needs an HTTP token (letters, digits, -)");
  if (!value) return;
  if (value->find('\0') != std::string::npos)
    invalid_secret(key, "it contains a NUL character, which would cut it short");
  if (has_line_break(*value)) invalid_secret(key, "a header value cannot contain CR or LF");
}

const std::vector<KeySpec>& key_table() {
  static const std::vector<KeySpec> table = make_table();
  return table;
}

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::string: return "string";
    case KeyType::integer: return "int";
    case KeyType::boolean: return "bool";
    case KeyType::enumeration: return "enum";
    case KeyType::list: return "list";
    case KeyType::map: return "map";
  }
  return "?";
}

std::string key_display_name(const KeySpec& spec) {
  return spec.type == KeyType::map ? std::string(spec.name) + "<Name>" : spec.name;
}

const KeySpec* find_key(const std::string& key) {
  const std::vector<std::string>& aliases = table_aliases();
  const auto& table = key_table();
  for (size_t i = 0; i < table.size(); ++i)
    if (table[i].type != KeyType::map && (key == table[i].name || key == aliases[i])) return &table[i];
  return nullptr;
}

std::string key_alias(const KeySpec& spec) { return spec.type == KeyType::map ? "" : alias_of(spec.name); }

void Config::set(const std::string& key, const std::string& value) {
  // Keys and values reach C strings further on (headers, URLs, file names): a NUL would cut them
  // short without a word. The value is not shown: it may be a secret.
  if (key.find('\0') != std::string::npos)
    throw Error(TW_ERR_UNKNOWN_KEY, "invalid key '" + shown_key(key) + "': it contains a NUL character");
  if (key.rfind("header.", 0) == 0) {
    std::string name = key.substr(7);
    check_header(name, &value);
    for (const auto& h : headers_)
      if (strcasecmp(h.first.c_str(), name.c_str()) == 0) given_twice("header." + h.first, "header." + h.first, key);
    headers_.emplace_back(name, value);
    return;
  }
  const KeySpec* found = find_key(key);
  if (!found) throw Error(TW_ERR_UNKNOWN_KEY, unknown_key_message(key));
  const std::string name = found->name;
  if (auto it = spelled_.find(name); it != spelled_.end()) given_twice(name, it->second, key);
  // http.body is the one value that is bytes, not text: it is sent with its length.
  if (value.find('\0') != std::string::npos && name != "http.body")
    invalid_secret(name, "it contains a NUL character, which would cut it short");
  std::string canonical = value;
  switch (found->type) {
    case KeyType::integer: {
      int64_t v = 0;
      if (!canonical_int(name, value, canonical) || !parse_int(canonical, v) || v < found->min || v > found->max)
        invalid(name, value, found->accepted);
      break;
    }
    case KeyType::boolean:
      if (!canonical_bool(value, canonical)) invalid(name, value, "true or false");
      break;
    case KeyType::enumeration:
      if (!enum_accepts(found->accepted, value)) invalid(name, value, found->accepted);
      break;
    case KeyType::string:
      if (name == "longpoll.cursor_param" && !is_query_name(value))
        throw Error(TW_ERR_INVALID_VALUE, "invalid value for longpoll.cursor_param: a query parameter name "
                                          "cannot contain CR, LF, NUL, blanks, control characters, &, =, ? or #");
      if ((name == "url" || name == "sink" || name == "webhook.dedup_store" || name == "webhook.handoff") &&
          redis::is_redis_url(value)) {
        redis::RedisUrl::parse(value, name);
      } else if (name == "sink" || name == "webhook.dedup_store" || name == "webhook.handoff") {
        if (!value.empty()) invalid(name, value, found->accepted);
      } else if (name == "url" && !value.empty()) {
        try {
          Url::parse_listen(value);  // port 0 is for webhook only: see validated_transport()
        } catch (const Error& e) {
          throw Error(TW_ERR_INVALID_VALUE, "invalid value \"" + printable(redact_urls(value)) + "\" for url: " + e.what());
        }
      }
      if (name == "proxy.url" && !value.empty()) {
        bool ok = false;
        try {
          Url proxy = Url::parse(value);
          ok = proxy.scheme == "http" && proxy.target == "/";
        } catch (const Error&) {
        }
        if (!ok) invalid(name, value, found->accepted);
      }
      if ((name == "sse.last_event_id" || name == "sse.end_data" || name == "sse.end_event") && has_line_break(value))
        invalid(name, value, found->accepted);
      if (name == "http.method" && (value.empty() || !std::all_of(value.begin(), value.end(), is_token_char)))
        invalid(name, value, found->accepted);
      break;
    case KeyType::list:
      canonical = canonical_list(value);
      for (const auto& item : split_list(canonical))
        if (!std::all_of(item.begin(), item.end(), is_token_char)) invalid(name, value, found->accepted);
      break;
    case KeyType::map:
      break;
  }
  values_[name] = std::move(canonical);
  spelled_[name] = key;
}

void Config::set_value(const std::string& key, const std::string& value, tw_value_kind kind,
                       const std::string& type_name) {
  if (kind == TW_VALUE_TEXT) return set(key, value);
  const KeySpec* found = find_key(key);
  bool header = key.rfind("header.", 0) == 0;
  if (header) check_header(key.substr(7), nullptr);
  else if (!found) throw Error(TW_ERR_UNKNOWN_KEY, unknown_key_message(key));
  if (kind == TW_VALUE_LIST && found && found->type == KeyType::list) return set(key, value);
  // The host printed the value (Python's "['a']", JavaScript's "a,b"): stored, it would be a
  // string nobody wrote. The type is named, the value is not (it may hold a secret).
  const std::string name = header ? key : found->name;
  const char* accepted = header ? "a header value (text)" : found->accepted;
  throw Error(TW_ERR_INVALID_VALUE, "invalid value for " + name + ": a value of type " +
                                        printable(type_name.empty() ? "unknown" : type_name) +
                                        " is not accepted; expected " + accepted);
}

void Config::unset(const std::string& key) {
  if (key.rfind("header.", 0) == 0) {
    std::string name = key.substr(7);
    check_header(name, nullptr);
    headers_.erase(std::remove_if(headers_.begin(), headers_.end(),
                                  [&](const auto& h) { return strcasecmp(h.first.c_str(), name.c_str()) == 0; }),
                   headers_.end());
    return;
  }
  const KeySpec* found = find_key(key);
  if (!found) throw Error(TW_ERR_UNKNOWN_KEY, unknown_key_message(key));
  values_.erase(found->name);
  spelled_.erase(found->name);
}

std::string Config::get(const std::string& key) const {
  if (key.rfind("header.", 0) == 0) {
    for (const auto& h : headers_)
      if (strcasecmp(h.first.c_str(), key.c_str() + 7) == 0) return h.second;
    return "";
  }
  if (const KeySpec* found = find_key(key)) return str(found->name);
  throw Error(TW_ERR_UNKNOWN_KEY, unknown_key_message(key));
}

Config::Config() = default;

const std::string& Config::str(const char* key) const {
  // Every stream holds a Config: defaults live once, in this table, not in each copy.
  static const std::map<std::string, std::string, std::less<>> defaults = [] {
    std::map<std::string, std::string, std::less<>> m;
    for (const auto& spec : key_table())
      if (spec.type != KeyType::map) m.emplace(spec.name, spec.default_value);
    return m;
  }();
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  auto d = defaults.find(key);
  if (d == defaults.end()) throw Error(TW_ERR_INTERNAL, std::string("no such key in the table: ") + key);
  return d->second;
}

int64_t Config::integer(const char* key) const {
  int64_t v = 0;
  parse_int(str(key), v);
  return v;
}

bool Config::boolean(const char* key) const {
  bool b = false;
  parse_bool(str(key), b);
  return b;
}

std::vector<std::string> Config::split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> Config::list(const char* key) const { return split_list(str(key)); }

tw_transport Config::validated_transport() const {
  const std::string& url = str("url");
  if (url.empty()) throw Error(TW_ERR_INVALID_VALUE, "url is required: set \"url\" to the source's address");
  const std::string& t = str("transport");
  if (redis::is_redis_url(url) || t == "redis") {
    if (t != "auto" && t != "redis")
      throw Error(TW_ERR_INVALID_VALUE, "url: \"redis://\" does not suit transport " + t + " (use redis)");
    if (!redis::is_redis_url(url)) throw Error(TW_ERR_INVALID_VALUE, "url: transport redis needs a redis:// URL");
    redis::RedisUrl parsed = redis::RedisUrl::parse(url, "url");
    for (const char* param : {"stream", "group"})
      if (parsed.param(param).empty())
        throw Error(TW_ERR_INVALID_VALUE, std::string("url: a redis stream needs ?") + param +
                                              "=... (redis://host:port/db?stream=NAME&group=G[&consumer=C])");
    for (const char* key : {"http.method", "http.body"})
      if (is_set(key)) throw Error(TW_ERR_INVALID_VALUE, std::string(key) + " is only for sse, poll and longpoll, not transport redis");
    if (!str("sink").empty())
      throw Error(TW_ERR_INVALID_VALUE, "sink is for poll, longpoll, sse and ws, not transport redis");
    return TW_TRANSPORT_REDIS;
  }
  Url parsed = Url::parse_listen(url);
  bool ws_url = parsed.scheme == "ws" || parsed.scheme == "wss";
  tw_transport transport;
  if (t == "auto") {
    if (!ws_url)
      throw Error(TW_ERR_INVALID_VALUE,
                  "transport: cannot be inferred from \"" + parsed.scheme +
                      "://\" URLs; set it to poll, longpoll, sse or webhook");
    transport = TW_TRANSPORT_WS;
  } else if (t == "poll") {
    transport = TW_TRANSPORT_POLL;
  } else if (t == "longpoll") {
    transport = TW_TRANSPORT_LONGPOLL;
  } else if (t == "sse") {
    transport = TW_TRANSPORT_SSE;
  } else if (t == "ws") {
    transport = TW_TRANSPORT_WS;
  } else if (t == "mcp") {
    transport = TW_TRANSPORT_MCP;
  } else {
    transport = TW_TRANSPORT_WEBHOOK;
  }
  if ((transport == TW_TRANSPORT_WS) != ws_url)
    throw Error(TW_ERR_INVALID_VALUE, "url: \"" + parsed.scheme + "://\" does not suit transport " + t +
                                          (ws_url ? " (use ws)" : " (ws needs ws:// or wss://)"));
  if (parsed.port == 0 && transport != TW_TRANSPORT_WEBHOOK)
    throw Error(TW_ERR_INVALID_VALUE, "url: port 0 (any free port) is only for transport webhook");
  if (transport == TW_TRANSPORT_WS || transport == TW_TRANSPORT_WEBHOOK || transport == TW_TRANSPORT_MCP)
    for (const char* key : {"http.method", "http.body"})
      if (is_set(key))
        throw Error(TW_ERR_INVALID_VALUE, std::string(key) + " is only for sse, poll and longpoll, not transport " + t +
                                              (transport == TW_TRANSPORT_MCP ? " (send messages with tw_stream_send)" : ""));
  if (!str("sink").empty()) {
    if (transport == TW_TRANSPORT_WEBHOOK)
      throw Error(TW_ERR_INVALID_VALUE, "sink is for poll, longpoll, sse and ws; a webhook hands off with webhook.handoff");
    if (redis::RedisUrl::parse(str("sink"), "sink").param("stream").empty())
      throw Error(TW_ERR_INVALID_VALUE, "sink: the URL needs ?stream=NAME (the Redis Stream to append to)");
  }
  if (transport == TW_TRANSPORT_LONGPOLL &&
      str("longpoll.cursor_header").empty() != str("longpoll.cursor_param").empty())
    throw Error(TW_ERR_INVALID_VALUE,
                "longpoll.cursor_header and longpoll.cursor_param must be set together");
  return transport;
}

}  // namespace tidewire::detail
