'use strict';
// `npm install` hook: builds build/Release/tidewire.node with cmake-js (CMakeLists.txt here).
//
// npm links a folder installed by path (`npm install ../tidewire/bindings/node`) without installing
// the folder's own dependencies, so cmake-js and node-addon-api may be missing here: they are then
// installed into this folder first (production dependencies only, from package-lock.json).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const run = (file, args) => execFileSync(file, args, { cwd: root, stdio: 'inherit' });

function resolvable(name) {
  try {
    require.resolve(`${name}/package.json`, { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

if (!resolvable('cmake-js') || !resolvable('node-addon-api')) {
  const npm = process.env.npm_execpath;
  const args = ['install', '--omit=dev', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund'];
  if (npm && npm.endsWith('.js')) run(process.execPath, [npm, ...args]);
  else run('npm', args);
}
run(process.execPath, [require.resolve('cmake-js/bin/cmake-js', { paths: [root] }), 'compile']);
