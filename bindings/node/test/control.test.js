'use strict';
// POST streams, end markers, comments, restart(), setHeader() and 'auth_required', against real servers.
const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { Stream, StreamError, ConfigError, TidewireError } = require('tidewire');
const { startPeers, until } = require('./peers');

const T = { timeout: 15000 };
let peers;
let keys = 0;
const fresh = (name) => `${name}-${keys++}`;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());

async function all(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

test('a POST stream sends its JSON body and ends cleanly on [DONE]', T, async () => {
  const key = fresh('llm');
  const stream = new Stream(`${peers.httpUrl}/llm/${key}?count=3`, {
    transport: 'sse',
    http_method: 'POST',
    http_body: JSON.stringify({ model: 'm' }),
    sse_end_data: '[DONE]',
  });
  const events = await all(stream);
  assert.deepEqual(
    events.map((e) => e.json()),
    [{ i: 0 }, { i: 1 }, { i: 2 }],
  );
  const [request] = peers.requests(key);
  assert.equal(request.method, 'POST');
  assert.deepEqual(JSON.parse(request.body.toString()), { model: 'm' });
  assert.equal(request.contentType, 'application/json');
});

test('a Buffer body with NUL bytes arrives intact', T, async () => {
  const key = fresh('llm');
  const body = Buffer.from([0, 1, 2, 0, 0xff]);
  const stream = new Stream(`${peers.httpUrl}/llm/${key}?count=1`, {
    transport: 'sse',
    http_method: 'PATCH',
    http_body: body,
    sse_end_data: '[DONE]',
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal((await all(stream)).length, 1);
  const [request] = peers.requests(key);
  assert.equal(request.method, 'PATCH');
  assert.deepEqual(request.body, body);
  assert.equal(request.contentType, 'application/octet-stream');
});

test('the end event is delivered last, and comments only when asked', T, async () => {
  const stream = new Stream(`${peers.httpUrl}/llm/${fresh('llm')}?count=1&end=stop`, {
    transport: 'sse',
    http_method: 'POST',
    sse_end_event: 'message_stop',
    sse_comments: true,
  });
  const events = await all(stream);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['comment', 'message', 'message'],
  );
  assert.equal(events[0].text, 'ping');
  assert.equal(events[2].type, 'message_stop');
  assert.equal(stream.stats().comments, 1);
});

test('a POST cut without ids fails "not resumable" after one request', T, async () => {
  const key = fresh('llm');
  const stream = new Stream(`${peers.httpUrl}/llm/${key}?count=2&cut=1`, {
    transport: 'sse',
    http_method: 'POST',
    http_body: '{}',
  });
  const received = [];
  await assert.rejects(
    (async () => {
      for await (const event of stream) received.push(event);
    })(),
    (error) => error instanceof StreamError && /cut, not resumable/.test(error.message),
  );
  assert.equal(received.length, 2);
  assert.equal(peers.requests(key).length, 1);
});

test('restart() resumes at once with Last-Event-ID and setHeader() applies to it', T, async () => {
  const key = fresh('auth');
  peers.tokens.set(key, 'one');
  const stream = new Stream(`${peers.httpUrl}/auth/${key}?count=3`, {
    transport: 'sse',
    headers: { Authorization: 'Bearer one' },
    reconnect_initial_ms: 30000,
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await stream.next({ timeout: 5000 })).id, String(i));
    peers.tokens.set(key, 'two');
    stream.setHeader('Authorization', 'Bearer two');
    stream.restart();
    await until(() => peers.requests(key).length === 2, 5000, 'the restarted request');
    const second = peers.requests(key)[1];
    assert.equal(second.authorization, 'Bearer two');
    assert.equal(second.lastEventId, '2');
  } finally {
    stream.close();
  }
});

test("'auth_required', then a new token, and the stream goes on without a loss", T, async () => {
  const key = fresh('auth');
  peers.tokens.set(key, 'old');
  const stream = new Stream(`${peers.httpUrl}/auth/${key}?count=4&per_connection=2`, {
    transport: 'sse',
    headers: { Authorization: 'Bearer old' },
    reconnect_on_auth_failure: 'wait',
    reconnect_auth_wait_ms: 30000,
  });
  const ids = [];
  const statuses = [];
  try {
    for await (const event of stream) {
      if (event.kind === 'auth_required') {
        statuses.push(event.status);
        setImmediate(() => stream.setHeader('Authorization', 'Bearer new'));
        continue;
      }
      ids.push(event.id);
      if (ids.length === 2) {
        peers.tokens.set(key, 'new');
        stream.restart();
      }
      if (ids.length === 4) break;
    }
  } finally {
    stream.close();
  }
  assert.deepEqual(ids, ['0', '1', '2', '3']);
  assert.deepEqual(statuses, [401]);
  assert.deepEqual(
    peers.requests(key).map((r) => r.authorization),
    ['Bearer old', 'Bearer old', 'Bearer new'],
  );
});

test('without new credentials in time the 401 ends the stream', T, async () => {
  const key = fresh('auth');
  peers.tokens.set(key, 'right');
  const stream = new Stream(`${peers.httpUrl}/auth/${key}`, {
    transport: 'sse',
    reconnect_on_auth_failure: 'wait',
    reconnect_auth_wait_ms: 100,
  });
  const first = await stream.next({ timeout: 5000 });
  assert.equal(first.kind, 'auth_required');
  assert.equal(first.status, 401);
  await assert.rejects(stream.next({ timeout: 5000 }), (error) => error instanceof StreamError && error.status === 401);
});

test('a WebSocket handshake carries the header set before restart()', T, async () => {
  const stream = new Stream(`${peers.wsUrl}/headers`, { headers: { 'X-Test': 'first' } });
  try {
    assert.equal((await stream.next({ timeout: 5000 })).text, 'first');
    stream.setHeader('X-Test', 'second');
    stream.restart();
    assert.equal((await stream.next({ timeout: 5000 })).text, 'second');
    stream.setHeader('X-Test', null);
    stream.restart();
    assert.equal((await stream.next({ timeout: 5000 })).text, '');
  } finally {
    stream.close();
  }
});

test('setHeader() refuses bad input without showing the value; restart() after the end throws', T, async () => {
  const stream = new Stream(`${peers.wsUrl}/headers`);
  assert.throws(() => stream.setHeader('Bad Name', 'x'), ConfigError);
  assert.throws(
    () => stream.setHeader('Authorization', 's3cret\r\nX: y'),
    (error) => error instanceof ConfigError && !error.message.includes('s3cret'),
  );
  assert.throws(() => stream.setHeader('A', 's3cret\0'), (e) => e instanceof ConfigError && !e.message.includes('s3cret'));
  stream.close();
  await all(stream);
  assert.throws(() => stream.restart(), (error) => error instanceof TidewireError && error.code === 'TW_ERR_CLOSED');
});

test('http_method is refused for ws, naming the key', () => {
  assert.throws(
    () => new Stream(`${peers.wsUrl}/echo`, { http_method: 'POST' }),
    (error) => error instanceof ConfigError && /http\.method/.test(error.message),
  );
});
