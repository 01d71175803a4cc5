// The configuration: one table of keys (name, type, default, accepted values, doc) and a set of
// values checked against it. Everything else reads settings through Config's typed getters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tidewire/tidewire.h"

namespace tidewire::detail {

enum class KeyType { string, integer, boolean, enumeration, list, map };

struct KeySpec {
  const char* name;      // for KeyType::map the prefix, e.g. "header." (shown as "header.<Name>")
  KeyType type;
  const char* default_value;
  const char* accepted;  // human-readable; for enumeration the '|'-separated choices
  const char* doc;
  int64_t min = 0;       // integers only
  int64_t max = 0;
};

const std::vector<KeySpec>& key_table();
const char* key_type_name(KeyType type);
// The table key's display name ("header.<Name>" for the map prefix).
std::string key_display_name(const KeySpec& spec);
// The key as a keyword ("." written as "_": reconnect_max_ms), accepted wherever the key is; "" for
// the map prefix, whose keys are written only as header.<Name>.
std::string key_alias(const KeySpec& spec);
// The table entry of a key given by name or alias; nullptr for header.<Name> and unknown keys.
const KeySpec* find_key(const std::string& key);

// Checks a header.<Name> name and, when given, its value, as tw_config_set and
// tw_stream_set_header do. Throws Error(TW_ERR_UNKNOWN_KEY) for a name that is not an HTTP token,
// Error(TW_ERR_INVALID_VALUE) for a value with CR, LF or NUL; the message never shows the value.
void check_header(const std::string& name, const std::string* value);

class Config {
 public:
  Config();  // every key at its default

  // Sets a key given by name or alias. Throws Error(TW_ERR_UNKNOWN_KEY) with the closest keys,
  // Error(TW_ERR_INVALID_VALUE) naming the key and what it accepts, or naming both spellings when
  // the key is already set (unset() it first). Values are stored in canonical form (see set()).
  void set(const std::string& key, const std::string& value);
  // As set(), for a value a host language gave with a type (tw_config_set_value): a list only for
  // a list key, any other non-scalar never. `type_name` is the host's name of the type, shown in
  // the error. Throws as set(); the key is checked (known, not set twice) before the type.
  void set_value(const std::string& key, const std::string& value, tw_value_kind kind, const std::string& type_name);
  // Forgets a key (back to its default), so that it may be set again. Unknown keys throw as set().
  void unset(const std::string& key);
  std::string get(const std::string& key) const;

  const std::string& str(const char* key) const;
  // Whether `key` was set (to any value, its default included).
  bool is_set(const char* key) const { return values_.find(key) != values_.end(); }
  int64_t integer(const char* key) const;
  bool boolean(const char* key) const;
  std::vector<std::string> list(const char* key) const;
  // Request headers from header.<Name>, in the order first set.
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

  // Resolves `transport` (inferring it from ws:// and wss:// URLs) and checks the keys that
  // depend on each other. Throws Error(TW_ERR_INVALID_VALUE) naming the key.
  tw_transport validated_transport() const;

  // Splits a comma-separated list, trimming blanks and dropping empty items.
  static std::vector<std::string> split_list(const std::string& text);

 private:
  std::map<std::string, std::string, std::less<>> values_;  // the keys set; str() falls back to the defaults
  std::vector<std::pair<std::string, std::string>> headers_;
  std::map<std::string, std::string, std::less<>> spelled_;  // table name -> the spelling it was set as
};

}  // namespace tidewire::detail
