// A fault-injecting TCP proxy for the hostile-peer tests, run in-process on its own thread.
//
// It listens on 127.0.0.1 (port 0) and forwards every accepted connection to an upstream
// 127.0.0.1:port. What happens to each connection is decided by a script the test sets: a function
// of the connection's index (0-based, in accept order) returning a FaultPlan. Faults trigger at a
// byte offset of one direction of the connection, given either as an absolute offset or by content
// (the k-th occurrence of a byte pattern), so a test can cut "right after an `id:` line".
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tidewire::test {

enum class Fault {
  pass,   // forward both ways untouched
  cut,    // at the trigger: close the client side (FIN), reset the upstream side
  rst,    // at the trigger: reset both sides (SO_LINGER 0, then close)
  stall,  // at the trigger: stop forwarding both ways, keep both sockets open (until the client leaves)
  slice,  // forward the faulted direction one byte per write (TCP_NODELAY), no other fault
  hold,   // accept, never connect upstream, never answer: the client's handshake/response never comes
};

enum class Dir {
  down,  // upstream -> client (the server's answer)
  up,    // client -> upstream (the client's request)
};

struct FaultPlan {
  Fault fault = Fault::pass;
  Dir dir = Dir::down;
  // The trigger: the fault happens once `offset` bytes of `dir` have been forwarded and more are
  // waiting (so a stall or cut at the end of what the server ever sends never fires), or, if
  // `pattern` is set, at offset (start of the `occurrence`-th occurrence of `pattern`, 1-based)
  // + `pattern_delta`.
  uint64_t offset = 0;
  std::string pattern;
  int occurrence = 1;
  int64_t pattern_delta = 0;
  // With `then` set, the trigger is instead at the end of the first `then` after that occurrence,
  // + pattern_delta: ("id: ", then "\n") is "right after an id line", whatever its number.
  std::string then;
  // Keep a copy of the bytes forwarded downstream (for tests that decode what the client got).
  bool record = false;

  static FaultPlan pass_through() { return {}; }
  static FaultPlan at(Fault f, uint64_t offset, Dir dir = Dir::down) {
    FaultPlan p;
    p.fault = f;
    p.offset = offset;
    p.dir = dir;
    return p;
  }
  // Fault at `delta` bytes from the start of the k-th occurrence of `pattern` in `dir`.
  static FaultPlan after_pattern(Fault f, std::string pattern, int k, int64_t delta, Dir dir = Dir::down) {
    FaultPlan p;
    p.fault = f;
    p.dir = dir;
    p.pattern = std::move(pattern);
    p.occurrence = k;
    p.pattern_delta = delta;
    return p;
  }
  // Fault at a random offset in [lo, hi], from the caller's seeded PRNG (reproducible).
  static FaultPlan after_pattern_then(Fault f, std::string pattern, int k, std::string then, int64_t delta = 0,
                                      Dir dir = Dir::down) {
    FaultPlan p = after_pattern(f, std::move(pattern), k, delta, dir);
    p.then = std::move(then);
    return p;
  }
  static FaultPlan random(Fault f, std::mt19937_64& rng, uint64_t lo, uint64_t hi, Dir dir = Dir::down) {
    return at(f, std::uniform_int_distribution<uint64_t>(lo, hi)(rng), dir);
  }
};

// What happened on one accepted connection (a snapshot).
struct ConnInfo {
  FaultPlan plan;
  uint64_t bytes_up = 0;    // client -> upstream, forwarded
  uint64_t bytes_down = 0;  // upstream -> client, forwarded
  std::chrono::steady_clock::time_point accepted_at{};
  bool triggered = false;   // the fault fired
  std::chrono::steady_clock::time_point triggered_at{};
  bool closed = false;      // both sides are gone
  std::string downstream;   // the forwarded downstream bytes, when plan.record
};

class FaultProxy {
 public:
  using Script = std::function<FaultPlan(size_t conn_index)>;

  // Listens at once; forwards to 127.0.0.1:upstream_port. The default script passes everything.
  explicit FaultProxy(int upstream_port, Script script = nullptr);
  // Closes the listener and every connection, joins the thread (bounded: the loop wakes at least
  // every 50 ms).
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& scheme, const std::string& path_and_query) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path_and_query;
  }
  // Replaces the script; connections accepted from now on use it.
  void set_script(Script script);

  size_t accepted() const { return accepted_.load(); }
  uint64_t bytes_up() const { return bytes_up_.load(); }
  uint64_t bytes_down() const { return bytes_down_.load(); }
  size_t faults_triggered() const { return triggered_.load(); }
  // Snapshots of every connection so far, in accept order.
  std::vector<ConnInfo> connections() const;
  // Waits until `pred(connections())` holds or timeout_ms passes; returns whether it held. Woken
  // by every change of a connection's state, not by polling.
  bool wait_for(const std::function<bool(const std::vector<ConnInfo>&)>& pred, int timeout_ms);

 private:
  struct Conn;
  void run();
  void accept_all();
  void pump(Conn& c);
  void fire(Conn& c);
  void close_conn(Conn& c, bool reset_client);
  void changed();

  int upstream_port_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  std::atomic<uint64_t> bytes_up_{0};
  std::atomic<uint64_t> bytes_down_{0};
  std::atomic<size_t> triggered_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t changes_ = 0;  // guarded by mu_; counts changed() calls, so wait_for misses none
  Script script_;
  std::vector<std::unique_ptr<Conn>> conns_;  // guarded by mu_ for snapshots; loop thread mutates
  std::thread thread_;
};

// How a delivered sequence of ids compares with the expected ones (each exactly once, ascending).
struct SequenceReport {
  size_t expected = 0;   // distinct ids that should arrive
  size_t delivered = 0;  // ids that arrived, counting repeats
  size_t duplicates = 0; // arrivals of an id already seen
  size_t lost = 0;       // expected ids never seen
  size_t unexpected = 0; // ids outside the expected set
  size_t out_of_order = 0;  // arrivals not greater than the previous one
  std::string first_problems;  // a few examples, for the failure message
  bool ok() const { return duplicates == 0 && lost == 0 && unexpected == 0 && out_of_order == 0; }
  std::string summary() const;
};
SequenceReport compare_sequence(const std::vector<long>& delivered, const std::vector<long>& expected_ascending);

// Runs argv (argv[0] looked up in PATH) to completion, bounded by timeout_ms (then SIGKILL);
// returns its exit code (-1 if killed or not started) and its stdout.
struct ProcessOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};
ProcessOutput run_process(const std::vector<std::string>& argv, int timeout_ms);

// Peak and current resident set of this process, in KiB, from /proc/self/status.
struct MemoryStatus {
  long vm_hwm_kib = 0;
  long vm_rss_kib = 0;
};
MemoryStatus memory_status();
// Resets this process's VmHWM to its current RSS (writes 5 to /proc/self/clear_refs); false if
// the kernel refuses.
bool reset_peak_rss();

}  // namespace tidewire::test
