'use strict';
// A worker in the consumer group: takes deliveries from the Redis Stream, handles each (here: writes
// its delivery id to OUT), then acknowledges it.
//
//   node worker.js REDIS_URL CONSUMER OUT
const fs = require('node:fs');
const { Stream } = require('tidewire');

const [redisUrl, consumer, outPath, claimIdleMs = '2000'] = process.argv.slice(2);
const out = fs.openSync(outPath, 'a');
const stream = new Stream(`${redisUrl}?stream=deliveries&group=workers&consumer=${consumer}`, {
  redis_ack: 'manual',
  redis_claim_idle_ms: Number(claimIdleMs),
  reconnect_max_ms: 1000,
});
process.once('SIGTERM', () => stream.close());
(async () => {
  for await (const event of stream) {
    fs.writeSync(out, `${event.headers.id}\n`);
    stream.ack(event);
  }
})();
