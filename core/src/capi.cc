// The C ABI: argument checks, ownership hand-over, and the only place exceptions are caught.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <strings.h>
#include <vector>

#include "config.h"
#include "error.h"
#include "event.h"
#include "log.h"
#include "runtime.h"
#include "stream.h"
#include "proto/jsonrpc.h"
#include "transport/transport.h"

using namespace tidewire::detail;

struct tw_runtime {
  std::shared_ptr<Runtime> runtime;
};

struct tw_config {
  Config config;
};

struct tw_stream {
  std::shared_ptr<StreamCore> core;
};

namespace {

template <typename F>
tw_err guarded(F&& body) {
  try {
    clear_last_error();
    body();
    return TW_OK;
  } catch (const Error& e) {
    set_last_error(e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return TW_ERR_NO_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(e.what());
    return TW_ERR_INTERNAL;
  } catch (...) {
    set_last_error("unknown internal error");
    return TW_ERR_INTERNAL;
  }
}

[[noreturn]] void invalid_argument(const char* what) { throw Error(TW_ERR_INVALID_ARGUMENT, what); }

char* owned_copy(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// How long tw_stream_open waits for a webhook stream's listener.
constexpr int64_t kListenTimeoutMs = 5000;

// Runs on the I/O thread: the command that (re)starts a stream's transport or stops it.
void start_on_loop(Runtime& rt, const std::shared_ptr<StreamCore>& core) {
  try {
    Transport* t = rt.adopt(make_transport(rt, core));
    core->running = t;
    t->start();
  } catch (const Error& e) {
    tw_event failure{};
    failure.kind = TW_KIND_ERROR;
    failure.transport = core->transport;
    failure.error = e.code();
    failure.data = e.what();
    failure.received_ns = monotonic_ns();
    core->set_failure(failure);
    core->queue.end();
    core->report_ready(e.code(), e.what());
  }
}

}  // namespace

extern "C" {

const char* tw_err_name(tw_err err) { return err_name(err); }
const char* tw_err_str(tw_err err) { return err_str(err); }
const char* tw_last_error_message(void) { return last_error(); }
int tw_version(void) { return TW_VERSION; }
const char* tw_version_str(void) {
#define TW_STR2(x) #x
#define TW_STR(x) TW_STR2(x)
  return TW_STR(TW_VERSION_MAJOR) "." TW_STR(TW_VERSION_MINOR) "." TW_STR(TW_VERSION_PATCH);
}
void tw_free(void* ptr) { std::free(ptr); }

void tw_log_set(tw_log_level max_level, tw_log_fn fn, void* user) { log_set(max_level, fn, user); }

tw_err tw_runtime_create(tw_runtime** out) {
  return guarded([&] {
    if (!out) invalid_argument("tw_runtime_create: out is NULL");
    *out = nullptr;
    auto rt = std::make_unique<tw_runtime>();
    rt->runtime = Runtime::start();
    *out = rt.release();
  });
}

void tw_runtime_destroy(tw_runtime* runtime) {
  if (!runtime) return;
  runtime->runtime->shutdown();
  delete runtime;
}

tw_err tw_config_create(tw_config** out) {
  return guarded([&] {
    if (!out) invalid_argument("tw_config_create: out is NULL");
    *out = new tw_config;
  });
}

void tw_config_destroy(tw_config* config) { delete config; }

tw_err tw_config_set(tw_config* config, const char* key, const char* value) {
  return guarded([&] {
    if (!config || !key || !value) invalid_argument("tw_config_set: config, key and value must not be NULL");
    config->config.set(key, value);
  });
}

tw_err tw_config_set_n(tw_config* config, const char* key, size_t key_len, const char* value, size_t value_len) {
  return guarded([&] {
    if (!config || !key || !value) invalid_argument("tw_config_set_n: config, key and value must not be NULL");
    config->config.set(std::string(key, key_len), std::string(value, value_len));
  });
}

tw_err tw_config_get(char** out, const tw_config* config, const char* key) {
  return guarded([&] {
    if (!out || !config || !key) invalid_argument("tw_config_get: out, config and key must not be NULL");
    *out = owned_copy(config->config.get(key));
  });
}

size_t tw_config_key_count(void) { return key_table().size(); }

tw_err tw_config_key_info(const char** out_name, const char** out_type, const char** out_default,
                          const char** out_accepted, const char** out_doc, size_t index) {
  return guarded([&] {
    if (index >= key_table().size()) invalid_argument("tw_config_key_info: index past the end of the table");
    static const std::vector<std::string> display_names = [] {
      std::vector<std::string> names;
      for (const auto& spec : key_table()) names.push_back(key_display_name(spec));
      return names;
    }();
    const KeySpec& spec = key_table()[index];
    if (out_name) *out_name = display_names[index].c_str();
    if (out_type) *out_type = key_type_name(spec.type);
    if (out_default) *out_default = spec.default_value;
    if (out_accepted) *out_accepted = spec.accepted;
    if (out_doc) *out_doc = spec.doc;
  });
}

const char* tw_transport_name(tw_transport transport) {
  switch (transport) {
    case TW_TRANSPORT_POLL: return "poll";
    case TW_TRANSPORT_LONGPOLL: return "longpoll";
    case TW_TRANSPORT_SSE: return "sse";
    case TW_TRANSPORT_WS: return "ws";
    case TW_TRANSPORT_WEBHOOK: return "webhook";
    case TW_TRANSPORT_MCP: return "mcp";
    case TW_TRANSPORT_REDIS: return "redis";
  }
  return "unknown";
}

const char* tw_kind_name(tw_kind kind) {
  switch (kind) {
    case TW_KIND_MESSAGE: return "message";
    case TW_KIND_OPEN: return "open";
    case TW_KIND_RECONNECTING: return "reconnecting";
    case TW_KIND_ERROR: return "error";
    case TW_KIND_CLOSED: return "closed";
    case TW_KIND_AUTH_REQUIRED: return "auth_required";
    case TW_KIND_COMMENT: return "comment";
  }
  return "unknown";
}

void tw_event_destroy(tw_event* event) { delete event; }
tw_kind tw_event_kind(const tw_event* event) { return event ? event->kind : TW_KIND_MESSAGE; }
tw_transport tw_event_transport(const tw_event* event) { return event ? event->transport : TW_TRANSPORT_POLL; }
const char* tw_event_id(const tw_event* event) { return event ? event->id.c_str() : ""; }
const char* tw_event_type(const tw_event* event) { return event ? event->type.c_str() : ""; }
const char* tw_event_data(const tw_event* event) { return event ? event->data.c_str() : ""; }
size_t tw_event_data_len(const tw_event* event) { return event ? event->data.size() : 0; }
size_t tw_event_header_count(const tw_event* event) { return event ? event->headers.size() : 0; }

tw_err tw_event_header_at(const char** out_name, const char** out_value, const tw_event* event, size_t index) {
  return guarded([&] {
    if (!event || index >= event->headers.size()) invalid_argument("tw_event_header_at: index past the last header");
    if (out_name) *out_name = event->headers[index].first.c_str();
    if (out_value) *out_value = event->headers[index].second.c_str();
  });
}

const char* tw_event_header(const tw_event* event, const char* name) {
  if (!event || !name) return nullptr;
  for (const auto& h : event->headers)
    if (strcasecmp(h.first.c_str(), name) == 0) return h.second.c_str();
  return nullptr;
}

int64_t tw_event_received_ns(const tw_event* event) { return event ? event->received_ns : 0; }
tw_err tw_event_error(const tw_event* event) { return event ? event->error : TW_OK; }
int tw_event_http_status(const tw_event* event) { return event ? event->http_status : 0; }
int tw_event_close_code(const tw_event* event) { return event ? event->close_code : 0; }
int64_t tw_event_retry_ms(const tw_event* event) { return event ? event->retry_ms : 0; }

tw_err tw_stream_open(tw_stream** out, tw_runtime* runtime, const tw_config* config) {
  return guarded([&] {
    if (!out || !runtime || !config) invalid_argument("tw_stream_open: out, runtime and config must not be NULL");
    *out = nullptr;
    tw_transport transport = config->config.validated_transport();
    if (const std::string& ca_file = config->config.str("tls.ca_file"); !ca_file.empty()) check_ca_file(ca_file);
    auto stream = std::make_unique<tw_stream>();
    stream->core = std::make_shared<StreamCore>(config->config, transport, runtime->runtime);
    std::weak_ptr<StreamCore> weak = stream->core;
    stream->core->queue.set_resume_hook([weak] {
      if (auto core = weak.lock())
        core->runtime->post([core] {
          if (core->running) core->running->resume();
        });
    });
    std::shared_ptr<StreamCore> core = stream->core;
    Runtime& rt = *runtime->runtime;
    if (!rt.post([&rt, core] { start_on_loop(rt, core); }))
      throw Error(TW_ERR_SHUTDOWN, "tw_stream_open: the runtime is shutting down");
    // A webhook stream is open once it listens: then tw_stream_url gives the port really bound, and
    // a port in use fails the open instead of the stream.
    if (transport == TW_TRANSPORT_WEBHOOK) {
      try {
        core->wait_ready(kListenTimeoutMs);
      } catch (const Error&) {
        rt.post([core] {
          if (core->running) core->running->close();
        });
        throw;
      }
    }
    *out = stream.release();
  });
}

void tw_stream_close(tw_stream* stream) {
  // void: a failure is only reported through tw_last_error_message().
  guarded([&] {
    if (!stream) invalid_argument("tw_stream_close: stream is NULL");
    std::shared_ptr<StreamCore> core = stream->core;
    core->runtime->post([core] {
      if (core->running) core->running->close();
    });
  });
}

void tw_stream_destroy(tw_stream* stream) {
  if (!stream) return;
  tw_stream_close(stream);
  // The handle is freed even if the close could not be posted (e.g. out of memory): the stream
  // then ends with its runtime.
  delete stream;
}

tw_err tw_stream_next(tw_event** out, tw_stream* stream, int timeout_ms) {
  size_t count = 0;
  return tw_stream_next_batch(out, &count, stream, 1, timeout_ms);
}

namespace {
// redis.ack=auto: one XACK for the messages of a batch, sent from the I/O thread. If the runtime is
// shutting down the entries stay pending and another consumer claims them: never lost.
void acknowledge_handed_over(const std::shared_ptr<StreamCore>& core, const std::vector<EventPtr>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events)
    if (e->kind == TW_KIND_MESSAGE && !e->id.empty()) ids.push_back(e->id);
  if (ids.empty()) return;
  core->runtime->post([core, ids = std::move(ids)]() mutable {
    if (core->running) core->running->ack(std::move(ids));
  });
}
}  // namespace

tw_err tw_stream_next_batch(tw_event** out, size_t* out_count, tw_stream* stream, size_t capacity, int timeout_ms) {
  if (out_count) *out_count = 0;
  tw_err popped = TW_OK;
  tw_err err = guarded([&] {
    if (!out || !out_count || !stream || capacity == 0)
      invalid_argument("tw_stream_next_batch: out, out_count and stream must not be NULL, capacity must be > 0");
    thread_local std::vector<EventPtr> taken;
    taken.clear();
    popped = stream->core->queue.pop(taken, capacity, timeout_ms);
    if (stream->core->ack_on_handover) acknowledge_handed_over(stream->core, taken);
    for (auto& e : taken) out[(*out_count)++] = e.release();
    taken.clear();
  });
  return err != TW_OK ? err : popped;
}

void tw_stream_recycle(tw_stream* stream, tw_event* const* events, size_t count) {
  if (!events) return;
  if (!stream) {
    for (size_t i = 0; i < count; ++i) delete events[i];
    return;
  }
  stream->core->queue.recycle(events, count);  // never throws: falls back to plain destruction
}

void tw_stream_wakeup(tw_stream* stream) {
  guarded([&] {
    if (!stream) invalid_argument("tw_stream_wakeup: stream is NULL");
    stream->core->queue.wakeup();
  });
}

int tw_stream_fd(const tw_stream* stream) {
  int fd = -1;
  guarded([&] {
    if (!stream) invalid_argument("tw_stream_fd: stream is NULL");
    fd = stream->core->queue.fd();  // -1 when out of descriptors, as documented
  });
  return fd;
}

tw_err tw_stream_send(tw_stream* stream, const void* data, size_t len, int binary) {
  return guarded([&] {
    if (!stream || (!data && len)) invalid_argument("tw_stream_send: stream is NULL, or data is NULL with len > 0");
    const std::shared_ptr<StreamCore>& core = stream->core;
    if (!core->sends)
      throw Error(TW_ERR_UNSUPPORTED, std::string("tw_stream_send: the ") + tw_transport_name(core->transport) +
                                          " transport cannot send; only ws and mcp streams can");
    const char* limit_key = core->transport == TW_TRANSPORT_MCP ? "mcp.send_buffer_bytes" : "ws.send_buffer_bytes";
    if (core->transport == TW_TRANSPORT_MCP) {
      std::vector<std::string_view> messages;
      if (binary || !jsonrpc::split(std::string_view(static_cast<const char*>(data), len), messages))
        throw Error(TW_ERR_INVALID_VALUE,
                    "tw_stream_send: an mcp stream sends JSON-RPC messages as text: one JSON object, or a batch "
                    "(an array of objects); this is not one");
    }
    bool was_empty = false;
    switch (core->sends->push(data, len, binary != 0, was_empty)) {
      case TW_OK:
        break;
      case TW_ERR_WOULD_BLOCK:
        throw Error(TW_ERR_WOULD_BLOCK, std::string("tw_stream_send: the send buffer is full (") + limit_key + "=" +
                                            std::to_string(core->sends->limit()) + "); retry when it drains");
      case TW_ERR_LIMIT:
        throw Error(TW_ERR_LIMIT, "tw_stream_send: a message of " + std::to_string(len) +
                                      " bytes can never fit " + limit_key + "=" + std::to_string(core->sends->limit()));
      default:
        throw Error(TW_ERR_CLOSED, "tw_stream_send: the stream has ended");
    }
    // Wake the writer once per batch of sends, not per message.
    if (was_empty)
      core->runtime->post([core] {
        if (core->running) core->running->send_ready();
      });
  });
}

namespace {

// Checks that the stream can take a restart or a header (a running HTTP or ws stream), naming the
// function in the error.
void check_controllable(const tw_stream* stream, const char* function) {
  if (!stream) invalid_argument((std::string(function) + ": stream is NULL").c_str());
  if (stream->core->transport == TW_TRANSPORT_WEBHOOK)
    throw Error(TW_ERR_UNSUPPORTED, std::string(function) + ": a webhook stream makes no requests");
  if (stream->core->queue.ended()) throw Error(TW_ERR_CLOSED, std::string(function) + ": the stream has ended");
}

}  // namespace

tw_err tw_stream_restart(tw_stream* stream) {
  return guarded([&] {
    check_controllable(stream, "tw_stream_restart");
    std::shared_ptr<StreamCore> core = stream->core;
    if (!core->runtime->post([core] {
          if (core->running) core->running->restart();
        }))
      throw Error(TW_ERR_SHUTDOWN, "tw_stream_restart: the runtime is shutting down");
  });
}

namespace {

// tw_stream_set_header and its explicit-length form: check_header refuses a NUL in the name or the
// value, naming the header and never showing the value.
void set_header(tw_stream* stream, const char* function, const std::string& name, std::optional<std::string> value) {
  check_controllable(stream, function);
  check_header(name, value ? &*value : nullptr);
  std::shared_ptr<StreamCore> core = stream->core;
  core->set_header(name, value);
  core->runtime->post([core] {
    if (core->running) core->running->headers_changed();
  });
}

}  // namespace

tw_err tw_stream_set_header(tw_stream* stream, const char* name, const char* value) {
  return guarded([&] {
    if (!name) invalid_argument("tw_stream_set_header: name is NULL");
    std::optional<std::string> v;
    if (value) v = value;
    set_header(stream, "tw_stream_set_header", name, std::move(v));
  });
}

tw_err tw_stream_set_header_n(tw_stream* stream, const char* name, size_t name_len, const char* value,
                              size_t value_len) {
  return guarded([&] {
    if (!name && name_len) invalid_argument("tw_stream_set_header_n: name is NULL with name_len > 0");
    std::optional<std::string> v;
    if (value) v = std::string(value, value_len);
    set_header(stream, "tw_stream_set_header_n", std::string(name ? name : "", name_len), std::move(v));
  });
}

tw_err tw_stream_ack(tw_stream* stream, const char* id) {
  return guarded([&] {
    if (!stream || !id || !*id) invalid_argument("tw_stream_ack: stream is NULL, or id is NULL or empty");
    std::shared_ptr<StreamCore> core = stream->core;
    if (core->transport != TW_TRANSPORT_REDIS)
      throw Error(TW_ERR_UNSUPPORTED, std::string("tw_stream_ack: the ") + tw_transport_name(core->transport) +
                                          " transport has nothing to acknowledge; only redis streams do");
    if (core->config.str("redis.ack") != "manual") return;
    if (core->queue.ended()) throw Error(TW_ERR_CLOSED, "tw_stream_ack: the stream has ended");
    if (!core->runtime->post([core, entry = std::string(id)] {
          if (core->running) core->running->ack({entry});
        }))
      throw Error(TW_ERR_SHUTDOWN, "tw_stream_ack: the runtime is shutting down");
  });
}

tw_err tw_stream_failure(tw_event** out, const tw_stream* stream) {
  return guarded([&] {
    if (!out || !stream) invalid_argument("tw_stream_failure: out and stream must not be NULL");
    *out = stream->core->failure().release();
  });
}

int tw_stream_ended(const tw_stream* stream) { return stream && stream->core->queue.ended() ? 1 : 0; }

tw_err tw_stream_url(char** out, const tw_stream* stream) {
  return guarded([&] {
    if (!out || !stream) invalid_argument("tw_stream_url: out and stream must not be NULL");
    *out = owned_copy(stream->core->url());
  });
}

tw_err tw_stream_stat(uint64_t* out, const tw_stream* stream, const char* name) {
  return guarded([&] {
    if (!out || !stream || !name) invalid_argument("tw_stream_stat: out, stream and name must not be NULL");
    if (!stream->core->stat(name, *out))
      throw Error(TW_ERR_INVALID_ARGUMENT, std::string("no statistic named \"") + name + "\"");
  });
}

const char* tw_stat_name(size_t index) { return stat_name(index); }

const char* tw_err_category(tw_err err) { return err_category(err); }

tw_err tw_event_error_message(char** out, const tw_event* event) {
  return guarded([&] {
    if (!out || !event) invalid_argument("tw_event_error_message: out and event must not be NULL");
    *out = nullptr;
    std::string reason(event->data.view());
    bool failure = event->kind == TW_KIND_ERROR || event->kind == TW_KIND_RECONNECTING ||
                   event->kind == TW_KIND_AUTH_REQUIRED || event->error != TW_OK;
    *out = owned_copy(failure ? error_text(reason, event->error, event->http_status, event->close_code) : reason);
  });
}

tw_err tw_config_unset(tw_config* config, const char* key) {
  return guarded([&] {
    if (!config || !key) invalid_argument("tw_config_unset: config and key must not be NULL");
    config->config.unset(key);
  });
}

tw_err tw_config_set_value(tw_config* config, const char* key, size_t key_len, const char* value, size_t value_len,
                           tw_value_kind kind, const char* type_name) {
  return guarded([&] {
    if (!config || !key || (!value && value_len))
      invalid_argument("tw_config_set_value: config and key must not be NULL, nor value when value_len > 0");
    if (kind != TW_VALUE_TEXT && kind != TW_VALUE_LIST && kind != TW_VALUE_OTHER)
      invalid_argument("tw_config_set_value: kind is not a tw_value_kind");
    config->config.set_value(std::string(key, key_len), value ? std::string(value, value_len) : std::string(), kind,
                             type_name ? type_name : "");
  });
}

const char* tw_config_key_alias(size_t index) {
  static const std::vector<std::string> aliases = [] {
    std::vector<std::string> out;
    for (const auto& spec : key_table()) out.push_back(key_alias(spec));
    return out;
  }();
  return index < aliases.size() && !aliases[index].empty() ? aliases[index].c_str() : nullptr;
}

tw_state tw_stream_state(const tw_stream* stream) {
  if (!stream) return TW_STATE_ENDED;
  const StreamCore& core = *stream->core;
  if (core.queue.ended()) return TW_STATE_ENDED;
  StreamState state = core.state.load();
  if (state == StreamState::ended) return TW_STATE_ENDED;
  if (core.queue.paused()) return TW_STATE_PAUSED;
  return static_cast<tw_state>(state);
}

const char* tw_state_name(tw_state state) { return stream_state_name(state); }

tw_err tw_stream_last_error(char** out, const tw_stream* stream) {
  return guarded([&] {
    if (!out || !stream) invalid_argument("tw_stream_last_error: out and stream must not be NULL");
    *out = owned_copy(stream->core->last_error());
  });
}

tw_err tw_stat_info(const char** out_name, const char** out_doc, size_t index) {
  return guarded([&] {
    const char* name = stat_name(index);
    if (!name) throw Error(TW_ERR_INVALID_ARGUMENT, "tw_stat_info: no statistic number " + std::to_string(index));
    if (out_name) *out_name = name;
    if (out_doc) *out_doc = stat_doc(index);
  });
}

tw_err tw_runtime_log_enable(tw_runtime* runtime, tw_log_level max_level, size_t capacity) {
  return guarded([&] {
    if (!runtime || capacity == 0) invalid_argument("tw_runtime_log_enable: runtime is NULL or capacity is 0");
    if (max_level < TW_LOG_ERROR || max_level > TW_LOG_DEBUG)
      invalid_argument("tw_runtime_log_enable: max_level is not a tw_log_level");
    runtime->runtime->log_queue().enable(max_level, capacity);
  });
}

tw_err tw_runtime_log_next_batch(tw_log_record** out, size_t* out_count, tw_runtime* runtime, size_t capacity,
                                 int timeout_ms) {
  std::vector<tw_log_record*> records;
  tw_err err = guarded([&] {
    if (!out || !out_count || !runtime || capacity == 0)
      invalid_argument("tw_runtime_log_next_batch: out, out_count and runtime must not be NULL, capacity not 0");
    *out_count = 0;
    records.reserve(std::min<size_t>(capacity, 256));
    tw_err popped = runtime->runtime->log_queue().pop(records, capacity, timeout_ms);
    if (popped == TW_ERR_INVALID_ARGUMENT)
      throw Error(popped, "the runtime's log queue is off: call tw_runtime_log_enable first");
    if (popped != TW_OK) throw Error(popped, popped == TW_ERR_TIMEOUT ? "no log record within the timeout" : "woken up");
  });
  if (err != TW_OK) {
    for (tw_log_record* r : records) delete r;
    return err;
  }
  for (size_t i = 0; i < records.size(); i++) out[i] = records[i];
  *out_count = records.size();
  return TW_OK;
}

tw_err tw_runtime_log_next(tw_log_record** out, tw_runtime* runtime, int timeout_ms) {
  size_t count = 0;
  if (out) *out = nullptr;
  return tw_runtime_log_next_batch(out, &count, runtime, 1, timeout_ms);
}

void tw_runtime_log_wakeup(tw_runtime* runtime) {
  if (runtime) runtime->runtime->log_queue().wakeup();
}

int tw_runtime_log_fd(tw_runtime* runtime) {
  int fd = -1;
  guarded([&] {
    if (!runtime) invalid_argument("tw_runtime_log_fd: runtime is NULL");
    fd = runtime->runtime->log_queue().fd();
  });
  return fd;
}

tw_err tw_runtime_log_dropped(uint64_t* out, const tw_runtime* runtime) {
  return guarded([&] {
    if (!out || !runtime) invalid_argument("tw_runtime_log_dropped: out and runtime must not be NULL");
    *out = runtime->runtime->log_queue().dropped();
  });
}

void tw_log_record_destroy(tw_log_record* record) { delete record; }

tw_log_level tw_log_record_level(const tw_log_record* record) { return record ? record->level : TW_LOG_ERROR; }

const char* tw_log_record_message(const tw_log_record* record) { return record ? record->message.c_str() : ""; }

int64_t tw_log_record_time_ns(const tw_log_record* record) { return record ? record->time_ns : 0; }

const char* tw_log_level_name(tw_log_level level) {
  static const char* const kNames[] = {"error", "warn", "info", "debug"};
  return level >= TW_LOG_ERROR && level <= TW_LOG_DEBUG ? kNames[level] : "unknown";
}

void tw_log_reset(void) { log_reset(); }


}  // extern "C"
