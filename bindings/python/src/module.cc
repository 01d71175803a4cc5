// tidewire._tidewire: the C ABI as Python objects. Only idiom lives here: handles owned by Python
// objects, tw_err turned into exceptions, waits that release the GIL and let signal handlers run.
// What a stream does is the core's business; the package tidewire (Python) builds the public API
// on these classes.
//
// Event and Stream are written against the CPython API rather than pybind11: they are on the path
// of every event, where a pybind11 call (argument dispatch, instance registry) costs more than the
// rest of the work. Everything else uses pybind11.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <structmember.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tidewire/tidewire.h>

namespace py = pybind11;

namespace {

// A wait for events gives Python control back this often: signal handlers (Ctrl-C) run between
// slices on the main thread.
constexpr int kSliceMs = 100;
// Events taken from the core's queue per call: one lock and at most one GIL hand-over per batch.
constexpr size_t kBatch = 64;

// Runs fn without the GIL. Deliberately not RAII: at interpreter exit CPython ends a daemon thread
// that asks for the GIL back (pthread_exit), and that unwinding must not start inside a destructor.
template <typename F>
auto without_gil(F&& fn) {
  PyThreadState* state = PyEval_SaveThread();
  auto result = fn();
  PyEval_RestoreThread(state);
  return result;
}

// A C++ exception escaping into CPython is fatal: the raw CPython entry points below run their body
// through this, which turns one into nullptr with the Python error set.
template <typename F>
PyObject* guarded(F&& fn) noexcept {
  try {
    return fn();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

// The exception classes of tidewire/_errors.py. Leaked on purpose: they must outlive the
// interpreter's teardown, when no GIL may be taken to release them.
struct ErrorClasses {
  py::object error, config_error, stream_error;
};
ErrorClasses* error_classes = nullptr;

// Text from the wire (ids, header values) is not guaranteed UTF-8: invalid bytes become U+FFFD.
PyObject* decode_raw(const char* text, size_t len) {
  return PyUnicode_DecodeUTF8(text, static_cast<Py_ssize_t>(len), "replace");
}
py::str decode(const char* text, size_t len) {
  PyObject* str = decode_raw(text, len);
  if (!str) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(str);
}
py::str decode(const char* text) { return decode(text, std::strlen(text)); }

// Names that repeat from event to event (kinds, transports, error codes, WebSocket and SSE types),
// decoded once: a stream of small messages would otherwise build the same str for every event.
// Bounded, since SSE event names come from the server. Touched with the GIL only.
constexpr size_t kNameCacheSize = 32;
constexpr size_t kNameMaxLen = 40;
PyObject* cached_name(const char* text) {
  static std::vector<std::pair<std::string, PyObject*>>* cache =
      new std::vector<std::pair<std::string, PyObject*>>();  // leaked, as error_classes
  std::string_view key(text);
  for (const auto& [name, str] : *cache) {
    if (name == key) {
      Py_INCREF(str);
      return str;
    }
  }
  PyObject* str = decode_raw(key.data(), key.size());
  if (str && cache->size() < kNameCacheSize && key.size() <= kNameMaxLen) {
    Py_INCREF(str);
    cache->emplace_back(std::string(key), str);
  }
  return str;
}

[[noreturn]] void raise(tw_err err, const std::string& message) {
  const char* category = tw_err_category(err);
  const py::object& cls = std::strcmp(category, "config") == 0 ? error_classes->config_error : error_classes->error;
  py::object instance = cls(decode(message.data(), message.size()), tw_err_name(err), category);
  PyErr_SetObject(cls.ptr(), instance.ptr());
  throw py::error_already_set();
}

[[noreturn]] void raise_last(tw_err err) { raise(err, tw_last_error_message()); }

struct EventDeleter {
  void operator()(tw_event* event) const { tw_event_destroy(event); }
};
using EventPtr = std::unique_ptr<tw_event, EventDeleter>;

std::string owned_string(char* text) {
  std::string copy(text ? text : "");
  tw_free(text);
  return copy;
}

py::object stream_error(const tw_event* failure) {
  char* message = nullptr;
  tw_err err = tw_event_error_message(&message, failure);
  if (err != TW_OK) raise_last(err);
  std::string text = owned_string(message);
  tw_err code = tw_event_error(failure);
  return error_classes->stream_error(decode(text.data(), text.size()), tw_err_name(code), tw_err_category(code),
                                     decode(tw_event_data(failure), tw_event_data_len(failure)),
                                     tw_event_http_status(failure), tw_event_close_code(failure));
}

// --- Event ---------------------------------------------------------------------------------------
// One event, owning its tw_event. Attributes are read from the C event when asked for; the payload
// becomes bytes on the first read of .data and is kept, so it is copied at most once.

struct EventObject {
  PyObject_HEAD
  tw_event* event;
  PyObject* data;  // the payload as bytes, made on first read
  PyObject* weakrefs;
};

PyTypeObject* event_type = nullptr;

const tw_event* c_event(PyObject* self) { return reinterpret_cast<EventObject*>(self)->event; }

// Takes ownership of `event` (destroyed if the object cannot be made).
PyObject* new_event(tw_event* event) {
  EventObject* self = PyObject_New(EventObject, event_type);
  if (!self) {
    tw_event_destroy(event);
    return nullptr;
  }
  self->event = event;
  self->data = nullptr;
  self->weakrefs = nullptr;
  return reinterpret_cast<PyObject*>(self);
}

void event_dealloc(PyObject* self) {
  auto* event = reinterpret_cast<EventObject*>(self);
  PyTypeObject* type = Py_TYPE(self);
  if (event->weakrefs) PyObject_ClearWeakRefs(self);
  Py_XDECREF(event->data);
  tw_event_destroy(event->event);
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it
}

PyObject* event_new(PyTypeObject*, PyObject*, PyObject*) {
  PyErr_SetString(PyExc_TypeError, "tidewire.Event objects are made by streams, not directly");
  return nullptr;
}

PyObject* event_data(PyObject* self, void*) {
  auto* event = reinterpret_cast<EventObject*>(self);
  if (!event->data) {
    event->data = PyBytes_FromStringAndSize(tw_event_data(event->event),
                                            static_cast<Py_ssize_t>(tw_event_data_len(event->event)));
    if (!event->data) return nullptr;
  }
  Py_INCREF(event->data);
  return event->data;
}

PyObject* event_text(PyObject* self, void*) {
  return decode_raw(tw_event_data(c_event(self)), tw_event_data_len(c_event(self)));
}

PyObject* event_json(PyObject* self, PyObject*) {
  static PyObject* loads = nullptr;  // json.loads, imported on first use; leaked
  if (!loads) {
    PyObject* json = PyImport_ImportModule("json");
    if (!json) return nullptr;
    loads = PyObject_GetAttrString(json, "loads");
    Py_DECREF(json);
    if (!loads) return nullptr;
  }
  PyObject* data = event_data(self, nullptr);
  if (!data) return nullptr;
  PyObject* value = PyObject_CallFunctionObjArgs(loads, data, nullptr);
  Py_DECREF(data);
  return value;
}

PyObject* event_headers(PyObject* self, void*) {
  return guarded([&]() -> PyObject* {
    py::dict headers;
    for (size_t i = 0, n = tw_event_header_count(c_event(self)); i < n; ++i) {
      const char* name = nullptr;
      const char* value = nullptr;
      if (tw_event_header_at(&name, &value, c_event(self), i) == TW_OK) headers[decode(name)] = decode(value);
    }
    return headers.release().ptr();
  });
}

PyObject* event_kind(PyObject* self, void*) { return cached_name(tw_kind_name(tw_event_kind(c_event(self)))); }
PyObject* event_id(PyObject* self, void*) {
  const char* id = tw_event_id(c_event(self));
  return decode_raw(id, std::strlen(id));
}
PyObject* event_event_type(PyObject* self, void*) { return cached_name(tw_event_type(c_event(self))); }
PyObject* event_transport(PyObject* self, void*) {
  return cached_name(tw_transport_name(tw_event_transport(c_event(self))));
}
PyObject* event_received_at(PyObject* self, void*) {
  return PyFloat_FromDouble(static_cast<double>(tw_event_received_ns(c_event(self))) / 1e9);
}
PyObject* event_error(PyObject* self, void*) {
  tw_err err = tw_event_error(c_event(self));
  if (err == TW_OK) Py_RETURN_NONE;
  return cached_name(tw_err_name(err));
}
PyObject* event_status(PyObject* self, void*) { return PyLong_FromLong(tw_event_http_status(c_event(self))); }
PyObject* event_close_code(PyObject* self, void*) { return PyLong_FromLong(tw_event_close_code(c_event(self))); }
PyObject* event_retry_in(PyObject* self, void*) {
  return PyFloat_FromDouble(static_cast<double>(tw_event_retry_ms(c_event(self))) / 1e3);
}

PyObject* event_repr(PyObject* self) {
  return guarded([&]() -> PyObject* {
    const tw_event* e = c_event(self);
    size_t len = tw_event_data_len(e);
    std::string data(tw_event_data(e), std::min<size_t>(len, 60));
    std::string text = "<tidewire.Event " + std::string(tw_kind_name(tw_event_kind(e))) + " " +
                       tw_transport_name(tw_event_transport(e)) +
                       " id=" + py::repr(decode(tw_event_id(e))).cast<std::string>() +
                       " data=" + py::repr(py::bytes(data)).cast<std::string>() + (len > 60 ? "..." : "") + ">";
    return py::str(text).release().ptr();
  });
}

PyGetSetDef event_getset[] = {
    {"kind", event_kind, nullptr,
     "\"message\", or with status_events=True \"open\", \"reconnecting\", \"error\", \"closed\".", nullptr},
    {"id", event_id, nullptr, "SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook id; \"\" when none.",
     nullptr},
    {"type", event_event_type, nullptr,
     "SSE event name (\"message\" by default), \"change\" for poll and long-poll, \"text\" or \"binary\" for "
     "WebSocket, the webhook's event type.",
     nullptr},
    {"data", event_data, nullptr, "The payload, byte for byte as received (bytes).", nullptr},
    {"text", event_text, nullptr, "The payload decoded as UTF-8 (invalid bytes replaced).", nullptr},
    {"headers", event_headers, nullptr, "Response (poll, long-poll) or request (webhook) headers, lower-case names.",
     nullptr},
    {"transport", event_transport, nullptr,
     "The transport that delivered it: \"poll\", \"longpoll\", \"sse\", \"ws\", \"webhook\", \"mcp\" or \"redis\".", nullptr},
    {"received_at", event_received_at, nullptr,
     "When the I/O thread received it, in seconds on the time.monotonic() clock.", nullptr},
    {"error", event_error, nullptr,
     "For error and reconnecting events: the error code's name (\"TW_ERR_HTTP_STATUS\"); None otherwise.", nullptr},
    {"status", event_status, nullptr, "For error and reconnecting events: the HTTP status behind it, 0 if none.",
     nullptr},
    {"close_code", event_close_code, nullptr,
     "The WebSocket close code behind an error, reconnecting or closed event, 0 if none.", nullptr},
    {"retry_in", event_retry_in, nullptr, "For reconnecting events: seconds until the next attempt; 0 otherwise.",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyMemberDef event_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EventObject, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyMethodDef event_methods[] = {
    {"json", event_json, METH_NOARGS, "The payload parsed as JSON."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot event_slots[] = {
    {Py_tp_doc, const_cast<char*>("One event of a stream: a message, or a status event (status_events=True).")},
    {Py_tp_new, reinterpret_cast<void*>(event_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(event_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(event_repr)},
    {Py_tp_getset, event_getset},
    {Py_tp_methods, event_methods},
    {Py_tp_members, event_members},
    {0, nullptr},
};

PyType_Spec event_spec = {"tidewire.Event", sizeof(EventObject), 0, Py_TPFLAGS_DEFAULT, event_slots};

// --- Runtime -------------------------------------------------------------------------------------

// The runtime (I/O thread) streams are opened on. close() may race with opens on other threads:
// opens share the lock, close takes it alone.
class Runtime {
 public:
  Runtime() {
    tw_err err = tw_runtime_create(&runtime_);
    if (err != TW_OK) raise_last(err);
  }
  ~Runtime() { tw_runtime_destroy(runtime_); }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  void close() {
    without_gil([this] {
      {
        // A log drainer blocked in log_next() holds the shared lock: wake it first.
        std::shared_lock<std::shared_mutex> shared(mutex_);
        closing_ = true;
        if (runtime_) tw_runtime_log_wakeup(runtime_);
      }
      std::unique_lock<std::shared_mutex> lock(mutex_);
      tw_runtime_destroy(runtime_);
      runtime_ = nullptr;
      return 0;
    });
  }

  // The runtime's log, pulled: records of its I/O thread are queued (tw_runtime_log_enable) and a
  // Python thread takes them with log_next(), so the I/O thread never calls into Python.
  void log_enable(int level, size_t capacity) {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    if (!runtime_) return;
    tw_err err = tw_runtime_log_enable(runtime_, static_cast<tw_log_level>(level), capacity);
    if (err != TW_OK) raise_last(err);
  }

  // Up to kBatch records as (level, message, time_ns), waiting up to timeout_ms (negative: until
  // one comes) without the GIL: [] on timeout, None once the runtime is closing.
  py::object log_next(int timeout_ms) {
    struct Taken {
      tw_err err;
      std::vector<tw_log_record*> records;
    };
    Taken taken = without_gil([&] {
      Taken t{TW_OK, std::vector<tw_log_record*>(kBatch)};
      std::shared_lock<std::shared_mutex> lock(mutex_);
      size_t count = 0;
      if (!runtime_) {
        t.err = TW_ERR_SHUTDOWN;
      } else {
        // Once the runtime is closing, what is still queued is handed out without waiting (the
        // record of a failure precedes the failure itself), then None.
        t.err = tw_runtime_log_next_batch(t.records.data(), &count, runtime_, kBatch, closing_ ? 0 : timeout_ms);
        if (t.err == TW_ERR_WAKEUP && closing_)
          t.err = tw_runtime_log_next_batch(t.records.data(), &count, runtime_, kBatch, 0);
        if (t.err == TW_ERR_TIMEOUT && closing_) t.err = TW_ERR_SHUTDOWN;
      }
      t.records.resize(t.err == TW_OK ? count : 0);
      return t;
    });
    struct Release {
      std::vector<tw_log_record*>& records;
      ~Release() {
        for (tw_log_record* r : records) tw_log_record_destroy(r);
      }
    } release{taken.records};
    if (taken.err == TW_ERR_SHUTDOWN || taken.err == TW_ERR_WAKEUP) return py::none();
    py::list out;
    if (taken.err == TW_ERR_TIMEOUT) return std::move(out);
    if (taken.err != TW_OK) raise_last(taken.err);
    for (tw_log_record* r : taken.records)
      out.append(py::make_tuple(static_cast<int>(tw_log_record_level(r)), decode(tw_log_record_message(r)),
                                tw_log_record_time_ns(r)));
    return std::move(out);
  }

  uint64_t log_dropped() {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    uint64_t dropped = 0;
    if (runtime_) tw_runtime_log_dropped(&dropped, runtime_);
    return dropped;
  }

  // After fork() the child has the handle but not the I/O thread: forget it without destroying.
  void abandon() {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    runtime_ = nullptr;
  }

  // Opens a stream; called without the GIL. Fills message on failure.
  tw_err open(tw_stream** out, const tw_config* config, std::string& message) {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    if (!runtime_) {
      message = "the Tidewire runtime has been shut down (interpreter exit, or fork)";
      return TW_ERR_SHUTDOWN;
    }
    tw_err err = tw_stream_open(out, runtime_, config);
    if (err != TW_OK) message = tw_last_error_message();
    return err;
  }

 private:
  std::shared_mutex mutex_;
  tw_runtime* runtime_ = nullptr;
  std::atomic<bool> closing_{false};  // set by close() before it waits for the lock alone
};

// --- Stream --------------------------------------------------------------------------------------

using Clock = std::chrono::steady_clock;

// A stream and the events already taken from the core but not yet handed out. The core hands
// events over in batches; iteration pops them here, without a call into the core.
class Stream {
 public:
  // settings: (key, value, tw_value_kind, the value's Python type name) per key, in order.
  using Setting = std::tuple<std::string, std::string, int, std::string>;
  Stream(std::shared_ptr<Runtime> runtime, const std::vector<Setting>& settings)
      : runtime_(std::move(runtime)) {
    std::unique_ptr<tw_config, decltype(&tw_config_destroy)> config(nullptr, tw_config_destroy);
    tw_config* raw = nullptr;
    tw_err err = tw_config_create(&raw);
    if (err != TW_OK) raise_last(err);
    config.reset(raw);
    for (const auto& [key, value, kind, type_name] : settings) {
      err = tw_config_set_value(config.get(), key.data(), key.size(), value.data(), value.size(),
                                static_cast<tw_value_kind>(kind), type_name.c_str());
      if (err != TW_OK) raise_last(err);
    }
    std::string message;
    // A webhook stream's open waits for its listener: no GIL meanwhile.
    err = without_gil([&] { return runtime_->open(&stream_, config.get(), message); });
    if (err != TW_OK) raise(err, message);
    buffer_.reserve(kBatch);
  }
  ~Stream() {
    for (size_t i = head_; i < buffer_.size(); ++i) tw_event_destroy(buffer_[i]);
    tw_stream_destroy(stream_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The next event as a new reference, waiting until `deadline` (none: for as long as it takes;
  // already passed: only what is there now). nullptr with no Python error set when the deadline
  // passed (*ended false) or the stream ended cleanly and every event was handed out (*ended true);
  // nullptr with an error set for a failure (StreamError), a signal handler's exception or an error
  // of the core.
  PyObject* take(std::optional<Clock::time_point> deadline, bool* ended) {
    *ended = false;
    for (;;) {
      if (buffered()) return pop();
      int slice = kSliceMs;
      if (deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
        slice = static_cast<int>(std::clamp<int64_t>(left, 0, kSliceMs));
      }
      tw_err err = fetch(slice);
      switch (err) {
        case TW_OK:
          break;
        case TW_ERR_CLOSED:
          if (buffered()) break;  // another thread's batch arrived meanwhile
          return end(ended);
        case TW_ERR_TIMEOUT:
        case TW_ERR_WAKEUP:
          if (PyErr_CheckSignals() != 0) return nullptr;
          if (deadline && Clock::now() >= *deadline && !buffered()) return nullptr;
          break;
        default:
          return guarded([&]() -> PyObject* { raise_last(err); });
      }
    }
  }

  // An event at hand without waiting (buffered, or in the core's queue), owned by the caller, or
  // nullptr: then take() tells why (nothing yet, the end, or a failure).
  tw_event* ready() {
    if (!buffered()) fetch(0);
    return buffered() ? buffer_[head_++] : nullptr;
  }

  // Puts back an event ready() gave out, as the next one to hand out.
  void unget(tw_event* event) {
    if (head_ > 0)
      buffer_[--head_] = event;
    else
      buffer_.insert(buffer_.begin(), event);
  }

  tw_stream* handle() const { return stream_; }

 private:
  bool buffered() const { return head_ < buffer_.size(); }

  PyObject* pop() { return new_event(buffer_[head_++]); }

  // Takes a batch from the core into the buffer. A wait releases the GIL; a poll (slice 0) keeps
  // it, as it only holds the core's queue lock for a moment.
  tw_err fetch(int slice) {
    tw_event* batch[kBatch];
    size_t count = 0;
    tw_err err = slice == 0 ? tw_stream_next_batch(batch, &count, stream_, kBatch, 0)
                            : without_gil([&] { return tw_stream_next_batch(batch, &count, stream_, kBatch, slice); });
    if (!buffered()) {
      buffer_.clear();
      head_ = 0;
    }
    buffer_.insert(buffer_.end(), batch, batch + count);
    return err;
  }

  PyObject* end(bool* ended) {
    tw_event* raw = nullptr;
    tw_stream_failure(&raw, stream_);
    if (!raw) {
      *ended = true;
      return nullptr;
    }
    EventPtr failure(raw);
    return guarded([&]() -> PyObject* {
      py::object error = stream_error(failure.get());
      PyErr_SetObject(error_classes->stream_error.ptr(), error.ptr());
      return nullptr;
    });
  }

  std::shared_ptr<Runtime> runtime_;  // kept alive while the stream is
  tw_stream* stream_ = nullptr;
  // Taken from the core, not yet handed out: buffer_[head_..]. Touched with the GIL only, so
  // threads iterating over one stream share it.
  std::vector<tw_event*> buffer_;
  size_t head_ = 0;
};

struct StreamObject {
  PyObject_HEAD
  Stream* native;  // nullptr until __init__ succeeds
};

Stream* native(PyObject* self) {
  Stream* stream = reinterpret_cast<StreamObject*>(self)->native;
  if (!stream) PyErr_SetString(PyExc_RuntimeError, "the stream was not initialised (Stream.__init__ not called)");
  return stream;
}

// --- Ready: a coroutine that is already done ----------------------------------------------------
// What Stream.__anext__ returns when an event is at hand: awaiting it gives the event without a
// coroutine frame or a trip through the event loop. It has the coroutine protocol (send, throw,
// close), so asyncio.create_task() takes it as it takes the coroutine returned otherwise. An event
// it never hands out (closed, cancelled or dropped unawaited) goes back to the front of the stream's
// buffer: like a coroutine that never ran, it has taken nothing.

struct ReadyObject {
  PyObject_HEAD
  PyObject* stream;  // a StreamObject, kept alive for the event's return
  tw_event* event;   // handed out by the first await; nullptr after
};

PyTypeObject* ready_type = nullptr;

PyObject* new_ready(PyObject* stream, tw_event* event) {
  ReadyObject* self = PyObject_New(ReadyObject, ready_type);
  if (!self) {
    reinterpret_cast<StreamObject*>(stream)->native->unget(event);
    return nullptr;
  }
  Py_INCREF(stream);
  self->stream = stream;
  self->event = event;
  return reinterpret_cast<PyObject*>(self);
}

// The event as a new reference (the object takes it over), or None once handed out.
PyObject* ready_take(ReadyObject* ready) {
  if (!ready->event) Py_RETURN_NONE;
  tw_event* event = std::exchange(ready->event, nullptr);
  return new_event(event);
}

void ready_release(ReadyObject* ready) {
  if (ready->event) reinterpret_cast<StreamObject*>(ready->stream)->native->unget(std::exchange(ready->event, nullptr));
}

void ready_dealloc(PyObject* self) {
  auto* ready = reinterpret_cast<ReadyObject*>(self);
  PyTypeObject* type = Py_TYPE(self);
  ready_release(ready);
  Py_DECREF(ready->stream);
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* ready_await(PyObject* self) {
  Py_INCREF(self);
  return self;
}

// The awaiting coroutine receives the event as the StopIteration that ends this iterator.
PyObject* ready_next(PyObject* self) {
  PyObject* event = ready_take(reinterpret_cast<ReadyObject*>(self));
  if (!event) return nullptr;
  PyErr_SetObject(PyExc_StopIteration, event);
  Py_DECREF(event);
  return nullptr;
}

#if PY_VERSION_HEX >= 0x030A0000
// Python 3.10+ asks for the value through am_send first: no StopIteration is raised at all.
PySendResult ready_send(PyObject* self, PyObject*, PyObject** result) {
  *result = ready_take(reinterpret_cast<ReadyObject*>(self));
  return *result ? PYGEN_RETURN : PYGEN_ERROR;
}
#endif

PyObject* ready_send_method(PyObject* self, PyObject*) { return ready_next(self); }

PyObject* ready_throw(PyObject* self, PyObject* args) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  if (!PyArg_ParseTuple(args, "O|OO:throw", &type, &value, &traceback)) return nullptr;
  ready_release(reinterpret_cast<ReadyObject*>(self));
  if (PyExceptionInstance_Check(type))
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(type)), type);
  else if (PyExceptionClass_Check(type))
    PyErr_SetObject(type, value ? value : Py_None);
  else
    PyErr_SetString(PyExc_TypeError, "exceptions must be classes or instances deriving from BaseException");
  return nullptr;
}

PyObject* ready_close(PyObject* self, PyObject*) {
  ready_release(reinterpret_cast<ReadyObject*>(self));
  Py_RETURN_NONE;
}

PyMethodDef ready_methods[] = {
    {"send", ready_send_method, METH_O, nullptr},
    {"throw", ready_throw, METH_VARARGS, nullptr},
    {"close", ready_close, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot ready_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(ready_dealloc)},
    {Py_am_await, reinterpret_cast<void*>(ready_await)},
#if PY_VERSION_HEX >= 0x030A0000
    {Py_am_send, reinterpret_cast<void*>(ready_send)},
#endif
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(ready_next)},
    {Py_tp_methods, ready_methods},
    {0, nullptr},
};

PyType_Spec ready_spec = {"tidewire._tidewire.Ready", sizeof(ReadyObject), 0, Py_TPFLAGS_DEFAULT, ready_slots};

int stream_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"runtime", "settings", nullptr};
  PyObject* runtime = nullptr;
  PyObject* settings = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:Stream", const_cast<char**>(keywords), &runtime, &settings))
    return -1;
  auto* object = reinterpret_cast<StreamObject*>(self);
  if (object->native) {
    PyErr_SetString(PyExc_RuntimeError, "a Stream is opened once: __init__ was already called");
    return -1;
  }
  PyObject* done = guarded([&]() -> PyObject* {
    object->native = new Stream(py::cast<std::shared_ptr<Runtime>>(runtime),
                                py::cast<std::vector<Stream::Setting>>(settings));
    Py_RETURN_NONE;
  });
  if (!done) return -1;
  Py_DECREF(done);
  return 0;
}

void stream_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  delete reinterpret_cast<StreamObject*>(self)->native;
  type->tp_free(self);
  Py_DECREF(type);
}

// A timeout this long (or inf, or NaN) is no deadline: the clock cannot add it.
constexpr double kForeverS = 1e9;

std::optional<Clock::time_point> deadline_after(double seconds) {
  if (!(seconds < kForeverS)) return std::nullopt;
  auto wait = std::chrono::duration<double>(std::max(0.0, seconds));
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(wait);
}

// for event in stream: no deadline; the clean end is a nullptr without error (StopIteration).
PyObject* stream_iternext(PyObject* self) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  bool ended = false;
  return stream->take(std::nullopt, &ended);
}

PyObject* stream_next(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"timeout", nullptr};
  PyObject* timeout = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:next", const_cast<char**>(keywords), &timeout)) return nullptr;
  Stream* stream = native(self);
  if (!stream) return nullptr;
  std::optional<Clock::time_point> deadline;
  if (timeout != Py_None) {
    double seconds = PyFloat_AsDouble(timeout);
    if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
    deadline = deadline_after(seconds);
  }
  bool ended = false;
  PyObject* event = stream->take(deadline, &ended);
  if (event || PyErr_Occurred()) return event;
  if (ended) {
    PyErr_SetNone(PyExc_StopIteration);
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* stream_anext(PyObject* self) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  if (tw_event* event = stream->ready()) return new_ready(self, event);
  static PyObject* slow = PyUnicode_InternFromString("_next_when_ready");  // leaked
  return PyObject_CallMethodObjArgs(self, slow, nullptr);
}

PyObject* stream_close(PyObject* self, PyObject*) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  tw_stream_close(stream->handle());
  Py_RETURN_NONE;
}

PyObject* stream_fileno(PyObject* self, PyObject*) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  return PyLong_FromLong(tw_stream_fd(stream->handle()));
}

PyObject* stream_send(PyObject* self, PyObject* message) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  tw_err err = TW_OK;
  if (PyUnicode_Check(message)) {
    Py_ssize_t len = 0;
    const char* text = PyUnicode_AsUTF8AndSize(message, &len);
    if (!text) return nullptr;
    err = tw_stream_send(stream->handle(), text, static_cast<size_t>(len), 0);
  } else if (PyObject_CheckBuffer(message)) {
    Py_buffer view;
    if (PyObject_GetBuffer(message, &view, PyBUF_CONTIG_RO) != 0) return nullptr;
    err = tw_stream_send(stream->handle(), view.buf, static_cast<size_t>(view.len), 1);
    PyBuffer_Release(&view);
  } else {
    return PyErr_Format(PyExc_TypeError, "send() takes str (a text message) or bytes (a binary message), not %s",
                        Py_TYPE(message)->tp_name);
  }
  if (err != TW_OK) return guarded([&]() -> PyObject* { raise_last(err); });
  Py_RETURN_NONE;
}

PyObject* stream_restart(PyObject* self, PyObject*) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  tw_err err = tw_stream_restart(stream->handle());
  if (err != TW_OK) return guarded([&]() -> PyObject* { raise_last(err); });
  Py_RETURN_NONE;
}

PyObject* stream_ack(PyObject* self, PyObject* event) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  if (!PyObject_TypeCheck(event, event_type))
    return PyErr_Format(PyExc_TypeError, "ack() takes a tidewire.Event, not %s", Py_TYPE(event)->tp_name);
  tw_err err = tw_stream_ack(stream->handle(), tw_event_id(c_event(event)));
  if (err != TW_OK) return guarded([&]() -> PyObject* { raise_last(err); });
  Py_RETURN_NONE;
}

PyObject* stream_set_header(PyObject* self, PyObject* args) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  PyObject* name_object = nullptr;
  PyObject* value_object = nullptr;
  if (!PyArg_ParseTuple(args, "UO:set_header", &name_object, &value_object)) return nullptr;
  if (value_object != Py_None && !PyUnicode_Check(value_object))
    return PyErr_Format(PyExc_TypeError, "set_header() takes a str value or None, not %s",
                        Py_TYPE(value_object)->tp_name);
  Py_ssize_t name_len = 0;
  const char* name = PyUnicode_AsUTF8AndSize(name_object, &name_len);
  if (!name) return nullptr;
  Py_ssize_t value_len = 0;
  const char* value = nullptr;
  if (value_object != Py_None && !(value = PyUnicode_AsUTF8AndSize(value_object, &value_len))) return nullptr;
  // With lengths: the core refuses a NUL inside rather than a C string cutting it short.
  tw_err err = tw_stream_set_header_n(stream->handle(), name, static_cast<size_t>(name_len), value,
                                      static_cast<size_t>(value_len));
  if (err != TW_OK) return guarded([&]() -> PyObject* { raise_last(err); });
  Py_RETURN_NONE;
}

PyObject* stream_stats(PyObject* self, PyObject*) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  return guarded([&]() -> PyObject* {
    py::dict out;
    for (size_t i = 0; const char* name = tw_stat_name(i); ++i) {
      uint64_t value = 0;
      tw_err err = tw_stream_stat(&value, stream->handle(), name);
      if (err != TW_OK) raise_last(err);
      out[py::str(name)] = value;
    }
    // Where the stream is and why: "waiting for data" (open) told from "cannot connect" (backoff).
    out["state"] = py::str(tw_state_name(tw_stream_state(stream->handle())));
    char* last_error = nullptr;
    tw_err err = tw_stream_last_error(&last_error, stream->handle());
    if (err != TW_OK) raise_last(err);
    out["last_error"] = py::str(owned_string(last_error));
    return out.release().ptr();
  });
}

PyObject* stream_url(PyObject* self, void*) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  return guarded([&]() -> PyObject* {
    char* text = nullptr;
    tw_err err = tw_stream_url(&text, stream->handle());
    if (err != TW_OK) raise_last(err);
    return py::str(owned_string(text)).release().ptr();
  });
}

PyObject* stream_ended(PyObject* self, void*) {
  Stream* stream = native(self);
  if (!stream) return nullptr;
  return PyBool_FromLong(tw_stream_ended(stream->handle()));
}

template <typename F>
PyCFunction method(F* fn) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn));
}

PyMethodDef stream_methods[] = {
    {"next", method(stream_next), METH_VARARGS | METH_KEYWORDS,
     "next(timeout=None)\n--\n\n"
     "The next event, or None if `timeout` seconds pass first (None waits as long as it takes).\n\n"
     "Like ``next(stream)``, raises StopIteration once the stream has ended cleanly and every event has been "
     "read, and :class:`tidewire.StreamError` if it ended in failure. The GIL is released while waiting, and "
     "Ctrl-C interrupts."},
    {"send", stream_send, METH_O,
     "send(message)\n--\n\n"
     "Sends a WebSocket message: str as a text message, bytes as a binary one. On an mcp stream: one "
     "JSON-RPC message (or batch) as str, POSTed in the order sent.\n\n"
     "Raises :class:`tidewire.Error` on other transports (code ``TW_ERR_UNSUPPORTED``), when the send buffer "
     "is full (``TW_ERR_WOULD_BLOCK``, see ``ws_send_buffer_bytes``) and after the stream has ended "
     "(``TW_ERR_CLOSED``)."},
    {"restart", stream_restart, METH_NOARGS,
     "restart()\n--\n\n"
     "Drops the connection and connects again at once, without backoff, resuming where the stream was "
     "(SSE Last-Event-ID, poll ETag, long-poll cursor). The request is sent again even when "
     "``http_replay_body`` would not. A stream waiting for credentials (an ``auth_required`` event) tries "
     "again now. Any thread.\n\n"
     "Raises :class:`tidewire.Error` for webhook streams (``TW_ERR_UNSUPPORTED``) and after the stream has "
     "ended (``TW_ERR_CLOSED``)."},
    {"ack", stream_ack, METH_O,
     "ack(event)\n--\n\n"
     "Acknowledges a message of a redis stream opened with ``redis_ack=\"manual\"``: its entry leaves the "
     "consumer group's pending list, so no other worker will claim it. Does nothing with ``redis_ack=\"auto\"``. "
     "Any thread.\n\n"
     "Raises :class:`tidewire.Error` for other transports (``TW_ERR_UNSUPPORTED``) and after the stream has "
     "ended (``TW_ERR_CLOSED``; the entry stays pending and another worker claims it)."},
    {"set_header", stream_set_header, METH_VARARGS,
     "set_header(name, value)\n--\n\n"
     "Sets request header `name` to `value` (None removes it) from the next request or WebSocket "
     "handshake on; call restart() to apply it at once. Replaces a header given at open. A stream waiting "
     "for credentials (an ``auth_required`` event) tries again now. Any thread.\n\n"
     "Raises :class:`tidewire.ConfigError` for a name that is not an HTTP token or a value with CR, LF or "
     "NUL (the value is never shown), :class:`tidewire.Error` for webhook streams and after the end."},
    {"fileno", stream_fileno, METH_NOARGS,
     "fileno()\n--\n\n"
     "A file descriptor readable while events are waiting in the core or the stream has ended "
     "(level-triggered; never read from it). For select/poll and event loops; events the stream has "
     "already taken in do not make it readable, so try next(0) before waiting on it."},
    {"stats", stream_stats, METH_NOARGS,
     "stats()\n--\n\n"
     "The stream's counters: messages, bytes, requests, not_modified, reconnects, errors, dropped, "
     "queue_depth, queue_peak, paused, connections, tls_handshakes, wire_bytes, payload_bytes, comments (see "
     "tw_stat_name in tidewire.h). Events the stream has taken in but not handed out yet are no longer "
     "counted in queue_depth."},
    {"close", stream_close, METH_NOARGS,
     "close()\n--\n\n"
     "Ends the stream cleanly. Events already received stay readable; then iteration ends. Idempotent; may "
     "be called from any thread. A stream garbage-collected unclosed is closed."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef stream_getset[] = {
    {"url", stream_url, nullptr, "The stream's URL; for a webhook stream the URL really bound (with the real port).",
     nullptr},
    {"ended", stream_ended, nullptr,
     "True once the stream has ended (events may still be queued: iterate to read them).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot stream_slots[] = {
    {Py_tp_doc, const_cast<char*>("Stream(runtime, settings)\n--\n\n"
                                  "A stream handle, iterable with for and async for. Subclasses provide "
                                  "_next_when_ready(), the coroutine __anext__ returns when no event is at hand.")},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_init, reinterpret_cast<void*>(stream_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(stream_dealloc)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(stream_iternext)},
    {Py_am_aiter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_am_anext, reinterpret_cast<void*>(stream_anext)},
    {Py_tp_methods, stream_methods},
    {Py_tp_getset, stream_getset},
    {0, nullptr},
};

PyType_Spec stream_spec = {"tidewire._tidewire.Stream", sizeof(StreamObject), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, stream_slots};

// A new type, never released: instances made during the interpreter's teardown still need it.
PyTypeObject* make_type(PyType_Spec* spec) {
  PyObject* type = PyType_FromSpec(spec);
  if (!type) throw py::error_already_set();
  return reinterpret_cast<PyTypeObject*>(type);
}

py::list config_keys() {
  py::list keys;
  for (size_t i = 0, n = tw_config_key_count(); i < n; ++i) {
    const char *name, *type, *default_value, *accepted, *doc;
    if (tw_config_key_info(&name, &type, &default_value, &accepted, &doc, i) != TW_OK) raise_last(TW_ERR_INTERNAL);
    const char* alias = tw_config_key_alias(i);
    keys.append(py::make_tuple(name, type, default_value, accepted, doc, alias ? py::object(py::str(alias)) : py::none()));
  }
  return keys;
}

}  // namespace

PYBIND11_MODULE(_tidewire, m) {
  m.doc() = "Tidewire's C ABI as Python objects; use the tidewire package, not this module.";
  py::module_ errors = py::module_::import("tidewire._errors");
  error_classes = new ErrorClasses{errors.attr("Error"), errors.attr("ConfigError"), errors.attr("StreamError")};

  m.def("version", [] { return std::string(tw_version_str()); }, "The core's version string (tw_version_str).");
  m.def("config_keys", &config_keys,
        "The configuration key table: (name, type, default, accepted, doc, alias) per key (tw_config_key_info, "
        "tw_config_key_alias).");

  // tw_value_kind, by which _config.py tells the core what kind of value each setting was.
  m.attr("VALUE_TEXT") = static_cast<int>(TW_VALUE_TEXT);
  m.attr("VALUE_LIST") = static_cast<int>(TW_VALUE_LIST);
  m.attr("VALUE_OTHER") = static_cast<int>(TW_VALUE_OTHER);

  event_type = make_type(&event_spec);
  ready_type = make_type(&ready_spec);
  m.add_object("Event", py::handle(reinterpret_cast<PyObject*>(event_type)));
  m.add_object("Ready", py::handle(reinterpret_cast<PyObject*>(ready_type)));
  m.add_object("Stream", py::handle(reinterpret_cast<PyObject*>(make_type(&stream_spec))));

  py::class_<Runtime, std::shared_ptr<Runtime>>(m, "Runtime", "An I/O thread serving streams.")
      .def(py::init<>())
      .def("close", &Runtime::close, "Ends every stream and stops the I/O thread (bounded in time).")
      .def("abandon", &Runtime::abandon, "Forgets the handle without destroying it (in a fork child).")
      .def("log_enable", &Runtime::log_enable, py::arg("level"), py::arg("capacity"),
           "Queues the I/O thread's log records at `level` (tw_log_level) or more severe, at most `capacity`.")
      .def("log_next", &Runtime::log_next, py::arg("timeout_ms"),
           "Queued log records as (level, message, time_ns), waiting up to timeout_ms without the GIL: [] on "
           "timeout, None once the runtime is closing.")
      .def("log_dropped", &Runtime::log_dropped, "Log records dropped because the queue was full.");
}
