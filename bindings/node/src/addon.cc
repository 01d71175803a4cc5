// tidewire.node: the C ABI as a few JavaScript-callable objects. Only idiom lives here: handles owned
// by JavaScript objects, tw_err turned into exceptions, and readiness — each stream's fd watched
// with a uv_poll on Node's own loop, each wake-up handing one batch of events to JavaScript, packed
// (numbers in one typed array, payloads in a few buffers) so that JavaScript builds its events
// without a call back in here. What a stream does is the core's business; lib/stream.js builds the
// public API on these objects.
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tidewire/tidewire.h>

namespace {

// Events taken from the core per wake-up: one lock in the core and one call into JavaScript for
// all of them.
constexpr size_t kBatch = 256;
// Payloads are copied back to back into chunks of at most this many bytes (a larger payload is a
// chunk of its own). An event's data is a view of its chunk, so a kept event keeps its chunk alive:
// the bound keeps that cost near what a socket read buffer costs, and the copy to one per payload.
// Below malloc's mmap threshold (128 KiB), chunks reuse freed memory instead of faulting in fresh
// pages for every batch (measured: 16 KiB messages 30% faster than with 256 KiB chunks).
constexpr size_t kChunkBytes = 64 * 1024;
// Batches whose payloads average more than this go into chunks V8 allocates (see pack()).
constexpr size_t kPooledPayloadMax = 8 * 1024;

// The numbers of one event in the layout array, kStride per event: this list is their one
// definition. It makes the enum below and the `slots` object Register() exports ({kind: 0, ...,
// stride}), by which lib/event.js reads them (and refuses to load if one it reads is missing).
// Strings are indices into the batch's array of strings.
#define TW_NODE_SLOTS(X)                                                                          \
  X(kind)                                                                                         \
  X(transport)                                                                                    \
  X(chunk)  /* which chunk of the batch holds the payload */                                      \
  X(offset) /* and where in it (in its ArrayBuffer) */                                            \
  X(length)                                                                                       \
  X(id)                                                                                           \
  X(type)                                                                                         \
  X(receivedNs)                                                                                   \
  X(error) /* the code's name; -1 when none */                                                    \
  X(status)                                                                                       \
  X(closeCode)                                                                                    \
  X(retryMs)                                                                                      \
  X(headers) /* the first header's name; each name is followed by its value */                    \
  X(headerCount)

enum Slot : uint32_t {
#define TW_NODE_SLOT_ENUM(name) k_##name,
  TW_NODE_SLOTS(TW_NODE_SLOT_ENUM)
#undef TW_NODE_SLOT_ENUM
  kStride
};
constexpr const char* kSlotNames[kStride] = {
#define TW_NODE_SLOT_NAME(name) #name,
    TW_NODE_SLOTS(TW_NODE_SLOT_NAME)
#undef TW_NODE_SLOT_NAME
};

// Per Node environment (the main thread, each worker): the runtime its streams run on, the
// JavaScript function that receives batches, and the layout array every batch of the environment
// is written into (JavaScript reads a batch before it takes the next one).
struct LogWatcher;
void stop_log(LogWatcher*& watcher);

// Memory for payload chunks, reused. A chunk is handed to JavaScript as an external ArrayBuffer
// whose finalizer brings it back here (on the JS thread, once the garbage collector found no view
// of it alive); the next batch writes into it. Fresh memory for every batch made glibc return the
// freed chunks to the kernel and fault them in again (measured: a third of the JS thread's time
// at 1 KiB messages). Chunks come back only at a collection, so a fast stream has many out at
// once; what was not needed for a while is freed (see take). JS-thread only. Outlives the
// environment's Instance while chunks are out.
class ChunkPool {
 public:
  char* take() {
    out_++;
    if (free_.size() < unused_) unused_ = free_.size();
    // Every kWindow takes, the chunks that stayed free all along were not needed: freed.
    if (++takes_ == kWindow) {
      for (; unused_ > 0; --unused_) {
        ::operator delete(free_.back());
        free_.pop_back();
      }
      takes_ = 0;
      unused_ = free_.size();
    }
    if (free_.empty()) return static_cast<char*>(::operator new(kChunkBytes));
    char* memory = free_.back();
    free_.pop_back();
    return memory;
  }

  // The finalizer of a chunk's ArrayBuffer.
  static void give_back(Napi::Env /*env*/, void* data, ChunkPool* pool) {
    pool->out_--;
    if (!pool->orphaned_ && pool->free_.size() < kMaxFree) {
      pool->free_.push_back(static_cast<char*>(data));
      return;
    }
    ::operator delete(data);
    if (pool->orphaned_ && pool->out_ == 0) delete pool;
  }

  // The Instance goes away: this goes too, now or when the last chunk comes back.
  void release() {
    for (char* memory : free_) ::operator delete(memory);
    free_.clear();
    if (out_ == 0)
      delete this;
    else
      orphaned_ = true;
  }

 private:
  static constexpr size_t kMaxFree = 1024;  // 64 MiB: what a fast stream has out between collections
  static constexpr size_t kWindow = 4096;   // takes
  std::vector<char*> free_;
  size_t out_ = 0;       // chunks JavaScript may still hold
  size_t unused_ = 0;    // the fewest free chunks seen in this window
  size_t takes_ = 0;
  bool orphaned_ = false;
};

struct Instance {
  tw_runtime* runtime = nullptr;
  bool shut_down = false;
  Napi::FunctionReference deliver;
  Napi::FunctionReference deliver_log;  // receives the runtime's log records (lib/log.js)
  LogWatcher* log_watcher = nullptr;
  Napi::Reference<Napi::Float64Array> layout;
  double* slots = nullptr;  // layout's memory; V8 never moves an ArrayBuffer's backing store
  ChunkPool* chunks = new ChunkPool;
  ~Instance() {
    chunks->release();
    stop_log(log_watcher);
    tw_runtime_destroy(runtime);
  }
};

Instance& instance(Napi::Env env) { return *env.GetInstanceData<Instance>(); }

// ---- The runtime's log, on Node's loop ----------------------------------------------------------
// The runtime queues the records of its I/O thread; a uv_poll on the queue's fd, on Node's own
// loop and unref'd (it never keeps the process alive), hands them to JavaScript in batches: the
// I/O thread never calls into JavaScript.

constexpr size_t kLogCapacity = 1024;
constexpr size_t kLogBatch = 64;

struct LogWatcher {
  uv_poll_t poll;
  napi_env env;
  tw_runtime* runtime;
  napi_async_context context;
};

struct LogRecords {
  tw_log_record* at[kLogBatch];
  size_t count = 0;
  ~LogRecords() {
    for (size_t i = 0; i < count; ++i) tw_log_record_destroy(at[i]);
  }
};

// Takes one batch and calls deliver_log([level, message, timeNs, level, message, timeNs, ...]);
// returns how many records it took. Plain N-API calls, failures handled rather than thrown, as in
// Stream::OnReadable.
size_t deliver_log_batch(LogWatcher* watcher) {
  napi_env env = watcher->env;
  LogRecords records;
  if (tw_runtime_log_next_batch(records.at, &records.count, watcher->runtime, kLogBatch, 0) != TW_OK) return 0;
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok || !data) return records.count;
  Instance& inst = *static_cast<Instance*>(data);
  if (inst.deliver_log.IsEmpty()) return records.count;
  uv_poll_t* poll = &watcher->poll;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return records.count;
  napi_value list, recv, result, fn = inst.deliver_log.Value();
  bool ok = napi_create_array_with_length(env, 3 * records.count, &list) == napi_ok;
  for (size_t i = 0; ok && i < records.count; ++i) {
    napi_value level, message, time;
    const char* text = tw_log_record_message(records.at[i]);
    ok = napi_create_int32(env, tw_log_record_level(records.at[i]), &level) == napi_ok &&
         napi_create_string_utf8(env, text, std::strlen(text), &message) == napi_ok &&
         napi_create_double(env, static_cast<double>(tw_log_record_time_ns(records.at[i])), &time) == napi_ok &&
         napi_set_element(env, list, static_cast<uint32_t>(3 * i), level) == napi_ok &&
         napi_set_element(env, list, static_cast<uint32_t>(3 * i + 1), message) == napi_ok &&
         napi_set_element(env, list, static_cast<uint32_t>(3 * i + 2), time) == napi_ok;
  }
  if (ok) {
    napi_get_global(env, &recv);
    if (napi_make_callback(env, watcher->context, recv, fn, 1, &list, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      napi_value error;
      if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) {
        napi_fatal_exception(env, error);  // a log handler threw: 'uncaughtException'
      } else {
        uv_poll_stop(poll);  // the environment is going away
      }
    }
  }
  napi_close_handle_scope(env, scope);
  return records.count;
}

void on_log_readable(uv_poll_t* poll, int /*status*/, int /*events*/) {
  deliver_log_batch(static_cast<LogWatcher*>(poll->data));
}

// Turns the runtime's log queue on and watches it. Without a watcher (no fd to be had) the records
// stay with the core's process-wide sink (stderr).
void start_log(Napi::Env env, Instance& inst) {
  uv_loop_t* loop = nullptr;
  int fd = -1;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
      tw_runtime_log_enable(inst.runtime, TW_LOG_INFO, kLogCapacity) != TW_OK ||
      (fd = tw_runtime_log_fd(inst.runtime)) < 0)
    return;
  auto* watcher = new LogWatcher{{}, env, inst.runtime, nullptr};
  if (uv_poll_init(loop, &watcher->poll, fd) != 0) {
    delete watcher;
    return;
  }
  watcher->poll.data = watcher;
  napi_async_init(env, Napi::Object::New(env), Napi::String::New(env, "tidewire.log"), &watcher->context);
  uv_unref(reinterpret_cast<uv_handle_t*>(&watcher->poll));
  uv_poll_start(&watcher->poll, UV_READABLE, on_log_readable);
  inst.log_watcher = watcher;
}

// Before the runtime is destroyed (the fd is its own).
void stop_log(LogWatcher*& watcher) {
  if (!watcher) return;
  uv_poll_stop(&watcher->poll);
  if (watcher->context) napi_async_destroy(watcher->env, watcher->context);
  uv_close(reinterpret_cast<uv_handle_t*>(&watcher->poll),
           [](uv_handle_t* handle) { delete static_cast<LogWatcher*>(handle->data); });
  watcher = nullptr;
}

// Throws an Error whose `code` is the core's error name and `category` its category; lib/errors.js
// turns it into the matching class (ConfigError for "config", TidewireError).
[[noreturn]] void throw_error(Napi::Env env, tw_err err, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, tw_err_name(err)));
  error.Set("category", Napi::String::New(env, tw_err_category(err)));
  throw error;
}
[[noreturn]] void throw_last(Napi::Env env, tw_err err) { throw_error(env, err, tw_last_error_message()); }

std::string owned_string(char* text) {
  std::string copy(text ? text : "");
  tw_free(text);
  return copy;
}

// Events taken from the core, given back to their stream with this object (also when packing them
// throws): their memory serves the stream's next events.
struct Events {
  tw_event* at[kBatch];
  size_t count = 0;
  tw_stream* stream = nullptr;  // null: destroyed, not recycled
  Events() = default;
  explicit Events(tw_stream* from) : stream(from) {}
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  ~Events() { tw_stream_recycle(stream, at, count); }
};

// The strings of a batch. Most values repeat from event to event ("" ids, the "text" type of every
// WebSocket message) and a JavaScript string costs an allocation, so each of the first kShared
// distinct values looked up is given once; later ones (ids, unique per event) are not looked up.
class Strings {
 public:
  Strings() { index(std::string_view()); }

  uint32_t index(std::string_view text) {
    for (uint32_t i = 0; i < shared_count_; ++i)
      if (list_[shared_[i]] == text) return shared_[i];
    uint32_t at = append(text);
    if (shared_count_ < kShared) shared_[shared_count_++] = at;
    return at;
  }
  // The same for a C string of one of the batch's events. The events all live until the batch is
  // built, so a pointer seen before is the same string: no need to measure or compare it again.
  uint32_t index(const char* text) {
    if (*text == '\0') return 0;
    if (text == last_) return last_index_;
    last_ = text;
    last_index_ = index(std::string_view(text));
    return last_index_;
  }
  // Header names and values, in order: the event's slots say where they start.
  uint32_t append(std::string_view text) {
    list_.push_back(text);
    return static_cast<uint32_t>(list_.size() - 1);
  }

  Napi::Array to_array(Napi::Env env) const {
    Napi::Array out = Napi::Array::New(env, list_.size());
    for (uint32_t i = 0; i < list_.size(); ++i) out[i] = Napi::String::New(env, list_[i].data(), list_[i].size());
    return out;
  }

 private:
  static constexpr uint32_t kShared = 8;
  std::vector<std::string_view> list_;  // borrowed from the events, alive until the batch is built
  uint32_t shared_[kShared];            // indices in list_ of the values index() looks up
  uint32_t shared_count_ = 0;
  const char* last_ = nullptr;
  uint32_t last_index_ = 0;
};

// Writes `count` events into the environment's layout array and returns [count, strings, chunks]:
// the values lib/event.js builds Event objects from. Each payload is copied once, into its chunk.
Napi::Value pack(Napi::Env env, tw_event* const* events, size_t count) {
  double* slots = instance(env).slots;
  Strings strings;
  std::vector<size_t> chunk_bytes;
  size_t payload_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    const tw_event* e = events[i];
    double* at = slots + i * kStride;
    size_t length = tw_event_data_len(e);
    if (length > 0 && (chunk_bytes.empty() || (chunk_bytes.back() > 0 && chunk_bytes.back() + length > kChunkBytes)))
      chunk_bytes.push_back(0);
    at[k_chunk] = length > 0 ? static_cast<double>(chunk_bytes.size() - 1) : 0;
    at[k_offset] = length > 0 ? static_cast<double>(chunk_bytes.back()) : 0;
    at[k_length] = static_cast<double>(length);
    if (length > 0) chunk_bytes.back() += length;
    payload_bytes += length;
    at[k_kind] = tw_event_kind(e);
    at[k_transport] = tw_event_transport(e);
    at[k_id] = strings.index(tw_event_id(e));
    at[k_type] = strings.index(tw_event_type(e));
    at[k_receivedNs] = static_cast<double>(tw_event_received_ns(e));
    tw_err err = tw_event_error(e);
    at[k_error] = err == TW_OK ? -1 : strings.index(tw_err_name(err));
    at[k_status] = tw_event_http_status(e);
    at[k_closeCode] = tw_event_close_code(e);
    at[k_retryMs] = static_cast<double>(tw_event_retry_ms(e));
    size_t headers = tw_event_header_count(e);
    at[k_headers] = 0;
    at[k_headerCount] = 0;
    for (size_t h = 0; h < headers; ++h) {
      const char* name = nullptr;
      const char* value = nullptr;
      if (tw_event_header_at(&name, &value, e, h) != TW_OK) break;
      uint32_t first = strings.append(name);
      strings.append(value);
      if (h == 0) at[k_headers] = first;
      at[k_headerCount] = static_cast<double>(h + 1);
    }
  }
  Napi::Array chunks = Napi::Array::New(env, chunk_bytes.size());
  std::vector<char*> chunk_data(chunk_bytes.size());
  std::vector<size_t> chunk_offset(chunk_bytes.size(), 0);
  ChunkPool& pool = *instance(env).chunks;
  // Pooled chunks pay a finalizer each, worth it while a chunk holds many payloads; batches of
  // large ones (measured: above about 8 KiB) are faster in chunks V8 allocates itself.
  const bool pooled = payload_bytes <= count * kPooledPayloadMax;
  for (uint32_t c = 0; c < chunk_bytes.size(); ++c) {
    if (pooled && chunk_bytes[c] <= kChunkBytes) {
      // A chunk from the pool, handed back by its finalizer once JavaScript holds no view of it.
      char* memory = pool.take();
      chunk_data[c] = memory;
      chunks[c] = Napi::ArrayBuffer::New(env, memory, chunk_bytes[c], &ChunkPool::give_back, &pool);
    } else {
      // Uninitialised memory (unlike a new ArrayBuffer's): every byte is written below. JavaScript
      // gets the ArrayBuffer itself, to make views of without asking a Buffer for it each time.
      auto chunk = Napi::Buffer<char>::New(env, chunk_bytes[c]);
      chunk_data[c] = chunk.Data();
      chunk_offset[c] = chunk.ByteOffset();
      chunks[c] = chunk.ArrayBuffer();
    }
  }
  for (size_t i = 0; i < count; ++i) {
    double* at = slots + i * kStride;
    if (at[k_length] == 0) continue;
    auto c = static_cast<size_t>(at[k_chunk]);
    std::memcpy(chunk_data[c] + static_cast<size_t>(at[k_offset]), tw_event_data(events[i]),
                static_cast<size_t>(at[k_length]));
    at[k_offset] += static_cast<double>(chunk_offset[c]);
  }
  Napi::Array out = Napi::Array::New(env, 3);
  out[0u] = Napi::Number::New(env, static_cast<double>(count));
  out[1u] = strings.to_array(env);
  out[2u] = chunks;
  return out;
}

class Stream : public Napi::ObjectWrap<Stream> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeStream",
                       {InstanceMethod<&Stream::Take>("take"), InstanceMethod<&Stream::Failure>("failure"),
                        InstanceMethod<&Stream::Watch>("watch"), InstanceMethod<&Stream::SetRef>("setRef"),
                        InstanceMethod<&Stream::Close>("close"), InstanceMethod<&Stream::Send>("send"),
                        InstanceMethod<&Stream::Url>("url"), InstanceMethod<&Stream::Stats>("stats"),
                        InstanceMethod<&Stream::Ended>("ended"), InstanceMethod<&Stream::Fd>("fd"),
                        InstanceMethod<&Stream::Restart>("restart"), InstanceMethod<&Stream::Ack>("ack"),
                        InstanceMethod<&Stream::SetHeader>("setHeader")});
  }

  // new NativeStream([[key, value, kind, typeName], ...]): opens a stream on this environment's
  // runtime. kind is a tw_value_kind: the core decides which keys take a list and words a refusal.
  explicit Stream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Stream>(info) {
    Napi::Env env = info.Env();
    Instance& inst = instance(env);
    if (inst.shut_down) throw_error(env, TW_ERR_SHUTDOWN, "the Tidewire runtime has been shut down (process exit)");
    if (!inst.runtime) {
      tw_err err = tw_runtime_create(&inst.runtime);
      if (err != TW_OK) throw_last(env, err);
      start_log(env, inst);
    }
    tw_config* config = nullptr;
    tw_err err = tw_config_create(&config);
    if (err != TW_OK) throw_last(env, err);
    Napi::Array settings = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < settings.Length() && err == TW_OK; ++i) {
      Napi::Array setting = settings.Get(i).As<Napi::Array>();
      std::string key = setting.Get(0u).As<Napi::String>();
      Napi::Value raw = setting.Get(1u);
      auto kind = static_cast<tw_value_kind>(setting.Get(2u).As<Napi::Number>().Int32Value());
      std::string type_name = setting.Get(3u).As<Napi::String>();
      if (raw.IsTypedArray()) {  // http.body given as bytes: passed on as they are, NULs included
        Napi::TypedArray view = raw.As<Napi::TypedArray>();
        const auto* bytes = static_cast<const char*>(view.ArrayBuffer().Data()) + view.ByteOffset();
        err = tw_config_set_value(config, key.data(), key.size(), bytes, view.ByteLength(), kind, type_name.c_str());
      } else {
        std::string value = raw.As<Napi::String>();
        err = tw_config_set_value(config, key.data(), key.size(), value.data(), value.size(), kind, type_name.c_str());
      }
    }
    // A webhook stream's open waits (milliseconds, 5 s at most) until its endpoint listens.
    if (err == TW_OK) err = tw_stream_open(&stream_, inst.runtime, config);
    std::string message = err == TW_OK ? "" : tw_last_error_message();
    tw_config_destroy(config);
    if (err != TW_OK) throw_error(env, err, message);

    uv_loop_t* loop = nullptr;
    watcher_ = new Watcher{{}, this};
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &watcher_->poll, tw_stream_fd(stream_)) != 0) {
      // A constructor that throws gets no destructor call: undo by hand.
      delete watcher_;
      watcher_ = nullptr;
      tw_stream_destroy(stream_);
      stream_ = nullptr;
      throw_error(env, TW_ERR_INTERNAL, "cannot watch the stream's fd on Node's event loop");
    }
    watcher_->poll.data = watcher_;
    napi_async_init(env, Value(), Napi::String::New(env, "tidewire.Stream"), &async_context_);
  }

  ~Stream() override {
    if (watcher_) {
      // The handle outlives this object until libuv is done with it; it never calls back again.
      watcher_->owner = nullptr;
      uv_poll_stop(&watcher_->poll);
      uv_close(reinterpret_cast<uv_handle_t*>(&watcher_->poll),
               [](uv_handle_t* handle) { delete static_cast<Watcher*>(handle->data); });
    }
    tw_stream_destroy(stream_);
    if (async_context_) napi_async_destroy(Env(), async_context_);
  }

 private:
  struct Watcher {
    uv_poll_t poll;
    Stream* owner;
  };

  // take(): up to kBatch events as a packed batch (see pack(); a count of 0 when none is queued now),
  // or null once the stream has ended and every event has been taken.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Events batch(stream_);
    tw_err err = tw_stream_next_batch(batch.at, &batch.count, stream_, kBatch, 0);
    if (err == TW_ERR_CLOSED) return env.Null();
    // A pending tw_stream_wakeup() also lands here: nothing to take now, the caller waits again.
    if (err != TW_OK && err != TW_ERR_TIMEOUT && err != TW_ERR_WAKEUP) throw_last(env, err);
    return pack(env, batch.at, batch.count);
  }

  // failure(): [batch, message, category]: the event the stream failed with as a batch of one, the
  // core's text of it (tw_event_error_message) and its category, or null (running, or ended
  // cleanly).
  Napi::Value Failure(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Events failure;
    tw_stream_failure(&failure.at[0], stream_);
    if (!failure.at[0]) return env.Null();
    failure.count = 1;
    char* text = nullptr;
    tw_err err = tw_event_error_message(&text, failure.at[0]);
    if (err != TW_OK) throw_last(env, err);
    Napi::Array out = Napi::Array::New(env, 3);
    out[1u] = Napi::String::New(env, owned_string(text));
    out[2u] = Napi::String::New(env, tw_err_category(tw_event_error(failure.at[0])));
    out[0u] = pack(env, failure.at, failure.count);
    return out;
  }

  // watch(on): while on, deliver(this) is called each time the stream's fd is readable. The JavaScript object is held strongly meanwhile, so a consumer that
  // waits on a stream it no longer references still gets its events.
  Napi::Value Watch(const Napi::CallbackInfo& info) {
    bool on = info[0].ToBoolean();
    if (on == watching_) return info.Env().Undefined();
    if (on) {
      if (uv_poll_start(&watcher_->poll, UV_READABLE, &Stream::OnReadable) != 0)
        throw_error(info.Env(), TW_ERR_INTERNAL, "uv_poll_start failed on the stream's fd");
      Ref();
    } else {
      uv_poll_stop(&watcher_->poll);
      Unref();
    }
    watching_ = on;
    return info.Env().Undefined();
  }

  // setRef(on): whether a watching stream keeps the process alive (uv_ref / uv_unref).
  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    auto* handle = reinterpret_cast<uv_handle_t*>(&watcher_->poll);
    if (info[0].ToBoolean())
      uv_ref(handle);
    else
      uv_unref(handle);
    return info.Env().Undefined();
  }

  // The fd is readable: one call into JavaScript, which takes a batch. Plain N-API calls here, so
  // that a failure is handled rather than thrown: while a worker is being terminated, JavaScript
  // can no longer run and every call that could run it fails.
  static void OnReadable(uv_poll_t* poll, int /*status*/, int /*events*/) {
    auto* watcher = static_cast<Watcher*>(poll->data);
    if (!watcher->owner) return;
    Stream& self = *watcher->owner;
    napi_env env = self.Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value recv, fn, result;
    napi_value arg = self.Value();
    napi_get_global(env, &recv);
    fn = instance(env).deliver.Value();
    // MakeCallback: the microtasks (awaiting consumers) run before control returns to the loop.
    if (napi_make_callback(env, self.async_context_, recv, fn, 1, &arg, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      napi_value error;
      if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) {
        napi_fatal_exception(env, error);  // a listener threw: 'uncaughtException', as anywhere else
      } else {
        uv_poll_stop(poll);  // the environment is going away
      }
    }
    napi_close_handle_scope(env, scope);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    tw_stream_close(stream_);
    return info.Env().Undefined();
  }

  // send(data, binary): data is a string (UTF-8) or a Buffer / typed array.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool binary = info[1].ToBoolean();
    tw_err err;
    if (info[0].IsString()) {
      std::string text = info[0].As<Napi::String>();
      err = tw_stream_send(stream_, text.data(), text.size(), binary);
    } else {
      Napi::TypedArray view = info[0].As<Napi::TypedArray>();
      const auto* bytes = static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
      err = tw_stream_send(stream_, bytes, view.ByteLength(), binary);
    }
    if (err != TW_OK) throw_last(env, err);
    return env.Undefined();
  }

  Napi::Value Restart(const Napi::CallbackInfo& info) {
    tw_err err = tw_stream_restart(stream_);
    if (err != TW_OK) throw_last(info.Env(), err);
    return info.Env().Undefined();
  }

  // ack(id): lib/stream.js checks the type and NULs.
  Napi::Value Ack(const Napi::CallbackInfo& info) {
    std::string id = info[0].As<Napi::String>();
    tw_err err = tw_stream_ack(stream_, id.c_str());
    if (err != TW_OK) throw_last(info.Env(), err);
    return info.Env().Undefined();
  }

  // setHeader(name, value): value null removes the header. lib/stream.js checks the types; the core
  // refuses a NUL (lengths are passed, so none cuts a string short).
  Napi::Value SetHeader(const Napi::CallbackInfo& info) {
    std::string name = info[0].As<Napi::String>();
    std::optional<std::string> value;
    if (info[1].IsString()) value = info[1].As<Napi::String>().Utf8Value();
    tw_err err = tw_stream_set_header_n(stream_, name.data(), name.size(), value ? value->data() : nullptr,
                                        value ? value->size() : 0);
    if (err != TW_OK) throw_last(info.Env(), err);
    return info.Env().Undefined();
  }

  Napi::Value Url(const Napi::CallbackInfo& info) {
    char* text = nullptr;
    tw_err err = tw_stream_url(&text, stream_);
    if (err != TW_OK) throw_last(info.Env(), err);
    return Napi::String::New(info.Env(), owned_string(text));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    for (size_t i = 0; const char* name = tw_stat_name(i); ++i) {
      uint64_t value = 0;
      tw_err err = tw_stream_stat(&value, stream_, name);
      if (err != TW_OK) throw_last(env, err);
      out.Set(name, Napi::Number::New(env, static_cast<double>(value)));
    }
    // Where the stream is and why: "waiting for data" (open) told from "cannot connect" (backoff).
    out.Set("state", tw_state_name(tw_stream_state(stream_)));
    char* last_error = nullptr;
    tw_err err = tw_stream_last_error(&last_error, stream_);
    if (err != TW_OK) throw_last(env, err);
    out.Set("last_error", owned_string(last_error));
    return out;
  }

  Napi::Value Ended(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), tw_stream_ended(stream_) != 0);
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tw_stream_fd(stream_)); }

  tw_stream* stream_ = nullptr;
  Watcher* watcher_ = nullptr;
  bool watching_ = false;
  napi_async_context async_context_ = nullptr;  // listeners run in the async context of the constructor
};

// init(deliver): the JavaScript function called with a NativeStream whose fd is readable.
Napi::Value Init(const Napi::CallbackInfo& info) {
  instance(info.Env()).deliver = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// initLog(deliverLog): the JavaScript function that receives the runtime's log records.
Napi::Value InitLog(const Napi::CallbackInfo& info) {
  instance(info.Env()).deliver_log = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// shutdown(): ends every stream of this environment (WebSocket close 1001 reaches peers) and stops
// the I/O thread; later streams are refused. Bounded in time. Called at process exit.
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  Instance& inst = instance(info.Env());
  inst.shut_down = true;
  // What is still queued goes out first: the record of a failure precedes the failure itself.
  // Bounded: the I/O thread may still be logging.
  for (size_t i = 0; inst.log_watcher && i <= kLogCapacity / kLogBatch && deliver_log_batch(inst.log_watcher) > 0; ++i) {
  }
  stop_log(inst.log_watcher);
  tw_runtime_destroy(inst.runtime);
  inst.runtime = nullptr;
  return info.Env().Undefined();
}

Napi::Value ConfigKeys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = tw_config_key_count();
  Napi::Array keys = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type, *default_value, *accepted, *doc;
    tw_err err = tw_config_key_info(&name, &type, &default_value, &accepted, &doc, i);
    if (err != TW_OK) throw_last(env, err);
    Napi::Array row = Napi::Array::New(env, 6);
    row[0u] = name;
    row[1u] = type;
    row[2u] = default_value;
    row[3u] = accepted;
    row[4u] = doc;
    const char* alias = tw_config_key_alias(i);
    row[5u] = alias ? Napi::Value(Napi::String::New(env, alias)) : env.Null();
    keys[i] = row;
  }
  return keys;
}

// Names of the kinds and transports, indexed by their enum values.
Napi::Value Names(Napi::Env env, const char* (*name)(int), int count) {
  Napi::Array out = Napi::Array::New(env, count);
  for (int i = 0; i < count; ++i) out[i] = name(i);
  return out;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  auto* inst = new Instance;
  env.SetInstanceData(inst);  // deleted (runtime destroyed) when the environment ends
  exports.Set("NativeStream", Stream::Define(env));
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("shutdown", Napi::Function::New<Shutdown>(env, "shutdown"));
  exports.Set("initLog", Napi::Function::New<InitLog>(env, "initLog"));
  exports.Set("configKeys", Napi::Function::New<ConfigKeys>(env, "configKeys"));
  exports.Set("version", Napi::String::New(env, tw_version_str()));
  Napi::Float64Array layout = Napi::Float64Array::New(env, kBatch * kStride);
  inst->slots = layout.Data();
  inst->layout = Napi::Persistent(layout);
  exports.Set("layout", layout);
  Napi::Object slots = Napi::Object::New(env);
  for (uint32_t i = 0; i < kStride; ++i) slots.Set(kSlotNames[i], Napi::Number::New(env, i));
  slots.Set("stride", Napi::Number::New(env, kStride));
  exports.Set("slots", slots);
  // tw_value_kind, by which lib/config.js tells the core what kind of value each setting was.
  Napi::Object value_kinds = Napi::Object::New(env);
  value_kinds.Set("text", Napi::Number::New(env, TW_VALUE_TEXT));
  value_kinds.Set("list", Napi::Number::New(env, TW_VALUE_LIST));
  value_kinds.Set("other", Napi::Number::New(env, TW_VALUE_OTHER));
  exports.Set("valueKinds", value_kinds);
  exports.Set("kinds", Names(env, [](int i) { return tw_kind_name(static_cast<tw_kind>(i)); }, TW_KIND_COMMENT + 1));
  exports.Set("transports",
              Names(env, [](int i) { return tw_transport_name(static_cast<tw_transport>(i)); }, TW_TRANSPORT_REDIS + 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(tidewire, Register)
