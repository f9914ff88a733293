// The test runner's own rules (scripts/test.mjs): how many things run at once, what waits for what, its command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SUITES, limiter, machineCpuSeconds } from '../test.mjs';

const RUNNER = fileURLToPath(new URL('../test.mjs', import.meta.url));

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

test('limiter: at most N tasks at once, started in the order they were handed in', async () => {
  const slot = limiter(2);
  const gates = Array.from({ length: 5 }, deferred);
  const started = [];
  let running = 0;
  let most = 0;
  const results = gates.map((gate, i) => slot(async () => {
    started.push(i);
    running++;
    most = Math.max(most, running);
    await gate.promise;
    running--;
    return i * 10;
  }));
  await null;
  assert.deepEqual(started, [0, 1], 'two start at once, the rest wait');
  gates[1].resolve();
  assert.equal(await results[1], 10);
  await new Promise(setImmediate); // the freed slot's next task starts once the pending callbacks ran
  assert.deepEqual(started, [0, 1, 2]);
  for (const gate of gates) gate.resolve();
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
});

test('limiter: a task that fails rejects its own promise and frees its slot', async () => {
  const slot = limiter(1);
  const failed = slot(async () => { throw new Error('boom'); });
  const next = slot(async () => 'ran');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'ran');
});

test('suites that rebuild clients/node/dist never run beside one that reads it; every `after` names a suite', () => {
  const names = new Set(SUITES.map((s) => s.name));
  for (const suite of SUITES) for (const name of suite.after ?? []) assert.ok(names.has(name), `${suite.name} comes after unknown ${name}`);
  const after = (name) => SUITES.find((s) => s.name === name).after ?? [];
  // node-client builds dist (its prebuild empties it); the VS Code example type-checks against it; the release packs it.
  assert.ok(after('vscode-example').includes('node-client'));
  assert.ok(after('release').includes('node-client'));
  assert.deepEqual(after('node-client'), []);
  // The release tests what it packed, never the executable the other suites are handed.
  const release = SUITES.find((s) => s.name === 'release');
  assert.equal(release.runsSidecar, undefined);
  assert.equal(release.needsAot, true);
  assert.deepEqual(SUITES.filter((s) => s.runsSidecar).map((s) => s.name).sort(), ['dotnet-sidecar', 'node-client', 'python-client']);
});

test('--jobs takes a number from 1 to 99; --list lists every suite', () => {
  const bad = spawnSync(process.execPath, [RUNNER, '--jobs', '0'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--jobs needs a number from 1 to 99, not "0"/);
  const list = spawnSync(process.execPath, [RUNNER, '--list'], { encoding: 'utf8' });
  assert.equal(list.status, 0);
  assert.match(list.stdout, /--jobs N/);
  for (const suite of SUITES) assert.match(list.stdout, new RegExp(`: ${suite.name} — `));
});

test('the summary counts the CPU seconds the machine spent (Linux /proc/stat)', { skip: process.platform !== 'linux' && 'only Linux has /proc/stat' }, () => {
  const before = machineCpuSeconds();
  assert.equal(typeof before, 'number');
  const spin = Date.now();
  while (Date.now() - spin < 300) { /* keep one core busy for 0.3 s */ }
  assert.ok(machineCpuSeconds() - before >= 0.1, 'a 0.3 s busy loop shows in the count');
});
