'use strict';
// examples/scale-out/run.py, scaled down: two webhook receivers hand off to Redis, three workers
// (C, Python and this package's Node) consume the stream in one group. Needs what the earlier phases
// build: the C worker (build/examples/scale-out) and the Python package (build-python/venv).
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, test } = require('node:test');

const REPO = path.resolve(__dirname, '..', '..', '..');
const BUILD = process.env.TW_BUILD_DIR || path.join(REPO, 'build');
const PYTHON = process.env.TW_PYTHON || path.join(REPO, 'build-python', 'venv', 'bin', 'python');
const C_WORKER = path.join(BUILD, 'examples', 'scale-out', 'tw_example_scale_out_worker');
const T = { timeout: 120000 };
let modules;

before(() => {
  for (const [what, file] of [['the C worker (build phase)', C_WORKER], ['the Python package (python phase)', PYTHON]])
    assert.ok(fs.existsSync(file), `${what} is missing: ${file}`);
  // The workers require('tidewire'): this package, as an installed one would be found.
  modules = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewire-scale-out-'));
  fs.symlinkSync(path.resolve(__dirname, '..'), path.join(modules, 'tidewire'));
});
after(() => fs.rmSync(modules, { recursive: true, force: true }));

function run(...args) {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [path.join(REPO, 'examples', 'scale-out', 'run.py'), '--c-worker', C_WORKER, '--node-modules', modules,
        '--timeout', '60', ...args],
      { timeout: 110000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
}

function count(stdout, label) {
  const m = stdout.match(new RegExp(`^${label}: (\\d+)`, 'm'));
  return m ? Number(m[1]) : -1;
}

test('each delivery is consumed once across three workers, duplicates sent to both receivers included', T, async () => {
  const { code, stdout, stderr } = await run('--count', '400');
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /^each delivery once: yes$/m);
  assert.equal(count(stdout, 'stream entries'), 400);
  const perWorker = ['c', 'python', 'node'].map((w) => count(stdout, `worker ${w}`));
  assert.equal(perWorker.reduce((a, b) => a + b), 400);
});

test('a worker killed with unacknowledged entries has them claimed by the others', T, async () => {
  const { code, stdout, stderr } = await run('--count', '400', '--kill-worker');
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /^killed worker python with [1-9]\d* unacknowledged entries$/m);
  assert.match(stdout, /^claimed from the killed worker: [1-9]\d* entries \(pending now: 0\)$/m);
  assert.match(stdout, /^each delivery once: yes$/m);
});

test('Redis stopped mid-run: receivers answer 503, the sender retries, nothing is lost or doubled', T, async () => {
  const { code, stdout, stderr } = await run('--count', '600', '--redis-outage', '1');
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /^redis stopped for 1 s/m);
  assert.match(stdout, /; [1-9]\d* refusals \(503 or no answer\) retried$/m);
  assert.match(stdout, /^each delivery once: yes$/m);
});
