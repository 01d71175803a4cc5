'use strict';
// tidewire.Event: one event of a stream, built from the fields the addon hands over.
const { performance } = require('node:perf_hooks');
const { Buffer } = require('node:buffer');
const addon = require('./native');

// The core stamps events on CLOCK_MONOTONIC, the clock of process.hrtime() (libuv's uv_hrtime);
// performance.now() counts on it from performance.timeOrigin. Sub-microsecond offset.
const ORIGIN_NS = Number(process.hrtime.bigint()) - performance.now() * 1e6;

// A batch from the addon is [count, strings, chunks]: the numbers of its events are in
// addon.layout (addon.slots.stride numbers per event), valid until the next batch is taken; strings
// and payload chunks (ArrayBuffers) belong to the batch. The layout is defined once, in the addon
// (TW_NODE_SLOTS in src/addon.cc), which exports each slot's index by name: this file reads them
// by name and refuses to load if one is missing. An event's data is a view of its chunk, never a
// copy, and keeps the chunk alive. Indices are read with `| 0`: a double used as a key would be
// looked up as a string.
const { layout, kinds: KINDS, transports: TRANSPORTS } = addon;

// An event's data: a Buffer made as a view of its chunk directly, without Buffer.from()'s checks of
// arguments that are known to be right here. Buffer.prototype is on its chain (every Buffer method,
// Buffer.isBuffer() is true) and its constructor is Buffer, as for Node's own buffers: it prints
// as <Buffer ...>, and subarray() and slice() make plain Buffers.
class Payload extends Uint8Array {}
Object.setPrototypeOf(Payload.prototype, Buffer.prototype);
Object.defineProperty(Payload.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });
/** The names of the slots this file reads (a test checks that they are all the addon's). */
const SLOTS_READ = [];
function slot(name) {
  const at = addon.slots[name];
  if (!Number.isInteger(at)) {
    throw new Error(`tidewire.node has no event slot '${name}': lib/ and the addon come from different builds`);
  }
  if (name !== 'stride') SLOTS_READ.push(name);
  return at;
}
const STRIDE = slot('stride');
const KIND = slot('kind');
const TRANSPORT = slot('transport');
const CHUNK = slot('chunk');
const OFFSET = slot('offset');
const LENGTH = slot('length');
const ID = slot('id');
const TYPE = slot('type');
const RECEIVED_NS = slot('receivedNs');
const ERROR = slot('error');
const STATUS = slot('status');
const CLOSE_CODE = slot('closeCode');
const RETRY_MS = slot('retryMs');
const HEADERS = slot('headers');
const HEADER_COUNT = slot('headerCount');

function headers(strings, first, count) {
  const out = {};
  for (let i = first; i < first + 2 * count; i += 2) out[strings[i]] = strings[i + 1];
  return out;
}

// Most events carry no headers: they share this one (frozen) object rather than each making an
// empty one.
const NO_HEADERS = Object.freeze({});

class Event {
  /** @internal */
  constructor(at, strings, chunks) {
    /**
     * "message"; "comment" (sse_comments: true); "auth_required" (a 401/403 with
     * reconnect_on_auth_failure: 'wait'); with status_events: "open", "reconnecting", "error",
     * "closed".
     */
    this.kind = KINDS[layout[at + KIND] | 0];
    /** The transport that delivered it: "poll", "longpoll", "sse", "ws", "webhook" or "redis". */
    this.transport = TRANSPORTS[layout[at + TRANSPORT] | 0];
    /** SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook id; "" when none. */
    this.id = strings[layout[at + ID] | 0];
    /** SSE event name, "change" for poll and long-poll, "text"/"binary" for ws, the webhook's type. */
    this.type = strings[layout[at + TYPE] | 0];
    const length = layout[at + LENGTH];
    /** The payload, byte for byte as received. */
    this.data = length === 0 ? Buffer.alloc(0) : new Payload(chunks[layout[at + CHUNK] | 0], layout[at + OFFSET] | 0, length);
    const headerCount = layout[at + HEADER_COUNT] | 0;
    /** Response (poll, long-poll) or request (webhook) headers, lower-case names (frozen and
     * shared when there are none). */
    this.headers = headerCount === 0 ? NO_HEADERS : headers(strings, layout[at + HEADERS] | 0, headerCount);
    /** When the I/O thread received it, in ms on the performance.now() clock. */
    this.receivedAt = (layout[at + RECEIVED_NS] - ORIGIN_NS) / 1e6;
    const error = layout[at + ERROR] | 0;
    /** For error and reconnecting events: the error code's name; null otherwise. */
    this.error = error < 0 ? null : strings[error];
    /** For error and reconnecting events: the HTTP status behind it, 0 if none. */
    this.status = layout[at + STATUS] | 0;
    /** The WebSocket close code behind an error, reconnecting or closed event, 0 if none. */
    this.closeCode = layout[at + CLOSE_CODE] | 0;
    /** For reconnecting events: ms until the next attempt; 0 otherwise. */
    this.retryIn = layout[at + RETRY_MS];
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

/** Calls add(event) for each event of a batch, in order. */
function eachEvent([count, strings, chunks], add) {
  for (let i = 0; i < count; i++) add(new Event(i * STRIDE, strings, chunks));
}

/** The events of a batch from the index-th on, made one at a time (a consumer may stop early). */
function eventAt([, strings, chunks], index) {
  return new Event(index * STRIDE, strings, chunks);
}

module.exports = { Event, eachEvent, eventAt, SLOTS_READ };
