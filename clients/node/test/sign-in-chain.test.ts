// Sign-in wherever the user is (issue 16) through the Node client, against the real test provider:
// onPromptRedirect (the paste path), onAuthorizationUrl, the auto chain's method, parseChallenge and a
// step-up. Every message is validated against the schema (SchemaTap).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCodes, type SidecarClient } from '@oauth-sidecar/client';
import { collect, control, nextEvent, rejectsWith, SCOPES, startIdp, startSidecar, type Idp } from './support/harness.js';

let idp: Idp;
before(async () => {
  idp = await startIdp();
});
after(() => idp?.close());

async function nativeClient(client: SidecarClient): Promise<string> {
  return (await client.createClient({ issuer: idp.issuer, clientId: 'native-app', scopes: SCOPES, storage: 'memory' })).clientHandle;
}

test('onPromptRedirect: declared in initialize; the pasted address signs in (method "paste"); a wrong state is asked again with -32002', async (t) => {
  const sidecar = await startSidecar(t);
  const { client, tap } = sidecar;
  const asked: { error?: { code: number; message: string } | null; flowId: string }[] = [];
  client.onPromptRedirect(async ({ flowId, authUri, redirectUri, message, error }) => {
    asked.push({ flowId, error });
    assert.ok(message.includes(redirectUri));
    // The user signs in on another machine; the browser ends on the redirect address, which does not load there.
    const { callbackUrl } = await control(idp, '/authorize', { url: authUri, login: 'alice', deliver: false });
    if (asked.length === 1) {
      const forged = new URL(callbackUrl);
      forged.searchParams.set('state', 'state-of-another-sign-in');
      return { url: forged.href };
    }
    return { url: callbackUrl };
  });
  const init = await client.initialize({ clientInfo: { name: 'node-client-tests' } });
  assert.equal(tap.sent('initialize')[0].params.capabilities.promptRedirect, true);
  assert.equal(typeof init.capabilities.environment.canOpenBrowser, 'boolean');
  const clientHandle = await nativeClient(client);
  const urls = collect(client.onAuthorizationUrl);

  const tokens = await client.getCredentials({ clientHandle, interactive: 'paste' });
  assert.equal(tokens.method, 'paste');
  assert.equal(tokens.account, 'alice');
  assert.equal(asked.length, 2);
  assert.equal(asked[0].error ?? null, null);
  assert.equal(asked[1].error?.code, ErrorCodes.StateMismatch);
  assert.equal(asked[1].flowId, asked[0].flowId);
  assert.deepEqual(urls.map((u) => u.flowId), [asked[0].flowId]);
  await sidecar.close();
});

test('without onPromptRedirect, interactive "paste" is -32008 naming capabilities.promptRedirect', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  await client.initialize({ clientInfo: { name: 'node-client-tests' } });
  const clientHandle = await nativeClient(client);
  const err = await rejectsWith(client.getCredentials({ clientHandle, interactive: 'paste' }), ErrorCodes.InteractionRequired);
  assert.match(err.message, /capabilities\.promptRedirect/);
  await sidecar.close();
});

test('auto on a machine without a desktop session signs in by the device flow; authorizationUrl carries the verification address', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const init = await client.initialize({ clientInfo: { name: 'node-client-tests' } });
  if (init.capabilities.environment.canOpenBrowser) {
    t.skip('this machine can open a browser (a desktop session): auto would choose it');
    await sidecar.close();
    return;
  }
  const clientHandle = await nativeClient(client);
  const url = nextEvent(client.onAuthorizationUrl);
  const code = nextEvent(client.onDeviceCode);
  const credentials = client.getCredentials({ clientHandle });
  const { userCode } = await code;
  assert.ok((await url).message.includes(userCode));
  await control(idp, '/device', { userCode, login: 'alice' });
  assert.equal((await credentials).method, 'device');
  await sidecar.close();
});

test('parseChallenge reads a step-up challenge, and getCredentials with it returns a token of an mfa sign-in', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const opened: string[] = [];
  client.onShowDocument(async ({ uri }) => {
    opened.push(uri);
    void control(idp, '/authorize', { url: uri, login: 'alice' });
    return { success: true };
  });
  await client.initialize({ clientInfo: { name: 'node-client-tests' } });
  const clientHandle = await nativeClient(client);
  const first = await client.getCredentials({ clientHandle, interactive: 'browser' });
  assert.equal((first.idTokenClaims as { acr?: string }).acr, 'urn:sidecar:acr:password');

  const challenge = await client.parseChallenge({
    wwwAuthenticate: 'Bearer error="insufficient_user_authentication", error_description="MFA needed", acr_values="urn:sidecar:acr:mfa", max_age="600"',
  });
  assert.equal(challenge.scheme, 'Bearer');
  assert.equal(challenge.error, 'insufficient_user_authentication');
  assert.deepEqual(challenge.acrValues, ['urn:sidecar:acr:mfa']);
  assert.equal(challenge.maxAge, 600);

  const stepped = await client.getCredentials({ clientHandle, acrValues: challenge.acrValues, maxAge: challenge.maxAge });
  assert.equal((stepped.idTokenClaims as { acr?: string }).acr, 'urn:sidecar:acr:mfa');
  assert.equal(new URL(opened[1]).searchParams.get('acr_values'), 'urn:sidecar:acr:mfa');
  await rejectsWith(client.parseChallenge({ wwwAuthenticate: 'Bearer error="unterminated' }), ErrorCodes.InvalidParams);
  await sidecar.close();
});
