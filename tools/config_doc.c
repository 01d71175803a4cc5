/*
 * Prints docs/CONFIGURATION.md: the reference of every configuration key, generated from the key
 * table that tw_config_key_count() / tw_config_key_info() expose (core/src/config.cc). With
 * --typescript, prints the Node package's option types (bindings/node/config.d.ts) from the same
 * table, so that a key TypeScript accepts is a key the core knows, and no other.
 *
 *   build/tools/tw_config_doc > docs/CONFIGURATION.md
 *   build/tools/tw_config_doc --typescript > bindings/node/config.d.ts
 *
 * The ctests ConfigurationReferenceMatchesKeyTable and NodeOptionTypesMatchKeyTable fail when a
 * committed file differs from the output, so neither can drift from the table.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <tidewire/tidewire.h>

/* Writes text for a Markdown table cell: a '|' would end the cell. */
static void put_cell(const char *text) {
  for (const char *p = text; *p; p++) {
    if (*p == '|') fputc('\\', stdout);
    fputc(*p, stdout);
  }
}

/* The anchor GitHub gives a heading: lower case; letters, digits, '-' and '_' kept; spaces -> '-'. */
static void put_anchor(const char *heading) {
  for (const unsigned char *p = (const unsigned char *)heading; *p; p++) {
    if (isalnum(*p) || *p == '-' || *p == '_')
      fputc(tolower(*p), stdout);
    else if (*p == ' ')
      fputc('-', stdout);
  }
}

/* The choices of an enum or bool ("a|b|c"), each between `quote`s and separated by `separator`. */
static void put_choices(const char *accepted, char quote, const char *separator) {
  fputc(quote, stdout);
  for (const char *p = accepted; *p; p++) {
    if (*p == '|')
      printf("%c%s%c", quote, separator, quote);
    else
      fputc(*p, stdout);
  }
  fputc(quote, stdout);
}

/* The accepted values of an enum or bool ("a|b|c") as code spans; anything else as it is. */
static void put_accepted(const char *type, const char *accepted, int in_table) {
  if (strcmp(type, "enum") != 0 && strcmp(type, "bool") != 0) {
    if (in_table)
      put_cell(accepted);
    else
      fputs(accepted, stdout);
    return;
  }
  put_choices(accepted, '`', ", ");
}

static void put_default(const char *value) {
  if (*value)
    printf("`%s`", value);
  else
    fputs("(empty)", stdout);
}

/* A doc string inside a TypeScript comment: a star-slash would end it. */
static void put_comment(const char *text) {
  for (const char *p = text; *p; p++) {
    fputc(*p, stdout);
    if (*p == '*' && p[1] == '/') fputc(' ', stdout);
  }
}

static int ends_with(const char *text, const char *suffix) {
  size_t n = strlen(text), m = strlen(suffix);
  return n >= m && strcmp(text + n - m, suffix) == 0;
}

/* The TypeScript type of a key's value, as the core reads values (tidewire.h, tw_config_key_alias). */
static void put_ts_type(const char *name, const char *type, const char *accepted) {
  if (strcmp(type, "bool") == 0) {
    fputs("boolean", stdout);
  } else if (strcmp(type, "int") == 0) {
    fputs(ends_with(name, "_ms") ? "Milliseconds" : ends_with(name, "_s") ? "Seconds" : "number | bigint", stdout);
  } else if (strcmp(type, "enum") == 0) {
    put_choices(accepted, '\'', " | ");
  } else if (strcmp(type, "list") == 0) {
    fputs("string | readonly string[]", stdout);
  } else if (strncmp(accepted, "any bytes", 9) == 0) {
    fputs("string | ArrayBufferView | ArrayBuffer", stdout);
  } else {
    fputs("string", stdout);
  }
}

/* One interface: every key under its alias (aliases != 0) or its name, quoted. */
static int put_ts_interface(const char *interface_name, const char *doc, int aliases) {
  printf("\n/** %s */\nexport interface %s {\n", doc, interface_name);
  for (size_t i = 0; i < tw_config_key_count(); i++) {
    const char *name, *type, *def, *accepted, *key_doc;
    if (tw_config_key_info(&name, &type, &def, &accepted, &key_doc, i) != TW_OK) return 1;
    const char *alias = tw_config_key_alias(i);
    if (!alias) {
      if (!aliases) printf("  /** %s */\n  [header: `header.${string}`]: string;\n", "A request header (header.<Name>).");
      continue;
    }
    fputs("  /** ", stdout);
    put_comment(key_doc);
    if (*def) printf(" Default: `%s`.", def);
    fputs(" */\n", stdout);
    if (aliases)
      printf("  %s?: ", alias);
    else
      printf("  '%s'?: ", name);
    put_ts_type(name, type, accepted);
    fputs(";\n", stdout);
  }
  fputs("}\n", stdout);
  return 0;
}

static int typescript(void) {
  puts("// Generated from the key table (core/src/config.cc) by tools/config_doc.c; do not edit.");
  puts("// Regenerate: build/tools/tw_config_doc --typescript > bindings/node/config.d.ts");
  puts("");
  puts("/** A duration in ms: a number, or text with a unit (\"1500ms\", \"30s\", \"1.5s\", \"5m\", \"1h\"). */");
  puts("export type Milliseconds = number | bigint | `${number}${'ms' | 's' | 'm' | 'h'}`;");
  puts("/** A duration in s: a number, or text with a unit (\"30s\", \"5m\", \"1h\"). */");
  puts("export type Seconds = number | bigint | `${number}${'s' | 'm' | 'h'}`;");
  if (put_ts_interface("ConfigOptions", "Every configuration key under its alias (\".\" written as \"_\"): the options of `new Stream()`.", 1))
    return 1;
  if (put_ts_interface("ConfigKeys", "Every configuration key under its name: the `options` of `new Stream()`.", 0)) return 1;
  return ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--typescript") == 0) return typescript();
  if (argc != 1) {
    fprintf(stderr, "usage: tw_config_doc [--typescript]\n");
    return 2;
  }
  size_t count = tw_config_key_count();
  if (count == 0) {
    fprintf(stderr, "tw_config_doc: the key table is empty\n");
    return 1;
  }

  puts("<!-- Generated from the key table (core/src/config.cc) by tools/config_doc.c; do not edit.");
  puts("     Regenerate: build/tools/tw_config_doc > docs/CONFIGURATION.md -->");
  puts("# Configuration reference");
  puts("");
  puts("A stream is described by string keys with string values, set one at a time:");
  puts("");
  puts("```c");
  puts("tw_config_set(config, \"reconnect.max_ms\", \"30000\");");
  puts("```");
  puts("");
  puts("An unknown key is refused with `TW_ERR_UNKNOWN_KEY`, a value the key does not accept with");
  puts("`TW_ERR_INVALID_VALUE`; the configuration is then unchanged and `tw_last_error_message()` names the");
  puts("key and what it accepts. A key that is never set keeps its default. `tw_stream_open()` then checks");
  puts("the keys that depend on each other (for example that `url` suits `transport`).");
  puts("");
  puts("These rules are the core's, so they are the same in C, Python, Java and Node:");
  puts("");
  puts("- **Aliases.** Every key is also accepted with each `.` written as `_` (`reconnect_max_ms` for");
  puts("  `reconnect.max_ms`): the keyword arguments of Python and the options of Node are these aliases.");
  puts("  `header.<Name>` is written only that way. `tw_config_key_alias()` gives each key's alias.");
  puts("- **Suggestions.** An unknown key is answered with the closest keys, in the spelling it was");
  puts("  given in: `unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?`.");
  puts("- **A key given twice is refused**, whether in the same spelling or as name and alias (a Python");
  puts("  keyword and `options=`, a Java builder's `option()` called twice):");
  puts("  `key 'reconnect.max_ms' given twice (as reconnect_max_ms and reconnect.max_ms)`, with");
  puts("  `TW_ERR_INVALID_VALUE`; the first value stays. `header.<Name>` names compare case-insensitively.");
  puts("  To change a key on purpose, `tw_config_unset()` it first.");
  puts("- **Values as languages print them.** Booleans: `true`/`false` in any case, or `1`/`0`. Integers:");
  puts("  decimal, a whole number with a fraction of zeros included (`2000.0`). Keys counted in ms or s");
  puts("  (names ending `_ms`, `_s`) also take a duration with a unit: `1500ms`, `30s`, `1.5s`, `5m`, `1h`");
  puts("  (it must come to a whole number of the key's unit). Lists: `a,b`, or written as a list, `[a, b]`,");
  puts("  `['a', 'b']`, `[\"a\",\"b\"]`. `tw_config_get()` returns the canonical form (`true`, `30000`, `a,b`).");
  puts("- **A list only for a list key.** A list given in a language (a Python list or tuple, a JavaScript");
  puts("  array) is refused for any other key, and a dict or object for every key, naming the key and the");
  puts("  type: `invalid value for sse.end_data: a value of type list is not accepted; expected ...`");
  puts("  (`TW_ERR_INVALID_VALUE`; the bindings pass the type with `tw_config_set_value()`).");
  puts("");
  printf("The same table is available at run time through `tw_config_key_count()` (%zu keys) and\n", count);
  puts("`tw_config_key_info()`.");
  puts("");
  puts("| key | type | default | accepted |");
  puts("|---|---|---|---|");

  for (size_t i = 0; i < count; i++) {
    const char *name, *type, *def, *accepted, *doc;
    if (tw_config_key_info(&name, &type, &def, &accepted, &doc, i) != TW_OK) {
      fprintf(stderr, "tw_config_doc: key %zu: %s\n", i, tw_last_error_message());
      return 1;
    }
    printf("| [`%s`](#", name);
    put_anchor(name);
    printf(") | %s | ", type);
    put_default(def);
    fputs(" | ", stdout);
    put_accepted(type, accepted, 1);
    puts(" |");
  }

  for (size_t i = 0; i < count; i++) {
    const char *name, *type, *def, *accepted, *doc;
    tw_config_key_info(&name, &type, &def, &accepted, &doc, i);
    printf("\n## `%s`\n\n%s\n\n", name, doc);
    printf("- type: %s\n- default: ", type);
    put_default(def);
    fputs("\n- accepted: ", stdout);
    put_accepted(type, accepted, 0);
    fputc('\n', stdout);
  }
  return ferror(stdout) ? 1 : 0;
}
