'use strict';
// The core's log on Node's loop: the runtime queues the records of its I/O thread, and the addon
// hands them here from a uv_poll on the queue's fd (unref'd), so the I/O thread never calls into
// JavaScript. A handler set with setLogHandler() receives every record; else 'log' listeners on
// `logger` do; with neither, warnings and errors go to stderr.
const { EventEmitter } = require('node:events');
const addon = require('./native');

const LEVELS = ['error', 'warn', 'info', 'debug'];

/** Emits 'log' with each record of the core's log: { level, message, time }. */
const logger = new EventEmitter();
let handler = null;

/**
 * Sends every record of the core's log to `fn` (instead of 'log' listeners and stderr); null
 * goes back to the default. A record is { level: 'error'|'warn'|'info'|'debug', message, time }
 * (time: a Date, when the I/O thread made it).
 */
function setLogHandler(fn) {
  if (fn !== null && typeof fn !== 'function') {
    throw new TypeError('setLogHandler() takes a function or null');
  }
  handler = fn;
}

function deliverLog(list) {
  for (let i = 0; i < list.length; i += 3) {
    const record = { level: LEVELS[list[i]], message: list[i + 1], time: new Date(list[i + 2] / 1e6) };
    if (handler) {
      handler(record);
    } else if (logger.listenerCount('log') > 0) {
      logger.emit('log', record);
    } else if (list[i] <= 1) {
      process.stderr.write(`tidewire ${record.level}: ${record.message}\n`);
    }
  }
}

addon.initLog(deliverLog);

module.exports = { logger, setLogHandler };
