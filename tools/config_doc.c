/*
 * Prints docs/CONFIGURATION.md: the reference of every configuration key, generated from the key
 * table that tw_config_key_count() / tw_config_key_info() expose (core/src/config.cc).
 *
 *   build/tools/tw_config_doc > docs/CONFIGURATION.md
 *
 * The ctest ConfigurationReferenceMatchesKeyTable fails when the committed file differs from the
 * output, so the reference cannot drift from the table.
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

/* The accepted values of an enum or bool ("a|b|c") as code spans; anything else as it is. */
static void put_accepted(const char *type, const char *accepted, int in_table) {
  if (strcmp(type, "enum") != 0 && strcmp(type, "bool") != 0) {
    if (in_table)
      put_cell(accepted);
    else
      fputs(accepted, stdout);
    return;
  }
  fputc('`', stdout);
  for (const char *p = accepted; *p; p++) {
    if (*p == '|')
      fputs("`, `", stdout);
    else
      fputc(*p, stdout);
  }
  fputc('`', stdout);
}

static void put_default(const char *value) {
  if (*value)
    printf("`%s`", value);
  else
    fputs("(empty)", stdout);
}

int main(void) {
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
  puts("key and what it accepts. Integers are written in decimal, booleans as `true` or `false`. A key");
  puts("that is never set keeps its default. `tw_stream_open()` then checks the keys that depend on each");
  puts("other (for example that `url` suits `transport`).");
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
