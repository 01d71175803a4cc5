'use strict';
// The examples in examples/node, run as a user runs them, against the demo feed
// (examples/feed/feed.py, over TLS too) and against GitHub's published webhook signature vector.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, test } = require('node:test');
const { until } = require('./peers');

const REPO = path.join(__dirname, '..', '..', '..');
const T = { timeout: 30000 };

// Each example runs from a copy beside a node_modules/tidewire that links this package, as
// `npm install` in examples/node makes it; examples/llm and examples/mcp are copied beside it, where
// llm_stream.mjs and mcp_client.mjs find their servers.
let top;
let dir;
before(() => {
  top = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewire-examples-'));
  dir = path.join(top, 'node');
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.symlinkSync(path.join(__dirname, '..'), path.join(dir, 'node_modules', 'tidewire'));
  for (const file of fs.readdirSync(path.join(REPO, 'examples', 'node'))) {
    if (/\.m?js$/.test(file)) fs.copyFileSync(path.join(REPO, 'examples', 'node', file), path.join(dir, file));
  }
  fs.cpSync(path.join(REPO, 'examples', 'llm'), path.join(top, 'llm'), { recursive: true });
  fs.cpSync(path.join(REPO, 'examples', 'mcp'), path.join(top, 'mcp'), { recursive: true });
});
after(() => fs.rmSync(top, { recursive: true, force: true }));

/** Starts a program; `output()` is what it printed so far, `done` resolves at its exit. */
function start(command, args, { input = null } = {}) {
  const child = spawn(command, args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  if (input !== null) child.stdin.end(input);
  const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, done };
}

/** The demo feed, 20 ticks 20 ms apart; `--tls` in a directory of its own. Stopped by stdin EOF. */
async function feed(tls) {
  const args = [path.join(REPO, 'examples', 'feed', 'feed.py'), '--count', '20', '--interval-ms', '20', '--start-ms', '300'];
  if (tls) args.push('--tls', path.join(dir, 'feed-tls'));
  const program = start('python3', args);
  await until(() => /PORT \d+/.test(program.output()), 15000, `the feed to listen:\n${program.output()}`);
  const port = /PORT (\d+)/.exec(program.output())[1];
  return { program, base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, caFile: tls ? path.join(dir, 'feed-tls', 'cert.pem') : null };
}

for (const tls of [false, true]) {
  test(`feed.mjs reads the demo feed over SSE and WebSocket${tls ? ', over TLS' : ''}`, T, async () => {
    const source = await feed(tls);
    try {
      const reader = start(process.execPath, ['feed.mjs', source.base, ...(tls ? [source.caFile] : [])]);
      const { code } = await reader.done;
      assert.equal(code, 0, reader.output());
      const suffix = tls ? ' (TLS)' : '';
      assert.match(reader.output(), new RegExp(`^sse${suffix.replace(/[()]/g, '\\$&')}: 20 events`, 'm'));
      assert.match(reader.output(), new RegExp(`^ws${suffix.replace(/[()]/g, '\\$&')}: 20 events`, 'm'));
    } finally {
      source.program.child.stdin.end();
      await source.program.done;
    }
  });
}

test('sse_reader.mjs prints every tick, then the clean end', T, async () => {
  const source = await feed(false);
  try {
    const reader = start(process.execPath, ['sse_reader.mjs', `${source.base}/sse`]);
    const { code } = await reader.done;
    assert.equal(code, 0, reader.output());
    assert.equal(reader.output().match(/^id \d+ \(tick\): /gm).length, 20, reader.output());
    assert.match(reader.output(), /\[closed\]\s*$/);
  } finally {
    source.program.child.stdin.end();
    await source.program.done;
  }
});

test('ws_client.js sends the lines typed and prints the chat room', T, async () => {
  const source = await feed(true);
  try {
    const url = `${source.base.replace(/^https/, 'wss')}/chat`;
    const client = start(process.execPath, ['ws_client.js', url, source.caFile], { input: 'hello\nworld\n' });
    const { code } = await client.done;
    assert.equal(code, 0, client.output());
    assert.match(client.output(), /^#1: hello\n#1: world\nleft the room\n$/);
  } finally {
    source.program.child.stdin.end();
    await source.program.done;
  }
});

test("webhook_receiver.js prints GitHub's signed delivery and refuses a forged one", T, async () => {
  // The example of GitHub's documentation ("Validating webhook deliveries").
  const secret = "It's a Secret to Everybody";
  const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  const receiver = start(process.execPath, ['webhook_receiver.js', secret]);
  try {
    await until(() => /listening on (\S+)/.test(receiver.output()), 10000, 'the receiver to listen');
    const url = /listening on (\S+)/.exec(receiver.output())[1];
    const post = (sig) =>
      fetch(url, {
        method: 'POST',
        body: 'Hello, World!',
        headers: { 'x-github-event': 'push', 'x-github-delivery': 'delivery-1', 'x-hub-signature-256': sig },
        signal: AbortSignal.timeout(5000),
      }).then((response) => response.status);
    assert.equal(await post(signature), 204);
    assert.equal(await post(signature.replace('757107', '000000')), 401);
    await until(() => receiver.output().includes('Hello, World!'), 5000, 'the delivery to be printed');
  } finally {
    receiver.child.kill('SIGINT');
  }
  const { code } = await receiver.done;
  assert.equal(code, 0, receiver.output());
  assert.match(receiver.output(), /^delivery-1 \(push\): Hello, World!$/m);
  assert.match(receiver.output(), /1 deliveries accepted, 1 refused/);
  assert.doesNotMatch(receiver.output(), /000000/);
});

test('llm_stream.mjs prints the tokens of a POSTed chat completion in order, without [DONE]', T, async () => {
  const program = start(process.execPath, ['llm_stream.mjs', 'count to three']);
  const { code } = await program.done;
  assert.equal(code, 0, program.output());
  assert.equal(program.output(), 'You said: "count to three". This reply streams one token at a time.\n');
});

test('llm_stream.mjs shows an event: error sent mid-stream as an error line', T, async () => {
  const program = start(process.execPath, ['llm_stream.mjs', 'count to three', '--error-after', '3']);
  const { code } = await program.done;
  assert.equal(code, 1, program.output());
  assert.match(program.output(), /^You said: "count\n?/);
  assert.match(program.output(), /^error: the model is overloaded, try again later$/m);
  assert.doesNotMatch(program.output(), /three"|\[DONE\]/);
});

test('mcp_client.mjs prints the progress notifications as they arrive, then the tool result', T, async () => {
  const program = start(process.execPath, ['mcp_client.mjs']);
  const { code } = await program.done;
  assert.equal(code, 0, program.output());
  assert.equal(
    program.output(),
    [
      'connected to tidewire-example (MCP 2025-11-25)',
      'tools: add_numbers, slow_count',
      ...[1, 2, 3, 4, 5].map((i) => `  progress ${i}/5: counted ${i}`),
      'result: counted to 5',
      '',
    ].join('\n'),
  );
});
