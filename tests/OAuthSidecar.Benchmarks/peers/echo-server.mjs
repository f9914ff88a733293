// The Node peer of the benchmarks: a vscode-jsonrpc server on stdio (LSP framing) that answers `initialize` and a
// `parseAuthResponse` that does what the sidecar's does with a params object — the same trivial work.
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js';

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
connection.onRequest('initialize', () => ({ serverInfo: { name: 'node-peer', version: '1' }, protocolVersion: '1', capabilities: {} }));
connection.onRequest('parseAuthResponse', (params) => {
  const values = params.params ?? Object.fromEntries(new URLSearchParams(params.query ?? ''));
  return { code: values.code, state: values.state, params: values };
});
connection.onRequest('shutdown', () => null);
connection.onNotification('exit', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
connection.listen();
