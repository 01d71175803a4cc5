'use strict';
// tidewire.Stream: a stream as an EventEmitter and an async iterator.
//
// Events are pulled from the core only while someone wants them: a pending next() (an iteration)
// or a 'message' listener. Meanwhile the stream's fd is watched on Node's loop and each wake-up
// brings a batch of events across; otherwise nothing is watched, the events wait in the core's
// bounded queue (which applies backpressure), and the stream does not keep the process alive.
const { EventEmitter } = require('node:events');
const addon = require('./native');
const { settings } = require('./config');
const { eachEvent, eventAt } = require('./event');
const { TidewireError, StreamError, native } = require('./errors');

const OWNER = Symbol('tidewire.owner');

// The stream whose batch is being emitted event by event, if one is (see #receive).
let delivering = null;

// Every stream of this thread ends cleanly at exit (WebSocket peers see close 1001), and the I/O
// thread stops before the process tears itself down.
process.once('exit', () => addon.shutdown());

// The addon's failure(): [batch of one, the core's text of it, its category].
function streamError([batch, message, category]) {
  let failure;
  eachEvent(batch, (event) => {
    failure = event;
  });
  return new StreamError(message, failure.error, category, failure.text, failure.status, failure.closeCode);
}

/**
 * One subscription to one source, over poll, long-poll, SSE, WebSocket or webhook.
 *
 *     const stream = new Stream('http://127.0.0.1:8000/sse', { transport: 'sse', reconnect_max_ms: 2000 });
 *     for await (const event of stream) console.log(event.id, event.json());
 *
 * Options: `transport` ("poll", "longpoll", "sse", "ws", "webhook", "redis"; ws:// and wss:// URLs imply
 * "ws"), any configuration key with "." written as "_" (`reconnect_max_ms`, `tls_ca_file`),
 * `options` (raw keys: `{ 'reconnect.max_ms': 2000 }`), `headers`, and `signal` (an AbortSignal
 * that closes the stream). Throws ConfigError for an unknown key or a refused value.
 *
 * Emits 'message' (event) for each message, 'comment' (event) for SSE comments (sse_comments: true),
 * 'status' (event) for status events (with status_events: true) and 'auth_required', 'error' (StreamError) when the stream ends in failure, and 'close' once it
 * has ended and every event was delivered. A 'message' listener makes the stream flowing: every
 * event then goes to the listeners. Otherwise events go to next() and to iteration.
 */
class Stream extends EventEmitter {
  #native;
  #buffer = []; // events taken from the core; those from #head on are not yet delivered
  #head = 0;
  #waiters = []; // pending next() calls, in order
  #drained = false; // the core said: ended, and every event was taken
  #failure = null; // the StreamError the stream ended with
  #finished = false; // the end was delivered ('close' emitted, waiters settled)
  #watching = false;
  #ref = true;
  #signal = null;
  #onAbort = null;
  #push = (event) => this.#buffer.push(event);
  #flowingNow = false; // a 'message' listener is registered (kept by the listener methods below)
  #partial = null; // the batch #receive is emitting, while it does
  #partialAt = 0; // the index of its next event

  static {
    addon.init((nativeStream) => {
      Stream.#settle();
      nativeStream[OWNER].#receive(nativeStream.take());
    });
  }

  /**
   * @param {string | URL} url
   * @param {object} [options]
   */
  constructor(url, options = {}) {
    super();
    const pairs = settings(url, options);
    const { signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError('options.signal must be an AbortSignal');
    }
    this.#native = native(() => new addon.NativeStream(pairs));
    this.#native[OWNER] = this;
    if (signal) {
      if (signal.aborted) {
        this.close();
      } else {
        this.#signal = signal;
        this.#onAbort = () => this.close();
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
  }

  // Adding or removing a 'message' listener starts or stops the flow. (once() and off() go through
  // these.) Events waiting in the buffer reach a new listener from a microtask, not inside on().
  addListener(name, listener) {
    super.addListener(name, listener);
    if (name === 'message') {
      this.#flowingNow = true;
      queueMicrotask(() => this.#update());
    }
    return this;
  }

  on(name, listener) {
    return this.addListener(name, listener);
  }

  prependListener(name, listener) {
    super.prependListener(name, listener);
    if (name === 'message') {
      this.#flowingNow = true;
      queueMicrotask(() => this.#update());
    }
    return this;
  }

  removeListener(name, listener) {
    super.removeListener(name, listener);
    if (name === 'message') {
      this.#flowingNow = this.listenerCount('message') > 0;
      this.#update();
    }
    return this;
  }

  off(name, listener) {
    return this.removeListener(name, listener);
  }

  removeAllListeners(...name) {
    super.removeAllListeners(...name); // no argument: every event, not the event "undefined"
    if (name.length === 0 || name[0] === 'message') {
      this.#flowingNow = this.listenerCount('message') > 0;
      this.#update();
    }
    return this;
  }

  /**
   * The next event. Resolves to undefined when `timeout` ms pass first (no timeout: waits as long
   * as it takes), to null once the stream has ended cleanly and every event was read; rejects
   * with a StreamError if it ended in failure. Not while the stream is flowing to 'message'
   * listeners.
   * @param {{ timeout?: number }} [options]
   */
  next({ timeout } = {}) {
    if (this.#flowing()) {
      return Promise.reject(
        new TidewireError("next() on a stream that is flowing to 'message' listeners", 'TW_ERR_INVALID_ARGUMENT', 'usage'),
      );
    }
    Stream.#settle(); // a listener that stopped the flow, calling next(): the rest of its batch first
    if (this.#queued() === 0 && this.#waiters.length === 0 && !this.#drained) {
      this.#take(native(() => this.#native.take()));
    }
    if (this.#queued() > 0) return Promise.resolve(this.#shift());
    if (this.#drained) {
      this.#finish();
      return this.#failure ? Promise.reject(this.#failure) : Promise.resolve(null);
    }
    if (timeout !== undefined && timeout !== null && timeout <= 0) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null };
      if (timeout !== undefined && timeout !== null) {
        waiter.timer = setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          resolve(undefined);
          this.#update();
        }, timeout);
      }
      this.#waiters.push(waiter);
      this.#update();
    });
  }

  /** Messages (and status events, with status_events) until the stream ends; throws a StreamError
   * if it ended in failure. Leaving the loop early leaves the stream open. */
  [Symbol.asyncIterator]() {
    const stream = this;
    return {
      async next() {
        const event = await stream.next();
        return event === null ? { done: true, value: undefined } : { done: false, value: event };
      },
      async return(value) {
        return { done: true, value };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Sends a WebSocket message (on an mcp stream: one JSON-RPC message as a string): a string as a
   * text message, a Buffer, typed array, DataView or
   * ArrayBuffer as a binary one. Throws a TidewireError on other transports (code
   * TW_ERR_UNSUPPORTED), when the send buffer is full (TW_ERR_WOULD_BLOCK, see ws_send_buffer_bytes)
   * and after the stream has ended (TW_ERR_CLOSED).
   * @param {string | ArrayBufferView | ArrayBuffer} message
   */
  send(message) {
    if (typeof message === 'string') {
      native(() => this.#native.send(message, false));
      return;
    }
    let bytes;
    if (ArrayBuffer.isView(message)) {
      bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    } else if (message instanceof ArrayBuffer) {
      bytes = new Uint8Array(message);
    } else {
      throw new TypeError(
        `send() takes a string (a text message) or bytes (a binary message), not ${message === null ? 'null' : typeof message}`,
      );
    }
    native(() => this.#native.send(bytes, true));
  }

  /**
   * Drops the connection and connects again at once, without backoff, resuming where the stream
   * was (SSE Last-Event-ID, poll ETag, long-poll cursor). The request is sent again even when
   * http_replay_body would not. A stream waiting for credentials (an 'auth_required' event) tries
   * again now. Throws a TidewireError for webhook streams (TW_ERR_UNSUPPORTED) and after the end
   * (TW_ERR_CLOSED).
   */
  restart() {
    native(() => this.#native.restart());
  }

  /**
   * Acknowledges a message of a redis stream opened with redis_ack: 'manual' (the event, or its
   * id): its entry leaves the consumer group's pending list, so no other worker will claim it. Does
   * nothing with redis_ack 'auto'. Throws a TidewireError for other transports (TW_ERR_UNSUPPORTED)
   * and after the end (TW_ERR_CLOSED; the entry stays pending and another worker claims it).
   * @param {import('./event').Event | string} event
   */
  ack(event) {
    const id = typeof event === 'string' ? event : event?.id;
    if (typeof id !== 'string') throw new TypeError('ack() takes an Event or its id');
    if (id.includes('\0')) throw new TypeError('ack(): an event id never contains NUL');
    native(() => this.#native.ack(id));
  }

  /**
   * Sets request header `name` to `value` (null removes it) from the next request or WebSocket
   * handshake on; restart() applies it at once. A stream waiting for credentials (an
   * 'auth_required' event) tries again now. Throws a ConfigError for a name that is not an HTTP
   * token or a value with CR, LF or NUL (the message never shows the value).
   * @param {string} name
   * @param {string | null} value
   */
  setHeader(name, value) {
    if (typeof name !== 'string') throw new TypeError(`setHeader() takes a string name, not ${typeof name}`);
    if (value !== null && typeof value !== 'string') {
      throw new TypeError(`setHeader() takes a string value or null, not ${typeof value}`);
    }
    native(() => this.#native.setHeader(name, value));
  }

  /** The stream's URL; for a webhook stream the URL really bound (with the real port). */
  get url() {
    return native(() => this.#native.url());
  }

  /** True once the stream has ended (events may still be queued: keep reading them). */
  get ended() {
    return this.#native.ended();
  }

  /** A file descriptor readable while events are waiting or the stream has ended
   * (level-triggered; never read from it). */
  get fd() {
    return this.#native.fd();
  }

  /** The stream's counters: messages, bytes, requests, not_modified, reconnects, errors, dropped,
   * queue_depth, queue_peak, paused, connections, tls_handshakes, wire_bytes, payload_bytes,
   * comments, attempts (see docs/STATISTICS.md); and state ('connecting', 'open', 'backoff',
   * 'paused', 'ended') and last_error (the last failed attempt's text, '' if none). */
  stats() {
    return native(() => this.#native.stats());
  }

  /** Ends the stream cleanly. Events already received stay readable; then iteration ends and
   * 'close' is emitted. Idempotent. */
  close() {
    this.#native.close();
    this.#detachSignal();
  }

  /** Lets the process exit while this stream is being read or listened to (like socket.unref()). */
  unref() {
    this.#ref = false;
    if (this.#watching) this.#native.setRef(false);
    return this;
  }

  /** Undoes unref(): a stream being read or listened to keeps the process alive (the default). */
  ref() {
    this.#ref = true;
    if (this.#watching) this.#native.setRef(true);
    return this;
  }

  #flowing() {
    return this.#flowingNow;
  }

  #queued() {
    return this.#buffer.length - this.#head;
  }

  // The oldest undelivered event. An index rather than Array#shift, which moves the rest each time.
  #shift() {
    const event = this.#buffer[this.#head];
    this.#buffer[this.#head++] = undefined;
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    return event;
  }

  // Adds a batch from the addon to the buffer; null means the stream has ended and is drained.
  #take(batch) {
    if (batch === null) {
      this.#drained = true;
      Stream.#settle();
      const failure = this.#native.failure();
      this.#failure = failure === null ? null : streamError(failure);
    } else {
      eachEvent(batch, this.#push);
    }
  }

  // The stream's fd is readable: a batch (or the end) to deliver. The common case, a flowing stream
  // with nothing left over, emits each event as it is made, without queueing it first.
  #receive(batch) {
    if (batch !== null && this.#head === this.#buffer.length && this.#flowingNow) {
      delivering = this;
      this.#partial = batch;
      this.#partialAt = 0;
      let threw = true;
      try {
        const count = batch[0];
        while (this.#partial === batch && this.#partialAt < count) {
          const event = eventAt(batch, this.#partialAt++);
          this.emit(event.kind === 'message' || event.kind === 'comment' ? event.kind : 'status', event);
          if (!this.#flowingNow) this.#materialize();
        }
        threw = false;
      } finally {
        // A listener that threw or stopped the flow leaves the rest queued, in order.
        this.#materialize();
        delivering = null;
        if (threw) this.#deliverSoon();
      }
    } else {
      this.#take(batch);
    }
    this.#deliver();
  }

  // Makes the events of the batch being emitted that were not emitted yet, into the queue. Before
  // any other batch is taken: every batch of this thread is written into one layout array.
  #materialize() {
    const batch = this.#partial;
    if (batch === null) return;
    this.#partial = null;
    for (let i = this.#partialAt; i < batch[0]; i++) this.#buffer.push(eventAt(batch, i));
  }

  static #settle() {
    if (delivering !== null) delivering.#materialize();
  }

  // After a listener threw ('uncaughtException' took it), the events after its own are delivered
  // from the next turn of the loop rather than waiting for more to arrive.
  #deliverSoon() {
    if (this.#queued() > 0) setImmediate(() => this.#deliver());
  }

  #deliver() {
    let threw = true;
    try {
      this.#deliverQueued();
      threw = false;
    } finally {
      if (threw) this.#deliverSoon();
    }
    if (this.#queued() === 0 && this.#drained) this.#finish();
    this.#update();
  }

  #deliverQueued() {
    while (this.#queued() > 0) {
      if (this.#flowing()) {
        const event = this.#shift();
        this.emit(event.kind === 'message' || event.kind === 'comment' ? event.kind : 'status', event);
      } else if (this.#waiters.length > 0) {
        const waiter = this.#waiters.shift();
        clearTimeout(waiter.timer);
        waiter.resolve(this.#shift());
      } else {
        break;
      }
    }
  }

  // The end, delivered once: waiting next() calls settle, 'error' (if anyone takes it), 'close'.
  #finish() {
    if (this.#finished) return;
    this.#finished = true;
    this.#detachSignal();
    const failure = this.#failure;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      if (failure) waiter.reject(failure);
      else waiter.resolve(null);
    }
    this.#update();
    if (failure && (this.listenerCount('error') > 0 || this.#flowing())) this.emit('error', failure);
    this.emit('close');
  }

  // Watches the fd while someone wants events, not otherwise.
  #update() {
    if (this.#flowing() && this.#queued() > 0) {
      this.#deliver();
      return;
    }
    const want = !this.#finished && !this.#drained && (this.#waiters.length > 0 || this.#flowing());
    if (want === this.#watching) return;
    this.#watching = want;
    this.#native.watch(want);
    if (want && !this.#ref) this.#native.setRef(false);
  }

  #detachSignal() {
    if (this.#signal) {
      this.#signal.removeEventListener('abort', this.#onAbort);
      this.#signal = null;
      this.#onAbort = null;
    }
  }
}

if (Symbol.dispose) {
  Stream.prototype[Symbol.dispose] = function dispose() {
    this.close();
  };
}

module.exports = { Stream };
