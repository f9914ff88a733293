import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const POOL = fileURLToPath(new URL('../pool.mjs', import.meta.url));

/** Starts pool.mjs; resolves with the child, its URL, and every later stdout line. */
async function startPool() {
  const child = spawn(process.execPath, [POOL], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  const [line] = await once(lines, 'line');
  const extra = [];
  lines.on('line', (l) => extra.push(l));
  return { child, url: JSON.parse(line).pool, extra };
}

async function call(method, url, body) {
  const res = await fetch(url, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test('pool.mjs starts independent providers, emulators and proxies on request and closes each on its own', async (t) => {
  const { child, url, extra } = await startPool();
  t.after(() => child.kill('SIGKILL'));
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const a = await call('POST', `${url}/idp`, { args: ['--device-interval', '2', '--access-token-ttl', '60'] });
  const b = await call('POST', `${url}/idp`, { args: ['--dpop'] });
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  // The same line server.mjs prints, with the instance's id.
  assert.deepEqual(Object.keys(a.json), ['id', 'issuer', 'port', 'control']);
  assert.notEqual(a.json.port, b.json.port);

  // Each has its own settings and metadata.
  const configA = await (await fetch(`${a.json.control}/config`)).json();
  const configB = await (await fetch(`${b.json.control}/config`)).json();
  assert.equal(configA.accessTokenTtl, 60);
  assert.equal(configA.deviceInterval, 2);
  assert.equal(configB.accessTokenTtl, 3600);
  const metaA = await (await fetch(`${a.json.issuer}/.well-known/openid-configuration`)).json();
  const metaB = await (await fetch(`${b.json.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(metaA.issuer, a.json.issuer);
  assert.equal(metaA.dpop_signing_alg_values_supported, undefined);
  assert.ok(metaB.dpop_signing_alg_values_supported.includes('ES256'));

  const github = await call('POST', `${url}/idp`, { args: ['--provider', 'github'] });
  assert.equal(github.json.provider, 'github');
  assert.equal(github.json.clientId, 'gh-oauth-app');
  const proxy = await call('POST', `${url}/proxy`, {});
  assert.match(proxy.json.proxy, /^http:\/\/127\.0\.0\.1:\d+$/);

  const listed = await call('GET', `${url}/instances`);
  assert.deepEqual(listed.json.instances.map((i) => i.kind), ['idp', 'idp', 'idp', 'proxy']);

  // Closing one leaves the others serving.
  assert.deepEqual((await call('DELETE', `${url}/instances/${a.json.id}`)).json, { closed: a.json.id });
  await assert.rejects(fetch(`${a.json.issuer}/.well-known/openid-configuration`));
  assert.equal((await fetch(`${b.json.issuer}/.well-known/openid-configuration`)).status, 200);
  assert.equal((await call('DELETE', `${url}/instances/${a.json.id}`)).status, 404);

  child.stdin.end();
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.deepEqual(extra, [], 'nothing but the JSON line on stdout');
});

test('pool.mjs answers bad options with 400 and serves on', async (t) => {
  const { child, url } = await startPool();
  t.after(() => child.kill('SIGKILL'));
  const bad = await call('POST', `${url}/idp`, { args: ['--port', 'x'] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /--port needs an integer/);
  assert.equal((await call('POST', `${url}/idp`, { args: ['--provider', 'nope'] })).status, 400);
  assert.equal((await call('POST', `${url}/idp`, { args: 'not a list' })).status, 400);
  assert.equal((await call('POST', `${url}/idp`, undefined)).status, 200, 'no body: the default provider');
  assert.equal((await call('GET', `${url}/nowhere`)).status, 404);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
