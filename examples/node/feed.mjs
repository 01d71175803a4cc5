// Consumes the demo feed over Server-Sent Events and WebSocket at once, and prints for each
// transport how many events arrived and how long they took from publication to here.
//
//   python3 examples/feed/feed.py [--tls DIR]        # prints PORT <n>
//   node feed.mjs http://127.0.0.1:PORT              # or https://... DIR/cert.pem
//
// The feed publishes 20 ticks {"seq", "published_at"}; both streams end cleanly after the last
// (SSE: the feed answers 204 to the reconnect; WebSocket: it closes with 1000).
import { Stream } from 'tidewire';

const [base, caFile] = process.argv.slice(2);
const secure = base.startsWith('https:');
const streams = {
  sse: new Stream(`${base}/sse`, { transport: 'sse', tls_ca_file: caFile, reconnect_initial_ms: 100 }),
  ws: new Stream(`${base.replace(/^http/, 'ws')}/ws`, { tls_ca_file: caFile }),
};

async function read(transport, stream) {
  const latencies = [];
  for await (const event of stream) {
    const tick = event.json();
    const latencyMs = Date.now() - tick.published_at * 1000;
    latencies.push(latencyMs);
    console.log(`${transport.padEnd(3)} seq ${String(tick.seq).padStart(2)}  ${latencyMs.toFixed(1)} ms`);
  }
  latencies.sort((a, b) => a - b);
  const p50 = latencies.length ? latencies[Math.floor(latencies.length / 2)].toFixed(1) : '-';
  return `${transport}${secure ? ' (TLS)' : ''}: ${latencies.length} events, p50 ${p50} ms`;
}

const results = await Promise.all(Object.entries(streams).map(([name, stream]) => read(name, stream)));
for (const line of results) console.log(line);
