// DPoP (RFC 9449) and pushed authorization requests (RFC 9126) through the client, against the test
// provider with both on: a sign-in whose tokens are bound to a key the sidecar keeps, and a call to the
// provider's resource server (/rs/, which checks proofs with jose) with a proof from createDpopProof.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCodes } from '@oauth-sidecar/client';
import { control, rejectsWith, SCOPES, startIdp, startSidecar, type Idp } from './support/harness.js';

let idp: Idp;
before(async () => {
  idp = await startIdp({ dpop: 'on', par: 'advertised' });
});
after(() => idp?.close());

test('a DPoP sign-in through a pushed request, then an API call with a proof from createDpopProof', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const { clientHandle, serverConfiguration } = await client.createClient({ issuer: idp.issuer, clientId: 'native-app', scopes: SCOPES, dpop: true, par: 'auto' });
  assert.equal(serverConfiguration.pushedAuthorizationRequestEndpoint, `${idp.issuer}/request`);

  const flow = await client.initiateAuthCodeFlow({ clientHandle, openBrowser: false });
  assert.deepEqual([...new URL(flow.authUri).searchParams.keys()].sort(), ['client_id', 'request_uri']);
  const pending = client.obtainTokenByAuthCodeFlow({ flowId: flow.flowId });
  await control(idp, '/authorize', { url: flow.authUri, login: 'alice' });
  const tokens = await pending;
  assert.equal(tokens.tokenType, 'DPoP');
  assert.ok(tokens.jkt);

  // Calling an API: Authorization: DPoP <token>, and a fresh proof for this method and URL.
  const url = `${idp.issuer}/rs/profile?fields=all`;
  const call = async () => {
    const { proof, jkt } = await client.createDpopProof({ clientHandle, htm: 'GET', htu: url, accessToken: tokens.accessToken });
    assert.equal(jkt, tokens.jkt);
    return fetch(url, { headers: { authorization: `DPoP ${tokens.accessToken}`, dpop: proof } });
  };
  const res = await call();
  assert.equal(res.status, 200);
  const body = (await res.json()) as { sub: string; jkt: string };
  assert.equal(body.sub, 'alice');
  assert.equal(body.jkt, tokens.jkt);
  assert.equal((await call()).status, 200); // a new proof each time

  // The bearer scheme is not enough for a DPoP-bound token.
  const bearer = await fetch(url, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
  assert.equal(bearer.status, 401);

  const bad = await rejectsWith(client.createDpopProof({ clientHandle, htm: 'GET', htu: 'not a url' }), ErrorCodes.InvalidParams);
  assert.equal(bad.data.field, 'htu');
  await sidecar.close();
});
