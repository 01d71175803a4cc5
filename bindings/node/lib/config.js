'use strict';
// Stream options to the core's settings, passed on as they are given.
//
// The core resolves option names (reconnect_max_ms is its alias of reconnect.max_ms), suggests
// keys for a typo, refuses a key given twice and reads values as JavaScript prints them (true,
// 2000, ['a', 'b'] as "a,b"): this file only turns JavaScript values into text, in order.
const addon = require('./native');

/** Options of the Stream constructor that are not configuration keys. */
const RESERVED = new Set(['headers', 'options', 'signal']);

/** A JavaScript value as the core takes it: bytes as they are, anything else as String() prints it. */
function text(key, value) {
  // Bytes (http.body): a Buffer or typed array goes to the core as it is, NULs included.
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (!['string', 'number', 'bigint', 'boolean'].includes(typeof value) && !Array.isArray(value)) {
    throw new TypeError(
      `${key}: a configuration value is a string, number, bigint, boolean, array or bytes, not ${typeof value}`,
    );
  }
  return String(value);
}

/** The [key, value] pairs of a `new Stream(url, options)` call, in the order they are set. */
function settings(url, options = {}) {
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new TypeError(`url must be a string or a URL, not ${typeof url}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError('options must be an object');
  }
  const given = [['url', String(url)]];
  for (const entry of Object.entries(options)) if (!RESERVED.has(entry[0])) given.push(entry);
  given.push(...Object.entries(options.options ?? {}));
  for (const [name, value] of Object.entries(options.headers ?? {})) given.push([`header.${name}`, value]);
  return given.filter(([, value]) => value !== undefined && value !== null).map(([key, value]) => [key, text(key, value)]);
}

/** Every configuration key: { key: { type, default, accepted, doc, option } }; option is the core's alias. */
function configKeys() {
  return Object.fromEntries(
    addon.configKeys().map(([key, type, def, accepted, doc, option]) => [key, { type, default: def, accepted, doc, option }]),
  );
}

module.exports = { settings, configKeys };
