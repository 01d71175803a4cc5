// The webhook dedup window: what it remembers, for how long, and how much.
#include <gtest/gtest.h>

#include <string>

#include "transport/webhook_dedup.h"

namespace tidewire::detail {
namespace {

TEST(WebhookDedup, RemembersAnIdForTheWindowOnly) {
  DedupWindow w(1000, 10);
  EXPECT_FALSE(w.seen("msg_1", 0));
  w.remember("msg_1", 0);
  EXPECT_TRUE(w.seen("msg_1", 999));
  EXPECT_FALSE(w.seen("msg_2", 999));
  EXPECT_FALSE(w.seen("msg_1", 1000));
  EXPECT_EQ(w.size(), 0u);
}

TEST(WebhookDedup, KeepsAnIdUntilItsSignedTimestampPlusToleranceHasPassed) {
  // A delivery signed 200 s ahead with a 300 s tolerance stays acceptable for 500 s: a replay at
  // 400 s must still be recognised, though the window (60 s) is long over.
  DedupWindow w(60'000, 10);
  w.remember("future", 0, 500'000);
  w.remember("now", 0, 0);
  EXPECT_TRUE(w.seen("future", 400'000));
  EXPECT_FALSE(w.seen("now", 400'000));
  EXPECT_TRUE(w.seen("future", 499'999));
  EXPECT_FALSE(w.seen("future", 500'000));
  // A keep-until inside the window changes nothing.
  w.remember("early", 600'000, 610'000);
  EXPECT_TRUE(w.seen("early", 650'000));
  EXPECT_FALSE(w.seen("early", 660'000));
}

TEST(WebhookDedup, ZeroWindowRemembersNothing) {
  DedupWindow w(0, 10);
  w.remember("msg_1", 0);
  EXPECT_FALSE(w.seen("msg_1", 0));
  EXPECT_EQ(w.size(), 0u);
}

TEST(WebhookDedup, ForgetsTheOldestPastTheCapEvenInsideTheWindow) {
  DedupWindow w(1'000'000, 3);
  for (int i = 0; i < 5; i++) w.remember("msg_" + std::to_string(i), i);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_FALSE(w.seen("msg_0", 5));
  EXPECT_FALSE(w.seen("msg_1", 5));
  for (int i = 2; i < 5; i++) EXPECT_TRUE(w.seen("msg_" + std::to_string(i), 5));
}

TEST(WebhookDedup, LongIdsCostNoMoreThanShortOnesAndStayDistinct) {
  DedupWindow w(1000, 100);
  std::string a(100'000, 'a');
  std::string b = a;
  b.back() = 'b';
  w.remember(a, 0);
  EXPECT_TRUE(w.seen(a, 1));
  EXPECT_FALSE(w.seen(b, 1));
}

}  // namespace
}  // namespace tidewire::detail
