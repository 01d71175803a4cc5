// The ES module face of tidewire: the same objects as require('tidewire').
import tidewire from './index.js';

export const { Stream, Event, TidewireError, Error, ConfigError, StreamError, configKeys, version } = tidewire;
export default tidewire;
