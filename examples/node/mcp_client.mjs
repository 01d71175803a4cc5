// An MCP client over tidewire: initializes a session, lists the tools, then calls one that reports
// progress and prints each notification as it arrives, before the result.
//
//   node mcp_client.mjs [--url http://host:port/mcp]
//
// Without --url it starts a local server (../mcp/server.py, the official MCP Python SDK, with
// python3) and talks to it. The transport does the protocol's plumbing (session id, negotiated
// MCP-Protocol-Version, the GET stream, resuming a cut answer by GET + Last-Event-ID, DELETE on
// close); the application speaks JSON-RPC: send() posts a message, each message received is one
// event.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Stream } from 'tidewire';

const { values: args } = parseArgs({ options: { url: { type: 'string' } } });

/** JSON-RPC over the stream: request() resolves with the result, notifications go to onNotification. */
class Session {
  #stream;
  #nextId = 1;
  #pending = new Map();

  constructor(stream, onNotification) {
    this.#stream = stream;
    stream.on('message', (event) => {
      const message = event.json();
      const waiter = 'method' in message ? undefined : this.#pending.get(message.id);
      if (waiter === undefined) return onNotification(message);
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
    // An error event about a request (its answer was refused or lost); the stream goes on.
    stream.on('status', (event) => {
      const waiter = this.#pending.get(Number(event.id));
      if (event.kind !== 'error' || waiter === undefined) return;
      this.#pending.delete(Number(event.id));
      waiter.reject(new Error(event.text));
    });
    stream.on('error', (error) => {
      for (const waiter of this.#pending.values()) waiter.reject(error);
      this.#pending.clear();
    });
  }

  request(method, params) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#stream.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  notify(method) {
    this.#stream.send(JSON.stringify({ jsonrpc: '2.0', method }));
  }
}

async function run(url) {
  const stream = new Stream(url, { transport: 'mcp', read_timeout_ms: 60000 });
  const mcp = new Session(stream, (message) => {
    if (message.method !== 'notifications/progress') return;
    const p = message.params;
    console.log(`  progress ${p.progress}/${p.total}: ${p.message ?? ''}`);
  });
  try {
    const init = await mcp.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'tidewire-example', version: '1' },
    });
    mcp.notify('notifications/initialized');
    console.log(`connected to ${init.serverInfo.name} (MCP ${init.protocolVersion})`);
    const { tools } = await mcp.request('tools/list', {});
    console.log(`tools: ${tools.map((tool) => tool.name).join(', ')}`);
    const result = await mcp.request('tools/call', {
      name: 'slow_count',
      arguments: { to: 5 },
      _meta: { progressToken: 'count' },
    });
    console.log(`result: ${result.content[0].text}`);
    return 0;
  } catch (error) {
    console.error(`error: ${error.message}`);
    return 1;
  } finally {
    stream.close();
  }
}

if (args.url) {
  process.exitCode = await run(args.url);
} else {
  // The server exits when its stdin closes, so it never outlives this script.
  const serverPath = fileURLToPath(new URL('../mcp/server.py', import.meta.url));
  const server = spawn('python3', [serverPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await createInterface({ input: server.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  if (!line?.startsWith('PORT ')) {
    console.error('server.py did not start');
    process.exitCode = 1;
  } else {
    process.exitCode = await run(`http://127.0.0.1:${line.split(' ')[1]}/mcp`);
  }
  server.stdin.end();
}
