'use strict';
// The redis transport against a real redis-server: entries as events, and ack().
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { after, before, test } = require('node:test');
const { Stream, TidewireError } = require('tidewire');
const { until } = require('./peers');

const T = { timeout: 30000 };
let redis;
let port;
let dir;

const cli = (...args) =>
  execFileSync('redis-cli', ['-p', String(port), '--raw', ...args], { encoding: 'utf8', timeout: 10000 }).trim();
const pending = () => Number(cli('XPENDING', 'jobs', 'workers').split('\n')[0]);

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: p } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return p;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewire-redis-'));
  // A port found free may be taken before redis-server binds it: try again on another.
  for (let tries = 0; tries < 5; tries++) {
    port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await until(() => {
        try {
          return cli('PING') === 'PONG';
        } catch {
          return false;
        }
      }, 10000, 'redis-server');
      return;
    } catch {
      redis.kill('SIGKILL');
    }
  }
  throw new Error('redis-server did not start');
});
after(() => {
  redis.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a worker reads entries and acknowledges them by hand', T, async () => {
  const first = cli('XADD', 'jobs', '*', 'id', 'src-1', 'type', 'job', 'data', 'payload-1');
  cli('XADD', 'jobs', '*', 'type', 'job', 'data', 'payload-2');
  const stream = new Stream(`redis://127.0.0.1:${port}/0?stream=jobs&group=workers&consumer=node`, {
    redis_ack: 'manual',
  });
  try {
    const a = await stream.next({ timeout: 10000 });
    const b = await stream.next({ timeout: 10000 });
    assert.equal(a.transport, 'redis');
    assert.equal(a.id, first);
    assert.equal(a.type, 'job');
    assert.equal(a.text, 'payload-1');
    assert.equal(a.headers.id, 'src-1');
    assert.equal(b.text, 'payload-2');
    assert.equal(pending(), 2);
    stream.ack(a);
    await until(() => pending() === 1, 5000, 'one entry acknowledged');
    stream.ack(b.id);
    await until(() => pending() === 0, 5000, 'both entries acknowledged');
    assert.throws(() => stream.ack(42), TypeError);
  } finally {
    stream.close();
  }
});

test('ack() on another transport is refused', T, async () => {
  const hook = new Stream('http://127.0.0.1:0/hooks', { transport: 'webhook', webhook_scheme: 'none' });
  try {
    assert.throws(() => hook.ack('1-0'), (e) => e instanceof TidewireError && e.code === 'TW_ERR_UNSUPPORTED');
  } finally {
    hook.close();
  }
});
