import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));

/** Starts server.mjs and resolves with the child and the JSON line it printed. */
async function startCli(...args) {
  const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  const [line] = await once(lines, 'line');
  return { child, ready: JSON.parse(line), lines };
}

test('server.mjs prints one JSON line, serves, and exits when stdin closes', async () => {
  const { child, ready, lines } = await startCli('--device-interval', '2', '--access-token-ttl', '60');
  const extra = [];
  lines.on('line', (line) => extra.push(line));
  assert.deepEqual(Object.keys(ready), ['issuer', 'port', 'control']);
  assert.equal(ready.issuer, `http://127.0.0.1:${ready.port}`);
  assert.equal(ready.control, `${ready.issuer}/__test`);

  const meta = await (await fetch(`${ready.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(meta.issuer, ready.issuer);
  const config = await (await fetch(`${ready.control}/config`)).json();
  assert.deepEqual(config, {
    slowDown: 0, deviceInterval: 2, accessTokenTtl: 60, idTokenMutation: 'none', tokenResponseMutation: 'none', parTtl: 0, resourceNonce: false,
  });

  child.stdin.end();
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.deepEqual(extra, [], 'nothing but the JSON line on stdout');
});

test('server.mjs exits on SIGTERM', async () => {
  const { child } = await startCli();
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

test('server.mjs rejects a bad option', async () => {
  const child = spawn(process.execPath, [SERVER, '--port', 'x'], { stdio: 'ignore' });
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
});
