using OAuthSidecar.Rpc.Contracts;
using PolyType;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// The JSON-RPC methods a caller may invoke (see <c>PROTOCOL.md</c> and <c>schema/oauth-sidecar.openrpc.json</c>).
/// Every request takes one parameter object. Registered with <c>RpcTargetMetadata.FromShape</c>, which works
/// once published with NativeAOT (the reflection path does not).
/// </summary>
[JsonRpcContract]
[GenerateShape(IncludeMethods = MethodShapeFlags.PublicInstance)]
public partial interface ISidecarRpc
{
    /// <summary><c>initialize</c> (optional): declares the caller's capabilities; returns the sidecar's.</summary>
    /// <param name="parameters">The caller's info and capabilities.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server info and capabilities.</returns>
    [ProtocolMethod("Declares the caller's capabilities; returns the sidecar's.", ErrorCodes.InvalidParams)]
    [JsonRpcMethod("initialize", UseSingleObjectParameterDeserialization = true)]
    Task<InitializeResult> InitializeAsync(InitializeParams? parameters = null, CancellationToken cancellationToken = default);

    /// <summary><c>initialized</c> notification: accepted and ignored (LSP habit).</summary>
    [ProtocolMethod("Accepted and ignored (LSP habit).")]
    [JsonRpcMethod("initialized")]
    void Initialized();

    /// <summary><c>shutdown</c>: ends every flow and closes every listener; the process then waits for <c>exit</c> or the end of stdin.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="null"/>.</returns>
    [ProtocolMethod("Ends every flow and closes every listener; the process then waits for exit or the end of stdin.")]
    [JsonRpcMethod("shutdown")]
    Task ShutdownAsync(CancellationToken cancellationToken);

    /// <summary><c>exit</c> notification: the process ends (code 0 after <c>shutdown</c>, 1 without, as LSP).</summary>
    [ProtocolMethod("The process ends (code 0 after shutdown, 1 without, as LSP).")]
    [JsonRpcMethod("exit")]
    void ExitNotification();

    /// <summary><c>createClient</c>: registers a client at an authorization server (discovery or explicit endpoints).</summary>
    /// <param name="parameters">The registration.</param>
    /// <param name="cancellationToken">Cancels discovery.</param>
    /// <returns>The client handle and the endpoints in use.</returns>
    [ProtocolMethod("Registers a client at an authorization server (discovery or explicit endpoints).", ErrorCodes.InvalidParams, ErrorCodes.ServerUnreachable, ErrorCodes.RequestCancelled)]
    [JsonRpcMethod("createClient", UseSingleObjectParameterDeserialization = true)]
    Task<CreateClientResult> CreateClientAsync(CreateClientParams parameters, CancellationToken cancellationToken);

    /// <summary><c>disposeClient</c>: forgets a client and ends its flows.</summary>
    /// <param name="parameters">The client.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="null"/>.</returns>
    [ProtocolMethod("Forgets a client and ends its flows.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle)]
    [JsonRpcMethod("disposeClient", UseSingleObjectParameterDeserialization = true)]
    Task DisposeClientAsync(DisposeClientParams parameters, CancellationToken cancellationToken);

    /// <summary><c>initiateAuthCodeFlow</c>: starts an authorization code flow with PKCE and its loopback listener.</summary>
    /// <param name="parameters">What to ask for.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The flow id, the URI to open and the real redirect URI.</returns>
    [ProtocolMethod("Starts an authorization code flow with PKCE and its loopback listener; pushes the request first when the client uses PAR (RFC 9126).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.ListenFailed, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable)]
    [JsonRpcMethod("initiateAuthCodeFlow", UseSingleObjectParameterDeserialization = true)]
    Task<InitiateAuthCodeFlowResult> InitiateAuthCodeFlowAsync(InitiateAuthCodeFlowParams parameters, CancellationToken cancellationToken);

    /// <summary><c>waitForCallback</c>: waits for a flow's callback (returns at once if it arrived; may be repeated).</summary>
    /// <param name="parameters">The flow and the wait.</param>
    /// <param name="cancellationToken">Cancels the wait only; the flow stays open.</param>
    /// <returns>What the loopback server received.</returns>
    [ProtocolMethod("Waits for a flow's callback (returns at once if it arrived; may be repeated).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.Timeout, ErrorCodes.RequestCancelled)]
    [JsonRpcMethod("waitForCallback", UseSingleObjectParameterDeserialization = true)]
    Task<CallbackResultDto> WaitForCallbackAsync(WaitForCallbackParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenByAuthCodeFlow</c>: checks the response and redeems the code with the PKCE verifier.</summary>
    /// <param name="parameters">The flow, and optionally an explicit response.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("Checks the response and redeems the code with the PKCE verifier.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.Timeout, ErrorCodes.RequestCancelled, ErrorCodes.StateMismatch, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("obtainTokenByAuthCodeFlow", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenByAuthCodeFlowAsync(ObtainTokenByAuthCodeFlowParams parameters, CancellationToken cancellationToken);

    /// <summary><c>cancelFlow</c>: ends a flow; calls waiting on it fail with -32800.</summary>
    /// <param name="parameters">The flow.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="null"/>.</returns>
    [ProtocolMethod("Ends a flow; calls waiting on it fail with -32800.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle)]
    [JsonRpcMethod("cancelFlow", UseSingleObjectParameterDeserialization = true)]
    Task CancelFlowAsync(CancelFlowParams parameters, CancellationToken cancellationToken);

    /// <summary><c>initiateDeviceFlow</c>: asks for a device code (RFC 8628 §3.1).</summary>
    /// <param name="parameters">The client and scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The user code and where to enter it.</returns>
    [ProtocolMethod("Asks for a device code (RFC 8628 §3.1).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable)]
    [JsonRpcMethod("initiateDeviceFlow", UseSingleObjectParameterDeserialization = true)]
    Task<InitiateDeviceFlowResult> InitiateDeviceFlowAsync(InitiateDeviceFlowParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenByDeviceFlow</c>: polls until the user approves (RFC 8628 §3.4–3.5).</summary>
    /// <param name="parameters">The flow.</param>
    /// <param name="cancellationToken">Cancels the polling; the flow stays open.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("Polls until the user approves (RFC 8628 §3.4–3.5).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.Timeout, ErrorCodes.RequestCancelled, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("obtainTokenByDeviceFlow", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenByDeviceFlowAsync(ObtainTokenByDeviceFlowParams parameters, CancellationToken cancellationToken);

    /// <summary><c>buildAuthRequestUri</c>: builds an authorization request URI (MSAL's builder: no PKCE, no state kept).</summary>
    /// <param name="parameters">The request.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The URI.</returns>
    [ProtocolMethod("Builds an authorization request URI (MSAL's builder: no PKCE, no state kept); pushed first when the client uses PAR (RFC 9126).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable)]
    [JsonRpcMethod("buildAuthRequestUri", UseSingleObjectParameterDeserialization = true)]
    Task<BuildAuthRequestUriResult> BuildAuthRequestUriAsync(BuildAuthRequestUriParams parameters, CancellationToken cancellationToken);

    /// <summary><c>parseAuthResponse</c>: parses a redirect URL, query string or parameter object, checking <c>state</c> when given.</summary>
    /// <param name="parameters">The response.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The parsed response.</returns>
    [ProtocolMethod("Parses a redirect URL, query string or parameter object, checking state when given.", ErrorCodes.InvalidParams, ErrorCodes.StateMismatch)]
    [JsonRpcMethod("parseAuthResponse", UseSingleObjectParameterDeserialization = true)]
    Task<ParseAuthResponseResult> ParseAuthResponseAsync(ParseAuthResponseParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenByAuthorizationCode</c>: redeems a code obtained elsewhere (RFC 6749 §4.1.3).</summary>
    /// <param name="parameters">The code and its context.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("Redeems a code obtained elsewhere (RFC 6749 §4.1.3).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("obtainTokenByAuthorizationCode", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenByAuthorizationCodeAsync(ObtainTokenByAuthorizationCodeParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenByBrowser</c>: initiate, open the browser, wait, redeem — one call.</summary>
    /// <param name="parameters">As <c>initiateAuthCodeFlow</c>.</param>
    /// <param name="cancellationToken">Cancels the sign-in (the flow ends).</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("Initiate, open the browser, wait, redeem — one call.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.ListenFailed, ErrorCodes.Timeout, ErrorCodes.RequestCancelled, ErrorCodes.StateMismatch, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("obtainTokenByBrowser", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenByBrowserAsync(InitiateAuthCodeFlowParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenForClient</c>: the client credentials grant (RFC 6749 §4.4).</summary>
    /// <param name="parameters">The client, scopes and resource.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("The client credentials grant (RFC 6749 §4.4).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable)]
    [JsonRpcMethod("obtainTokenForClient", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenForClientAsync(ObtainTokenForClientParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenByUsernamePassword</c>: the password grant (RFC 6749 §4.3).</summary>
    /// <param name="parameters">The client and the user's credentials.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("The password grant (RFC 6749 §4.3).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("obtainTokenByUsernamePassword", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenByUsernamePasswordAsync(ObtainTokenByUsernamePasswordParams parameters, CancellationToken cancellationToken);

    /// <summary><c>obtainTokenByAssertion</c>: the JWT (RFC 7523) or SAML 2.0 (RFC 7522) bearer grant.</summary>
    /// <param name="parameters">The client, assertion and grant type.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("The JWT (RFC 7523) or SAML 2.0 (RFC 7522) bearer grant.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("obtainTokenByAssertion", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> ObtainTokenByAssertionAsync(ObtainTokenByAssertionParams parameters, CancellationToken cancellationToken);

    /// <summary><c>startCallbackServer</c>: a standalone callback server (callback.py): waits for one callback on its path.</summary>
    /// <param name="parameters">Where and how to listen.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The server's id and URL.</returns>
    [ProtocolMethod("A standalone callback server (callback.py): waits for one callback on its path.", ErrorCodes.InvalidParams, ErrorCodes.ListenFailed)]
    [JsonRpcMethod("startCallbackServer", UseSingleObjectParameterDeserialization = true)]
    Task<StartCallbackServerResult> StartCallbackServerAsync(StartCallbackServerParams parameters, CancellationToken cancellationToken);

    /// <summary><c>stopCallbackServer</c>: stops a standalone callback server.</summary>
    /// <param name="parameters">The server.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="null"/>.</returns>
    [ProtocolMethod("Stops a standalone callback server.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle)]
    [JsonRpcMethod("stopCallbackServer", UseSingleObjectParameterDeserialization = true)]
    Task StopCallbackServerAsync(StopCallbackServerParams parameters, CancellationToken cancellationToken);

    /// <summary><c>getCredentials</c>: a stored token valid for 5 more minutes, else a silent refresh, else an interactive sign-in.</summary>
    /// <param name="parameters">The client, scopes, interaction and account.</param>
    /// <param name="cancellationToken">Cancels this call's wait.</param>
    /// <returns>The tokens, with <c>account</c>.</returns>
    [ProtocolMethod("A stored token valid for 5 more minutes (and satisfying a step-up), else a silent refresh, else an interactive sign-in (auto: browser, device or paste).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.InteractionRequired, ErrorCodes.StorageUnavailable, ErrorCodes.ListenFailed, ErrorCodes.Timeout, ErrorCodes.RequestCancelled, ErrorCodes.StateMismatch, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("getCredentials", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> GetCredentialsAsync(GetCredentialsParams parameters, CancellationToken cancellationToken);

    /// <summary><c>parseChallenge</c>: reads a resource's <c>WWW-Authenticate</c> header (RFC 6750 §3, RFC 9470, Entra claims challenges, RFC 9728).</summary>
    /// <param name="parameters">The header value.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What the resource asks for, ready for <c>getCredentials</c>.</returns>
    [ProtocolMethod("Reads a resource's WWW-Authenticate header (RFC 6750 §3, RFC 9470, Entra claims challenges, RFC 9728 resource_metadata).", ErrorCodes.InvalidParams)]
    [JsonRpcMethod("parseChallenge", UseSingleObjectParameterDeserialization = true)]
    Task<ParseChallengeResult> ParseChallengeAsync(ParseChallengeParams parameters, CancellationToken cancellationToken);

    /// <summary><c>listAccounts</c>: the signed-in accounts (no secrets).</summary>
    /// <param name="parameters">The client, or none for every account of the default store.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The accounts, most recently used first.</returns>
    [ProtocolMethod("The signed-in accounts (no secrets).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.StorageUnavailable)]
    [JsonRpcMethod("listAccounts", UseSingleObjectParameterDeserialization = true)]
    Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(ListAccountsParams? parameters = null, CancellationToken cancellationToken = default);

    /// <summary><c>signOut</c>: revokes the refresh token where the server allows (RFC 7009), then forgets the account.</summary>
    /// <param name="parameters">The client and account.</param>
    /// <param name="cancellationToken">Cancels the revocation.</param>
    /// <returns><see langword="null"/>.</returns>
    [ProtocolMethod("Revokes the refresh token where the server allows (RFC 7009), then forgets the account.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.StorageUnavailable)]
    [JsonRpcMethod("signOut", UseSingleObjectParameterDeserialization = true)]
    Task SignOutAsync(SignOutParams parameters, CancellationToken cancellationToken);

    /// <summary><c>refresh</c>: redeems a refresh token (RFC 6749 §6).</summary>
    /// <param name="parameters">The client and refresh token.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens.</returns>
    [ProtocolMethod("Redeems a refresh token (RFC 6749 §6).", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.OAuthError, ErrorCodes.ServerUnreachable, ErrorCodes.InvalidIdToken)]
    [JsonRpcMethod("refresh", UseSingleObjectParameterDeserialization = true)]
    Task<TokenResult> RefreshAsync(RefreshParams parameters, CancellationToken cancellationToken);

    /// <summary><c>createDpopProof</c>: a DPoP proof (RFC 9449 §7) for the caller's own request, signed with the key its tokens are bound to.</summary>
    /// <param name="parameters">The client, account, method, URL, access token and nonce.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The proof, the key's thumbprint and until when to use it.</returns>
    [ProtocolMethod("A DPoP proof (RFC 9449 §7) for the caller's own request, signed with the key its tokens are bound to; the key never leaves the sidecar.", ErrorCodes.InvalidParams, ErrorCodes.UnknownHandle, ErrorCodes.StorageUnavailable)]
    [JsonRpcMethod("createDpopProof", UseSingleObjectParameterDeserialization = true)]
    Task<CreateDpopProofResult> CreateDpopProofAsync(CreateDpopProofParams parameters, CancellationToken cancellationToken);
}
