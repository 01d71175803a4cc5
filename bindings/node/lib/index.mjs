// The ES module face of tidewire: the same objects as require('tidewire').
import tidewire from './index.js';

export const { Stream, Event, TidewireError, Error, ConfigError, StreamError, configKeys, version, logger, setLogHandler } =
  tidewire;
export default tidewire;
