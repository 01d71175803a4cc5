'use strict';
// The errors of tidewire, named as in the other languages' bindings. Their texts and categories
// are the core's (tw_last_error_message, tw_event_error_message, tw_err_category): nothing here
// composes one.

/**
 * Any error that Tidewire reports. `code` is the name of the core's error code
 * ("TW_ERR_UNSUPPORTED"), `category` its class ("config", "network", "http", "tls", "usage",
 * "closed", ... see docs/errors.md), `message` the core's text.
 */
class TidewireError extends Error {
  constructor(message, code, category) {
    super(message);
    this.name = 'TidewireError';
    this.code = code;
    this.category = category;
  }
}

/**
 * A configuration the core refuses: an unknown key (with the closest keys suggested), a key given
 * twice, or a value the key does not accept. The message names the key.
 */
class ConfigError extends TidewireError {
  constructor(message, code, category = 'config') {
    super(message, code, category);
    this.name = 'ConfigError';
  }
}

/**
 * The stream ended with a fatal error (e.g. HTTP 401, a refused WebSocket close code). The message
 * is the core's text of the failure ("<reason> (TW_ERR_HTTP_STATUS, HTTP 401)"); `reason` is the
 * reason alone, `status` the HTTP status behind it (0 if none), `closeCode` the WebSocket close
 * code (0 if none).
 */
class StreamError extends TidewireError {
  constructor(message, code, category, reason = message, status = 0, closeCode = 0) {
    super(message, code, category);
    this.name = 'StreamError';
    this.reason = reason;
    this.status = status;
    this.closeCode = closeCode;
  }
}

/** The addon throws Errors with a `code` and a `category`; this gives them their class. Other errors pass through. */
function fromNative(error) {
  if (!(error instanceof Error) || typeof error.category !== 'string') return error;
  const Class = error.category === 'config' ? ConfigError : TidewireError;
  return new Class(error.message, error.code, error.category);
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
