#include "fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxBuffered = 256 * 1024;  // per direction: the proxy never grows without a bound
constexpr int kLoopTickMs = 50;              // the longest the loop sleeps before checking stop_

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int listen_loopback(int backlog, int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw sys_error("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0) {
    ::close(fd);
    throw sys_error("bind/listen");
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

struct FaultProxy::Conn {
  int cfd = -1;  // the client's side
  int ufd = -1;  // the upstream side
  FaultPlan plan;
  std::string to_client, to_up;
  uint64_t read_down = 0, read_up = 0;  // bytes read from each source (pattern offsets count these)
  uint64_t fwd_down = 0, fwd_up = 0;
  int64_t trigger = -1;  // absolute offset in plan.dir, once known
  int found = 0;         // pattern occurrences seen so far
  std::string seen;      // plan.dir's bytes while a pattern trigger is unknown
  size_t search_from = 0;
  size_t match_at = std::string::npos;  // the occurrence that counts, once found
  bool client_eof = false, up_eof = false;
  bool stalled = false, closed = false, triggered = false;
  size_t index = 0;
  ConnInfo info;  // guarded by the proxy's mu_

  bool faulting() const {
    return plan.fault == Fault::cut || plan.fault == Fault::rst || plan.fault == Fault::stall;
  }
  // Bytes of the given direction that may be written now (the fault offset caps them).
  uint64_t allowed(Dir d, uint64_t pending) const {
    if (!faulting() || d != plan.dir || trigger < 0) return pending;
    uint64_t fwd = d == Dir::down ? fwd_down : fwd_up;
    uint64_t cap = static_cast<uint64_t>(trigger) > fwd ? static_cast<uint64_t>(trigger) - fwd : 0;
    return std::min(pending, cap);
  }
  void scan(Dir d, const char* data, size_t len) {
    uint64_t& read = d == Dir::down ? read_down : read_up;
    read += len;
    if (d != plan.dir || trigger >= 0) return;
    if (plan.pattern.empty()) {
      trigger = static_cast<int64_t>(plan.offset);
      return;
    }
    // `seen` holds this direction's bytes from offset 0 until the trigger is known (bounded: a
    // pattern not found in 64 MiB never fires).
    if (seen.size() > (64u << 20)) return;
    seen.append(data, len);
    for (;;) {
      if (match_at == std::string::npos) {
        size_t pos = seen.find(plan.pattern, search_from);
        if (pos == std::string::npos) {
          search_from = seen.size() >= plan.pattern.size() ? seen.size() - plan.pattern.size() + 1 : 0;
          return;
        }
        search_from = pos + 1;
        if (++found < plan.occurrence) continue;
        match_at = pos;
        if (plan.then.empty()) {
          trigger = std::max<int64_t>(0, static_cast<int64_t>(pos) + plan.pattern_delta);
          seen.clear();
          return;
        }
      }
      size_t q = seen.find(plan.then, match_at + plan.pattern.size());
      if (q == std::string::npos) return;
      trigger = std::max<int64_t>(0, static_cast<int64_t>(q + plan.then.size()) + plan.pattern_delta);
      seen.clear();
      return;
    }
  }
};

FaultProxy::FaultProxy(int upstream_port, Script script) : upstream_port_(upstream_port), script_(std::move(script)) {
  listen_fd_ = listen_loopback(512, &port_);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw sys_error("pipe2");
  thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  char byte = 0;
  (void)!::write(wake_[1], &byte, 1);
  thread_.join();
  for (auto& c : conns_) close_conn(*c, false);
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void FaultProxy::set_script(Script script) {
  std::lock_guard<std::mutex> lock(mu_);
  script_ = std::move(script);
}

std::vector<ConnInfo> FaultProxy::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ConnInfo> out;
  out.reserve(conns_.size());
  for (const auto& c : conns_) out.push_back(c->info);
  return out;
}

bool FaultProxy::wait_for(const std::function<bool(const std::vector<ConnInfo>&)>& pred, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    // The change count is read before the check and waited on under mu_: a change that lands
    // between the check and the wait is seen, not lost. The predicate itself runs unlocked, as
    // it may call back into the proxy.
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = changes_;
    }
    if (pred(connections())) return true;
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return changes_ != seen; })) {
      lock.unlock();
      return pred(connections());
    }
  }
}

void FaultProxy::changed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes_++;
  }
  cv_.notify_all();
}

void FaultProxy::close_conn(Conn& c, bool reset_client) {
  if (c.closed) return;
  if (c.cfd >= 0) {
    if (reset_client) {
      linger l{1, 0};  // close() then sends RST and discards unsent data
      ::setsockopt(c.cfd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(c.cfd);
  }
  if (c.ufd >= 0) {
    if (c.triggered) {
      // A fault resets the upstream side: the server learns at once that its connection is gone
      // (a FIN would let it go on writing into buffers that nobody reads).
      linger l{1, 0};
      ::setsockopt(c.ufd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(c.ufd);
  }
  c.cfd = c.ufd = -1;
  c.closed = true;
  std::lock_guard<std::mutex> lock(mu_);
  c.info.closed = true;
}

void FaultProxy::fire(Conn& c) {
  triggered_++;
  c.triggered = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.info.triggered = true;
    c.info.triggered_at = Clock::now();
  }
  if (c.plan.fault == Fault::stall) {
    c.stalled = true;
  } else {
    close_conn(c, c.plan.fault == Fault::rst);
  }
  changed();
}

void FaultProxy::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>();
    c->cfd = fd;
    c->index = accepted_.load();
    Script script;
    {
      std::lock_guard<std::mutex> lock(mu_);
      script = script_;
    }
    c->plan = script ? script(c->index) : FaultPlan{};
    c->info.plan = c->plan;
    c->info.accepted_at = Clock::now();
    // No Nagle delays of the proxy's own: small writes (a subscribe message) pass at once.
    set_nodelay(fd);
    if (c->plan.fault != Fault::hold) {
      c->ufd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(upstream_port_);
      // Loopback connects complete at once; blocking here keeps the state machine small.
      if (c->ufd < 0 || ::connect(c->ufd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (c->ufd >= 0) ::close(c->ufd);
        c->ufd = -1;
        c->closed = true;
        ::close(fd);
        c->cfd = -1;
        c->info.closed = true;
      } else {
        set_nonblocking(c->ufd);
        set_nodelay(c->ufd);
      }
    }
    accepted_++;
    {
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(std::move(c));
    }
    changed();
  }
}

// Moves what can move on one connection without blocking.
void FaultProxy::pump(Conn& c) {
  if (c.closed) return;
  char buf[65536];
  auto discard_client = [&]() {
    // Hold and stall keep the client's socket open but drain what it sends, so its close is seen.
    for (;;) {
      ssize_t n = ::recv(c.cfd, buf, sizeof buf, 0);
      if (n > 0) continue;
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) close_conn(c, false), changed();
      return;
    }
  };
  if (c.plan.fault == Fault::hold || c.stalled) return discard_client();

  bool progress = false;
  auto read_side = [&](int fd, std::string& into, Dir d, bool& eof) {
    while (!eof && into.size() < kMaxBuffered) {
      ssize_t n = ::recv(fd, buf, std::min(sizeof buf, kMaxBuffered - into.size()), 0);
      if (n > 0) {
        c.scan(d, buf, static_cast<size_t>(n));
        into.append(buf, static_cast<size_t>(n));
        progress = true;
      } else if (n == 0) {
        eof = true;
      } else if (errno == EINTR) {
        continue;
      } else {
        if (errno != EAGAIN) eof = true;
        return;
      }
    }
  };
  auto write_side = [&](int fd, std::string& from, Dir d) -> bool {
    uint64_t& fwd = d == Dir::down ? c.fwd_down : c.fwd_up;
    bool sliced = c.plan.fault == Fault::slice && d == c.plan.dir;
    while (!from.empty()) {
      uint64_t n_allowed = c.allowed(d, from.size());
      if (n_allowed == 0) break;
      size_t len = sliced ? 1 : static_cast<size_t>(n_allowed);
      ssize_t n = ::send(fd, from.data(), len, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        return false;
      }
      if (d == Dir::down) {
        bytes_down_ += static_cast<uint64_t>(n);
        if (c.plan.record) {
          std::lock_guard<std::mutex> lock(mu_);
          c.info.downstream.append(from.data(), static_cast<size_t>(n));
        }
      } else {
        bytes_up_ += static_cast<uint64_t>(n);
      }
      fwd += static_cast<uint64_t>(n);
      from.erase(0, static_cast<size_t>(n));
      progress = true;
      if (sliced) return true;  // one byte per loop turn: the client sees it alone
    }
    return true;
  };

  read_side(c.cfd, c.to_up, Dir::up, c.client_eof);
  read_side(c.ufd, c.to_client, Dir::down, c.up_eof);
  if (!write_side(c.ufd, c.to_up, Dir::up) || !write_side(c.cfd, c.to_client, Dir::down)) {
    close_conn(c, false);
    changed();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.info.bytes_up = c.fwd_up;
    c.info.bytes_down = c.fwd_down;
  }
  if (c.faulting() && c.trigger >= 0) {
    uint64_t fwd = c.plan.dir == Dir::down ? c.fwd_down : c.fwd_up;
    const std::string& pending = c.plan.dir == Dir::down ? c.to_client : c.to_up;
    if (fwd >= static_cast<uint64_t>(c.trigger) && !pending.empty()) return fire(c);
  }
  // A side that ended, once everything it sent is forwarded, ends the connection.
  if ((c.up_eof && c.to_client.empty()) || (c.client_eof && c.to_up.empty())) {
    close_conn(c, false);
    progress = true;
  }
  if (progress) changed();
}

void FaultProxy::run() {
  std::vector<pollfd> fds;
  std::vector<Conn*> owners;
  while (!stop_) {
    fds.clear();
    owners.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& cp : conns_) {
      Conn& c = *cp;
      if (c.closed) continue;
      if (c.plan.fault == Fault::hold || c.stalled) {
        fds.push_back({c.cfd, POLLIN, 0});
        owners.push_back(&c);
        continue;
      }
      short cev = 0, uev = 0;
      if (!c.client_eof && c.to_up.size() < kMaxBuffered) cev |= POLLIN;
      if (!c.up_eof && c.to_client.size() < kMaxBuffered) uev |= POLLIN;
      if (c.allowed(Dir::down, c.to_client.size()) > 0) cev |= POLLOUT;
      if (c.allowed(Dir::up, c.to_up.size()) > 0) uev |= POLLOUT;
      fds.push_back({c.cfd, cev, 0});
      owners.push_back(&c);
      fds.push_back({c.ufd, uev, 0});
      owners.push_back(&c);
    }
    int r = ::poll(fds.data(), fds.size(), kLoopTickMs);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (fds[0].revents) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    if (fds[1].revents) accept_all();
    Conn* last = nullptr;
    for (size_t i = 2; i < fds.size(); ++i) {
      Conn* c = owners[i - 2];
      if (c == last || fds[i].revents == 0) continue;
      last = c;
      pump(*c);
    }
  }
}

ProcessOutput run_process(const std::vector<std::string>& argv, int timeout_ms) {
  ProcessOutput r;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return r;
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    r.err = std::strerror(rc);
    return r;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool out_open = true, err_open = true, killed = false;
  char buf[65536];
  while (out_open || err_open) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    if (::poll(p, 2, left) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (!p[i].revents) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  // Whatever ended the loop (its output closed, a poll error, the deadline), the child is gone
  // or killed before the blocking waitpid, so that it can never hang the test. Closing its
  // output usually means it exited: it gets until the deadline to do so (a pidfd makes that an
  // event to wait for), then is killed.
  if (!killed) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    pollfd p{pidfd, POLLIN, 0};
    if (pidfd < 0 || out_open || err_open || left <= 0 || ::poll(&p, 1, left) != 1) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    if (pidfd >= 0) ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string SequenceReport::summary() const {
  return "expected=" + std::to_string(expected) + " delivered=" + std::to_string(delivered) +
         " duplicates=" + std::to_string(duplicates) + " lost=" + std::to_string(lost) +
         " unexpected=" + std::to_string(unexpected) + " out_of_order=" + std::to_string(out_of_order);
}

SequenceReport compare_sequence(const std::vector<long>& delivered, const std::vector<long>& expected_ascending) {
  SequenceReport r;
  r.expected = expected_ascending.size();
  r.delivered = delivered.size();
  std::set<long> want(expected_ascending.begin(), expected_ascending.end());
  std::set<long> got;
  auto note = [&](const std::string& what) {
    if (r.first_problems.size() < 400) r.first_problems += what + "; ";
  };
  for (size_t i = 0; i < delivered.size(); ++i) {
    long id = delivered[i];
    if (!got.insert(id).second) {
      r.duplicates++;
      note("duplicate " + std::to_string(id));
    }
    if (!want.count(id)) {
      r.unexpected++;
      note("unexpected " + std::to_string(id));
    }
    if (i > 0 && id <= delivered[i - 1]) {
      r.out_of_order++;
      note(std::to_string(id) + " after " + std::to_string(delivered[i - 1]));
    }
  }
  for (long id : expected_ascending) {
    if (!got.count(id)) {
      r.lost++;
      note("lost " + std::to_string(id));
    }
  }
  return r;
}

MemoryStatus memory_status() {
  MemoryStatus m;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string key;
    long value = 0;
    s >> key >> value;
    if (key == "VmHWM:") m.vm_hwm_kib = value;
    if (key == "VmRSS:") m.vm_rss_kib = value;
  }
  return m;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace tidewire::test
