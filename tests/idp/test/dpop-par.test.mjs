// The provider's opt-in DPoP (RFC 9449) and PAR (RFC 9126) options, and its /rs/ resource server, exercised with
// proofs made here with jose: what the metadata says in each mode, bound tokens, server nonces, Okta's answer to a
// missing proof, the request_uri lifetime, and every check of the resource server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

import { startProvider } from '../provider.mjs';
import {
  loopbackServer, pkcePair, authorizationUrl, control, postForm,
} from '../test-helpers.mjs';

let loopback;
before(async () => {
  loopback = await loopbackServer();
});
after(() => loopback.close());

/** A DPoP key pair and a proof maker (RFC 9449 §4.2). */
async function dpopKey(alg = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return {
    jkt: await calculateJwkThumbprint(jwk),
    proof: ({
      htm, htu, accessToken, nonce, iat = Math.floor(Date.now() / 1000),
    }) => new SignJWT({
      htm,
      htu,
      jti: randomUUID(),
      ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
      ...(nonce ? { nonce } : {}),
    }).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).setIssuedAt(iat).sign(privateKey),
  };
}

/** A native-app sign-in with dpop_jkt; answers the authorization code's redemption parameters. */
async function nativeCode(idp, extra = {}) {
  const pkce = pkcePair();
  const params = {
    client_id: 'native-app',
    response_type: 'code',
    redirect_uri: loopback.redirectUri(),
    scope: 'openid offline_access',
    state: randomBytes(8).toString('hex'),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  const { status, json } = await control(idp, 'POST', '/authorize', { url: authorizationUrl(idp, params), login: 'alice' });
  assert.equal(status, 200, JSON.stringify(json));
  return {
    grant_type: 'authorization_code', code: loopback.received.at(-1).query.code, redirect_uri: params.redirect_uri, code_verifier: pkce.verifier, client_id: 'native-app',
  };
}

/** A form POST with a DPoP header -> { status, json, nonce }. */
async function postWithProof(idp, path, params, proof) {
  const res = await fetch(`${idp.issuer}${path}`, { method: 'POST', headers: { dpop: proof }, body: new URLSearchParams(params) });
  return { status: res.status, json: await res.json(), nonce: res.headers.get('dpop-nonce') };
}

async function callResource(idp, path, { method = 'GET', token, proof, scheme = 'DPoP' } = {}) {
  const headers = { authorization: `${scheme} ${token}` };
  if (proof) headers.dpop = proof;
  const res = await fetch(`${idp.issuer}${path}`, { method, headers });
  return {
    status: res.status, json: await res.json(), challenge: res.headers.get('www-authenticate'), nonce: res.headers.get('dpop-nonce'),
  };
}

const metadata = async (idp) => (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();

test('by default neither DPoP nor the PAR endpoint is in the metadata, though /request still works', async () => {
  const idp = await startProvider();
  try {
    const meta = await metadata(idp);
    assert.equal(meta.pushed_authorization_request_endpoint, undefined);
    assert.equal(meta.require_pushed_authorization_requests, undefined);
    assert.equal(meta.dpop_signing_alg_values_supported, undefined);
    const pushed = await postForm(idp, '/request', {
      client_id: 'post-app', client_secret: 'post-secret', response_type: 'code', redirect_uri: loopback.redirectUri(), scope: 'openid',
    });
    assert.equal(pushed.status, 201);
  } finally {
    await idp.close();
  }
});

test('with DPoP on, a code bound by dpop_jkt is redeemed only with that key, and the tokens are bound to it', async () => {
  const idp = await startProvider({ dpop: 'on', par: 'advertised', parTtl: 7 });
  try {
    const meta = await metadata(idp);
    assert.equal(meta.pushed_authorization_request_endpoint, `${idp.issuer}/request`);
    assert.deepEqual(meta.dpop_signing_alg_values_supported, ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA']);

    const key = await dpopKey();
    const other = await dpopKey('RS256');
    const htu = `${idp.issuer}/token`;
    const wrongKey = await postWithProof(idp, '/token', await nativeCode(idp, { dpop_jkt: key.jkt }), await other.proof({ htm: 'POST', htu }));
    assert.equal(wrongKey.json.error, 'invalid_grant');
    const tokens = await postWithProof(idp, '/token', await nativeCode(idp, { dpop_jkt: key.jkt }), await key.proof({ htm: 'POST', htu }));
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
    assert.equal(tokens.json.token_type, 'DPoP');
    const introspection = await control(idp, 'POST', '/introspect', { token: tokens.json.access_token });
    assert.equal(introspection.json.cnf.jkt, key.jkt);

    // The public client's refresh token is bound too.
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token, client_id: 'native-app' };
    assert.equal((await postWithProof(idp, '/token', refresh, await other.proof({ htm: 'POST', htu }))).json.error, 'invalid_grant');

    // The request_uri lifetime: answered and kept as configured.
    const pushed = await postForm(idp, '/request', {
      client_id: 'post-app', client_secret: 'post-secret', response_type: 'code', redirect_uri: loopback.redirectUri(), scope: 'openid',
    });
    assert.equal(pushed.json.expires_in, 7);
    const id = pushed.json.request_uri.split(':').at(-1);
    const stored = await idp.provider.PushedAuthorizationRequest.find(id);
    assert.equal(stored.exp - stored.iat, 7);
  } finally {
    await idp.close();
  }
});

test('the resource server accepts a bound token with a right proof only, once, and can demand its nonce', async () => {
  const idp = await startProvider({ dpop: 'on' });
  try {
    const key = await dpopKey();
    const tokens = await postWithProof(idp, '/token', await nativeCode(idp), await key.proof({ htm: 'POST', htu: `${idp.issuer}/token` }));
    const token = tokens.json.access_token;
    const htu = `${idp.issuer}/rs/items`;

    const proof = await key.proof({ htm: 'GET', htu, accessToken: token });
    const ok = await callResource(idp, '/rs/items?x=1', { token, proof });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual([ok.json.sub, ok.json.jkt, ok.json.clientId], ['alice', key.jkt, 'native-app']);

    const refusals = [
      [await callResource(idp, '/rs/items', { token, proof }), 'invalid_dpop_proof', /replay/],
      [await callResource(idp, '/rs/other', { token, proof: await key.proof({ htm: 'GET', htu, accessToken: token }) }), 'invalid_dpop_proof', /htu/],
      [await callResource(idp, '/rs/items', { method: 'POST', token, proof: await key.proof({ htm: 'GET', htu, accessToken: token }) }), 'invalid_dpop_proof', /htm/],
      [await callResource(idp, '/rs/items', { token, proof: await key.proof({ htm: 'GET', htu }) }), 'invalid_dpop_proof', /ath/],
      [await callResource(idp, '/rs/items', { token, proof: await key.proof({ htm: 'GET', htu, accessToken: token, iat: Math.floor(Date.now() / 1000) - 600 }) }), 'invalid_dpop_proof', /verify/],
      [await callResource(idp, '/rs/items', { token, proof: await (await dpopKey()).proof({ htm: 'GET', htu, accessToken: token }) }), 'invalid_token', /bound/],
      [await callResource(idp, '/rs/items', { token, scheme: 'Bearer' }), 'invalid_token', /DPoP/],
      [await callResource(idp, '/rs/items', { token }), 'invalid_dpop_proof', /exactly one/],
    ];
    for (const [answer, error, description] of refusals) {
      assert.equal(answer.status, 401);
      assert.equal(answer.json.error, error);
      assert.match(answer.json.error_description, description);
      assert.match(answer.challenge, new RegExp(`^DPoP algs="[^"]+", error="${error}"`));
    }

    await control(idp, 'POST', '/config', { resourceNonce: true });
    const asked = await callResource(idp, '/rs/items', { token, proof: await key.proof({ htm: 'GET', htu, accessToken: token }) });
    assert.equal(asked.json.error, 'use_dpop_nonce');
    assert.ok(asked.nonce);
    const answered = await callResource(idp, '/rs/items', { token, proof: await key.proof({ htm: 'GET', htu, accessToken: token, nonce: asked.nonce }) });
    assert.equal(answered.status, 200);
  } finally {
    await idp.close();
  }
});

test('server nonces, Okta\'s refusal of a missing proof, and required PAR', async () => {
  const nonces = await startProvider({ dpop: 'nonce' });
  try {
    const key = await dpopKey();
    const htu = `${nonces.issuer}/token`;
    const code = await nativeCode(nonces);
    const first = await postWithProof(nonces, '/token', code, await key.proof({ htm: 'POST', htu }));
    assert.equal(first.status, 400);
    assert.equal(first.json.error, 'use_dpop_nonce');
    assert.ok(first.nonce);
    const second = await postWithProof(nonces, '/token', code, await key.proof({ htm: 'POST', htu, nonce: first.nonce }));
    assert.equal(second.json.token_type, 'DPoP');
  } finally {
    await nonces.close();
  }

  const required = await startProvider({ requireDpop: true, par: 'required' });
  try {
    const meta = await metadata(required);
    assert.equal(meta.require_pushed_authorization_requests, true);
    assert.ok(meta.dpop_signing_alg_values_supported);
    const missing = await postForm(required, '/token', { grant_type: 'client_credentials', client_id: 'post-app', client_secret: 'post-secret' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, { error: 'invalid_dpop_proof', error_description: 'The DPoP proof JWT header is missing.' });

    // An authorization request that was not pushed is refused.
    const plain = await control(required, 'POST', '/authorize', {
      url: authorizationUrl(required, {
        client_id: 'post-app', response_type: 'code', redirect_uri: loopback.redirectUri(), scope: 'openid', state: 'not-pushed',
      }),
      login: 'alice',
      deliver: false,
    });
    const refused = new URL(plain.json.callbackUrl).searchParams;
    assert.equal(refused.get('error'), 'invalid_request');
    assert.equal(refused.get('error_description'), 'Pushed Authorization Request must be used');
  } finally {
    await required.close();
  }
});

test('EdDSA (Ed25519, RFC 8037) proofs bind a code and tokens and are accepted by the resource server', async () => {
  // jose's RFC 7638 thumbprint of the RFC 8037 Appendix A key is the one Appendix A.3 gives (what the sidecar's must equal).
  assert.equal(
    await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }),
    'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
  );
  const idp = await startProvider({ dpop: 'on' });
  try {
    const key = await dpopKey('EdDSA');
    const htu = `${idp.issuer}/token`;
    const tokens = await postWithProof(idp, '/token', await nativeCode(idp, { dpop_jkt: key.jkt }), await key.proof({ htm: 'POST', htu }));
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
    assert.equal(tokens.json.token_type, 'DPoP');
    assert.equal((await control(idp, 'POST', '/introspect', { token: tokens.json.access_token })).json.cnf.jkt, key.jkt);

    const token = tokens.json.access_token;
    const ok = await callResource(idp, '/rs/items', { token, proof: await key.proof({ htm: 'GET', htu: `${idp.issuer}/rs/items`, accessToken: token }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.jkt, key.jkt);
    const otherKey = await callResource(idp, '/rs/items', { token, proof: await (await dpopKey('EdDSA')).proof({ htm: 'GET', htu: `${idp.issuer}/rs/items`, accessToken: token }) });
    assert.equal(otherKey.json.error, 'invalid_token');
  } finally {
    await idp.close();
  }
});
