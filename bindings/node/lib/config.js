'use strict';
// Stream options to the core's settings, passed on as they are given.
//
// The core resolves option names (reconnect_max_ms is its alias of reconnect.max_ms), suggests
// keys for a typo, refuses a key given twice, reads values as JavaScript prints them (true, 2000,
// ['a', 'b'] as "a,b") and refuses an array for a key that is no list, or an object: this file only
// turns JavaScript values into text and says which kind of value each was, in order.
const addon = require('./native');

/** Options of the Stream constructor that are not configuration keys. */
const RESERVED = new Set(['headers', 'options', 'signal']);

// tw_value_kind: the core decides which keys take which kind, and words the refusal.
const { text: KIND_TEXT, list: KIND_LIST, other: KIND_OTHER } = addon.valueKinds;

/** The host's name of a value's type, as the core's refusal names it ("array", "object", "Map"). */
function typeName(value) {
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'object') return typeof value;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return !name || name === 'Object' ? 'object' : name;
}

/** A JavaScript value as the core takes it: [bytes as they are or the text String() prints, its kind, its type name]. */
function text(value) {
  // Bytes (http.body): a Buffer or typed array goes to the core as it is, NULs included.
  if (ArrayBuffer.isView(value)) return [new Uint8Array(value.buffer, value.byteOffset, value.byteLength), KIND_TEXT, typeName(value)];
  if (value instanceof ArrayBuffer) return [new Uint8Array(value), KIND_TEXT, 'ArrayBuffer'];
  if (Array.isArray(value)) return [String(value), KIND_LIST, 'array'];
  if (['string', 'number', 'bigint', 'boolean'].includes(typeof value)) return [String(value), KIND_TEXT, typeof value];
  // Never printed: an object's text is nobody's value, and it may hold a secret.
  return ['', KIND_OTHER, typeName(value)];
}

/** The [key, value, kind, typeName] settings of a `new Stream(url, options)` call, in the order they are set. */
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
  return given.filter(([, value]) => value !== undefined && value !== null).map(([key, value]) => [key, ...text(value)]);
}

/** Every configuration key: { key: { type, default, accepted, doc, option } }; option is the core's alias. */
function configKeys() {
  return Object.fromEntries(
    addon.configKeys().map(([key, type, def, accepted, doc, option]) => [key, { type, default: def, accepted, doc, option }]),
  );
}

module.exports = { settings, configKeys };
