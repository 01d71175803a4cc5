'use strict';
// tidewire.Event: one event of a stream, built from the fields the addon hands over.
const { performance } = require('node:perf_hooks');
const addon = require('./native');

// The core stamps events on CLOCK_MONOTONIC, the clock of process.hrtime() (libuv's uv_hrtime);
// performance.now() counts on it from performance.timeOrigin. Sub-microsecond offset.
const ORIGIN_NS = Number(process.hrtime.bigint()) - performance.now() * 1e6;

/** Fields per event in a batch, in the order src/addon.cc writes them. */
const FIELDS = 11;

class Event {
  /** @internal */
  constructor(fields, at) {
    /** "message", or with status_events: "open", "reconnecting", "error", "closed". */
    this.kind = addon.kinds[fields[at]];
    /** The transport that delivered it: "poll", "longpoll", "sse", "ws" or "webhook". */
    this.transport = addon.transports[fields[at + 1]];
    /** SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook id; "" when none. */
    this.id = fields[at + 2];
    /** SSE event name, "change" for poll and long-poll, "text"/"binary" for ws, the webhook's type. */
    this.type = fields[at + 3];
    /** The payload, byte for byte as received. */
    this.data = fields[at + 4];
    /** Response (poll, long-poll) or request (webhook) headers, lower-case names. */
    this.headers = fields[at + 5] ?? {};
    /** When the I/O thread received it, in ms on the performance.now() clock. */
    this.receivedAt = (fields[at + 6] - ORIGIN_NS) / 1e6;
    /** For error and reconnecting events: the error code's name; null otherwise. */
    this.error = fields[at + 7];
    /** For error and reconnecting events: the HTTP status behind it, 0 if none. */
    this.status = fields[at + 8];
    /** The WebSocket close code behind an error, reconnecting or closed event, 0 if none. */
    this.closeCode = fields[at + 9];
    /** For reconnecting events: ms until the next attempt; 0 otherwise. */
    this.retryIn = fields[at + 10];
  }

  /** The payload decoded as UTF-8 (invalid bytes replaced). */
  get text() {
    return this.data.toString('utf8');
  }

  /** The payload parsed as JSON. */
  json() {
    return JSON.parse(this.text);
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    const data = this.data.subarray(0, 60).toString('utf8');
    return `Event ${this.kind} ${this.transport} id=${JSON.stringify(this.id)} data=${JSON.stringify(data)}${
      this.data.length > 60 ? '...' : ''
    }`;
  }
}

/** The events of a batch (a flat array of fields). */
function events(fields) {
  const out = new Array(fields.length / FIELDS);
  for (let i = 0; i < out.length; i++) out[i] = new Event(fields, i * FIELDS);
  return out;
}

module.exports = { Event, events };
