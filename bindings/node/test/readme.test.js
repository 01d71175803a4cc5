'use strict';
// The README's Node quick start, run as written against the demo feed started as the README starts
// it: tests/docs/quickstart.py takes both from README.md word for word (the port aside), runs the
// program beside a node_modules/tidewire that links this package, and checks the 20 ticks in order.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');

const REPO = path.join(__dirname, '..', '..', '..');

test('the README Node quick start reads the demo feed as written', { timeout: 120000 }, async () => {
  const script = path.join(REPO, 'tests', 'docs', 'quickstart.py');
  const child = spawn('python3', [script, 'node', '--node', process.execPath, '--node-package', path.join(__dirname, '..')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /Node: .* 20 ticks in order, exit 0/);
});
