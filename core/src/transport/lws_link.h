// The tie between one lws connection (wsi) and the object that owns it, safe against both sides
// going away first: the link lives as long as the wsi (it frees itself at LWS_CALLBACK_WSI_DESTROY),
// forwards callbacks while an owner is attached, and closes the wsi on request — synchronously from
// outside lws callbacks, or by failing the current callback from inside one (lws forbids a
// synchronous close of the wsi being serviced).
#pragma once

#include "../runtime.h"

namespace tidewire::detail {

class LwsLink final : public LwsClient {
 public:
  explicit LwsLink(LwsClient* owner) : owner_(owner) {}

  // For lws_client_connect_info: opaque_user_data = link, pwsi = link->wsi_slot().
  lws** wsi_slot() { return &wsi_; }
  lws* wsi() const { return wsi_; }
  // After lws_client_connect_via_info returned null: frees the link unless lws still holds the wsi.
  void connect_failed() {
    owner_ = nullptr;
    if (!wsi_) delete this;
  }

  // Detaches the owner (no callback reaches it any more) and closes the connection. With a close
  // code, a WebSocket close frame carrying it is sent first.
  void close(int ws_close_code = 0) {
    owner_ = nullptr;
    if (!wsi_) return;
    if (ws_close_code) lws_close_reason(wsi_, static_cast<lws_close_status>(ws_close_code), nullptr, 0);
    if (in_callback_) {
      kill_ = true;
      return;
    }
    lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);  // may delete this
  }

  int on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) override {
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
      LwsClient* owner = owner_;
      wsi_ = nullptr;
      if (owner) owner->on_lws(wsi, reason, in, len);
      delete this;
      return 0;
    }
    if (!owner_) return kill_ ? -1 : lws_callback_http_dummy(wsi, reason, nullptr, in, len);
    bool was = in_callback_;
    in_callback_ = true;
    int result = owner_->on_lws(wsi, reason, in, len);
    in_callback_ = was;
    return kill_ ? -1 : result;
  }

 private:
  LwsClient* owner_;
  lws* wsi_ = nullptr;
  bool in_callback_ = false;
  bool kill_ = false;
};

}  // namespace tidewire::detail
