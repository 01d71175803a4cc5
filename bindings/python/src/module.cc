// tidewire._tidewire: the C ABI as Python objects. Only idiom lives here: handles owned by Python
// objects, tw_err turned into exceptions, waits that release the GIL and let signal handlers run.
// What a stream does is the core's business; the package tidewire (Python) builds the public API
// on these classes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include <tidewire/tidewire.h>

namespace py = pybind11;

namespace {

// A wait for events gives Python control back this often: signal handlers (Ctrl-C) run between
// slices on the main thread.
constexpr int kSliceMs = 100;
// Events taken from the core's queue per call: one lock and one GIL hand-over per batch.
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

// The exception classes of tidewire/_errors.py. Leaked on purpose: they must outlive the
// interpreter's teardown, when no GIL may be taken to release them.
struct ErrorClasses {
  py::object error, config_error, stream_error;
};
ErrorClasses* error_classes = nullptr;

// Text from the wire (ids, header values) is not guaranteed UTF-8: invalid bytes become U+FFFD.
py::str decode(const char* text, size_t len) {
  PyObject* str = PyUnicode_DecodeUTF8(text, static_cast<Py_ssize_t>(len), "replace");
  if (!str) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(str);
}
py::str decode(const char* text) { return decode(text, std::strlen(text)); }

[[noreturn]] void raise(tw_err err, const std::string& message) {
  const py::object& cls =
      err == TW_ERR_UNKNOWN_KEY || err == TW_ERR_INVALID_VALUE ? error_classes->config_error : error_classes->error;
  py::object instance = cls(decode(message.data(), message.size()), tw_err_name(err));
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

// One event, owned. Accessors read the C event on demand.
class Event {
 public:
  explicit Event(EventPtr event) : event_(std::move(event)) {}
  const tw_event* get() const { return event_.get(); }

 private:
  EventPtr event_;
};

py::bytes event_data(const Event& e) { return py::bytes(tw_event_data(e.get()), tw_event_data_len(e.get())); }

py::str event_text(const Event& e) { return decode(tw_event_data(e.get()), tw_event_data_len(e.get())); }

py::dict event_headers(const Event& e) {
  py::dict headers;
  for (size_t i = 0, n = tw_event_header_count(e.get()); i < n; ++i) {
    const char* name = nullptr;
    const char* value = nullptr;
    if (tw_event_header_at(&name, &value, e.get(), i) == TW_OK) headers[decode(name)] = decode(value);
  }
  return headers;
}

py::object stream_error(const tw_event* failure) {
  return error_classes->stream_error(
      decode(tw_event_data(failure), tw_event_data_len(failure)), tw_err_name(tw_event_error(failure)), tw_event_http_status(failure),
      tw_event_close_code(failure));
}

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
      std::unique_lock<std::shared_mutex> lock(mutex_);
      tw_runtime_destroy(runtime_);
      runtime_ = nullptr;
      return 0;
    });
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
};

class Stream {
 public:
  Stream(std::shared_ptr<Runtime> runtime, const std::vector<std::pair<std::string, std::string>>& settings)
      : runtime_(std::move(runtime)) {
    std::unique_ptr<tw_config, decltype(&tw_config_destroy)> config(nullptr, tw_config_destroy);
    tw_config* raw = nullptr;
    tw_err err = tw_config_create(&raw);
    if (err != TW_OK) raise_last(err);
    config.reset(raw);
    for (const auto& [key, value] : settings) {
      err = tw_config_set_n(config.get(), key.data(), key.size(), value.data(), value.size());
      if (err != TW_OK) raise_last(err);
    }
    std::string message;
    // A webhook stream's open waits for its listener: no GIL meanwhile.
    err = without_gil([&] { return runtime_->open(&stream_, config.get(), message); });
    if (err != TW_OK) raise(err, message);
  }
  ~Stream() { tw_stream_destroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The next event; None when timeout_s passes (None waits forever, 0 polls). Raises StopIteration
  // once the stream ended cleanly and its queue is drained, StreamError if it ended in failure.
  py::object next(std::optional<double> timeout_s) {
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> deadline;
    if (timeout_s)
      deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(std::max(0.0, *timeout_s)));
    for (;;) {
      if (!buffer_.empty()) return pop();
      int slice = kSliceMs;
      if (deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
        slice = static_cast<int>(std::clamp<int64_t>(left, 0, kSliceMs));
      }
      tw_event* batch[kBatch];
      size_t count = 0;
      tw_err err = without_gil([&] { return tw_stream_next_batch(batch, &count, stream_, kBatch, slice); });
      for (size_t i = 0; i < count; ++i) buffer_.emplace_back(batch[i]);
      switch (err) {
        case TW_OK:
          break;
        case TW_ERR_CLOSED:
          if (!buffer_.empty()) break;  // another thread's batch arrived meanwhile
          raise_end();
        case TW_ERR_TIMEOUT:
        case TW_ERR_WAKEUP:
          if (PyErr_CheckSignals() != 0) throw py::error_already_set();
          if (deadline && Clock::now() >= *deadline && buffer_.empty()) return py::none();
          break;
        default:
          raise_last(err);
      }
    }
  }

  void close() { tw_stream_close(stream_); }

  int fd() const { return tw_stream_fd(stream_); }

  void send(const py::object& message) {
    std::string bytes;
    int binary = 0;
    if (py::isinstance<py::str>(message)) {
      bytes = message.cast<std::string>();
    } else if (PyObject_CheckBuffer(message.ptr())) {
      py::buffer_info info = py::reinterpret_borrow<py::buffer>(message).request();
      bytes.assign(static_cast<const char*>(info.ptr), static_cast<size_t>(info.size * info.itemsize));
      binary = 1;
    } else {
      throw py::type_error("send() takes str (a text message) or bytes (a binary message), not " +
                           std::string(Py_TYPE(message.ptr())->tp_name));
    }
    tw_err err = tw_stream_send(stream_, bytes.data(), bytes.size(), binary);
    if (err != TW_OK) raise_last(err);
  }

  std::string url() const {
    char* text = nullptr;
    tw_err err = tw_stream_url(&text, stream_);
    if (err != TW_OK) raise_last(err);
    return owned_string(text);
  }

  py::dict stats() const {
    py::dict out;
    for (size_t i = 0; const char* name = tw_stat_name(i); ++i) {
      uint64_t value = 0;
      tw_err err = tw_stream_stat(&value, stream_, name);
      if (err != TW_OK) raise_last(err);
      out[py::str(name)] = value;
    }
    return out;
  }

  bool ended() const { return tw_stream_ended(stream_) != 0; }

 private:
  py::object pop() {
    auto event = std::make_unique<Event>(std::move(buffer_.front()));
    buffer_.pop_front();
    return py::cast(std::move(event));
  }

  [[noreturn]] void raise_end() {
    tw_event* raw = nullptr;
    tw_stream_failure(&raw, stream_);
    if (!raw) throw py::stop_iteration();
    EventPtr failure(raw);
    py::object error = stream_error(failure.get());
    PyErr_SetObject(error_classes->stream_error.ptr(), error.ptr());
    throw py::error_already_set();
  }

  std::shared_ptr<Runtime> runtime_;  // kept alive while the stream is
  tw_stream* stream_ = nullptr;
  std::deque<EventPtr> buffer_;  // taken from the core, not yet handed out; touched with the GIL only
};

py::list config_keys() {
  py::list keys;
  for (size_t i = 0, n = tw_config_key_count(); i < n; ++i) {
    const char *name, *type, *default_value, *accepted, *doc;
    if (tw_config_key_info(&name, &type, &default_value, &accepted, &doc, i) != TW_OK) raise_last(TW_ERR_INTERNAL);
    keys.append(py::make_tuple(name, type, default_value, accepted, doc));
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
        "The configuration key table: (name, type, default, accepted, doc) per key (tw_config_key_info).");

  py::class_<Event>(m, "Event", "One event of a stream: a message, or a status event (status_events=True).")
      .def_property_readonly(
          "kind", [](const Event& e) { return tw_kind_name(tw_event_kind(e.get())); },
          "\"message\", or with status_events=True \"open\", \"reconnecting\", \"error\", \"closed\".")
      .def_property_readonly(
          "id", [](const Event& e) { return decode(tw_event_id(e.get())); },
          "SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook id; \"\" when none.")
      .def_property_readonly(
          "type", [](const Event& e) { return decode(tw_event_type(e.get())); },
          "SSE event name (\"message\" by default), \"change\" for poll and long-poll, \"text\" or \"binary\" for "
          "WebSocket, the webhook's event type.")
      .def_property_readonly("data", &event_data, "The payload, byte for byte as received (bytes).")
      .def_property_readonly("text", &event_text, "The payload decoded as UTF-8 (invalid bytes replaced).")
      .def(
          "json", [](const Event& e) { return py::module_::import("json").attr("loads")(event_data(e)); },
          "The payload parsed as JSON.")
      .def_property_readonly("headers", &event_headers,
                             "Response (poll, long-poll) or request (webhook) headers, lower-case names.")
      .def_property_readonly(
          "transport", [](const Event& e) { return tw_transport_name(tw_event_transport(e.get())); },
          "The transport that delivered it: \"poll\", \"longpoll\", \"sse\", \"ws\" or \"webhook\".")
      .def_property_readonly(
          "received_at", [](const Event& e) { return static_cast<double>(tw_event_received_ns(e.get())) / 1e9; },
          "When the I/O thread received it, in seconds on the time.monotonic() clock.")
      .def_property_readonly(
          "error",
          [](const Event& e) -> py::object {
            tw_err err = tw_event_error(e.get());
            return err == TW_OK ? py::object(py::none()) : py::str(tw_err_name(err));
          },
          "For error and reconnecting events: the error code's name (\"TW_ERR_HTTP_STATUS\"); None otherwise.")
      .def_property_readonly(
          "status", [](const Event& e) { return tw_event_http_status(e.get()); },
          "For error and reconnecting events: the HTTP status behind it, 0 if none.")
      .def_property_readonly(
          "close_code", [](const Event& e) { return tw_event_close_code(e.get()); },
          "The WebSocket close code behind an error, reconnecting or closed event, 0 if none.")
      .def_property_readonly(
          "retry_in", [](const Event& e) { return static_cast<double>(tw_event_retry_ms(e.get())) / 1e3; },
          "For reconnecting events: seconds until the next attempt; 0 otherwise.")
      .def("__repr__", [](const Event& e) {
        size_t len = tw_event_data_len(e.get());
        std::string data(tw_event_data(e.get()), std::min<size_t>(len, 60));
        return "<tidewire.Event " + std::string(tw_kind_name(tw_event_kind(e.get()))) + " " +
               tw_transport_name(tw_event_transport(e.get())) + " id=" + py::repr(decode(tw_event_id(e.get()))).cast<std::string>() +
               " data=" + py::repr(py::bytes(data)).cast<std::string>() + (len > 60 ? "..." : "") + ">";
      });

  py::class_<Runtime, std::shared_ptr<Runtime>>(m, "Runtime", "An I/O thread serving streams.")
      .def(py::init<>())
      .def("close", &Runtime::close, "Ends every stream and stops the I/O thread (bounded in time).")
      .def("abandon", &Runtime::abandon, "Forgets the handle without destroying it (in a fork child).");

  py::class_<Stream>(m, "Stream", "A stream handle.")
      .def(py::init<std::shared_ptr<Runtime>, const std::vector<std::pair<std::string, std::string>>&>(),
           py::arg("runtime"), py::arg("settings"))
      .def("next", &Stream::next, py::arg("timeout").none(true))
      .def("close", &Stream::close)
      .def("fd", &Stream::fd)
      .def("send", &Stream::send)
      .def("url", &Stream::url)
      .def("stats", &Stream::stats)
      .def("ended", &Stream::ended);
}
