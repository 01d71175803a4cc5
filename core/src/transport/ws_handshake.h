// The client's side of the WebSocket opening handshake on HTTP/1.1: the GET request (proto/http1's
// writer carrying proto/ws's headers) and the reading of its answer (proto/http1's reader, then
// proto/ws's checks), kept apart from ws.cc so that the frame loop's file holds only the frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/ws.h"
#include "tidewire/tidewire.h"
#include "../url.h"

namespace tidewire::detail {

class WsHandshake {
 public:
  struct Answer {
    enum class Kind {
      incomplete,  // more bytes are needed
      upgraded,    // 101, checked: the WebSocket is open
      refused,     // a final answer other than 101 (see redirect())
      broken,      // not HTTP, over a limit, or a 101 that fails the WebSocket checks
    };
    Kind kind = Kind::incomplete;
    size_t http_bytes = 0;                     // upgraded: bytes of this read that were HTTP
    std::optional<ws::Negotiated> negotiated;  // upgraded
    int status = 0;                            // refused
    tw_err error = TW_OK;                      // broken
    std::string message;                       // broken: what was wrong, never a header's value
  };

  // `nonce`: 16 random bytes for Sec-WebSocket-Key.
  WsHandshake(const std::array<uint8_t, 16>& nonce, ws::HandshakeOffer offer);
  ~WsHandshake();
  WsHandshake(const WsHandshake&) = delete;
  WsHandshake& operator=(const WsHandshake&) = delete;

  // The GET request for `url`: the WebSocket headers, then `headers` in order. Throws
  // Error(TW_ERR_INVALID_VALUE) for a header HTTP/1.1 cannot carry (naming it, not its value).
  std::string request(const Url& url, const std::vector<std::pair<std::string, std::string>>& headers) const;

  // Reads the answer a read at a time. Once the answer is decided (anything but incomplete) it reads
  // nothing more; after `upgraded`, the rest of that read is the WebSocket's first bytes.
  Answer read(const char* data, size_t size);

  // After `refused`: where the redirect leads (301, 302, 303, 307, 308 with a Location), nullopt when
  // the answer is not one. Throws Error as redirect_target() does (beyond `max`, bad Location, TLS to
  // clear text).
  std::optional<Url> redirect(const Url& current, int hop, int max) const;

 private:
  struct Reader;
  ws::ClientHandshake handshake_;
  std::unique_ptr<Reader> reader_;
};

// A peer's free text (a close reason) made safe for error messages and logs: printable ASCII kept,
// anything else shown as '?', cut to `max_bytes`.
std::string printable_peer_text(std::string_view text, size_t max_bytes);

}  // namespace tidewire::detail
