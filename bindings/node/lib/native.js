'use strict';
// The compiled addon (src/addon.cc), built by `npm install` into build/Release.
const path = require('node:path');

module.exports = require(path.join(__dirname, '..', 'build', 'Release', 'tidewire.node'));
