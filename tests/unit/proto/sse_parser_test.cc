#include "proto/sse_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace tidewire::detail {
namespace {

using Result = SseParser::Result;
using namespace std::string_literals;  // "..."s keeps embedded NULs

constexpr size_t kDefaultMaxLine = 64 * 1024;
constexpr int kRandomSplits = 200;
const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER

// Test-side view of an event; field order favours terse expectations ({type, data[, id]}).
struct Ev {
  Ev(std::string type_in, std::string data_in, std::string id_in = "")
      : type(std::move(type_in)), data(std::move(data_in)), id(std::move(id_in)) {}
  std::string type;
  std::string data;
  std::string id;
};

bool operator==(const Ev& a, const Ev& b) {
  return a.type == b.type && a.data == b.data && a.id == b.id;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  return out;
}

void PrintTo(const Ev& e, std::ostream* os) {
  *os << "{type=\"" << Escape(e.type) << "\", data=\"" << Escape(e.data) << "\", id=\""
      << Escape(e.id) << "\"}";
}

// Everything observable after feeding a stream, so that different splits can be compared.
struct Outcome {
  std::vector<Ev> events;
  std::vector<bool> failed;  // per connection: some feed returned a limit error
  std::string last_event_id;
  std::optional<uint64_t> retry_ms;
};

// Returns "" when equal, otherwise a description of the first difference.
std::string Diff(const Outcome& a, const Outcome& b) {
  std::ostringstream os;
  const size_t common = std::min(a.events.size(), b.events.size());
  for (size_t i = 0; i < common; ++i) {
    if (!(a.events[i] == b.events[i])) {
      os << "event " << i << ": " << testing::PrintToString(a.events[i]) << " vs "
         << testing::PrintToString(b.events[i]);
      return os.str();
    }
  }
  if (a.events.size() != b.events.size()) {
    os << "event count " << a.events.size() << " vs " << b.events.size();
  } else if (a.failed != b.failed) {
    os << "failure state differs";
  } else if (a.last_event_id != b.last_event_id) {
    os << "last_event_id \"" << Escape(a.last_event_id) << "\" vs \"" << Escape(b.last_event_id)
       << "\"";
  } else if (a.retry_ms != b.retry_ms) {
    os << "retry differs";
  }
  return os.str();
}

using Splits = std::vector<std::vector<size_t>>;  // per connection, the sizes of successive feeds

// Feeds each connection in the given chunks, calling reset_connection() between connections.
Outcome FeedSplits(const std::vector<std::string>& connections, const Splits& splits,
                   size_t max_line, const std::string& seed_id, size_t max_event) {
  SseParser parser(max_line, max_event);
  if (!seed_id.empty()) parser.set_last_event_id(seed_id);
  Outcome outcome;
  std::vector<SseEvent> out;
  for (size_t c = 0; c < connections.size(); ++c) {
    if (c > 0) parser.reset_connection();
    bool failed = false;
    size_t pos = 0;
    for (const size_t size : splits[c]) {
      const size_t events_before = out.size();
      const Result result = parser.feed(connections[c].data() + pos, size, out);
      pos += size;
      if (failed) {
        EXPECT_NE(result, Result::ok) << "a failed parser must stay failed";
        EXPECT_EQ(out.size(), events_before) << "a failed parser must not emit events";
      }
      failed = failed || result != Result::ok;
    }
    EXPECT_EQ(pos, connections[c].size());
    outcome.failed.push_back(failed);
  }
  for (const SseEvent& e : out) outcome.events.push_back({e.type, e.data, e.id});
  outcome.last_event_id = parser.last_event_id();
  outcome.retry_ms = parser.take_retry_ms();
  EXPECT_EQ(parser.take_retry_ms(), std::nullopt) << "retry must be returned only once";
  return outcome;
}

std::vector<size_t> RandomChunks(size_t len, std::mt19937& rng) {
  // Half the trials use tiny chunks (every boundary gets hit), half use chunks of any size.
  // Empty feeds are included on purpose: they must not disturb a pending CR or BOM.
  const bool tiny = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
  const size_t max_chunk = tiny ? 8 : std::max<size_t>(len, 1);
  std::uniform_int_distribution<size_t> chunk(0, max_chunk);
  std::vector<size_t> sizes;
  for (size_t left = len; left > 0;) {
    const size_t n = std::min(chunk(rng), left);
    sizes.push_back(n);
    left -= n;
  }
  return sizes;
}

// Parses the connections whole, then one byte at a time and in many random splits, expecting the
// same outcome every time. Returns the whole-buffer outcome for the caller's own expectations.
Outcome ParseConnections(const std::vector<std::string>& connections,
                         size_t max_line = kDefaultMaxLine, const std::string& seed_id = "",
                         size_t max_event = SIZE_MAX) {
  Splits whole;
  Splits bytewise;
  for (const std::string& c : connections) {
    whole.push_back({c.size()});
    bytewise.emplace_back(c.size(), 1);
  }
  const Outcome expected = FeedSplits(connections, whole, max_line, seed_id, max_event);
  EXPECT_EQ(Diff(expected, FeedSplits(connections, bytewise, max_line, seed_id, max_event)), "")
      << "fed one byte at a time";

  std::mt19937 rng(20240611);
  for (int trial = 0; trial < kRandomSplits; ++trial) {
    Splits splits;
    for (const std::string& c : connections) splits.push_back(RandomChunks(c.size(), rng));
    const std::string diff =
        Diff(expected, FeedSplits(connections, splits, max_line, seed_id, max_event));
    if (!diff.empty()) {
      ADD_FAILURE() << "random split trial " << trial << " differs from whole feed: " << diff;
      break;  // one report per input is enough
    }
  }
  return expected;
}

Outcome Parse(const std::string& input, size_t max_line = kDefaultMaxLine) {
  return ParseConnections({input}, max_line);
}

std::vector<Ev> Events(const std::string& input) { return Parse(input).events; }

// ---------------------------------------------------------------------------------------------
// Line endings

TEST(SseParser, LfEndsLines) {
  EXPECT_EQ(Events("data:a\ndata:b\n\n"), (std::vector<Ev>{{"message", "a\nb"}}));
}

TEST(SseParser, CrEndsLines) {
  EXPECT_EQ(Events("data:a\rdata:b\r\r"), (std::vector<Ev>{{"message", "a\nb"}}));
}

TEST(SseParser, CrLfEndsLines) {
  EXPECT_EQ(Events("data:a\r\ndata:b\r\n\r\n"), (std::vector<Ev>{{"message", "a\nb"}}));
}

TEST(SseParser, MixedLineEndingsInOneStream) {
  EXPECT_EQ(Events("data:a\rdata:b\r\ndata:c\n\r\ndata:d\n\rdata:e\r\r"),
            (std::vector<Ev>{{"message", "a\nb\nc"}, {"message", "d"}, {"message", "e"}}));
}

TEST(SseParser, LfCrIsTwoLineEnds) {
  EXPECT_EQ(Events("data:a\n\r"), (std::vector<Ev>{{"message", "a"}}));
}

TEST(SseParser, CrLfSplitAcrossFeedsIsOneLineEnd) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(parser.feed("data:a\r", 7, out), Result::ok);
  ASSERT_EQ(parser.feed("\ndata:b\r", 8, out), Result::ok);
  EXPECT_TRUE(out.empty()) << "the LF after a CR must not count as a blank line";
  ASSERT_EQ(parser.feed("\n\r", 2, out), Result::ok);
  ASSERT_EQ(parser.feed("\n", 1, out), Result::ok);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a\nb");
}

TEST(SseParser, PendingCrSurvivesEmptyFeed) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(parser.feed("data:a\r", 7, out), Result::ok);
  ASSERT_EQ(parser.feed("", 0, out), Result::ok);
  ASSERT_EQ(parser.feed("\ndata:b\n\n", 9, out), Result::ok);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a\nb");
}

TEST(SseParser, CrAtEndOfFeedFollowedByOtherByteEndsLine) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(parser.feed("data:a\r", 7, out), Result::ok);
  ASSERT_EQ(parser.feed("data:b\r\r", 8, out), Result::ok);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a\nb");
}

TEST(SseParser, BlankLineDispatchesImmediatelyWithoutWaitingForLf) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(parser.feed("data:a\r\r", 8, out), Result::ok);
  EXPECT_EQ(out.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Byte order mark

TEST(SseParser, LeadingBomIsSkipped) {
  EXPECT_EQ(Events("\xEF\xBB\xBF" "data:1\n\n"), (std::vector<Ev>{{"message", "1"}}));
  // Without skipping, the field name would be "\xEF\xBB\xBF" "data" and nothing would be emitted.
}

TEST(SseParser, LeadingBomSplitAcrossFeedsIsSkipped) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(parser.feed("\xEF", 1, out), Result::ok);
  ASSERT_EQ(parser.feed("", 0, out), Result::ok);
  ASSERT_EQ(parser.feed("\xBB", 1, out), Result::ok);
  ASSERT_EQ(parser.feed("\xBF" "data:1\n\n", 9, out), Result::ok);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "1");
}

TEST(SseParser, BomAfterStreamStartIsData) {
  // WPT format-bom: a BOM at the start of a later line makes that field name unknown.
  EXPECT_EQ(Events("\xEF\xBB\xBF" "data:1\n\n\xEF\xBB\xBF" "data:2\n\ndata:3\n\n"),
            (std::vector<Ev>{{"message", "1"}, {"message", "3"}}));
  EXPECT_EQ(Events("data:\xEF\xBB\xBF\n\n"), (std::vector<Ev>{{"message", "\xEF\xBB\xBF"}}));
}

TEST(SseParser, OnlyOneLeadingBomIsSkipped) {
  // WPT format-bom-2: the second BOM belongs to the first line's field name.
  EXPECT_EQ(Events("\xEF\xBB\xBF\xEF\xBB\xBF" "data:1\n\ndata:2\n\ndata:3"),
            (std::vector<Ev>{{"message", "2"}}));
}

TEST(SseParser, PartialBomAtStartIsLineContent) {
  EXPECT_EQ(Events("\xEF\xBB" "data:1\n\ndata:2\n\n"), (std::vector<Ev>{{"message", "2"}}));
  EXPECT_EQ(Events("\xEF\n" "data:2\n\n"), (std::vector<Ev>{{"message", "2"}}));
  EXPECT_EQ(Events("\xEF"), std::vector<Ev>{});
}

TEST(SseParser, BomIsSkippedAgainOnNewConnection) {
  const Outcome outcome = ParseConnections(
      {"\xEF\xBB\xBF" "data:1\n\n", "\xEF\xBB\xBF" "data:2\n\n", "\xEF\xBB"});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "1"}, {"message", "2"}}));
}

// ---------------------------------------------------------------------------------------------
// Fields

TEST(SseParser, CommentLinesAreIgnored) {
  // WPT format-comments.
  const std::string longstring(2048, 'x');
  EXPECT_EQ(Events("data:1\r:\0\n:\r\ndata:2\n:"s + longstring + "\rdata:3\n:data:fail\r:" +
                   longstring + "\ndata:4\n\n"),
            (std::vector<Ev>{{"message", "1\n2\n3\n4"}}));
  EXPECT_EQ(Events(": heartbeat\n\n:\n\n"), std::vector<Ev>{});
}

TEST(SseParser, MultipleDataLinesAreJoinedWithLf) {
  EXPECT_EQ(Events("data: first\ndata: second\ndata:\ndata: fourth\n\n"),
            (std::vector<Ev>{{"message", "first\nsecond\n\nfourth"}}));
}

TEST(SseParser, EmptyDataFieldProducesEventWithEmptyData) {
  // WPT format-field-data.
  EXPECT_EQ(Events("data:\n\ndata\ndata\n\ndata:test\n\n"),
            (std::vector<Ev>{{"message", ""}, {"message", "\n"}, {"message", "test"}}));
}

TEST(SseParser, DefaultTypeIsMessage) {
  EXPECT_EQ(Events("data:x\n\n"), (std::vector<Ev>{{"message", "x"}}));
}

TEST(SseParser, EventFieldSetsTypeForOneEventOnly) {
  // WPT format-field-event.
  EXPECT_EQ(Events("event:test\ndata:x\n\ndata:x\n\n"),
            (std::vector<Ev>{{"test", "x"}, {"message", "x"}}));
}

TEST(SseParser, EmptyEventFieldMeansMessage) {
  // WPT format-field-event-empty.
  EXPECT_EQ(Events("event: \ndata:data\n\n"), (std::vector<Ev>{{"message", "data"}}));
}

TEST(SseParser, LastEventFieldWins) {
  EXPECT_EQ(Events("event:a\nevent:b\ndata:x\n\n"), (std::vector<Ev>{{"b", "x"}}));
}

TEST(SseParser, TypeWithoutDataIsDiscardedAtBlankLine) {
  EXPECT_EQ(Events("event:a\n\ndata:x\n\n"), (std::vector<Ev>{{"message", "x"}}));
}

TEST(SseParser, FieldWithoutColonHasEmptyValue) {
  EXPECT_EQ(Events("data\n\n"), (std::vector<Ev>{{"message", ""}}));
  EXPECT_EQ(Events("event\ndata:x\n\n"), (std::vector<Ev>{{"message", "x"}}));
  const Outcome outcome = Parse("id:1\nid\ndata:x\n\n");
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "x", ""}}));
}

TEST(SseParser, OnlyOneLeadingSpaceIsRemoved) {
  EXPECT_EQ(Events("data:  x\n\n"), (std::vector<Ev>{{"message", " x"}}));
  EXPECT_EQ(Events("data: x \n\n"), (std::vector<Ev>{{"message", "x "}}));
  EXPECT_EQ(Events("data: \n\n"), (std::vector<Ev>{{"message", ""}}));
  // WPT format-leading-space: only U+0020 is stripped, not tabs.
  EXPECT_EQ(Events("data:\ttest\rdata: \ndata:test\n\n"),
            (std::vector<Ev>{{"message", "\ttest\n\ntest"}}));
}

TEST(SseParser, ColonsAfterTheFirstBelongToValue) {
  EXPECT_EQ(Events("data: a:b: c\nevent::x\n\n"), (std::vector<Ev>{{":x", "a:b: c"}}));
}

TEST(SseParser, FieldNamesAreCaseSensitiveAndUnknownFieldsIgnored) {
  // WPT format-field-unknown.
  EXPECT_EQ(Events("data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\n"
                   "data:test\n\n"),
            (std::vector<Ev>{{"message", "test\n\ntest"}}));
  EXPECT_EQ(Events("Data:x\nDATA:y\nEvent:z\ndata :w\n\n"), std::vector<Ev>{});
}

TEST(SseParser, NulInDataIsKept) {
  // WPT format-null-character.
  EXPECT_EQ(Events("data:\0\n\n\n\n"s), (std::vector<Ev>{{"message", std::string(1, '\0')}}));
}

// ---------------------------------------------------------------------------------------------
// retry

TEST(SseParser, RetryWithDigitsIsReportedOnce) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  EXPECT_EQ(parser.take_retry_ms(), std::nullopt);
  ASSERT_EQ(parser.feed("retry: 10\n", 10, out), Result::ok);
  EXPECT_EQ(parser.take_retry_ms(), std::optional<uint64_t>(10));
  EXPECT_EQ(parser.take_retry_ms(), std::nullopt);
  EXPECT_TRUE(out.empty()) << "retry alone is not an event";

  EXPECT_EQ(Parse("retry: 10\n").retry_ms, std::optional<uint64_t>(10));
  EXPECT_EQ(Parse("retry:0\n").retry_ms, std::optional<uint64_t>(0));
}

TEST(SseParser, RetryWithLeadingZerosIsDecimal) {
  // WPT format-field-retry.
  EXPECT_EQ(Parse("retry:03000\ndata:x\n\n").retry_ms, std::optional<uint64_t>(3000));
}

TEST(SseParser, RetryWithAnythingButDigitsIsIgnored) {
  for (const char* line : {"retry: 1a\n", "retry: -1\n", "retry:\n", "retry\n", "retry: \n",
                           "retry:  10\n", "retry: 10 \n", "retry: +5\n", "retry: 1.5\n",
                           "retry: 1e3\n", "retry:\xD9\xA1\n" /* ARABIC-INDIC DIGIT ONE */}) {
    SCOPED_TRACE(Escape(line));
    EXPECT_EQ(Parse(line).retry_ms, std::nullopt);
  }
}

TEST(SseParser, InvalidRetryKeepsEarlierValidValue) {
  // WPT format-field-retry-bogus.
  EXPECT_EQ(Parse("retry:2000\nretry:1000x\ndata:x\n\n").retry_ms, std::optional<uint64_t>(2000));
  EXPECT_EQ(Parse("retry:2000\nretry:1000\n").retry_ms, std::optional<uint64_t>(1000));
}

TEST(SseParser, RetryBeyondUint64IsClampedToMax) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(Parse("retry:18446744073709551614\n").retry_ms, std::optional<uint64_t>(kMax - 1));
  EXPECT_EQ(Parse("retry:18446744073709551615\n").retry_ms, std::optional<uint64_t>(kMax));
  EXPECT_EQ(Parse("retry:18446744073709551616\n").retry_ms, std::optional<uint64_t>(kMax));
  EXPECT_EQ(Parse("retry:99999999999999999999\n").retry_ms, std::optional<uint64_t>(kMax));
  EXPECT_EQ(Parse("retry:" + std::string(500, '9') + "\n").retry_ms,
            std::optional<uint64_t>(kMax));
}

TEST(SseParser, PendingRetrySurvivesResetConnection) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(parser.feed("retry:5\n", 8, out), Result::ok);
  parser.reset_connection();
  EXPECT_EQ(parser.take_retry_ms(), std::optional<uint64_t>(5));
}

// ---------------------------------------------------------------------------------------------
// id

TEST(SseParser, IdPersistsToFollowingEvents) {
  const Outcome outcome = Parse("id:1\ndata:a\n\ndata:b\n\nid: 2\ndata:c\n\n");
  EXPECT_EQ(outcome.events,
            (std::vector<Ev>{{"message", "a", "1"}, {"message", "b", "1"}, {"message", "c", "2"}}));
  EXPECT_EQ(outcome.last_event_id, "2");
}

TEST(SseParser, IdFieldAfterDataInSameEventApplies) {
  EXPECT_EQ(Events("data:a\nid:7\n\n"), (std::vector<Ev>{{"message", "a", "7"}}));
}

TEST(SseParser, EmptyIdFieldClearsLastEventId) {
  const Outcome outcome = Parse("id:1\ndata:a\n\nid:\ndata:b\n\n");
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a", "1"}, {"message", "b", ""}}));
  EXPECT_EQ(outcome.last_event_id, "");
}

TEST(SseParser, IdContainingNulIsIgnored) {
  const Outcome outcome = Parse("id:a\nid:b\0c\ndata:x\n\nid:\0\ndata:y\n\n"s);
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "x", "a"}, {"message", "y", "a"}}));
  EXPECT_EQ(outcome.last_event_id, "a");
}

TEST(SseParser, IdWithoutDataProducesNoEventButIsKept) {
  const Outcome outcome = Parse("id: 7\n\n");
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_EQ(outcome.last_event_id, "7");
  EXPECT_EQ(Events("id: 7\n\ndata:x\n\n"), (std::vector<Ev>{{"message", "x", "7"}}));
}

TEST(SseParser, IdOfAnEventCutBeforeDispatchIsDroppedWithIt) {
  // WHATWG: `id:` fills the buffer; only dispatch makes it the last event ID. Event 42 was never
  // delivered, so a reconnect must resume after 41 and the next event still carries 41.
  const Outcome outcome =
      ParseConnections({"id:41\ndata:a\n\nid:42\ndata:partial\n", "data:b\n\n"});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a", "41"}, {"message", "b", "41"}}));
  EXPECT_EQ(outcome.last_event_id, "41");
}

// Feeds a whole string (sizes written by hand are easy to get wrong).
Result Feed(SseParser& parser, const std::string& text, std::vector<SseEvent>& out) {
  return parser.feed(text.data(), text.size(), out);
}

TEST(SseParser, LastEventIdChangesOnlyAtDispatch) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(Feed(parser, "id: 6\ndata: six\n\n", out), Result::ok);
  EXPECT_EQ(parser.last_event_id(), "6");
  ASSERT_EQ(Feed(parser, "id: 7\ndata: part", out), Result::ok);
  EXPECT_EQ(parser.last_event_id(), "6") << "event 7 is not complete: resuming must not skip it";
  ASSERT_EQ(Feed(parser, "\n\n", out), Result::ok);
  EXPECT_EQ(parser.last_event_id(), "7");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].id, "7");
}

TEST(SseParser, CutAfterIdLineResumesFromThePreviousId) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(Feed(parser, "id: 6\ndata: six\n\nid: 7\ndata: part\n", out), Result::ok);
  parser.reset_connection();
  EXPECT_EQ(parser.last_event_id(), "6");
  // The server resends 7 on the new connection; before it, an event without an id keeps 6.
  ASSERT_EQ(Feed(parser, "data: x\n\nid: 7\ndata: seven\n\n", out), Result::ok);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].id, "6");
  EXPECT_EQ(out[2].id, "7");
  EXPECT_EQ(parser.last_event_id(), "7");
}

TEST(SseParser, DispatchWithoutDataStillSetsLastEventId) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out;
  ASSERT_EQ(Feed(parser, "id: 9\n", out), Result::ok);
  EXPECT_EQ(parser.last_event_id(), "");
  ASSERT_EQ(Feed(parser, "\n", out), Result::ok);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parser.last_event_id(), "9");
}

TEST(SseParser, SeededLastEventIdIsUsedUntilReplaced) {
  const Outcome outcome =
      ParseConnections({"data:a\n\n", "data:b\n\nid:n\ndata:c\n\n"}, kDefaultMaxLine, "seed");
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a", "seed"},
                                             {"message", "b", "seed"},
                                             {"message", "c", "n"}}));
}

// ---------------------------------------------------------------------------------------------
// End of stream and connection resets

TEST(SseParser, UnterminatedFinalEventIsNotDispatched) {
  // WPT format-data-before-final-empty-line.
  const Outcome outcome = Parse("retry:1000\ndata:test1\n\nid:test\ndata:test2");
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "test1"}}));
}

TEST(SseParser, UnterminatedEventIsDiscardedOnResetConnection) {
  // Complete data line but no blank line; then a partial line; then a pending type.
  const Outcome outcome =
      ParseConnections({"data:lost\n", "\ndata:par", "\n\nevent:lost\n", "data:kept\n\n"});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "kept"}}));
}

TEST(SseParser, PendingCrIsDiscardedOnResetConnection) {
  // A CR ending the last connection must not swallow an LF starting the next one.
  const Outcome outcome = ParseConnections({"data:a\r", "\ndata:b\n\n"});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "b"}}));
}

TEST(SseParser, FeedAppendsToExistingEvents) {
  SseParser parser(kDefaultMaxLine);
  std::vector<SseEvent> out(1);
  out[0].data = "earlier";
  ASSERT_EQ(parser.feed("data:x\n\n", 8, out), Result::ok);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, "earlier");
  EXPECT_EQ(out[1].data, "x");
}

// ---------------------------------------------------------------------------------------------
// UTF-8

TEST(SseParser, ValidUtf8PassesUnchanged) {
  // WPT format-utf-8, then boundary code points U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF,
  // U+10000, U+10FFFF.
  for (const std::string text :
       {"ok\xE2\x80\xA6", "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF",
        "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC",
        // Long enough to leave and re-enter the 8-byte ASCII fast path several times.
        "0123456789\xC3\xA9" "0123456789abcdef\xF0\x9F\x98\x80" "0123456789abcdef"}) {
    SCOPED_TRACE(Escape(text));
    EXPECT_EQ(Events("data:" + text + "\n\n"), (std::vector<Ev>{{"message", text}}));
  }
}

TEST(SseParser, InvalidUtf8IsReplacedByMaximalSubpart) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::string r = kFffd;
  const std::vector<Case> cases = {
      {"\x80", r},                                       // stray continuation byte
      {"a\xBF\xBF" "b", "a" + r + r + "b"},              // each stray byte is one subpart
      {"a\xC3", "a" + r},                                // 2-byte sequence truncated at line end
      {"a\xE2\x82", "a" + r},                            // 3-byte truncated: one U+FFFD
      {"a\xF0\x9F\x98", "a" + r},                        // 4-byte truncated: one U+FFFD
      {"\xE2\x82x", r + "x"},                            // truncated by an ASCII byte
      {"\xE2\xF0\x9F\x98\x80", r + "\xF0\x9F\x98\x80"},  // truncated by a valid lead byte
      {"\xC0\xAF", r + r},                               // overlong '/', C0 never valid
      {"\xC1\xBF", r + r},                               // overlong, C1 never valid
      {"\xE0\x80\xAF", r + r + r},                       // overlong 3-byte
      {"\xE0\x9F\xBF", r + r + r},                       // overlong 3-byte, top of range
      {"\xF0\x80\x80\xAF", r + r + r + r},               // overlong 4-byte
      {"\xED\xA0\x80", r + r + r},                       // U+D800, high surrogate
      {"\xED\xBF\xBF", r + r + r},                       // U+DFFF, low surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},               // U+110000
      {"\xF5\x80\x80\x80", r + r + r + r},               // lead byte beyond U+10FFFF
      {"\xFE\xFF", r + r},
      // Unicode 15 Table 3-8 "U+FFFD for non-shortest forms / maximal subparts" example.
      {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + r + r + r + "b" + r + "c" + r + r + "d"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(Escape(c.in));
    EXPECT_EQ(Events("data:" + c.in + "\n\n"), (std::vector<Ev>{{"message", c.out}}));
  }
}

TEST(SseParser, InvalidUtf8IsReplacedInEveryField) {
  const Outcome outcome = Parse("event:\xFF\nid:\xC3\ndata:\xED\xA0\x80\n\n");
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{kFffd, kFffd + kFffd + kFffd, kFffd}}));
  EXPECT_EQ(outcome.last_event_id, kFffd);
  // An ill-formed byte in a field name makes it an unknown field.
  EXPECT_EQ(Events("dat\xE1:x\ndata:y\n\n"), (std::vector<Ev>{{"message", "y"}}));
}

TEST(SseParser, TruncatedSequenceBeforeLineEndDoesNotSwallowIt) {
  EXPECT_EQ(Events("data:\xE2\x82\r\ndata:\xF0\r\rdata:ok\n\n"),
            (std::vector<Ev>{{"message", kFffd + "\n" + kFffd}, {"message", "ok"}}));
}

// ---------------------------------------------------------------------------------------------
// Line length limit

TEST(SseParser, LineExactlyAtLimitIsAccepted) {
  // "data:12345" is 10 bytes; terminators are not counted.
  for (const char* eol : {"\n", "\r", "\r\n"}) {
    SCOPED_TRACE(Escape(eol));
    const std::string input = std::string("data:12345") + eol + eol;
    const Outcome outcome = Parse(input, 10);
    EXPECT_EQ(outcome.failed, std::vector<bool>{false});
    EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "12345"}}));
  }
}

TEST(SseParser, LineOverLimitFailsAndStaysFailed) {
  const Outcome outcome = Parse("data:a\n\ndata:123456\n\ndata:b\n\n", 10);
  EXPECT_EQ(outcome.failed, std::vector<bool>{true});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a"}}))
      << "events completed before the long line are still delivered";

  SseParser parser(10);
  std::vector<SseEvent> out;
  EXPECT_EQ(parser.feed("data:123456\n", 12, out), Result::line_too_long);
  EXPECT_EQ(parser.feed("\n", 1, out), Result::line_too_long);
  EXPECT_EQ(parser.feed("data:x\n\n", 8, out), Result::line_too_long);
  EXPECT_EQ(parser.feed("", 0, out), Result::line_too_long);
  EXPECT_TRUE(out.empty());
}

TEST(SseParser, UnterminatedLineFailsAsSoonAsItExceedsLimit) {
  SseParser parser(1024);
  std::vector<SseEvent> out;
  for (int i = 0; i < 1024; ++i) ASSERT_EQ(parser.feed("x", 1, out), Result::ok) << i;
  EXPECT_EQ(parser.feed("x", 1, out), Result::line_too_long);

  // A huge unterminated chunk is rejected without waiting for its line end.
  SseParser other(1024);
  const std::string huge(1 << 20, 'x');
  EXPECT_EQ(other.feed(huge.data(), huge.size(), out), Result::line_too_long);
}

TEST(SseParser, CommentLinesCountTowardsLimit) {
  EXPECT_EQ(Parse(":" + std::string(10, 'x') + "\n", 10).failed, std::vector<bool>{true});
}

// ---------------------------------------------------------------------------------------------
// Event size limit

TEST(SseParser, EventExactlyAtLimitIsAccepted) {
  // data "1234567" + '\n' (8) + type "ab" (2) + id "xyz" (3) = 13 bytes pending.
  const Outcome outcome =
      ParseConnections({"id:xyz\nevent:ab\ndata:1234\ndata:56\n\n"}, kDefaultMaxLine, "", 13);
  EXPECT_EQ(outcome.failed, std::vector<bool>{false});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"ab", "1234\n56", "xyz"}}));
}

TEST(SseParser, EventOverLimitFailsAndStaysFailed) {
  const Outcome outcome = ParseConnections(
      {"data:a\n\nid:xyz\nevent:ab\ndata:1234\ndata:567\n\ndata:b\n\n"}, kDefaultMaxLine, "", 13);
  EXPECT_EQ(outcome.failed, std::vector<bool>{true});
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a"}}));

  SseParser parser(kDefaultMaxLine, 16);
  std::vector<SseEvent> out;
  EXPECT_EQ(parser.feed("data:0123456789\n", 16, out), Result::ok);
  EXPECT_EQ(parser.feed("data:0123456789\n", 16, out), Result::event_too_large);
  EXPECT_EQ(parser.feed("\n", 1, out), Result::event_too_large);
  EXPECT_TRUE(out.empty());
}

TEST(SseParser, ManyShortDataLinesCannotGrowOneEventPastTheLimit) {
  SseParser parser(1024, 64 * 1024);
  std::vector<SseEvent> out;
  const std::string line = "data:" + std::string(1000, 'x') + "\n";
  Result result = Result::ok;
  int lines = 0;
  while (result == Result::ok && lines < 1000) {
    result = parser.feed(line.data(), line.size(), out);
    ++lines;
  }
  EXPECT_EQ(result, Result::event_too_large);
  EXPECT_EQ(lines, 66) << "65 lines of 1001 bytes fit in 64 KiB, the 66th does not";
  EXPECT_TRUE(out.empty());
}

TEST(SseParser, EventLimitCountsEachEventAfresh) {
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += "data:0123456789\n\n";
  const Outcome outcome = ParseConnections({stream}, kDefaultMaxLine, "", 16);
  EXPECT_EQ(outcome.failed, std::vector<bool>{false});
  EXPECT_EQ(outcome.events.size(), 50u);
}

TEST(SseParser, ResetConnectionClearsEventTooLarge) {
  const Outcome outcome =
      ParseConnections({"data:a\n\ndata:0123456789abcdef\n\n", "data:b\n\n"}, kDefaultMaxLine, "", 16);
  EXPECT_EQ(outcome.failed, (std::vector<bool>{true, false}));
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a"}, {"message", "b"}}));
}

TEST(SseParser, ResetConnectionClearsFailedState) {
  const Outcome outcome =
      ParseConnections({"data:a\n\ndata:0123456789\n\n", "data:b\n\n"}, 10);
  EXPECT_EQ(outcome.failed, (std::vector<bool>{true, false}));
  EXPECT_EQ(outcome.events, (std::vector<Ev>{{"message", "a"}, {"message", "b"}}));
}

// ---------------------------------------------------------------------------------------------
// web-platform-tests eventsource/format-* streams, each also checked under every split.

struct WptCase {
  const char* name;
  std::string stream;
  std::vector<Ev> events;
};

std::string WptCaseName(const testing::TestParamInfo<WptCase>& param_info) {
  return param_info.param.name;
}

class SseParserWpt : public testing::TestWithParam<WptCase> {};

TEST_P(SseParserWpt, MatchesBrowserBehaviour) {
  EXPECT_EQ(Events(GetParam().stream), GetParam().events);
}

INSTANTIATE_TEST_SUITE_P(
    Format, SseParserWpt,
    testing::Values(
        WptCase{"field_parsing",
                "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\r"
                            "data_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n"s,
                {{"message", "\0\n 2\n1\n3\n\n4"s}}},
        WptCase{"leading_bom", "\xEF\xBB\xBF" "data:1\n\n\xEF\xBB\xBF" "data:2\n\ndata:3",
                {{"message", "1"}}},
        WptCase{"bom_2", "\xEF\xBB\xBF\xEF\xBB\xBF" "data:1\n\ndata:2\n\ndata:3",
                {{"message", "2"}}},
        WptCase{"newlines", "data:test\r\ndata\ndata:test\r\n\r", {{"message", "test\n\ntest"}}},
        WptCase{"null_character", "data:\0\n\n\n\n"s,
                {{"message", std::string(1, '\0')}}},
        WptCase{"retry_bogus", "retry:3000\nretry:1000x\ndata:x\n\n", {{"message", "x"}}},
        WptCase{"retry_empty", "retry\ndata:test\n\n", {{"message", "test"}}},
        WptCase{"utf_8", "data:ok\xE2\x80\xA6\n\n", {{"message", "ok\xE2\x80\xA6"}}},
        WptCase{"field_data", "data:\n\ndata\ndata\n\ndata:test",
                {{"message", ""}, {"message", "\n"}}},
        WptCase{"field_event", "event:test\ndata:x\n\ndata:x\n\n",
                {{"test", "x"}, {"message", "x"}}},
        WptCase{"field_event_empty", "event: \ndata:data\n\n", {{"message", "data"}}},
        WptCase{"field_id", "id: 1\ndata:\n\nid:\ndata:x\n\n",
                {{"message", "", "1"}, {"message", "x", ""}}},
        WptCase{"field_id_null", "id:\0\0\ndata:hello\n\n"s,
                {{"message", "hello", ""}}},
        WptCase{"field_unknown",
                "data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\n"
                "data:test\n\n",
                {{"message", "test\n\ntest"}}},
        WptCase{"leading_space", "data:\ttest\rdata: \ndata:test\n\n",
                {{"message", "\ttest\n\ntest"}}},
        WptCase{"data_before_final_empty_line", "retry:1000\ndata:test1\n\nid:test\ndata:test2",
                {{"message", "test1"}}},
        WptCase{"event_data", "data:msg\ndata:msg\n\n\n\ndata:\n\ndata:end\n\n",
                {{"message", "msg\nmsg"}, {"message", ""}, {"message", "end"}}}),
    WptCaseName);

// ---------------------------------------------------------------------------------------------
// A long, realistic stream built alongside its expected events.

TEST(SseParser, LongRealisticStreamMatchesExpectationUnderAllSplits) {
  std::mt19937 rng(7);
  const char* const eols[] = {"\n", "\r\n", "\r"};
  const char* const fragments[] = {"{\"price\":101.25}", "caf\xC3\xA9", "\xF0\x9F\x9A\x80 go",
                                   "a: b", " leading space", "", "\xE6\x97\xA5\xE6\x9C\xAC"};
  auto pick = [&](auto& array) {
    return array[std::uniform_int_distribution<size_t>(0, std::size(array) - 1)(rng)];
  };

  std::string stream = "\xEF\xBB\xBF:ok\n\nretry: 2500\n";
  std::vector<Ev> expected;
  std::string id;
  for (int i = 0; i < 400; ++i) {
    // One line-end style per event: a CR line end followed by an LF blank line would be one CRLF.
    const std::string eol = pick(eols);
    if (i % 7 == 0) stream += ": heartbeat " + std::to_string(i) + eol;
    std::string type = "message";
    if (i % 3 == 0) {
      type = "update";
      stream += "event: update" + eol;
    }
    if (i % 5 == 0) {
      id = "evt-" + std::to_string(i);
      stream += "id: " + id + eol;
    }
    std::string data;
    const int lines = 1 + i % 3;
    for (int l = 0; l < lines; ++l) {
      const std::string payload = std::to_string(i) + ":" + pick(fragments);
      stream += "data: " + payload + eol;
      data += (l > 0 ? "\n" : "") + payload;
    }
    if (i % 11 == 0) stream += "unknown: ignored" + eol;
    stream += eol;
    expected.push_back({type, data, id});
  }
  stream += "data: never dispatched\n";

  const Outcome outcome = Parse(stream);
  EXPECT_EQ(outcome.failed, std::vector<bool>{false});
  EXPECT_EQ(outcome.events, expected);
  EXPECT_EQ(outcome.retry_ms, std::optional<uint64_t>(2500));
}

TEST(SseParser, RandomByteSoupGivesSameResultUnderAllSplits) {
  // Short random streams over an alphabet dense in syntax, line ends, BOM and UTF-8 bytes, with a
  // small line limit so that failures land at split-sensitive positions too.
  const std::vector<std::string> pieces = {
      "data", "id", "event", "retry", ":", " ", "\r", "\n", "\r\n", "x", "7",
      "\xEF", "\xBB", "\xBF", "\xC3", "\xA9", "\xF0\x9F", "\x80", "\xED\xA0", std::string(1, '\0')};
  std::mt19937 rng(99);
  std::uniform_int_distribution<size_t> piece(0, pieces.size() - 1);
  for (int i = 0; i < 100; ++i) {
    std::string stream;
    while (stream.size() < 120) stream += pieces[piece(rng)];
    SCOPED_TRACE(Escape(stream));
    Parse(stream, 24);
  }
}

TEST(SseParser, CommentsBecomeEventsInStreamOrderOnlyWhenAsked) {
  const std::string input = ": first\r\n:second\ndata: x\n: third \n\n:\n";
  for (bool enabled : {false, true}) {
    for (size_t split = 0; split <= input.size(); split++) {
      SseParser parser(kDefaultMaxLine);
      parser.set_comments(enabled);
      std::vector<SseEvent> out;
      ASSERT_EQ(parser.feed(input.data(), split, out), Result::ok);
      ASSERT_EQ(parser.feed(input.data() + split, input.size() - split, out), Result::ok);
      if (!enabled) {
        ASSERT_EQ(out.size(), 1u);
        EXPECT_FALSE(out[0].comment);
        continue;
      }
      ASSERT_EQ(out.size(), 5u) << split;
      EXPECT_TRUE(out[0].comment);
      EXPECT_EQ(out[0].data, "first");
      EXPECT_EQ(out[1].data, "second");
      EXPECT_TRUE(out[2].comment);
      EXPECT_EQ(out[2].data, "third ");
      EXPECT_FALSE(out[3].comment);
      EXPECT_EQ(out[3].data, "x");
      EXPECT_TRUE(out[4].comment);
      EXPECT_EQ(out[4].data, "");
      EXPECT_TRUE(out[4].id.empty());
    }
  }
}

}  // namespace
}  // namespace tidewire::detail
