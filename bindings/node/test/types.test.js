'use strict';
// index.d.ts: the TypeScript compiler accepts the documented uses and refuses wrong ones.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');

test('index.d.ts type-checks the documented uses (tsc --strict)', { timeout: 60000 }, async () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16',
    '--types', 'node', path.join(__dirname, 'types.ts')];
  const output = await new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: path.join(__dirname, '..') }, (error, stdout, stderr) =>
      resolve(error ? `${stdout}${stderr}` || error.message : ''));
  });
  assert.equal(output, '');
});
