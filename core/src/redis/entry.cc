#include "entry.h"

#include <hiredis/hiredis.h>

namespace tidewire::detail::redis {
namespace {

bool is_string(const redisReply* r) { return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS); }
std::string text(const redisReply* r) { return std::string(r->str, r->len); }

}  // namespace

bool read_entry_list(const redisReply* list, std::vector<Entry>& out, std::string& error) {
  if (!list || list->type != REDIS_REPLY_ARRAY) {
    error = "a list of stream entries is not an array";
    return false;
  }
  for (size_t i = 0; i < list->elements; i++) {
    const redisReply* e = list->element[i];
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !is_string(e->element[0])) {
      error = "a stream entry is not [id, fields]";
      return false;
    }
    Entry entry;
    entry.id = text(e->element[0]);
    const redisReply* f = e->element[1];
    if (!f || f->type == REDIS_REPLY_NIL) {
      entry.deleted = true;
    } else if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0) {
      error = "the fields of stream entry " + entry.id + " are not name/value pairs";
      return false;
    } else {
      entry.fields.reserve(f->elements / 2);
      for (size_t j = 0; j < f->elements; j += 2) {
        if (!is_string(f->element[j]) || !is_string(f->element[j + 1])) {
          error = "a field of stream entry " + entry.id + " is not a string";
          return false;
        }
        entry.fields.emplace_back(text(f->element[j]), text(f->element[j + 1]));
      }
    }
    out.push_back(std::move(entry));
  }
  return true;
}

bool read_entries(const redisReply* reply, std::vector<Entry>& out, std::string& error) {
  if (reply && reply->type == REDIS_REPLY_NIL) return true;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) {
    error = "the reply to XREADGROUP is not an array";
    return false;
  }
  for (size_t i = 0; i < reply->elements; i++) {
    const redisReply* s = reply->element[i];
    if (!s || s->type != REDIS_REPLY_ARRAY || s->elements != 2) {
      error = "the reply to XREADGROUP does not list [stream, entries]";
      return false;
    }
    if (!read_entry_list(s->element[1], out, error)) return false;
  }
  return true;
}

void fill_event(tw_event& event, Entry&& entry) {
  event.id = std::move(entry.id);
  event.headers.reserve(entry.fields.size());
  for (auto& f : entry.fields) {
    if (f.first == "data")
      event.data = std::move(f.second);
    else if (f.first == "type")
      event.type = std::move(f.second);
    else
      event.headers.emplace_back(std::move(f.first), std::move(f.second));
  }
}

std::vector<std::string_view> event_fields(const tw_event& event,
                                           const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string_view> args;
  args.reserve(6 + extra.size() * 2);
  args.insert(args.end(), {"id", event.id, "type", event.type, "data", event.data.view()});
  for (const auto& f : extra) args.insert(args.end(), {f.first, f.second});
  return args;
}

}  // namespace tidewire::detail::redis
