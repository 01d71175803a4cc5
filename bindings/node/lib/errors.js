'use strict';
// The errors of tidewire, named as in the other languages' bindings.

/**
 * Any error that Tidewire reports. `code` is the name of the core's error code
 * ("TW_ERR_UNSUPPORTED"), `message` the detail.
 */
class TidewireError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'TidewireError';
    this.code = code;
  }
}

/** A configuration the core refuses: an unknown key, or a value the key does not accept. */
class ConfigError extends TidewireError {
  constructor(message, code) {
    super(message, code);
    this.name = 'ConfigError';
  }
}

/**
 * The stream ended with a fatal error (e.g. HTTP 401, a refused WebSocket close code).
 * `status` is the HTTP status behind it (0 if none), `closeCode` the WebSocket close code (0 if
 * none), `reason` the core's description.
 */
class StreamError extends TidewireError {
  constructor(reason, code, status = 0, closeCode = 0) {
    const detail = code ? [code] : [];
    if (status) detail.push(`HTTP ${status}`);
    if (closeCode) detail.push(`close code ${closeCode}`);
    super(detail.length ? `${reason} (${detail.join(', ')})` : reason, code);
    this.name = 'StreamError';
    this.reason = reason;
    this.status = status;
    this.closeCode = closeCode;
  }
}

const CONFIG_CODES = new Set(['TW_ERR_UNKNOWN_KEY', 'TW_ERR_INVALID_VALUE']);

/** The addon throws Errors with a `code`; this gives them their class. Other errors pass through. */
function fromNative(error) {
  if (!(error instanceof Error) || typeof error.code !== 'string' || !error.code.startsWith('TW_')) return error;
  const Class = CONFIG_CODES.has(error.code) ? ConfigError : TidewireError;
  return new Class(error.message, error.code);
}

/** Runs fn(), rethrowing the addon's errors as TidewireError / ConfigError. */
function native(fn) {
  try {
    return fn();
  } catch (error) {
    throw fromNative(error);
  }
}

module.exports = { TidewireError, ConfigError, StreamError, native };
