// An MCP server over Streamable HTTP made with the official TypeScript SDK
// (@modelcontextprotocol/sdk, pinned in package.json here), on node:http at 127.0.0.1, port
// announced as `PORT <n>`; it exits when its stdin closes. Run through tests/peers/mcp_ts_server.py.
//
// Options: --stateless (no session), --json (JSON answers instead of SSE), --event-store (every SSE
// event gets an id; a cut stream is replayed after Last-Event-ID), --retry-ms N.
// Tools: add_numbers(a, b); progress(steps, delay_ms): one progress notification per step, then
// "done <steps>"; cut_midway(steps): like progress, closing the request's SSE stream half-way;
// notify_later(delay_ms): answers, then a log message on the GET stream. GET /_log lists the
// requests (tidewire::test::parse_log's format); GET /_expire forgets every session (404 after).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { z } from 'zod';

const args = process.argv.slice(2);
const stateless = args.includes('--stateless');
const json = args.includes('--json');
const eventStore = args.includes('--event-store') ? new InMemoryEventStore() : undefined;
const retryInterval = args.includes('--retry-ms') ? Number(args[args.indexOf('--retry-ms') + 1]) : undefined;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function buildServer() {
  const server = new McpServer({ name: 'tidewire-test-ts', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('add_numbers', { inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  const progress = (cutAt) => async ({ steps = 3, delay_ms = 10 }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      if (i === cutAt(steps)) extra.closeSSEStream?.();
      if (token !== undefined)
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i}` },
        });
      await sleep(delay_ms);
    }
    return { content: [{ type: 'text', text: `done ${steps}` }] };
  };
  const schema = { inputSchema: { steps: z.number().optional(), delay_ms: z.number().optional() } };
  server.registerTool('progress', schema, progress(() => 0));
  server.registerTool('cut_midway', schema, progress((steps) => Math.floor(steps / 2) + 1));
  server.registerTool('notify_later', { inputSchema: { delay_ms: z.number().optional() } }, async ({ delay_ms = 100 }) => {
    // Unrelated to any request: it goes out on the GET stream.
    setTimeout(() => server.server.notification({ method: 'notifications/message', params: { level: 'info', data: 'later' } }), delay_ms);
    return { content: [{ type: 'text', text: 'scheduled' }] };
  });
  return server;
}

const sessions = new Map();
const log = [];

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : undefined;
}

const httpServer = http.createServer(async (req, res) => {
  if (req.url === '/_expire') {
    for (const transport of sessions.values()) await transport.close();
    sessions.clear();
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('expired\n');
  }
  if (req.url === '/_log') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(log.map((line) => line + '\n').join(''));
  }
  const h = (name) => String(req.headers[name] ?? '').replace(/[%;\r\n]/g, encodeURIComponent);
  log.push(`method=${req.method};mcp-session-id=${h('mcp-session-id')};last-event-id=${h('last-event-id')};` +
           `mcp-protocol-version=${h('mcp-protocol-version')};accept=${h('accept')}`);
  try {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let transport = sessionId ? sessions.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: stateless ? undefined : () => randomUUID(),
        enableJsonResponse: json,
        eventStore,
        retryInterval,
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await buildServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  } catch (error) {
    if (!res.headersSent) res.writeHead(500).end(String(error));
  }
});

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${httpServer.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
