// Connections against real peers on 127.0.0.1 / ::1: plain, TLS (verification, host names, IP
// literals, CA files), CONNECT proxies, failures classified by their source, flow control, and
// closing from inside callbacks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/connection.h"
#include "io_test_support.h"
#include "peer.h"

namespace tidewire::detail::io::test {
namespace {

using tidewire::test::http_get;
using tidewire::test::Peer;
using tidewire::test::peer_script;
using tidewire::test::RefusingPort;
using tidewire::test::TempDir;
using tidewire::test::TlsPeer;
using tidewire::test::UnansweredEndpoint;

ConnectOptions tls_to(const std::string& host, int port, const std::string& ca_file) {
  ConnectOptions options = plain_to(host, port);
  options.tls.enabled = true;
  options.tls.ca_file = ca_file;
  return options;
}

// Opens, sends one GET and waits for the whole response (or a failure). Returns the body.
struct Exchange {
  Recorder recorder;
  Connection* connection = nullptr;
  std::string body;
  std::string head;
};

void run_get(TestLoop& loop, TlsContextCache& contexts, const ConnectOptions& options, const std::string& path,
             Exchange* exchange, uint64_t timeout_ms = 20000) {
  exchange->recorder.open_hook = [exchange, path] { exchange->connection->write(get_request(path)); };
  exchange->connection = Connection::open(loop.get(), options, &contexts, &exchange->recorder);
  bool done = loop.run_until(
      [&] { return exchange->recorder.closed || response_complete(exchange->recorder.data, &exchange->body, &exchange->head); },
      timeout_ms);
  ASSERT_TRUE(done) << "no response in time";
}

// Waits for a connection that is expected to fail; returns its error.
Error expect_failure(TestLoop& loop, TlsContextCache* contexts, const ConnectOptions& options,
                     uint64_t timeout_ms = 20000) {
  Recorder recorder;
  Connection* connection = Connection::open(loop.get(), options, contexts, &recorder);
  bool settled = loop.run_until([&] { return recorder.settled(); }, timeout_ms);
  EXPECT_TRUE(settled) << "neither opened nor failed in time";
  if (recorder.opened && !recorder.closed) {
    connection->close();
    ADD_FAILURE() << "connected although it should have failed";
    return {};
  }
  EXPECT_FALSE(recorder.opened);
  return recorder.error;
}

// A CA/server PKI (ca.pem, other-ca.pem; server certificate for 127.0.0.1, ::1 and localhost).
struct PkiPeer {
  TempDir dir;
  Peer peer;
  explicit PkiPeer(const std::vector<std::string>& extra = {}) : peer(peer_script("ws_peer.py"), args(dir, extra)) {}
  std::string ca() const { return dir.path + "/ca.pem"; }
  std::string other_ca() const { return dir.path + "/other-ca.pem"; }

 private:
  static std::vector<std::string> args(const TempDir& dir, const std::vector<std::string>& extra) {
    std::vector<std::string> all{"--pki", dir.path};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }
};

// Opens a TLS connection and reports whether the handshake succeeded (closing it), or its error.
Error tls_handshake(TestLoop& loop, TlsContextCache& contexts, const ConnectOptions& options) {
  Recorder recorder;
  Connection* connection = Connection::open(loop.get(), options, &contexts, &recorder);
  EXPECT_TRUE(loop.run_until([&] { return recorder.settled(); }, 20000)) << "handshake neither done nor failed";
  if (recorder.opened) {
    connection->close();
    return {};
  }
  return recorder.error;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = std::make_unique<std::string>(old);
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::unique_ptr<std::string> old_;
};

TEST(Connection, PlainGetReceivesALargeBodyIntactInLargeReads) {
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  Exchange exchange;
  const size_t size = 8 * 1024 * 1024;
  run_get(loop, contexts, plain_to("127.0.0.1", peer.port()), "/bytes?n=" + std::to_string(size), &exchange);
  ASSERT_FALSE(exchange.recorder.closed) << exchange.recorder.error.message;
  EXPECT_EQ(exchange.head.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(exchange.body.size(), size);
  EXPECT_TRUE(exchange.body == expected_body(size)) << "body corrupted";
  EXPECT_GT(exchange.recorder.largest_read, 16u * 1024) << "reads are not large";
  EXPECT_FALSE(exchange.connection->uses_tls());
  EXPECT_EQ(exchange.connection->peer_address(), "127.0.0.1:" + std::to_string(peer.port()));
  exchange.connection->close();
}

TEST(Connection, TlsGetWithTheRightCaFileReceivesALargeBodyAndNegotiatesAlpn) {
  TlsPeer peer("io_peer.py");
  TestLoop loop;
  TlsContextCache contexts;
  Exchange exchange;
  ConnectOptions options = tls_to("127.0.0.1", peer.peer.port(), peer.ca_file());
  options.tls.alpn_http11 = true;
  const size_t size = 4 * 1024 * 1024 + 7;
  run_get(loop, contexts, options, "/bytes?n=" + std::to_string(size), &exchange);
  ASSERT_FALSE(exchange.recorder.closed) << exchange.recorder.error.message;
  EXPECT_TRUE(exchange.body == expected_body(size)) << "body corrupted";
  EXPECT_GT(exchange.recorder.largest_read, 16u * 1024) << "TLS records were not gathered into large reads";
  EXPECT_TRUE(exchange.connection->uses_tls());
  EXPECT_EQ(exchange.connection->alpn_selected(), "http/1.1");
  exchange.connection->close();
}

TEST(Connection, TlsWithAnotherCaIsAVerifyErrorWithOpenSslsReason) {
  PkiPeer peer;
  TestLoop loop;
  TlsContextCache contexts;
  Error error = tls_handshake(loop, contexts, tls_to("127.0.0.1", peer.peer.port(), peer.other_ca()));
  EXPECT_EQ(error.kind, ErrorKind::tls_verify) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find(X509_verify_cert_error_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)),
            std::string::npos)
      << error.message;
}

TEST(Connection, TlsVerifiesIpLiteralsAndNamesAgainstTheCertificate) {
  PkiPeer peer;
  TestLoop loop;
  TlsContextCache contexts;
  Error by_ip = tls_handshake(loop, contexts, tls_to("127.0.0.1", peer.peer.port(), peer.ca()));
  EXPECT_FALSE(by_ip) << by_ip.message;
  // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
  Error by_name = tls_handshake(loop, contexts, tls_to("localhost", peer.peer.port(), peer.ca()));
  EXPECT_FALSE(by_name) << by_name.message;
  EXPECT_EQ(contexts.size(), 1u) << "one context per (CA file, verify)";
}

TEST(Connection, TlsVerifiesAnIpv6LiteralAgainstTheCertificatesIpSan) {
  PkiPeer peer({"--host", "::1"});
  TestLoop loop;
  TlsContextCache contexts;
  Error error = tls_handshake(loop, contexts, tls_to("[::1]", peer.peer.port(), peer.ca()));
  EXPECT_FALSE(error) << error.message;
}

TEST(Connection, TlsRejectsAHostTheCertificateDoesNotName) {
  // The self-signed certificate names only IP 127.0.0.1; "localhost" is not in it.
  TlsPeer peer("io_peer.py");
  TestLoop loop;
  TlsContextCache contexts;
  Error error = tls_handshake(loop, contexts, tls_to("localhost", peer.peer.port(), peer.ca_file()));
  EXPECT_EQ(error.kind, ErrorKind::tls_verify) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find(X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH)), std::string::npos)
      << error.message;
}

TEST(Connection, CaFileReplacesTheSystemStore) {
  PkiPeer peer;
  TestLoop loop;
  // The "system store" (OpenSSL's default paths honour SSL_CERT_FILE) trusts the right CA...
  ScopedEnv system_store("SSL_CERT_FILE", peer.ca());
  {
    TlsContextCache contexts;
    Error trusted = tls_handshake(loop, contexts, tls_to("127.0.0.1", peer.peer.port(), ""));
    EXPECT_FALSE(trusted) << "the system store is not used without a CA file: " << trusted.message;
  }
  // ...but a CA file given explicitly is the only trust: the system store no longer counts.
  TlsContextCache contexts;
  Error error = tls_handshake(loop, contexts, tls_to("127.0.0.1", peer.peer.port(), peer.other_ca()));
  EXPECT_EQ(error.kind, ErrorKind::tls_verify) << error_kind_name(error.kind) << ": " << error.message;
}

TEST(Connection, VerifyFalseAcceptsAnUntrustedCertificate) {
  PkiPeer peer;
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = tls_to("127.0.0.1", peer.peer.port(), peer.other_ca());
  options.tls.verify = false;
  Error error = tls_handshake(loop, contexts, options);
  EXPECT_FALSE(error) << error.message;
}

TEST(Connection, AnUnloadableCaFileIsAVerifyError) {
  TempDir dir;
  TestLoop loop;
  TlsContextCache contexts;
  RefusingPort refusing;  // bound, never listening: connects are refused, the port stays ours
  Error error = expect_failure(loop, &contexts, tls_to("127.0.0.1", refusing.port(), dir.path + "/missing.pem"));
  EXPECT_EQ(error.kind, ErrorKind::tls_verify) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find("missing.pem"), std::string::npos) << error.message;
}

TEST(Connection, AnUnknownNameIsADnsError) {
  TestLoop loop;
  TlsContextCache contexts;
  Error error = expect_failure(loop, &contexts, plain_to("tidewire-no-such-host.invalid", 80));
  EXPECT_EQ(error.kind, ErrorKind::dns) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find("tidewire-no-such-host.invalid"), std::string::npos) << error.message;
}

TEST(Connection, ARefusedPortIsAConnectErrorEvenForTls) {
  TestLoop loop;
  TlsContextCache contexts;
  RefusingPort refusing;
  int port = refusing.port();
  Error plain = expect_failure(loop, &contexts, plain_to("127.0.0.1", port));
  EXPECT_EQ(plain.kind, ErrorKind::connect) << error_kind_name(plain.kind) << ": " << plain.message;
  EXPECT_EQ(plain.message, "could not connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
  ConnectOptions options = plain_to("127.0.0.1", port);
  options.tls.enabled = true;
  Error tls = expect_failure(loop, &contexts, options);
  EXPECT_EQ(tls.kind, ErrorKind::connect) << error_kind_name(tls.kind) << ": " << tls.message;
}

TEST(Connection, AConnectThatNeverCompletesTimesOut) {
  UnansweredEndpoint listener;
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("127.0.0.1", listener.port());
  options.connect_timeout_ms = 300;
  uint64_t start = uv_now(loop.get());
  Error error = expect_failure(loop, &contexts, options, 5000);
  EXPECT_EQ(error.kind, ErrorKind::timeout) << error_kind_name(error.kind) << ": " << error.message;
  uv_update_time(loop.get());
  EXPECT_GE(uv_now(loop.get()) - start, 290u);
}

TEST(Connection, ATlsHandshakeThatNeverCompletesTimesOut) {
  // A peer that accepts and says nothing: the timeout covers the TLS handshake too.
  Peer peer(peer_script("io_peer.py"));  // speaks HTTP, not TLS: it waits for a request head forever
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("127.0.0.1", peer.port());
  options.tls.enabled = true;
  options.tls.verify = false;
  options.connect_timeout_ms = 300;
  Error error = expect_failure(loop, &contexts, options, 5000);
  EXPECT_EQ(error.kind, ErrorKind::timeout) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find("TLS handshake"), std::string::npos) << error.message;
}

TEST(Connection, ThroughAConnectProxyPlain) {
  Peer peer(peer_script("io_peer.py"));
  Peer proxy(peer_script("connect_proxy.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("127.0.0.1", peer.port());
  options.proxy_host = "127.0.0.1";
  options.proxy_port = static_cast<uint16_t>(proxy.port());
  Exchange exchange;
  run_get(loop, contexts, options, "/bytes?n=100000", &exchange);
  ASSERT_FALSE(exchange.recorder.closed) << exchange.recorder.error.message;
  EXPECT_TRUE(exchange.body == expected_body(100000));
  EXPECT_EQ(exchange.connection->peer_address(), "127.0.0.1:" + std::to_string(proxy.port()));
  exchange.connection->close();
  EXPECT_EQ(http_get(proxy.port(), "/_count").body, "1\n127.0.0.1:" + std::to_string(peer.port()));
}

TEST(Connection, ThroughAConnectProxyWithTls) {
  TlsPeer peer("io_peer.py");
  Peer proxy(peer_script("connect_proxy.py"));
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = tls_to("127.0.0.1", peer.peer.port(), peer.ca_file());
  options.proxy_host = "127.0.0.1";
  options.proxy_port = static_cast<uint16_t>(proxy.port());
  Exchange exchange;
  run_get(loop, contexts, options, "/bytes?n=300000", &exchange);
  ASSERT_FALSE(exchange.recorder.closed) << exchange.recorder.error.message;
  EXPECT_TRUE(exchange.body == expected_body(300000));
  exchange.connection->close();
  EXPECT_EQ(http_get(proxy.port(), "/_count").body.substr(0, 2), "1\n");
}

TEST(Connection, AProxyRefusingConnectIsAProxyErrorNamingItsStatus) {
  Peer proxy(peer_script("connect_proxy.py"));  // answers 502 when it cannot reach the target
  TestLoop loop;
  TlsContextCache contexts;
  RefusingPort refusing;
  ConnectOptions options = plain_to("127.0.0.1", refusing.port());
  options.tls.enabled = true;  // still a proxy error: TLS never started
  options.proxy_host = "127.0.0.1";
  options.proxy_port = static_cast<uint16_t>(proxy.port());
  Error error = expect_failure(loop, &contexts, options);
  EXPECT_EQ(error.kind, ErrorKind::proxy) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find("502 Bad Gateway"), std::string::npos) << error.message;
}

// A proxy on 127.0.0.1 that accepts one connection, reads the request head, answers with `answer`
// and keeps the connection open until destroyed.
class ScriptedProxy {
 public:
  explicit ScriptedProxy(std::string answer) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listen_fd_, 1);
    socklen_t length = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, answer = std::move(answer)] {
      client_fd_ = ::accept(listen_fd_, nullptr, nullptr);
      if (client_fd_ < 0) return;
      char buffer[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(client_fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        request_.append(buffer, static_cast<size_t>(n));
      }
      ::send(client_fd_, answer.data(), answer.size(), MSG_NOSIGNAL);
    });
  }
  ~ScriptedProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // unblocks accept() if nobody came
    thread_.join();
    if (client_fd_ >= 0) ::close(client_fd_);
    ::close(listen_fd_);
  }
  uint16_t port() const { return static_cast<uint16_t>(port_); }
  // Valid once the connection has settled (the answer is only sent after the whole head was read).
  const std::string& request() const { return request_; }

 private:
  int listen_fd_ = -1;
  int client_fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(Connection, ConnectAnswerAfterAnInformationalHeadOpensTheTunnelWithTheBytesThatFollowed) {
  ScriptedProxy proxy("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\nfirst tunnel bytes");
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("2001:db8::7", 8443);  // never dialled: the proxy answers itself
  options.proxy_host = "127.0.0.1";
  options.proxy_port = proxy.port();
  Recorder recorder;
  Connection* connection = Connection::open(loop.get(), options, &contexts, &recorder);
  ASSERT_TRUE(loop.run_until([&] { return recorder.data.size() >= 18 || recorder.closed; }));
  EXPECT_TRUE(recorder.opened) << recorder.error.message;
  EXPECT_EQ(recorder.data, "first tunnel bytes");
  EXPECT_EQ(proxy.request(), "CONNECT [2001:db8::7]:8443 HTTP/1.1\r\nHost: [2001:db8::7]:8443\r\n\r\n");
  connection->close();
}

TEST(Connection, AProxysReasonPhraseReachesTheErrorSanitizedAndItsOtherBytesNever) {
  ScriptedProxy proxy("HTTP/1.1 407 Who \xff\xfe are you\r\nX-Secret: do-not-show\r\nContent-Length: 4\r\n\r\nbody");
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("example.test", 443);
  options.proxy_host = "127.0.0.1";
  options.proxy_port = proxy.port();
  Error error = expect_failure(loop, &contexts, options);
  EXPECT_EQ(error.kind, ErrorKind::proxy) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_EQ(error.message, "proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                               " refused CONNECT to example.test:443: 407 Who ?? are you");
}

TEST(Connection, AProxyAnswerLargerThan16KiBIsAProxyErrorWithoutItsBytes) {
  ScriptedProxy proxy("HTTP/1.1 200 OK\r\nX-Filler: " + std::string(20 * 1024, 'f') + "\r\n\r\n");
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("example.test", 443);
  options.proxy_host = "127.0.0.1";
  options.proxy_port = proxy.port();
  Error error = expect_failure(loop, &contexts, options);
  EXPECT_EQ(error.kind, ErrorKind::proxy) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find("16384"), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("fff"), std::string::npos) << error.message;
}

TEST(Connection, AHostThatWouldForgeTheConnectRequestIsRefusedBeforeDialling) {
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("example.test\r\nX-Injected: 1", 443);
  options.proxy_host = "127.0.0.1";
  RefusingPort refusing;
  options.proxy_port = static_cast<uint16_t>(refusing.port());
  Error error = expect_failure(loop, &contexts, options);
  EXPECT_EQ(error.kind, ErrorKind::dns) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_EQ(error.message.find("X-Injected"), std::string::npos) << error.message;
}

TEST(Connection, AnUnreachableProxyIsAConnectError) {
  TestLoop loop;
  TlsContextCache contexts;
  ConnectOptions options = plain_to("127.0.0.1", 80);
  options.proxy_host = "127.0.0.1";
  RefusingPort refusing;
  options.proxy_port = static_cast<uint16_t>(refusing.port());
  Error error = expect_failure(loop, &contexts, options);
  EXPECT_EQ(error.kind, ErrorKind::connect) << error_kind_name(error.kind) << ": " << error.message;
  EXPECT_NE(error.message.find("proxy"), std::string::npos) << error.message;
}

// Pausing stops on_data; resuming delivers the rest intact (under TLS, including what OpenSSL had
// already buffered when reading paused).
void pause_and_resume(bool tls) {
  std::unique_ptr<TlsPeer> tls_peer;
  std::unique_ptr<Peer> plain_peer;
  ConnectOptions options;
  if (tls) {
    tls_peer = std::make_unique<TlsPeer>("io_peer.py");
    options = tls_to("127.0.0.1", tls_peer->peer.port(), tls_peer->ca_file());
  } else {
    plain_peer = std::make_unique<Peer>(peer_script("io_peer.py"));
    options = plain_to("127.0.0.1", plain_peer->port());
  }
  TestLoop loop;
  TlsContextCache contexts;
  const size_t size = 4 * 1024 * 1024;
  Exchange exchange;
  exchange.recorder.open_hook = [&] { exchange.connection->write(get_request("/bytes?n=" + std::to_string(size))); };
  exchange.recorder.data_hook = [&](const char*, size_t) {
    if (exchange.recorder.data_calls == 1) exchange.connection->pause_reading();
  };
  exchange.connection = Connection::open(loop.get(), options, &contexts, &exchange.recorder);
  ASSERT_TRUE(loop.run_until([&] { return exchange.recorder.data_calls > 0 || exchange.recorder.closed; }));
  ASSERT_FALSE(exchange.recorder.closed) << exchange.recorder.error.message;
  EXPECT_TRUE(exchange.connection->reading_paused());
  size_t received = exchange.recorder.data.size();
  loop.run_for(300);  // nothing may arrive while paused
  EXPECT_EQ(exchange.recorder.data_calls, 1u);
  EXPECT_EQ(exchange.recorder.data.size(), received);
  exchange.connection->resume_reading();
  ASSERT_TRUE(loop.run_until([&] { return response_complete(exchange.recorder.data, &exchange.body); }));
  EXPECT_TRUE(exchange.body == expected_body(size)) << "body corrupted across pause/resume";
  exchange.connection->close();
}

TEST(Connection, PauseAndResumeReadingPlain) { pause_and_resume(false); }
TEST(Connection, PauseAndResumeReadingTls) { pause_and_resume(true); }

TEST(Connection, ClosingFromInsideCallbacksIsSafeAndSilent) {
  TlsPeer tls_peer("io_peer.py");
  Peer plain_peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  const std::vector<ConnectOptions> targets{plain_to("127.0.0.1", plain_peer.port()),
                                            tls_to("127.0.0.1", tls_peer.peer.port(), tls_peer.ca_file())};
  for (const ConnectOptions& options : targets) {
    // From inside on_data, in the middle of a large response.
    Exchange in_data;
    in_data.recorder.open_hook = [&] { in_data.connection->write(get_request("/bytes?n=8000000")); };
    in_data.recorder.data_hook = [&](const char*, size_t) { in_data.connection->close(); };
    in_data.connection = Connection::open(loop.get(), options, &contexts, &in_data.recorder);
    // From inside on_open.
    Recorder in_open;
    Connection* opened = nullptr;
    in_open.open_hook = [&] { opened->close(); };
    opened = Connection::open(loop.get(), options, &contexts, &in_open);
    ASSERT_TRUE(loop.run_until([&] { return in_data.recorder.data_calls > 0 && in_open.opened; }));
    // Both objects go once libuv has released their sockets; no callback comes after close().
    ASSERT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
    EXPECT_EQ(in_data.recorder.data_calls, 1u);
    EXPECT_FALSE(in_data.recorder.closed);
    EXPECT_FALSE(in_open.closed);
    EXPECT_EQ(in_open.data_calls, 0u);
  }
}

TEST(Connection, ClosingWhileResolvingOrConnectingIsSilent) {
  UnansweredEndpoint listener;
  TestLoop loop;
  TlsContextCache contexts;
  Recorder resolving;
  Recorder connecting;
  Connection::open(loop.get(), plain_to("localhost", 80), &contexts, &resolving)->close();
  Connection* pending = Connection::open(loop.get(), plain_to("127.0.0.1", listener.port()), &contexts, &connecting);
  loop.run_for(50);
  pending->close();
  ASSERT_TRUE(loop.run_until([&] { return loop.tcp_handles() == 0; }, 5000));
  EXPECT_FALSE(resolving.opened || resolving.closed);
  EXPECT_FALSE(connecting.opened || connecting.closed);
}

TEST(Connection, PeerClosingIsReportedAsClosedByPeerAndWritesBeforeOpenAreRefused) {
  // (After on_close the object is gone: nothing is asked of it then.)
  Peer peer(peer_script("io_peer.py"));
  TestLoop loop;
  TlsContextCache contexts;
  Exchange exchange;
  exchange.recorder.open_hook = [&] { exchange.connection->write(get_request("/bytes?n=10&close=1")); };
  exchange.connection = Connection::open(loop.get(), plain_to("127.0.0.1", peer.port()), &contexts, &exchange.recorder);
  EXPECT_FALSE(exchange.connection->write("too early"));
  ASSERT_TRUE(loop.run_until([&] { return exchange.recorder.closed; }));
  EXPECT_EQ(exchange.recorder.error.kind, ErrorKind::closed_by_peer) << exchange.recorder.error.message;
  EXPECT_TRUE(response_complete(exchange.recorder.data, &exchange.body));
  EXPECT_EQ(exchange.body, expected_body(10));
}


// Counts on_drained, which must come from the loop, never from inside write().
struct DrainRecorder : Recorder {
  size_t drained = 0;
  void on_drained() override { ++drained; }
};

// A listener on 127.0.0.1 whose one accepted connection is read only once `start` is set, so that
// writes meet a full socket; it checks the bytes against expected_body's pattern as they come.
class SlowReader {
 public:
  explicit SlowReader(size_t expected) : expected_(expected) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~SlowReader() {
    start = true;
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  size_t received() const { return received_; }
  bool intact() const { return intact_; }

  std::atomic<bool> start{false};

 private:
  void run() {
    // Every wait is bounded: the test's own deadline decides, this thread never hangs it.
    pollfd listening{listener_, POLLIN, 0};
    while (!stop_ && ::poll(&listening, 1, 20) == 0) {
    }
    if (stop_) return;
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    while (!start && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    static char buffer[64 * 1024];
    pollfd readable{fd, POLLIN, 0};
    while (received_ < expected_ && !stop_) {
      if (::poll(&readable, 1, 20) <= 0) continue;
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i)
        if (buffer[i] != static_cast<char>('a' + (received_ + static_cast<size_t>(i)) % 26)) intact_ = false;
      received_ += static_cast<size_t>(n);
    }
    // Open until the test is done with its connection: a close now would end it under the test.
    while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ::close(fd);
  }

  size_t expected_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> received_{0};
  std::atomic<bool> intact_{true};
  std::thread thread_;
};

TEST(Connection, AWholeWriteIsFollowedByOnDrainedFromTheLoop) {
  SlowReader reader(10);
  reader.start = true;
  TestLoop loop;
  TlsContextCache contexts;
  DrainRecorder recorder;
  Connection* connection = open_connection(loop, contexts, plain_to("127.0.0.1", reader.port()), &recorder);
  ASSERT_NE(connection, nullptr);
  const std::string bytes = expected_body(10);
  ASSERT_TRUE(connection->write(bytes.data(), bytes.size()));
  EXPECT_EQ(connection->queued_write_bytes(), 0u) << "ten bytes fit an empty socket at once";
  EXPECT_EQ(recorder.drained, 0u) << "on_drained from inside write()";
  EXPECT_TRUE(loop.run_until([&] { return recorder.drained == 1; }, 5000));
  EXPECT_TRUE(loop.run_until([&] { return reader.received() == 10; }, 5000));
  EXPECT_TRUE(reader.intact());
  connection->close();
}

TEST(Connection, WritesAFullSocketCannotTakeAreQueuedInOrderAndDrain) {
  // More than loopback's socket buffers hold, so the first write is taken only in part and the rest
  // (and everything written after it) waits in libuv's queue, behind it.
  constexpr size_t kFirst = 48u << 20;
  constexpr size_t kSecond = 1u << 20;
  SlowReader reader(kFirst + kSecond + 5);
  TestLoop loop;
  TlsContextCache contexts;
  DrainRecorder recorder;
  Connection* connection = open_connection(loop, contexts, plain_to("127.0.0.1", reader.port()), &recorder);
  ASSERT_NE(connection, nullptr);
  const std::string all = expected_body(kFirst + kSecond + 5);
  ASSERT_TRUE(connection->write(all.data(), kFirst));
  EXPECT_GT(connection->queued_write_bytes(), 0u) << "the socket took 48 MiB unread";
  ASSERT_TRUE(connection->write(all.substr(kFirst, kSecond)));
  ASSERT_TRUE(connection->write(all.data() + kFirst + kSecond, 5));
  EXPECT_EQ(recorder.drained, 0u);
  reader.start = true;
  ASSERT_TRUE(loop.run_until([&] { return connection->queued_write_bytes() == 0 && recorder.drained > 0; }, 20000));
  ASSERT_TRUE(loop.run_until([&] { return reader.received() == all.size(); }, 20000));
  EXPECT_TRUE(reader.intact()) << "bytes out of order or altered";
  EXPECT_FALSE(recorder.closed) << recorder.error.message;
  connection->close();
}

}  // namespace
}  // namespace tidewire::detail::io::test
