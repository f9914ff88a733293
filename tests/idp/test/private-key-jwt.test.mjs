import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

import { startProvider } from '../provider.mjs';
import { fixture } from '../fixtures.mjs';
import {
  loopbackServer, pkcePair, authorizationUrl, control, postForm, providerKeys,
} from '../test-helpers.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLIENTS = {
  'jwt-app': { file: 'client-rsa.key.pem', alg: 'RS256', kid: 'client-rsa' },
  'jwt-ec-app': { file: 'client-ec.key.pem', alg: 'ES256', kid: 'client-ec' },
};

let idp;
let loopback;
before(async () => {
  idp = await startProvider();
  loopback = await loopbackServer();
});
after(async () => {
  await loopback.close();
  await idp.close();
});

/** A client assertion as the sidecar makes it (RFC 7523 §2.2); `claims` and `key` override for negative tests. */
function clientAssertion(clientId, { claims = {}, key, kid } = {}) {
  const { file, alg, kid: ownKid } = CLIENTS[clientId];
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: clientId, sub: clientId, aud: `${idp.issuer}/token`, jti: randomUUID(), iat: now, exp: now + 60, ...claims,
  }).setProtectedHeader({ alg, kid: kid ?? ownKid }).sign(key ?? createPrivateKey(fixture(file)));
}

const withAssertion = (assertion, params) => postForm(idp, '/token', {
  ...params, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion,
});

test('the JWKS of jwt-app and jwt-ec-app are the public halves of the fixture keys', async () => {
  for (const clientId of Object.keys(CLIENTS)) {
    const client = await idp.provider.Client.find(clientId);
    assert.equal(client.tokenEndpointAuthMethod, 'private_key_jwt');
    assert.equal(client.tokenEndpointAuthSigningAlg, CLIENTS[clientId].alg);
    const [jwk] = client.jwks.keys;
    assert.equal(jwk.kid, CLIENTS[clientId].kid);
    assert.equal(jwk.d, undefined, 'no private part');
  }
});

for (const clientId of Object.keys(CLIENTS)) {
  test(`${clientId}: client_credentials with private_key_jwt (aud = token endpoint or issuer)`, async () => {
    for (const aud of [`${idp.issuer}/token`, idp.issuer]) {
      const { status, json } = await withAssertion(await clientAssertion(clientId, { claims: { aud } }), {
        grant_type: 'client_credentials', scope: 'api:read',
      });
      assert.equal(status, 200, `${aud}: ${JSON.stringify(json)}`);
      const { payload } = await jwtVerify(json.access_token, await providerKeys(idp), { audience: 'urn:sidecar:api' });
      assert.equal(payload.client_id, clientId);
    }
  });
}

test('private_key_jwt: oidc-provider checks signature, aud, exp, iss and jti reuse', async () => {
  const stranger = createPrivateKey(fixture('assertion-rsa.key.pem'));
  const cases = [
    ['wrong key', { key: stranger }],
    ['wrong audience', { claims: { aud: 'https://elsewhere.example/token' } }],
    ['expired', { claims: { exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 660 } }],
    ['iss is not the client', { claims: { iss: 'jwt-ec-app' } }],
    ['no jti', { claims: { jti: undefined } }],
  ];
  for (const [label, options] of cases) {
    const { status, json } = await withAssertion(await clientAssertion('jwt-app', options), { grant_type: 'client_credentials' });
    assert.equal(status, 401, label);
    assert.equal(json.error, 'invalid_client', label);
  }
  const once = await clientAssertion('jwt-app');
  assert.equal((await withAssertion(once, { grant_type: 'client_credentials' })).status, 200);
  const replay = await withAssertion(once, { grant_type: 'client_credentials' });
  assert.equal(replay.status, 401, 'a jti is good once');
  assert.equal(replay.json.error, 'invalid_client');

  const secret = await postForm(idp, '/token', { grant_type: 'client_credentials', client_id: 'jwt-app', client_secret: 'x' });
  assert.equal(secret.json.error, 'invalid_client', 'no other authentication method');
});

test('jwt-app: authorization code flow with private_key_jwt, then refresh', async () => {
  const pkce = pkcePair();
  const redirectUri = loopback.redirectUri();
  const url = authorizationUrl(idp, {
    client_id: 'jwt-app', response_type: 'code', redirect_uri: redirectUri, scope: 'openid offline_access',
    state: 's1', nonce: 'n1', code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  const { status, json } = await control(idp, 'POST', '/authorize', { url, login: 'bob' });
  assert.equal(status, 200, JSON.stringify(json));
  const { code } = loopback.received.at(-1).query;
  const tokens = await withAssertion(await clientAssertion('jwt-app'), {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pkce.verifier,
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  const { payload } = await jwtVerify(tokens.json.id_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'jwt-app' });
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.nonce, 'n1');
  const refreshed = await withAssertion(await clientAssertion('jwt-app'), { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
  assert.ok(refreshed.json.refresh_token);
});
