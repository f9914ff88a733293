// The public API, shared by the ESM entry (index.ts) and the CommonJS entry (index.cts).
export * from './protocol.js';
export { SidecarClient, type CallOptions, type PromptRedirectHandler, type ShowDocumentHandler, type SidecarClientOptions, type SidecarProcess } from './client.js';
export { SidecarError, isSidecarError } from './errors.js';
export { findSidecar, platformPackageName, spawnSidecar, type FindSidecarOptions, type SidecarLocation, type SpawnSidecarOptions } from './spawn.js';
export { CancellationTokenSource, Disposable, type CancellationToken, type Event, type Message, type MessageConnection } from 'vscode-jsonrpc';
