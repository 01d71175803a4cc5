'use strict';
// The process around the streams: exit with streams open, process.exit() while reading, what
// keeps a process alive, worker threads.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { after, before, test } = require('node:test');
const { startPeers, until } = require('./peers');

const T = { timeout: 30000 };
let peers;
before(async () => {
  peers = await startPeers();
});
after(() => peers.stop());

/** Runs `script` in a child node (argv: the peers' URLs); resolves to { code, signal, stdout, stderr, ms }. */
function run(script, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['-e', script, peers.httpUrl, peers.wsUrl], { cwd: __dirname });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - start });
    });
  });
}

const PRELUDE = `
  const { Stream } = require('tidewire');
  const [http, ws] = process.argv.slice(1);
`;

function assertClean(result) {
  assert.equal(result.signal, null, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /Fatal|Abort|Segmentation|terminate called|Assertion/i);
}

test('a program ends by itself with streams of every transport open, unread', T, async () => {
  const result = await run(`${PRELUDE}
    const streams = [
      new Stream(http + '/events?count=5', { transport: 'sse' }),
      new Stream(ws + '/echo'),
      new Stream(http + '/longpoll/exit?wait_s=60', { transport: 'longpoll' }),
      new Stream(http + '/poll/exit', { transport: 'poll' }),
      new Stream('http://127.0.0.1:0/hook', { transport: 'webhook', webhook_scheme: 'none' }),
    ];
    streams[1].send('hello');
    (async () => {
      const first = await streams[0].next({ timeout: 5000 }); // read one event, then stop reading
      console.log('read', first.id);
    })();
  `);
  assertClean(result);
  assert.match(result.stdout, /read 0/);
});

test('process.exit() while iterating and listening: prompt, and WebSocket peers see 1001', T, async () => {
  const result = await run(`${PRELUDE}
    const a = new Stream(ws + '/echo?exit');
    const b = new Stream(ws + '/echo?exit');
    a.send('x');
    b.on('message', () => {});
    (async () => {
      for await (const event of a) {
        console.log('got', event.text);
        setTimeout(() => process.exit(0), 50);
      }
    })();
  `);
  assertClean(result);
  assert.match(result.stdout, /got x/);
  assert.ok(result.ms < 10000, `took ${result.ms} ms`);
  await until(() => peers.closesOf('/echo?exit').length === 2, 5000, 'the peer to see both closes');
  assert.deepEqual(peers.closesOf('/echo?exit'), [1001, 1001]);
});

test('a stream with a listener keeps the process alive until it is closed', T, async () => {
  const result = await run(`${PRELUDE}
    const stream = new Stream(ws + '/echo');
    stream.on('message', () => {});
    stream.on('close', () => console.log('closed'));
    setTimeout(() => stream.close(), 500).unref(); // only the stream can keep the process alive
  `);
  assertClean(result);
  assert.match(result.stdout, /closed/);
  assert.ok(result.ms >= 450, `exited after ${result.ms} ms`);
});

test('unref() lets the process end while a stream is listened to', T, async () => {
  const result = await run(`${PRELUDE}
    const stream = new Stream(ws + '/echo').unref();
    stream.on('message', () => {});
    stream.on('close', () => console.log('closed'));
    console.log('done');
  `);
  assertClean(result);
  assert.equal(result.stdout.trim(), 'done');
});

test('an uncaught exception in a listener reaches the process like any other', T, async () => {
  const result = await run(`${PRELUDE}
    process.on('uncaughtException', (error) => {
      console.log('caught', error.message);
      process.exit(0);
    });
    const stream = new Stream(ws + '/echo');
    stream.on('message', () => { throw new Error('from a listener'); });
    stream.send('x');
  `);
  assertClean(result);
  assert.match(result.stdout, /caught from a listener/);
});

test('worker threads: each has its streams; ending a worker ends them', T, async () => {
  const result = await run(`${PRELUDE}
    const { Worker } = require('node:worker_threads');
    const code = \`
      const { Stream } = require('tidewire');
      const { workerData, parentPort } = require('node:worker_threads');
      const stream = new Stream(workerData + '/echo');
      stream.send('from a worker');
      (async () => {
        for await (const event of stream) parentPort.postMessage(event.text); // iterates until ended
      })();
    \`;
    (async () => {
      for (let i = 0; i < 4; i++) {
        const worker = new Worker(code, { eval: true, workerData: ws });
        const [text] = await require('node:events').once(worker, 'message');
        console.log(i, text);
        await (i % 2 ? worker.terminate() : new Promise((resolve) => { worker.postMessage('x'); worker.terminate().then(resolve); }));
      }
      const stream = new Stream(ws + '/echo');
      stream.send('main');
      console.log('main', (await stream.next({ timeout: 5000 })).text);
      stream.close();
    })();
  `);
  assertClean(result);
  assert.match(result.stdout, /3 from a worker/);
  assert.match(result.stdout, /main main/);
});

test('a listener that throws mid-batch loses nothing: the rest of the batch follows, in order', T, async () => {
  const result = await run(`${PRELUDE}
    const stream = new Stream(ws + '/push?count=10');
    const seen = [];
    let thrown = 0;
    process.on('uncaughtException', (e) => {
      if (e.message !== 'listener failed') throw e;
      thrown++;
    });
    const wait = () => new Promise((resolve) => setTimeout(resolve, 10));
    (async () => {
      while (stream.stats().queue_depth < 10) await wait(); // one batch of ten
      stream.on('message', (event) => {
        const { i } = event.json();
        seen.push(i);
        if (i === 3) throw new Error('listener failed');
        if (i === 9) {
          console.log(JSON.stringify({ seen, thrown }));
          stream.close();
        }
      });
    })();
  `);
  assertClean(result);
  assert.deepEqual(JSON.parse(result.stdout), { seen: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], thrown: 1 });
});
