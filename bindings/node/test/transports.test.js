'use strict';
// Every transport, read with next(), with for await and as an EventEmitter, against real servers.
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { after, before, describe, test } = require('node:test');
const { Stream, StreamError } = require('tidewire');
const { startPeers, take, until } = require('./peers');
const { SECRET, WRONG_SECRET, deliver } = require('./webhooks');

const T = { timeout: 15000 };
let peers;
let keys = 0;
const fresh = (name) => `${name}-${keys++}`;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());

describe('poll', () => {
  test('sees each change once and counts 304s', T, async () => {
    const key = fresh('poll');
    peers.publish(key, { v: 0 });
    const stream = new Stream(`${peers.httpUrl}/poll/${key}`, { transport: 'poll', poll_interval_ms: 20 });
    try {
      const first = await stream.next({ timeout: 5000 });
      assert.equal(first.kind, 'message');
      assert.equal(first.transport, 'poll');
      assert.equal(first.type, 'change');
      assert.deepEqual(first.json(), { v: 0 });
      assert.equal(first.id, '"0"');
      assert.equal(first.headers.etag, '"0"');
      assert.equal(await stream.next({ timeout: 300 }), undefined); // unchanged: 304s, no event
      peers.publish(key, { v: 1 });
      assert.deepEqual((await stream.next({ timeout: 5000 })).json(), { v: 1 });
      const stats = stream.stats();
      assert.equal(stats.messages, 2);
      assert.ok(stats.not_modified >= 1 && stats.requests >= 3, JSON.stringify(stats));
    } finally {
      stream.close();
    }
  });

  test('as an async iterator', T, async () => {
    const key = fresh('poll');
    peers.publish(key, { v: 'a' });
    const stream = new Stream(`${peers.httpUrl}/poll/${key}`, { transport: 'poll', poll_interval_ms: 20 });
    const [a] = await take(stream, 1);
    peers.publish(key, { v: 'b' });
    const [b] = await take(stream, 1);
    stream.close();
    assert.deepEqual([a.json(), b.json()], [{ v: 'a' }, { v: 'b' }]);
  });
});

describe('longpoll', () => {
  const LONGPOLL = { transport: 'longpoll', longpoll_cursor_header: 'X-Cursor', longpoll_cursor_param: 'cursor' };

  test('carries the cursor and misses nothing', T, async () => {
    const key = fresh('longpoll');
    peers.publish(key, { n: 0 });
    const stream = new Stream(`${peers.httpUrl}/longpoll/${key}`, LONGPOLL);
    try {
      assert.deepEqual((await stream.next({ timeout: 5000 })).json(), { n: 0 });
      for (const n of [1, 2, 3]) peers.publish(key, { n });
      const got = await take(stream, 3);
      assert.deepEqual(got.map((e) => e.json().n), [1, 2, 3]);
      assert.deepEqual(got.map((e) => e.id), ['1', '2', '3']);
      assert.ok(got.every((e) => e.transport === 'longpoll'));
    } finally {
      stream.close();
    }
  });

  test('a held request answers a waiting iterator', T, async (t) => {
    const key = fresh('longpoll');
    // Closed when the test ends, timed out included: an open stream would keep the file's process alive.
    const stream = new Stream(`${peers.httpUrl}/longpoll/${key}`, { ...LONGPOLL, signal: t.signal });
    const reader = take(stream, 2);
    await until(() => [...peers.waiters].some((w) => w.key === key), 5000, 'the long-poll to be held');
    peers.publish(key, { n: 0 });
    peers.publish(key, { n: 1 });
    const events = await reader;
    stream.close();
    assert.deepEqual(events.map((e) => e.json().n), [0, 1]);
  });
});

describe('sse', () => {
  test('events in order, with id and type', T, async () => {
    const stream = new Stream(`${peers.httpUrl}/events?count=5`, { transport: 'sse' });
    const events = await take(stream, 5);
    stream.close();
    assert.deepEqual(events.map((e) => e.id), ['0', '1', '2', '3', '4']);
    assert.deepEqual(new Set(events.map((e) => e.type)), new Set(['tick']));
    assert.deepEqual(events.map((e) => e.json().i), [0, 1, 2, 3, 4]);
    assert.ok(events.every((e) => e.transport === 'sse' && e.kind === 'message'));
    assert.ok(events.every((e) => Buffer.isBuffer(e.data) && e.text === e.data.toString()));
    const now = performance.now();
    assert.ok(events.every((e) => e.receivedAt <= now && e.receivedAt > now - 10000), 'receivedAt is on performance.now()');
  });

  test("as an EventEmitter: 'message', then 'close' after close()", T, async () => {
    const stream = new Stream(`${peers.httpUrl}/events?count=3&interval_ms=5`, { transport: 'sse' });
    const ids = [];
    stream.on('message', (event) => {
      ids.push(event.id);
      if (ids.length === 3) stream.close();
    });
    await once(stream, 'close');
    assert.deepEqual(ids, ['0', '1', '2']);
  });

  test('a fatal status ends iteration with a StreamError', T, async () => {
    const stream = new Stream(`${peers.httpUrl}/status/404`, { transport: 'sse' });
    await assert.rejects(take(stream, 1), (error) => {
      assert.ok(error instanceof StreamError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'TW_ERR_HTTP_STATUS');
      assert.equal(error.category, 'http');
      // The core's one text of a failure: the reason, then what it does not say already, each once.
      assert.ok(error.message.startsWith(`${error.reason} (TW_ERR_HTTP_STATUS`), error.message);
      assert.equal(error.message.split('HTTP 404').length - 1, 1, error.message);
      return true;
    });
    // Every later read reports the same end.
    await assert.rejects(stream.next(), StreamError);
    assert.equal(stream.ended, true);
  });

  test("a fatal status is an 'error' event for listeners, then 'close'", T, async () => {
    const stream = new Stream(`${peers.httpUrl}/status/401`, { transport: 'sse' });
    stream.on('message', () => assert.fail('no message expected'));
    const seen = [];
    stream.on('error', (error) => seen.push(['error', error.status]));
    // (events.once would reject on the 'error' event)
    await new Promise((resolve) => stream.on('close', resolve).on('close', () => seen.push(['close'])));
    assert.deepEqual(seen, [['error', 401], ['close']]);
  });

  test('status events only when asked, then the error, then the end', T, async () => {
    const plain = new Stream(`${peers.httpUrl}/events?count=1`, { transport: 'sse' });
    assert.equal((await plain.next({ timeout: 5000 })).kind, 'message');
    plain.close();

    const stream = new Stream(`${peers.httpUrl}/status/403`, { transport: 'sse', status_events: true });
    const error = await stream.next({ timeout: 5000 });
    assert.equal(error.kind, 'error');
    assert.equal(error.error, 'TW_ERR_HTTP_STATUS');
    assert.equal(error.status, 403);
    await assert.rejects(stream.next({ timeout: 5000 }), (e) => e instanceof StreamError && e.status === 403);
  });

  test("status events go to 'status' listeners", T, async () => {
    const stream = new Stream(`${peers.httpUrl}/events?count=1`, { transport: 'sse', status_events: true });
    const kinds = [];
    stream.on('status', (event) => kinds.push(event.kind));
    stream.on('message', () => {
      kinds.push('message');
      stream.close();
    });
    await once(stream, 'close');
    assert.deepEqual(kinds, ['open', 'message', 'closed']);
  });
});

describe('ws', () => {
  test('receives, with the transport inferred from ws://', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/push?count=3`);
    const events = await take(stream, 3);
    stream.close();
    assert.deepEqual(events.map((e) => e.json().i), [0, 1, 2]);
    assert.ok(events.every((e) => e.transport === 'ws' && e.type === 'text'));
  });

  test('send: a string is a text message, bytes are a binary one', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/echo`);
    try {
      stream.send('hello');
      stream.send(Buffer.from([0, 1, 2, 255]));
      stream.send(new Uint16Array([0x0201]));
      stream.send(new Uint8Array([9, 8, 7]).buffer);
      const events = await take(stream, 4);
      assert.deepEqual(events.map((e) => e.type), ['text', 'binary', 'binary', 'binary']);
      assert.equal(events[0].text, 'hello');
      assert.deepEqual([...events[1].data], [0, 1, 2, 255]);
      assert.deepEqual([...events[2].data], [1, 2]);
      assert.deepEqual([...events[3].data], [9, 8, 7]);
      assert.throws(() => stream.send(42), TypeError);
    } finally {
      stream.close();
    }
  });

  test('a refused close code is a StreamError with the code', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/close?code=1008`);
    await assert.rejects(stream.next({ timeout: 5000 }), (e) => e instanceof StreamError && e.closeCode === 1008);
  });

  test('a normal close ends iteration cleanly', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/close?code=1000`);
    assert.deepEqual(await take(stream, 10), []);
    assert.equal(await stream.next(), null);
    assert.throws(() => stream.send('late'), (e) => e.code === 'TW_ERR_CLOSED');
  });

  test('close() sends close 1000 to the peer', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/echo?close`);
    stream.send('x');
    await stream.next({ timeout: 5000 });
    stream.close();
    await until(() => peers.closesOf('/echo?close').length === 1, 5000, 'the peer to see the close');
    assert.deepEqual(peers.closesOf('/echo?close'), [1000]);
  });
});

describe('webhook', () => {
  const open = (options = {}) =>
    new Stream('http://127.0.0.1:0/hooks', { transport: 'webhook', webhook_secret: SECRET, ...options });

  test('url has the real port', T, () => {
    const stream = open();
    try {
      assert.match(stream.url, /^http:\/\/127\.0\.0\.1:\d+\/hooks$/);
      assert.doesNotMatch(stream.url, /:0\//);
    } finally {
      stream.close();
    }
  });

  test('a signed delivery is an event, a forged one is refused', T, async () => {
    const stream = open();
    try {
      assert.equal((await deliver(stream.url, 'msg_good', { type: 'order.paid', n: 1 })).status, 204);
      const forged = await deliver(stream.url, 'msg_forged', { type: 'order.paid', n: 2 }, WRONG_SECRET);
      assert.equal(forged.status, 401, forged.body);
      const event = await stream.next({ timeout: 5000 });
      assert.equal(await stream.next({ timeout: 300 }), undefined); // the forged one was never queued
      assert.deepEqual([event.transport, event.id, event.type], ['webhook', 'msg_good', 'order.paid']);
      assert.deepEqual(event.json(), { type: 'order.paid', n: 1 });
      assert.equal(event.headers['webhook-id'], 'msg_good');
    } finally {
      stream.close();
    }
  });

  test("deliveries reach 'message' listeners", T, async () => {
    const stream = open();
    const ids = [];
    stream.on('message', (event) => ids.push(event.id));
    for (let n = 0; n < 3; n++) assert.equal((await deliver(stream.url, `msg_${n}`, { type: 't', n })).status, 204);
    await until(() => ids.length === 3);
    stream.close();
    await once(stream, 'close');
    assert.deepEqual(ids, ['msg_0', 'msg_1', 'msg_2']);
  });
});
