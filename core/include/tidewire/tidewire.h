/*
 * Tidewire — one client for pull and push.
 *
 * This is the whole C ABI. An application creates one runtime (an I/O thread), opens streams on it
 * from a configuration, and pulls events from each stream's queue.
 *
 * Conventions
 * - Output parameters come first and are named `out`.
 * - A pointer returned by a getter is *borrowed* (valid until the stated owner is destroyed) or
 *   *owned* (free it with the stated function); each function says which.
 * - Functions returning tw_err return TW_OK (0) or a negative code; tw_last_error_message() then holds
 *   the detail of the last failed call on the calling thread.
 * - Every *_destroy function accepts NULL.
 * - Thread safety is stated on each function. Runtime and stream handles are thread-safe; an event
 *   belongs to whoever holds it.
 */
#ifndef TIDEWIRE_H
#define TIDEWIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TIDEWIRE_STATIC)
#define TW_API
#elif defined(TIDEWIRE_BUILDING)
#define TW_API __attribute__((visibility("default")))
#else
#define TW_API
#endif

#define TW_VERSION_MAJOR 0
#define TW_VERSION_MINOR 1
#define TW_VERSION_PATCH 0
/** Compile-time version as one integer: major * 10000 + minor * 100 + patch. */
#define TW_VERSION (TW_VERSION_MAJOR * 10000 + TW_VERSION_MINOR * 100 + TW_VERSION_PATCH)

/* ---------------------------------------------------------------------------------------------- */
/* Errors                                                                                         */

/** Result codes. Values are part of the ABI and never renumbered. */
typedef enum tw_err {
  TW_OK = 0,
  TW_ERR_INVALID_ARGUMENT = -1, /**< a NULL handle, a bad size, an out-of-range index */
  TW_ERR_UNKNOWN_KEY = -2,      /**< tw_config_set: no such configuration key */
  TW_ERR_INVALID_VALUE = -3,    /**< tw_config_set / open: the value is not accepted for the key */
  TW_ERR_TIMEOUT = -4,          /**< nothing arrived within the timeout */
  TW_ERR_CLOSED = -5,           /**< the stream has ended and its queue is drained */
  TW_ERR_NO_MEMORY = -6,
  TW_ERR_UNSUPPORTED = -7,   /**< the operation does not apply to this transport */
  TW_ERR_WOULD_BLOCK = -8,   /**< a bounded buffer is full; try again later */
  TW_ERR_SHUTDOWN = -9,      /**< the runtime is shutting down */
  TW_ERR_WAKEUP = -10,       /**< tw_stream_wakeup() interrupted the wait */
  TW_ERR_IO = -11,           /**< network error: refused, reset, DNS, read timeout */
  TW_ERR_HTTP_STATUS = -12,  /**< the server answered a status that ends the stream */
  TW_ERR_PROTOCOL = -13,     /**< the peer broke the protocol (bad content type, bad framing) */
  TW_ERR_TLS = -14,          /**< TLS handshake or certificate verification failed */
  TW_ERR_LIMIT = -15,        /**< a configured limit was exceeded (line length, redirects, ...) */
  TW_ERR_GAVE_UP = -16,      /**< reconnect.max_attempts reached */
  TW_ERR_INTERNAL = -17
} tw_err;

/** Symbolic name of a code ("TW_ERR_TIMEOUT"). Static string. Thread-safe. */
TW_API const char *tw_err_name(tw_err err);
/** Short English description of a code. Static string. Thread-safe. */
TW_API const char *tw_err_str(tw_err err);
/**
 * Detail of the last failed call made on this thread (e.g. which key, which limit), or "" if none.
 * Borrowed: valid until the next Tidewire call on this thread.
 */
TW_API const char *tw_last_error_message(void);

/** Run-time version as TW_VERSION computes it. Thread-safe. */
TW_API int tw_version(void);
/** Run-time version string, "major.minor.patch". Static string. Thread-safe. */
TW_API const char *tw_version_str(void);

/** Frees memory that a Tidewire function documents as owned by the caller. Accepts NULL. */
TW_API void tw_free(void *ptr);

/* ---------------------------------------------------------------------------------------------- */
/* Logging                                                                                        */

typedef enum tw_log_level {
  TW_LOG_ERROR = 0,
  TW_LOG_WARN = 1,
  TW_LOG_INFO = 2,
  TW_LOG_DEBUG = 3
} tw_log_level;

/**
 * Receives one log line (no trailing newline). Called on a runtime's I/O thread (or the thread
 * that made a failing call); must not block and must not call back into Tidewire.
 */
typedef void (*tw_log_fn)(void *user, tw_log_level level, const char *message);

/**
 * Routes Tidewire's log to `fn` for every message at `max_level` or more severe. The hook is
 * process-wide. fn == NULL silences the log. The default is WARN and above to stderr.
 * Thread-safe; a message already being emitted may still reach the previous hook.
 */
TW_API void tw_log_set(tw_log_level max_level, tw_log_fn fn, void *user);

/* ---------------------------------------------------------------------------------------------- */
/* Runtime                                                                                        */

/** One I/O thread (a libuv loop) serving any number of streams and their connections. */
typedef struct tw_runtime tw_runtime;

/**
 * Starts a runtime and its I/O thread. On TW_OK, *out is owned: free it with tw_runtime_destroy().
 * Thread-safe.
 */
TW_API tw_err tw_runtime_create(tw_runtime **out);

/**
 * Ends every stream still open (they end cleanly; waiting consumers get TW_ERR_CLOSED), stops the
 * I/O thread and frees the runtime. Returns within a bounded time (about a second at worst) even if
 * peers do not answer. Stream handles stay valid until each is destroyed.
 * Call from any thread except the runtime's I/O thread (i.e. not from a log or notify callback).
 */
TW_API void tw_runtime_destroy(tw_runtime *runtime);

/* ---------------------------------------------------------------------------------------------- */
/* Configuration                                                                                  */

/** A set of string key → string value settings; see docs/CONFIGURATION.md for every key. */
typedef struct tw_config tw_config;

/** Creates an empty configuration (every key at its default). Owned: free with tw_config_destroy(). */
TW_API tw_err tw_config_create(tw_config **out);
/** Frees a configuration. Streams opened from it keep their own copy. Accepts NULL. */
TW_API void tw_config_destroy(tw_config *config);

/**
 * Sets `key` to `value` (both NUL-terminated; copied). `key` is a name or its alias
 * (tw_config_key_alias); values may take the forms languages print (see tw_config_key_alias).
 * Returns TW_ERR_UNKNOWN_KEY (with the closest keys suggested) or TW_ERR_INVALID_VALUE with a
 * message naming the key and what it accepts; the configuration is then unchanged. A key already
 * set, in any spelling, is refused with TW_ERR_INVALID_VALUE (see tw_config_unset()).
 * `header.<Name>` keys set request headers.
 * Not thread-safe for one config; distinct configs may be used from distinct threads.
 */
TW_API tw_err tw_config_set(tw_config *config, const char *key, const char *value);

/**
 * As tw_config_set(), with explicit lengths (no terminating NUL needed), for languages whose
 * strings may hold a NUL: a key or value containing one is refused with TW_ERR_UNKNOWN_KEY /
 * TW_ERR_INVALID_VALUE instead of being cut short (the value is never quoted in the message).
 * The exception is `http.body`, which is bytes: its value keeps every byte, NULs included.
 */
TW_API tw_err tw_config_set_n(tw_config *config, const char *key, size_t key_len, const char *value,
                              size_t value_len);

/**
 * Reads the value of `key` as it would be used (the default if unset; "" for an unset header.*).
 * On TW_OK, *out is owned: free with tw_free(). Same thread rules as tw_config_set().
 */
TW_API tw_err tw_config_get(char **out, const tw_config *config, const char *key);

/** Number of keys in the configuration table (header.<Name> counts once). Thread-safe. */
TW_API size_t tw_config_key_count(void);

/**
 * Describes key number `index` of the table. Any out pointer may be NULL. All strings are static.
 * type is one of "string", "int", "bool", "enum", "list", "map". Returns TW_ERR_INVALID_ARGUMENT past
 * the end. Thread-safe.
 */
TW_API tw_err tw_config_key_info(const char **out_name, const char **out_type,
                                 const char **out_default, const char **out_accepted,
                                 const char **out_doc, size_t index);

/* ---------------------------------------------------------------------------------------------- */
/* Events                                                                                         */

/** One event. Owned by whoever received it; free with tw_event_destroy(). Not thread-safe. */
typedef struct tw_event tw_event;

typedef enum tw_kind {
  TW_KIND_MESSAGE = 0,      /**< data from the source */
  TW_KIND_OPEN = 1,         /**< a connection was established (status_events=true only) */
  TW_KIND_RECONNECTING = 2, /**< a connection failed; retrying in tw_event_retry_ms() (status_events) */
  /**
   * The stream ended in failure (status_events=true only; tw_stream_failure() always). On an mcp
   * stream also a request that failed while the stream goes on (always queued): type "http_status"
   * (an error answer), "cut" (its answer lost), "send_failed" or "get_stream"; id is the JSON-RPC id.
   */
  TW_KIND_ERROR = 3,
  TW_KIND_CLOSED = 4,       /**< the stream ended cleanly (status_events=true only) */
  /**
   * A 401/403 with reconnect.on_auth_failure=wait: the stream waits up to reconnect.auth_wait_ms for
   * tw_stream_set_header() or tw_stream_restart(). Always queued; carries tw_event_http_status().
   */
  TW_KIND_AUTH_REQUIRED = 5,
  /** An SSE comment line (sse.comments=true only); data is the text after the colon. */
  TW_KIND_COMMENT = 6
} tw_kind;

typedef enum tw_transport {
  TW_TRANSPORT_POLL = 0,
  TW_TRANSPORT_LONGPOLL = 1,
  TW_TRANSPORT_SSE = 2,
  TW_TRANSPORT_WS = 3,
  TW_TRANSPORT_WEBHOOK = 4,
  /** MCP Streamable HTTP: tw_stream_send() posts JSON-RPC messages; see docs/mcp.md. */
  TW_TRANSPORT_MCP = 5,
  TW_TRANSPORT_REDIS = 6 /**< a consumer group on a Redis Stream (see docs/scale-out.md) */
} tw_transport;

/** Name of a transport as used by the `transport` key ("sse"). Static string. Thread-safe. */
TW_API const char *tw_transport_name(tw_transport transport);
/**
 * Name of a kind ("message", "open", "reconnecting", "error", "closed", "auth_required",
 * "comment"). Static string. Thread-safe.
 */
TW_API const char *tw_kind_name(tw_kind kind);

/* The accessors below accept NULL and then return the neutral value (MESSAGE, "", 0, NULL). */
TW_API void tw_event_destroy(tw_event *event);
TW_API tw_kind tw_event_kind(const tw_event *event);
TW_API tw_transport tw_event_transport(const tw_event *event);
/**
 * The event's id: SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook delivery id;
 * "" when none.
 * Borrowed: valid until the event is destroyed. NUL-terminated, never contains NUL.
 */
TW_API const char *tw_event_id(const tw_event *event);
/**
 * The event's type: SSE event name ("message" by default), "change" for poll and long-poll, the
 * webhook's event type ("" when the delivery names none). Borrowed.
 */
TW_API const char *tw_event_type(const tw_event *event);
/**
 * The payload, byte for byte as received (SSE data is UTF-8, invalid sequences replaced by U+FFFD).
 * For error events, a human-readable reason. Borrowed: valid until the event is destroyed. A NUL
 * follows the last byte, so text payloads may be used as C strings.
 */
TW_API const char *tw_event_data(const tw_event *event);
/** Length of tw_event_data() in bytes, without the trailing NUL. */
TW_API size_t tw_event_data_len(const tw_event *event);
/**
 * Number of headers carried by the event: response headers for poll and long-poll, the request's
 * headers for webhook; 0 elsewhere.
 */
TW_API size_t tw_event_header_count(const tw_event *event);
/**
 * Header number `index`: lower-case name and value, borrowed until the event is destroyed.
 * Returns TW_ERR_INVALID_ARGUMENT past the end.
 */
TW_API tw_err tw_event_header_at(const char **out_name, const char **out_value,
                                 const tw_event *event, size_t index);
/** Value of header `name` (case-insensitive), or NULL. Borrowed until the event is destroyed. */
TW_API const char *tw_event_header(const tw_event *event, const char *name);
/** Monotonic time (CLOCK_MONOTONIC, ns) at which the I/O thread received the event. */
TW_API int64_t tw_event_received_ns(const tw_event *event);
/** For error, reconnecting and auth_required events: the error code; TW_OK otherwise. */
TW_API tw_err tw_event_error(const tw_event *event);
/** HTTP status of the response behind an error/reconnecting/auth_required event, 0 if none. */
TW_API int tw_event_http_status(const tw_event *event);
/** WebSocket close code behind an error/reconnecting/closed event, 0 if none. */
TW_API int tw_event_close_code(const tw_event *event);
/** For reconnecting events: the delay before the next attempt, in ms; 0 otherwise. */
TW_API int64_t tw_event_retry_ms(const tw_event *event);

/* ---------------------------------------------------------------------------------------------- */
/* Streams                                                                                        */

/** One subscription to one source. Thread-safe. */
typedef struct tw_stream tw_stream;

/**
 * Opens a stream on `runtime` as `config` describes (the config is copied; keep or free it).
 * Checks the configuration as a whole (e.g. `url` is required and must suit `transport`) and
 * returns TW_ERR_INVALID_VALUE naming the key if not. Connecting happens on the I/O thread; failures
 * from there arrive as events / as the stream's end. A webhook stream is the exception: open waits
 * (at most 5 s) until its endpoint listens, and fails with TW_ERR_IO naming `url` if it cannot
 * (port in use, address not local). On TW_OK, *out is owned: free with tw_stream_destroy(), before
 * or after the runtime. Thread-safe.
 */
TW_API tw_err tw_stream_open(tw_stream **out, tw_runtime *runtime, const tw_config *config);

/**
 * Asks the stream to end cleanly: connections close, no reconnect, events already queued stay
 * readable, then tw_stream_next() returns TW_ERR_CLOSED. Idempotent. Thread-safe.
 */
TW_API void tw_stream_close(tw_stream *stream);

/** Closes the stream if needed and frees the handle and any queued events. Accepts NULL. Thread-safe,
 * but no other thread may use the handle during or after the call. */
TW_API void tw_stream_destroy(tw_stream *stream);

/**
 * Waits up to timeout_ms for the next event of the stream (negative waits forever, 0 polls).
 *
 * On TW_OK, *out is an event you own: release it with tw_event_destroy().
 * Returns TW_ERR_TIMEOUT when nothing arrived, TW_ERR_WAKEUP when tw_stream_wakeup() interrupted the
 * wait, TW_ERR_CLOSED once the stream has ended and its queue is drained (tw_stream_failure() then
 * tells why, if it ended in failure).
 * Thread-safe; several threads may wait on one stream, each event goes to one of them.
 */
TW_API tw_err tw_stream_next(tw_event **out, tw_stream *stream, int timeout_ms);

/**
 * Like tw_stream_next(), but takes up to `capacity` events at once (one lock for all of them).
 * On TW_OK, out[0 .. *out_count-1] are owned events (*out_count >= 1). Thread-safe.
 */
TW_API tw_err tw_stream_next_batch(tw_event **out, size_t *out_count, tw_stream *stream,
                                   size_t capacity, int timeout_ms);

/**
 * Destroys events taken from this stream, as tw_event_destroy() does each, and keeps their memory
 * for the stream's next events: a consumer done with a batch hands it back here, and a fast stream
 * stops allocating (and stops making the allocator return memory to the system and fault it in
 * again). What the stream keeps is bounded (a few MiB); the rest is freed. Entries may be NULL; the
 * events are gone after the call (the array itself stays the caller's). Thread-safe, one lock per
 * call; `stream` must not have been destroyed (events that outlive their stream go to
 * tw_event_destroy()). A NULL stream destroys the events.
 */
TW_API void tw_stream_recycle(tw_stream *stream, tw_event *const *events, size_t count);

/**
 * Interrupts one wait in tw_stream_next()/tw_stream_next_batch() on this stream, which returns
 * TW_ERR_WAKEUP. If no wait is in progress, the next call returns TW_ERR_WAKEUP at once, even if
 * events are queued (they stay queued). Thread-safe (not async-signal-safe).
 */
TW_API void tw_stream_wakeup(tw_stream *stream);

/**
 * A file descriptor that is readable while the stream's queue holds events or the stream has ended
 * (level-triggered; do not read from it). For select/poll/epoll, asyncio add_reader, uv_poll.
 * It is made on the first call, so a stream whose events are only taken with tw_stream_next() holds
 * no descriptor for it; returns -1 if it cannot be made (the process is out of descriptors).
 * Borrowed: valid until the stream is destroyed. Thread-safe.
 */
TW_API int tw_stream_fd(const tw_stream *stream);

/**
 * Sends a message on a ws stream (copied). Messages sent before the connection is up, or while it
 * is being re-established, wait in the buffer and go out after the subscribe message. Returns
 * TW_ERR_UNSUPPORTED on other transports, TW_ERR_WOULD_BLOCK when the bounded send buffer
 * (ws.send_buffer_bytes) is full now, TW_ERR_LIMIT for a message larger than the whole buffer,
 * TW_ERR_CLOSED after the stream ended.
 * On an mcp stream the message is one JSON-RPC message (or batch) as text (binary = 0), POSTed in
 * the order sent; anything else gives TW_ERR_INVALID_VALUE. Its buffer is mcp.send_buffer_bytes.
 * Thread-safe.
 */
TW_API tw_err tw_stream_send(tw_stream *stream, const void *data, size_t len, int binary);

/**
 * Drops the stream's connection (or the wait before its next attempt) and connects again at once,
 * without backoff. What the stream resumes from is kept: the SSE Last-Event-ID, the poll ETag and
 * Last-Modified, the long-poll cursor; a ws stream sends its subscribe message again. The request
 * is sent again whatever http.replay_body says (the application asked for it). A stream waiting
 * for credentials (TW_KIND_AUTH_REQUIRED) tries again now.
 * Returns TW_ERR_UNSUPPORTED for webhook streams, TW_ERR_CLOSED once the stream has ended.
 * Thread-safe; the restart happens on the I/O thread shortly after the call returns.
 */
TW_API tw_err tw_stream_restart(tw_stream *stream);

/**
 * Sets request header `name` to `value` (both NUL-terminated; copied) for every request and
 * handshake of the stream from the next one on: the next poll, reconnect or WebSocket handshake
 * (call tw_stream_restart() to make it apply at once). `value` NULL removes the header. It
 * replaces a header.<Name> of the configuration (names compare case-insensitively) and, like
 * one, goes to another origin only with redirect.cross_origin_headers=true. A stream waiting for
 * credentials (TW_KIND_AUTH_REQUIRED) tries again now.
 * Returns TW_ERR_UNKNOWN_KEY for a name that is not an HTTP token, TW_ERR_INVALID_VALUE for a value
 * with CR, LF or NUL (the message never shows the value), TW_ERR_UNSUPPORTED for webhook streams,
 * TW_ERR_CLOSED once the stream has ended. Thread-safe.
 */
TW_API tw_err tw_stream_set_header(tw_stream *stream, const char *name, const char *value);

/**
 * Acknowledges the message whose tw_event_id() is `id` (NUL-terminated; copied), received from this
 * redis stream with redis.ack=manual: its entry leaves the consumer group's pending list (XACK), so
 * no other consumer will claim it. Call it once the event is handled (the event itself may be
 * destroyed before or after; bindings that copy events out pass the id). An entry never
 * acknowledged is claimed by another consumer after redis.claim_idle_ms. Acknowledging an id twice,
 * or one that is not pending, is harmless. With redis.ack=auto it does nothing and returns TW_OK.
 * Returns TW_ERR_UNSUPPORTED for other transports, TW_ERR_INVALID_ARGUMENT for a NULL or empty id,
 * TW_ERR_CLOSED once the stream has ended (the entry stays pending and is claimed later).
 * Thread-safe; the acknowledgment is sent from the I/O thread shortly after the call returns
 * (pipelined with the stream's reads; sent again after a reconnect).
 */
TW_API tw_err tw_stream_ack(tw_stream *stream, const char *id);

/**
 * If the stream ended in failure, *out is a copy of its error event (owned: tw_event_destroy());
 * otherwise (still running, or ended cleanly) *out is NULL. Returns TW_OK. Thread-safe.
 */
TW_API tw_err tw_stream_failure(tw_event **out, const tw_stream *stream);

/**
 * Non-zero once the stream has ended; its queue may still hold events, so a consumer loops until
 * tw_stream_next() returns TW_ERR_CLOSED rather than testing this. Thread-safe.
 */
TW_API int tw_stream_ended(const tw_stream *stream);

/**
 * The stream's URL; for webhook streams the URL really bound (with the real port).
 * Owned: free with tw_free(). Thread-safe.
 */
TW_API tw_err tw_stream_url(char **out, const tw_stream *stream);

/**
 * Reads statistic `name` (see tw_stat_name()). Returns TW_ERR_INVALID_ARGUMENT naming an unknown
 * statistic. Thread-safe; values are read without stopping the stream.
 */
TW_API tw_err tw_stream_stat(uint64_t *out, const tw_stream *stream, const char *name);

/**
 * Name of statistic number `index`, or NULL past the end: "messages", "bytes", "requests",
 * "not_modified", "reconnects", "errors", "dropped", "queue_depth", "queue_peak", "paused",
 * "connections" (opened; a reused keep-alive connection is not counted), "tls_handshakes",
 * "wire_bytes" (received, framing included, before decompression), "payload_bytes" (received
 * message payloads after decompression), "comments" (SSE comments delivered, sse.comments=true), "attempts" (attempts that failed in a
 * row; 0 again after a success). tw_stat_info() describes each. Static string. Thread-safe.
 */
TW_API const char *tw_stat_name(size_t index);

/* ---------------------------------------------------------------------------------------------- */
/* Keyword aliases, error categories and error texts                                              */

/**
 * Category of a code, the coarse class a binding picks its exception type by (static string;
 * docs/errors.md): "ok" (TW_OK); "usage" (INVALID_ARGUMENT, UNSUPPORTED); "config" (UNKNOWN_KEY,
 * INVALID_VALUE); "wait" (TIMEOUT, WAKEUP: the outcome of a wait, not a failure); "closed" (CLOSED,
 * SHUTDOWN); "busy" (WOULD_BLOCK: try again later); "resource" (NO_MEMORY); "network" (IO,
 * GAVE_UP); "http" (HTTP_STATUS: tw_event_http_status() says which, 401/403 being the
 * credentials); "protocol" (PROTOCOL); "tls" (TLS); "limit" (LIMIT); "internal" (INTERNAL);
 * "unknown" for a value that is not a tw_err. Thread-safe.
 */
TW_API const char *tw_err_category(tw_err err);

/**
 * The text of an error, reconnecting or auth_required event (e.g. a stream's failure from
 * tw_stream_failure()), in the one format every binding shows:
 *   "<reason> (<TW_ERR_NAME>[, HTTP <status>][, close code <code>])"
 * where reason is tw_event_data() (or tw_err_str() when empty), and the status and close code are
 * left out when 0 or when the reason already says them. For other events, tw_event_data() as text.
 * On TW_OK, *out is owned: free with tw_free(). Not thread-safe for one event (as every accessor).
 */
TW_API tw_err tw_event_error_message(char **out, const tw_event *event);

/**
 * Forgets `key` (back to its default; for header.<Name>, the header), so that it may be set again.
 * A configuration holds one value per key: tw_config_set() refuses a key that is already set,
 * whether it is given again in the same spelling or as its alias ("key 'reconnect.max_ms' given
 * twice (as reconnect_max_ms and reconnect.max_ms)", TW_ERR_INVALID_VALUE), so that no language's
 * binding lets one of two values win silently. Call this first to change a key on purpose.
 * An unset key that is not set returns TW_OK; an unknown one TW_ERR_UNKNOWN_KEY as tw_config_set().
 * Same thread rules as tw_config_set().
 */
TW_API tw_err tw_config_unset(tw_config *config, const char *key);

/**
 * The keyword alias of key number `index`: the name with every "." written as "_"
 * ("reconnect_max_ms" for "reconnect.max_ms"), accepted by tw_config_set(), tw_config_get() and
 * tw_config_unset() wherever the name is — the form Python keywords and JavaScript option names
 * take. NULL for header.<Name> (written only that way) and past the end. Static string.
 * Thread-safe.
 *
 * An unknown key is answered with the closest keys, in the caller's spelling:
 * "unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?".
 * Values may also be written as a host language prints them: booleans `true`/`false` in any case
 * or `1`/`0`; integers as whole decimals, "2000.0" included; keys counted in ms or s also take a
 * duration with a unit ("1500ms", "30s", "1.5s", "5m", "1h"); lists "a,b" or "[a, b]" / "['a', 'b']"
 * / "[\"a\",\"b\"]". tw_config_get() returns the canonical form ("true", "30000", "a,b").
 */
TW_API const char *tw_config_key_alias(size_t index);

/**
 * As tw_stream_set_header(), with explicit lengths, for languages whose strings may hold a NUL: a
 * name or value containing one is refused (TW_ERR_UNKNOWN_KEY / TW_ERR_INVALID_VALUE, the value
 * never shown) instead of being cut short. `value` NULL removes the header. Thread-safe.
 */
TW_API tw_err tw_stream_set_header_n(tw_stream *stream, const char *name, size_t name_len, const char *value,
                                     size_t value_len);

/* ---------------------------------------------------------------------------------------------- */
/* Diagnostics: where a stream is and why (appended in 0.2; see docs/troubleshooting.md)          */

/** Where a stream is in its life. Values are part of the ABI and never renumbered. */
typedef enum tw_state {
  TW_STATE_CONNECTING = 0, /**< an attempt is under way; none succeeded since the start or the last failure */
  TW_STATE_OPEN = 1,       /**< connected (for poll: the last poll succeeded); waiting for data */
  TW_STATE_BACKOFF = 2,    /**< the last attempt failed; waiting before the next (or for credentials) */
  TW_STATE_PAUSED = 3,     /**< the queue is full: the stream stopped reading until the consumer makes room */
  TW_STATE_ENDED = 4       /**< ended, cleanly or not (tw_stream_failure() tells which) */
} tw_state;

/** The stream's state now; TW_STATE_ENDED for NULL. Thread-safe; read without stopping the stream. */
TW_API tw_state tw_stream_state(const tw_stream *stream);

/** Name of a state ("connecting", "open", "backoff", "paused", "ended"). Static string. Thread-safe. */
TW_API const char *tw_state_name(tw_state state);

/**
 * The text of the stream's last failed attempt (e.g. "http://h/sse: could not resolve host h
 * (unknown node or service)"), or "" if no attempt has failed. It stays after a later success, so
 * that a flapping stream still says why; tw_stream_stat(..., "attempts") tells whether the failure is
 * current. Never holds a header value; URLs in it have their query, fragment and password
 * replaced by "REDACTED". On TW_OK, *out is owned: free with tw_free(). Thread-safe.
 */
TW_API tw_err tw_stream_last_error(char **out, const tw_stream *stream);

/**
 * Describes statistic number `index` (the order of tw_stat_name()): its name and a one-sentence
 * description, both static strings; either out pointer may be NULL. Returns TW_ERR_INVALID_ARGUMENT
 * past the end. "attempts" counts the attempts that failed in a row (0 again after a success).
 * Thread-safe.
 */
TW_API tw_err tw_stat_info(const char **out_name, const char **out_doc, size_t index);

/* ---------------------------------------------------------------------------------------------- */
/* Logging, pulled by the application (appended in 0.2)                                           */

/*
 * tw_log_set() calls a hook on the I/O thread, which a managed runtime (a JVM, CPython, Node)
 * cannot take safely. Instead a runtime can queue its records: the application turns the queue on
 * with tw_runtime_log_enable() and takes records with tw_runtime_log_next() on a thread of its own,
 * or when tw_runtime_log_fd() is readable (asyncio add_reader, uv_poll, epoll). Records made on
 * the runtime's I/O thread then go to its queue only (not to the tw_log_set hook, not to stderr);
 * records of calls made on application threads still go to the hook.
 */

/** One log record. Owned by whoever took it; free with tw_log_record_destroy(). Not thread-safe. */
typedef struct tw_log_record tw_log_record;

/**
 * Turns the runtime's log queue on: from now on, records at `max_level` or more severe made on its
 * I/O thread are queued (up to `capacity`, at least 1; a record that finds the queue full is
 * dropped and counted, see tw_runtime_log_dropped(); once the records kept have been read, a WARN
 * record "N log records dropped: ..." follows them). Calling it again changes the level and the
 * capacity. Returns TW_ERR_INVALID_ARGUMENT for a NULL runtime or capacity 0. Thread-safe.
 */
TW_API tw_err tw_runtime_log_enable(tw_runtime *runtime, tw_log_level max_level, size_t capacity);

/**
 * Waits up to timeout_ms (negative waits forever, 0 polls) for the next log record of the runtime.
 * On TW_OK, *out is owned: free with tw_log_record_destroy(). Returns TW_ERR_TIMEOUT when none came,
 * TW_ERR_WAKEUP when tw_runtime_log_wakeup() interrupted the wait, TW_ERR_INVALID_ARGUMENT if the
 * queue is not on. Thread-safe. Every wait must have returned before tw_runtime_destroy() is called
 * (use tw_runtime_log_wakeup() to end one).
 */
TW_API tw_err tw_runtime_log_next(tw_log_record **out, tw_runtime *runtime, int timeout_ms);

/**
 * Like tw_runtime_log_next(), but takes up to `capacity` records at once. On TW_OK,
 * out[0 .. *out_count-1] are owned records (*out_count >= 1). Thread-safe.
 */
TW_API tw_err tw_runtime_log_next_batch(tw_log_record **out, size_t *out_count, tw_runtime *runtime,
                                        size_t capacity, int timeout_ms);

/**
 * Interrupts one wait in tw_runtime_log_next()/_next_batch(), which returns TW_ERR_WAKEUP; if none
 * is in progress, the next call returns TW_ERR_WAKEUP at once. Thread-safe.
 */
TW_API void tw_runtime_log_wakeup(tw_runtime *runtime);

/**
 * A file descriptor that is readable while the runtime's log queue holds records (level-triggered;
 * do not read from it), or -1 if it cannot be made. Borrowed: valid until the runtime is
 * destroyed. Thread-safe.
 */
TW_API int tw_runtime_log_fd(tw_runtime *runtime);

/** Records dropped so far because the runtime's log queue was full. Thread-safe. */
TW_API tw_err tw_runtime_log_dropped(uint64_t *out, const tw_runtime *runtime);

/** Frees a record. Accepts NULL. */
TW_API void tw_log_record_destroy(tw_log_record *record);
/** The record's level (TW_LOG_ERROR for NULL). */
TW_API tw_log_level tw_log_record_level(const tw_log_record *record);
/** The record's text (no trailing newline; URLs redacted). Borrowed until the record is destroyed. */
TW_API const char *tw_log_record_message(const tw_log_record *record);
/** When the record was made: CLOCK_REALTIME in ns since the epoch (0 for NULL). */
TW_API int64_t tw_log_record_time_ns(const tw_log_record *record);
/** Name of a level ("error", "warn", "info", "debug"). Static string. Thread-safe. */
TW_API const char *tw_log_level_name(tw_log_level level);

/**
 * Puts the process-wide hook back to the default: WARN and above to stderr (undoes tw_log_set()).
 * Thread-safe.
 */
TW_API void tw_log_reset(void);


/* ---------------------------------------------------------------------------------------------- */
/* Configuration values with their host type (appended in 0.2)                                    */

/** What kind of value a host language gave for a key. Values are part of the ABI. */
typedef enum tw_value_kind {
  TW_VALUE_TEXT = 0,  /**< a string, number, boolean or bytes, passed as its text (as tw_config_set_n) */
  TW_VALUE_LIST = 1,  /**< a list (Python list/tuple, JavaScript array, Java List), as the host prints it */
  TW_VALUE_OTHER = 2  /**< anything else (a dict, an object, a set, ...): refused for every key */
} tw_value_kind;

/**
 * As tw_config_set_n(), telling the core what the host language was given, so that a value is
 * never stored as text nobody wrote (Python's str(['a']) for a string key). TW_VALUE_LIST is
 * accepted only by keys whose type is "list"; TW_VALUE_OTHER by none. A refused value gives
 * TW_ERR_INVALID_VALUE "invalid value for KEY: a value of type TYPE is not accepted; expected
 * ACCEPTED", where TYPE is `type_name` (the host's name of the type, e.g. "dict", "array"; may be
 * NULL) and the value itself is never shown. An unknown key is TW_ERR_UNKNOWN_KEY as for
 * tw_config_set(). `value` may be NULL when `value_len` is 0. Same thread rules as tw_config_set().
 */
TW_API tw_err tw_config_set_value(tw_config *config, const char *key, size_t key_len, const char *value,
                                  size_t value_len, tw_value_kind kind, const char *type_name);

#ifdef __cplusplus
}
#endif

#endif /* TIDEWIRE_H */
