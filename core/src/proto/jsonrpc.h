// JSON-RPC 2.0 messages as MCP's Streamable HTTP carries them, sans I/O: what the transport must know
// of a message (its id, whether it is a request or a response, the protocolVersion an initialize
// result names) and how a batch splits into its messages, read from the JSON text without building
// a tree. The text itself is never re-encoded: each message is handed on as the bytes received.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::detail::jsonrpc {

// Nesting deeper than this is refused (a peer could otherwise exhaust the stack of a recursive reader).
inline constexpr int kMaxDepth = 64;

struct Message {
  // The id's JSON text as written ("7", "\"req-1\""); empty when absent or null.
  std::string_view id;
  // The method's string content as written (escapes kept); empty when absent.
  std::string_view method;
  bool has_result = false;
  bool has_error = false;
  // result.protocolVersion when the result is an object holding that string (escapes kept).
  std::string_view protocol_version;

  bool is_request() const { return !method.empty() && !id.empty(); }
  bool is_notification() const { return !method.empty() && id.empty(); }
  bool is_response() const { return method.empty() && (has_result || has_error); }
};

// Reads one JSON object (whitespace around it allowed). False when `json` is not exactly one valid
// JSON object (RFC 8259 syntax, nesting up to kMaxDepth); `out` is then unspecified. The views point
// into `json`.
bool scan(std::string_view json, Message& out);

// Splits a JSON-RPC payload into its messages: an object is one message, an array (a batch) gives
// each element, which must be an object. False for anything else (invalid JSON, an empty batch, a
// non-object element); `out` is then unspecified. The views point into `json`. Appends to `out`.
bool split(std::string_view json, std::vector<std::string_view>& out);

}  // namespace tidewire::detail::jsonrpc
