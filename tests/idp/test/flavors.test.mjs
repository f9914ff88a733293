// The test provider configured as Okta, Auth0, Keycloak and GitLab (flavors.mjs): issuer and endpoint paths,
// exact redirect URIs, refresh tokens the way each issues them, Auth0's audience, GitLab's user API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';

import { startProvider } from '../provider.mjs';
import { pkcePair } from '../test-helpers.mjs';

/** Discovery, a consented authorization on `redirectUri` and the code redemption: { discovery, tokens, status }. */
async function signIn(idp, { scope, redirectUri = idp.redirectUri, extra = {} }) {
  const discovery = await fetch(`${idp.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`).then((r) => r.json());
  const { verifier, challenge } = pkcePair();
  const url = `${discovery.authorization_endpoint}?${new URLSearchParams({
    response_type: 'code', client_id: idp.clientId, redirect_uri: redirectUri, scope, state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  })}`;
  const consent = await fetch(`${idp.control}/authorize`, { method: 'POST', body: JSON.stringify({ url, deliver: false }) });
  const consented = await consent.json();
  if (consent.status !== 200) return { discovery, status: consent.status, error: consented.error };
  const code = new URL(consented.callbackUrl).searchParams.get('code');
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: idp.clientId,
    }),
  });
  return { discovery, status: res.status, tokens: await res.json() };
}

test('okta: the issuer /oauth2/default with /v1 endpoints, an exact redirect port, refresh tokens for offline_access', async () => {
  const idp = await startProvider({ flavor: 'okta' });
  try {
    assert.match(idp.issuer, /\/oauth2\/default$/);
    assert.match(idp.redirectUri, /^http:\/\/localhost:\d+\/callback$/);
    const { discovery, tokens } = await signIn(idp, { scope: 'openid offline_access' });
    assert.equal(discovery.issuer, idp.issuer);
    assert.equal(discovery.token_endpoint, `${idp.issuer}/v1/token`);
    assert.ok(tokens.refresh_token);
    assert.equal(decodeJwt(tokens.id_token).iss, idp.issuer);
    const otherPort = await signIn(idp, { scope: 'openid', redirectUri: idp.redirectUri.replace(/:\d+\//, ':1/') });
    assert.match(otherPort.error, /redirect_uri did not match/);
  } finally {
    await idp.close();
  }
});

test('auth0: an issuer with a trailing slash, audience read as the API, exact callback URL', async () => {
  const idp = await startProvider({ flavor: 'auth0' });
  try {
    assert.match(idp.issuer, /\/$/);
    const { discovery, tokens } = await signIn(idp, { scope: 'openid offline_access read:messages', extra: { audience: 'https://api.sidecar.test' } });
    assert.equal(discovery.issuer, idp.issuer);
    assert.equal(discovery.token_endpoint, `${idp.issuer}oauth/token`);
    assert.equal(decodeJwt(tokens.id_token).iss, idp.issuer);
    assert.equal(decodeJwt(tokens.access_token).aud, 'https://api.sidecar.test');
    const opaque = await signIn(idp, { scope: 'openid' });
    assert.equal(opaque.tokens.access_token.split('.').length, 1, 'without audience: an opaque token for /userinfo');
  } finally {
    await idp.close();
  }
});

test('keycloak: a realm issuer, a refresh token without offline_access, an exact redirect URI', async () => {
  const idp = await startProvider({ flavor: 'keycloak' });
  try {
    const { discovery, tokens } = await signIn(idp, { scope: 'openid profile' });
    assert.equal(discovery.issuer, idp.issuer);
    assert.match(discovery.token_endpoint, /\/realms\/sidecar\/protocol\/openid-connect\/token$/);
    assert.ok(tokens.refresh_token);
    assert.match((await signIn(idp, { scope: 'openid', redirectUri: 'http://127.0.0.1:1/callback' })).error, /redirect_uri did not match/);
  } finally {
    await idp.close();
  }
});

test('gitlab: /oauth endpoints, refresh tokens always, loopback on any port, GET /api/v4/user', async () => {
  const idp = await startProvider({ flavor: 'gitlab' });
  try {
    const { discovery, tokens } = await signIn(idp, { scope: 'read_user', redirectUri: 'http://127.0.0.1:4567/callback' });
    assert.equal(discovery.authorization_endpoint, `${idp.issuer}/oauth/authorize`);
    assert.equal(tokens.id_token, undefined);
    assert.ok(tokens.refresh_token);
    const user = await fetch(`${idp.issuer}/api/v4/user`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.deepEqual(await user.json(), {
      id: 1, username: 'alice', name: 'Alice Example', state: 'active', web_url: `${idp.issuer}/alice`,
    });
    assert.equal((await fetch(`${idp.issuer}/api/v4/user`)).status, 401);
  } finally {
    await idp.close();
  }
});
