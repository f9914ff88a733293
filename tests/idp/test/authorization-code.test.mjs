import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startProvider } from '../provider.mjs';
import {
  loopbackServer, pkcePair, authorizationUrl, control, postForm, jwtPayload,
} from '../test-helpers.mjs';

let idp;
let loopback;
before(async () => {
  idp = await startProvider({ deviceInterval: 1 });
  loopback = await loopbackServer();
});
after(async () => {
  await loopback.close();
  await idp.close();
});

/** An authorization request for native-app, with fresh state, nonce and PKCE. */
function nativeRequest(extra = {}) {
  const pkce = pkcePair();
  const params = {
    client_id: 'native-app',
    response_type: 'code',
    redirect_uri: loopback.redirectUri(),
    scope: 'openid offline_access profile',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  return { params, pkce, url: authorizationUrl(idp, params) };
}

test('discovery advertises the endpoints, RFC 9207 and S256', async () => {
  const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
  const meta = await res.json();
  assert.equal(meta.issuer, idp.issuer);
  for (const endpoint of ['authorization', 'token', 'device_authorization', 'revocation', 'introspection']) {
    assert.match(meta[`${endpoint}_endpoint`], /^http:\/\/127\.0\.0\.1:\d+\//, endpoint);
  }
  assert.equal(meta.jwks_uri, `${idp.issuer}/jwks`);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.ok(meta.response_modes_supported.includes('form_post'));
  const jwks = await (await fetch(meta.jwks_uri)).json();
  assert.deepEqual(jwks.keys.map((key) => key.alg).sort(), ['ES256', 'RS256']);
});

test('auth code + PKCE, refresh rotation, and reuse of a rotated refresh token revokes the grant', async () => {
  const { params, pkce, url } = nativeRequest();
  const { status, json } = await control(idp, 'POST', '/authorize', { url, login: 'alice', password: 'alice-password' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.status, 200);
  assert.equal(json.body, 'callback received');
  assert.equal(json.responseMode, 'query');

  const callback = loopback.received.at(-1);
  assert.equal(callback.method, 'GET');
  assert.equal(callback.path, '/callback');
  assert.equal(callback.query.state, params.state);
  assert.equal(callback.query.iss, idp.issuer);
  assert.ok(callback.query.code);
  assert.equal(json.callbackUrl, `${params.redirect_uri}?${new URLSearchParams(callback.query)}`);

  const tokens = await postForm(idp, '/token', {
    grant_type: 'authorization_code',
    code: callback.query.code,
    redirect_uri: params.redirect_uri,
    code_verifier: pkce.verifier,
    client_id: 'native-app',
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  assert.ok(tokens.json.access_token);
  assert.ok(tokens.json.refresh_token);
  assert.equal(tokens.json.expires_in, 3600);
  const idToken = jwtPayload(tokens.json.id_token);
  assert.equal(idToken.sub, 'alice');
  assert.equal(idToken.nonce, params.nonce);
  assert.equal(idToken.name, 'Alice Example');

  const refresh = (token) => postForm(idp, '/token', { grant_type: 'refresh_token', refresh_token: token, client_id: 'native-app' });
  const first = await refresh(tokens.json.refresh_token);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.ok(first.json.refresh_token);
  assert.notEqual(first.json.refresh_token, tokens.json.refresh_token, 'refresh token rotated');

  const reused = await refresh(tokens.json.refresh_token);
  assert.equal(reused.status, 400);
  assert.equal(reused.json.error, 'invalid_grant');

  const newest = await refresh(first.json.refresh_token);
  assert.equal(newest.status, 400, 'the whole grant was revoked');
  assert.equal(newest.json.error, 'invalid_grant');
  const introspection = await control(idp, 'POST', '/introspect', { token: first.json.access_token });
  assert.equal(introspection.json.active, false);
});

test('form_post delivers code and state by POST', async () => {
  const { params, url } = nativeRequest({ response_mode: 'form_post', redirect_uri: loopback.redirectUri('/callback', 'localhost') });
  const { status, json } = await control(idp, 'POST', '/authorize', { url, login: 'bob', password: 'bob-password' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.responseMode, 'form_post');
  assert.equal(json.status, 200);
  const callback = loopback.received.at(-1);
  assert.equal(callback.method, 'POST');
  assert.equal(callback.form.state, params.state);
  assert.ok(callback.form.code);
  assert.deepEqual(json.formParams, callback.form);
});

test('deliver:false returns the callback without calling it, also for https loopback on any port', async () => {
  const before = loopback.received.length;
  const { params, url } = nativeRequest({ redirect_uri: 'https://127.0.0.1:4711/callback' });
  const { status, json } = await control(idp, 'POST', '/authorize', { url, deliver: false });
  assert.equal(status, 200, JSON.stringify(json));
  const callback = new URL(json.callbackUrl);
  assert.equal(`${callback.origin}${callback.pathname}`, 'https://127.0.0.1:4711/callback');
  assert.equal(callback.searchParams.get('state'), params.state);
  assert.equal(loopback.received.length, before);
});

test('redirect URIs: a loopback port is free, anything else must match exactly', async () => {
  for (const redirectUri of ['http://127.0.0.1:1234/other', 'http://example.test/callback', 'http://127.0.0.2/callback']) {
    const { url } = nativeRequest({ redirect_uri: redirectUri });
    const { status, json } = await control(idp, 'POST', '/authorize', { url, deliver: false });
    assert.equal(status, 500, redirectUri);
    assert.match(json.error, /redirect_uri/, redirectUri);
  }
  const { url } = nativeRequest({ client_id: 'confidential-app', redirect_uri: 'http://[::1]:9/callback' });
  const { status } = await control(idp, 'POST', '/authorize', { url, deliver: false });
  assert.equal(status, 200);
});

test('deny: the loopback server receives error=access_denied', async () => {
  const { params, url } = nativeRequest();
  const { status, json } = await control(idp, 'POST', '/authorize', { url, deny: true });
  assert.equal(status, 200, JSON.stringify(json));
  const callback = loopback.received.at(-1);
  assert.equal(callback.query.error, 'access_denied');
  assert.equal(callback.query.state, params.state);
  assert.equal(callback.query.iss, idp.issuer);
});

test('a wrong password is an error of the control API', async () => {
  const { url } = nativeRequest();
  const { status, json } = await control(idp, 'POST', '/authorize', { url, login: 'alice', password: 'nope' });
  assert.equal(status, 500);
  assert.match(json.error, /login as "alice" was rejected/);
});

test('confidential-app: code flow with client_secret_basic', async () => {
  const { params, pkce, url } = nativeRequest({ client_id: 'confidential-app', scope: 'openid email' });
  const { status } = await control(idp, 'POST', '/authorize', { url });
  assert.equal(status, 200);
  const { code } = loopback.received.at(-1).query;
  const tokens = await postForm(idp, '/token', {
    grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri, code_verifier: pkce.verifier,
  }, { basic: ['confidential-app', 'confidential-secret'] });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  assert.equal(jwtPayload(tokens.json.id_token).email, 'alice@example.test');
  assert.equal(tokens.json.refresh_token, undefined, 'no offline_access, no refresh token');
});

test('https loopback callback with a self-signed certificate is delivered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'test-idp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  if (made.status !== 0) {
    t.skip('openssl is not available to make a certificate');
    return;
  }
  const queries = [];
  const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    queries.push(Object.fromEntries(new URL(req.url, 'https://127.0.0.1').searchParams));
    res.end('tls callback received');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));

  const { params, url } = nativeRequest({ redirect_uri: `https://127.0.0.1:${server.address().port}/callback` });
  const { status, json } = await control(idp, 'POST', '/authorize', { url });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.body, 'tls callback received');
  assert.equal(queries[0].state, params.state);
  assert.ok(queries[0].code);
});

test('pushed authorization request (PAR) with offline_access still yields a refresh token', async () => {
  const pkce = pkcePair();
  const redirectUri = loopback.redirectUri();
  const pushed = await postForm(idp, '/request', {
    client_id: 'post-app', client_secret: 'post-secret', response_type: 'code', redirect_uri: redirectUri,
    scope: 'openid offline_access', state: 'par-state', code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
  const url = authorizationUrl(idp, { client_id: 'post-app', request_uri: pushed.json.request_uri });
  const { status, json } = await control(idp, 'POST', '/authorize', { url, login: 'bob' });
  assert.equal(status, 200, JSON.stringify(json));
  const { code, state } = loopback.received.at(-1).query;
  assert.equal(state, 'par-state');
  const tokens = await postForm(idp, '/token', {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pkce.verifier,
    client_id: 'post-app', client_secret: 'post-secret',
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  assert.ok(tokens.json.refresh_token);
  assert.equal(jwtPayload(tokens.json.id_token).sub, 'bob');
});

test('step-up: acr_values asking for mfa gets an mfa acr, otherwise password; max_age puts auth_time in the ID token', async () => {
  const meta = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
  assert.deepEqual(meta.acr_values_supported, ['urn:sidecar:acr:password', 'urn:sidecar:acr:mfa']);
  const acrOf = async (extra) => {
    const { params, pkce, url } = nativeRequest(extra);
    const { status, json } = await control(idp, 'POST', '/authorize', { url });
    assert.equal(status, 200, JSON.stringify(json));
    const code = new URL(json.callbackUrl).searchParams.get('code');
    const tokens = await postForm(idp, '/token', {
      grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri, client_id: 'native-app', code_verifier: pkce.verifier,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
    return jwtPayload(tokens.json.id_token);
  };
  assert.equal((await acrOf({})).acr, 'urn:sidecar:acr:password');
  const stepped = await acrOf({ acr_values: 'urn:sidecar:acr:mfa', max_age: '600' });
  assert.equal(stepped.acr, 'urn:sidecar:acr:mfa');
  assert.ok(Math.abs(stepped.auth_time - Date.now() / 1000) < 60, `auth_time ${stepped.auth_time} is not now`);
});
