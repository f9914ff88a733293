import {
  CancellationTokenSource,
  Emitter,
  ParameterStructures,
  ResponseError,
  type CancellationToken,
  type Disposable,
  type Event,
  type MessageConnection,
  type NotificationType,
  type RequestType,
} from 'vscode-jsonrpc';
import type { ChildProcess } from 'node:child_process';
import { cancelledError, toSidecarError } from './errors.js';
import * as P from './protocol.js';
import type { SidecarLocation } from './spawn.js';

/** Options of every call. */
export interface CallOptions {
  /** Aborting it sends `$/cancelRequest`; the call then fails with SidecarError -32800. */
  signal?: AbortSignal;
}

/** Answers `window/showDocument`: open `params.uri` in the browser and say whether that worked. */
export type ShowDocumentHandler = (
  params: P.ShowDocumentParams,
  token: CancellationToken,
) => P.ShowDocumentResult | Promise<P.ShowDocumentResult>;

/**
 * Answers `auth/promptRedirect`: show `params.message` (with `params.authUri` to open on any machine)
 * and ask the user for the address the browser ended on; resolve `{ url }`, or `undefined` to
 * decline. When `params.error` is set, the previous answer was refused (wrong `state`/`iss`: -32002;
 * not a redirect address: -32602) and the same sign-in is still open: show it and ask again. The
 * token is cancelled when the sign-in completed another way (the loopback server received the
 * redirect first) or ended.
 */
export type PromptRedirectHandler = (
  params: P.PromptRedirectParams,
  token: CancellationToken,
) => P.PromptRedirectResult | undefined | Promise<P.PromptRedirectResult | undefined>;

/** The process behind a client made by spawnSidecar(). */
export interface SidecarProcess {
  readonly child: ChildProcess;
  /** What was started (see findSidecar). */
  readonly location: SidecarLocation;
  /** The command-line arguments. */
  readonly args: readonly string[];
  /** The last 64 KiB the sidecar wrote to stderr (its log), with `stderr: 'pipe'`. */
  readonly stderr: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What SidecarClient needs besides the connection (spawnSidecar fills it in). */
export interface SidecarClientOptions {
  /** The sidecar's process, exposed as `client.process`. */
  process?: SidecarProcess;
  /** Runs last in dispose(), after shutdown and exit: e.g. wait for the process to end. */
  onDispose?: () => void | Promise<void>;
}

/**
 * A typed client of the sidecar over a vscode-jsonrpc MessageConnection: one async method per
 * request, one event per notification. Errors are {@link SidecarError}s. Get one from
 * `spawnSidecar()`, or wrap a connection that is not listening yet (the constructor listens).
 */
export class SidecarClient {
  private readonly emitters: Emitter<any>[] = [];
  private showDocumentHandler: ShowDocumentHandler | undefined;
  private promptRedirectHandler: PromptRedirectHandler | undefined;
  private closedFlag = false;
  private readonly closeEmitter = new Emitter<void>();
  private disposing: Promise<void> | undefined;

  /** The loopback server received a flow's authorization response (carries the code). */
  readonly onCallbackReceived: Event<P.CallbackReceivedParams>;
  /** A device flow poll answered `authorization_pending` or `slow_down`. */
  readonly onDeviceFlowPending: Event<P.DeviceFlowPendingParams>;
  /** `getCredentials` chose the device flow: show the user code. */
  readonly onDeviceCode: Event<P.DeviceCodeParams>;
  /** An interactive sign-in waits on the user: the address to open and a sentence to show (every interactive flow). */
  readonly onAuthorizationUrl: Event<P.AuthorizationUrlParams>;
  /** Tokens were obtained (no token values). */
  readonly onTokensObtained: Event<P.TokensObtainedParams>;
  /** The server rotated a refresh token; carries the new one. */
  readonly onRefreshTokenUpdated: Event<P.RefreshTokenUpdatedParams>;
  /** A refresh token was refused (`invalid_grant`) and should be forgotten. */
  readonly onRefreshTokenRemoved: Event<P.RefreshTokenRemovedParams>;
  /** A log record of the sidecar (secrets redacted). */
  readonly onLogMessage: Event<P.LogMessageParams>;
  /** The connection closed (the sidecar exited, or dispose()). */
  readonly onClose: Event<void>;

  constructor(
    /** The underlying connection, for anything this class does not cover. */
    readonly connection: MessageConnection,
    private readonly options: SidecarClientOptions = {},
  ) {
    const relay = <T>(notification: { type: NotificationType<T> }): Event<T> => {
      const emitter = new Emitter<T>();
      this.emitters.push(emitter);
      connection.onNotification(notification.type, (params) => emitter.fire(params));
      return emitter.event;
    };
    this.onCallbackReceived = relay(P.CallbackReceivedNotification);
    this.onDeviceFlowPending = relay(P.DeviceFlowPendingNotification);
    this.onDeviceCode = relay(P.DeviceCodeNotification);
    this.onAuthorizationUrl = relay(P.AuthorizationUrlNotification);
    this.onTokensObtained = relay(P.TokensObtainedNotification);
    this.onRefreshTokenUpdated = relay(P.RefreshTokenUpdatedNotification);
    this.onRefreshTokenRemoved = relay(P.RefreshTokenRemovedNotification);
    this.onLogMessage = relay(P.LogMessageNotification);

    this.emitters.push(this.closeEmitter);
    this.onClose = this.closeEmitter.event;

    // window/showDocument: the registered handler, else "not opened" (the sidecar then logs the URL).
    connection.onRequest(P.ShowDocumentRequest.type, async (params, token) => {
      if (!this.showDocumentHandler) return { success: false };
      try {
        return await this.showDocumentHandler(params, token);
      } catch {
        return { success: false };
      }
    });

    // auth/promptRedirect: the registered handler, else an error (the sidecar then says the user cannot paste).
    connection.onRequest(P.PromptRedirectRequest.type, async (params, token) => {
      const declined = (why: string) => new ResponseError(-32800, why);
      if (!this.promptRedirectHandler) return declined('No auth/promptRedirect handler is registered.');
      try {
        const answer = await this.promptRedirectHandler(params, token);
        return answer?.url ? answer : declined('The user did not paste an address.');
      } catch (err) {
        return declined(`The auth/promptRedirect handler failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });

    // When the sidecar goes away, pending calls fail (vscode-jsonrpc only rejects them on dispose).
    connection.onClose(() => {
      this.markClosed();
      connection.dispose();
    });
    connection.listen();
  }

  /** The sidecar's process, when spawnSidecar() started it. */
  get process(): SidecarProcess | undefined {
    return this.options.process;
  }

  /** Whether the connection has closed. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Answers `window/showDocument` with `handler` (replacing any previous one) until the returned
   * Disposable is disposed. Register it before `initialize`, which then declares
   * `capabilities.showDocument` (without it the sidecar opens the system browser itself).
   */
  onShowDocument(handler: ShowDocumentHandler): Disposable {
    this.showDocumentHandler = handler;
    return {
      dispose: () => {
        if (this.showDocumentHandler === handler) this.showDocumentHandler = undefined;
      },
    };
  }

  /**
   * Answers `auth/promptRedirect` with `handler` (replacing any previous one) until the returned
   * Disposable is disposed: the paste path of `getCredentials` (`interactive: "paste"`, and the last
   * step of `"auto"`) for users whose browser cannot reach this machine (SSH, containers, Codespaces).
   * Register it before `initialize`, which then declares `capabilities.promptRedirect`.
   */
  onPromptRedirect(handler: PromptRedirectHandler): Disposable {
    this.promptRedirectHandler = handler;
    return {
      dispose: () => {
        if (this.promptRedirectHandler === handler) this.promptRedirectHandler = undefined;
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * `initialize`. `capabilities.showDocument` and `capabilities.promptRedirect` default to whether an
   * onShowDocument / onPromptRedirect handler is registered.
   */
  initialize(params: P.InitializeParams = {}, options?: CallOptions): Promise<P.InitializeResult> {
    const capabilities = {
      showDocument: this.showDocumentHandler !== undefined,
      promptRedirect: this.promptRedirectHandler !== undefined,
      ...params.capabilities,
    };
    return this.request(P.InitializeRequest, { ...params, capabilities }, options);
  }

  /** `shutdown`: ends every flow and closes every listener. dispose() calls it for you. */
  shutdown(options?: CallOptions): Promise<null> {
    return this.call(P.ShutdownRequest.method, (token) => this.connection.sendRequest(P.ShutdownRequest.type, token), options);
  }

  // -------------------------------------------------------------------------------------------
  // Clients

  createClient(params: P.CreateClientParams, options?: CallOptions): Promise<P.CreateClientResult> {
    return this.request(P.CreateClientRequest, params, options);
  }

  disposeClient(params: P.DisposeClientParams, options?: CallOptions): Promise<null> {
    return this.request(P.DisposeClientRequest, params, options);
  }

  // -------------------------------------------------------------------------------------------
  // Authorization code flow

  buildAuthRequestUri(params: P.BuildAuthRequestUriParams, options?: CallOptions): Promise<P.BuildAuthRequestUriResult> {
    return this.request(P.BuildAuthRequestUriRequest, params, options);
  }

  initiateAuthCodeFlow(params: P.InitiateAuthCodeFlowParams, options?: CallOptions): Promise<P.InitiateAuthCodeFlowResult> {
    return this.request(P.InitiateAuthCodeFlowRequest, params, options);
  }

  waitForCallback(params: P.WaitForCallbackParams, options?: CallOptions): Promise<P.CallbackResult> {
    return this.request(P.WaitForCallbackRequest, params, options);
  }

  obtainTokenByAuthCodeFlow(params: P.ObtainTokenByAuthCodeFlowParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenByAuthCodeFlowRequest, params, options);
  }

  obtainTokenByAuthorizationCode(params: P.ObtainTokenByAuthorizationCodeParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenByAuthorizationCodeRequest, params, options);
  }

  obtainTokenByBrowser(params: P.ObtainTokenByBrowserParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenByBrowserRequest, params, options);
  }

  parseAuthResponse(params: P.ParseAuthResponseParams, options?: CallOptions): Promise<P.ParseAuthResponseResult> {
    return this.request(P.ParseAuthResponseRequest, params, options);
  }

  cancelFlow(params: P.CancelFlowParams, options?: CallOptions): Promise<null> {
    return this.request(P.CancelFlowRequest, params, options);
  }

  // -------------------------------------------------------------------------------------------
  // Device flow and other grants

  initiateDeviceFlow(params: P.InitiateDeviceFlowParams, options?: CallOptions): Promise<P.InitiateDeviceFlowResult> {
    return this.request(P.InitiateDeviceFlowRequest, params, options);
  }

  obtainTokenByDeviceFlow(params: P.ObtainTokenByDeviceFlowParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenByDeviceFlowRequest, params, options);
  }

  refresh(params: P.RefreshParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.RefreshRequest, params, options);
  }

  /** A DPoP proof for your own request (RFC 9449 §7): send it as the `DPoP` header with `Authorization: DPoP <token>`. */
  createDpopProof(params: P.CreateDpopProofParams, options?: CallOptions): Promise<P.CreateDpopProofResult> {
    return this.request(P.CreateDpopProofRequest, params, options);
  }

  obtainTokenForClient(params: P.ObtainTokenForClientParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenForClientRequest, params, options);
  }

  obtainTokenByUsernamePassword(params: P.ObtainTokenByUsernamePasswordParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenByUsernamePasswordRequest, params, options);
  }

  obtainTokenByAssertion(params: P.ObtainTokenByAssertionParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.ObtainTokenByAssertionRequest, params, options);
  }

  // -------------------------------------------------------------------------------------------
  // Credentials

  getCredentials(params: P.GetCredentialsParams, options?: CallOptions): Promise<P.TokenResult> {
    return this.request(P.GetCredentialsRequest, params, options);
  }

  /**
   * `parseChallenge`: reads a resource's `WWW-Authenticate` header (RFC 6750 §3, RFC 9470 step-up,
   * Entra claims challenges, RFC 9728 `resource_metadata`); pass its `acrValues`, `maxAge` and
   * `claims` to getCredentials to get a token that satisfies the challenge.
   */
  parseChallenge(params: P.ParseChallengeParams, options?: CallOptions): Promise<P.ParseChallengeResult> {
    return this.request(P.ParseChallengeRequest, params, options);
  }

  listAccounts(params: P.ListAccountsParams = {}, options?: CallOptions): Promise<P.AccountInfo[]> {
    return this.request(P.ListAccountsRequest, params, options);
  }

  signOut(params: P.SignOutParams, options?: CallOptions): Promise<null> {
    return this.request(P.SignOutRequest, params, options);
  }

  // -------------------------------------------------------------------------------------------
  // Standalone callback server

  startCallbackServer(params: P.StartCallbackServerParams = {}, options?: CallOptions): Promise<P.StartCallbackServerResult> {
    return this.request(P.StartCallbackServerRequest, params, options);
  }

  stopCallbackServer(params: P.StopCallbackServerParams, options?: CallOptions): Promise<null> {
    return this.request(P.StopCallbackServerRequest, params, options);
  }

  // -------------------------------------------------------------------------------------------
  // Untyped access

  /** Any request by name, parameters by name (an object). Errors are SidecarErrors as usual. */
  sendRequest<R = unknown>(method: string, params: object = {}, options?: CallOptions): Promise<R> {
    // A token argument only when there is one: vscode-jsonrpc would send `undefined` as a parameter.
    return this.call(method, (token) => this.connection.sendRequest<R>(method, ParameterStructures.byName, params, ...(token ? [token] : [])), options);
  }

  /** Any notification by name. */
  sendNotification(method: string, params?: object): Promise<void> {
    return params === undefined ? this.connection.sendNotification(method) : this.connection.sendNotification(method, params);
  }

  // -------------------------------------------------------------------------------------------
  // Disposal

  /**
   * Ends the session: `shutdown` (waiting at most 3 s), `exit`, then closes the connection (and,
   * for a spawned sidecar, waits for the process to end). Safe to call more than once.
   */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (!this.closedFlag) {
        const shutdown = this.shutdown().catch(() => null);
        await Promise.race([shutdown, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
        await this.connection.sendNotification(P.ExitNotification.type).catch(() => undefined);
      }
      try {
        await this.options.onDispose?.();
      } finally {
        // The process may be gone before its stdout reports the end: closed either way, onClose fired once.
        this.markClosed();
        this.connection.dispose();
        for (const emitter of this.emitters) emitter.dispose();
      }
    })();
    return this.disposing;
  }

  // -------------------------------------------------------------------------------------------

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closeEmitter.fire();
  }

  private request<Params, Result>(
    request: { method: string; type: RequestType<Params, Result, void> },
    params: Params,
    options: CallOptions | undefined,
  ): Promise<Result> {
    return this.call(request.method, (token) => this.connection.sendRequest(request.type, params, token), options);
  }

  /** Runs `send` with a CancellationToken that follows `options.signal`; maps errors to SidecarError. */
  private async call<R>(method: string, send: (token?: CancellationToken) => Promise<R>, options: CallOptions | undefined): Promise<R> {
    const signal = options?.signal;
    if (signal?.aborted) throw cancelledError(method, signal);
    const source = signal ? new CancellationTokenSource() : undefined;
    const onAbort = () => source?.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await send(source?.token);
    } catch (err) {
      throw toSidecarError(err, method);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      source?.dispose();
    }
  }
}
