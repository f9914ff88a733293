// protocol.ts is generated from schema/oauth-sidecar.openrpc.json by scripts/gen-clients.mjs (as are the
// Python client's types): these tests check that the committed output is what the schema generates, that the
// generator follows the schema, and what the typed requests, method lists and error codes say.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as client from '@oauth-sidecar/client';
import { ParameterStructures } from 'vscode-jsonrpc';
import { REPO } from './support/paths.js';
import { loadOpenRpc, OpenRpcValidators, SchemaTap, type OpenRpcDocument } from './support/schema.js';

interface Generator {
  generate(doc: unknown): { path: string; text: string }[];
  staleFiles(doc?: unknown): string[];
}

const generator = (): Promise<Generator> => import(pathToFileURL(join(REPO, 'scripts', 'gen-clients.mjs')).href);

test('protocol.ts and the other generated files are what the schema generates', async () => {
  const { staleFiles } = await generator();
  assert.deepEqual(staleFiles(), [], 'run `node scripts/gen-clients.mjs` (or `npm run schema`) and commit the result');
});

test('the generated types follow the schema (a changed schema changes them)', async () => {
  const { generate, staleFiles } = await generator();
  const doc: any = structuredClone(loadOpenRpc());
  doc.components.schemas.TokenResult.properties.dpopNonce = { oneOf: [{ type: 'string' }, { type: 'null' }] };
  doc.components.schemas.InteractionMode.enum.push('kiosk');
  doc.methods.find((m: any) => m.name === 'signOut').params.push({ name: 'everywhere', required: false, schema: { type: 'boolean' } });
  doc.components.errors.RateLimited = { code: -32010, message: 'Slow down.' };

  const files = new Map(generate(doc).map((f) => [f.path, f.text]));
  const ts = files.get('clients/node/src/protocol.ts')!;
  assert.match(ts, /export interface TokenResult \{[^}]*\n {2}dpopNonce\?: string \| null;\n\}/);
  assert.match(ts, /export type InteractionMode = 'auto' \| 'browser' \| 'device' \| 'paste' \| 'none' \| 'kiosk';/);
  assert.match(ts, /export interface SignOutParams \{[^}]*\n {2}everywhere\?: boolean;\n\}/);
  assert.match(ts, /RateLimited: -32010,/);
  const py = files.get('clients/python/oauth_sidecar/_types.py')!;
  assert.match(py, /\n {4}dpop_nonce: Optional\[str\] = None\n/);
  assert.match(py, /InteractionMode = Literal\["auto", "browser", "device", "paste", "none", "kiosk"\]/);
  assert.match(files.get('clients/python/oauth_sidecar/_error_codes.py')!, /class RateLimitedError\(_ProtocolError\):/);
  assert.match(files.get('docs/PROTOCOL.md')!, /\| -32010 \| RateLimited \| Slow down\. \|/);
  assert.deepEqual(staleFiles(doc).sort(), [
    'clients/node/src/protocol.ts',
    'clients/python/README.md',
    'clients/python/oauth_sidecar/_error_codes.py',
    'clients/python/oauth_sidecar/_types.py',
    'docs/PROTOCOL.md',
  ]);
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
  send({ jsonrpc: '2.0', id: 5, method: 'getCredentials', params: { clientHandle: 'c_1', interactive: 'Browser' } });
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
    '← listAccounts: result data/0/expiresAt must be integer, data/0/expiresAt must be null, data/0/expiresAt must match exactly one schema in oneOf',
    "→ getCredentials: param 'interactive' data must be equal to one of the allowed values, data must be null, data must match exactly one schema in oneOf",
  ]);
});
