// The state a stream shares between the application's handle (any thread) and the transport that
// runs it on the I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config.h"
#include "queue.h"
#include "send_buffer.h"

namespace tidewire::detail {

class Runtime;
class Transport;

struct StreamStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> not_modified{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> errors{0};
};

class StreamCore {
 public:
  StreamCore(Config config, tw_transport transport, std::shared_ptr<Runtime> runtime);

  const Config config;
  const tw_transport transport;
  const std::shared_ptr<Runtime> runtime;
  EventQueue queue;
  StreamStats stats;
  // Only for transports that send (ws); null otherwise.
  const std::unique_ptr<SendBuffer> sends;

  // I/O thread only: the transport running this stream, null before it starts and after it ends.
  Transport* running = nullptr;

  void set_failure(const tw_event& event);
  EventPtr failure() const;
  void set_url(std::string url);
  std::string url() const;
  // Reads a statistic by name; false if there is none of that name.
  bool stat(const std::string& name, uint64_t& out) const;

 private:
  mutable std::mutex mutex_;
  EventPtr failure_;
  std::string url_;
};

// Name of statistic number `index`, or null past the end.
const char* stat_name(size_t index);

}  // namespace tidewire::detail
