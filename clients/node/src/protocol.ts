/**
 * The sidecar's protocol, typed: one request or notification type per method of
 * schema/oauth-sidecar.openrpc.json (the source of truth), in vscode-jsonrpc's style, with the
 * interfaces of their params and results, the error codes and the list of method names.
 *
 * The interfaces follow the schema exactly: a property the schema does not require is optional
 * (`?`), and one whose schema allows null is `| null`. Where the schema says `string` but the
 * sidecar accepts a closed set of values (and answers anything else with -32602), the *params*
 * use a union of those values (Interactive, StorageBackend, ...), so a typo fails to compile.
 * Results and notifications keep `string`: the sidecar may add values there.
 *
 * test/protocol.test.ts compares this file with the schema through the TypeScript compiler API,
 * so any drift (a method, a property, optionality, nullability, a type) fails the tests.
 */
import {
  NotificationType,
  NotificationType0,
  ParameterStructures,
  RequestType,
  RequestType0,
} from 'vscode-jsonrpc';

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** Names of the credential stores (`--storage`, `initialize.storage`, `createClient.storage`). */
export type StorageBackend = 'keyring' | 'file' | 'memory';

/** How `getCredentials` signs in when nothing usable is stored. */
export type Interactive = 'browser' | 'device' | 'none';

/** How the client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** How the authorization server delivers the response to the loopback server. */
export type ResponseMode = 'query' | 'form_post';

/** The scheme of a standalone callback server. */
export type CallbackScheme = 'https' | 'http';

/** When `createClient` pushes authorization requests first (RFC 9126); default `auto`. */
export type ParMode = 'auto' | 'always' | 'never';

/**
 * `createClient`'s DPoP (RFC 9449): `true`, or `{ alg }` (ES256, ES384, ES512, RS256 or PS256; EdDSA is
 * refused). Tokens are then bound to keys the sidecar holds and never hands out.
 */
export type DpopSetting = boolean | { alg?: string | null };

/** The RFC 7521 grants of `obtainTokenByAssertion`. */
export type AssertionGrantType =
  | 'urn:ietf:params:oauth:grant-type:jwt-bearer'
  | 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** Explicit endpoints (instead of, or as the result of, discovery). */
export interface ServerConfiguration {
  issuer?: string | null;
  authorizationEndpoint?: string | null;
  tokenEndpoint: string;
  deviceAuthorizationEndpoint?: string | null;
  revocationEndpoint?: string | null;
  jwksUri?: string | null;
  introspectionEndpoint?: string | null;
  authorizationResponseIssParameterSupported?: boolean | null;
  /** RFC 9126 §5. */
  pushedAuthorizationRequestEndpoint?: string | null;
  requirePushedAuthorizationRequests?: boolean | null;
  /** RFC 9449 §5.1. */
  dpopSigningAlgValuesSupported?: string[] | null;
}

/** The success and error pages of a loopback server: files or HTML strings. */
export interface CallbackPages {
  successHtmlPath?: string | null;
  errorHtmlPath?: string | null;
  successHtml?: string | null;
  errorHtml?: string | null;
}

/** TLS of a loopback server: a PEM pair, or `adhoc: true` for an in-memory certificate. */
export interface CallbackTls {
  certFile?: string | null;
  keyFile?: string | null;
  adhoc?: boolean | null;
}

/** Options of the loopback server that an authorization code flow starts. */
export interface CallbackOptions {
  tls?: CallbackTls | null;
  timeoutSeconds?: number | null;
  allowNonLoopback?: boolean | null;
}

/** What a loopback server received (callback.py's shape). */
export interface CallbackResult {
  params: { [name: string]: string };
  /** `GET` or `POST`. */
  method: string;
  path: string;
  /** Unix seconds. */
  receivedAt: number;
}

/** The result of every grant (`TokenResult` in docs/PROTOCOL.md). Times are Unix seconds. */
export interface TokenResult {
  accessToken: string;
  tokenType: string;
  expiresIn?: number | null;
  expiresAt?: number | null;
  refreshToken?: string | null;
  idToken?: string | null;
  /** The id_token's claims (any JSON in the schema; an object in practice). */
  idTokenClaims?: unknown;
  scopes: string[];
  /** The token endpoint's answer as received (RFC spelling; any JSON in the schema). */
  raw: unknown;
  account?: string | null;
  /** With `tokenType` `DPoP`: the thumbprint of the key the tokens are bound to (RFC 9449); see createDpopProof. */
  jkt?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

export interface InitializeParams {
  clientInfo?: { name: string; version?: string | null } | null;
  /** `showDocument: true`: the caller answers `window/showDocument` (SidecarClient sets it when a handler is registered). */
  capabilities?: { showDocument?: boolean | null } | null;
  /** The process's default credential store. */
  storage?: StorageBackend | null;
}

export interface InitializeResult {
  serverInfo: { name: string; version: string };
  protocolVersion: string;
  capabilities: {
    grantTypes: string[];
    callbackSchemes: string[];
    storage: string[];
  };
}

export namespace InitializeRequest {
  export const method = 'initialize';
  export const type = new RequestType<InitializeParams, InitializeResult, void>(method, ParameterStructures.byName);
}

export namespace InitializedNotification {
  export const method = 'initialized';
  export const type = new NotificationType0(method);
}

export namespace ShutdownRequest {
  export const method = 'shutdown';
  export const type = new RequestType0<null, void>(method);
}

export namespace ExitNotification {
  export const method = 'exit';
  export const type = new NotificationType0(method);
}

export interface CancelParams {
  /** The id of the request to cancel (any JSON in the schema; a JSON-RPC id in practice). */
  id: unknown;
}

/** Sent by vscode-jsonrpc itself when a request's CancellationToken (AbortSignal) fires. */
export namespace CancelRequestNotification {
  export const method = '$/cancelRequest';
  export const type = new NotificationType<CancelParams>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Clients

export interface CreateClientParams {
  /** Discovery; or give `serverConfiguration`. */
  issuer?: string | null;
  serverConfiguration?: ServerConfiguration | null;
  clientId: string;
  clientSecret?: string | null;
  clientAssertion?: string | null;
  privateKey?: { pemFile?: string | null; pem?: string | null; keyId?: string | null; algorithm?: string | null } | null;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | null;
  /** Default scopes of the client's grants. */
  scopes?: readonly string[] | null;
  audience?: string | null;
  extraAuthParams?: { [name: string]: string } | null;
  extraTokenParams?: { [name: string]: string } | null;
  extraRefreshParams?: { [name: string]: string } | null;
  addAuthParamsToTokenRequest?: boolean | null;
  headers?: { [name: string]: string } | null;
  timeoutSeconds?: number | null;
  tls?: { caBundlePath?: string | null; insecureSkipVerify?: boolean | null } | null;
  pages?: CallbackPages | null;
  storage?: StorageBackend | null;
  dpop?: DpopSetting | null;
  par?: ParMode | null;
}

export interface CreateClientResult {
  clientHandle: string;
  serverConfiguration: ServerConfiguration;
}

export namespace CreateClientRequest {
  export const method = 'createClient';
  export const type = new RequestType<CreateClientParams, CreateClientResult, void>(method, ParameterStructures.byName);
}

export interface DisposeClientParams {
  clientHandle: string;
}

export namespace DisposeClientRequest {
  export const method = 'disposeClient';
  export const type = new RequestType<DisposeClientParams, null, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Authorization code flow

export interface BuildAuthRequestUriParams {
  clientHandle: string;
  responseType: string;
  redirectUri?: string | null;
  scopes?: readonly string[] | null;
  state?: string | null;
  extraParams?: { [name: string]: string } | null;
}

export interface BuildAuthRequestUriResult {
  uri: string;
}

export namespace BuildAuthRequestUriRequest {
  export const method = 'buildAuthRequestUri';
  export const type = new RequestType<BuildAuthRequestUriParams, BuildAuthRequestUriResult, void>(method, ParameterStructures.byName);
}

/** Parameters of `initiateAuthCodeFlow` and `obtainTokenByBrowser`. */
export interface InitiateAuthCodeFlowParams {
  clientHandle: string;
  scopes?: readonly string[] | null;
  /** Default `http://127.0.0.1:0/callback` (port 0: any free port). */
  redirectUri?: string | null;
  state?: string | null;
  loginHint?: string | null;
  prompt?: string | null;
  responseMode?: ResponseMode | null;
  extraParams?: { [name: string]: string } | null;
  callback?: CallbackOptions | null;
  /** Default true: `window/showDocument` to a caller that declared it, else the system browser. */
  openBrowser?: boolean | null;
}

export interface InitiateAuthCodeFlowResult {
  flowId: string;
  authUri: string;
  state: string;
  redirectUri: string;
  expiresAt: number;
  certificateSha256?: string | null;
}

export namespace InitiateAuthCodeFlowRequest {
  export const method = 'initiateAuthCodeFlow';
  export const type = new RequestType<InitiateAuthCodeFlowParams, InitiateAuthCodeFlowResult, void>(method, ParameterStructures.byName);
}

export interface WaitForCallbackParams {
  flowId: string;
  timeoutSeconds?: number | null;
}

export namespace WaitForCallbackRequest {
  export const method = 'waitForCallback';
  export const type = new RequestType<WaitForCallbackParams, CallbackResult, void>(method, ParameterStructures.byName);
}

export interface ObtainTokenByAuthCodeFlowParams {
  flowId: string;
  /** Default: what the flow's loopback server received (waiting for it if need be). */
  authResponse?: { [name: string]: string } | null;
  scopes?: readonly string[] | null;
}

export namespace ObtainTokenByAuthCodeFlowRequest {
  export const method = 'obtainTokenByAuthCodeFlow';
  export const type = new RequestType<ObtainTokenByAuthCodeFlowParams, TokenResult, void>(method, ParameterStructures.byName);
}

export interface ObtainTokenByAuthorizationCodeParams {
  clientHandle: string;
  code: string;
  redirectUri?: string | null;
  codeVerifier?: string | null;
  nonce?: string | null;
  scopes?: readonly string[] | null;
}

export namespace ObtainTokenByAuthorizationCodeRequest {
  export const method = 'obtainTokenByAuthorizationCode';
  export const type = new RequestType<ObtainTokenByAuthorizationCodeParams, TokenResult, void>(method, ParameterStructures.byName);
}

/** Same parameters as `initiateAuthCodeFlow`. */
export type ObtainTokenByBrowserParams = InitiateAuthCodeFlowParams;

export namespace ObtainTokenByBrowserRequest {
  export const method = 'obtainTokenByBrowser';
  export const type = new RequestType<ObtainTokenByBrowserParams, TokenResult, void>(method, ParameterStructures.byName);
}

/** One of `params`, `query` or `url`; `state` is checked when given. */
export interface ParseAuthResponseParams {
  params?: { [name: string]: string } | null;
  query?: string | null;
  url?: string | null;
  state?: string | null;
}

export interface ParseAuthResponseResult {
  code?: string | null;
  state?: string | null;
  iss?: string | null;
  error?: string | null;
  errorDescription?: string | null;
  errorUri?: string | null;
  params: { [name: string]: string };
}

export namespace ParseAuthResponseRequest {
  export const method = 'parseAuthResponse';
  export const type = new RequestType<ParseAuthResponseParams, ParseAuthResponseResult, void>(method, ParameterStructures.byName);
}

export interface CancelFlowParams {
  flowId: string;
}

export namespace CancelFlowRequest {
  export const method = 'cancelFlow';
  export const type = new RequestType<CancelFlowParams, null, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Device authorization grant (RFC 8628)

export interface InitiateDeviceFlowParams {
  clientHandle: string;
  scopes?: readonly string[] | null;
}

export interface InitiateDeviceFlowResult {
  flowId: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string | null;
  expiresIn: number;
  expiresAt: number;
  interval: number;
  /** A sentence to show the user. */
  message: string;
}

export namespace InitiateDeviceFlowRequest {
  export const method = 'initiateDeviceFlow';
  export const type = new RequestType<InitiateDeviceFlowParams, InitiateDeviceFlowResult, void>(method, ParameterStructures.byName);
}

export interface ObtainTokenByDeviceFlowParams {
  flowId: string;
}

export namespace ObtainTokenByDeviceFlowRequest {
  export const method = 'obtainTokenByDeviceFlow';
  export const type = new RequestType<ObtainTokenByDeviceFlowParams, TokenResult, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Other grants

export interface RefreshParams {
  clientHandle: string;
  refreshToken: string;
  scopes?: readonly string[] | null;
}

export namespace RefreshRequest {
  export const method = 'refresh';
  export const type = new RequestType<RefreshParams, TokenResult, void>(method, ParameterStructures.byName);
}

/** A DPoP proof (RFC 9449 §7) for the caller's own request, signed with the key its tokens are bound to. */
export interface CreateDpopProofParams {
  clientHandle: string;
  /** By default: the key `accessToken` is bound to, else the most recent account's, else the client's own. */
  account?: string | null;
  /** The request's method, e.g. `GET`. */
  htm: string;
  /** The request's URL (the proof's htu is it without query and fragment). */
  htu: string;
  /** The access token sent with the request (the proof then has `ath`). */
  accessToken?: string | null;
  /** The resource server's `DPoP-Nonce`, after it answered `use_dpop_nonce`. */
  nonce?: string | null;
}

export interface CreateDpopProofResult {
  /** The `DPoP` header's value; use it once. */
  proof: string;
  jkt: string;
  /** Unix seconds. */
  expiresAt: number;
}

export namespace CreateDpopProofRequest {
  export const method = 'createDpopProof';
  export const type = new RequestType<CreateDpopProofParams, CreateDpopProofResult, void>(method, ParameterStructures.byName);
}

export interface ObtainTokenForClientParams {
  clientHandle: string;
  scopes?: readonly string[] | null;
  /** RFC 8707 resource indicator. */
  resource?: string | null;
}

export namespace ObtainTokenForClientRequest {
  export const method = 'obtainTokenForClient';
  export const type = new RequestType<ObtainTokenForClientParams, TokenResult, void>(method, ParameterStructures.byName);
}

export interface ObtainTokenByUsernamePasswordParams {
  clientHandle: string;
  username: string;
  password: string;
  scopes?: readonly string[] | null;
}

export namespace ObtainTokenByUsernamePasswordRequest {
  export const method = 'obtainTokenByUsernamePassword';
  export const type = new RequestType<ObtainTokenByUsernamePasswordParams, TokenResult, void>(method, ParameterStructures.byName);
}

export interface ObtainTokenByAssertionParams {
  clientHandle: string;
  assertion: string;
  grantType: AssertionGrantType;
  scopes?: readonly string[] | null;
}

export namespace ObtainTokenByAssertionRequest {
  export const method = 'obtainTokenByAssertion';
  export const type = new RequestType<ObtainTokenByAssertionParams, TokenResult, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Credentials

export interface GetCredentialsParams {
  clientHandle: string;
  scopes?: readonly string[] | null;
  /** Default `browser`; `none` fails with -32008 when nothing usable is stored. */
  interactive?: Interactive | null;
  account?: string | null;
}

export namespace GetCredentialsRequest {
  export const method = 'getCredentials';
  export const type = new RequestType<GetCredentialsParams, TokenResult, void>(method, ParameterStructures.byName);
}

export interface ListAccountsParams {
  /** Without it: every account of the default store. */
  clientHandle?: string | null;
}

/** One signed-in account (no secrets). */
export interface AccountInfo {
  account: string;
  clientId: string;
  issuer: string;
  scopes: string[];
  expiresAt?: number | null;
  /** `preferred_username` or `email`, for display. */
  username?: string | null;
}

export namespace ListAccountsRequest {
  export const method = 'listAccounts';
  export const type = new RequestType<ListAccountsParams, AccountInfo[], void>(method, ParameterStructures.byName);
}

export interface SignOutParams {
  clientHandle: string;
  /** Without it: every account of the client. */
  account?: string | null;
}

export namespace SignOutRequest {
  export const method = 'signOut';
  export const type = new RequestType<SignOutParams, null, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Standalone callback server (callback.py)

export interface StartCallbackServerParams {
  /** Default 127.0.0.1. */
  host?: string | null;
  /** Default 8080; 0 = any free port. */
  port?: number | null;
  /** Default /callback. */
  path?: string | null;
  /** Default https. */
  scheme?: CallbackScheme | null;
  tls?: CallbackTls | null;
  pages?: CallbackPages | null;
  timeoutSeconds?: number | null;
  allowNonLoopback?: boolean | null;
}

export interface StartCallbackServerResult {
  flowId: string;
  url: string;
  certificateSha256?: string | null;
}

export namespace StartCallbackServerRequest {
  export const method = 'startCallbackServer';
  export const type = new RequestType<StartCallbackServerParams, StartCallbackServerResult, void>(method, ParameterStructures.byName);
}

export interface StopCallbackServerParams {
  flowId: string;
}

export namespace StopCallbackServerRequest {
  export const method = 'stopCallbackServer';
  export const type = new RequestType<StopCallbackServerParams, null, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Sidecar → caller

/** `callbackReceived`: `{ flowId } & CallbackResult` (carries the code). */
export interface CallbackReceivedParams extends CallbackResult {
  flowId: string;
}

export namespace CallbackReceivedNotification {
  export const method = 'callbackReceived';
  export const type = new NotificationType<CallbackReceivedParams>(method, ParameterStructures.byName);
}

export interface DeviceFlowPendingParams {
  flowId: string;
  /** The poll's number, from 1. */
  attempt: number;
  /** `authorization_pending` or `slow_down`. */
  error: string;
  nextPollSeconds: number;
}

export namespace DeviceFlowPendingNotification {
  export const method = 'deviceFlowPending';
  export const type = new NotificationType<DeviceFlowPendingParams>(method, ParameterStructures.byName);
}

/** `deviceCode`: `getCredentials` chose the device flow; show `message` to the user. */
export interface DeviceCodeParams {
  flowId: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string | null;
  message: string;
  expiresAt: number;
}

export namespace DeviceCodeNotification {
  export const method = 'deviceCode';
  export const type = new NotificationType<DeviceCodeParams>(method, ParameterStructures.byName);
}

/** `tokensObtained` (no token values). */
export interface TokensObtainedParams {
  clientHandle: string;
  flowId?: string | null;
  /** The RFC value, e.g. `authorization_code`. */
  grantType: string;
  scopes: string[];
  expiresAt?: number | null;
}

export namespace TokensObtainedNotification {
  export const method = 'tokensObtained';
  export const type = new NotificationType<TokensObtainedParams>(method, ParameterStructures.byName);
}

/** `refreshTokenUpdated` (MSAL `on_updating_rt`): carries the new refresh token. */
export interface RefreshTokenUpdatedParams {
  clientHandle: string;
  account?: string | null;
  refreshToken: string;
}

export namespace RefreshTokenUpdatedNotification {
  export const method = 'refreshTokenUpdated';
  export const type = new NotificationType<RefreshTokenUpdatedParams>(method, ParameterStructures.byName);
}

/** `refreshTokenRemoved` (MSAL `on_removing_rt`), after `invalid_grant`. */
export interface RefreshTokenRemovedParams {
  clientHandle: string;
  account?: string | null;
  reason: string;
}

export namespace RefreshTokenRemovedNotification {
  export const method = 'refreshTokenRemoved';
  export const type = new NotificationType<RefreshTokenRemovedParams>(method, ParameterStructures.byName);
}

/** LSP's MessageType: 1 error, 2 warning, 3 info, 4 log. */
export const MessageType = { Error: 1, Warning: 2, Info: 3, Log: 4 } as const;

export interface LogMessageParams {
  /** A {@link MessageType}. */
  type: number;
  message: string;
}

export namespace LogMessageNotification {
  export const method = 'window/logMessage';
  export const type = new NotificationType<LogMessageParams>(method, ParameterStructures.byName);
}

export interface ShowDocumentParams {
  uri: string;
  external?: boolean;
}

export interface ShowDocumentResult {
  success?: boolean;
}

/** LSP 3.16 `window/showDocument`: sent only to a caller that declared `capabilities.showDocument`. */
export namespace ShowDocumentRequest {
  export const method = 'window/showDocument';
  export const type = new RequestType<ShowDocumentParams, ShowDocumentResult, void>(method, ParameterStructures.byName);
}

// ---------------------------------------------------------------------------------------------
// Method names

/** Requests the caller sends. */
export const ClientRequests = [
  InitializeRequest.method,
  ShutdownRequest.method,
  CreateClientRequest.method,
  DisposeClientRequest.method,
  BuildAuthRequestUriRequest.method,
  InitiateAuthCodeFlowRequest.method,
  WaitForCallbackRequest.method,
  ObtainTokenByAuthCodeFlowRequest.method,
  ObtainTokenByAuthorizationCodeRequest.method,
  ObtainTokenByBrowserRequest.method,
  ParseAuthResponseRequest.method,
  CancelFlowRequest.method,
  InitiateDeviceFlowRequest.method,
  ObtainTokenByDeviceFlowRequest.method,
  RefreshRequest.method,
  CreateDpopProofRequest.method,
  ObtainTokenForClientRequest.method,
  ObtainTokenByUsernamePasswordRequest.method,
  ObtainTokenByAssertionRequest.method,
  GetCredentialsRequest.method,
  ListAccountsRequest.method,
  SignOutRequest.method,
  StartCallbackServerRequest.method,
  StopCallbackServerRequest.method,
] as const;

/** Notifications the caller sends. */
export const ClientNotifications = [
  InitializedNotification.method,
  ExitNotification.method,
  CancelRequestNotification.method,
] as const;

/** Notifications the sidecar sends. */
export const ServerNotifications = [
  CallbackReceivedNotification.method,
  DeviceFlowPendingNotification.method,
  DeviceCodeNotification.method,
  TokensObtainedNotification.method,
  RefreshTokenUpdatedNotification.method,
  RefreshTokenRemovedNotification.method,
  LogMessageNotification.method,
] as const;

/** Requests the sidecar sends. */
export const ServerRequests = [ShowDocumentRequest.method] as const;

/** Every method of the protocol. */
export const MethodNames = [...ClientRequests, ...ClientNotifications, ...ServerNotifications, ...ServerRequests] as const;
export type MethodName = (typeof MethodNames)[number];

// ---------------------------------------------------------------------------------------------
// Errors

/** The error codes (`components.errors` of the schema). */
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  RequestCancelled: -32800,
  Timeout: -32001,
  StateMismatch: -32002,
  OAuthError: -32003,
  UnknownHandle: -32004,
  ListenFailed: -32005,
  ServerUnreachable: -32006,
  InvalidIdToken: -32007,
  InteractionRequired: -32008,
  StorageUnavailable: -32009,
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** `data` of -32602: the parameter at fault, e.g. `clientId` or `callback.timeoutSeconds`. */
export interface InvalidParamsData {
  field: string;
}

/** `data` of -32001. */
export interface TimeoutData {
  flowId: string;
  timeoutSeconds: number;
}

/** `data` of -32002 (state, or RFC 9207 `iss`). */
export interface StateMismatchData {
  flowId?: string | null;
  reason: string;
}

/** `data` of -32003: the OAuth error as the server sent it. */
export interface OAuthErrorData {
  error: string;
  errorDescription?: string | null;
  errorUri?: string | null;
  status?: number | null;
}

/** `data` of -32004: the handle that names nothing. */
export interface UnknownHandleData {
  flowId?: string | null;
  clientHandle?: string | null;
}

/** `data` of -32005. */
export interface ListenFailedData {
  host: string;
  port: number;
  reason: string;
}

/** `data` of -32006. */
export interface ServerUnreachableData {
  url: string;
  status?: number | null;
  reason: string;
}

/** `data` of -32007. */
export interface InvalidIdTokenData {
  reason: string;
}

/** `data` of -32009. */
export interface StorageUnavailableData {
  backend: string;
  reason: string;
}

/** The `data` each error code carries (`undefined`: none). */
export interface ErrorDataByCode {
  [-32700]: undefined;
  [-32600]: undefined;
  [-32601]: undefined;
  [-32602]: InvalidParamsData;
  [-32603]: undefined;
  [-32800]: undefined;
  [-32001]: TimeoutData;
  [-32002]: StateMismatchData;
  [-32003]: OAuthErrorData;
  [-32004]: UnknownHandleData;
  [-32005]: ListenFailedData;
  [-32006]: ServerUnreachableData;
  [-32007]: InvalidIdTokenData;
  [-32008]: undefined;
  [-32009]: StorageUnavailableData;
}
