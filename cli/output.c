#include "output.h"

#include <string.h>

/* Length of the valid UTF-8 sequence starting at s (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (left < n || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return n;
}

static int valid_utf8(const char *data, size_t len) {
  const unsigned char *s = (const unsigned char *)data;
  for (size_t i = 0; i < len;) {
    size_t n = utf8_sequence(s + i, len - i);
    if (n == 0) return 0;
    i += n;
  }
  return 1;
}

int cli_json_string(FILE *out, const char *data, size_t len) {
  if (!valid_utf8(data, len)) return -1;
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)data[i];
    switch (c) {
      case '"': fputs("\\\"", out); break;
      case '\\': fputs("\\\\", out); break;
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      default:
        /* Control characters (NUL included) must be escaped in JSON; DEL is escaped too, so that a
         * line never carries a byte a terminal would act on. */
        if (c < 0x20 || c == 0x7F)
          fprintf(out, "\\u%04x", c);
        else
          fputc(c, out);
    }
  }
  fputc('"', out);
  return 0;
}

void cli_base64(FILE *out, const unsigned char *data, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
    fputc(alphabet[v >> 18], out);
    fputc(alphabet[(v >> 12) & 63], out);
    fputc(alphabet[(v >> 6) & 63], out);
    fputc(alphabet[v & 63], out);
  }
  if (len - i == 1) {
    unsigned v = (unsigned)data[i] << 16;
    fputc(alphabet[v >> 18], out);
    fputc(alphabet[(v >> 12) & 63], out);
    fputs("==", out);
  } else if (len - i == 2) {
    unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
    fputc(alphabet[v >> 18], out);
    fputc(alphabet[(v >> 12) & 63], out);
    fputc(alphabet[(v >> 6) & 63], out);
    fputc('=', out);
  }
}

/* ,"name":"value" for a NUL-terminated string the core returned (ids and types are text). */
static void json_field(FILE *out, const char *name, const char *value) {
  fprintf(out, ",\"%s\":", name);
  if (cli_json_string(out, value, strlen(value)) != 0) {
    fputs("null", out);
  }
}

/* The payload: "data" as a JSON string when it is UTF-8 text, else "data_base64". A WebSocket
 * binary message is always base64, so that its type decides its field, not its bytes. */
static void json_data(FILE *out, const tw_event *event, const char *field) {
  const char *data = tw_event_data(event);
  size_t len = tw_event_data_len(event);
  int binary = tw_event_transport(event) == TW_TRANSPORT_WS && strcmp(tw_event_type(event), "binary") == 0;
  if (!binary && valid_utf8(data, len)) {
    fprintf(out, ",\"%s\":", field);
    cli_json_string(out, data, len);
    return;
  }
  fprintf(out, ",\"%s_base64\":\"", field);
  cli_base64(out, (const unsigned char *)data, len);
  fputc('"', out);
}

static void json_headers(FILE *out, const tw_event *event) {
  size_t count = tw_event_header_count(event);
  if (count == 0) return;
  fputs(",\"headers\":[", out);
  for (size_t i = 0; i < count; i++) {
    const char *name = NULL, *value = NULL;
    if (tw_event_header_at(&name, &value, event, i) != TW_OK) break;
    fputs(i ? ",[" : "[", out);
    if (cli_json_string(out, name, strlen(name)) != 0) fputs("null", out);
    fputc(',', out);
    if (cli_json_string(out, value, strlen(value)) != 0) fputs("null", out);
    fputc(']', out);
  }
  fputc(']', out);
}

static void print_json(FILE *out, const tw_event *event, int with_headers) {
  tw_kind kind = tw_event_kind(event);
  fprintf(out, "{\"kind\":\"%s\",\"transport\":\"%s\"", tw_kind_name(kind),
          tw_transport_name(tw_event_transport(event)));
  if (kind == TW_KIND_MESSAGE || kind == TW_KIND_COMMENT) {
    if (*tw_event_id(event)) json_field(out, "id", tw_event_id(event));
    if (*tw_event_type(event)) json_field(out, "type", tw_event_type(event));
    json_data(out, event, "data");
    if (with_headers) json_headers(out, event);
  } else {
    tw_err err = tw_event_error(event);
    if (err != TW_OK) fprintf(out, ",\"error\":\"%s\"", tw_err_name(err));
    if (tw_event_http_status(event)) fprintf(out, ",\"http_status\":%d", tw_event_http_status(event));
    if (tw_event_close_code(event)) fprintf(out, ",\"close_code\":%d", tw_event_close_code(event));
    if (kind == TW_KIND_RECONNECTING) fprintf(out, ",\"retry_ms\":%lld", (long long)tw_event_retry_ms(event));
    if (tw_event_data_len(event)) json_data(out, event, "message");
  }
  fputs("}\n", out);
}

static void print_text(FILE *out, FILE *err, const tw_event *event) {
  tw_kind kind = tw_event_kind(event);
  if (kind == TW_KIND_MESSAGE) {
    fwrite(tw_event_data(event), 1, tw_event_data_len(event), out);
    fputc('\n', out);
    return;
  }
  /* Status events are about the stream, not its data: they stay out of the data's way. */
  fprintf(err, "tidewire: %s", tw_kind_name(kind));
  if (tw_event_error(event) != TW_OK) fprintf(err, " (%s)", tw_err_name(tw_event_error(event)));
  if (kind == TW_KIND_RECONNECTING) fprintf(err, ", next attempt in %lld ms", (long long)tw_event_retry_ms(event));
  if (tw_event_data_len(event)) fprintf(err, ": %s", tw_event_data(event));
  fputc('\n', err);
  fflush(err);
}

void cli_print_event(FILE *out, FILE *err, const tw_event *event, cli_format format, int with_headers) {
  if (format == CLI_FORMAT_JSON)
    print_json(out, event, with_headers);
  else
    print_text(out, err, event);
  fflush(out);
}

void cli_print_stats(FILE *out, const tw_stream *stream) {
  size_t width = 0;
  for (size_t i = 0; tw_stat_name(i); i++)
    if (strlen(tw_stat_name(i)) > width) width = strlen(tw_stat_name(i));
  fprintf(out, "%-*s  %s\n", (int)width, "statistic", "value");
  for (size_t i = 0; tw_stat_name(i); i++) {
    uint64_t value = 0;
    if (tw_stream_stat(&value, stream, tw_stat_name(i)) != TW_OK) continue;
    fprintf(out, "%-*s  %llu\n", (int)width, tw_stat_name(i), (unsigned long long)value);
  }
  fflush(out);
}
