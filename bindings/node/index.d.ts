// Types of the tidewire package (lib/index.js, lib/index.mjs).
/// <reference types="node" />
import { EventEmitter } from 'node:events';

/** The transports of the `transport` option. */
export type Transport = 'poll' | 'longpoll' | 'sse' | 'ws' | 'webhook' | 'mcp' | 'redis';
/**
 * "message"; "comment" with sse_comments: true; "auth_required" with reconnect_on_auth_failure:
 * 'wait'; with status_events: true the status kinds.
 */
export type Kind = 'message' | 'open' | 'reconnecting' | 'error' | 'closed' | 'auth_required' | 'comment';
/** A configuration value: strings as they are, numbers, booleans and lists as JavaScript prints them. */
export type ConfigValue = string | number | bigint | boolean | readonly string[];

export type { ConfigOptions, ConfigKeys, Milliseconds, Seconds } from './config';
import type { ConfigOptions, ConfigKeys } from './config';

/**
 * Options of `new Stream(url, options)`: every configuration key under its alias (`reconnect_max_ms`
 * for `reconnect.max_ms`; config.d.ts, generated from the core's key table, see
 * docs/CONFIGURATION.md), and the four below. There is no other: a misspelt option does not
 * type-check, and is refused at run time with the core's suggestion.
 */
export interface StreamOptions extends Omit<ConfigOptions, 'url'> {
  /** Request headers, sent on every request and handshake (the `header.<Name>` keys). */
  headers?: Record<string, string>;
  /** Configuration keys by name: `{ 'reconnect.max_ms': 2000 }`. */
  options?: ConfigKeys;
  /** Closes the stream when aborted (a clean end: iteration ends, 'close' is emitted). */
  signal?: AbortSignal;
}

/** One event of a stream: a message, or a status event (status_events: true). */
export class Event {
  private constructor();
  readonly kind: Kind;
  readonly transport: Transport;
  /** SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook delivery id; "" when none. */
  readonly id: string;
  /** SSE event name ("message" by default), "change" for poll and long-poll, "text" or "binary" for ws, the webhook's event type. */
  readonly type: string;
  /** The payload, byte for byte as received; for error and reconnecting events, the reason. */
  readonly data: Buffer;
  /** Response (poll, long-poll) or request (webhook) headers, lower-case names; elsewhere an empty
   * object, frozen and shared by every event without headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** When the core's I/O thread received it, in ms on the performance.now() clock. */
  readonly receivedAt: number;
  /** For error and reconnecting events: the error code's name ("TW_ERR_HTTP_STATUS"); null otherwise. */
  readonly error: string | null;
  /** For error and reconnecting events: the HTTP status behind it, 0 if none. */
  readonly status: number;
  /** The WebSocket close code behind an error, reconnecting or closed event, 0 if none. */
  readonly closeCode: number;
  /** For reconnecting events: ms until the next attempt; 0 otherwise. */
  readonly retryIn: number;
  /** The payload decoded as UTF-8 (invalid bytes replaced). */
  readonly text: string;
  /** The payload parsed as JSON. */
  json<T = unknown>(): T;
}

/** The counters of a stream (see the README's Statistics section). */
export interface Stats {
  messages: number;
  bytes: number;
  requests: number;
  not_modified: number;
  reconnects: number;
  errors: number;
  dropped: number;
  queue_depth: number;
  queue_peak: number;
  paused: number;
  /** Connections opened (a reused keep-alive connection is not counted). */
  connections: number;
  tls_handshakes: number;
  /** Bytes received, framing included, before decompression. */
  wire_bytes: number;
  /** Message payload bytes received, after decompression. */
  payload_bytes: number;
  /** SSE comments delivered (sse_comments: true). */
  comments: number;
  /** Attempts that failed in a row; 0 again once one succeeds. */
  attempts: number;
  /** Where the stream is: 'backoff' with attempts > 0 means it cannot connect. */
  state: 'connecting' | 'open' | 'backoff' | 'paused' | 'ended';
  /** The last failed attempt's text (no secrets), '' if none failed. */
  last_error: string;
}

/** One record of the core's log. */
export interface LogRecord {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  /** When the core's I/O thread made the record. */
  time: Date;
}

/** The core's log: emits 'log' with each LogRecord (unless a handler is set). */
export const logger: EventEmitter;

/**
 * Sends every record of the core's log to `fn` (instead of 'log' listeners on `logger` and
 * stderr); null goes back to the default (warnings and errors to stderr when nothing listens).
 */
export function setLogHandler(fn: ((record: LogRecord) => void) | null): void;

export interface StreamEvents {
  /** A message. A 'message' listener makes the stream flowing: events go to listeners, not to next(). */
  message: [event: Event];
  /** An SSE comment (sse_comments: true), while flowing. */
  comment: [event: Event];
  /** A status event (open, reconnecting, error, closed with status_events: true; auth_required), while flowing. */
  status: [event: Event];
  /** The stream ended in failure. Emitted when the stream is flowing or 'error' has listeners. */
  error: [error: StreamError];
  /** The stream has ended and every event was delivered. */
  close: [];
}

/**
 * One subscription to one source, over poll, long-poll, SSE, WebSocket or webhook. Connecting
 * starts at once. Throws a ConfigError for an unknown option or a refused value.
 */
export class Stream extends EventEmitter implements AsyncIterable<Event> {
  constructor(url: string | URL, options?: StreamOptions);
  /**
   * The next event: undefined when `timeout` ms pass first (no timeout: waits as long as it
   * takes), null once the stream has ended cleanly and every event was read; rejects with a
   * StreamError if it ended in failure.
   */
  next(options?: { timeout?: number }): Promise<Event | null | undefined>;
  /** Events until the stream ends; throws a StreamError if it ended in failure. Leaving the loop early leaves the stream open. */
  [Symbol.asyncIterator](): AsyncIterator<Event, undefined>;
  /** A WebSocket message: a string as text, bytes as binary. On an mcp stream: one JSON-RPC message (or batch) as a string. */
  send(message: string | ArrayBufferView | ArrayBuffer): void;
  /** Drops the connection and connects again at once, resuming (Last-Event-ID, ETag, cursor). */
  restart(): void;
  /** Sets (null: removes) a request header from the next request or handshake on. */
  /** redis_ack 'manual': acknowledges a message (or its id) once handled. */
  ack(event: Event | string): void;
  setHeader(name: string, value: string | null): void;
  /** The stream's URL; for a webhook stream the URL really bound (with the real port). */
  readonly url: string;
  /** True once the stream has ended (events may still be queued). */
  readonly ended: boolean;
  /** A file descriptor readable while events wait or the stream has ended (level-triggered; never read from it). */
  readonly fd: number;
  stats(): Stats;
  /** Ends the stream cleanly; queued events stay readable. Idempotent. */
  close(): void;
  /** Lets the process exit while this stream is read or listened to. */
  unref(): this;
  /** Undoes unref(). */
  ref(): this;

  on<K extends keyof StreamEvents>(event: K, listener: (...args: StreamEvents[K]) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof StreamEvents>(event: K, listener: (...args: StreamEvents[K]) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off<K extends keyof StreamEvents>(event: K, listener: (...args: StreamEvents[K]) => void): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  addListener<K extends keyof StreamEvents>(event: K, listener: (...args: StreamEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof StreamEvents>(event: K, listener: (...args: StreamEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * The core's class of an error code (tw_err_category), see docs/errors.md. 'http' is an HTTP status
 * that ends the stream (`status` says which: 401/403 are the credentials).
 */
export type ErrorCategory =
  | 'usage'
  | 'config'
  | 'wait'
  | 'closed'
  | 'busy'
  | 'resource'
  | 'network'
  | 'http'
  | 'protocol'
  | 'tls'
  | 'limit'
  | 'internal'
  | 'unknown';

/** Any error Tidewire reports. `code` is the core's error name ("TW_ERR_UNSUPPORTED"), the message the core's text. */
export class TidewireError extends globalThis.Error {
  constructor(message: string, code?: string, category?: ErrorCategory);
  readonly code: string | undefined;
  readonly category: ErrorCategory | undefined;
}
/** TidewireError, under the name the other bindings give it. */
export { TidewireError as Error };

/** An unknown key (with the closest keys suggested), a key given twice, or a value the key does not accept; the message names the key. */
export class ConfigError extends TidewireError {}

/**
 * The stream ended with a fatal error (e.g. HTTP 401, a refused WebSocket close code). The message
 * is the core's text of the failure: "<reason> (TW_ERR_HTTP_STATUS, HTTP 401)".
 */
export class StreamError extends TidewireError {
  constructor(
    message: string,
    code?: string,
    category?: ErrorCategory,
    reason?: string,
    status?: number,
    closeCode?: number,
  );
  /** The core's description alone. */
  readonly reason: string;
  /** The HTTP status behind it, 0 if none. */
  readonly status: number;
  /** The WebSocket close code behind it, 0 if none. */
  readonly closeCode: number;
}

export interface ConfigKey {
  type: 'string' | 'int' | 'bool' | 'enum' | 'list' | 'map';
  default: string;
  accepted: string;
  doc: string;
  /** The StreamOptions name of the key (null for header.<Name>, which goes through `headers`). */
  option: string | null;
}
/** Every configuration key, from the core's table. */
export function configKeys(): Record<string, ConfigKey>;
/** The core's version (tw_version_str). */
export const version: string;

declare const tidewire: {
  Stream: typeof Stream;
  Event: typeof Event;
  TidewireError: typeof TidewireError;
  Error: typeof TidewireError;
  ConfigError: typeof ConfigError;
  StreamError: typeof StreamError;
  configKeys: typeof configKeys;
  version: string;
};
export default tidewire;
