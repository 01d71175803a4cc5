#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

extern char** environ;

#ifndef TW_PEERS_DIR
#error "TW_PEERS_DIR must be defined as the absolute path of tests/peers (a string literal)"
#endif

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartupTimeout = std::chrono::seconds(10);
constexpr auto kShutdownTimeout = std::chrono::seconds(5);

std::runtime_error sys_error(const std::string& what, int err = errno) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  // Round a sub-millisecond remainder up so poll() still waits for it.
  return left.count() > 0 ? static_cast<int>(left.count()) : (deadline > Clock::now() ? 1 : 0);
}

// Waits for `events` on fd until the deadline. Returns false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) throw sys_error("poll");
  }
}

// Pipe ends are close-on-exec so that peers spawned concurrently (or any other
// child of the test binary) never hold them; an inherited stdin write end
// would keep a peer alive after its owner is gone. Both ends are also kept
// clear of fds 0-2 so that the dup2 onto stdin/stdout below always really
// copies (dup2(fd, fd) would leave close-on-exec set).
void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw sys_error("pipe2");
  for (int i = 0; i < 2; ++i) {
    if (fds[i] > 2) continue;
    int moved = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    int err = errno;
    ::close(fds[i]);
    if (moved < 0) {
      ::close(fds[1 - i]);
      throw sys_error("fcntl(F_DUPFD_CLOEXEC)", err);
    }
    fds[i] = moved;
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped (wait status " + std::to_string(status) + ")";
}

// Reaps pid, giving it until the deadline to exit on its own, then SIGKILL.
// Callers first wait for the child's stdout to hit EOF, which is the real
// "it is exiting" event; the polling here only covers the short gap between
// that and the exit becoming waitable, or a child that never closes stdout.
int reap(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;  // not our child any more
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// Reads and discards the child's stdout until EOF (all its copies of the
// write end are closed, i.e. it is exiting) or the deadline.
void wait_stdout_eof(int fd, Clock::time_point deadline) {
  char buf[4096];
  while (wait_fd(fd, POLLIN, deadline)) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0;
    int lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A connected socket plus the bytes received but not yet consumed.
class Conn {
 public:
  Conn(int port, Clock::time_point deadline) : deadline_(deadline) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd_.get() < 0) throw sys_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (errno != EINPROGRESS) throw sys_error("connect to 127.0.0.1:" + std::to_string(port));
      if (!wait_fd(fd_.get(), POLLOUT, deadline_)) {
        throw std::runtime_error("timed out connecting to 127.0.0.1:" + std::to_string(port));
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) throw sys_error("connect to 127.0.0.1:" + std::to_string(port), err);
    }
  }

  void send_all(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      // MSG_NOSIGNAL: a peer that hangs up must yield EPIPE, not kill the test.
      ssize_t n = ::send(fd_.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait_fd(fd_.get(), POLLOUT, deadline_)) throw std::runtime_error("timed out sending request");
      } else if (errno != EINTR) {
        throw sys_error("send");
      }
    }
  }

  enum class Read { kData, kEof, kTimeout };

  // Appends whatever arrives next to buf_. A reset counts as EOF: for these
  // tests "the peer dropped the connection" is the interesting fact, not how.
  Read fill() {
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return Read::kData;
      }
      if (n == 0) return Read::kEof;
      if (errno == ECONNRESET) return Read::kEof;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait_fd(fd_.get(), POLLIN, deadline_)) return Read::kTimeout;
      } else if (errno != EINTR) {
        throw sys_error("recv");
      }
    }
  }

  std::string& buf() { return buf_; }

 private:
  UniqueFd fd_;
  Clock::time_point deadline_;
  std::string buf_;
};

void mark_incomplete(HttpReply& reply, Conn::Read why) {
  reply.complete = false;
  reply.timed_out = why == Conn::Read::kTimeout;
}

void read_until_close(Conn& conn, HttpReply& reply) {
  for (;;) {
    reply.body += conn.buf();
    conn.buf().clear();
    Conn::Read r = conn.fill();
    if (r == Conn::Read::kEof) break;  // close is this body's framing: complete
    if (r == Conn::Read::kTimeout) return mark_incomplete(reply, r);
  }
}

void read_fixed(Conn& conn, HttpReply& reply, size_t length) {
  std::string& buf = conn.buf();
  while (buf.size() < length) {
    Conn::Read r = conn.fill();
    if (r != Conn::Read::kData) {
      reply.body = buf;
      return mark_incomplete(reply, r);
    }
  }
  reply.body = buf.substr(0, length);
}

void read_chunked(Conn& conn, HttpReply& reply) {
  std::string& buf = conn.buf();
  size_t pos = 0;
  auto need_more = [&]() -> bool {
    Conn::Read r = conn.fill();
    if (r == Conn::Read::kData) return true;
    mark_incomplete(reply, r);
    return false;
  };
  for (;;) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string::npos) {
      if (!need_more()) return;
      continue;
    }
    std::string size_line = buf.substr(pos, eol - pos);
    size_line = trim(size_line.substr(0, size_line.find(';')));  // drop extensions
    size_t size = 0;
    size_t used = 0;
    try {
      size = std::stoul(size_line, &used, 16);
    } catch (const std::exception&) {
      used = 0;
    }
    if (size_line.empty() || used != size_line.size()) {
      throw std::runtime_error("bad chunk size line: '" + size_line + "'");
    }
    size_t data = eol + 2;
    if (size == 0) {
      // Skip trailers up to the empty line that ends the message.
      size_t line = data;
      for (;;) {
        size_t end = buf.find("\r\n", line);
        if (end == std::string::npos) {
          if (!need_more()) return;
          continue;
        }
        if (end == line) return;
        line = end + 2;
      }
    }
    while (buf.size() < data + size + 2) {
      if (!need_more()) {
        // Keep the part of the interrupted chunk that did arrive.
        reply.body.append(buf, data, std::min(size, buf.size() - data));
        return;
      }
    }
    reply.body.append(buf, data, size);
    if (buf.compare(data + size, 2, "\r\n") != 0) throw std::runtime_error("chunk not followed by CRLF");
    pos = data + size + 2;
    if (pos > (1u << 20)) {  // keep the buffer from growing with long streams
      buf.erase(0, pos);
      pos = 0;
    }
  }
}

}  // namespace

Peer::Peer(const std::string& script, const std::vector<std::string>& args) {
  int in[2];
  int out[2];
  make_pipe(in);
  try {
    make_pipe(out);
  } catch (...) {
    ::close(in[0]);
    ::close(in[1]);
    throw;
  }
  UniqueFd child_in(in[0]);
  UniqueFd child_out(out[1]);
  UniqueFd parent_in(in[1]);
  UniqueFd parent_out(out[0]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_in.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), 1);

  // Whatever the test binary did with signals (blocked them in a thread,
  // ignored SIGPIPE) must not leak into the peer, or SIGTERM might not stop it.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::string interpreter = "python3";
  std::vector<char*> argv = {interpreter.data(), const_cast<char*>(script.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int err = ::posix_spawnp(&pid_, "python3", &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throw sys_error("cannot start python3 " + script, err);

  // Only the child may hold these now; our copies would hide its EOFs.
  child_in.reset();
  child_out.reset();

  auto fail = [&](const std::string& why) -> std::runtime_error {
    parent_in.reset();  // stdin EOF: the peer's own shutdown path
    ::kill(pid_, SIGTERM);
    int status = reap(pid_, Clock::now() + kShutdownTimeout);
    pid_ = -1;
    std::string msg = "peer " + script + ": " + why;
    if (status >= 0) msg += " (it " + describe_status(status) + ")";
    return std::runtime_error(msg);
  };

  const auto deadline = Clock::now() + kStartupTimeout;
  std::string line;
  for (;;) {
    if (!wait_fd(parent_out.get(), POLLIN, deadline)) {
      throw fail("no \"PORT <n>\" line within 10 s; got '" + line + "'");
    }
    char c;
    ssize_t n = ::read(parent_out.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::string("reading its stdout: ") + std::strerror(errno));
    if (n == 0) throw fail("exited before announcing its port; stdout so far: '" + line + "'");
    if (c == '\n') break;
    line.push_back(c);
  }
  const std::string prefix = "PORT ";
  int port = 0;
  if (line.compare(0, prefix.size(), prefix) == 0 && line.size() > prefix.size() &&
      line.size() <= prefix.size() + 5 &&
      std::all_of(line.begin() + prefix.size(), line.end(),
                  [](unsigned char ch) { return std::isdigit(ch); })) {
    port = std::stoi(line.substr(prefix.size()));
  }
  if (port <= 0 || port > 65535) throw fail("expected \"PORT <n>\", got '" + line + "'");

  port_ = port;
  stdin_fd_ = parent_in.release();
  stdout_fd_ = parent_out.release();
}

Peer::~Peer() {
  if (pid_ > 0) {
    const auto deadline = Clock::now() + kShutdownTimeout;
    ::kill(pid_, SIGTERM);
    ::close(stdin_fd_);
    wait_stdout_eof(stdout_fd_, deadline);
    reap(pid_, deadline);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::string Peer::url(const std::string& path_and_query) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
}

std::string peer_script(const char* name) { return std::string(TW_PEERS_DIR) + "/" + name; }

TempDir::TempDir() {
  char tmpl[] = "/tmp/tidewire-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw sys_error("mkdtemp");
  path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor cannot throw; a leftover directory under /tmp is harmless
  std::filesystem::remove_all(path, ignored);
}

HttpReply http_get(int port, const std::string& path_and_query, int timeout_ms,
                   const HeaderList& headers) {
  if (timeout_ms <= 0) throw std::invalid_argument("http_get: timeout_ms must be positive");
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::string target = "GET " + path_and_query;
  Conn conn(port, deadline);

  std::string request = target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  conn.send_all(request);

  std::string& buf = conn.buf();
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    switch (conn.fill()) {
      case Conn::Read::kData:
        break;
      case Conn::Read::kEof:
        throw std::runtime_error(target + ": connection closed before the response head; got '" +
                                 buf + "'");
      case Conn::Read::kTimeout:
        throw std::runtime_error(target + ": timed out waiting for the response head");
    }
  }

  HttpReply reply;
  const std::string head = buf.substr(0, head_end);
  buf.erase(0, head_end + 4);

  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.compare(0, 7, "HTTP/1.") != 0 || status_line.size() < 12) {
    throw std::runtime_error(target + ": bad status line '" + status_line + "'");
  }
  reply.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos
                                                                        : line_end - start);
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    auto [it, inserted] = reply.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }

  const bool no_body = (reply.status >= 100 && reply.status < 200) || reply.status == 204 ||
                       reply.status == 304;
  auto te = reply.headers.find("transfer-encoding");
  auto cl = reply.headers.find("content-length");
  if (no_body) {
    // nothing to read
  } else if (te != reply.headers.end() && lower(te->second).find("chunked") != std::string::npos) {
    read_chunked(conn, reply);
  } else if (cl != reply.headers.end()) {
    read_fixed(conn, reply, std::stoul(cl->second));
  } else {
    read_until_close(conn, reply);
  }
  return reply;
}

std::vector<std::map<std::string, std::string>> parse_log(const std::string& body) {
  std::vector<std::map<std::string, std::string>> entries;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    std::map<std::string, std::string> entry;
    size_t f = 0;
    while (f <= line.size()) {
      size_t semi = line.find(';', f);
      if (semi == std::string::npos) semi = line.size();
      const std::string field = line.substr(f, semi - f);
      size_t eq = field.find('=');
      if (eq != std::string::npos) entry[field.substr(0, eq)] = percent_decode(field.substr(eq + 1));
      f = semi + 1;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string unique_key() {
  static std::atomic<unsigned> counter{0};
  std::string name = "no-test";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name = std::string(info->test_suite_name()) + "." + info->name();
  }
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
  }
  return name + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

namespace {

sockaddr_in loopback_address(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// A TCP socket bound to 127.0.0.1 on a free port (listening with `backlog` unless it is negative),
// and that port. Throws std::runtime_error naming `who` and the reason.
int bound_loopback_socket(const char* who, int backlog, int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback_address(0);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      (backlog >= 0 && ::listen(fd, backlog) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(std::string(who) + ": " + why);
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

UnansweredEndpoint::UnansweredEndpoint() {
  listen_fd_ = bound_loopback_socket("UnansweredEndpoint", 0, &port_);
  // Fill the accept queue: with backlog 0 Linux queues one connection (and may let a second
  // through while racing); keep connecting until one stays pending.
  const sockaddr_in addr = loopback_address(port_);
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    fillers_.push_back(fd);
    pollfd p{fd, POLLOUT, 0};
    full = ::poll(&p, 1, 300) == 0;
  }
  if (!full) {
    this->~UnansweredEndpoint();
    throw std::runtime_error("UnansweredEndpoint: every connect completed; the accept queue never filled");
  }
}

UnansweredEndpoint::~UnansweredEndpoint() {
  for (int fd : fillers_) ::close(fd);
  fillers_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

bool UnansweredEndpoint::probe_hangs(int ms) const {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const sockaddr_in addr = loopback_address(port_);
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  bool hangs = false;
  if (r != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    hangs = ::poll(&p, 1, ms) == 0;
  }
  ::close(fd);
  return hangs;
}

RefusingPort::RefusingPort() { fd_ = bound_loopback_socket("RefusingPort", -1, &port_); }

RefusingPort::~RefusingPort() { ::close(fd_); }

std::string url_encode(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace tidewire::test
