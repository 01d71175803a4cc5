'use strict';
// Stream options to the core's settings, passed on as they are given.
//
// The core resolves option names (reconnect_max_ms is its alias of reconnect.max_ms), suggests
// keys for a typo, refuses a key given twice and reads values as JavaScript prints them (true,
// 2000, ['a', 'b'] as "a,b"): this file only turns JavaScript values into text, in order, and
// refuses a value of a type its key does not take (see refuse()).
const addon = require('./native');
const { ConfigError } = require('./errors');

/** Options of the Stream constructor that are not configuration keys. */
const RESERVED = new Set(['headers', 'options', 'signal']);

/** The host's name of a value's type, as the core's refusal names it ("array", "object", "Map"). */
function typeName(value) {
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'object') return typeof value;
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return !name || name === 'Object' ? 'object' : name;
}

// The table's keys by name and alias: { name, type, accepted }.
let keys = null;
function keyOf(key) {
  if (!keys) {
    keys = new Map();
    for (const [name, type, , accepted, , alias] of addon.configKeys()) {
      const spec = { name, type, accepted };
      keys.set(name, spec);
      if (alias) keys.set(alias, spec);
    }
  }
  return keys.get(key);
}

// A list for a key that is no list, or an object for any key, is refused: stored as String()
// prints it, it would be text nobody wrote ("a,b" as the end-of-stream data). The core makes this
// decision and words it for the other bindings (tw_config_set_value with TW_VALUE_LIST /
// TW_VALUE_OTHER); the addon passes text only, so it is made here from the core's key table, in
// the core's words. An unknown key is left to the core, which names it and suggests the closest.
function refuse(key, value) {
  const header = key.startsWith('header.');
  const spec = header ? { name: key, type: 'string', accepted: 'a header value (text)' } : keyOf(key);
  if (!spec || (Array.isArray(value) && spec.type === 'list')) return;
  throw new ConfigError(
    `invalid value for ${spec.name}: a value of type ${typeName(value)} is not accepted; expected ${spec.accepted}`,
    'TW_ERR_INVALID_VALUE',
  );
}

/** A JavaScript value as the core takes it: bytes as they are, anything else as String() prints it. */
function text(key, value) {
  // Bytes (http.body): a Buffer or typed array goes to the core as it is, NULs included.
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (!['string', 'number', 'bigint', 'boolean'].includes(typeof value)) refuse(key, value);
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
