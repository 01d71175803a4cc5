'use strict';
/**
 * Tidewire: one client for pull and push.
 *
 * Open a Stream on a source and read one kind of Event from it, whatever the transport
 * underneath: poll, longpoll, sse, ws or webhook.
 *
 *     const { Stream } = require('tidewire');
 *     const stream = new Stream('http://127.0.0.1:8000/sse', { transport: 'sse' });
 *     for await (const event of stream) console.log(event.id, event.type, event.text);
 *
 * Reconnection, backoff, resume, server hints, signature checks and backpressure are done by the
 * C++ core this package wraps. The streams of a thread share one I/O thread of the core's,
 * started with the first stream and stopped at exit.
 */
const addon = require('./native');
const { Stream } = require('./stream');
const { Event } = require('./event');
const { TidewireError, ConfigError, StreamError } = require('./errors');
const { configKeys } = require('./config');
const { logger, setLogHandler } = require('./log');

module.exports = {
  Stream,
  Event,
  TidewireError,
  /** The same class as TidewireError, under the name the other bindings give it. */
  Error: TidewireError,
  ConfigError,
  StreamError,
  configKeys,
  /** The core's log: 'log' events of { level, message, time } (see setLogHandler). */
  logger,
  setLogHandler,
  /** The core's version (tw_version_str). */
  version: addon.version,
};
// `import tidewire from 'tidewire'` and require('tidewire').default give the same object.
module.exports.default = module.exports;
