'use strict';
// Signed deliveries for the webhook tests, made by the `standardwebhooks` package (an independent
// signer) and POSTed with Node's fetch.
const { Webhook } = require('standardwebhooks');

const SECRET = `whsec_${Buffer.from('tidewire node tests secret!!!!!!').toString('base64')}`;
const WRONG_SECRET = `whsec_${Buffer.from('a secret the receiver never saw').toString('base64')}`;

/** POSTs `payload` to `url` signed with `secret`; resolves to { status, body }. */
async function deliver(url, id, payload, secret = SECRET) {
  const body = JSON.stringify(payload);
  const now = new Date();
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, now, body),
    },
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: await response.text() };
}

module.exports = { SECRET, WRONG_SECRET, deliver };
