import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

import { startProvider } from '../provider.mjs';
import { signJwtAssertion } from '../assertions.mjs';
import { signSamlAssertion } from '../saml.mjs';
import { fixture } from '../fixtures.mjs';
import { control, postForm, providerKeys } from '../test-helpers.mjs';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const APP = { client_id: 'assertion-app', client_secret: 'assertion-secret' };

let idp;
let tokenEndpoint;
before(async () => {
  idp = await startProvider();
  tokenEndpoint = `${idp.issuer}/token`;
});
after(() => idp.close());

const jwtGrant = (assertion, extra = {}) => postForm(idp, '/token', { grant_type: JWT_BEARER, assertion, ...APP, ...extra });
const samlGrant = (assertion, extra = {}) => postForm(idp, '/token', { grant_type: SAML2_BEARER, assertion, ...APP, ...extra });
const b64url = (xml) => Buffer.from(xml).toString('base64url');

async function assertInvalidGrant(answer, description, label) {
  assert.equal(answer.status, 400, `${label}: ${JSON.stringify(answer.json)}`);
  assert.equal(answer.json.error, 'invalid_grant', label);
  assert.match(answer.json.error_description, description, label);
}

// ---- JWT bearer (RFC 7523) --------------------------------------------------------------------

test('control API: /jwt-assertion signs an RS256 assertion with the documented defaults', async () => {
  const { status, json } = await control(idp, 'POST', '/jwt-assertion', { sub: 'bob' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(Object.keys(json), ['assertion']);
  assert.deepEqual(decodeProtectedHeader(json.assertion), { alg: 'RS256', typ: 'JWT', kid: 'assertion-rsa' });
  const claims = decodeJwt(json.assertion);
  assert.equal(claims.iss, 'urn:sidecar:test-assertion-issuer');
  assert.equal(claims.sub, 'bob');
  assert.equal(claims.aud, tokenEndpoint);
  assert.equal(claims.exp - claims.iat, 300);
  assert.ok(claims.jti);

  const custom = decodeJwt((await control(idp, 'POST', '/jwt-assertion', {
    sub: 'alice', aud: [idp.issuer, 'x'], expiresIn: 60, iss: 'urn:other',
  })).json.assertion);
  assert.deepEqual([custom.aud, custom.exp - custom.iat, custom.iss], [[idp.issuer, 'x'], 60, 'urn:other']);
  assert.equal((await control(idp, 'POST', '/jwt-assertion', {})).status, 400);
  assert.equal((await control(idp, 'POST', '/jwt-assertion', { sub: 'alice', expiresIn: 'soon' })).status, 400);
});

test('jwt-bearer: a good assertion gets tokens for its subject, with an ID token for openid', async () => {
  const { json: { assertion } } = await control(idp, 'POST', '/jwt-assertion', { sub: 'bob' });
  const { status, json } = await jwtGrant(assertion, { scope: 'openid email' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.scope, 'openid email');
  assert.equal(json.refresh_token, undefined);
  const { payload } = await jwtVerify(json.id_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'assertion-app' });
  assert.equal(payload.sub, 'bob');
  assert.equal(payload.email, 'bob@example.test');
  const me = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${json.access_token}` } });
  assert.equal((await me.json()).sub, 'bob');

  // aud may be the issuer, or a list that contains it; no scope, no ID token.
  for (const aud of [idp.issuer, ['urn:elsewhere', idp.issuer]]) {
    const answer = await jwtGrant(await signJwtAssertion({ sub: 'alice', aud }));
    assert.equal(answer.status, 200, JSON.stringify(aud));
    assert.equal(answer.json.id_token, undefined);
  }
  // Within the 60 s of clock skew, an assertion that expired 30 s ago still works.
  assert.equal((await jwtGrant(await signJwtAssertion({ sub: 'alice', aud: tokenEndpoint, expiresIn: -30 }))).status, 200);
});

test('jwt-bearer: every check has its invalid_grant', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['wrong issuer', { iss: 'urn:someone-else' }, /claim "iss"/],
    ['unknown subject', { sub: 'mallory' }, /subject "mallory" is not a known account/],
    ['wrong audience', { aud: 'https://elsewhere.example/token' }, /claim "aud"/],
    ['expired beyond the skew', { expiresIn: -120 }, /expired/],
    ['issued in the future', { iat: now + 600, expiresIn: 300 }, /issued in the future/],
    ['signed by another key', { key: createPrivateKey(fixture('client-rsa.key.pem')) }, /signature is invalid/],
    ['signed with ES256', { key: createPrivateKey(fixture('client-ec.key.pem')), alg: 'ES256' }, /must be signed with RS256/],
    ['no exp', { claims: { exp: undefined } }, /"exp"/],
  ];
  for (const [label, options, description] of cases) {
    const assertion = await signJwtAssertion({ sub: 'alice', aud: tokenEndpoint, ...options });
    await assertInvalidGrant(await jwtGrant(assertion), description, label);
  }
  const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  const body = Buffer.from(JSON.stringify({ iss: 'urn:sidecar:test-assertion-issuer', sub: 'alice', aud: tokenEndpoint, exp: now + 60 })).toString('base64url');
  await assertInvalidGrant(await jwtGrant(`${header}.${body}.`), /RS256/, 'alg none');
  await assertInvalidGrant(await jwtGrant('not-a-jwt'), /not a valid JWT/, 'garbage');

  const missing = await postForm(idp, '/token', { grant_type: JWT_BEARER, ...APP });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.error, 'invalid_request');
  assert.match(missing.json.error_description, /missing required parameter 'assertion'/);
  const wrongSecret = await jwtGrant('x', { client_secret: 'nope' });
  assert.equal(wrongSecret.json.error, 'invalid_client');
});

// ---- SAML 2.0 bearer (RFC 7522) ---------------------------------------------------------------

test('control API: /saml-assertion answers the signed assertion XML', async () => {
  const { status, json } = await control(idp, 'POST', '/saml-assertion', { nameId: 'alice' });
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(Object.keys(json), ['xml']);
  assert.match(json.xml, /^<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2\.0:assertion" ID="_[0-9a-f]+" Version="2\.0"/);
  assert.match(json.xml, /<saml:Issuer>urn:sidecar:test-saml-issuer<\/saml:Issuer><ds:Signature /);
  assert.match(json.xml, /<ds:SignatureMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmldsig-more#rsa-sha256"\/>/);
  assert.match(json.xml, /<ds:Transform Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#enveloped-signature"\/>/);
  assert.match(json.xml, />alice<\/saml:NameID>/);
  assert.match(json.xml, new RegExp(`<saml:Audience>${idp.issuer}</saml:Audience>`));
  assert.equal((await control(idp, 'POST', '/saml-assertion', {})).status, 400);
  assert.equal((await control(idp, 'POST', '/saml-assertion', { nameId: 'alice', tamper: 'yes' })).status, 400);
});

test('saml2-bearer: a signed assertion, base64url without or with padding, gets tokens for its NameID', async () => {
  const { json: { xml } } = await control(idp, 'POST', '/saml-assertion', { nameId: 'alice' });
  const unpadded = b64url(xml);
  const { status, json } = await samlGrant(unpadded, { scope: 'openid profile' });
  assert.equal(status, 200, JSON.stringify(json));
  const { payload } = await jwtVerify(json.id_token, await providerKeys(idp), { issuer: idp.issuer, audience: 'assertion-app' });
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.name, 'Alice Example');

  // A length whose base64 needs padding, so the padded form really differs.
  let other = xml;
  while (Buffer.byteLength(other) % 3 === 0) other += ' ';
  const padded = Buffer.from(other).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  assert.match(padded, /=$/);
  const second = await samlGrant(padded);
  assert.equal(second.status, 200, JSON.stringify(second.json));
  assert.equal(second.json.id_token, undefined);
});

test('saml2-bearer: every check has its invalid_grant', async () => {
  const saml = async (body) => (await control(idp, 'POST', '/saml-assertion', body)).json.xml;
  const cases = [
    ['tampered after signing', await saml({ nameId: 'alice', tamper: true }), /signature is invalid/],
    ['wrong audience', await saml({ nameId: 'alice', audience: 'https://elsewhere.example' }), /audience .* does not include/],
    ['expired', await saml({ nameId: 'alice', notOnOrAfterSeconds: -120 }), /expired/],
    ['unknown NameID', await saml({ nameId: 'mallory' }), /NameID "mallory" is not a known account/],
    ['untrusted issuer', await saml({ nameId: 'alice', issuer: 'urn:someone-else' }), /issuer "urn:someone-else" is not trusted/],
    ['signed by another key', signSamlAssertion({ nameId: 'alice', audience: idp.issuer, key: fixture('client-rsa.key.pem') }), /signature is invalid/],
    ['unsigned', (await saml({ nameId: 'alice' })).replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''), /exactly one enveloped/],
    ['not SAML', '<Assertion>alice</Assertion>', /not a SAML 2\.0/],
  ];
  for (const [label, xml, description] of cases) {
    await assertInvalidGrant(await samlGrant(b64url(xml)), description, label);
  }
  await assertInvalidGrant(await samlGrant('not base64!'), /not base64url/, 'not base64url');
  const missing = await postForm(idp, '/token', { grant_type: SAML2_BEARER, ...APP });
  assert.equal(missing.json.error, 'invalid_request');
});

test('assertion grants are counted per grant type', async () => {
  await control(idp, 'POST', '/stats/reset');
  await jwtGrant('x');
  await samlGrant('x');
  await samlGrant('y');
  const { json } = await control(idp, 'GET', '/stats');
  assert.deepEqual(json.token, { total: 3, byGrantType: { [JWT_BEARER]: 1, [SAML2_BEARER]: 2 }, byClient: { 'assertion-app': 3 } });
});
