#include "redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra) : extra_(std::move(extra)) {
  // redis-server cannot pick a free port itself: a port found free may be taken before it binds,
  // so a failed start is tried again on another.
  for (int tries = 0;; tries++) {
    port_ = free_port();
    try {
      launch();
      return;
    } catch (const std::runtime_error&) {
      if (tries == 4) throw;
    }
  }
}

RedisServer::~RedisServer() {
  if (ctx_) redisFree(ctx_);
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string RedisServer::url(const std::string& query) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0" + query;
}

void RedisServer::launch() {
  std::vector<std::string> args{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--dir", dir_.path, "--save", "", "--appendonly", "yes",
                                "--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning"};
  args.insert(args.end(), extra_.begin(), extra_.end());
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The server must not outlive the test binary, however it ends.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // Its log goes to its data directory, not into the test's output.
    int log = ::open((dir_.path + "/redis.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start (status " + std::to_string(status) + ")");
    }
    timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c && !c->err) {
      redisSetTimeout(c, timeval{10, 0});
      const char* pass = nullptr;
      for (size_t i = 0; i + 1 < extra_.size(); i++)
        if (extra_[i] == "--requirepass") pass = extra_[i + 1].c_str();
      if (pass) freeReplyObject(redisCommand(c, "AUTH %s", pass));
      // Up once it answers PONG: while it reloads its AOF it answers LOADING.
      auto* pong = static_cast<redisReply*>(redisCommand(c, "PING"));
      bool up = pong && pong->type == REDIS_REPLY_STATUS;
      if (pong) freeReplyObject(pong);
      if (up) {
        if (ctx_) redisFree(ctx_);
        ctx_ = c;
        return;
      }
    }
    if (c) redisFree(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  throw std::runtime_error("redis-server did not accept connections within 10 s");
}

void RedisServer::stop() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::start() {
  if (pid_ > 0) return;
  launch();
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

redisReply* RedisServer::run(const std::vector<std::string>& args) {
  if (!ctx_) throw std::runtime_error("redis-server is not running");
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!reply) throw std::runtime_error(std::string("redis: ") + ctx_->errstr);
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string text(reply->str, reply->len);
    freeReplyObject(reply);
    throw std::runtime_error("redis: " + args[0] + ": " + text);
  }
  return reply;
}

std::string RedisServer::command(const std::vector<std::string>& args) {
  redisReply* r = run(args);
  std::string out;
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) out.assign(r->str, r->len);
  else if (r->type == REDIS_REPLY_INTEGER) out = std::to_string(r->integer);
  else if (r->type == REDIS_REPLY_ARRAY) out = std::to_string(r->elements);
  freeReplyObject(r);
  return out;
}

long long RedisServer::integer(const std::vector<std::string>& args) {
  redisReply* r = run(args);
  long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  freeReplyObject(r);
  if (v < 0) throw std::runtime_error("redis: " + args[0] + " did not answer an integer");
  return v;
}

long long RedisServer::pending(const std::string& stream, const std::string& group) {
  redisReply* r = run({"XPENDING", stream, group});
  long long v = r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_INTEGER
                    ? r->element[0]->integer
                    : -1;
  freeReplyObject(r);
  if (v < 0) throw std::runtime_error("redis: unexpected XPENDING reply");
  return v;
}

}  // namespace tidewire::test
