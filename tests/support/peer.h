// Helpers for integration tests that talk to a scripted peer process
// (tests/peers/*.py): starting and stopping it, and a deliberately small,
// independent HTTP/1.1 client for inspecting the peer (its /_log, or an
// endpoint's raw behaviour) without going through the code under test.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tidewire::test {

// Owns one `python3 <script>` child. The child's stdin is a pipe that only
// this object holds: the peer exits when it sees EOF there, so it cannot
// outlive the test binary even if the binary crashes before ~Peer runs.
class Peer {
 public:
  // Waits up to 10 s for the script to print "PORT <n>". Throws
  // std::runtime_error (with the reason, e.g. the child's exit status) if it
  // cannot be started or does not announce a port.
  // `args` are passed to the script after its path.
  explicit Peer(const std::string& script, const std::vector<std::string>& args = {});
  // SIGTERM and stdin EOF, then waits up to 5 s before resorting to SIGKILL.
  ~Peer();

  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + path_and_query (which must start with '/').
  std::string url(const std::string& path_and_query) const;

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;   // write end of the child's stdin
  int stdout_fd_ = -1;  // read end of the child's stdout
  int port_ = 0;
};

// Absolute path of a script in the tests/peers directory (TW_PEERS_DIR).
std::string peer_script(const char* name);

// A fresh directory under /tmp, removed with everything in it when the object goes: peers write
// certificates there, and tests their own files. Throws std::runtime_error if it cannot be made.
struct TempDir {
  std::string path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// A peer serving TLS with a self-signed certificate for 127.0.0.1 (`--tls DIR`), kept in a TempDir
// of its own: http_peer.py behind https:// by default, or e.g. ws_peer.py behind wss://.
struct TlsPeer {
  TempDir dir;
  Peer peer;
  explicit TlsPeer(const char* script = "http_peer.py", const char* scheme = "https")
      : peer(peer_script(script), {"--tls", dir.path}), scheme_(scheme) {}
  std::string url(const std::string& path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(peer.port()) + path;
  }
  // The certificate, which is its own CA.
  std::string ca_file() const { return dir.path + "/cert.pem"; }

 private:
  std::string scheme_;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;
  std::string body;
  // Lower-cased names; repeated headers are joined with ", ".
  std::map<std::string, std::string> headers;
  // False when the body ended before its framing said it would: the
  // connection was closed or reset mid-body (e.g. an SSE cut), or the
  // timeout expired. `body` then holds whatever arrived.
  bool complete = true;
  bool timed_out = false;
};

// One GET to 127.0.0.1:port over a fresh connection ("Connection: close"),
// bounded by timeout_ms overall. Understands Content-Length, chunked and
// read-until-close bodies. Throws std::runtime_error if no complete response
// head arrives (refused, reset, timeout, garbage); a body that stops early is
// reported through HttpReply::complete instead.
HttpReply http_get(int port, const std::string& path_and_query, int timeout_ms = 5000,
                   const HeaderList& headers = {});

// Splits a /_log body into one map per request line (keys "t_ms", "path",
// "if-none-match", "if-modified-since", "last-event-id", "x-test"), undoing
// the peer's escaping of '%', ';', CR and LF in values. Prefer this to
// matching the raw log text, where those characters appear escaped.
std::vector<std::map<std::string, std::string>> parse_log(const std::string& body);

// A key no other call in this process returns: current test name, pid and a
// counter, limited to characters that need no escaping in a query string.
std::string unique_key();

// A TCP endpoint whose connect never completes: a listening socket with backlog 0 whose accept
// queue is filled by the object itself and never drained. Linux then drops every further SYN
// (net.ipv4.tcp_abort_on_overflow=0, the default; SYN cookies only concern the SYN queue), so a
// client's connect() stays in SYN_SENT and retransmits until its own timeout — no RST, no refusal.
// (A socket that is merely not accepting still completes the handshake in the kernel:
// a peer that holds: connected, but no answer ever.)
class UnansweredEndpoint {
 public:
  UnansweredEndpoint();
  ~UnansweredEndpoint();
  UnansweredEndpoint(const UnansweredEndpoint&) = delete;
  UnansweredEndpoint& operator=(const UnansweredEndpoint&) = delete;
  // Throws std::runtime_error if the queue cannot be filled (no connect left pending).
  int port() const { return port_; }
  // Whether a fresh probe connect stays pending for `ms` (true: the endpoint really hangs connects).
  bool probe_hangs(int ms) const;

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

// A loopback port where connections are refused: a socket bound to 127.0.0.1:0 and kept open,
// never listening. Unlike a port bound and closed again, it cannot be handed to another socket (a
// parallel test's peer) while the object lives: no SO_REUSEADDR, so nothing else can bind it.
class RefusingPort {
 public:
  // Throws std::runtime_error if no socket can be bound.
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Percent-encodes everything except RFC 3986 unreserved characters, for
// putting arbitrary values (paths, HTTP-dates, raw bytes) into a query.
std::string url_encode(const std::string& value);

}  // namespace tidewire::test
