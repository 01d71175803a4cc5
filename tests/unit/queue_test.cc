#include "queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <set>
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

// ---- Reused event memory (tw_stream_recycle) ----------------------------------------------------

TEST(BlockClass, EveryClassHoldsItsSizesAndWastesUnderAQuarter) {
  EXPECT_EQ(block_class(0), 1u);
  EXPECT_EQ(block_class(256), 1u);
  EXPECT_EQ(block_size(1), 256u);
  EXPECT_EQ(block_class(size_t{1} << 20), block_class((size_t{1} << 20) - 1));
  EXPECT_EQ(block_class((size_t{1} << 20) + 1), 0u);  // over the largest: not kept
  size_t previous = 0;
  for (size_t bytes = 1; bytes <= (size_t{1} << 20); bytes += bytes < 4096 ? 1 : 97) {
    const size_t cls = block_class(bytes);
    ASSERT_GE(cls, 1u);
    ASSERT_GE(block_size(cls), bytes) << bytes;
    if (bytes > 256) {
      ASSERT_LT(block_size(cls), bytes + bytes / 4 + 1) << bytes;
    }
    if (cls > 1) {
      ASSERT_LT(block_size(cls - 1), bytes) << "not the smallest class for " << bytes;
    }
    ASSERT_GE(cls, previous);
    previous = cls;
  }
}

TEST(BlockCache, KeepsBlocksOfEachClassUpToItsBound) {
  BlockCache cache;
  const size_t cls = block_class(1000);
  EXPECT_EQ(cache.take(cls), nullptr);
  void* a = ::operator new(block_size(cls));
  ASSERT_TRUE(cache.put(a, cls));
  EXPECT_EQ(cache.take(block_class(5000)), nullptr) << "a block is reused for its own class only";
  EXPECT_EQ(cache.take(cls), a);
  ::operator delete(a);
  const size_t big = block_class(size_t{1} << 20);
  size_t kept = 0;
  std::vector<void*> refused;
  for (int i = 0; i < 16; i++) {
    void* b = ::operator new(block_size(big));
    if (cache.put(b, big))
      kept++;
    else
      refused.push_back(b);
  }
  EXPECT_EQ(kept * block_size(big), BlockCache::kMaxBytes);
  EXPECT_EQ(refused.size(), 16 - kept);
  for (void* b : refused) ::operator delete(b);
  BlockCache other;
  cache.move_into(other);
  EXPECT_TRUE(cache.empty());
  void* moved = other.take(big);
  EXPECT_NE(moved, nullptr);
  ::operator delete(moved);
}  // the caches free what they still hold

TEST(EventQueue, RecycledEventsGiveTheirMemoryToTheProducersNextEvents) {
  EventQueue q(100, Overflow::pause);
  BlockCache producer;
  std::vector<EventPtr> batch;
  for (int i = 0; i < 4; i++) {
    batch.emplace_back(tw_event::with_payload(std::string(1000, static_cast<char>('a' + i)), &producer));
    batch.back()->id = "a long id that does not fit a short string " + std::to_string(i);
    batch.back()->headers.emplace_back("x-header", "a value");
  }
  batch.emplace_back(new tw_event);  // not from with_payload: destroyed, not kept
  std::set<const void*> first;
  for (auto& e : batch) first.insert(e.get());
  q.push_batch(batch, &producer);
  std::vector<EventPtr> out;
  ASSERT_EQ(q.pop(out, 10, 0), TW_OK);
  ASSERT_EQ(out.size(), 5u);
  std::vector<tw_event*> raw;
  for (auto& e : out) raw.push_back(e.release());
  raw.push_back(nullptr);
  q.recycle(raw.data(), raw.size());
  // The next push hands the four blocks to the producer; its next events of that class use them.
  std::vector<EventPtr> empty_push;
  empty_push.emplace_back(new tw_event);
  q.push_batch(empty_push, &producer);
  int reused = 0;
  std::vector<EventPtr> next;
  for (int i = 0; i < 4; i++) {
    next.emplace_back(tw_event::with_payload(std::string(990, 'z'), &producer));
    if (first.count(next.back().get())) reused++;
    EXPECT_EQ(next.back()->data.view(), std::string(990, 'z'));
    EXPECT_TRUE(next.back()->id.empty());
    EXPECT_TRUE(next.back()->headers.empty());
  }
  EXPECT_EQ(reused, 4);
  // A copy is a plain allocation: it is never taken for a block of a class.
  tw_event copy(*next[0]);
  EXPECT_EQ(copy.block.cls, 0);
  EXPECT_NE(next[0]->block.cls, 0);
}

}  // namespace
}  // namespace tidewire::detail
