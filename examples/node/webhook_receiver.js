'use strict';
// Receives GitHub webhook deliveries and prints the verified ones. Tidewire checks
// X-Hub-Signature-256 over the raw body before anything parses it: forged deliveries get 401,
// unsigned ones 400, and neither becomes an event.
//
//   node webhook_receiver.js SECRET [PORT] [SCHEME]
//
// Prints the URL it listens on (port 0, the default, picks a free one); give GitHub that URL and
// the secret (content type application/json). SCHEME is "github" by default; "standard" receives
// Standard Webhooks deliveries, such as the demo feed's:
//
//   node webhook_receiver.js whsec_... 0 standard
//   TIDEWIRE_FEED_WEBHOOK_SECRET=whsec_... python3 examples/feed/feed.py --webhook-url <the URL>
//
// Ctrl-C stops it.
const { Stream } = require('tidewire');

const [secret, port = '0', scheme = 'github'] = process.argv.slice(2);
if (!secret) {
  console.error('usage: node webhook_receiver.js SECRET [PORT] [SCHEME]');
  process.exit(2);
}
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const stream = new Stream(`http://127.0.0.1:${port}/webhook`, {
  transport: 'webhook',
  webhook_scheme: scheme,
  webhook_secret: secret,
  signal: controller.signal,
});
console.log(`listening on ${stream.url}`);

stream.on('message', (event) => {
  // GitHub names the event in X-GitHub-Event and the delivery in X-GitHub-Delivery.
  const name = event.headers['x-github-event'] ?? event.type;
  console.log(`${event.id || '-'} (${name}): ${event.text}`);
});
stream.on('close', () => {
  const stats = stream.stats();
  console.log(`${stats.messages} deliveries accepted, ${stats.errors} refused`);
});
