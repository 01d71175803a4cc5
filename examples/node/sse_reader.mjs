// Reads a Server-Sent Events stream and prints each event; reconnects resume with Last-Event-ID.
//
//   node sse_reader.mjs http://127.0.0.1:PORT/sse [CA_FILE]
//
// Against the demo feed (python3 examples/feed/feed.py prints its PORT): every tick, then the
// feed's 204 ends the stream cleanly. With `--tls DIR` on the feed, use https:// and DIR/cert.pem.
// Ctrl-C closes the stream (an AbortSignal), which ends the loop.
import { Stream } from 'tidewire';

const [url, caFile] = process.argv.slice(2);
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const stream = new Stream(url, {
  transport: 'sse',
  reconnect_max_ms: 5000,
  status_events: true,
  tls_ca_file: caFile,
  signal: controller.signal,
});
try {
  for await (const event of stream) {
    if (event.kind === 'message') console.log(`id ${event.id} (${event.type}): ${event.text}`);
    else console.log(`[${event.kind}] ${event.text}`);
  }
} catch (error) {
  console.error(`stream failed: ${error.message}`); // a StreamError: .status, .closeCode, .reason
  process.exitCode = 1;
}
