// protocol.ts against schema/oauth-sidecar.openrpc.json: no method, property, optionality,
// nullability or type may drift. The check reads the TypeScript types with the compiler API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as client from '@oauth-sidecar/client';
import { ParameterStructures } from 'vscode-jsonrpc';
import { checkProtocol } from './support/drift.js';
import { loadOpenRpc, OpenRpcValidators, SchemaTap, type OpenRpcDocument } from './support/schema.js';

// Where the params are narrower than the schema's `string`: closed sets the sidecar checks
// (-32602 otherwise). Adding one is a decision, so it is listed here.
const NARROWED = [
  'createClient.params.par',
  'createClient.params.storage',
  'createClient.params.tokenEndpointAuthMethod',
  'getCredentials.params.interactive',
  'initialize.params.storage',
  'initiateAuthCodeFlow.params.responseMode',
  'obtainTokenByAssertion.params.grantType',
  'obtainTokenByBrowser.params.responseMode',
  'startCallbackServer.params.scheme',
];

test('every method, param and result type of protocol.ts matches the schema', () => {
  const report = checkProtocol(loadOpenRpc());
  assert.deepEqual(report.problems, []);
  assert.deepEqual([...report.narrowed].sort(), NARROWED);
});

test('the check fails on drift (a mutated schema)', () => {
  const doc: OpenRpcDocument = structuredClone(loadOpenRpc());
  const method = (name: string) => doc.methods.find((m) => m.name === name)!;
  method('createClient').params.find((p) => p.name === 'clientId')!.required = false;
  method('signOut').params.push({ name: 'everywhere', required: false, schema: { type: ['boolean', 'null'] } });
  (method('waitForCallback').result!.schema as any).properties.receivedAt = { type: 'string' };
  (method('refresh').result!.schema as any).properties.refreshToken = { type: 'string' };
  (method('listAccounts').result!.schema as any).items.required.push('username');
  doc.methods.push({ name: 'newMethod', params: [], result: { name: 'newMethodResult', schema: { type: 'null' } } });
  doc.methods = doc.methods.filter((m) => m.name !== 'cancelFlow');
  delete (doc.components.errors.Timeout as any).data.properties.timeoutSeconds;
  const dpop = method('createClient').params.find((p) => p.name === 'dpop')!.schema as any;
  dpop.anyOf = dpop.anyOf.filter((branch: any) => branch.type !== 'boolean');

  const { problems } = checkProtocol(doc);
  const expected = [
    'createClient.params.clientId: optional in the schema, required in the type',
    'signOut.params.everywhere: in the schema, missing in the type',
    'waitForCallback.result.receivedAt: the schema says string, the type is number',
    'refresh.result.refreshToken: the type allows null, the schema does not (string | null | undefined)',
    'listAccounts.result[].username: required in the schema, optional in the type',
    'newMethod: no typed request or notification in protocol.ts',
    'cancelFlow: CancelFlowRequest in protocol.ts, not in the schema',
    'errors.Timeout.data.timeoutSeconds: in the type, not in the schema',
    'createClient.params.dpop: false in the type matches no branch of the schema\'s anyOf',
    'createClient.params.dpop: true in the type matches no branch of the schema\'s anyOf',
  ];
  for (const text of expected) assert.ok(problems.includes(text), `expected "${text}" among:\n  ${problems.join('\n  ')}`);
  assert.equal(problems.length, expected.length, problems.join('\n'));
});

test('the method name lists follow the schema (direction, notification or request)', () => {
  const doc = loadOpenRpc();
  const names = (pick: (m: OpenRpcDocument['methods'][number]) => boolean) => doc.methods.filter(pick).map((m) => m.name).sort();
  const fromServer = (m: OpenRpcDocument['methods'][number]) => m['x-direction'] === 'server-to-client';
  const notification = (m: OpenRpcDocument['methods'][number]) => m['x-notification'] === true;
  assert.deepEqual([...client.ClientRequests].sort(), names((m) => !fromServer(m) && !notification(m)));
  assert.deepEqual([...client.ClientNotifications].sort(), names((m) => !fromServer(m) && notification(m)));
  assert.deepEqual([...client.ServerNotifications].sort(), names((m) => fromServer(m) && notification(m)));
  assert.deepEqual([...client.ServerRequests].sort(), names((m) => fromServer(m) && !notification(m)));
  assert.deepEqual([...client.MethodNames].sort(), doc.methods.map((m) => m.name).sort());
});

test('every typed request and notification sends its params by name', () => {
  const doc = loadOpenRpc();
  const namespaces = Object.values(client).filter((v): v is any => typeof v === 'object' && v !== null && 'method' in v && 'type' in v);
  assert.equal(namespaces.length, doc.methods.length);
  for (const ns of namespaces) {
    const method = doc.methods.find((m) => m.name === ns.method)!;
    assert.equal(ns.type.method, ns.method);
    if (method.params.length) assert.equal(ns.type.parameterStructures, ParameterStructures.byName, ns.method);
    else assert.equal(ns.type.numberOfParams, 0, ns.method);
  }
});

test('ErrorCodes are the codes of components.errors', () => {
  const { errors } = loadOpenRpc().components;
  assert.deepEqual(client.ErrorCodes, Object.fromEntries(Object.entries(errors).map(([name, e]) => [name, e.code])));
  assert.equal(client.ErrorCodes.InvalidParams, -32602);
});

test('the schema tap compiles every schema and rejects what the schema forbids', () => {
  const v = new OpenRpcValidators(); // Ajv2020, strict: every params, result and error data schema compiles
  const tap = new SchemaTap(v);
  const receive = (message: object) => tap.observe('receive', message as any);
  const send = (message: object) => tap.observe('send', message as any);

  receive({ jsonrpc: '2.0', method: 'deviceFlowPending', params: { flowId: 'f_1', attempt: '1', error: 'slow_down', nextPollSeconds: 6 } });
  receive({ jsonrpc: '2.0', method: 'tokensObtained', params: { clientHandle: 'c_1', grantType: 'password', scopes: [], accessToken: 'leak' } });
  send({ jsonrpc: '2.0', method: 'callbackReceived', params: {} });
  send({ jsonrpc: '2.0', id: 1, method: 'refresh', params: [{ clientHandle: 'c_1', refreshToken: 'r' }] });
  receive({ jsonrpc: '2.0', id: 1, error: { code: -32004, message: 'No client.', data: { clientHandle: 'c_1', extra: true } } });
  send({ jsonrpc: '2.0', id: 2, method: 'waitForCallback', params: { flowId: 'f_1' } });
  receive({ jsonrpc: '2.0', id: 2, error: { code: -32008, message: 'Interaction required.' } });
  send({ jsonrpc: '2.0', id: 3, method: 'listAccounts', params: {} });
  receive({ jsonrpc: '2.0', id: 3, result: [{ account: 'alice', clientId: 'app', issuer: 'https://idp', scopes: ['openid'], expiresAt: 1.5 }] });
  send({ jsonrpc: '2.0', id: 4, method: 'shutdown' });
  receive({ jsonrpc: '2.0', id: 4, result: null });

  assert.deepEqual(tap.problems, [
    "← deviceFlowPending: param 'attempt' data must be integer",
    "← tokensObtained: unknown param 'accessToken'",
    '→ callbackReceived: goes the wrong way',
    "→ callbackReceived: missing required param 'flowId'",
    "→ callbackReceived: missing required param 'params'",
    "→ callbackReceived: missing required param 'method'",
    "→ callbackReceived: missing required param 'path'",
    "→ callbackReceived: missing required param 'receivedAt'",
    '→ refresh: params must be an object (by-name), got [{"clientHandle":"c_1","refreshToken":"r"}]',
    '← refresh: data of UnknownHandle data must NOT have additional properties',
    '← waitForCallback: error -32008 (InteractionRequired) is not listed in the method\'s errors',
    '← listAccounts: result data/0/expiresAt must be integer,null',
  ]);
});
