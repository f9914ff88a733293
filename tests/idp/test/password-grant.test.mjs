import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jwtVerify } from 'jose';

import { startProvider } from '../provider.mjs';
import {
  control, postForm, jwtPayload, providerKeys,
} from '../test-helpers.mjs';

let idp;
before(async () => { idp = await startProvider({ accessTokenTtl: 300 }); });
after(() => idp.close());

const APP = ['password-app', 'password-secret'];
const password = (params, basic = APP) => postForm(idp, '/token', { grant_type: 'password', ...params }, { basic });

test('password grant: tokens for alice, a signed ID token, a refresh token that rotates', async () => {
  const { status, json } = await password({ username: 'alice', password: 'alice-password', scope: 'openid offline_access profile email' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.token_type, 'Bearer');
  assert.equal(json.expires_in, 300);
  assert.equal(json.scope, 'openid offline_access profile email');
  assert.ok(json.refresh_token);

  const { payload } = await jwtVerify(json.id_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'password-app' });
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.name, 'Alice Example');
  assert.equal(payload.email, 'alice@example.test');
  assert.equal(typeof payload.at_hash, 'string');
  assert.ok(Math.abs(payload.auth_time - Date.now() / 1000) < 60);

  // The access token is a real one: userinfo accepts it.
  const me = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${json.access_token}` } });
  assert.equal(me.status, 200);
  assert.deepEqual(await me.json(), {
    sub: 'alice', name: 'Alice Example', preferred_username: 'alice', email: 'alice@example.test', email_verified: true,
  });

  const refreshed = await postForm(idp, '/token', { grant_type: 'refresh_token', refresh_token: json.refresh_token }, { basic: APP });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
  assert.notEqual(refreshed.json.refresh_token, json.refresh_token);
  assert.equal(jwtPayload(refreshed.json.id_token).sub, 'alice');
  const reused = await postForm(idp, '/token', { grant_type: 'refresh_token', refresh_token: json.refresh_token }, { basic: APP });
  assert.equal(reused.json.error, 'invalid_grant');
});

test('password grant: no openid, no ID token; no offline_access, no refresh token', async () => {
  const { status, json } = await password({ username: 'bob', password: 'bob-password', scope: 'profile' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.id_token, undefined);
  assert.equal(json.refresh_token, undefined);
  const introspection = await control(idp, 'POST', '/introspect', { token: json.access_token });
  assert.equal(introspection.json.active, true);
  assert.equal(introspection.json.sub, 'bob');
  assert.equal(introspection.json.client_id, 'password-app');
});

test('password grant: resource=urn:sidecar:api gives a JWT access token for the API', async () => {
  const { status, json } = await password({
    username: 'bob', password: 'bob-password', scope: 'openid api:read', resource: 'urn:sidecar:api',
  });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.scope, 'api:read');
  const { payload } = await jwtVerify(json.access_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'urn:sidecar:api' });
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.client_id, 'password-app');
  assert.equal(jwtPayload(json.id_token).sub, 'bob');
  const unknown = await password({ username: 'bob', password: 'bob-password', resource: 'urn:other' });
  assert.equal(unknown.json.error, 'invalid_target');
});

test('password grant: errors are OAuth errors', async () => {
  const cases = [
    [{ username: 'alice', password: 'wrong' }, 400, 'invalid_grant', /invalid resource owner credentials/],
    [{ username: 'mallory', password: 'mallory-password' }, 400, 'invalid_grant', /invalid resource owner credentials/],
    [{ password: 'alice-password' }, 400, 'invalid_request', /missing required parameter 'username'/],
    [{ username: 'alice' }, 400, 'invalid_request', /missing required parameter 'password'/],
    [{ username: 'alice', password: 'alice-password', scope: 'openid admin' }, 400, 'invalid_scope', /not allowed/],
  ];
  for (const [params, status, error, description] of cases) {
    const answer = await password(params);
    assert.equal(answer.status, status, JSON.stringify(params));
    assert.equal(answer.json.error, error, JSON.stringify(params));
    assert.match(answer.json.error_description, description, JSON.stringify(params));
  }
  const badSecret = await password({ username: 'alice', password: 'alice-password' }, ['password-app', 'nope']);
  assert.equal(badSecret.status, 401);
  assert.equal(badSecret.json.error, 'invalid_client');
  const otherClient = await password({ username: 'alice', password: 'alice-password' }, ['confidential-app', 'confidential-secret']);
  assert.equal(otherClient.status, 400, 'a client without the password grant');
  assert.match(otherClient.json.error_description, /grant type is not allowed/);
});

test('stats count the new grant types; discovery lists them', async () => {
  await control(idp, 'POST', '/stats/reset');
  await password({ username: 'alice', password: 'alice-password' });
  await password({ username: 'alice', password: 'wrong' });
  const { json } = await control(idp, 'GET', '/stats');
  assert.deepEqual(json.token, { total: 2, byGrantType: { password: 2 }, byClient: { 'password-app': 2 } });
  const meta = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
  for (const grant of ['password', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:saml2-bearer']) {
    assert.ok(meta.grant_types_supported.includes(grant), grant);
  }
});
