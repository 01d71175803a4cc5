/*
 * Prints docs/STATISTICS.md: the reference of every statistic of a stream, generated from the
 * table that tw_stat_name() / tw_stat_info() expose (core/src/stream.cc), and of the states
 * tw_stream_state() reports.
 *
 *   build/tools/tw_stat_doc > docs/STATISTICS.md
 *
 * The ctest StatisticsReferenceMatchesStatTable fails when the committed file differs from the
 * output, so the reference cannot drift from the table.
 */
#include <stdio.h>

#include <tidewire/tidewire.h>

/* Writes text for a Markdown table cell: a '|' would end the cell. */
static void put_cell(const char *text) {
  for (const char *p = text; *p; p++) {
    if (*p == '|') fputc('\\', stdout);
    fputc(*p, stdout);
  }
}

static const char *const kStateDocs[] = {
    "an attempt is under way, and none has succeeded since the stream started or last failed",
    "connected (for poll: the last poll succeeded); the stream is waiting for data",
    "the last attempt failed; the stream waits before the next one (or for new credentials)",
    "the queue is full: the stream stopped reading until the consumer makes room",
    "the stream has ended, cleanly or not (the failure, if any, says why)",
};

int main(void) {
  const char *name = NULL;
  const char *doc = NULL;
  if (tw_stat_info(&name, &doc, 0) != TW_OK) {
    fprintf(stderr, "tw_stat_doc: the statistics table is empty\n");
    return 1;
  }
  puts("<!-- Generated from the statistics table (core/src/stream.cc) by tools/stat_doc.c; do not edit.");
  puts("     Regenerate: build/tools/tw_stat_doc > docs/STATISTICS.md -->");
  puts("# Statistics reference");
  puts("");
  puts("Every stream keeps counters, read without stopping it: `tw_stream_stat(&value, stream, \"name\")`");
  puts("in C, `stream.stats()` in Python and Node (a dict / object), `Stream.stats()` in Java (a");
  puts("`Map<String, Long>`). Names are enumerated by `tw_stat_name(i)`; `tw_stat_info()` gives each");
  puts("description below.");
  puts("");
  puts("| statistic | meaning |");
  puts("|---|---|");
  for (size_t i = 0; tw_stat_info(&name, &doc, i) == TW_OK; i++) {
    printf("| `%s` | ", name);
    put_cell(doc);
    puts(" |");
  }
  puts("");
  puts("## State and last error");
  puts("");
  puts("Beside the counters, a stream says where it is and why: `tw_stream_state()` (`state` in the");
  puts("Python and Node `stats()`, `Stream.state()` in Java) and `tw_stream_last_error()` (`last_error`;");
  puts("`Stream.lastError()`), the text of the last failed attempt, \"\" if none failed. It never holds a");
  puts("header value, and URLs in it have their query, fragment and password replaced by `REDACTED`.");
  puts("See [troubleshooting](troubleshooting.md) for what each failure text means.");
  puts("");
  puts("| state | meaning |");
  puts("|---|---|");
  for (int s = TW_STATE_CONNECTING; s <= TW_STATE_ENDED; s++) {
    printf("| `%s` | ", tw_state_name((tw_state)s));
    put_cell(kStateDocs[s]);
    puts(" |");
  }
  return 0;
}
