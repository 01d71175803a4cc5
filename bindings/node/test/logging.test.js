'use strict';
// The core's log on Node's loop (setLogHandler, the 'log' event, stderr by default), and a stream
// that says why it cannot connect (stats().state, last_error, attempts).
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { after, afterEach, before, test } = require('node:test');
const tidewire = require('tidewire');
const { Stream, StreamError, logger, setLogHandler } = tidewire;
const { startPeers, until } = require('./peers');

const T = { timeout: 30000 };
let peers;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());
afterEach(() => setLogHandler(null));

/** A loopback port where connections are refused and that no parallel test can take: port 1 is
 * privileged and unassigned here, and every test's server listens on port 0 (a port listened on
 * and given back could be handed to another test's server before the stream connects). */
async function refusingPort() {
  return 1;
}

function collect() {
  const records = [];
  setLogHandler((record) => records.push(record));
  return records;
}

test('an unreachable host is a warning naming the cause, and stats say backoff', T, async () => {
  const records = collect();
  const url = 'http://no-such-host.invalid/sse';
  const stream = new Stream(url, { transport: 'sse', reconnect_initial_ms: 20, reconnect_max_ms: 80 });
  try {
    await until(() => records.some((r) => r.message.includes('(attempt 2)')), 10000, 'the first warning');
    const first = records.find((r) => r.message.includes('(attempt 2)'));
    const cause = `${url}: could not resolve host no-such-host.invalid (`;
    assert.equal(first.level, 'warn');
    assert.ok(first.message.startsWith(cause), first.message);
    assert.ok(first.time instanceof Date && Math.abs(first.time - Date.now()) < 60000);
    const stats = stream.stats();
    assert.ok(['backoff', 'connecting'].includes(stats.state), stats.state);
    assert.ok(stats.last_error.startsWith(cause), stats.last_error);
    assert.ok(stats.attempts >= 1);
  } finally {
    stream.close();
  }
});

test("'log' listeners get the records when no handler is set", T, async () => {
  const records = [];
  const listener = (record) => records.push(record);
  logger.on('log', listener);
  const port = await refusingPort();
  const url = `http://127.0.0.1:${port}/sse`;
  const stream = new Stream(url, { transport: 'sse', reconnect_initial_ms: 10000 });
  try {
    const text = `${url}: could not connect to 127.0.0.1:${port}: connection refused`;
    await until(() => records.some((r) => r.message.startsWith(`${text}; retrying in `)), 10000, 'the warning');
    assert.equal(records.find((r) => r.message.startsWith(text)).level, 'warn');
    const stats = stream.stats();
    assert.deepEqual([stats.state, stats.last_error, stats.attempts], ['backoff', text, 1]);
  } finally {
    stream.close();
    logger.off('log', listener);
  }
});

test('a 404 is raised once, with the status said once', T, async () => {
  const records = collect();
  const url = `${peers.httpUrl}/no-such-route`;
  const stream = new Stream(url, { transport: 'sse' });
  const text = `${url} answered HTTP 404 Not Found`;
  await assert.rejects(
    async () => {
      for await (const event of stream) assert.fail(`unexpected event ${event.kind}`);
    },
    (error) => error instanceof StreamError && error.message.includes(text),
  );
  await until(() => records.some((r) => r.message.includes(text)), 5000, 'the record');
  assert.deepEqual(
    records.filter((r) => r.message.includes(text)).map((r) => [r.level, r.message]),
    [['warn', `stream ended: ${text}`]],
  );
  const stats = stream.stats();
  assert.deepEqual([stats.state, stats.last_error, stats.attempts], ['ended', text, 1]);
});

test('a full log queue drops, and says how many once the loop drains it', T, async () => {
  const records = collect();
  const port = await refusingPort();
  const stream = new Stream(`http://127.0.0.1:${port}/x`, {
    transport: 'poll',
    reconnect_initial_ms: 1,
    reconnect_max_ms: 2,
  });
  try {
    // The loop is kept busy: nothing drains the queue (1024 records) while the core fails on.
    const deadline = Date.now() + 20000;
    while (stream.stats().attempts < 1500 && Date.now() < deadline);
    assert.ok(stream.stats().attempts >= 1500, 'the stream failed often enough');
    await until(() => records.some((r) => r.message.includes('log records dropped')), 10000, 'the report');
    const report = records.find((r) => r.message.includes('log records dropped'));
    assert.equal(report.level, 'warn');
    assert.match(report.message, /^\d+ log records dropped: the log queue \(1024 records\) was full$/);
    assert.ok(records.indexOf(report) >= 1024, `${records.indexOf(report)} records before the report`);
  } finally {
    stream.close();
  }
});

/** Runs `script` in a child node; resolves to { code, stdout, stderr }. */
function run(script) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: __dirname });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 20000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// `setup` arranges for `seen` to become true once the record has been handled.
const CHILD = (setup) => `
  const net = require('node:net');
  const tidewire = require('tidewire');
  let seen = false;
  ${setup}
  const server = net.createServer();
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(async () => {
      const stream = new tidewire.Stream('http://127.0.0.1:' + port + '/sse', { transport: 'sse', reconnect_initial_ms: 10000 });
      while (!seen) await new Promise((r) => setImmediate(r));
      stream.close();
    });
  });
`;

test('nothing reaches stderr when a handler is set', T, async () => {
  const child = await run(CHILD("tidewire.setLogHandler((r) => { console.log('LOG', r.level, r.message); seen = true; });"));
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stderr, '');
  assert.match(child.stdout, /^LOG warn http:\/\/127\.0\.0\.1:\d+\/sse: could not connect to .*: connection refused; retrying in /m);
});

test('with nothing configured, the warning goes to stderr once', T, async () => {
  // The real stderr, noting that something was written to it.
  const child = await run(
    CHILD('const write = process.stderr.write.bind(process.stderr); process.stderr.write = (...a) => { seen = true; return write(...a); };'),
  );
  assert.equal(child.code, 0, child.stderr);
  const lines = child.stderr.split('\n').filter((line) => line.includes('connection refused'));
  assert.equal(lines.length, 1, child.stderr);
  assert.match(lines[0], /^tidewire warn: http:\/\/127\.0\.0\.1:\d+\/sse: could not connect to /);
});

test('the log watcher does not keep the process alive', T, async () => {
  const child = await run("require('tidewire'); new (require('tidewire').Stream)('http://no-such-host.invalid/', { transport: 'poll' }).unref();");
  assert.equal(child.code, 0, child.stderr);
});
