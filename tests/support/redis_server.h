// A real redis-server (Debian's) for the tests: started on a free loopback port with its data in a
// TempDir (AOF on, fsync on every write, so a restart keeps every entry), stopped and started again
// on the same port to cut it off, paused (SIGSTOP) to make it slow; inspected through hiredis's
// own blocking client, independent of the code under test.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "peer.h"

struct redisContext;
struct redisReply;

namespace tidewire::test {

class RedisServer {
 public:
  // Throws std::runtime_error if redis-server cannot be started within 10 s. `extra` are more
  // `--name value` arguments (e.g. {"--requirepass", "s3cret"}).
  explicit RedisServer(std::vector<std::string> extra = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // "redis://127.0.0.1:<port>/0" + query (e.g. "?stream=s&group=g").
  std::string url(const std::string& query = "") const;
  // Stops the server (SIGTERM: it writes its AOF and exits) and waits for it to be gone.
  void stop();
  // Starts it again on the same port, with the same data.
  void start();
  // SIGSTOP / SIGCONT: connections stay open, nothing is answered meanwhile.
  void pause();
  void resume();

  // One command through a blocking client of the test's own; the reply's text, integer or, for
  // arrays, element count as text. Throws std::runtime_error on an error reply.
  std::string command(const std::vector<std::string>& args);
  // The integer reply of a command (XLEN, XACK, ...).
  long long integer(const std::vector<std::string>& args);
  // Entries the group has delivered but that are not acknowledged (XPENDING's count).
  long long pending(const std::string& stream, const std::string& group);

 private:
  void launch();
  redisReply* run(const std::vector<std::string>& args);

  TempDir dir_;
  std::vector<std::string> extra_;
  int port_ = 0;
  pid_t pid_ = -1;
  redisContext* ctx_ = nullptr;
};

}  // namespace tidewire::test
