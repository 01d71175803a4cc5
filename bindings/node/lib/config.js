'use strict';
// Stream options to the core's string keys, by the core's own key table.
//
// A top-level option is a key with "." written as "_" (reconnect_max_ms is reconnect.max_ms), as
// in the Python binding. Keys may hold "_" themselves, so the mapping is looked up in the table
// (tw_config_key_info), never guessed.
const addon = require('./native');
const { ConfigError } = require('./errors');

/** key -> { type, default, accepted, doc } */
const KEYS = new Map(
  addon.configKeys().map(([name, type, def, accepted, doc]) => [name, { type, default: def, accepted, doc }]),
);
/** option name -> key; map-type keys (header.<Name>) come through `headers` / `options` only. */
const KEYWORDS = new Map(
  [...KEYS].filter(([, info]) => info.type !== 'map').map(([name]) => [name.replaceAll('.', '_'), name]),
);
/** Options of the Stream constructor that are not configuration keys. */
const RESERVED = new Set(['headers', 'options', 'signal']);

/** A JavaScript value as the string the core expects for `key`. */
function text(key, value) {
  // http.body is bytes: a Buffer or typed array goes to the core as it is, NULs included.
  if (key === 'http.body' && ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (key === 'http.body' && value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  const accepted = KEYS.get(key)?.accepted ?? 'see docs/CONFIGURATION.md';
  throw new ConfigError(
    `invalid value ${describe(value)} for ${key}: give a string, an integer, a boolean or an array of strings ` +
      `(bytes for http.body; accepted: ${accepted})`,
    'TW_ERR_INVALID_VALUE',
  );
}

function describe(value) {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    return typeof value;
  }
}

/** The config key an option name stands for; ConfigError (with suggestions) if none. */
function keyOf(option) {
  const key = KEYWORDS.get(option);
  if (key) return key;
  const close = [...KEYWORDS.keys()]
    .map((name) => [distance(option, name), name])
    .filter(([d, name]) => d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a[0] - b[0])
    .slice(0, 3)
    .map(([, name]) => name);
  const hint = close.length ? `; did you mean ${close.join(', ')}?` : '';
  throw new ConfigError(
    `unknown configuration key '${option}' (options are keys with '.' written as '_', ` +
      `e.g. reconnect_max_ms for reconnect.max_ms; raw keys go in options: {...})${hint}`,
    'TW_ERR_UNKNOWN_KEY',
  );
}

// Levenshtein distance, for suggestions.
function distance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The [key, value] pairs of a `new Stream(url, options)` call, in the order they are set. */
function settings(url, options = {}) {
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new TypeError(`url must be a string or a URL, not ${typeof url}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError('options must be an object');
  }
  const pairs = new Map(); // key -> [value, where it came from]
  const put = (key, value, origin) => {
    if (value === undefined || value === null) return;
    if (pairs.has(key)) {
      throw new ConfigError(`${key} is given twice (${pairs.get(key)[1]} and ${origin})`, 'TW_ERR_INVALID_VALUE');
    }
    pairs.set(key, [text(key, value), origin]);
  };
  put('url', String(url), 'url');
  for (const [name, value] of Object.entries(options)) {
    if (!RESERVED.has(name)) put(keyOf(name), value, name);
  }
  for (const [key, value] of Object.entries(options.options ?? {})) put(key, value, `options['${key}']`);
  for (const [name, value] of Object.entries(options.headers ?? {})) put(`header.${name}`, value, `headers['${name}']`);
  return [...pairs].map(([key, [value]]) => [key, value]);
}

/** Every configuration key: { key: { type, default, accepted, doc, option } }. */
function configKeys() {
  const options = new Map([...KEYWORDS].map(([option, key]) => [key, option]));
  return Object.fromEntries(
    [...KEYS].map(([key, info]) => [key, { ...info, option: options.get(key) ?? null }]),
  );
}

module.exports = { settings, configKeys };
