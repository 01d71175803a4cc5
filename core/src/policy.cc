#include "policy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

namespace tidewire::detail {

Verdict classify_http_status(int status) {
  if (status == 204) return Verdict::end_clean;
  if (status == 408 || status == 429 || (status >= 500 && status <= 599)) return Verdict::retry;
  return Verdict::fatal;
}

Verdict classify_ws_close(int code) {
  switch (code) {
    case 1000:
      return Verdict::end_clean;
    case 1001:  // going away (server restart)
    case 1005:  // a close frame without a code: no reason to stop was given
    case 1006:  // abnormal closure, no close frame
    case 1011:  // server error
    case 1012:  // service restart
    case 1013:  // try again later
      return Verdict::retry;
    default:
      return Verdict::fatal;
  }
}

Verdict classify_error(tw_err err) {
  switch (err) {
    case TW_ERR_IO:
    case TW_ERR_TIMEOUT:
      return Verdict::retry;
    default:
      return Verdict::fatal;
  }
}

Replay parse_replay(const std::string& text) {
  if (text == "always") return Replay::always;
  if (text == "never") return Replay::never;
  return Replay::automatic;
}

bool idempotent_method(const std::string& method) {
  static const char* const kIdempotent[] = {"GET",   "HEAD",   "PUT",      "DELETE", "OPTIONS",
                                            "TRACE", "QUERY",  "REPORT",   "PROPFIND", "SEARCH"};
  for (const char* m : kIdempotent)
    if (method == m) return true;
  return false;
}

bool may_replay(Replay mode, const std::string& method, bool has_resume_id) {
  switch (mode) {
    case Replay::always:
      return true;
    case Replay::never:
      return idempotent_method(method);
    case Replay::automatic:
      break;
  }
  return idempotent_method(method) || has_resume_id;
}

Backoff::Backoff(BackoffSettings settings, uint64_t seed)
    : settings_(settings), rng_(seed), base_ms_(settings.initial_ms) {}

void Backoff::connected(int64_t now_ms) { connected_at_ms_ = now_ms; }

void Backoff::succeeded() {
  attempts_ = 0;
  connected_at_ms_.reset();
}

void Backoff::set_base_ms(int64_t base_ms) { base_ms_ = std::min(base_ms, settings_.max_ms); }

std::optional<int64_t> Backoff::next_delay(int64_t now_ms, std::optional<int64_t> hint_ms) {
  if (connected_at_ms_ && now_ms - *connected_at_ms_ >= settings_.reset_after_ms) attempts_ = 0;
  connected_at_ms_.reset();
  if (settings_.max_attempts > 0 && attempts_ >= settings_.max_attempts) return std::nullopt;
  // base·2ⁿ, saturating well before overflow.
  int64_t ceiling = base_ms_;
  for (int64_t i = 0; i < attempts_ && ceiling < settings_.max_ms; i++) ceiling *= 2;
  ceiling = std::min(ceiling, settings_.max_ms);
  at_max_ = ceiling >= settings_.max_ms;
  attempts_++;
  int64_t delay = ceiling > 0 ? std::uniform_int_distribution<int64_t>(0, ceiling)(rng_) : 0;
  // The caller caps hints (reconnect.max_ms for streams, poll.max_interval_ms for polling).
  return hint_ms ? std::max(delay, *hint_ms) : delay;
}

std::optional<int64_t> parse_seconds_ms(const std::string& value) {
  std::string v = value;
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  if (v.empty() || v.size() > 12) return std::nullopt;
  int64_t whole = 0, frac_ms = 0;
  size_t i = 0;
  for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])); i++) whole = whole * 10 + (v[i] - '0');
  if (i == 0) return std::nullopt;
  if (i < v.size()) {
    if (v[i] != '.') return std::nullopt;
    int64_t scale = 100;
    for (i++; i < v.size(); i++) {
      if (!std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
      frac_ms += (v[i] - '0') * scale;
      scale /= 10;
    }
  }
  return whole * 1000 + frac_ms;
}

std::optional<int64_t> parse_http_date(const std::string& value) {
  static const char* const kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT
      "%a %b %e %H:%M:%S %Y",       // asctime:     Sun Nov  6 08:49:37 1994
  };
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(value.c_str(), format, &tm);
    if (end && *end == '\0') return static_cast<int64_t>(timegm(&tm));
  }
  return std::nullopt;
}

std::optional<int64_t> parse_retry_after(const std::string& value, int64_t now_unix_s) {
  if (!value.empty() && std::isdigit(static_cast<unsigned char>(value[0]))) {
    if (value.find_first_not_of("0123456789") != std::string::npos || value.size() > 9) return std::nullopt;
    return std::stoll(value) * 1000;
  }
  auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  return std::max<int64_t>(0, (*date - now_unix_s) * 1000);
}

}  // namespace tidewire::detail
