import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { compactVerify, jwtVerify, errors as joseErrors } from 'jose';

import { startProvider } from '../provider.mjs';
import {
  loopbackServer, pkcePair, authorizationUrl, control, postForm, jwtPayload, jwtHeader, providerKeys, fetchJwks,
} from '../test-helpers.mjs';

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

const passwordTokens = (scope = 'openid profile') => postForm(idp, '/token', {
  grant_type: 'password', username: 'alice', password: 'alice-password', scope,
}, { basic: ['password-app', 'password-secret'] });
const arm = (mode) => control(idp, 'POST', '/config', { idTokenMutation: mode });

/** Signature valid under the provider's JWKS: resolves to the payload (no claim checks). */
async function verifiedPayload(jwt) {
  const { payload } = await compactVerify(jwt, await providerKeys(idp));
  return JSON.parse(Buffer.from(payload).toString());
}

test('the setting is shown, armed for one id_token, then back to none', async () => {
  assert.equal((await control(idp, 'GET', '/config')).json.idTokenMutation, 'none');
  const armed = await arm('wrong-audience');
  assert.equal(armed.status, 200);
  assert.equal(armed.json.idTokenMutation, 'wrong-audience');

  // A token response without an id_token leaves it armed.
  const noIdToken = await passwordTokens('profile');
  assert.equal(noIdToken.status, 200);
  assert.equal((await control(idp, 'GET', '/config')).json.idTokenMutation, 'wrong-audience');

  const mutated = await passwordTokens();
  assert.equal(jwtPayload(mutated.json.id_token).aud, 'someone-else');
  assert.equal((await control(idp, 'GET', '/config')).json.idTokenMutation, 'none');
  const next = await passwordTokens();
  await jwtVerify(next.json.id_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'password-app' });

  const bad = await arm('sideways');
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /"idTokenMutation" must be one of "none", "tamper-signature"/);
});

test('re-signed mutations: the signature is valid with the provider key, only one property is wrong', async () => {
  const now = Math.floor(Date.now() / 1000);
  const expectations = {
    'wrong-audience': (p) => assert.equal(p.aud, 'someone-else'),
    'wrong-nonce': (p) => assert.equal(p.nonce, 'not-the-nonce'),
    expired: (p) => {
      assert.ok(Math.abs(p.exp - (now - 3600)) < 10);
      assert.ok(Math.abs(p.iat - (now - 7200)) < 10);
    },
    'wrong-issuer': (p) => assert.equal(p.iss, 'https://evil.example'),
    'azp-mismatch': (p) => {
      assert.deepEqual(p.aud, ['password-app', 'other-party']);
      assert.equal(p.azp, 'other-party');
    },
  };
  for (const [mode, check] of Object.entries(expectations)) {
    const original = await passwordTokens();
    await arm(mode);
    const { json } = await passwordTokens();
    assert.deepEqual(jwtHeader(json.id_token), jwtHeader(original.json.id_token), `${mode}: same header, same kid`);
    const payload = await verifiedPayload(json.id_token);
    check(payload);
    assert.equal(payload.sub, 'alice', mode);
    if (mode !== 'wrong-issuer') assert.equal(payload.iss, idp.issuer, mode);
    if (!['wrong-audience', 'azp-mismatch'].includes(mode)) assert.equal(payload.aud, 'password-app', mode);
  }
});

test('tamper-signature, alg-none and unknown-key fail signature verification', async () => {
  const keys = await providerKeys(idp);
  const jwks = await fetchJwks(idp);

  await arm('tamper-signature');
  const tampered = (await passwordTokens()).json.id_token;
  await assert.rejects(compactVerify(tampered, keys), joseErrors.JWSSignatureVerificationFailed);
  assert.equal(jwtPayload(tampered).sub, 'alice', 'payload untouched');

  await arm('alg-none');
  const none = (await passwordTokens()).json.id_token;
  assert.equal(jwtHeader(none).alg, 'none');
  assert.equal(jwtHeader(none).kid, undefined);
  assert.match(none, /\.$/, 'empty signature');
  assert.equal(jwtPayload(none).sub, 'alice');

  await arm('unknown-key');
  const unknown = (await passwordTokens()).json.id_token;
  const { kid, alg } = jwtHeader(unknown);
  assert.equal(alg, 'RS256');
  assert.ok(!jwks.keys.some((key) => key.kid === kid), 'kid not in the JWKS');
  await assert.rejects(compactVerify(unknown, keys), joseErrors.JWKSNoMatchingKey);
});

test('wrong-nonce in an authorization code flow that sent a nonce', async () => {
  const pkce = pkcePair();
  const redirectUri = loopback.redirectUri();
  const nonce = randomBytes(8).toString('hex');
  const url = authorizationUrl(idp, {
    client_id: 'native-app', response_type: 'code', redirect_uri: redirectUri, scope: 'openid',
    state: 'st', nonce, code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  assert.equal((await control(idp, 'POST', '/authorize', { url })).status, 200);
  await arm('wrong-nonce');
  const tokens = await postForm(idp, '/token', {
    grant_type: 'authorization_code', code: loopback.received.at(-1).query.code, redirect_uri: redirectUri,
    code_verifier: pkce.verifier, client_id: 'native-app',
  });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  const { payload } = await jwtVerify(tokens.json.id_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'native-app' });
  assert.equal(payload.nonce, 'not-the-nonce');
});

test('no-sub, numeric-sub and unknown-crit are re-signed with the provider key; drop removes the id_token', async () => {
  await arm('no-sub');
  const noSub = (await passwordTokens()).json.id_token;
  assert.ok(!('sub' in await verifiedPayload(noSub)));

  await arm('numeric-sub');
  assert.equal((await verifiedPayload((await passwordTokens()).json.id_token)).sub, 42);

  await arm('unknown-crit');
  const crit = (await passwordTokens()).json.id_token;
  assert.deepEqual(jwtHeader(crit).crit, ['urn:example:unknown']);
  assert.equal(jwtPayload(crit).sub, 'alice');

  await arm('drop');
  const dropped = await passwordTokens();
  assert.equal(dropped.status, 200);
  assert.ok(!('id_token' in dropped.json));
  assert.equal(typeof dropped.json.access_token, 'string');
});

test('tokenResponseMutation rewrites the next token response once', async () => {
  const expectations = {
    'token-type-mac': (b) => assert.equal(b.token_type, 'mac'),
    'no-token-type': (b) => assert.ok(!('token_type' in b)),
    'lowercase-bearer': (b) => assert.equal(b.token_type, 'bearer'),
    'no-expires-in': (b) => assert.ok(!('expires_in' in b)),
    'zero-expires-in': (b) => assert.equal(b.expires_in, 0),
    'negative-expires-in': (b) => assert.equal(b.expires_in, -5),
    'fractional-expires-in': (b) => assert.equal(b.expires_in, 59.5),
    'numeric-access-token': (b) => assert.equal(b.access_token, 12345),
  };
  for (const [mode, check] of Object.entries(expectations)) {
    assert.equal((await control(idp, 'POST', '/config', { tokenResponseMutation: mode })).status, 200);
    check((await passwordTokens()).json);
    assert.equal((await control(idp, 'GET', '/config')).json.tokenResponseMutation, 'none', mode);
  }
  const honest = (await passwordTokens()).json;
  assert.equal(honest.token_type, 'Bearer');
  assert.equal(typeof honest.expires_in, 'number');
});
