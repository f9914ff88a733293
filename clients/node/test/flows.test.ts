// Sign-ins against the real test provider (tests/idp), with the events they send. Every message
// is validated against the schema (SchemaTap) and checked at the end of each test (close()).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCodes, type SidecarClient } from '@oauth-sidecar/client';
import { collect, control, nextEvent, rejectsWith, SCOPES, startIdp, startSidecar, type Idp } from './support/harness.js';

let idp: Idp;
before(async () => {
  idp = await startIdp();
});
after(() => idp?.close());

async function register(client: SidecarClient): Promise<string> {
  await client.initialize({ clientInfo: { name: 'node-client-tests' } });
  const created = await client.createClient({ issuer: idp.issuer, clientId: 'native-app', scopes: SCOPES, storage: 'memory' });
  assert.equal(created.serverConfiguration.issuer, idp.issuer);
  assert.equal(created.serverConfiguration.tokenEndpoint, `${idp.issuer}/token`);
  return created.clientHandle;
}

test('authorization code flow: initiate, the user signs in, obtain; callbackReceived and tokensObtained', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const clientHandle = await register(client);
  const callbacks = collect(client.onCallbackReceived);
  const obtained = collect(client.onTokensObtained);

  const flow = await client.initiateAuthCodeFlow({ clientHandle, openBrowser: false });
  assert.match(flow.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const authUri = new URL(flow.authUri);
  assert.equal(authUri.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authUri.searchParams.get('state'), flow.state);

  const pending = client.obtainTokenByAuthCodeFlow({ flowId: flow.flowId });
  await control(idp, '/authorize', { url: flow.authUri, login: 'alice' });
  const tokens = await pending;

  assert.equal(tokens.tokenType, 'Bearer');
  assert.equal(tokens.account, 'alice');
  assert.ok(tokens.accessToken && tokens.refreshToken && tokens.idToken);
  assert.deepEqual([...tokens.scopes].sort(), [...SCOPES].sort());
  assert.equal((tokens.idTokenClaims as { sub?: string }).sub, 'alice');

  assert.equal(callbacks.length, 1);
  assert.equal(callbacks[0].flowId, flow.flowId);
  assert.equal(callbacks[0].params.state, flow.state);
  assert.ok(callbacks[0].params.code);
  assert.equal(callbacks[0].path, '/callback');
  assert.deepEqual(obtained.map((o) => [o.clientHandle, o.flowId, o.grantType]), [[clientHandle, flow.flowId, 'authorization_code']]);

  // A flow is redeemed once.
  await rejectsWith(client.obtainTokenByAuthCodeFlow({ flowId: flow.flowId }), ErrorCodes.UnknownHandle);
  await sidecar.close();
});

test('device flow: deviceFlowPending while the user has not approved, then tokens; refresh rotates (refreshTokenUpdated)', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const clientHandle = await register(client);
  const pendingEvents = collect(client.onDeviceFlowPending);

  const device = await client.initiateDeviceFlow({ clientHandle });
  assert.equal(device.interval, 1);
  assert.match(device.message, new RegExp(device.userCode));
  const tokensPromise = client.obtainTokenByDeviceFlow({ flowId: device.flowId });
  const firstPending = await nextEvent(client.onDeviceFlowPending, (e) => e.flowId === device.flowId);
  assert.equal(firstPending.attempt, 1);
  assert.equal(firstPending.error, 'authorization_pending');
  assert.ok(firstPending.nextPollSeconds >= 1);
  assert.deepEqual(await control(idp, '/device', { userCode: device.userCode, login: 'alice' }), { ok: true });
  const tokens = await tokensPromise;
  assert.equal(tokens.account, 'alice');
  assert.ok(pendingEvents.length >= 1);
  assert.deepEqual(pendingEvents.map((e) => e.attempt), pendingEvents.map((_, i) => i + 1));

  // Refresh: the provider rotates refresh tokens, the sidecar says so.
  const updated = nextEvent(client.onRefreshTokenUpdated);
  const refreshed = await client.refresh({ clientHandle, refreshToken: tokens.refreshToken! });
  const update = await updated;
  assert.ok(refreshed.refreshToken && refreshed.refreshToken !== tokens.refreshToken);
  assert.notEqual(refreshed.accessToken, tokens.accessToken);
  assert.equal(update.clientHandle, clientHandle);
  assert.equal(update.refreshToken, refreshed.refreshToken);

  // The old refresh token is spent: an OAuth error (-32003) with the server's error.
  const spent = await rejectsWith(client.refresh({ clientHandle, refreshToken: tokens.refreshToken! }), ErrorCodes.OAuthError);
  assert.equal(spent.data.error, 'invalid_grant');
  await sidecar.close();
});

test('getCredentials (memory store): window/showDocument answered by playing the user; cached; listAccounts; signOut', async (t) => {
  const sidecar = await startSidecar(t);
  const { client, tap } = sidecar;
  const shown: string[] = [];
  const signIns: Promise<unknown>[] = [];
  // Registered before initialize, so initialize declares capabilities.showDocument.
  client.onShowDocument(({ uri, external }) => {
    assert.equal(external, true);
    shown.push(uri);
    signIns.push(control(idp, '/authorize', { url: uri, login: 'alice' })); // "the browser"
    return { success: true };
  });
  const clientHandle = await register(client);
  assert.equal(tap.sent('initialize')[0].params.capabilities.showDocument, true);

  // Nothing stored yet: interactive 'none' is -32008.
  await rejectsWith(client.getCredentials({ clientHandle, interactive: 'none' }), ErrorCodes.InteractionRequired);

  const first = await client.getCredentials({ clientHandle, interactive: 'browser' });
  await Promise.all(signIns);
  assert.equal(shown.length, 1);
  assert.equal(new URL(shown[0]).origin, idp.issuer);
  assert.equal(first.account, 'alice');
  assert.equal(tap.received('window/showDocument').length, 1);

  // Stored now: no browser, the same token.
  const second = await client.getCredentials({ clientHandle, interactive: 'none' });
  assert.equal(second.accessToken, first.accessToken);
  assert.equal(shown.length, 1);

  const accounts = await client.listAccounts({ clientHandle });
  assert.equal(accounts.length, 1);
  assert.equal(accounts[0].account, 'alice');
  assert.equal(accounts[0].username, 'alice');
  assert.equal(accounts[0].clientId, 'native-app');
  assert.equal(accounts[0].issuer, idp.issuer);

  assert.equal(await client.signOut({ clientHandle, account: 'alice' }), null);
  assert.deepEqual(await client.listAccounts({ clientHandle }), []);
  await rejectsWith(client.getCredentials({ clientHandle, interactive: 'none' }), ErrorCodes.InteractionRequired);
  await sidecar.close();
});

test('getCredentials with interactive "device" sends deviceCode', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const clientHandle = await register(client);
  const code = nextEvent(client.onDeviceCode);
  const credentials = client.getCredentials({ clientHandle, interactive: 'device' });
  const { userCode, message, verificationUri } = await code;
  assert.match(message, new RegExp(userCode));
  assert.ok(verificationUri.startsWith(idp.issuer));
  await control(idp, '/device', { userCode, login: 'bob' });
  assert.equal((await credentials).account, 'bob');
  await sidecar.close();
});

test('a user who denies consent: the callback arrives, obtaining is -32003 access_denied', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const clientHandle = await register(client);
  const flow = await client.initiateAuthCodeFlow({ clientHandle, openBrowser: false, responseMode: 'form_post' });
  await control(idp, '/authorize', { url: flow.authUri, deny: true });
  const callback = await client.waitForCallback({ flowId: flow.flowId, timeoutSeconds: 20 });
  assert.equal(callback.method, 'POST');
  assert.equal(callback.params.error, 'access_denied');
  const err = await rejectsWith(client.obtainTokenByAuthCodeFlow({ flowId: flow.flowId }), ErrorCodes.OAuthError);
  assert.equal(err.data.error, 'access_denied');
  await sidecar.close();
});
