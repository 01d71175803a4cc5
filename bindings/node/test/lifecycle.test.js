'use strict';
// Waiting, closing, aborting, collecting; many streams at once; many open/close cycles.
const assert = require('node:assert/strict');
const { getEventListeners, once } = require('node:events');
const fs = require('node:fs');
const v8 = require('node:v8');
const vm = require('node:vm');
const { after, before, test } = require('node:test');
const { Stream, TidewireError } = require('tidewire');
const { startPeers, take, until } = require('./peers');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const collect = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve)); // finalizers run between turns
  }
};
const openFds = () => fs.readdirSync('/proc/self/fd').length;

const T = { timeout: 30000 };
let peers;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());

test('next() resolves undefined when the timeout passes', T, async () => {
  const stream = new Stream(`${peers.httpUrl}/events?count=0`, { transport: 'sse' });
  try {
    const start = performance.now();
    assert.equal(await stream.next({ timeout: 300 }), undefined);
    const waited = performance.now() - start;
    assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms`);
    assert.equal(await stream.next({ timeout: 0 }), undefined);
  } finally {
    stream.close();
  }
});

test('close() ends a pending iteration cleanly, and is idempotent', T, async () => {
  const stream = new Stream(`${peers.httpUrl}/events?count=2`, { transport: 'sse' });
  const ids = [];
  const reading = (async () => {
    for await (const event of stream) ids.push(event.id);
    return 'ended';
  })();
  await until(() => ids.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the reader now waits: the response is held open
  stream.close();
  assert.equal(await reading, 'ended');
  assert.deepEqual(ids, ['0', '1']);
  stream.close();
  assert.equal(await stream.next(), null);
});

test('events already queued stay readable after close()', T, async () => {
  const stream = new Stream(`${peers.httpUrl}/events?count=3`, { transport: 'sse' });
  await until(() => stream.stats().queue_depth === 3);
  stream.close();
  assert.deepEqual((await take(stream, 5)).map((e) => e.id), ['0', '1', '2']);
});

test('leaving a for await early leaves the stream open', T, async () => {
  const stream = new Stream(`${peers.wsUrl}/push?count=4`);
  assert.deepEqual((await take(stream, 2)).map((e) => e.json().i), [0, 1]);
  assert.deepEqual((await take(stream, 2)).map((e) => e.json().i), [2, 3]);
  stream.close();
});

test("next() is refused while 'message' listeners take the events", T, async () => {
  const stream = new Stream(`${peers.wsUrl}/echo`);
  const listener = () => {};
  stream.on('message', listener);
  await assert.rejects(stream.next(), TidewireError);
  stream.off('message', listener);
  stream.send('back to next()');
  assert.equal((await stream.next({ timeout: 5000 })).text, 'back to next()');
  stream.close();
});

test('removeAllListeners() stops the flow; a new listener starts it again', T, async () => {
  const stream = new Stream(`${peers.wsUrl}/echo`);
  const texts = [];
  stream.on('message', (event) => texts.push(event.text));
  stream.send('one');
  await until(() => texts.length === 1);
  stream.removeAllListeners();
  stream.send('two');
  assert.equal((await stream.next({ timeout: 5000 })).text, 'two');
  stream.once('message', (event) => texts.push(event.text));
  stream.send('three');
  await until(() => texts.length === 2);
  stream.close();
  assert.deepEqual(texts, ['one', 'three']);
});

test('an AbortSignal closes the stream: iteration ends, the peer sees close 1000', T, async () => {
  const controller = new AbortController();
  const stream = new Stream(`${peers.wsUrl}/push?count=1&abort`, { signal: controller.signal });
  const received = [];
  const reading = (async () => {
    for await (const event of stream) {
      received.push(event.json().i);
      controller.abort();
    }
  })();
  await reading;
  assert.deepEqual(received, [0]);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the abort listener is removed');
  await until(() => peers.closesOf('/push?count=1&abort').length === 1);
  assert.deepEqual(peers.closesOf('/push?count=1&abort'), [1000]);
});

test('an already aborted signal gives a stream that is closed at once', T, async () => {
  const stream = new Stream(`${peers.httpUrl}/events?count=5`, { transport: 'sse', signal: AbortSignal.abort() });
  const events = await take(stream, 10);
  assert.ok(events.length <= 5);
  assert.equal(stream.ended, true);
});

test('AbortSignal.timeout ends a listener-driven stream', T, async () => {
  const stream = new Stream(`${peers.httpUrl}/events?count=1000000&interval_ms=10`, {
    transport: 'sse',
    signal: AbortSignal.timeout(200),
  });
  let count = 0;
  stream.on('message', () => count++);
  await once(stream, 'close');
  assert.ok(count > 0);
});

test('a hundred streams at once, every event in order', T, async () => {
  const streams = [];
  for (let i = 0; i < 50; i++) {
    streams.push(new Stream(`${peers.httpUrl}/events?count=20&interval_ms=2`, { transport: 'sse' }));
    streams.push(new Stream(`${peers.wsUrl}/push?count=20`));
  }
  const results = await Promise.all(streams.map((stream) => take(stream, 20)));
  for (const stream of streams) stream.close();
  for (const [n, events] of results.entries()) {
    const values = events.map((e) => (n % 2 === 0 ? Number(e.id) : e.json().i));
    assert.deepEqual(values, [...Array(20).keys()], `stream ${n}`);
  }
  await until(() => peers.connections === 0, 5000, 'every WebSocket to close');
});

test('a collected stream is closed', T, async () => {
  const connected = peers.connections;
  (() => {
    const stream = new Stream(`${peers.wsUrl}/echo`);
    stream.send('hello');
  })();
  await until(() => peers.connections === connected + 1);
  await collect();
  await until(() => peers.connections === connected, 5000, 'the collected stream to close its connection');
});

test('a stream only the pending iteration holds is not collected', T, async () => {
  const reading = (async () => {
    const ids = [];
    for await (const event of new Stream(`${peers.httpUrl}/events?count=5&interval_ms=50`, { transport: 'sse' })) {
      ids.push(event.id);
      if (ids.length === 5) return ids;
    }
    return ids;
  })();
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    await collect();
  }
  assert.deepEqual(await reading, ['0', '1', '2', '3', '4']);
});

test('no leak over 600 open/close cycles: file descriptors, connections, memory', { timeout: 60000 }, async (t) => {
  const cycle = async (round) => {
    const ws = new Stream(`${peers.wsUrl}/echo`);
    ws.send(`round ${round}`);
    const sse = new Stream(`${peers.httpUrl}/events?count=1`, { transport: 'sse' });
    const [a, b] = await Promise.all([ws.next({ timeout: 5000 }), sse.next({ timeout: 5000 })]);
    assert.ok(a && b);
    ws.close();
    sse.close();
  };
  const rounds = async (n) => {
    for (let round = 0; round < n; round += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => cycle(round + i)));
    }
    await collect();
    await until(() => peers.connections === 0, 5000, 'every WebSocket to close');
  };
  await rounds(100); // warm-up: lazily made structures, V8 heap sizing
  const fds = openFds();
  const rss = process.memoryUsage().rss;
  await rounds(500);
  await until(() => openFds() <= fds + 2, 5000, `file descriptors back to ${fds} (now ${openFds()})`);
  const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
  t.diagnostic(`file descriptors ${fds} -> ${openFds()}, RSS +${grown.toFixed(1)} MiB over 500 cycles`);
  // 1000 streams more: a leaked stream would hold its sockets and eventfd (counted above) and
  // tens of KiB; what is left here is V8 heap and allocator slack.
  assert.ok(grown < 32, `RSS grew ${grown.toFixed(1)} MiB over 500 cycles`);
});
