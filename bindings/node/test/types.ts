// Compiled (not run) by types.test.js with tsc --strict: the declarations in index.d.ts accept
// the documented uses and refuse wrong ones (each @ts-expect-error must be an error).
import tidewire, { ConfigError, Event, Stream, StreamError, TidewireError, configKeys, version } from 'tidewire';

async function uses(): Promise<void> {
  const controller = new AbortController();
  const stream = new Stream('http://127.0.0.1:8000/sse', {
    transport: 'sse',
    reconnect_max_ms: 2000,
    status_events: true,
    ws_subprotocols: ['a', 'b'],
    headers: { Authorization: 'Bearer t0k3n' },
    http_method: 'POST',
    http_body: Buffer.from('{}'),
    sse_end_data: '[DONE]',
    reconnect_on_auth_failure: 'wait',
    options: { 'reconnect.initial_ms': 100 },
    signal: controller.signal,
  });
  for await (const event of stream) {
    const kind: 'message' | 'open' | 'reconnecting' | 'error' | 'closed' | 'auth_required' | 'comment' = event.kind;
    const data: Buffer = event.data;
    const text: string = event.text;
    const value = event.json<{ i: number }>();
    const n: number = value.i + event.status + event.closeCode + event.retryIn + event.receivedAt;
    const headers: Record<string, string> = event.headers;
    const error: string | null = event.error;
    void [kind, data, text, n, headers, error, event.id, event.type, event.transport];
    stream.setHeader('Authorization', null);
    stream.restart();
  }
  const next: Event | null | undefined = await stream.next({ timeout: 1000 });
  stream.on('message', (event: Event) => event.text);
  stream.on('error', (error: StreamError) => error.status + error.closeCode + error.reason.length);
  stream.on('close', () => undefined);
  stream.send('text');
  stream.send(Buffer.from('bytes'));
  stream.send(new Uint8Array(2).buffer);
  const url: string = stream.url;
  const messages: number = stream.stats().messages;
  stream.unref().ref().close();
  const keys = configKeys()['reconnect.max_ms'];
  const wrapped: typeof TidewireError = tidewire.Error;
  void [next, url, messages, keys.option, version, wrapped, ConfigError];

  // @ts-expect-error: send takes a string or bytes
  stream.send(42);
  // @ts-expect-error: transports are named
  new Stream('http://x', { transport: 'carrier-pigeon' });
  // @ts-expect-error: next() takes an options object
  await stream.next(1000);
  // @ts-expect-error: no such option (a typo of transport): options are the core's keys only
  new Stream('http://x', { transprot: 'sse' });
  // @ts-expect-error: no such key among the raw options either
  new Stream('http://x', { transport: 'sse', options: { 'reconect.max_ms': 1 } });
  // @ts-expect-error: an enum key takes its values only
  new Stream('http://x', { transport: 'sse', queue_overflow: 'block' });
  // @ts-expect-error: the url is the first argument, not an option
  new Stream('http://x', { url: 'http://y' });
  // Durations as text, raw keys, header keys and bigints type-check.
  new Stream('http://x', {
    transport: 'sse',
    read_timeout_ms: '30s',
    webhook_tolerance_s: '5m',
    reconnect_max_attempts: 3n,
    options: { 'poll.interval_ms': 500, 'header.X-Token': 't' },
  });
  const category: string | undefined = new TidewireError('m', 'TW_ERR_IO', 'network').category;
  void category;
}
void uses;
