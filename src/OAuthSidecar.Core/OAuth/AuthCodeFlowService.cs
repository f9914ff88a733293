using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>What <see cref="AuthCodeFlowService.InitiateAsync"/> is asked for.</summary>
public sealed class AuthCodeFlowOptions
{
    /// <summary>Gets the scopes; empty uses the client's default scopes.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the resource indicators (RFC 8707), sent in the authorization request and the code redemption; <see langword="null"/>: the client's defaults.</summary>
    public IReadOnlyList<string>? Resources { get; init; }

    /// <summary>Gets the redirect URI; default the client's (<see cref="ClientRegistration.RedirectUri"/>), else <see cref="RedirectUris.Default"/> (port 0: any free port).</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets a caller-chosen <c>state</c>; by default 128 random bits.</summary>
    public string? State { get; init; }

    /// <summary>Gets the <c>login_hint</c>.</summary>
    public string? LoginHint { get; init; }

    /// <summary>Gets the <c>prompt</c>.</summary>
    public string? Prompt { get; init; }

    /// <summary>Gets the <c>response_mode</c>: <c>query</c> (server default for <c>code</c>) or <c>form_post</c>.</summary>
    public string? ResponseMode { get; init; }

    /// <summary>Gets extra authorization request parameters; they may add names but never replace standard values.</summary>
    public IReadOnlyDictionary<string, string>? ExtraParams { get; init; }

    /// <summary>Gets the PEM certificate file for an <c>https</c> redirect URI.</summary>
    public string? CertFile { get; init; }

    /// <summary>Gets the PEM key file for an <c>https</c> redirect URI.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Gets the flow's lifetime in seconds (0 &lt; t ≤ 86,400); default the engine's interactive timeout (300 s).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets a value indicating whether a non-loopback host may be bound (containers).</summary>
    public bool AllowNonLoopback { get; init; }

    /// <summary>Gets the pages shown in the browser.</summary>
    public CallbackPages? Pages { get; init; }
}

/// <summary>
/// The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252): starts a flow and its loopback
/// listener, waits for the callback, checks <c>state</c> and <c>iss</c> (RFC 9207) and redeems the code with the
/// code verifier. Every step is a transition of the flow's <see cref="FlowStateMachine"/>. A DPoP client's flow has a
/// key of its own whose thumbprint is the request's <c>dpop_jkt</c> (RFC 9449 §10); a PAR client pushes the request
/// first (RFC 9126), and the flow then ends no later than its <c>request_uri</c>.
/// </summary>
public sealed class AuthCodeFlowService
{
    private readonly FlowRegistry flows;
    private readonly CallbackListeners listeners;
    private readonly SessionOptions options;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="AuthCodeFlowService"/> class.</summary>
    /// <param name="flows">Where flows are kept.</param>
    /// <param name="listeners">Starts loopback listeners.</param>
    /// <param name="options">The engine's settings.</param>
    public AuthCodeFlowService(FlowRegistry flows, CallbackListeners listeners, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(flows);
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentNullException.ThrowIfNull(options);
        this.flows = flows;
        this.listeners = listeners;
        this.options = options;
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
    }

    /// <summary>
    /// Starts an authorization code flow with PKCE S256, a random state and (with <c>openid</c>) a nonce. A loopback
    /// redirect URI starts a listener, bound on the port given (0 = any) directly.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="flowOptions">What to ask for.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The flow, with the authorization URI and the real redirect URI.</returns>
    /// <exception cref="InvalidOptionException">A bad redirect URI or parameter.</exception>
    /// <exception cref="ListenFailedException">The listener could not start.</exception>
    /// <exception cref="OAuthErrorException">The server refused the pushed authorization request (RFC 9126 §2.3).</exception>
    /// <exception cref="ServerUnreachableException">The pushed authorization request endpoint could not be used.</exception>
    public async Task<AuthCodeFlow> InitiateAsync(OAuthClient client, AuthCodeFlowOptions flowOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(flowOptions);
        IReadOnlyList<string> scopes = client.Registration.AuthorizationScopes(client.EffectiveScopes(flowOptions.Scopes));
        IReadOnlyList<string> resources = flowOptions.Resources ?? client.Registration.Resources;
        foreach (string resource in resources)
        {
            ClientRegistry.CheckResource(resource, CoreOption.RequestResource);
        }

        string redirect = flowOptions.RedirectUri ?? client.Registration.RedirectUri ?? RedirectUris.Default;
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out Uri? redirectUri))
        {
            throw new InvalidOptionException(CoreOption.RedirectUri, $"{{{CoreOption.RedirectUri}}} '{redirect}' is not an absolute URI.");
        }

        if (redirect.Contains('#', StringComparison.Ordinal))
        {
            throw new InvalidOptionException(CoreOption.RedirectUri, $"{{{CoreOption.RedirectUri}}} '{redirect}' has a fragment; a redirect URI must not have one (RFC 6749 §3.1.2).");
        }

        if (RedirectUris.IsUnservable(redirectUri, flowOptions.AllowNonLoopback) is { } unservable)
        {
            throw new InvalidOptionException(CoreOption.RedirectUri, $"{{{CoreOption.RedirectUri}}} '{redirect}' {unservable}");
        }

        if (flowOptions.State is { Length: 0 })
        {
            throw new InvalidOptionException(CoreOption.State, $"{{{CoreOption.State}}} may not be empty.");
        }

        TimeSpan lifetime = this.Lifetime(flowOptions.TimeoutSeconds, CoreOption.FlowTimeout);
        string state = flowOptions.State ?? ProtocolRandom.Create(16);
        string? nonce = scopes.Contains("openid") ? ProtocolRandom.Create(16) : null;
        string verifier = Pkce.CreateCodeVerifier();
        this.options.Redactor.Register(verifier);
        string flowId = "f_" + ProtocolRandom.Create(12);
        string path = string.IsNullOrEmpty(redirectUri.AbsolutePath) ? "/" : redirectUri.AbsolutePath;
        var flow = new AuthCodeFlow(flowId, client, state, nonce, verifier, scopes, this.options.TimeProvider.GetUtcNow() + lifetime, path, flowOptions.Pages ?? client.Registration.Pages ?? CallbackPages.Default, this.options.Events, client.DpopKeys.CreateKey())
        {
            Resources = resources,
        };

        string effectiveRedirect = redirect;
        if (RedirectUris.IsListenable(redirectUri, flowOptions.AllowNonLoopback))
        {
            bool explicitPort = RedirectUris.HasExplicitPort(redirectUri);
            int port = explicitPort ? redirectUri.Port : 0;
            var tls = new ListenerTls(flowOptions.CertFile, flowOptions.KeyFile, CoreOption.FlowTls, CoreOption.FlowCertFile, CoreOption.FlowKeyFile);
            LoopbackListener listener = await this.listeners.ListenAsync(flow, redirectUri.Scheme, redirectUri.Host, port, tls, flowOptions.AllowNonLoopback, cancellationToken).ConfigureAwait(false);
            flow.SetListener(this.listeners.Hub, listener);
            if (!explicitPort || port == 0)
            {
                effectiveRedirect = RedirectUris.WithPort(redirect, redirectUri, listener.Port);
            }
        }

        flow.RedirectUri = effectiveRedirect;
        try
        {
            var request = new AuthorizeRequest
            {
                RedirectUri = effectiveRedirect,
                Scopes = scopes,
                State = state,
                Nonce = nonce,
                CodeChallenge = Pkce.CreateCodeChallenge(verifier),
                DpopJkt = flow.DpopKey?.Thumbprint,
                LoginHint = flowOptions.LoginHint,
                Prompt = flowOptions.Prompt,
                ResponseMode = flowOptions.ResponseMode,
                ExtraParams = flowOptions.ExtraParams,
                Resources = resources,
            };
            flow.AuthUri = client.UsesPar ? await this.PushAsync(flow, request, cancellationToken).ConfigureAwait(false) : client.BuildAuthorizeUrl(request);
        }
        catch
        {
            flow.Machine.TryEnd(FlowState.Failed);
            await flow.ReleaseAsync(new FlowCancelledException(flowId), lingerListener: false).ConfigureAwait(false);
            throw;
        }

        this.flows.Add(flow);
        this.logger.LogInformation("Authorization code flow {FlowId} started; redirect URI {RedirectUri}.", flowId, effectiveRedirect);
        return flow;
    }

    /// <summary>
    /// Waits for the callback of an authorization code flow or a standalone callback server (returns at once if it
    /// already arrived; may be called again). A timeout or cancellation leaves the flow alive.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="timeoutSeconds">How long to wait (0 &lt; t ≤ 86,400); default the interactive timeout (300 s).</param>
    /// <param name="cancellationToken">Cancels the wait only.</param>
    /// <returns>The callback.</returns>
    /// <exception cref="UnknownHandleException">No such flow.</exception>
    /// <exception cref="InvalidOptionException">A device flow, or a bad timeout.</exception>
    /// <exception cref="FlowTimeoutException">Nothing arrived in time.</exception>
    /// <exception cref="FlowCancelledException">The flow was cancelled meanwhile.</exception>
    public async Task<CallbackResult> WaitForCallbackAsync(string flowId, double? timeoutSeconds, CancellationToken cancellationToken)
    {
        CallbackFlow flow = this.flows.Get<IFlow>(flowId) as CallbackFlow
            ?? throw new InvalidOptionException(CoreOption.FlowId, $"Flow {flowId} is a device flow; it has no callback to wait for: poll it for its tokens instead.");
        TimeSpan timeout = this.Lifetime(timeoutSeconds, CoreOption.WaitTimeout);
        try
        {
            return await flow.Callback.WaitAsync(timeout, this.options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new FlowTimeoutException(flowId, timeout.TotalSeconds, $"No callback arrived for flow {flowId} within {timeout.TotalSeconds:0.###} s. The flow is still open: wait again, or cancel it.");
        }
    }

    /// <summary>
    /// Completes an authorization code flow: takes the response the loopback server received (waiting for it if
    /// needed) or the one the caller gives, checks <c>state</c> and <c>iss</c> (RFC 9207), and redeems the code with
    /// the PKCE code verifier. The flow ends once redeemed or refused; a token endpoint that cannot be reached leaves
    /// it open for another try.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="authResponse">An explicit authorization response (pasted URL, custom scheme), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the wait or the request.</param>
    /// <returns>The tokens, or the server's error (including a callback's <c>error</c>, such as <c>access_denied</c>).</returns>
    /// <exception cref="UnknownHandleException">No such flow (or already redeemed).</exception>
    /// <exception cref="StateMismatchException">Wrong state or issuer.</exception>
    /// <exception cref="InvalidOptionException">An explicit response with neither <c>code</c> nor <c>error</c>.</exception>
    /// <exception cref="FlowTimeoutException">The flow expired before the callback.</exception>
    /// <exception cref="ServerUnreachableException">The token endpoint could not be used (the flow stays open for a retry).</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public async Task<TokenOutcome> ObtainTokenAsync(string flowId, IReadOnlyDictionary<string, string>? authResponse, CancellationToken cancellationToken)
    {
        AuthCodeFlow flow = this.flows.Get<AuthCodeFlow>(flowId);
        OAuthClient client = flow.Client;
        IReadOnlyDictionary<string, string> response;
        if (authResponse is not null)
        {
            // A wrong explicit response is the caller's mistake (a pasted URL of another sign-in): the flow stays open.
            AuthorizationResponse.Validate(authResponse, flow.State, client.Server.Issuer, client.Server.AuthorizationResponseIssParameterSupported, flowId);
            if (!(authResponse.TryGetValue("code", out string? code) && code.Length > 0) && !authResponse.ContainsKey("error"))
            {
                throw new InvalidOptionException(CoreOption.AuthResponseCode, $"The authorization response carries no 'code' and no 'error' ({{{CoreOption.AuthResponse}}}).");
            }

            response = authResponse;
            flow.Deliver(new CallbackResult(authResponse, "GET", flow.Path, this.options.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
        }
        else
        {
            try
            {
                response = (await this.WaitUntilExpiryAsync(flow, cancellationToken).ConfigureAwait(false)).Params;
            }
            catch (FlowTimeoutException) when (flow is { EndsWithRequestUri: true, Pushed: { } pushed })
            {
                // RFC 9126 §2.2: the browser's URL refers to a request_uri the server no longer accepts.
                return TokenOutcome.Failure(new OAuthError("invalid_request_uri", $"The request_uri of the pushed authorization request was good for {pushed.ExpiresIn} s (RFC 9126 §2.2) and expired before the sign-in completed, so the authorization server no longer accepts it. Start a new sign-in."));
            }

            try
            {
                AuthorizationResponse.Validate(response, flow.State, client.Server.Issuer, client.Server.AuthorizationResponseIssParameterSupported, flowId);
            }
            catch (StateMismatchException ex)
            {
                await this.flows.EndAsync(flow, FlowState.Failed, ex, lingerListener: true).ConfigureAwait(false);
                throw;
            }
        }

        if (!flow.Machine.TryMove(FlowState.CallbackReceived, FlowState.Redeeming))
        {
            throw FlowRegistry.UnknownFlow(flowId); // redeemed concurrently, or ended meanwhile
        }

        if (response.TryGetValue("error", out string? error))
        {
            response.TryGetValue("error_description", out string? description);
            response.TryGetValue("error_uri", out string? uri);
            await this.flows.EndAsync(flow, FlowState.Failed, FlowRegistry.UnknownFlow(flowId), lingerListener: true).ConfigureAwait(false);
            this.logger.LogInformation("Flow {FlowId}: the authorization server answered '{Error}'.", flowId, error);
            return TokenOutcome.Failure(new OAuthError(error, description, uri));
        }

        TokenOutcome outcome;
        try
        {
            outcome = await client.RedeemCodeAsync(response.GetValueOrDefault("code") ?? string.Empty, flow.RedirectUri, flow.CodeVerifier, flow.Scopes, flow.Resources, flow.Nonce, flowId, flow.DpopKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServerUnreachableException or OperationCanceledException)
        {
            flow.Machine.TryMove(FlowState.Redeeming, FlowState.CallbackReceived); // the code may still be redeemable: let the caller retry
            throw;
        }
        catch (Exception ex) when (ex is InvalidIdTokenException or InvalidOptionException)
        {
            await this.flows.EndAsync(flow, FlowState.Failed, FlowRegistry.UnknownFlow(flowId), lingerListener: true).ConfigureAwait(false);
            throw;
        }

        FlowState end = outcome.Tokens is null ? FlowState.Failed : FlowState.Completed;
        await this.flows.EndAsync(flow, end, FlowRegistry.UnknownFlow(flowId), lingerListener: true).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// The whole browser sign-in in one call: starts the flow, opens the browser through <paramref name="openBrowser"/>,
    /// waits for the callback and redeems it. The flow ends whatever happens.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="flowOptions">As for <see cref="InitiateAsync"/>.</param>
    /// <param name="openBrowser">Opens the authorization URI, or <see langword="null"/> to leave that to the caller.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="FlowTimeoutException">No callback before the flow's lifetime ran out.</exception>
    public async Task<TokenOutcome> ObtainTokenByBrowserAsync(OAuthClient client, AuthCodeFlowOptions flowOptions, Func<AuthCodeFlow, Task>? openBrowser, CancellationToken cancellationToken)
    {
        AuthCodeFlow flow = await this.InitiateAsync(client, flowOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            if (openBrowser is not null)
            {
                await openBrowser(flow).ConfigureAwait(false);
            }

            return await this.ObtainTokenAsync(flow.FlowId, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await this.EndAsync(flow).ConfigureAwait(false);
        }
    }

    /// <summary>Ends an authorization code flow that has not ended yet (as cancelled); its listener stays a few seconds for the browser's last page.</summary>
    /// <param name="flow">The flow.</param>
    /// <returns>A task that completes when the flow has ended.</returns>
    public Task EndAsync(AuthCodeFlow flow) =>
        this.flows.EndAsync(flow, FlowState.Cancelled, new FlowCancelledException(flow.FlowId), lingerListener: true);

    // RFC 9126 §2.1, §4: push the request; the browser's URL then names only the client and the request_uri, and the flow
    // ends no later than the request_uri.
    private async Task<string> PushAsync(AuthCodeFlow flow, AuthorizeRequest request, CancellationToken cancellationToken)
    {
        PushOutcome outcome = await flow.Client.PushAuthorizationAsync(request, cancellationToken).ConfigureAwait(false);
        PushedAuthorization pushed = outcome.Pushed ?? throw new OAuthErrorException(outcome.Error!);
        flow.Pushed = pushed;
        DateTimeOffset requestUriExpiry = this.options.TimeProvider.GetUtcNow().AddSeconds(pushed.ExpiresIn);
        if (requestUriExpiry < flow.ExpiresAt)
        {
            flow.ExpireNoLaterThan(requestUriExpiry);
            flow.EndsWithRequestUri = true;
        }

        this.logger.LogDebug("Flow {FlowId}: the authorization request was pushed; its request_uri is good for {ExpiresIn} s.", flow.FlowId, pushed.ExpiresIn);
        return AuthorizeRequestBuilder.BuildPushed(flow.Client.Registration, flow.Client.Server, pushed.RequestUri);
    }

    private async Task<CallbackResult> WaitUntilExpiryAsync(AuthCodeFlow flow, CancellationToken cancellationToken)
    {
        TimeSpan remaining = flow.ExpiresAt - this.options.TimeProvider.GetUtcNow();
        try
        {
            return await flow.Callback.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, this.options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new FlowTimeoutException(flow.FlowId, Math.Round((flow.ExpiresAt - this.options.TimeProvider.GetUtcNow() + remaining).TotalSeconds), $"No callback arrived for flow {flow.FlowId} before it expired. Start a new sign-in.");
        }
    }

    private TimeSpan Lifetime(double? seconds, string option) => seconds is { } t
        ? (t is > 0 and <= 86_400 ? TimeSpan.FromSeconds(t) : throw new InvalidOptionException(option, $"{{{option}}} must be between 0 and 86400 seconds."))
        : this.options.InteractiveTimeout;
}
