// Errors as SidecarError (code and data, validated against components.errors), and cancellation
// with an AbortSignal ($/cancelRequest → -32800).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isSidecarError, SidecarError, type CreateClientParams } from '@oauth-sidecar/client';
import { rejectsWith, sleep, startSidecar } from './support/harness.js';

test('an unknown method is -32601', async (t) => {
  const sidecar = await startSidecar(t, { unknownOnPurpose: ['noSuchMethod'] });
  const err = await rejectsWith(sidecar.client.sendRequest('noSuchMethod', { x: 1 }), ErrorCodes.MethodNotFound);
  assert.ok(err instanceof SidecarError);
  assert.ok(err instanceof Error);
  assert.equal(err.method, 'noSuchMethod');
  assert.match(err.message, /noSuchMethod/);
  await sidecar.close();
});

test('bad params are -32602 with data.field', async (t) => {
  const sidecar = await startSidecar(t);
  const { client, tap } = sidecar;

  // A required parameter missing (the cast stands for a caller without types).
  tap.allowInvalidParams('createClient');
  const missing = await rejectsWith(client.createClient({ issuer: 'http://127.0.0.1:9' } as CreateClientParams), ErrorCodes.InvalidParams);
  assert.deepEqual(missing.data, { field: 'clientId' });
  assert.ok(isSidecarError(missing, ErrorCodes.InvalidParams) && missing.data.field === 'clientId');

  // A value of the wrong type.
  tap.allowInvalidParams('waitForCallback');
  const wrongType = await rejectsWith(client.waitForCallback({ flowId: 42 as unknown as string }), ErrorCodes.InvalidParams);
  assert.deepEqual(wrongType.data, { field: 'flowId' });

  // A value out of range, inside an object.
  const server = await client.startCallbackServer({ port: 0, scheme: 'http' });
  const range = await rejectsWith(client.waitForCallback({ flowId: server.flowId, timeoutSeconds: -1 }), ErrorCodes.InvalidParams);
  assert.deepEqual(range.data, { field: 'timeoutSeconds' });
  await client.stopCallbackServer({ flowId: server.flowId });

  // A value outside a closed set (the types forbid it, the sidecar too). Explicit endpoints: no discovery.
  const { clientHandle } = await client.createClient({ clientId: 'app', serverConfiguration: { tokenEndpoint: 'http://127.0.0.1:9/token' } });
  tap.allowInvalidParams('getCredentials');
  const interactive = await rejectsWith(
    client.getCredentials({ clientHandle, interactive: 'sometimes' as 'none' }),
    ErrorCodes.InvalidParams,
  );
  assert.deepEqual(interactive.data, { field: 'interactive' });
  assert.match(interactive.message, /'auto', 'browser', 'device', 'paste' or 'none'/);

  // The tap saw the three invalid requests for what they are (and the errors matched the schema).
  assert.deepEqual(tap.expectedProblems, [
    "→ createClient: missing required param 'clientId'",
    "→ waitForCallback: param 'flowId' data must be string",
    "→ getCredentials: param 'interactive' data must be equal to one of the allowed values, data must be null, data must match exactly one schema in oneOf",
  ]);
  await sidecar.close();
});

test('an unknown flow or client is -32004 naming it', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const flow = await rejectsWith(client.waitForCallback({ flowId: 'f_unknown' }), ErrorCodes.UnknownHandle);
  assert.deepEqual(flow.data, { flowId: 'f_unknown' });
  const obtained = await rejectsWith(client.obtainTokenByAuthCodeFlow({ flowId: 'f_unknown' }), ErrorCodes.UnknownHandle);
  assert.equal(obtained.data.flowId, 'f_unknown');
  const handle = await rejectsWith(client.initiateAuthCodeFlow({ clientHandle: 'c_unknown', openBrowser: false }), ErrorCodes.UnknownHandle);
  assert.equal(handle.data.clientHandle, 'c_unknown');
  await sidecar.close();
});

test('an interactive wait that runs out is -32001 with flowId and timeoutSeconds', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const server = await client.startCallbackServer({ port: 0, scheme: 'http' });
  const err = await rejectsWith(client.waitForCallback({ flowId: server.flowId, timeoutSeconds: 0.2 }), ErrorCodes.Timeout);
  assert.deepEqual(err.data, { flowId: server.flowId, timeoutSeconds: 0.2 });
  await client.stopCallbackServer({ flowId: server.flowId });
  await sidecar.close();
});

test('aborting waitForCallback sends $/cancelRequest and fails with -32800; the flow lives on', async (t) => {
  const sidecar = await startSidecar(t);
  const { client, tap } = sidecar;
  const server = await client.startCallbackServer({ port: 0, scheme: 'http' });

  const controller = new AbortController();
  const waiting = client.waitForCallback({ flowId: server.flowId }, { signal: controller.signal });
  await sleep(200); // the request is out and waiting
  controller.abort();
  const err = await rejectsWith(waiting, ErrorCodes.RequestCancelled);
  assert.equal(err.method, 'waitForCallback');
  const [request] = tap.sent('waitForCallback');
  assert.deepEqual(tap.sent('$/cancelRequest').map((m) => m.params), [{ id: request.id }]);

  // Cancelling the wait does not end the flow: a later callback is still received.
  const again = client.waitForCallback({ flowId: server.flowId, timeoutSeconds: 20 });
  const reply = await fetch(`${server.url}?code=the-code&state=xyz`, { headers: { accept: 'application/json' } });
  assert.equal(reply.status, 200);
  const callback = await again;
  assert.deepEqual(callback.params, { code: 'the-code', state: 'xyz' });
  assert.equal(callback.method, 'GET');
  assert.equal(callback.path, new URL(server.url).pathname);
  await client.stopCallbackServer({ flowId: server.flowId });
  await sidecar.close();
});

test('a signal aborted before the call fails at once with -32800 and sends nothing', async (t) => {
  const sidecar = await startSidecar(t);
  const controller = new AbortController();
  controller.abort(new Error('the user closed the window'));
  const err = await rejectsWith(sidecar.client.listAccounts({}, { signal: controller.signal }), ErrorCodes.RequestCancelled);
  assert.equal((err.cause as Error).message, 'the user closed the window');
  assert.equal(sidecar.tap.sent('listAccounts').length, 0);
  // A signal that never fires changes nothing.
  assert.deepEqual(await sidecar.client.listAccounts({}, { signal: new AbortController().signal }), []);
  await sidecar.close();
});
