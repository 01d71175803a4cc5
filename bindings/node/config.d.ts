// Generated from the key table (core/src/config.cc) by tools/config_doc.c; do not edit.
// Regenerate: build/tools/tw_config_doc --typescript > bindings/node/config.d.ts

/** A duration in ms: a number, or text with a unit ("1500ms", "30s", "1.5s", "5m", "1h"). */
export type Milliseconds = number | bigint | `${number}${'ms' | 's' | 'm' | 'h'}`;
/** A duration in s: a number, or text with a unit ("30s", "5m", "1h"). */
export type Seconds = number | bigint | `${number}${'s' | 'm' | 'h'}`;

/** Every configuration key under its alias ("." written as "_"): the options of `new Stream()`. */
export interface ConfigOptions {
  /** How to reach the source. `auto` means `ws` for ws:// and wss:// URLs and `redis` for redis:// URLs; other URLs need an explicit transport (`mcp`, MCP Streamable HTTP, is never inferred). Default: `auto`. */
  transport?: 'auto' | 'poll' | 'longpoll' | 'sse' | 'ws' | 'webhook' | 'mcp' | 'redis';
  /** The source. Required. */
  url?: string;
  /** Time allowed to connect and receive response headers before the attempt counts as failed (for long-poll: to connect and send the request; the server may then hold it for longpoll.timeout_ms). With read_timeout_ms=0 it also bounds a poll or error response body. Default: `10000`. */
  connect_timeout_ms?: Milliseconds;
  /** Silence on an open SSE response after which the connection is dropped and resumed (paused reading, for backpressure, does not count). Also the deadline for a whole poll or long-poll body and for an error response's body (0: connect_timeout_ms, and for long-poll at least longpoll.timeout_ms); a stalled error body fails the attempt with its HTTP status. Default: `300000`. */
  read_timeout_ms?: Milliseconds;
  /** Base delay of the exponential backoff; the n-th consecutive retry waits a random time in [0, min(reconnect.max_ms, initial·2ⁿ)] (full jitter). Default: `1000`. */
  reconnect_initial_ms?: Milliseconds;
  /** Upper bound of every reconnect delay, server hints (SSE `retry:`, `Retry-After`) included. Default: `30000`. */
  reconnect_max_ms?: Milliseconds;
  /** Consecutive failed attempts after which the stream ends with TW_ERR_GAVE_UP. Default: `0`. */
  reconnect_max_attempts?: number | bigint;
  /** A connection that stayed healthy this long resets the backoff to its first step. Default: `60000`. */
  reconnect_reset_after_ms?: Milliseconds;
  /** Whether a failed first connection is retried like any other (false: it ends the stream). Default: `true`. */
  reconnect_first_connect?: boolean;
  /** What a 401 or 403 (to a request or a WebSocket handshake) does. `fatal`: the stream ends with TW_ERR_HTTP_STATUS. `wait`: an `auth_required` event (with the status) is queued, even without status_events, and the stream waits up to reconnect.auth_wait_ms for tw_stream_set_header or tw_stream_restart, then tries again once; without either in time it ends as with `fatal`. Default: `fatal`. */
  reconnect_on_auth_failure?: 'fatal' | 'wait';
  /** With reconnect.on_auth_failure=wait: how long a stream refused with 401/403 waits for new credentials. Default: `60000`. */
  reconnect_auth_wait_ms?: Milliseconds;
  /** Delay between the end of one poll and the start of the next. Default: `5000`. */
  poll_interval_ms?: Milliseconds;
  /** Cap on server hints for polling (`X-Poll-Interval`, `Retry-After`). Default: `300000`. */
  poll_max_interval_ms?: Milliseconds;
  /** Response headers copied onto poll and long-poll events, besides content-type, etag, last-modified, cache-control and the cursor header; `*` copies every response header. */
  poll_expose_headers?: string | readonly string[];
  /** Largest poll or long-poll response body accepted; a larger one ends the stream with TW_ERR_LIMIT. Default: `16777216`. */
  poll_max_body_bytes?: number | bigint;
  /** Time a long-poll request may be held by the server, counted from when the request is sent; connecting (TCP, proxy, TLS) is bounded by connect_timeout_ms. A held request past it is re-issued without counting as a failure. An answer that brings no change (same cursor, or 204) and comes back sooner than a floor is not re-issued at once: the next request waits for the rest of that floor, which starts at max(reconnect.initial_ms, 100 ms) and doubles for each such answer in a row, up to reconnect.max_ms. Any change, or an answer held at least that long, resets it. These waits are not failures. Default: `90000`. */
  longpoll_timeout_ms?: Milliseconds;
  /** Response header carrying the cursor (e.g. `X-Consul-Index`). */
  longpoll_cursor_header?: string;
  /** Query parameter that sends the cursor back (e.g. `index`). */
  longpoll_cursor_param?: string;
  /** Cursor to send on the first request. */
  longpoll_cursor?: string;
  /** An SSE event whose data equals this text (e.g. `[DONE]`) ends the stream cleanly; that event is not delivered. */
  sse_end_data?: string;
  /** An SSE event of this type (e.g. `message_stop`) is delivered, then the stream ends cleanly. */
  sse_end_event?: string;
  /** Deliver SSE comment lines (`: text`) as events of kind `comment` whose data is the text after the colon (one leading space removed). Counted in `comments`, not `messages`. Default: `false`. */
  sse_comments?: boolean;
  /** `Last-Event-ID` to send on the first connection (resume a previous session). */
  sse_last_event_id?: string;
  /** Longest SSE line accepted; a longer line ends the stream with TW_ERR_LIMIT instead of growing memory. Default: `1048576`. */
  sse_max_line_bytes?: number | bigint;
  /** Largest SSE event accepted (its data, id and event name together, before dispatch); a larger one ends the stream with TW_ERR_LIMIT instead of growing memory. Default: `16777216`. */
  sse_max_event_bytes?: number | bigint;
  /** Capacity of the stream's event queue. Status events count too: CLOSED and ERROR are always queued, over any limit; when the queue is full a new open or reconnecting event replaces an unread one at the tail, or else is dropped (counted in `dropped`). Default: `4096`. */
  queue_max_events?: number | bigint;
  /** Bytes the stream's event queue may hold (each event's data, id, type and header names and values); reaching it acts like a full queue (queue.overflow), and `pause` resumes once both count and bytes are at or below half. One event larger than this is still accepted when the queue is empty, so nothing is stuck. Default: `268435456`. */
  queue_max_bytes?: number | bigint;
  /** When the queue is full: `pause` stops reading the socket (or delays the next poll) until the consumer catches up; `drop_oldest` discards the oldest event and counts it in `dropped`. Default: `pause`. */
  queue_overflow?: 'pause' | 'drop_oldest';
  /** Also queue open / reconnecting / error / closed events. Default: `false`. */
  status_events?: boolean;
  /** Trusted CA certificates for https:// and wss:// (default: the system store). */
  tls_ca_file?: string;
  /** Verify the server's certificate and host name. `false` is for tests only. Default: `true`. */
  tls_verify?: boolean;
  /** Redirects (301, 302, 303, 307, 308) followed per request; one more ends the stream with TW_ERR_LIMIT. Default: `5`. */
  redirect_max?: number | bigint;
  /** Whether `header.*` values are sent after a redirect to another origin (scheme, host or port). By default they go only to the configured origin, so a token never reaches a host it was not meant for. A redirect from https:// to http:// is always refused. Default: `false`. */
  redirect_cross_origin_headers?: boolean;
  /** HTTP CONNECT proxy for every connection of the stream. When empty, HTTPS_PROXY (https, wss) or HTTP_PROXY (http, ws) from the environment is used unless NO_PROXY exempts the host. */
  proxy_url?: string;
  /** Request method for sse, poll and longpoll (case kept: methods are case-sensitive). Not for ws or webhook. Default: `GET`. */
  http_method?: string;
  /** Request body for sse, poll and longpoll, sent with Content-Length and, unless header.Content-Type is set, `Content-Type: application/json`. Unset: no body. Never logged, never shown in an error. Not for ws or webhook. */
  http_body?: string | ArrayBufferView | ArrayBuffer;
  /** Whether an SSE reconnect (or a retry on a fresh connection after a kept-alive one was found closed) sends the request again. `auto`: when the method is idempotent (RFC 9110: GET, HEAD, PUT, DELETE, OPTIONS, TRACE; also QUERY, REPORT, PROPFIND, SEARCH) or the server gave an event id to resume from (sent as Last-Event-ID); `never`: idempotent methods only; `always`: every method. A stream that may not send its request again ends when its response ends: cleanly if it completed, with TW_ERR_IO "cut, not resumable" if it was cut, with TW_ERR_HTTP_STATUS if it was answered with an error, even a transient one (408, 429, 5xx). tw_stream_restart always sends it again. Default: `auto`. */
  http_replay_body?: 'auto' | 'always' | 'never';
  /** How long a kept-alive connection waits for the stream's next request (poll, long-poll, a reconnect) before it is closed; requests to the same origin reuse it instead of connecting again. Default: `30000`. */
  http_idle_timeout_ms?: Milliseconds;
  /** Offered in `Sec-WebSocket-Protocol`, in order of preference. */
  ws_subprotocols?: string | readonly string[];
  /** Whether permessage-deflate (RFC 7692) is offered; the server decides. Decompressed messages are bounded by ws.max_message_bytes. Default: `on`. */
  ws_compression?: 'on' | 'off';
  /** Largest message accepted (fragments included); a larger one closes with 1009 and ends the stream with TW_ERR_LIMIT. Default: `16777216`. */
  ws_max_message_bytes?: number | bigint;
  /** Bytes that tw_stream_send may queue before the I/O thread writes them; beyond it, send returns TW_ERR_WOULD_BLOCK. Default: `4194304`. */
  ws_send_buffer_bytes?: number | bigint;
  /** Keepalive ping period. Default: `20000`. */
  ws_ping_interval_ms?: Milliseconds;
  /** A ping unanswered this long drops the connection and reconnects. Measured on the I/O thread, and suspended while reading is paused for a slow consumer. Default: `10000`. */
  ws_pong_timeout_ms?: Milliseconds;
  /** A text message sent after every (re)connect, before anything queued by tw_stream_send. */
  ws_subscribe_message?: string;
  /** How webhook deliveries are signed: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), Svix (the same with `svix-*` headers), GitHub (`X-Hub-Signature-256`), Stripe (`Stripe-Signature`), Slack (`X-Slack-Signature`), an HMAC-SHA256 of the body in a header of your choice (`hmac-sha256`), or `none`: unsigned deliveries, accepted only when asked for. Default: `standard`. */
  webhook_scheme?: 'standard' | 'svix' | 'github' | 'stripe' | 'slack' | 'hmac-sha256' | 'none';
  /** Signing secrets; list the old and the new one while a secret rotates. Standard and svix take `whsec_<base64>` secrets; the other schemes use the secret exactly as the sender shows it (Stripe's `whsec_...` string itself is the key). Required unless webhook.scheme=none. Never logged. */
  webhook_secret?: string;
  /** Largest difference, either way, between a delivery's signed timestamp and the clock (standard, svix, stripe, slack); a stale or future delivery is refused with 401. Default: `300`. */
  webhook_tolerance_s?: Seconds;
  /** hmac-sha256: the request header that carries the signature. Required for that scheme. */
  webhook_signature_header?: string;
  /** hmac-sha256: how the signature is encoded. Default: `hex`. */
  webhook_signature_encoding?: 'hex' | 'base64';
  /** hmac-sha256: text that must precede the signature (compared ignoring case) and is stripped before decoding. Empty: the whole header value is the signature. */
  webhook_signature_prefix?: string;
  /** hmac-sha256 and none: the request header carrying the delivery id (the event id, and the key for deduplication). The other schemes have their own. */
  webhook_id_header?: string;
  /** Largest request body accepted; a larger one is refused with 413, at once when Content-Length says so, otherwise as soon as a chunked body grows past it. Default: `1048576`. */
  webhook_max_body_bytes?: number | bigint;
  /** Largest request head (request line and header fields) accepted; a larger one is refused with 431. Default: `16384`. */
  webhook_max_header_bytes?: number | bigint;
  /** Time a client has from a request's first byte to the end of its head before it is disconnected. Default: `10000`. */
  webhook_header_timeout_ms?: Milliseconds;
  /** Silence after which a connection is closed, between requests (keep-alive) or inside one. Default: `60000`. */
  webhook_idle_timeout_ms?: Milliseconds;
  /** Time a client has from a request's first byte to its last body byte; a slower request is answered 408 and the connection closed, however steadily it trickles. Default: `30000`. */
  webhook_request_timeout_ms?: Milliseconds;
  /** Open connections the endpoint holds at once; one more is answered 503 with `Retry-After` and closed at once. At most as many refusals are pending at once; past that a connection is closed unanswered. Default: `1024`. */
  webhook_max_connections?: number | bigint;
  /** A delivery whose id was queued less than this long ago is acknowledged but not queued again. An id is kept at least until its signed timestamp + webhook.tolerance_s has passed, so a replay inside the tolerance is still recognised. Default: `300`. */
  webhook_dedup_window_s?: Seconds;
  /** Most delivery ids remembered for deduplication (under 100 bytes each, however long the id); past it the oldest are forgotten first. Default: `100000`. */
  webhook_dedup_max_ids?: number | bigint;
  /** `Retry-After` of the 503 that refuses deliveries while the queue is full (queue.overflow=pause). Default: `5`. */
  webhook_retry_after_s?: Seconds;
  /** mcp: the MCP-Protocol-Version header sent after initialization. Empty: the `protocolVersion` of the server's initialize result. */
  mcp_protocol_version?: string;
  /** mcp: open the GET stream of server-initiated messages once the session is initialized (a server that answers 405 has none; that is not an error). The policy keeps it up (reconnect.*, retry:, Last-Event-ID). Default: `true`. */
  mcp_listen?: boolean;
  /** mcp: the largest JSON response body (one message or a batch); a larger one ends the stream with TW_ERR_LIMIT. Messages in SSE are bounded by sse.max_line_bytes and sse.max_event_bytes. Default: `16777216`. */
  mcp_max_message_bytes?: number | bigint;
  /** mcp: bytes of messages given to tw_stream_send and not yet posted; a send that would exceed it returns TW_ERR_WOULD_BLOCK. Default: `4194304`. */
  mcp_send_buffer_bytes?: number | bigint;
  /** mcp: how long closing the stream waits for the server to take the DELETE that ends the session; the stream itself ends at once. Default: `2000`. */
  mcp_delete_timeout_ms?: Milliseconds;
  /** redis: when an entry is acknowledged (XACK). `auto`: when tw_stream_next hands it to the application (one still in the stream's queue when the process dies is claimed later). `manual`: when the application calls tw_stream_ack (bindings: ack()) after handling it; an entry never acknowledged is claimed by another consumer after redis.claim_idle_ms. Default: `auto`. */
  redis_ack?: 'auto' | 'manual';
  /** redis: entries another consumer of the group has left unacknowledged this long are claimed (XAUTOCLAIM) and delivered here, so a crashed worker's entries reach a live one. Checked every half of it. Default: `60000`. */
  redis_claim_idle_ms?: Milliseconds;
  /** redis: how long one XREADGROUP waits on the server for new entries (the long-poll), at most redis.claim_idle_ms. Default: `5000`. */
  redis_block_ms?: Milliseconds;
  /** redis: entries read (or claimed) per request. Default: `100`. */
  redis_count?: number | bigint;
  /** Time Redis has to answer a command (beyond a read's redis.block_ms) before the connection counts as failed: a redis stream reconnects, a webhook answers 503 with `Retry-After`. Default: `5000`. */
  redis_timeout_ms?: Milliseconds;
  /** Largest reply accepted from Redis (its bytes and objects together); a larger one fails the connection with TW_ERR_LIMIT instead of growing memory. Default: `67108864`. */
  redis_max_reply_bytes?: number | bigint;
  /** webhook.dedup_store: prefix of the keys (`<prefix><scheme>:<delivery id>`). Default: `tidewire:dedup:`. */
  redis_key_prefix?: string;
  /** Where delivery ids are remembered for deduplication. Empty: in this process (webhook.dedup_max_ids). A redis:// URL: in Redis (`SET key 1 NX PX window`), shared by every receiver using it, so a delivery retried to another receiver is acknowledged there without being accepted twice; Redis unreachable or slow: 503 + `Retry-After`. */
  webhook_dedup_store?: string;
  /** Durable hand-off: each verified delivery is appended (XADD) to this Redis Stream before it is answered 2xx, with fields id, type, data (the raw body), scheme, received_at and h.<name> for the headers in webhook.handoff_headers. Redis unreachable or slow: 503 + `Retry-After`, so the sender retries. `maxlen=N` trims the stream to about N entries (XADD MAXLEN ~). */
  webhook_handoff?: string;
  /** webhook.handoff: request headers copied into each entry (as h.<lower-case name>). Default: `content-type`. */
  webhook_handoff_headers?: string | readonly string[];
  /** Whether accepted deliveries are also queued to this stream's consumers. `false` (needs webhook.handoff): a receiver that only forwards to Redis. Default: `true`. */
  webhook_local_queue?: boolean;
  /** Forward the stream's messages to a Redis Stream (XADD: id, type, data, transport, received_at) instead of queueing them here, so a poller or SSE reader on one machine feeds redis workers on many. Entries are kept until Redis confirms them; once queue.max_events wait (Redis unreachable or slow), reading pauses as for a full queue. When the stream ends, entries not yet confirmed still go, for up to sink.flush_timeout_ms. */
  sink?: string;
  /** sink: how long entries accepted and not yet confirmed by Redis may still take to be appended once the stream ends (closed, or ended by its source). Those still unconfirmed then are dropped with a warning naming how many. A runtime being destroyed waits for this too, at most about 2 s. Default: `5000`. */
  sink_flush_timeout_ms?: Milliseconds;
}

/** Every configuration key under its name: the `options` of `new Stream()`. */
export interface ConfigKeys {
  /** How to reach the source. `auto` means `ws` for ws:// and wss:// URLs and `redis` for redis:// URLs; other URLs need an explicit transport (`mcp`, MCP Streamable HTTP, is never inferred). Default: `auto`. */
  'transport'?: 'auto' | 'poll' | 'longpoll' | 'sse' | 'ws' | 'webhook' | 'mcp' | 'redis';
  /** The source. Required. */
  'url'?: string;
  /** A request header (header.<Name>). */
  [header: `header.${string}`]: string;
  /** Time allowed to connect and receive response headers before the attempt counts as failed (for long-poll: to connect and send the request; the server may then hold it for longpoll.timeout_ms). With read_timeout_ms=0 it also bounds a poll or error response body. Default: `10000`. */
  'connect_timeout_ms'?: Milliseconds;
  /** Silence on an open SSE response after which the connection is dropped and resumed (paused reading, for backpressure, does not count). Also the deadline for a whole poll or long-poll body and for an error response's body (0: connect_timeout_ms, and for long-poll at least longpoll.timeout_ms); a stalled error body fails the attempt with its HTTP status. Default: `300000`. */
  'read_timeout_ms'?: Milliseconds;
  /** Base delay of the exponential backoff; the n-th consecutive retry waits a random time in [0, min(reconnect.max_ms, initial·2ⁿ)] (full jitter). Default: `1000`. */
  'reconnect.initial_ms'?: Milliseconds;
  /** Upper bound of every reconnect delay, server hints (SSE `retry:`, `Retry-After`) included. Default: `30000`. */
  'reconnect.max_ms'?: Milliseconds;
  /** Consecutive failed attempts after which the stream ends with TW_ERR_GAVE_UP. Default: `0`. */
  'reconnect.max_attempts'?: number | bigint;
  /** A connection that stayed healthy this long resets the backoff to its first step. Default: `60000`. */
  'reconnect.reset_after_ms'?: Milliseconds;
  /** Whether a failed first connection is retried like any other (false: it ends the stream). Default: `true`. */
  'reconnect.first_connect'?: boolean;
  /** What a 401 or 403 (to a request or a WebSocket handshake) does. `fatal`: the stream ends with TW_ERR_HTTP_STATUS. `wait`: an `auth_required` event (with the status) is queued, even without status_events, and the stream waits up to reconnect.auth_wait_ms for tw_stream_set_header or tw_stream_restart, then tries again once; without either in time it ends as with `fatal`. Default: `fatal`. */
  'reconnect.on_auth_failure'?: 'fatal' | 'wait';
  /** With reconnect.on_auth_failure=wait: how long a stream refused with 401/403 waits for new credentials. Default: `60000`. */
  'reconnect.auth_wait_ms'?: Milliseconds;
  /** Delay between the end of one poll and the start of the next. Default: `5000`. */
  'poll.interval_ms'?: Milliseconds;
  /** Cap on server hints for polling (`X-Poll-Interval`, `Retry-After`). Default: `300000`. */
  'poll.max_interval_ms'?: Milliseconds;
  /** Response headers copied onto poll and long-poll events, besides content-type, etag, last-modified, cache-control and the cursor header; `*` copies every response header. */
  'poll.expose_headers'?: string | readonly string[];
  /** Largest poll or long-poll response body accepted; a larger one ends the stream with TW_ERR_LIMIT. Default: `16777216`. */
  'poll.max_body_bytes'?: number | bigint;
  /** Time a long-poll request may be held by the server, counted from when the request is sent; connecting (TCP, proxy, TLS) is bounded by connect_timeout_ms. A held request past it is re-issued without counting as a failure. An answer that brings no change (same cursor, or 204) and comes back sooner than a floor is not re-issued at once: the next request waits for the rest of that floor, which starts at max(reconnect.initial_ms, 100 ms) and doubles for each such answer in a row, up to reconnect.max_ms. Any change, or an answer held at least that long, resets it. These waits are not failures. Default: `90000`. */
  'longpoll.timeout_ms'?: Milliseconds;
  /** Response header carrying the cursor (e.g. `X-Consul-Index`). */
  'longpoll.cursor_header'?: string;
  /** Query parameter that sends the cursor back (e.g. `index`). */
  'longpoll.cursor_param'?: string;
  /** Cursor to send on the first request. */
  'longpoll.cursor'?: string;
  /** An SSE event whose data equals this text (e.g. `[DONE]`) ends the stream cleanly; that event is not delivered. */
  'sse.end_data'?: string;
  /** An SSE event of this type (e.g. `message_stop`) is delivered, then the stream ends cleanly. */
  'sse.end_event'?: string;
  /** Deliver SSE comment lines (`: text`) as events of kind `comment` whose data is the text after the colon (one leading space removed). Counted in `comments`, not `messages`. Default: `false`. */
  'sse.comments'?: boolean;
  /** `Last-Event-ID` to send on the first connection (resume a previous session). */
  'sse.last_event_id'?: string;
  /** Longest SSE line accepted; a longer line ends the stream with TW_ERR_LIMIT instead of growing memory. Default: `1048576`. */
  'sse.max_line_bytes'?: number | bigint;
  /** Largest SSE event accepted (its data, id and event name together, before dispatch); a larger one ends the stream with TW_ERR_LIMIT instead of growing memory. Default: `16777216`. */
  'sse.max_event_bytes'?: number | bigint;
  /** Capacity of the stream's event queue. Status events count too: CLOSED and ERROR are always queued, over any limit; when the queue is full a new open or reconnecting event replaces an unread one at the tail, or else is dropped (counted in `dropped`). Default: `4096`. */
  'queue.max_events'?: number | bigint;
  /** Bytes the stream's event queue may hold (each event's data, id, type and header names and values); reaching it acts like a full queue (queue.overflow), and `pause` resumes once both count and bytes are at or below half. One event larger than this is still accepted when the queue is empty, so nothing is stuck. Default: `268435456`. */
  'queue.max_bytes'?: number | bigint;
  /** When the queue is full: `pause` stops reading the socket (or delays the next poll) until the consumer catches up; `drop_oldest` discards the oldest event and counts it in `dropped`. Default: `pause`. */
  'queue.overflow'?: 'pause' | 'drop_oldest';
  /** Also queue open / reconnecting / error / closed events. Default: `false`. */
  'status_events'?: boolean;
  /** Trusted CA certificates for https:// and wss:// (default: the system store). */
  'tls.ca_file'?: string;
  /** Verify the server's certificate and host name. `false` is for tests only. Default: `true`. */
  'tls.verify'?: boolean;
  /** Redirects (301, 302, 303, 307, 308) followed per request; one more ends the stream with TW_ERR_LIMIT. Default: `5`. */
  'redirect.max'?: number | bigint;
  /** Whether `header.*` values are sent after a redirect to another origin (scheme, host or port). By default they go only to the configured origin, so a token never reaches a host it was not meant for. A redirect from https:// to http:// is always refused. Default: `false`. */
  'redirect.cross_origin_headers'?: boolean;
  /** HTTP CONNECT proxy for every connection of the stream. When empty, HTTPS_PROXY (https, wss) or HTTP_PROXY (http, ws) from the environment is used unless NO_PROXY exempts the host. */
  'proxy.url'?: string;
  /** Request method for sse, poll and longpoll (case kept: methods are case-sensitive). Not for ws or webhook. Default: `GET`. */
  'http.method'?: string;
  /** Request body for sse, poll and longpoll, sent with Content-Length and, unless header.Content-Type is set, `Content-Type: application/json`. Unset: no body. Never logged, never shown in an error. Not for ws or webhook. */
  'http.body'?: string | ArrayBufferView | ArrayBuffer;
  /** Whether an SSE reconnect (or a retry on a fresh connection after a kept-alive one was found closed) sends the request again. `auto`: when the method is idempotent (RFC 9110: GET, HEAD, PUT, DELETE, OPTIONS, TRACE; also QUERY, REPORT, PROPFIND, SEARCH) or the server gave an event id to resume from (sent as Last-Event-ID); `never`: idempotent methods only; `always`: every method. A stream that may not send its request again ends when its response ends: cleanly if it completed, with TW_ERR_IO "cut, not resumable" if it was cut, with TW_ERR_HTTP_STATUS if it was answered with an error, even a transient one (408, 429, 5xx). tw_stream_restart always sends it again. Default: `auto`. */
  'http.replay_body'?: 'auto' | 'always' | 'never';
  /** How long a kept-alive connection waits for the stream's next request (poll, long-poll, a reconnect) before it is closed; requests to the same origin reuse it instead of connecting again. Default: `30000`. */
  'http.idle_timeout_ms'?: Milliseconds;
  /** Offered in `Sec-WebSocket-Protocol`, in order of preference. */
  'ws.subprotocols'?: string | readonly string[];
  /** Whether permessage-deflate (RFC 7692) is offered; the server decides. Decompressed messages are bounded by ws.max_message_bytes. Default: `on`. */
  'ws.compression'?: 'on' | 'off';
  /** Largest message accepted (fragments included); a larger one closes with 1009 and ends the stream with TW_ERR_LIMIT. Default: `16777216`. */
  'ws.max_message_bytes'?: number | bigint;
  /** Bytes that tw_stream_send may queue before the I/O thread writes them; beyond it, send returns TW_ERR_WOULD_BLOCK. Default: `4194304`. */
  'ws.send_buffer_bytes'?: number | bigint;
  /** Keepalive ping period. Default: `20000`. */
  'ws.ping_interval_ms'?: Milliseconds;
  /** A ping unanswered this long drops the connection and reconnects. Measured on the I/O thread, and suspended while reading is paused for a slow consumer. Default: `10000`. */
  'ws.pong_timeout_ms'?: Milliseconds;
  /** A text message sent after every (re)connect, before anything queued by tw_stream_send. */
  'ws.subscribe_message'?: string;
  /** How webhook deliveries are signed: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), Svix (the same with `svix-*` headers), GitHub (`X-Hub-Signature-256`), Stripe (`Stripe-Signature`), Slack (`X-Slack-Signature`), an HMAC-SHA256 of the body in a header of your choice (`hmac-sha256`), or `none`: unsigned deliveries, accepted only when asked for. Default: `standard`. */
  'webhook.scheme'?: 'standard' | 'svix' | 'github' | 'stripe' | 'slack' | 'hmac-sha256' | 'none';
  /** Signing secrets; list the old and the new one while a secret rotates. Standard and svix take `whsec_<base64>` secrets; the other schemes use the secret exactly as the sender shows it (Stripe's `whsec_...` string itself is the key). Required unless webhook.scheme=none. Never logged. */
  'webhook.secret'?: string;
  /** Largest difference, either way, between a delivery's signed timestamp and the clock (standard, svix, stripe, slack); a stale or future delivery is refused with 401. Default: `300`. */
  'webhook.tolerance_s'?: Seconds;
  /** hmac-sha256: the request header that carries the signature. Required for that scheme. */
  'webhook.signature_header'?: string;
  /** hmac-sha256: how the signature is encoded. Default: `hex`. */
  'webhook.signature_encoding'?: 'hex' | 'base64';
  /** hmac-sha256: text that must precede the signature (compared ignoring case) and is stripped before decoding. Empty: the whole header value is the signature. */
  'webhook.signature_prefix'?: string;
  /** hmac-sha256 and none: the request header carrying the delivery id (the event id, and the key for deduplication). The other schemes have their own. */
  'webhook.id_header'?: string;
  /** Largest request body accepted; a larger one is refused with 413, at once when Content-Length says so, otherwise as soon as a chunked body grows past it. Default: `1048576`. */
  'webhook.max_body_bytes'?: number | bigint;
  /** Largest request head (request line and header fields) accepted; a larger one is refused with 431. Default: `16384`. */
  'webhook.max_header_bytes'?: number | bigint;
  /** Time a client has from a request's first byte to the end of its head before it is disconnected. Default: `10000`. */
  'webhook.header_timeout_ms'?: Milliseconds;
  /** Silence after which a connection is closed, between requests (keep-alive) or inside one. Default: `60000`. */
  'webhook.idle_timeout_ms'?: Milliseconds;
  /** Time a client has from a request's first byte to its last body byte; a slower request is answered 408 and the connection closed, however steadily it trickles. Default: `30000`. */
  'webhook.request_timeout_ms'?: Milliseconds;
  /** Open connections the endpoint holds at once; one more is answered 503 with `Retry-After` and closed at once. At most as many refusals are pending at once; past that a connection is closed unanswered. Default: `1024`. */
  'webhook.max_connections'?: number | bigint;
  /** A delivery whose id was queued less than this long ago is acknowledged but not queued again. An id is kept at least until its signed timestamp + webhook.tolerance_s has passed, so a replay inside the tolerance is still recognised. Default: `300`. */
  'webhook.dedup_window_s'?: Seconds;
  /** Most delivery ids remembered for deduplication (under 100 bytes each, however long the id); past it the oldest are forgotten first. Default: `100000`. */
  'webhook.dedup_max_ids'?: number | bigint;
  /** `Retry-After` of the 503 that refuses deliveries while the queue is full (queue.overflow=pause). Default: `5`. */
  'webhook.retry_after_s'?: Seconds;
  /** mcp: the MCP-Protocol-Version header sent after initialization. Empty: the `protocolVersion` of the server's initialize result. */
  'mcp.protocol_version'?: string;
  /** mcp: open the GET stream of server-initiated messages once the session is initialized (a server that answers 405 has none; that is not an error). The policy keeps it up (reconnect.*, retry:, Last-Event-ID). Default: `true`. */
  'mcp.listen'?: boolean;
  /** mcp: the largest JSON response body (one message or a batch); a larger one ends the stream with TW_ERR_LIMIT. Messages in SSE are bounded by sse.max_line_bytes and sse.max_event_bytes. Default: `16777216`. */
  'mcp.max_message_bytes'?: number | bigint;
  /** mcp: bytes of messages given to tw_stream_send and not yet posted; a send that would exceed it returns TW_ERR_WOULD_BLOCK. Default: `4194304`. */
  'mcp.send_buffer_bytes'?: number | bigint;
  /** mcp: how long closing the stream waits for the server to take the DELETE that ends the session; the stream itself ends at once. Default: `2000`. */
  'mcp.delete_timeout_ms'?: Milliseconds;
  /** redis: when an entry is acknowledged (XACK). `auto`: when tw_stream_next hands it to the application (one still in the stream's queue when the process dies is claimed later). `manual`: when the application calls tw_stream_ack (bindings: ack()) after handling it; an entry never acknowledged is claimed by another consumer after redis.claim_idle_ms. Default: `auto`. */
  'redis.ack'?: 'auto' | 'manual';
  /** redis: entries another consumer of the group has left unacknowledged this long are claimed (XAUTOCLAIM) and delivered here, so a crashed worker's entries reach a live one. Checked every half of it. Default: `60000`. */
  'redis.claim_idle_ms'?: Milliseconds;
  /** redis: how long one XREADGROUP waits on the server for new entries (the long-poll), at most redis.claim_idle_ms. Default: `5000`. */
  'redis.block_ms'?: Milliseconds;
  /** redis: entries read (or claimed) per request. Default: `100`. */
  'redis.count'?: number | bigint;
  /** Time Redis has to answer a command (beyond a read's redis.block_ms) before the connection counts as failed: a redis stream reconnects, a webhook answers 503 with `Retry-After`. Default: `5000`. */
  'redis.timeout_ms'?: Milliseconds;
  /** Largest reply accepted from Redis (its bytes and objects together); a larger one fails the connection with TW_ERR_LIMIT instead of growing memory. Default: `67108864`. */
  'redis.max_reply_bytes'?: number | bigint;
  /** webhook.dedup_store: prefix of the keys (`<prefix><scheme>:<delivery id>`). Default: `tidewire:dedup:`. */
  'redis.key_prefix'?: string;
  /** Where delivery ids are remembered for deduplication. Empty: in this process (webhook.dedup_max_ids). A redis:// URL: in Redis (`SET key 1 NX PX window`), shared by every receiver using it, so a delivery retried to another receiver is acknowledged there without being accepted twice; Redis unreachable or slow: 503 + `Retry-After`. */
  'webhook.dedup_store'?: string;
  /** Durable hand-off: each verified delivery is appended (XADD) to this Redis Stream before it is answered 2xx, with fields id, type, data (the raw body), scheme, received_at and h.<name> for the headers in webhook.handoff_headers. Redis unreachable or slow: 503 + `Retry-After`, so the sender retries. `maxlen=N` trims the stream to about N entries (XADD MAXLEN ~). */
  'webhook.handoff'?: string;
  /** webhook.handoff: request headers copied into each entry (as h.<lower-case name>). Default: `content-type`. */
  'webhook.handoff_headers'?: string | readonly string[];
  /** Whether accepted deliveries are also queued to this stream's consumers. `false` (needs webhook.handoff): a receiver that only forwards to Redis. Default: `true`. */
  'webhook.local_queue'?: boolean;
  /** Forward the stream's messages to a Redis Stream (XADD: id, type, data, transport, received_at) instead of queueing them here, so a poller or SSE reader on one machine feeds redis workers on many. Entries are kept until Redis confirms them; once queue.max_events wait (Redis unreachable or slow), reading pauses as for a full queue. When the stream ends, entries not yet confirmed still go, for up to sink.flush_timeout_ms. */
  'sink'?: string;
  /** sink: how long entries accepted and not yet confirmed by Redis may still take to be appended once the stream ends (closed, or ended by its source). Those still unconfirmed then are dropped with a warning naming how many. A runtime being destroyed waits for this too, at most about 2 s. Default: `5000`. */
  'sink.flush_timeout_ms'?: Milliseconds;
}
