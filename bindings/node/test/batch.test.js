'use strict';
// Events cross from the core in batches (one native call, one buffer of payloads): each test lets
// the core queue several events first, so that one read takes them all at once.
const assert = require('node:assert/strict');
const util = require('node:util');
const v8 = require('node:v8');
const vm = require('node:vm');
const { after, before, describe, test } = require('node:test');
const { Stream, StreamError } = require('tidewire');
const { startPeers, take, until, bytes } = require('./peers');
const { SECRET, deliver } = require('./webhooks');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const T = { timeout: 20000 };
const MiB = 1024 * 1024;
let peers;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());

const queued = (stream, n) => until(() => stream.stats().queue_depth === n, 10000, `${n} queued events`);

describe('one batch', () => {
  test('mixes kinds in order: open, messages, closed', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/push?count=5&close=1000`, { status_events: true });
    await queued(stream, 7);
    const events = await take(stream, 7);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['open', 'message', 'message', 'message', 'message', 'message', 'closed'],
    );
    assert.deepEqual(events.slice(1, 6).map((e) => e.json().i), [0, 1, 2, 3, 4]);
    assert.ok(events.every((e) => e.transport === 'ws'));
    assert.ok(events.slice(1, 6).every((e) => e.type === 'text' && e.error === null && e.closeCode === 0));
    assert.equal(events[6].closeCode, 1000);
    assert.deepEqual(Object.keys(events[1]), [
      'kind', 'transport', 'id', 'type', 'data', 'headers', 'receivedAt', 'error', 'status', 'closeCode', 'retryIn',
    ]);
    assert.equal(await stream.next({ timeout: 5000 }), null);
  });

  test('ends with an error event, then the stream fails with the same close code', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/push?count=3&close=1008`, { status_events: true });
    await queued(stream, 5);
    const events = await take(stream, 5);
    assert.deepEqual(events.map((e) => e.kind), ['open', 'message', 'message', 'message', 'error']);
    const error = events[4];
    assert.equal(error.closeCode, 1008);
    assert.equal(typeof error.error, 'string');
    assert.match(error.error, /^TW_ERR_/);
    assert.ok(error.data.length > 0, 'an error event carries its reason');
    await assert.rejects(stream.next({ timeout: 5000 }), (e) => {
      assert.ok(e instanceof StreamError);
      assert.equal(e.closeCode, 1008);
      assert.equal(e.code, error.error);
      assert.ok(e.message.startsWith(error.text), e.message);
      assert.equal(e.reason, error.text);
      return true;
    });
  });

  test('binary payloads are byte-exact, empty ones included', T, async () => {
    const sizes = [0, 1, 255, 4096, 65536, 3, 0, 100000];
    const stream = new Stream(`${peers.wsUrl}/push?count=0&sizes=${sizes}`);
    try {
      await queued(stream, sizes.length);
      const events = await take(stream, sizes.length);
      for (const [i, event] of events.entries()) {
        assert.ok(Buffer.isBuffer(event.data), `event ${i}: data is a Buffer`);
        assert.equal(event.data.constructor, Buffer, `event ${i}: data is a Buffer as Node makes them`);
        assert.equal(Object.getPrototypeOf(event.data.subarray(0)), Buffer.prototype);
        assert.match(util.inspect(event.data), /^<Buffer/);
        assert.equal(event.type, 'binary');
        assert.ok(event.data.equals(bytes(sizes[i], i)), `event ${i}: ${sizes[i]} bytes as sent`);
      }
      // Small payloads are views of one buffer, not copies each.
      assert.equal(events[1].data.buffer, events[2].data.buffer);
      assert.equal(events[1].data.buffer, events[3].data.buffer);
    } finally {
      stream.close();
    }
  });

  test('1 MiB messages arrive whole, beside small ones', T, async () => {
    const sizes = [MiB, 10, MiB, MiB, 7];
    const stream = new Stream(`${peers.wsUrl}/push?count=0&sizes=${sizes}`);
    try {
      await queued(stream, sizes.length);
      const events = await take(stream, sizes.length);
      for (const [i, event] of events.entries()) {
        assert.equal(event.data.length, sizes[i]);
        assert.ok(event.data.equals(bytes(sizes[i], i)), `event ${i}: ${sizes[i]} bytes as sent`);
      }
      // A large payload does not keep its neighbours' memory alive, nor they its.
      const large = [events[0], events[2], events[3]].map((e) => e.data.buffer);
      assert.equal(new Set(large).size, 3);
      assert.ok(large.every((buffer) => buffer.byteLength === MiB));
    } finally {
      stream.close();
    }
  });

  test('ids, types and headers of each event survive', T, async () => {
    const stream = new Stream('http://127.0.0.1:0/hooks', { transport: 'webhook', webhook_secret: SECRET });
    try {
      const types = ['order.paid', 'order.refunded', 'order.paid', 'customer.created'];
      for (const [n, type] of types.entries()) {
        assert.equal((await deliver(stream.url, `msg_${n}`, { type, n })).status, 204);
      }
      await queued(stream, types.length);
      const events = await take(stream, types.length);
      assert.deepEqual(events.map((e) => e.id), ['msg_0', 'msg_1', 'msg_2', 'msg_3']);
      assert.deepEqual(events.map((e) => e.type), types);
      assert.deepEqual(events.map((e) => e.json().n), [0, 1, 2, 3]);
      for (const event of events) {
        assert.equal(event.headers['webhook-id'], event.id);
        assert.equal(event.headers['content-type'], 'application/json');
        assert.match(event.headers['webhook-signature'], /^v1,/);
      }
      assert.notEqual(events[0].headers, events[2].headers, 'each event has headers of its own');
    } finally {
      stream.close();
    }
  });

  test('SSE ids and event names', T, async () => {
    const stream = new Stream(`${peers.httpUrl}/events?count=40`, { transport: 'sse' });
    try {
      await queued(stream, 40);
      const events = await take(stream, 40);
      assert.deepEqual(events.map((e) => e.id), [...Array(40).keys()].map(String));
      assert.ok(events.every((e) => e.type === 'tick' && e.transport === 'sse'));
      assert.deepEqual(events.map((e) => e.json().i), [...Array(40).keys()]);
      assert.ok(events.every((e) => Object.keys(e.headers).length === 0));
    } finally {
      stream.close();
    }
  });
});

describe('across batches', () => {
  test('events kept from a batch outlive the batches after it', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/echo`);
    try {
      const payload = (n) => Buffer.from(`first-${n}-`.repeat(5));
      for (let n = 0; n < 50; n++) stream.send(payload(n));
      await queued(stream, 50);
      const first = await take(stream, 50);
      // More than one batch's worth of other payloads, read and dropped.
      for (let n = 0; n < 600; n++) stream.send(Buffer.alloc(64, n & 0xff));
      const later = await take(stream, 600);
      assert.ok(later.every((e, n) => e.data.equals(Buffer.alloc(64, n & 0xff))));
      later.length = 0;
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const [n, event] of first.entries()) {
        assert.ok(event.data.equals(payload(n)), `event ${n} kept its data`);
        assert.deepEqual([event.kind, event.type, event.transport], ['message', 'binary', 'ws']);
      }
    } finally {
      stream.close();
    }
  });

  test("a listener that leaves mid-batch leaves the rest to next()", T, async () => {
    const stream = new Stream(`${peers.wsUrl}/push?count=10`);
    try {
      await queued(stream, 10);
      const seen = [];
      await new Promise((resolve) => {
        const listener = (event) => {
          seen.push(event.json().i);
          if (seen.length === 3) {
            stream.off('message', listener);
            resolve();
          }
        };
        stream.on('message', listener);
      });
      const rest = await take(stream, 7);
      assert.deepEqual(seen, [0, 1, 2]);
      assert.deepEqual(rest.map((e) => e.json().i), [3, 4, 5, 6, 7, 8, 9]);
    } finally {
      stream.close();
    }
  });

  test('a listener that leaves mid-batch and calls next() at once gets the next event of that batch', T, async () => {
    const stream = new Stream(`${peers.wsUrl}/push?count=10`);
    try {
      await queued(stream, 10);
      const seen = [];
      const nextOne = await new Promise((resolve) => {
        const listener = (event) => {
          seen.push(event.json().i);
          if (seen.length === 3) {
            stream.off('message', listener);
            resolve(stream.next({ timeout: 5000 }));
          }
        };
        stream.on('message', listener);
      });
      const rest = await take(stream, 6);
      assert.deepEqual(seen, [0, 1, 2]);
      assert.deepEqual([nextOne, ...rest].map((e) => e.json().i), [3, 4, 5, 6, 7, 8, 9]);
    } finally {
      stream.close();
    }
  });

  test("reading another stream from a listener leaves the rest of the listener's batch intact", T, async () => {
    const a = new Stream(`${peers.wsUrl}/push?count=20`);
    const b = new Stream(`${peers.wsUrl}/echo`);
    try {
      for (let n = 0; n < 5; n++) b.send(`b-${n}`);
      await Promise.all([queued(a, 20), queued(b, 5)]);
      const fromA = [];
      const fromB = [];
      await new Promise((resolve, reject) => {
        a.on('message', (event) => {
          fromA.push(event.json().i);
          // Takes b's batch now, in the middle of a's: a's events still to come must not change.
          if (fromA.length === 2) b.next({ timeout: 0 }).then((e) => fromB.push(e.text), reject);
          if (fromA.length === 20) resolve();
        });
      });
      fromB.push(...(await take(b, 4)).map((e) => e.text));
      assert.deepEqual(fromA, Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(fromB, ['b-0', 'b-1', 'b-2', 'b-3', 'b-4']);
    } finally {
      a.close();
      b.close();
    }
  });

  test('many batches reach a listener in order, none lost', T, async () => {
    const total = 3000;
    const stream = new Stream(`${peers.wsUrl}/push?count=${total}`);
    try {
      let next = 0;
      await new Promise((resolve, reject) => {
        stream.on('message', (event) => {
          const { i } = event.json();
          if (i !== next) reject(new Error(`got ${i}, expected ${next}`));
          if (++next === total) resolve();
        });
      });
      assert.equal(stream.stats().messages, total);
    } finally {
      stream.close();
    }
  });
});
