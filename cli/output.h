/*
 * How the tidewire command prints events: one JSON object per line, or the payload as text.
 * Only the public C ABI is used; nothing here keeps state between events.
 */
#ifndef TIDEWIRE_CLI_OUTPUT_H
#define TIDEWIRE_CLI_OUTPUT_H

#include <stdio.h>

#include <tidewire/tidewire.h>

typedef enum cli_format { CLI_FORMAT_JSON, CLI_FORMAT_TEXT } cli_format;

/* Writes `event` to `out` in `format` (status events in text format go to `err`), then flushes. */
void cli_print_event(FILE *out, FILE *err, const tw_event *event, cli_format format, int with_headers);

/* Writes the stream's statistics as a two-column table (every name tw_stat_name() lists). */
void cli_print_stats(FILE *out, const tw_stream *stream);

/* Writes `len` bytes as a JSON string literal, quotes included. Returns 0, or -1 (nothing written)
 * if the bytes are not valid UTF-8. */
int cli_json_string(FILE *out, const char *data, size_t len);

/* Writes `len` bytes as standard base64 (RFC 4648, padded), without quotes. */
void cli_base64(FILE *out, const unsigned char *data, size_t len);

#endif
