'use strict';
// Real servers for the Node tests, in the test's own process, each on 127.0.0.1 with port 0:
//
// - http (node:http, or node:https with tls: true)
//     GET /poll/:key        the key's latest body, ETag "<version>", 304 on a matching
//                           If-None-Match; 204 while nothing is published
//     GET /longpoll/:key    ?cursor=C&wait_s=W: the first version after C (absent: the latest), with
//                           X-Cursor: <version>; held until it exists (W s at most, then 204)
//     GET /status/:code     answers that status
//     GET /events           ?count=N&interval_ms=I: SSE, N events `id: <i>`, `event: tick`,
//                           `data: {"i":i}`, resuming after Last-Event-ID, then held open
//     *   /llm/:key         ?count=N&end=done|stop&cut=1: an LLM-style SSE answer to any method: N
//                           events `event: delta`, `data: {"i":i}`, each after a comment `: ping`,
//                           then `data: [DONE]` (end=done) or `event: message_stop`, held; with
//                           cut=1 the connection is cut after the events
//     GET /auth/:key        ?count=N&per_connection=P: SSE `id: <i>`, `data: {"i":i}` from
//                           Last-Event-ID + 1, at most P per connection, then held; 401 unless
//                           `Authorization: Bearer <tokens.get(key)>`
//   requests(key): what /llm/:key and /auth/:key received ({ method, body (Buffer), contentType,
//   authorization, lastEventId }).
// - ws (the `ws` package, on the same server): /echo echoes; /push?count=N sends {"i":i} for
//   i < N, then with sizes=A,B,... binary messages of those sizes (bytes(size, index)), then with
//   close=C closes with code C, else holds; /close?code=C closes at once with code C; /headers
//   sends the handshake's X-Test header as a text message, then holds. `closes` records the close code
//   each connection ended with; closesOf(path) those of the connections made to `path` (with
//   its query), so that a test can tell its connections from the others'.
//
// TLS (tls: true) uses a self-signed certificate for 127.0.0.1 made with the openssl CLI; its
// path is `caFile`, the file a client trusts.
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { WebSocketServer } = require('ws');

let certificate = null;
function selfSigned() {
  if (!certificate) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewire-node-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    certificate = { dir, cert, key };
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return certificate;
}

class Peers {
  constructor({ tls = false } = {}) {
    this.tls = tls;
    this.versions = new Map(); // key -> [JSON text]
    this.waiters = new Set(); // held long-polls: () => boolean (true when answered)
    this.connections = 0; // open WebSocket connections
    this.closes = []; // close code of each ended WebSocket connection
    this.closed = []; // [path with query, close code] of each ended WebSocket connection
    this.sockets = new Set();
    this.tokens = new Map(); // key -> the bearer token /auth/:key accepts
    this.log = new Map(); // key -> requests to /llm/:key and /auth/:key
  }

  requests(key) {
    return this.log.get(key) ?? [];
  }

  async start() {
    const handler = (req, res) => this.#http(req, res);
    if (this.tls) {
      const { cert, key } = selfSigned();
      this.caFile = cert;
      this.server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler);
    } else {
      this.server = http.createServer(handler);
    }
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (socket, req) => this.#ws(socket, req));
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address();
    this.httpUrl = `${this.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    this.wsUrl = `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`;
    return this;
  }

  async stop() {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Adds a version of `key` for /poll and /longpoll. */
  publish(key, value) {
    if (!this.versions.has(key)) this.versions.set(key, []);
    this.versions.get(key).push(JSON.stringify(value));
    for (const waiter of [...this.waiters]) if (waiter()) this.waiters.delete(waiter);
  }

  closesOf(path) {
    return this.closed.filter(([url]) => url === path).map(([, code]) => code);
  }

  #http(req, res) {
    const url = new URL(req.url, 'http://peer');
    const [, route, arg] = url.pathname.split('/');
    if (route === 'poll') return this.#poll(req, res, arg);
    if (route === 'longpoll') return this.#longpoll(res, arg, url.searchParams);
    if (route === 'status') {
      res.writeHead(Number(arg), { 'content-type': 'text/plain' });
      return res.end('refused by the test peer');
    }
    if (route === 'events') return this.#sse(req, res, url.searchParams);
    if (route === 'llm' || route === 'auth') {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        if (!this.log.has(arg)) this.log.set(arg, []);
        this.log.get(arg).push({
          method: req.method,
          body: Buffer.concat(chunks),
          contentType: req.headers['content-type'] ?? '',
          authorization: req.headers.authorization ?? '',
          lastEventId: req.headers['last-event-id'] ?? '',
        });
        if (route === 'llm') this.#llm(res, url.searchParams);
        else this.#auth(req, res, arg, url.searchParams);
      });
      return undefined;
    }
    res.writeHead(404).end();
  }

  #llm(res, query) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let chunk = '';
    for (let i = 0; i < Number(query.get('count') ?? '3'); i++) chunk += `: ping\nevent: delta\ndata: {"i":${i}}\n\n`;
    if (query.get('cut') === '1') {
      res.write(chunk, () => res.socket.destroy());
      return;
    }
    chunk += query.get('end') === 'stop' ? 'event: message_stop\ndata: {}\n\n' : 'data: [DONE]\n\n';
    res.write(chunk);
  }

  #auth(req, res, key, query) {
    if (req.headers.authorization !== `Bearer ${this.tokens.get(key)}`) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('token refused');
      return;
    }
    const last = Number.parseInt(req.headers['last-event-id'] ?? '', 10);
    const start = Number.isNaN(last) ? 0 : last + 1;
    const end = Math.min(Number(query.get('count') ?? '3'), start + Number(query.get('per_connection') ?? '1000'));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let chunk = '';
    for (let i = start; i < end; i++) chunk += `id: ${i}\ndata: {"i":${i}}\n\n`;
    res.write(chunk);
  }

  #poll(req, res, key) {
    const versions = this.versions.get(key) ?? [];
    if (versions.length === 0) return res.writeHead(204).end();
    const etag = `"${versions.length - 1}"`;
    if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag, 'content-type': 'application/json' }).end(versions.at(-1));
  }

  #longpoll(res, key, query) {
    const cursor = query.get('cursor') ?? '';
    const waitMs = Number(query.get('wait_s') ?? '30') * 1000;
    const want = cursor ? Number(cursor) + 1 : Math.max((this.versions.get(key) ?? []).length - 1, 0);
    const answer = () => {
      const versions = this.versions.get(key) ?? [];
      if (versions.length <= want) return false;
      clearTimeout(timer);
      res.writeHead(200, { 'x-cursor': String(want), 'content-type': 'application/json' }).end(versions[want]);
      return true;
    };
    answer.key = key; // tells a test's held request from another test's, still being torn down
    const timer = setTimeout(() => {
      this.waiters.delete(answer);
      res.writeHead(204, { 'x-cursor': cursor }).end();
    }, waitMs);
    res.on('close', () => {
      clearTimeout(timer);
      this.waiters.delete(answer);
    });
    if (!answer()) this.waiters.add(answer);
  }

  #sse(req, res, query) {
    const count = Number(query.get('count') ?? '0');
    const intervalMs = Number(query.get('interval_ms') ?? '0');
    const last = Number.parseInt(req.headers['last-event-id'] ?? '', 10);
    let i = Number.isNaN(last) ? 0 : last + 1;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': hello\n\n');
    const send = () => {
      let chunk = '';
      do {
        if (i >= count) break;
        chunk += `id: ${i}\nevent: tick\ndata: {"i":${i}}\n\n`;
        i++;
      } while (intervalMs === 0);
      if (chunk) res.write(chunk);
      if (i >= count) clearInterval(timer);
    };
    const timer = setInterval(send, Math.max(intervalMs, 1));
    send();
    res.on('close', () => clearInterval(timer));
  }

  #ws(socket, req) {
    const url = new URL(req.url, 'ws://peer');
    this.connections++;
    socket.on('close', (code) => {
      this.connections--;
      this.closes.push(code);
      this.closed.push([req.url, code]);
    });
    socket.on('error', () => {});
    if (url.pathname === '/echo') {
      socket.on('message', (data, binary) => socket.send(data, { binary }));
    } else if (url.pathname === '/push') {
      const count = Number(url.searchParams.get('count') ?? '1');
      for (let i = 0; i < count; i++) socket.send(JSON.stringify({ i }));
      const sizes = url.searchParams.get('sizes');
      for (const [i, size] of (sizes ? sizes.split(',') : []).entries()) socket.send(bytes(Number(size), i));
      if (url.searchParams.has('close')) socket.close(Number(url.searchParams.get('close')), 'pushed');
    } else if (url.pathname === '/headers') {
      socket.send(req.headers['x-test'] ?? '');
    } else if (url.pathname === '/close') {
      socket.close(Number(url.searchParams.get('code') ?? '1000'), 'closed by the test peer');
    } else {
      socket.close(1008, 'no such route');
    }
  }
}

/** The binary message number `index` of /push?sizes=: every byte value, in an order of its own. */
function bytes(size, index) {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + index * 13 + (i >> 8)) & 0xff;
  return out;
}

/** Peers started for the tests of one file; stopped after them. */
async function startPeers(options) {
  return new Peers(options).start();
}

/** Resolves when predicate() holds, polling; rejects after timeoutMs. */
async function until(predicate, timeoutMs = 5000, what = 'the condition') {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The first n events of an async iteration. */
async function take(stream, n) {
  const events = [];
  if (n === 0) return events;
  for await (const event of stream) {
    events.push(event);
    if (events.length === n) break;
  }
  return events;
}

module.exports = { startPeers, until, take, selfSigned, bytes };
