import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startProvider } from '../provider.mjs';
import { control, postForm, jwtPayload } from '../test-helpers.mjs';

let idp;
before(async () => { idp = await startProvider({ accessTokenTtl: 120 }); });
after(() => idp.close());

const CONFIDENTIAL = ['confidential-app', 'confidential-secret'];

test('client_credentials: a JWT for urn:sidecar:api, asked for or by default', async () => {
  const asked = await postForm(idp, '/token', { grant_type: 'client_credentials', resource: 'urn:sidecar:api', scope: 'api:read' }, { basic: CONFIDENTIAL });
  assert.equal(asked.status, 200, JSON.stringify(asked.json));
  assert.equal(asked.json.token_type, 'Bearer');
  assert.equal(asked.json.expires_in, 120);
  assert.equal(asked.json.scope, 'api:read');
  const claims = jwtPayload(asked.json.access_token);
  assert.equal(claims.aud, 'urn:sidecar:api');
  assert.equal(claims.client_id, 'confidential-app');
  assert.equal(claims.iss, idp.issuer);

  const byDefault = await postForm(idp, '/token', {
    grant_type: 'client_credentials', scope: 'api:read api:write', client_id: 'post-app', client_secret: 'post-secret',
  });
  assert.equal(byDefault.status, 200, JSON.stringify(byDefault.json));
  assert.equal(jwtPayload(byDefault.json.access_token).aud, 'urn:sidecar:api');
  assert.equal(byDefault.json.scope, 'api:read api:write');

  const unknown = await postForm(idp, '/token', { grant_type: 'client_credentials', resource: 'urn:other' }, { basic: CONFIDENTIAL });
  assert.equal(unknown.json.error, 'invalid_target');
});

test('client_credentials: a wrong secret is invalid_client', async () => {
  const { status, json } = await postForm(idp, '/token', { grant_type: 'client_credentials' }, { basic: ['confidential-app', 'wrong'] });
  assert.equal(status, 401);
  assert.equal(json.error, 'invalid_client');
});

test('stats count requests per endpoint, grant type and client', async () => {
  await control(idp, 'POST', '/stats/reset');
  await postForm(idp, '/token', { grant_type: 'client_credentials' }, { basic: CONFIDENTIAL });
  await postForm(idp, '/token', { grant_type: 'client_credentials' }, { basic: ['confidential-app', 'wrong'] });
  await postForm(idp, '/token', { grant_type: 'client_credentials', client_id: 'post-app', client_secret: 'post-secret' });
  await postForm(idp, '/token', { grant_type: 'refresh_token', refresh_token: 'nope', client_id: 'native-app' });
  await postForm(idp, '/device/auth', { client_id: 'native-app', scope: 'openid' });
  await postForm(idp, '/token/revocation', { token: 'nope' }, { basic: CONFIDENTIAL });
  await postForm(idp, '/token/introspection', { token: 'nope' }, { basic: CONFIDENTIAL });
  await control(idp, 'POST', '/introspect', { token: 'nope' }); // the control API's own: not counted

  const { status, json } = await control(idp, 'GET', '/stats');
  assert.equal(status, 200);
  assert.deepEqual(json, {
    token: {
      total: 4,
      byGrantType: { client_credentials: 3, refresh_token: 1 },
      byClient: { 'confidential-app': 2, 'post-app': 1, 'native-app': 1 },
    },
    deviceAuthorization: 1,
    revocation: 1,
    introspection: 1,
  });
  const reset = await control(idp, 'POST', '/stats/reset');
  assert.equal(reset.json.token.total, 0);
});

test('introspection: active, then inactive after revocation', async () => {
  // Opaque tokens can be introspected (oidc-provider does not introspect JWT access tokens).
  const { json: tokens } = await postForm(idp, '/token', { grant_type: 'client_credentials', client_id: 'post-app', client_secret: 'post-secret' });
  const jwt = await control(idp, 'POST', '/introspect', { token: tokens.access_token });
  assert.equal(jwt.status, 200);
  assert.equal(typeof jwt.json.active, 'boolean');

  const device = (await postForm(idp, '/device/auth', { client_id: 'native-app', scope: 'openid offline_access' })).json;
  await control(idp, 'POST', '/device', { userCode: device.user_code });
  const { json: user } = await postForm(idp, '/token', {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: 'native-app',
  });
  const active = await control(idp, 'POST', '/introspect', { token: user.access_token });
  assert.equal(active.json.active, true);
  assert.equal(active.json.sub, 'alice');
  assert.equal(active.json.client_id, 'native-app');
  assert.equal((await control(idp, 'POST', '/introspect', { token: user.refresh_token })).json.active, true);

  const revoked = await postForm(idp, '/token/revocation', { token: user.access_token, client_id: 'native-app' });
  assert.equal(revoked.status, 200);
  assert.equal((await control(idp, 'POST', '/introspect', { token: user.access_token })).json.active, false);
});

test('control API: bad requests are 400 or 404 with an error', async () => {
  assert.equal((await control(idp, 'POST', '/config', { nope: 1 })).status, 400);
  assert.equal((await control(idp, 'POST', '/authorize', { url: 'http://example.test/auth' })).status, 400);
  assert.equal((await control(idp, 'POST', '/introspect', {})).status, 400);
  const missing = await control(idp, 'GET', '/nothing');
  assert.equal(missing.status, 404);
  assert.match(missing.json.error, /no control route/);
});
