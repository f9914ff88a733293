import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { startProvider } from '../provider.mjs';
import { httpRequest } from '../http-client.mjs';
import { fixturePath } from '../fixtures.mjs';
import {
  loopbackServer, pkcePair, authorizationUrl, jwtPayload,
} from '../test-helpers.mjs';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));

let idp;
let loopback;
before(async () => {
  idp = await startProvider({ tls: true });
  loopback = await loopbackServer();
});
after(async () => {
  await loopback.close();
  await idp.close();
});

const json = async (url, options = {}) => {
  const res = await httpRequest(url, { ca: idp.ca, ...options });
  return { status: res.status, json: res.text ? JSON.parse(res.text) : undefined };
};
const control = (method, path, body) => json(`${idp.control}${path}`, {
  method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
});

test('TLS mode: an https issuer whose certificate chains to fixtures/ca.cert.pem', async () => {
  assert.match(idp.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(idp.caFile, fixturePath('ca.cert.pem'));
  const meta = await json(`${idp.issuer}/.well-known/openid-configuration`);
  assert.equal(meta.json.issuer, idp.issuer);
  assert.equal(meta.json.token_endpoint, `${idp.issuer}/token`);

  // Without the CA the certificate is not trusted; with it, it is valid for localhost too.
  await assert.rejects(httpRequest(`${idp.issuer}/jwks`), /self-signed|unable to (get|verify)/i);
  const sanVia = (servername) => new Promise((resolve, reject) => {
    https.get(`${idp.issuer}/jwks`, { ca: idp.ca, servername, agent: false }, (res) => {
      res.resume();
      resolve(res.socket.getPeerCertificate().subjectaltname);
    }).on('error', reject);
  });
  assert.equal(await sanVia('localhost'), 'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
  await assert.rejects(sanVia('example.test'), /altnames/);
});

test('TLS mode: the control API and the headless user work over https', async () => {
  const pkce = pkcePair();
  const redirectUri = loopback.redirectUri();
  const url = authorizationUrl(idp, {
    client_id: 'native-app', response_type: 'code', redirect_uri: redirectUri, scope: 'openid offline_access',
    state: 'tls-state', code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  const authorized = await control('POST', '/authorize', { url, login: 'bob' });
  assert.equal(authorized.status, 200, JSON.stringify(authorized.json));
  const callback = loopback.received.at(-1);
  assert.equal(callback.query.iss, idp.issuer);

  const tokens = await json(`${idp.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: callback.query.code, redirect_uri: redirectUri, code_verifier: pkce.verifier, client_id: 'native-app',
    }),
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  assert.equal(jwtPayload(tokens.json.id_token).iss, idp.issuer);
  assert.equal((await control('POST', '/introspect', { token: tokens.json.refresh_token })).json.active, true);
  assert.equal((await control('GET', '/stats')).json.token.total, 1);
});

test('server.mjs --tls prints caFile and serves https', async () => {
  const child = spawn(process.execPath, [SERVER, '--tls'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  try {
    const ready = JSON.parse(line);
    assert.deepEqual(Object.keys(ready), ['issuer', 'port', 'control', 'caFile']);
    assert.equal(ready.issuer, `https://127.0.0.1:${ready.port}`);
    assert.equal(ready.control, `${ready.issuer}/__test`);
    assert.equal(ready.caFile, fixturePath('ca.cert.pem'));
    const res = await httpRequest(`${ready.control}/config`, { ca: readFileSync(ready.caFile) });
    assert.equal(JSON.parse(res.text).idTokenMutation, 'none');
  } finally {
    child.stdin.end();
  }
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
