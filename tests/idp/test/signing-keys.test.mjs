import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jwtVerify } from 'jose';

import { startProvider } from '../provider.mjs';
import {
  control, postForm, jwtHeader, providerKeys, fetchJwks,
} from '../test-helpers.mjs';

let idp;
before(async () => { idp = await startProvider(); });
after(() => idp.close());

const passwordTokens = (extra = {}) => postForm(idp, '/token', {
  grant_type: 'password', username: 'bob', password: 'bob-password', scope: 'openid', ...extra,
}, { basic: ['password-app', 'password-secret'] });

test('rotate-keys: the new key signs new tokens and comes first in /jwks; the old one stays', async () => {
  const before = await passwordTokens();
  const oldKid = jwtHeader(before.json.id_token).kid;
  const oldJwks = await fetchJwks(idp);
  assert.equal(oldJwks.keys[0].kid, oldKid);

  const { status, json } = await control(idp, 'POST', '/rotate-keys');
  assert.equal(status, 200);
  assert.deepEqual(Object.keys(json), ['kid']);
  assert.notEqual(json.kid, oldKid);

  const jwks = await fetchJwks(idp);
  assert.deepEqual(jwks.keys.map((key) => key.kid), [json.kid, ...oldJwks.keys.map((key) => key.kid)]);
  assert.ok(jwks.keys.every((key) => key.d === undefined), 'only public keys are served');
  assert.equal(jwks.keys[0].alg, 'RS256');

  const after = await passwordTokens();
  assert.equal(jwtHeader(after.json.id_token).kid, json.kid);
  const keys = await providerKeys(idp);
  await jwtVerify(after.json.id_token, keys, { issuer: idp.issuer, audience: 'password-app' });
  await jwtVerify(before.json.id_token, keys, { issuer: idp.issuer, audience: 'password-app' }); // old kid still served

  // JWT access tokens and re-signed (mutated) ID tokens use the new key too.
  const api = await passwordTokens({ resource: 'urn:sidecar:api', scope: 'api:read' });
  assert.equal(jwtHeader(api.json.access_token).kid, json.kid);
  await control(idp, 'POST', '/config', { idTokenMutation: 'wrong-audience' });
  const mutated = await passwordTokens();
  assert.equal(jwtHeader(mutated.json.id_token).kid, json.kid);
  const { payload } = await jwtVerify(mutated.json.id_token, keys, { issuer: idp.issuer });
  assert.equal(payload.aud, 'someone-else');
});

test('rotate-keys with keepOld:false drops the previous RS256 keys from /jwks (not the ES256 key)', async () => {
  const previous = (await fetchJwks(idp)).keys;
  const { json } = await control(idp, 'POST', '/rotate-keys', { keepOld: false });
  const keys = (await fetchJwks(idp)).keys;
  assert.deepEqual(keys.map((key) => key.kid), [json.kid, ...previous.filter((key) => key.alg === 'ES256').map((key) => key.kid)]);
  const tokens = await passwordTokens();
  assert.equal(jwtHeader(tokens.json.id_token).kid, json.kid);
  assert.equal((await control(idp, 'POST', '/rotate-keys', { keepOld: 'no' })).status, 400);
});

test('signing keys handle: current, byKid (private), all', async () => {
  const current = idp.keys.current('RS256');
  assert.ok(current.d, 'private JWK');
  assert.equal(idp.keys.byKid(current.kid), current);
  assert.equal(idp.keys.current('ES256').crv, 'P-256');
  assert.equal(idp.keys.all()[0], current);
});
