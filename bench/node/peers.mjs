// The Node peers of the benchmarks, each used the way its documentation shows, with its defaults:
//
//   node peers.mjs ws PORT SIZE SECONDS           `ws` client on /push/SIZE
//   node peers.mjs tidewire-ws PORT SIZE SECONDS  tidewire.Stream ('message' listener) on /push/SIZE
//   node peers.mjs sse PORT SIZE SECONDS          `eventsource` on /push/SIZE
//   node peers.mjs ws-latency PORT US SAMPLES     `ws` client on /pace/US
//   node peers.mjs idle PORT CLIENTS              RSS per open `ws` client
//   node peers.mjs webhook SECRET                 `http` server + `standardwebhooks`; prints "url URL"
//
// Results are one JSON line on stdout, as the C clients print them. tidewire is the package in
// bindings/node, loaded from there: its addon must have been built (`npm --prefix bindings/node ci`,
// which ./scripts/test.sh node runs).
import http from 'node:http';
import { createRequire } from 'node:module';
import { EventSource } from 'eventsource';
import { Webhook } from 'standardwebhooks';
import WebSocket from 'ws';

const [mode, ...args] = process.argv.slice(2);
const nowNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, as the server's timestamps
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// Counts messages after the first one until `seconds` have passed, then prints and exits.
function throughputWindow(size, seconds, close) {
  let started = false;
  let messages = 0;
  let t0 = 0n;
  let cpu0 = 0;
  let deadline = 0n;
  return (length) => {
    if (length !== size) {
      console.error(`got ${length} bytes, expected ${size}`);
      process.exit(1);
    }
    if (!started) {
      started = true;
      t0 = nowNs();
      cpu0 = cpuSeconds();
      deadline = t0 + BigInt(Math.round(seconds * 1e9));
      return;
    }
    messages++;
    if ((messages & 255) === 0 && nowNs() >= deadline) {
      const secs = Number(nowNs() - t0) / 1e9;
      const cpu = cpuSeconds() - cpu0;
      console.log(JSON.stringify({ messages, bytes: messages * size, seconds: secs, cpu_seconds: cpu }));
      close();
      process.exit(0);
    }
  };
}

function wsThroughput(port, size, seconds) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/push/${size}`);
  const count = throughputWindow(size, seconds, () => ws.terminate());
  ws.on('message', (data) => count(data.length));
  ws.on('error', (e) => {
    console.error(e.message);
    process.exit(1);
  });
}

function tidewireWsThroughput(port, size, seconds) {
  let tidewire;
  try {
    tidewire = createRequire(import.meta.url)('../../bindings/node');
  } catch (e) {
    console.error(`cannot load bindings/node (build it: npm --prefix bindings/node ci): ${e.message}`);
    process.exit(1);
  }
  // A server that is not there fails the run at once, as it does for `ws`, rather than retried.
  const stream = new tidewire.Stream(`ws://127.0.0.1:${port}/push/${size}`, { reconnect_first_connect: false });
  const count = throughputWindow(size, seconds, () => stream.close());
  stream.on('message', (event) => count(event.data.length));
  stream.on('error', (e) => {
    console.error(e.message);
    process.exit(1);
  });
}

function sseThroughput(port, size, seconds) {
  const es = new EventSource(`http://127.0.0.1:${port}/push/${size}`);
  const count = throughputWindow(size, seconds, () => es.close());
  es.onmessage = (event) => count(event.data.length);
  es.onerror = (e) => {
    console.error(`eventsource error: ${e.message ?? e}`);
    process.exit(1);
  };
}

function wsLatency(port, us, samples) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/pace/${us}`);
  const latencies = [];
  let skip = 50;
  ws.on('message', (data) => {
    const now = nowNs();
    const sent = BigInt(data.toString('latin1', 0, 20));
    if (skip > 0) {
      skip--;
      return;
    }
    latencies.push(Number(now - sent));
    if (latencies.length >= samples) {
      console.log(JSON.stringify({ latencies_ns: latencies }));
      ws.terminate();
      process.exit(0);
    }
  });
}

async function idle(port, clients) {
  const url = `ws://127.0.0.1:${port}/idle`;
  const open = (u) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(u);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const first = await open(url); // what the first client allocates once
  global.gc?.();
  const base = process.memoryUsage.rss();
  const held = [first];
  // Opened in waves, as the others do: every client is open before memory is read.
  for (let i = 0; i < clients; i += 500) {
    const wave = [];
    for (let j = i; j < Math.min(clients, i + 500); j++) wave.push(open(url));
    held.push(...(await Promise.all(wave)));
  }
  await new Promise((r) => setTimeout(r, 200));
  global.gc?.();
  const rss = process.memoryUsage.rss();
  console.log(
    JSON.stringify({
      streams: clients,
      rss_base_kib: base / 1024,
      rss_kib: rss / 1024,
      kib_per_stream: (rss - base) / 1024 / clients,
    }),
  );
  for (const ws of held) ws.terminate();
  process.exit(0);
}

function webhook(secret) {
  const wh = new Webhook(secret);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        wh.verify(Buffer.concat(chunks).toString('utf8'), req.headers);
        res.writeHead(204).end();
      } catch {
        res.writeHead(401).end();
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    console.log(`url http://127.0.0.1:${server.address().port}/hooks`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

const n = (i) => Number(args[i]);
switch (mode) {
  case 'ws':
    wsThroughput(n(0), n(1), n(2));
    break;
  case 'tidewire-ws':
    tidewireWsThroughput(n(0), n(1), n(2));
    break;
  case 'sse':
    sseThroughput(n(0), n(1), n(2));
    break;
  case 'ws-latency':
    wsLatency(n(0), n(1), n(2));
    break;
  case 'idle':
    await idle(n(0), n(1));
    break;
  case 'webhook':
    webhook(args[0]);
    break;
  default:
    console.error('usage: node peers.mjs ws|tidewire-ws|sse|ws-latency|idle|webhook ...');
    process.exit(2);
}
