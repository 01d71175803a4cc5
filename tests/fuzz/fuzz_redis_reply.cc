// Whatever a Redis server (or something posing as one) sends: the bytes go through hiredis's reader
// bounded as the client bounds it, the reply through the entry reader and into events; redis:// URLs from the same input. Nothing may
// crash, leak, or read out of bounds.
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "error.h"
#include "redis/client.h"
#include "redis/entry.h"
#include "redis/url.h"

using namespace tidewire::detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  try {
    redis::RedisUrl u = redis::RedisUrl::parse("redis://" + input.substr(0, input.find('\n')), "url");
    (void)u.display();
  } catch (const Error&) {
  }
  redisReader* reader = redisReaderCreate();
  redis::ReplyLimit limit;
  limit.limit = 1 << 20;  // as redis.max_reply_bytes bounds it in the client
  redis::limit_replies(reader, &limit);
  redisReaderFeed(reader, input.data(), input.size());
  void* reply = nullptr;
  while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply) {
    std::vector<redis::Entry> entries;
    std::string error;
    if (redis::read_entries(static_cast<redisReply*>(reply), entries, error))
      for (auto& entry : entries) {
        tw_event e;
        redis::fill_event(e, std::move(entry));
      }
    freeReplyObject(reply);
    reply = nullptr;
  }
  redisReaderFree(reader);
  return 0;
}
