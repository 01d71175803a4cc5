'use strict';
// The package: exports, version, the configuration table and its errors.
const assert = require('node:assert/strict');
const path = require('node:path');
const { after, before, test } = require('node:test');
const tidewire = require('tidewire');
const { Stream, TidewireError, ConfigError, configKeys } = tidewire;
const { startPeers } = require('./peers');

const T = { timeout: 15000 };
let peers;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());

test('the version is the core one', () => {
  assert.match(tidewire.version, /^\d+\.\d+\.\d+$/);
  assert.equal(tidewire.version, require('../package.json').version);
});

test('ESM import gives the same objects as require', async () => {
  const esm = await import('tidewire');
  assert.equal(esm.Stream, Stream);
  assert.equal(esm.default, tidewire);
  assert.equal(esm.StreamError, tidewire.StreamError);
  assert.equal(esm.Error, TidewireError);
});

test('every key has one option name, and option names are unique', () => {
  const keys = configKeys();
  assert.ok(Object.keys(keys).length > 40);
  const options = Object.values(keys).map((k) => k.option).filter((o) => o !== null);
  assert.equal(new Set(options).size, options.length);
  for (const [key, info] of Object.entries(keys)) {
    assert.ok(['string', 'int', 'bool', 'enum', 'list', 'map'].includes(info.type), key);
    if (info.type === 'map') assert.equal(info.option, null);
    else assert.equal(info.option.includes('.'), false, key);
  }
  assert.equal(keys['reconnect.max_ms'].default, '30000');
});

test("an unknown option is a ConfigError with the core's suggestion", () => {
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', reconect_max_ms: 10 }),
    (e) => e instanceof ConfigError && e instanceof TidewireError && e.code === 'TW_ERR_UNKNOWN_KEY' &&
      e.category === 'config' && e.message === "unknown key 'reconect_max_ms'; did you mean 'reconnect_max_ms'?",
  );
});

test('a refused value names the key and what it accepts', () => {
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', reconnect_max_ms: -5 }),
    (e) => e instanceof ConfigError && e.code === 'TW_ERR_INVALID_VALUE' && /reconnect\.max_ms/.test(e.message) &&
      /0\.\.86400000/.test(e.message),
  );
});

test('an unknown raw option gets a suggestion, not a list of every key', () => {
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', options: { 'reconect.max_ms': '1' } }),
    (e) => e instanceof ConfigError && e.code === 'TW_ERR_UNKNOWN_KEY' &&
      e.message === "unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?",
  );
});

test('a value holding a NUL is refused by the core, naming the key and not quoting the value', () => {
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', headers: { Authorization: 'Bearer s3cret\0tail' } }),
    (e) => e instanceof ConfigError && e.code === 'TW_ERR_INVALID_VALUE' && /header\.Authorization/.test(e.message) &&
      /NUL/.test(e.message) && !/s3cret/.test(e.message),
  );
});

test('a transport that cannot be inferred is a ConfigError', () => {
  assert.throws(() => new Stream('http://127.0.0.1:1/'), (e) => e instanceof ConfigError && /transport/.test(e.message));
});

test('a bad enum value lists the accepted ones', () => {
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'carrier-pigeon' }),
    (e) => e instanceof ConfigError && /sse/.test(e.message) && /webhook/.test(e.message),
  );
});

test('a key given twice is refused by the core, naming both spellings', () => {
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', reconnect_max_ms: 1, options: { 'reconnect.max_ms': 2 } }),
    (e) => e instanceof ConfigError && e.code === 'TW_ERR_INVALID_VALUE' &&
      e.message === "key 'reconnect.max_ms' given twice (as reconnect_max_ms and reconnect.max_ms)",
  );
});

test('values of JavaScript types become the core strings', T, () => {
  const stream = new Stream(new URL(`${peers.httpUrl}/events`), {
    transport: 'sse',
    reconnect_max_ms: 2000,
    status_events: false,
    ws_subprotocols: ['a', 'b'],
    headers: { 'X-Test': 'yes' },
    options: { 'reconnect.initial_ms': '10' },
  });
  stream.close();
  // As JavaScript prints them; the core reads durations too, and refuses what its key does not take.
  new Stream('http://127.0.0.1:1/', { transport: 'sse', reconnect_max_ms: '2s', read_timeout_ms: 30000n }).close();
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', reconnect_max_ms: 1.5 }),
    (e) => e instanceof ConfigError && /"1\.5" for reconnect\.max_ms/.test(e.message),
  );
  assert.throws(
    () => new Stream('http://127.0.0.1:1/', { transport: 'sse', reconnect_max_ms: {} }),
    (e) => e instanceof ConfigError && /reconnect\.max_ms: a value of type object is not accepted/.test(e.message),
  );
  assert.throws(() => new Stream('http://127.0.0.1:1/', { transport: 'sse', signal: 'no' }), TypeError);
  assert.throws(() => new Stream(42), TypeError);
});

test('an array or object for a key that is no list is refused, naming the key and the type', () => {
  // Stored as String() prints it, ['a', 'b'] would be the end-of-stream data "a,b".
  for (const [given, type] of [
    [['a', 'b'], 'array'],
    [{ op: 'subscribe' }, 'object'],
    [new Map([['a', 1]]), 'Map'],
  ]) {
    for (const options of [{ sse_end_data: given }, { options: { 'sse.end_data': given } }]) {
      assert.throws(
        () => new Stream('http://127.0.0.1:1/', { transport: 'sse', ...options }),
        (e) =>
          e instanceof ConfigError &&
          e.code === 'TW_ERR_INVALID_VALUE' &&
          e.message ===
            `invalid value for sse.end_data: a value of type ${type} is not accepted; ` +
              'expected any text without CR or LF (empty = none)',
      );
    }
    for (const key of ['reconnect_max_ms', 'status_events', 'webhook_secret']) {
      assert.throws(
        () => new Stream('http://127.0.0.1:1/', { transport: 'sse', [key]: given }),
        (e) => e instanceof ConfigError && e.message.includes(`a value of type ${type} is not accepted`) && !/subscribe/.test(e.message),
      );
    }
    assert.throws(
      () => new Stream('http://127.0.0.1:1/', { transport: 'sse', headers: { 'X-Token': given } }),
      (e) => e instanceof ConfigError && e.message.startsWith(`invalid value for header.X-Token: a value of type ${type}`),
    );
  }
  // A list key takes an array but not an object; an unknown key is named by the core first.
  new Stream('ws://127.0.0.1:1/', { ws_subprotocols: ['a', 'b'], reconnect_initial_ms: 60000 }).close();
  assert.throws(
    () => new Stream('ws://127.0.0.1:1/', { ws_subprotocols: { a: 1 } }),
    (e) => e instanceof ConfigError && /ws\.subprotocols: a value of type object is not accepted; expected comma/.test(e.message),
  );
  assert.throws(
    () => new Stream('ws://127.0.0.1:1/', { ws_subprotocol: ['a'] }),
    (e) => e instanceof ConfigError && /unknown key 'ws_subprotocol'; did you mean/.test(e.message),
  );
});

test('send on a pull stream is a clear error', T, () => {
  const stream = new Stream(`${peers.httpUrl}/poll/none`, { transport: 'poll' });
  try {
    assert.throws(() => stream.send('x'), (e) => e instanceof TidewireError && e.code === 'TW_ERR_UNSUPPORTED');
  } finally {
    stream.close();
  }
});

test('stats has the core names', T, () => {
  const stream = new Stream(`${peers.httpUrl}/events`, { transport: 'sse' });
  try {
    assert.deepEqual(Object.keys(stream.stats()), [
      'messages', 'bytes', 'requests', 'not_modified', 'reconnects', 'errors', 'dropped', 'queue_depth',
      'queue_peak', 'paused', 'connections', 'tls_handshakes', 'wire_bytes', 'payload_bytes', 'comments',
      'attempts', 'state', 'last_error',
    ]);
    assert.equal(typeof stream.fd, 'number');
    assert.equal(stream.url, `${peers.httpUrl}/events`);
  } finally {
    stream.close();
  }
});

test('the package resolves from its own directory', () => {
  assert.equal(require.resolve('tidewire'), path.join(__dirname, '..', 'lib', 'index.js'));
});

test('the event layout is the addon one: every slot it exports is read, by name', () => {
  const addon = require('../lib/native');
  const { SLOTS_READ } = require('../lib/event');
  const exported = Object.keys(addon.slots).filter((name) => name !== 'stride');
  assert.deepEqual([...SLOTS_READ].sort(), exported.sort());
  assert.equal(addon.slots.stride, exported.length);
  assert.deepEqual(Object.values(addon.slots).filter((i) => i < addon.slots.stride).sort((a, b) => a - b),
    [...Array(addon.slots.stride).keys()]);
});
