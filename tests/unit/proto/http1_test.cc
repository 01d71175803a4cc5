// HTTP/1.1 client layer: request bytes, response events, redirect decisions — bytes only, no socket.
#include "proto/http1.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error.h"

namespace tidewire::detail::http1 {
namespace {

// ---------------------------------------------------------------------------------------------
// Request writer

Request get(std::string target = "/") {
  Request r;
  r.target = std::move(target);
  r.host = "example.com:8080";
  return r;
}

std::string error_of(const Request& request) {
  try {
    write_request(request, std::nullopt);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
    return e.what();
  }
  return "(no error)";
}

TEST(Http1Writer, GetWithoutBodyHasHostAndNoFraming) {
  Request r = get("/feed?since=4");
  r.headers = {{"Accept", "text/event-stream"}, {"X-Two", "a"}, {"X-Two", "b"}};
  EXPECT_EQ(write_request(r, std::nullopt),
            "GET /feed?since=4 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: text/event-stream\r\n"
            "X-Two: a\r\nX-Two: b\r\n\r\n");
}

TEST(Http1Writer, KeepAliveIsHttp11sDefaultSoNoConnectionHeaderUnlessAsked) {
  EXPECT_EQ(write_request(get(), std::nullopt).find("Connection"), std::string::npos);
  Request r = get();
  r.headers = {{"Connection", "close"}};
  EXPECT_NE(write_request(r, std::nullopt).find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(Http1Writer, BodyGoesAfterItsContentLength) {
  Request r = get("/hook");
  r.method = "POST";
  EXPECT_EQ(write_request(r, std::string_view("{\"a\":1}")),
            "POST /hook HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  EXPECT_EQ(write_request(r, std::string_view()),
            "POST /hook HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 0\r\n\r\n");
}

TEST(Http1Writer, AnyTokenIsAMethod) {
  for (const char* method : {"GET", "HEAD", "DELETE", "PROPFIND", "M-SEARCH", "x~y!#$%&'*+.^_`|"}) {
    Request r = get();
    r.method = method;
    EXPECT_EQ(write_request(r, std::nullopt).rfind(std::string(method) + " / HTTP/1.1\r\n", 0), 0u) << method;
  }
}

TEST(Http1Writer, MethodThatIsNotATokenIsRefused) {
  for (const char* method : {"", "GET ", "G(ET", "GE\rT", "GÉT", "G:T"}) {
    Request r = get();
    r.method = method;
    EXPECT_NE(error_of(r).find("method"), std::string::npos) << method;
  }
}

TEST(Http1Writer, TargetWithSpaceOrControlOrNotOriginFormIsRefused) {
  for (std::string target : {std::string(""), std::string("feed"), std::string("/a b"), std::string("/a\r\nX: y"),
                             std::string("/a\x7f"), std::string("/a\0b", 4), std::string("/\t")}) {
    EXPECT_NE(error_of(get(target)).find("target"), std::string::npos);
  }
}

TEST(Http1Writer, BadHostIsRefused) {
  for (const char* host : {"", "a b", "a\r\nX: y"}) {
    Request r = get();
    r.host = host;
    EXPECT_NE(error_of(r).find("Host"), std::string::npos) << host;
  }
}

TEST(Http1Writer, HeaderNameThatIsNotATokenIsRefused) {
  for (const char* name : {"", "X Y", "X:", "X\r\nY", "(X)"}) {
    Request r = get();
    r.headers = {{name, "v"}};
    EXPECT_NE(error_of(r).find("header name"), std::string::npos) << name;
  }
}

TEST(Http1Writer, HeaderInjectionIsRefusedNamingTheHeaderWithoutItsValue) {
  for (std::string value : {std::string("s3cr3t\r\nX-Evil: 1"), std::string("s3cr3t\nX"), std::string("s3cr3t\rX"),
                            std::string("s3cr3t\0X", 8)}) {
    Request r = get();
    r.headers = {{"Authorization", value}};
    const std::string message = error_of(r);
    EXPECT_NE(message.find("Authorization"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  }
}

TEST(Http1Writer, FramingHeadersBelongToTheWriter) {
  for (const char* name : {"Host", "content-length", "Transfer-Encoding"}) {
    Request r = get();
    r.headers = {{name, "1"}};
    EXPECT_NE(error_of(r).find(name), std::string::npos) << name;
  }
}

TEST(Http1Writer, ChunkedUploadWhenTheLengthIsUnknown) {
  Request r = get("/upload");
  r.method = "PUT";
  EXPECT_EQ(write_chunked_request_head(r),
            "PUT /upload HTTP/1.1\r\nHost: example.com:8080\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(write_chunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(write_chunk(std::string(300, 'x')), "12c\r\n" + std::string(300, 'x') + "\r\n");
  EXPECT_EQ(write_chunk(""), "");  // an empty chunk would end the body
  EXPECT_EQ(write_last_chunk(), "0\r\n\r\n");
  r.headers = {{"X", "a\r\n"}};
  EXPECT_THROW(write_chunked_request_head(r), Error);
}

TEST(Http1Writer, ConnectUsesTheAuthorityFormForTargetAndHost) {
  EXPECT_EQ(write_connect_request("example.com", 443),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(write_connect_request("example.com", 8443, {{"Proxy-Authorization", "Basic eA=="}}),
            "CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com:8443\r\nProxy-Authorization: Basic eA==\r\n\r\n");
}

TEST(Http1Writer, ConnectBracketsIpv6LiteralsGivenWithOrWithoutBrackets) {
  const std::string expected = "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n";
  EXPECT_EQ(write_connect_request("2001:db8::1", 443), expected);
  EXPECT_EQ(write_connect_request("[2001:db8::1]", 443), expected);
  EXPECT_EQ(write_connect_request("192.0.2.7", 80), "CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n");
}

TEST(Http1Writer, ConnectRefusesAHostThatCouldForgeTheRequest) {
  for (const char* host : {"", "evil.test\r\nX-Injected: 1", "evil.test\n", "a b", "a\tb", "a\x7f", "[]",
                           "user@evil.test", "evil.test/path", "[::1]]", "a?b"}) {
    try {
      write_connect_request(host, 443);
      ADD_FAILURE() << "accepted host \"" << host << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
      EXPECT_EQ(std::string(e.what()).find("X-Injected"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(write_connect_request(std::string("a\0b", 3), 443), Error);
  EXPECT_THROW(write_connect_request("example.com", 0), Error);
}

TEST(Http1Writer, ConnectChecksHeadersLikeAnyRequest) {
  EXPECT_THROW(write_connect_request("example.com", 443, {{"Host", "other"}}), Error);
  EXPECT_THROW(write_connect_request("example.com", 443, {{"X", "a\r\nY: b"}}), Error);
  EXPECT_THROW(write_connect_request("example.com", 443, {{"Bad Name", "v"}}), Error);
}

TEST(Http1Writer, PrintableReasonKeepsPrintableAsciiOnlyAndIsBounded) {
  EXPECT_EQ(printable_reason("Bad Gateway"), "Bad Gateway");
  EXPECT_EQ(printable_reason("x\r\nFAKE LOG LINE\x1b[2J\xc3\xa9"), "x??FAKE LOG LINE?[2J??");
  EXPECT_EQ(printable_reason(std::string(100, 'a'), 10), std::string(10, 'a') + "...");
  EXPECT_EQ(printable_reason(std::string(10, 'a'), 10), std::string(10, 'a'));
  EXPECT_EQ(printable_reason(""), "");
}

// ---------------------------------------------------------------------------------------------
// Response reader: events recorded as text, consecutive body pieces merged (how the body is cut
// into calls follows the slicing; the bytes must not).

struct Recorder : ResponseSink {
  std::vector<std::string> events;
  std::string upgrade_view;

  void on_head(const ResponseHead& head) override {
    std::string e = "head " + std::to_string(head.status) + " 1." + std::to_string(head.http_minor) + " " + head.reason;
    for (const Header& h : head.headers) e += "|" + h.name + "=" + h.value;
    events.push_back(e);
  }
  void on_body(std::string_view data) override {
    if (!events.empty() && events.back().rfind("body ", 0) == 0)
      events.back().append(data);
    else
      events.push_back("body " + std::string(data));
  }
  void on_end(const ResponseEnd& end) override {
    std::string e = std::string("end keep-alive=") + (end.keep_alive ? "1" : "0");
    for (const Header& h : end.trailers) e += "|" + h.name + "=" + h.value;
    events.push_back(e);
  }
  void on_upgrade(std::string_view after_head) override {
    upgrade_view = std::string(after_head);
    events.push_back("upgrade");
  }
  void on_error(const ResponseError& error) override {
    static const char* kinds[] = {"malformed", "limit", "cut", "closed_early", "unsolicited"};
    events.push_back(std::string("error ") + kinds[static_cast<int>(error.kind)] + " " + err_name(error.code) + " " +
                     error.message);
  }
};

struct Options {
  ResponseLimits limits;
  bool head_request = false;
  bool connect_request = false;
  bool eof = true;
};

// Feeds `input` cut at `cuts` (increasing offsets), then eof(); bytes that the reader leaves to a new
// protocol (after a 101) are collected as a final "tunnel" event.
std::vector<std::string> read_response(std::string_view input, const std::vector<size_t>& cuts, const Options& o = {}) {
  Recorder sink;
  ResponseReader reader(sink, o.limits);
  reader.set_head_request(o.head_request);
  reader.set_connect_request(o.connect_request);
  std::string tunnel;
  bool upgraded = false;
  size_t start = 0;
  auto slice = [&](size_t end) {
    const std::string piece(input.substr(start, end - start));  // a copy: spans must not outlive it
    start = end;
    if (upgraded) return tunnel.append(piece), void();
    const size_t used = reader.feed(piece.data(), piece.size());
    if (reader.upgraded()) {
      upgraded = true;
      EXPECT_EQ(sink.upgrade_view, piece.substr(used));
      tunnel.append(piece.substr(used));
    } else if (!reader.failed()) {
      EXPECT_EQ(used, piece.size());
    }
  };
  for (size_t cut : cuts) slice(cut);
  slice(input.size());
  if (o.eof && !upgraded) reader.eof();
  if (upgraded) sink.events.push_back("tunnel " + tunnel);
  return sink.events;
}

std::vector<std::string> read_whole(std::string_view input, const Options& o = {}) { return read_response(input, {}, o); }

using Events = std::vector<std::string>;

TEST(Http1Reader, ContentLengthBody) {
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
            (Events{"head 200 1.1 OK|Content-Length=5|Content-Type=text/plain", "body hello", "end keep-alive=1"}));
}

TEST(Http1Reader, EndIsReportedWithoutWaitingForEof) {
  Recorder sink;
  ResponseReader reader(sink);
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  EXPECT_EQ(reader.feed(response.data(), response.size()), response.size());
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(sink.events.back(), "end keep-alive=1");
}

TEST(Http1Reader, BodySpansPointIntoTheFedSlice) {
  struct Spans : ResponseSink {
    std::vector<std::string_view> spans;
    void on_head(const ResponseHead&) override {}
    void on_body(std::string_view data) override { spans.push_back(data); }
    void on_end(const ResponseEnd&) override {}
    void on_upgrade(std::string_view) override {}
    void on_error(const ResponseError&) override {}
  } sink;
  ResponseReader reader(sink);
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  reader.feed(response.data(), response.size());
  ASSERT_EQ(sink.spans.size(), 1u);
  EXPECT_EQ(sink.spans[0].data(), response.data() + response.size() - 5);  // no copy
}

TEST(Http1Reader, ChunkedBodyWithExtensionsAndTrailers) {
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                       "5;ext=1\r\nhello\r\n"
                       "7;a;b=\"q v\"\r\n, world\r\n"
                       "0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n"),
            (Events{"head 200 1.1 OK|Transfer-Encoding=chunked|Trailer=X-Sum", "body hello, world",
                    "end keep-alive=1|X-Sum=42|X-Other=y"}));
}

TEST(Http1Reader, BodyUntilCloseEndsAtEof) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
  EXPECT_EQ(read_whole(response),
            (Events{"head 200 1.1 OK|Content-Type=text/plain", "body all of it", "end keep-alive=0"}));
  Options no_eof;
  no_eof.eof = false;
  EXPECT_EQ(read_whole(response, no_eof), (Events{"head 200 1.1 OK|Content-Type=text/plain", "body all of it"}));
}

TEST(Http1Reader, InformationalResponsesAreSkipped) {
  EXPECT_EQ(read_whole("HTTP/1.1 100 Continue\r\n\r\n"
                       "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            (Events{"head 200 1.1 OK|Content-Length=2", "body ok", "end keep-alive=1"}));
}

TEST(Http1Reader, SwitchingProtocolsStopsAtTheEndOfTheHead) {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  const std::string frames("\x81\x02hi\x88\x00", 6);
  Recorder sink;
  ResponseReader reader(sink);
  const std::string slice = head + frames;
  EXPECT_EQ(reader.feed(slice.data(), slice.size()), head.size());
  EXPECT_TRUE(reader.upgraded());
  EXPECT_EQ(sink.upgrade_view, frames);
  EXPECT_EQ(sink.events, (Events{"head 101 1.1 Switching Protocols|Upgrade=websocket|Connection=Upgrade|"
                                 "Sec-WebSocket-Accept=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                                 "upgrade"}));
  EXPECT_EQ(reader.feed(frames.data(), frames.size()), 0u);  // the new protocol's bytes are not HTTP
  reader.eof();
  EXPECT_EQ(sink.events.size(), 2u);
}

TEST(Http1Reader, SwitchingProtocolsWithNothingAfterTheHead) {
  EXPECT_EQ(read_whole("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
            (Events{"head 101 1.1 Switching Protocols|Upgrade=websocket", "upgrade", "tunnel "}));
}

TEST(Http1Reader, ConnectAnsweredWith2xxOpensTheTunnel) {
  Options connect;
  connect.connect_request = true;
  EXPECT_EQ(read_whole("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", connect),
            (Events{"head 200 1.1 Connection established", "upgrade", "tunnel \x16\x03\x01"}));
  EXPECT_EQ(read_whole("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 1\r\n\r\nx", connect),
            (Events{"head 407 1.1 Proxy Authentication Required|Content-Length=1", "body x", "end keep-alive=1"}));
}

TEST(Http1Reader, ConnectAnswerAfterInformationalHeadsHandsOverTheTunnelBytesOfTheSameSlice) {
  Options connect;
  connect.connect_request = true;
  const std::string answer =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n";
  const std::string tunnel("\x16\x03\x03\x00\x02hi", 7);
  const Events expected{"head 200 1.1 Connection established|Via=1.1 proxy", "upgrade", "tunnel " + tunnel};
  EXPECT_EQ(read_whole(answer + tunnel, connect), expected);
  for (size_t cut = 1; cut < answer.size() + tunnel.size(); cut++)
    EXPECT_EQ(read_response(answer + tunnel, {cut}, connect), expected) << "cut at " << cut;
}

TEST(Http1Reader, NoContentAndNotModifiedHaveNoBodyWhateverTheHeadersSay) {
  EXPECT_EQ(read_whole("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", {}),
            (Events{"head 204 1.1 No Content|Content-Length=5", "end keep-alive=1"}));
  EXPECT_EQ(read_whole("HTTP/1.1 304 Not Modified\r\nETag: \"v2\"\r\nTransfer-Encoding: chunked\r\n\r\n"),
            (Events{"head 304 1.1 Not Modified|ETag=\"v2\"|Transfer-Encoding=chunked", "end keep-alive=1"}));
  EXPECT_EQ(read_whole("HTTP/1.1 204 No Content\r\n\r\n"), (Events{"head 204 1.1 No Content", "end keep-alive=1"}));
}

TEST(Http1Reader, ResponseToHeadHasNoBody) {
  Options head;
  head.head_request = true;
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", head),
            (Events{"head 200 1.1 OK|Content-Length=1000", "end keep-alive=1"}));
  // Without saying so, the same bytes are a response cut in its body.
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").back(),
            "error cut TW_ERR_IO the connection closed before the end of the HTTP response body");
}

TEST(Http1Reader, EveryHeaderInOrderWithRepeatsAndCaseKept) {
  Recorder sink;
  ResponseReader reader(sink);
  struct Keep : Recorder {
    ResponseHead head;
    void on_head(const ResponseHead& h) override { head = h; }
  } keep;
  ResponseReader r2(keep);
  const std::string response =
      "HTTP/1.1 200 Fine Thanks\r\nSet-Cookie: a=1\r\nx-custom: one\r\nSet-Cookie: b=2\r\nEmpty:\r\n"
      "Spaced:   padded value  \r\nContent-Length: 0\r\n\r\n";
  r2.feed(response.data(), response.size());
  ASSERT_EQ(keep.head.headers.size(), 6u);
  EXPECT_EQ(keep.head.reason, "Fine Thanks");
  EXPECT_EQ(keep.head.headers[0].name, "Set-Cookie");
  EXPECT_EQ(keep.head.headers[0].value, "a=1");
  EXPECT_EQ(keep.head.headers[1].name, "x-custom");
  EXPECT_EQ(keep.head.headers[2].value, "b=2");
  EXPECT_EQ(keep.head.headers[3].name, "Empty");
  EXPECT_EQ(keep.head.headers[3].value, "");
  EXPECT_EQ(keep.head.headers[4].value.rfind("padded value", 0), 0u);
  ASSERT_NE(keep.head.find("X-CUSTOM"), nullptr);
  EXPECT_EQ(*keep.head.find("X-CUSTOM"), "one");
  EXPECT_EQ(*keep.head.find("set-cookie"), "a=1");  // the first of repeated fields
  EXPECT_EQ(keep.head.find("missing"), nullptr);
}

TEST(Http1Reader, ValuesLoseTrailingBlanksAndFoldedLinesTheirLineBreak) {
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nETag:  \"v1\" \t\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n"),
            (Events{"head 200 1.1 OK|ETag=\"v1\"|X=a folded|Content-Length=0", "end keep-alive=1"}));
}

TEST(Http1Reader, KeepAliveDecision) {
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").back(), "end keep-alive=0");
  EXPECT_EQ(read_whole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").back(), "end keep-alive=0");
  EXPECT_EQ(read_whole("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").back(),
            "end keep-alive=1");
}

TEST(Http1Reader, ResetReadsTheNextResponseOnTheSameConnection) {
  Recorder sink;
  ResponseReader reader(sink);
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  const std::string second = "HTTP/1.1 304 Not Modified\r\n\r\n";
  reader.feed(first.data(), first.size());
  ASSERT_TRUE(reader.complete());
  reader.reset();
  reader.feed(second.data(), second.size());
  EXPECT_EQ(sink.events, (Events{"head 200 1.1 OK|Content-Length=1", "body a", "end keep-alive=1",
                                 "head 304 1.1 Not Modified", "end keep-alive=1"}));
}

TEST(Http1Reader, BytesAfterACompleteResponseAreUnsolicited) {
  const std::string unsolicited_error =
      "error unsolicited TW_ERR_PROTOCOL bytes followed the end of the HTTP response where no request was "
      "pipelined; the connection cannot be reused";
  const std::string two = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n\r\n";
  EXPECT_EQ(read_whole(two), (Events{"head 200 1.1 OK|Content-Length=1", "body a", "end keep-alive=1", unsolicited_error}));
  // The same when they arrive in a later slice without reset().
  EXPECT_EQ(read_response(two, {38}), read_whole(two));
}

TEST(Http1Reader, HeadLimitCountsEveryByteOfTheHeads) {
  const std::string head = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(100, 'p') + "\r\n\r\n";
  Options o;
  o.limits.max_header_bytes = head.size();
  EXPECT_EQ(read_whole(head + "body", o).front(), "head 200 1.1 OK|X-Pad=" + std::string(100, 'p'));
  o.limits.max_header_bytes = head.size() - 1;
  const Events refused = read_whole(head + "body", o);
  EXPECT_EQ(refused, (Events{"error limit TW_ERR_LIMIT HTTP response head larger than the limit of " +
                             std::to_string(head.size() - 1) + " bytes (max_header_bytes)"}));
  // 1xx heads count too: an endless 100 Continue cannot go on unbounded.
  std::string continues;
  for (int i = 0; i < 10; i++) continues += "HTTP/1.1 100 Continue\r\n\r\n";
  o.limits.max_header_bytes = continues.size() + head.size() - 1;
  EXPECT_EQ(read_whole(continues + head, o),
            (Events{"error limit TW_ERR_LIMIT HTTP response head larger than the limit of " +
                    std::to_string(o.limits.max_header_bytes) + " bytes (max_header_bytes)"}));
  // Blanks that no field holds count as well.
  o.limits.max_header_bytes = 1000;
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nX:" + std::string(5000, ' '), o).front().rfind("error limit", 0), 0u);
}

TEST(Http1Reader, TrailersHaveTheHeadsByteLimit) {
  Options o;
  o.limits.max_header_bytes = 64;
  const std::string trailers = "T: " + std::string(57, 't') + "\r\n\r\n";  // 64 bytes
  const std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n" + trailers;
  EXPECT_EQ(read_whole(response, o).back(), "end keep-alive=1|T=" + std::string(57, 't'));
  o.limits.max_header_bytes = 63;
  EXPECT_EQ(read_whole(response, o).back(),
            "error limit TW_ERR_LIMIT HTTP response trailers larger than the limit of 63 bytes (max_header_bytes)");
}

TEST(Http1Reader, DefaultHeadLimitIs64KiB) {
  const std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'b') + "\r\n\r\n";
  EXPECT_EQ(read_whole(big).front().rfind("error limit TW_ERR_LIMIT HTTP response head larger than the limit of 65536", 0), 0u);
}

TEST(Http1Reader, HeaderCountLimit) {
  auto with_fields = [](int n) {
    std::string r = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < n; i++) r += "X-" + std::to_string(i) + ": v\r\n";
    return r + "Content-Length: 0\r\n\r\n";
  };
  EXPECT_EQ(read_whole(with_fields(99)).back(), "end keep-alive=1");  // 100 with Content-Length
  EXPECT_EQ(read_whole(with_fields(100)),
            (Events{"error limit TW_ERR_LIMIT HTTP response head holds more than the limit of 100 header fields "
                    "(max_headers)"}));
  Options o;
  o.limits.max_headers = 2;
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", o).back(),
            "error limit TW_ERR_LIMIT HTTP response trailers hold more than the limit of 2 header fields (max_headers)");
}

TEST(Http1Reader, BodyLimitDeliversUpToTheLimitThenFails) {
  Options o;
  o.limits.max_body_bytes = 5;
  const std::string error = "error limit TW_ERR_LIMIT HTTP response body larger than the limit of 5 bytes (max_body_bytes)";
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", o).back(), "end keep-alive=1");
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello!", o),
            (Events{"head 200 1.1 OK|Content-Length=6", "body hello", error}));
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", o),
            (Events{"head 200 1.1 OK|Transfer-Encoding=chunked", "body abcde", error}));
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\n\r\n0123456789", o), (Events{"head 200 1.1 OK", "body 01234", error}));
}

TEST(Http1Reader, MalformedResponsesFail) {
  const std::vector<std::string> malformed = {
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTX/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 OK\r\n\r\n",
      "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
      "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nX : v\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n",
      std::string("HTTP/1.1 200 OK\r\nX: a") + '\0' + "b\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: 1\r\n\r\n",
  };
  for (const std::string& response : malformed) {
    const Events events = read_whole(response);
    ASSERT_FALSE(events.empty()) << response;
    EXPECT_EQ(events.back().rfind("error malformed TW_ERR_PROTOCOL malformed HTTP response: ", 0), 0u)
        << response << " -> " << events.back();
    for (const std::string& e : events) EXPECT_EQ(e.rfind("end", 0), std::string::npos) << response;
  }
}

TEST(Http1Reader, ErrorMessageNamesLlhttpsReasonAndNeverTheBytes) {
  const Events events = read_whole("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(events.back(), "error malformed TW_ERR_PROTOCOL malformed HTTP response: Duplicate Content-Length "
                           "(HPE_UNEXPECTED_CONTENT_LENGTH)");
}

TEST(Http1Reader, FailedReaderStaysFailed) {
  Recorder sink;
  ResponseReader reader(sink);
  const std::string bad = "HTTX/1.1 200 OK\r\n\r\n";
  const std::string good = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(reader.feed(bad.data(), bad.size()), 0u);
  EXPECT_TRUE(reader.failed());
  EXPECT_EQ(reader.feed(good.data(), good.size()), 0u);
  reader.eof();
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(Http1Reader, EofBeforeTheEndIsACut) {
  const std::string head_cut = "error cut TW_ERR_IO the connection closed before the end of the HTTP response head";
  const std::string body_cut = "error cut TW_ERR_IO the connection closed before the end of the HTTP response body";
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Le"), (Events{head_cut}));
  EXPECT_EQ(read_whole("HTTP/1.1 100 Continue\r\n\r\n"), (Events{head_cut}));
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"),
            (Events{"head 200 1.1 OK|Content-Length=4", "body ab", body_cut}));
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n"),
            (Events{"head 200 1.1 OK|Transfer-Encoding=chunked", "body ab", body_cut}));
  EXPECT_EQ(read_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1"),
            (Events{"head 200 1.1 OK|Transfer-Encoding=chunked", body_cut}));
  EXPECT_EQ(read_whole(""), (Events{"error closed_early TW_ERR_IO the connection closed before the HTTP response began"}));
}

// Every sample, cut at every offset and in 1-byte slices, gives the events of the unsplit run.
TEST(Http1Reader, EverySplitGivesTheSameEvents) {
  struct Sample {
    std::string bytes;
    Options options;
  };
  Options small;
  small.limits.max_header_bytes = 60;
  small.limits.max_headers = 3;
  small.limits.max_body_bytes = 7;
  Options head;
  head.head_request = true;
  std::vector<Sample> samples = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello", {}},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=\"a b\"\r\nhello\r\n1\r\n!\r\n0\r\nT: 1\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\n\r\nuntil the close", {}},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", {}},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello", {}},
      {"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", {}},
      {"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", head},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\nX-Pad: " + std::string(60, 'p') + "\r\n\r\n", small},
      {"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", small},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", small},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n0123\r\n4\r\n4567\r\n0\r\n\r\n", small},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ncut", {}},
      {"HTTP/1.1 99 Low\r\n\r\n", {}},
      {"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", {}},
      {"HTTP/1.1 200 OK\r\nETag:  \"v1\" \t\r\nX: a\r\n folded\r\n\tagain\r\nContent-Length: 0\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\nX : v\r\n\r\n", {}},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", small},
      {"HTTP/1.1 200 OK\r\nEmpty:\r\nE2: \r\nContent-Length: 0\r\n\r\n", {}},
      // A bad byte in a field name past a limit: the limit and llhttp's error must not race.
      {"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nAontent-L\xf1ngth: 1\r\n\r\n", small},
      {"HTTP/1.1 200 OK\r\nX-Long-Name-" + std::string(40, 'n') + "\xf1: 1\r\n\r\n", small},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + std::string(70, 't') + "\r\n\r\n", small},
  };
  for (const Sample& s : samples) {
    const Events whole = read_whole(s.bytes, s.options);
    ASSERT_FALSE(whole.empty()) << s.bytes;
    for (size_t cut = 1; cut < s.bytes.size(); cut++)
      ASSERT_EQ(read_response(s.bytes, {cut}, s.options), whole) << s.bytes << " cut at " << cut;
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < s.bytes.size(); i++) every_byte.push_back(i);
    ASSERT_EQ(read_response(s.bytes, every_byte, s.options), whole) << s.bytes << " in 1-byte slices";
  }
}

// ---------------------------------------------------------------------------------------------
// Redirects

TEST(Http1Redirect, RedirectStatusWithLocationIsFollowed) {
  const Url from = Url::parse("https://api.example.com/feed?token=secret");
  for (int status : {301, 302, 303, 307, 308}) {
    const RedirectDecision d = decide_redirect(status, {{"location", "/v2/feed"}}, from, 1, 5);
    ASSERT_EQ(d.kind, RedirectDecision::Kind::follow) << status;
    EXPECT_EQ(d.target.to_string(), "https://api.example.com/v2/feed");
  }
}

TEST(Http1Redirect, OtherStatusesOrNoLocationAreNotRedirects) {
  const Url from = Url::parse("http://a.example/");
  EXPECT_EQ(decide_redirect(200, {{"Location", "/x"}}, from, 1, 5).kind, RedirectDecision::Kind::not_redirect);
  EXPECT_EQ(decide_redirect(300, {{"Location", "/x"}}, from, 1, 5).kind, RedirectDecision::Kind::not_redirect);
  EXPECT_EQ(decide_redirect(304, {{"Location", "/x"}}, from, 1, 5).kind, RedirectDecision::Kind::not_redirect);
  EXPECT_EQ(decide_redirect(302, {{"X", "/x"}}, from, 1, 5).kind, RedirectDecision::Kind::not_redirect);
}

TEST(Http1Redirect, TheSharedRedirectRulesApply) {
  const Url tls = Url::parse("https://a.example/feed?token=secret");
  try {
    decide_redirect(302, {{"Location", "http://b.example/"}}, tls, 1, 5);
    FAIL() << "TLS to clear text followed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_PROTOCOL);
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
  }
  try {
    decide_redirect(302, {{"Location", "/again"}}, tls, 6, 5);
    FAIL() << "hop beyond the limit followed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_LIMIT);
  }
  EXPECT_EQ(decide_redirect(307, {{"Location", "https://b.example/x"}}, Url::parse("wss://a.example/"), 1, 5).target.scheme,
            "wss");
}

TEST(StatusText, SaysTheStatusOnceWhateverTheBodyRestates) {
  EXPECT_EQ(status_text(404, "404: Not Found"), "HTTP 404 Not Found");  // aiohttp's default body
  EXPECT_EQ(status_text(404, "Not Found\n"), "HTTP 404 Not Found");
  EXPECT_EQ(status_text(404, ""), "HTTP 404 Not Found");
  EXPECT_EQ(status_text(503, "503 - service unavailable."), "HTTP 503 Service Unavailable");
  EXPECT_EQ(status_text(404, "404 page not found"), "HTTP 404 Not Found: page not found");
  EXPECT_EQ(status_text(404, "no such feed"), "HTTP 404 Not Found: no such feed");
  EXPECT_EQ(status_text(404, "4040 items"), "HTTP 404 Not Found: 4040 items");
  EXPECT_EQ(status_text(499, "custom"), "HTTP 499: custom");
  EXPECT_EQ(status_text(499, ""), "HTTP 499");
}

TEST(StatusText, BodyIsPrintableAndCut) {
  EXPECT_EQ(status_text(400, "bad\r\nX-Forged: 1"), "HTTP 400 Bad Request: bad??X-Forged: 1");
  EXPECT_EQ(status_text(400, std::string(100, 'a'), 8), "HTTP 400 Bad Request: aaaaaaaa...");
}

}  // namespace
}  // namespace tidewire::detail::http1
