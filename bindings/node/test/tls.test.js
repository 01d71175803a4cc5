'use strict';
// TLS inside the Node process: wss:// and https:// streams against Node's own https and `ws`
// servers, Node's own TLS client busy at the same time, and which OpenSSL and libuv the core
// really calls here (see "OpenSSL and libuv inside Node" in bindings/node/README.md).
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const https = require('node:https');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');
const { Stream, StreamError } = require('tidewire');
const { startPeers, take } = require('./peers');

const T = { timeout: 30000 };
let peers;
before(async () => {
  peers = await startPeers({ tls: true });
});
after(() => peers.stop());

test('wss:// sends and receives, verified against tls_ca_file', T, async () => {
  const stream = new Stream(`${peers.wsUrl}/echo`, { tls_ca_file: peers.caFile });
  try {
    stream.send('over tls');
    stream.send(Buffer.from([1, 2, 3]));
    const events = await take(stream, 2);
    assert.deepEqual(events.map((e) => [e.type, e.text]), [['text', 'over tls'], ['binary', '\x01\x02\x03']]);
  } finally {
    stream.close();
  }
});

test('https:// SSE in order, and https:// poll', T, async () => {
  const sse = new Stream(`${peers.httpUrl}/events?count=20`, { transport: 'sse', tls_ca_file: peers.caFile });
  const events = await take(sse, 20);
  sse.close();
  assert.deepEqual(events.map((e) => e.json().i), [...Array(20).keys()]);

  peers.publish('tls-poll', { v: 1 });
  const poll = new Stream(`${peers.httpUrl}/poll/tls-poll`, { transport: 'poll', tls_ca_file: peers.caFile });
  assert.deepEqual((await poll.next({ timeout: 5000 })).json(), { v: 1 });
  poll.close();
});

test('an unknown certificate ends the stream with TW_ERR_TLS', T, async () => {
  for (const [url, transport] of [[`${peers.wsUrl}/echo`, 'ws'], [`${peers.httpUrl}/events`, 'sse']]) {
    const stream = new Stream(url, { transport });
    await assert.rejects(stream.next({ timeout: 10000 }), (e) => e instanceof StreamError && e.code === 'TW_ERR_TLS');
  }
});

test('200 TLS streams opened and closed while Node does TLS too', T, async () => {
  const ca = fs.readFileSync(peers.caFile);
  const nodeGet = () =>
    new Promise((resolve, reject) => {
      https.get(`${peers.httpUrl}/poll/none`, { ca }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  for (let round = 0; round < 20; round++) {
    const work = [nodeGet()];
    for (let i = 0; i < 5; i++) {
      const ws = new Stream(`${peers.wsUrl}/echo`, { tls_ca_file: peers.caFile });
      ws.send(`r${round}`);
      const sse = new Stream(`${peers.httpUrl}/events?count=1`, { transport: 'sse', tls_ca_file: peers.caFile });
      for (const stream of [ws, sse]) {
        work.push(
          stream.next({ timeout: 5000 }).then((event) => {
            assert.ok(event, 'an event within 5 s');
            stream.close();
          }),
        );
      }
    }
    await Promise.all(work);
  }
});

// Node's executable may export its own OpenSSL and libuv (unversioned), which then come first for
// every library the addon loads. What must never happen is a mix: part of the calls going to
// Node's copy, part to the system's. The dynamic linker reports each binding (LD_DEBUG), with
// every symbol bound at load (LD_BIND_NOW), in a child that runs a wss:// and an https:// stream.
test('OpenSSL and libuv calls of the core bind to one copy each', T, async (t) => {
  const script = `
    const { Stream } = require('tidewire');
    const [ws, http, ca] = process.argv.slice(1);
    (async () => {
      const a = new Stream(ws + '/echo', { tls_ca_file: ca });
      a.send('x');
      const b = new Stream(http + '/events?count=1', { transport: 'sse', tls_ca_file: ca });
      if (!(await a.next({ timeout: 5000 })) || !(await b.next({ timeout: 5000 }))) process.exit(3);
      a.close(); b.close();
    })();`;
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'tidewire-ld-'));
  try {
    await new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', script, peers.wsUrl, peers.httpUrl, peers.caFile],
        { cwd: __dirname, env: { ...process.env, LD_DEBUG: 'bindings', LD_DEBUG_OUTPUT: path.join(dir, 'ld'), LD_BIND_NOW: '1' }, timeout: 20000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
      );
    });
    const providers = { openssl: new Map(), libuv: new Map() }; // family -> provider -> count
    const importers = /(?:^|\/)tidewire\.node$/;
    const binding = /binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol `([^'@]+)/;
    for (const file of fs.readdirSync(dir)) {
      for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        const m = binding.exec(line);
        if (!m || !importers.test(m[1])) continue;
        const family = /^(SSL|TLS|EVP|X509|BIO|ERR|CRYPTO|OPENSSL|PEM|RSA|EC_|BN_|RAND|ASN1|OBJ|HMAC|DH|d2i|i2d)/.test(m[3])
          ? 'openssl'
          : m[3].startsWith('uv_') ? 'libuv' : null;
        if (!family) continue;
        // One copy: Node's (its executable) or the system's (libssl + libcrypto, libuv).
        const provider = m[2] === process.execPath || path.basename(m[2]) === path.basename(process.execPath)
          ? 'node'
          : 'system';
        providers[family].set(provider, (providers[family].get(provider) ?? 0) + 1);
      }
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(Object.entries(providers).map(([f, c]) => [f, Object.fromEntries(c)]))));
    for (const [family, counts] of Object.entries(providers)) {
      assert.ok(counts.size > 0, `no ${family} binding seen`);
      assert.equal(counts.size, 1, `${family} calls bound to more than one copy: ${JSON.stringify([...counts])}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
