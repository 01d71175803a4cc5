#include "../error.h"
#include "mcp.h"
#include "pull.h"
#include "redis.h"
#include "sse.h"
#include "ws.h"
#include "transport.h"
#include "webhook.h"

namespace tidewire::detail {

std::unique_ptr<Transport> make_transport(Runtime& runtime, std::shared_ptr<StreamCore> core) {
  switch (core->transport) {
    case TW_TRANSPORT_POLL:
    case TW_TRANSPORT_LONGPOLL:
      return std::make_unique<PullTransport>(runtime, std::move(core));
    case TW_TRANSPORT_SSE:
      return std::make_unique<SseTransport>(runtime, std::move(core));
    case TW_TRANSPORT_WS:
      return std::make_unique<WsTransport>(runtime, std::move(core));
    case TW_TRANSPORT_WEBHOOK:
      return std::make_unique<WebhookTransport>(runtime, std::move(core));
    case TW_TRANSPORT_MCP:
      return std::make_unique<McpTransport>(runtime, std::move(core));
    case TW_TRANSPORT_REDIS:
      return std::make_unique<RedisTransport>(runtime, std::move(core));
  }
  throw Error(TW_ERR_UNSUPPORTED,
              std::string("transport ") + tw_transport_name(core->transport) + " is not available in this build");
}

}  // namespace tidewire::detail
