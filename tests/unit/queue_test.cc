#include "queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <thread>

namespace tidewire::detail {
namespace {

std::vector<EventPtr> batch_of(int first, int n) {
  std::vector<EventPtr> out;
  for (int i = 0; i < n; i++) {
    EventPtr e(new tw_event);
    e->id = std::to_string(first + i);
    out.push_back(std::move(e));
  }
  return out;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

EventPtr status(tw_kind kind, int64_t retry_ms = 0) {
  EventPtr e(new tw_event);
  e->kind = kind;
  e->retry_ms = retry_ms;
  return e;
}

EventPtr sized(const std::string& id, size_t bytes) {
  EventPtr e(new tw_event);
  e->id = id;
  e->data = std::string(bytes - id.size(), 'x');
  return e;
}

TEST(EventQueue, StatusEventsCountAgainstTheCapacityNewestStateWins) {
  EventQueue q(4, Overflow::pause);
  for (int i = 1; i <= 10000; i++) q.push_status(status(TW_KIND_RECONNECTING, i));
  EXPECT_EQ(q.depth(), 4u);
  EXPECT_EQ(q.peak(), 4u);
  EXPECT_EQ(q.dropped(), 9996u);
  q.push_status(status(TW_KIND_CLOSED));  // over the limit: the end is never lost
  q.end();
  std::vector<EventPtr> out;
  EXPECT_EQ(q.pop(out, 10, 0), TW_OK);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[3]->kind, TW_KIND_RECONNECTING);
  EXPECT_EQ(out[3]->retry_ms, 10000);  // coalesced into the newest
  EXPECT_EQ(out[4]->kind, TW_KIND_CLOSED);
}

TEST(EventQueue, StatusIntoAQueueFullOfMessagesIsDroppedAndCountedButTheEndIsNot) {
  EventQueue q(2, Overflow::pause);
  auto b = batch_of(0, 2);
  EXPECT_TRUE(q.push_batch(b));
  q.push_status(status(TW_KIND_RECONNECTING));
  EXPECT_EQ(q.depth(), 2u);
  EXPECT_EQ(q.dropped(), 1u);
  q.push_status(status(TW_KIND_ERROR));
  EXPECT_EQ(q.depth(), 3u);
}

TEST(EventQueue, DropOldestNeverEvictsTheEndAndNothingFollowsIt) {
  EventQueue q(2, Overflow::drop_oldest);
  auto b = batch_of(0, 2);
  q.push_batch(b);
  q.push_status(status(TW_KIND_CLOSED));
  b = batch_of(2, 5);  // a late batch must neither follow the end nor evict it
  q.push_batch(b);
  q.push_status(status(TW_KIND_RECONNECTING));
  q.end();
  std::vector<EventPtr> out;
  EXPECT_EQ(q.pop(out, 10, 0), TW_OK);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]->id, "0");
  EXPECT_EQ(out[2]->kind, TW_KIND_CLOSED);
}

TEST(EventQueue, MaxBytesPausesLikeAFullQueueAndResumesAtHalf) {
  EventQueue q(100, Overflow::pause, 1000);
  std::atomic<int> resumed{0};
  q.set_resume_hook([&] { resumed++; });
  std::vector<EventPtr> b;
  b.push_back(sized("a", 400));
  b.push_back(sized("b", 400));
  EXPECT_FALSE(q.push_batch(b));
  EXPECT_EQ(q.bytes(), 800u);
  b.push_back(sized("c", 400));
  EXPECT_TRUE(q.push_batch(b));
  EXPECT_TRUE(q.paused());
  std::vector<EventPtr> out;
  q.pop(out, 1, 0);  // 800 left: above half
  EXPECT_EQ(resumed, 0);
  q.pop(out, 1, 0);  // 400 left
  EXPECT_EQ(resumed, 1);
  EXPECT_EQ(q.bytes(), 400u);
}

TEST(EventQueue, AnEventLargerThanMaxBytesIsTakenIntoAnEmptyQueue) {
  EventQueue q(100, Overflow::drop_oldest, 1000);
  std::vector<EventPtr> b;
  for (int i = 0; i < 3; i++) b.push_back(sized(std::to_string(i), 300));
  q.push_batch(b);
  b.push_back(sized("big", 5000));
  q.push_batch(b);
  EXPECT_EQ(q.depth(), 1u);
  EXPECT_EQ(q.dropped(), 3u);
  b.push_back(sized("next", 300));  // evicts the big one: it does not fit beside it
  q.push_batch(b);
  std::vector<EventPtr> out;
  q.pop(out, 10, 0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->id, "next");
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(EventQueue, BytesCountDataIdTypeAndHeaders) {
  tw_event e;
  e.id = "12";
  e.type = "abc";
  e.data = "hello";
  e.headers = {{"k", "vv"}};
  EXPECT_EQ(event_bytes(e), 2u + 3u + 5u + 3u);
}

TEST(EventQueue, PauseWhenFullAndResumeAtHalfCapacity) {
  EventQueue q(8, Overflow::pause);
  std::atomic<int> resumed{0};
  q.set_resume_hook([&] { resumed++; });
  auto b = batch_of(0, 7);
  EXPECT_FALSE(q.push_batch(b));
  b = batch_of(7, 3);
  EXPECT_TRUE(q.push_batch(b));  // the whole batch is kept, over capacity
  EXPECT_EQ(q.depth(), 10u);
  EXPECT_TRUE(q.paused());
  std::vector<EventPtr> out;
  EXPECT_EQ(q.pop(out, 5, 0), TW_OK);
  EXPECT_EQ(resumed, 0);  // 5 left: above half
  EXPECT_EQ(q.pop(out, 1, 0), TW_OK);
  EXPECT_EQ(resumed, 1);
  EXPECT_FALSE(q.paused());
  EXPECT_EQ(q.dropped(), 0u);
  EXPECT_EQ(q.pauses(), 1u);
  EXPECT_EQ(q.peak(), 10u);
  for (size_t i = 0; i < out.size(); i++) EXPECT_EQ(out[i]->id, std::to_string(i));
}

TEST(EventQueue, DropOldestKeepsTheNewest) {
  EventQueue q(3, Overflow::drop_oldest);
  auto b = batch_of(0, 5);
  EXPECT_FALSE(q.push_batch(b));
  EXPECT_EQ(q.dropped(), 2u);
  std::vector<EventPtr> out;
  EXPECT_EQ(q.pop(out, 10, 0), TW_OK);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]->id, "2");
}

TEST(EventQueue, FdIsReadableWhileNonEmptyOrEnded) {
  EventQueue q(4, Overflow::pause);
  EXPECT_FALSE(readable(q.fd()));
  auto b = batch_of(0, 2);
  q.push_batch(b);
  EXPECT_TRUE(readable(q.fd()));
  std::vector<EventPtr> out;
  q.pop(out, 1, 0);
  EXPECT_TRUE(readable(q.fd()));
  q.pop(out, 1, 0);
  EXPECT_FALSE(readable(q.fd()));
  q.end();
  EXPECT_TRUE(readable(q.fd()));
  EXPECT_EQ(q.pop(out, 1, 0), TW_ERR_CLOSED);
}

TEST(EventQueue, EndingKeepsQueuedEventsReadable) {
  EventQueue q(4, Overflow::pause);
  auto b = batch_of(0, 2);
  q.push_batch(b);
  q.end();
  std::vector<EventPtr> out;
  EXPECT_EQ(q.pop(out, 1, 0), TW_OK);
  EXPECT_EQ(q.pop(out, 1, 0), TW_OK);
  EXPECT_EQ(q.pop(out, 1, 0), TW_ERR_CLOSED);
}

TEST(EventQueue, WakeupInterruptsOneWaitAndTimeoutsExpire) {
  EventQueue q(4, Overflow::pause);
  std::vector<EventPtr> out;
  EXPECT_EQ(q.pop(out, 1, 10), TW_ERR_TIMEOUT);
  std::thread t([&] { q.wakeup(); });
  EXPECT_EQ(q.pop(out, 1, -1), TW_ERR_WAKEUP);
  t.join();
  EXPECT_EQ(q.pop(out, 1, 0), TW_ERR_TIMEOUT);
}

TEST(EventQueue, ConcurrentConsumersEachGetDistinctEvents) {
  EventQueue q(100000, Overflow::pause);
  std::atomic<int> taken{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 4; c++)
    consumers.emplace_back([&] {
      std::vector<EventPtr> out;
      while (q.pop(out, 16, -1) == TW_OK) {
        taken += static_cast<int>(out.size());
        out.clear();
      }
    });
  for (int i = 0; i < 100; i++) {
    auto b = batch_of(i * 100, 100);
    q.push_batch(b);
  }
  q.end();
  for (auto& t : consumers) t.join();
  EXPECT_EQ(taken, 10000);
}

}  // namespace
}  // namespace tidewire::detail
