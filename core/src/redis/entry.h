// Stream entries as Tidewire writes and reads them. An entry's fields: `data` (the payload, bytes as
// received), `type`, `id` (the source's event id: the webhook delivery id, the SSE id), and any others
// (`scheme`, `received_at`, `transport`, request headers as `h.<name>`). Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../event.h"

struct redisReply;

namespace tidewire::detail::redis {

struct Entry {
  std::string id;  // the entry id Redis gave it ("1700000000000-0")
  std::vector<std::pair<std::string, std::string>> fields;
  bool deleted = false;  // listed in a consumer's pending entries, but trimmed from the stream
};

// Reads the entries of one stream from XREADGROUP's reply ([[key, [[id, [f, v, ...]], ...]]], or nil
// when the wait ended empty) or from the second element of XAUTOCLAIM's. False, with `error` saying
// what, when the reply does not have that shape.
bool read_entries(const redisReply* reply, std::vector<Entry>& out, std::string& error);
bool read_entry_list(const redisReply* list, std::vector<Entry>& out, std::string& error);

// Fills an event from an entry: id = the entry id, type and data from their fields, and every
// other field as a header (the source's id as header `id`).
void fill_event(tw_event& event, Entry&& entry);

// XADD's field arguments for an event: id, type, data, then `extra` fields. The views point into
// `event` and `extra`, which must outlive them.
std::vector<std::string_view> event_fields(const tw_event& event,
                                           const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace tidewire::detail::redis
