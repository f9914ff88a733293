// The provider emulators reproduce each provider's documented wire behaviour (the pages are cited in each emulator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';

import { startGitHub } from '../emulators/github.mjs';
import { startGoogle } from '../emulators/google.mjs';
import { CONSUMERS_TENANT_ID, ENTRA_CLIENT_ID, TENANT_ID, startEntra } from '../emulators/entra.mjs';
import { basicAuth, pkcePair } from '../test-helpers.mjs';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

let github;
let google;
let entra;
before(async () => {
  [github, google, entra] = await Promise.all([startGitHub({ deviceInterval: 1 }), startGoogle({ deviceInterval: 1 }), startEntra({ deviceInterval: 1 })]);
});
after(() => Promise.all([github.close(), google.close(), entra.close()]));

/** POST a form; answers { status, type, body } with body parsed as JSON or as a form. */
async function post(url, params, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params) });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  const body = type.startsWith('application/json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
  return { status: res.status, type: type.split(';')[0], body };
}

/** Plays the user on an authorization URL (no delivery); answers the redirect's query parameters. */
async function consent(emulator, url) {
  const res = await fetch(`${emulator.control}/authorize`, { method: 'POST', body: JSON.stringify({ url, deliver: false }) });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return Object.fromEntries(new URL(json.callbackUrl).searchParams);
}

const approve = (emulator, userCode) => fetch(`${emulator.control}/device`, { method: 'POST', body: JSON.stringify({ userCode }) }).then((r) => r.json());

test('github: form-encoded unless JSON is asked for, device errors with HTTP 200, slow_down, comma-separated scopes', async () => {
  const form = await post(`${github.base}/login/device/code`, { client_id: 'gh-oauth-app', scope: 'repo read:user' });
  assert.equal(form.type, 'application/x-www-form-urlencoded');
  assert.equal(form.body.verification_uri, `${github.base}/login/device`);
  assert.equal(form.body.expires_in, '900');
  const json = await post(`${github.base}/login/device/code`, { client_id: 'gh-oauth-app', scope: 'repo' }, { accept: 'application/json' });
  assert.equal(json.type, 'application/json');
  assert.equal(json.body.interval, 1);

  const poll = (code, headers) => post(`${github.base}/login/oauth/access_token`, { client_id: 'gh-oauth-app', device_code: code, grant_type: DEVICE_CODE }, headers);
  const pending = await poll(form.body.device_code);
  assert.deepEqual([pending.status, pending.type, pending.body.error], [200, 'application/x-www-form-urlencoded', 'authorization_pending']);
  const tooSoon = await poll(form.body.device_code, { accept: 'application/json' });
  assert.deepEqual([tooSoon.status, tooSoon.body.error, tooSoon.body.interval], [200, 'slow_down', 6]);
  assert.deepEqual(await approve(github, form.body.user_code), { ok: true });
  // Once approved, the next poll gets tokens, however soon (slow_down is a variant of pending, RFC 8628 §3.5).
  const tokens = await poll(form.body.device_code, { accept: 'application/json' });
  assert.equal(tokens.status, 200);
  assert.match(tokens.body.access_token, /^gho_/);
  assert.equal(tokens.body.scope, 'repo,read:user');
  assert.equal(tokens.body.token_type, 'bearer');
  assert.equal((await poll(form.body.device_code)).body.error, 'incorrect_device_code');
});

test('github: web flow reads the secret from the form only, answers errors with HTTP 200, /api/v3/user', async () => {
  const { verifier, challenge } = pkcePair();
  const url = `${github.base}/login/oauth/authorize?${new URLSearchParams({ client_id: 'gh-oauth-app', redirect_uri: 'http://127.0.0.1:4321/callback', scope: 'repo', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' })}`;
  const { code, state } = await consent(github, url); // any port on the loopback callback
  assert.equal(state, 's1');
  const redeem = (params, headers) => post(`${github.base}/login/oauth/access_token`, { client_id: 'gh-oauth-app', code, redirect_uri: 'http://127.0.0.1:4321/callback', code_verifier: verifier, ...params }, headers);

  const basicOnly = await redeem({}, { authorization: basicAuth('gh-oauth-app', 'gh-oauth-secret') });
  assert.deepEqual([basicOnly.status, basicOnly.body.error], [200, 'incorrect_client_credentials']);
  const tokens = await redeem({ client_secret: 'gh-oauth-secret' });
  assert.equal(tokens.type, 'application/x-www-form-urlencoded');
  assert.match(tokens.body.access_token, /^gho_/);
  assert.equal(tokens.body.scope, 'repo');
  const again = await redeem({ client_secret: 'gh-oauth-secret' });
  assert.deepEqual([again.status, again.body.error], [200, 'bad_verification_code']);

  const user = await fetch(`${github.base}/api/v3/user`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
  assert.equal((await user.json()).login, 'octocat');
  assert.equal((await fetch(`${github.base}/user`)).status, 401);

  const elsewhere = await consent(github, url.replace('127.0.0.1%3A4321', 'evil.example'));
  assert.equal(elsewhere.error, 'redirect_uri_mismatch');
});

test('github: a GitHub App user token expires and its refresh token is good once', async () => {
  const url = `${github.base}/login/oauth/authorize?${new URLSearchParams({ client_id: 'Iv23-gh-app', redirect_uri: 'http://127.0.0.1:5/callback' })}`;
  const { code } = await consent(github, url);
  const first = await post(`${github.base}/login/oauth/access_token`, { client_id: 'Iv23-gh-app', client_secret: 'gh-app-secret', code }, { accept: 'application/json' });
  assert.deepEqual([first.body.expires_in, first.body.refresh_token_expires_in], [28800, 15897600]);
  const refresh = (token) => post(`${github.base}/login/oauth/access_token`, { client_id: 'Iv23-gh-app', client_secret: 'gh-app-secret', grant_type: 'refresh_token', refresh_token: token }, { accept: 'application/json' });
  const second = await refresh(first.body.refresh_token);
  assert.match(second.body.access_token, /^ghu_/);
  assert.notEqual(second.body.refresh_token, first.body.refresh_token);
  assert.equal((await refresh(first.body.refresh_token)).body.error, 'bad_refresh_token');
});

test('google: access_type=offline, the desktop secret, URL scopes, the scheme-less issuer, no offline_access', async () => {
  const discovery = await fetch(`${google.base}/.well-known/openid-configuration`).then((r) => r.json());
  assert.equal(discovery.issuer, google.base);
  const clientId = '1234-desktop.apps.googleusercontent.com';
  const { verifier, challenge } = pkcePair();
  const authorize = (extra) => `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: clientId, redirect_uri: 'http://127.0.0.1:9999/cb', response_type: 'code', scope: 'openid email', code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n1', ...extra,
  })}`;
  const refused = await fetch(`${google.control}/authorize`, { method: 'POST', body: JSON.stringify({ url: authorize({ scope: 'openid offline_access' }), deliver: false }) });
  assert.match((await refused.json()).error, /invalid_scope/);

  const { code } = await consent(google, authorize({ access_type: 'offline', prompt: 'consent' }));
  const noSecret = await post(discovery.token_endpoint, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: 'http://127.0.0.1:9999/cb', code_verifier: verifier });
  assert.deepEqual([noSecret.status, noSecret.body.error], [401, 'invalid_client']);
  const again = await consent(google, authorize({ access_type: 'offline', prompt: 'consent' }));
  const tokens = await post(discovery.token_endpoint, {
    grant_type: 'authorization_code', code: again.code, client_id: clientId, client_secret: 'GOCSPX-desktop-not-secret', redirect_uri: 'http://127.0.0.1:9999/cb', code_verifier: verifier,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  assert.ok(tokens.body.refresh_token);
  assert.equal(tokens.body.scope, 'openid https://www.googleapis.com/auth/userinfo.email');
  const keys = createLocalJWKSet(await fetch(discovery.jwks_uri).then((r) => r.json()));
  const { payload } = await jwtVerify(tokens.body.id_token, keys, { audience: clientId });
  assert.equal(payload.iss, google.base.replace('http://', ''));

  const refreshed = await post(discovery.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: clientId, client_secret: 'GOCSPX-desktop-not-secret' });
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.body.refresh_token, undefined, 'Google keeps the refresh token');
});

test('google: device flow wants client_id in the form, answers verification_url, 428 pending and 403 slow_down', async () => {
  const clientId = '1234-desktop.apps.googleusercontent.com';
  const basicOnly = await post(`${google.base}/device/code`, { scope: 'openid' }, { authorization: basicAuth(clientId, 'GOCSPX-desktop-not-secret') });
  assert.deepEqual([basicOnly.status, basicOnly.body.error], [401, 'invalid_client']);
  const device = await post(`${google.base}/device/code`, { client_id: clientId, scope: 'openid email' });
  assert.equal(device.body.verification_url, `${google.base}/device`);
  assert.equal(device.body.verification_uri, undefined);
  const poll = () => post(`${google.base}/token`, { client_id: clientId, client_secret: 'GOCSPX-desktop-not-secret', device_code: device.body.device_code, grant_type: DEVICE_CODE });
  const pending = await poll();
  assert.deepEqual([pending.status, pending.body.error], [428, 'authorization_pending']);
  const slow = await poll();
  assert.deepEqual([slow.status, slow.body.error], [403, 'slow_down']);
  await approve(google, device.body.user_code);
  assert.match((await poll()).body.access_token, /^ya29\./);
});

test('entra: {tenantid} in the metadata of common and organizations, public clients, string numbers', async () => {
  const meta = (tenant) => fetch(`${entra.base}/${tenant}/v2.0/.well-known/openid-configuration`).then((r) => r.json());
  assert.equal((await meta('organizations')).issuer, `${entra.base}/{tenantid}/v2.0`);
  assert.equal((await meta('common')).issuer, `${entra.base}/{tenantid}/v2.0`);
  assert.equal((await meta('consumers')).issuer, `${entra.base}/${CONSUMERS_TENANT_ID}/v2.0`);
  assert.equal((await meta('contoso.onmicrosoft.com')).issuer, `${entra.base}/${TENANT_ID}/v2.0`);

  const discovery = await meta('organizations');
  const { verifier, challenge } = pkcePair();
  const url = `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: ENTRA_CLIENT_ID, redirect_uri: 'http://localhost:7777/callback', response_type: 'code', scope: 'openid profile offline_access User.Read', code_challenge: challenge, code_challenge_method: 'S256',
  })}`;
  const refused = await fetch(`${entra.control}/authorize`, { method: 'POST', body: JSON.stringify({ url: url.replace('localhost', '127.0.0.1'), deliver: false }) });
  assert.match((await refused.json()).error, /AADSTS50011/);
  const { code } = await consent(entra, url);
  const redeem = (extra) => post(discovery.token_endpoint, {
    grant_type: 'authorization_code', code, client_id: ENTRA_CLIENT_ID, redirect_uri: 'http://localhost:7777/callback', code_verifier: verifier, ...extra,
  });
  const withSecret = await redeem({ client_secret: 'x' });
  assert.deepEqual([withSecret.status, withSecret.body.error, withSecret.body.error_codes], [401, 'invalid_client', [700025]]);
  const tokens = await redeem({});
  assert.equal(tokens.body.expires_in, '3599');
  assert.equal(tokens.body.scope, 'User.Read openid profile');
  const keys = createLocalJWKSet(await fetch(discovery.jwks_uri).then((r) => r.json()));
  const { payload } = await jwtVerify(tokens.body.id_token, keys, { audience: ENTRA_CLIENT_ID, issuer: `${entra.base}/${TENANT_ID}/v2.0` });
  assert.equal(payload.tid, TENANT_ID);

  const device = await post(discovery.device_authorization_endpoint, { client_id: ENTRA_CLIENT_ID, scope: 'openid' });
  assert.deepEqual([device.body.expires_in, device.body.interval], ['900', '1']);
  const noScope = await post(discovery.device_authorization_endpoint, { client_id: ENTRA_CLIENT_ID });
  assert.deepEqual(noScope.body.error_codes, [900144]);
});
