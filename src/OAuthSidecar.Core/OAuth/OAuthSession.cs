using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>The engine's settings.</summary>
public sealed class SessionOptions
{
    /// <summary>Gets the clock (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Gets the redactor that learns every secret handled.</summary>
    public SecretRedactor Redactor { get; init; } = new();

    /// <summary>Gets where events go.</summary>
    public ISidecarEvents Events { get; init; } = NullSidecarEvents.Instance;

    /// <summary>Gets the default time allowed for any interactive wait: 300 s.</summary>
    public TimeSpan InteractiveTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Gets the default credential store: <c>keyring</c> (the default), <c>file</c> or <c>memory</c>.</summary>
    public string DefaultStorage { get; init; } = "keyring";

    /// <summary>
    /// Gets the directory of the file store and of the cross-process lock: <c>OAUTH_SIDECAR_DATA_DIR</c>, else
    /// <c>oauth-sidecar</c> in the user's local application data (<c>$XDG_DATA_HOME</c> or <c>~/.local/share</c> on Linux).
    /// </summary>
    public string DataDirectory { get; init; } =
        Environment.GetEnvironmentVariable("OAUTH_SIDECAR_DATA_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "oauth-sidecar");
}

/// <summary>What <see cref="OAuthSession.InitiateAuthCodeFlowAsync"/> is asked for.</summary>
public sealed class AuthCodeFlowOptions
{
    /// <summary>Gets the scopes; empty uses the client's default scopes.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the redirect URI; default <c>http://127.0.0.1:0/callback</c> (port 0: any free port).</summary>
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

    /// <summary>Gets the flow's lifetime in seconds; default 300.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets a value indicating whether a non-loopback host may be bound (containers).</summary>
    public bool AllowNonLoopback { get; init; }

    /// <summary>Gets the pages shown in the browser.</summary>
    public CallbackPages? Pages { get; init; }
}

/// <summary>What <see cref="OAuthSession.StartCallbackServerAsync"/> is asked for (callback.py's options).</summary>
public sealed class CallbackServerOptions
{
    /// <summary>Gets the host: <c>127.0.0.1</c> (default), <c>::1</c>, <c>localhost</c>, or another address with <see cref="AllowNonLoopback"/>.</summary>
    public string? Host { get; init; }

    /// <summary>Gets the port: 8080 by default (callback.py's), 0 for any free port.</summary>
    public int? Port { get; init; }

    /// <summary>Gets the path: <c>/callback</c> by default; <c>callback</c> is normalised to <c>/callback</c>.</summary>
    public string? Path { get; init; }

    /// <summary>Gets the scheme: <c>https</c> (default, with an ad-hoc certificate unless a PEM pair is given) or <c>http</c>.</summary>
    public string? Scheme { get; init; }

    /// <summary>Gets the PEM certificate file.</summary>
    public string? CertFile { get; init; }

    /// <summary>Gets the PEM key file.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Gets the pages shown in the browser.</summary>
    public CallbackPages? Pages { get; init; }

    /// <summary>Gets how long the server waits, in seconds (default 300).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets a value indicating whether a non-loopback host may be bound.</summary>
    public bool AllowNonLoopback { get; init; }
}

/// <summary>
/// The OAuth engine of one sidecar process: client registrations, flows in progress and the loopback listeners.
/// Every protocol method maps onto one method here. Thread-safe.
/// </summary>
public sealed class OAuthSession : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, OAuthClient> clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IFlow> flows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ITimer> expiryTimers = new(StringComparer.Ordinal);
    private readonly SessionOptions options;
    private readonly ILogger logger;
    private readonly DiscoveryService discovery;
    private readonly IdTokenValidator idTokens;
    private readonly Lazy<LoopbackHub> hub;
    private readonly ConcurrentDictionary<string, Credentials.CredentialStore> stores = new(StringComparer.Ordinal);
    private readonly Lazy<Credentials.CredentialBroker> broker;
    private int disposed;

    /// <summary>Initializes a new instance of the <see cref="OAuthSession"/> class.</summary>
    /// <param name="options">The settings.</param>
    public OAuthSession(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
        this.idTokens = new IdTokenValidator(options.TimeProvider);
        this.discovery = new DiscoveryService(this.logger, options.TimeProvider, this.idTokens.Seed);
        this.hub = new Lazy<LoopbackHub>(() => new LoopbackHub(options.LoggerFactory, options.TimeProvider), LazyThreadSafetyMode.ExecutionAndPublication);
        this.broker = new Lazy<Credentials.CredentialBroker>(() => new Credentials.CredentialBroker(this, this.logger), LazyThreadSafetyMode.ExecutionAndPublication);
        this.DefaultStorage = options.DefaultStorage;
    }

    /// <summary>Gets or sets the process's default credential store (from <c>--storage</c> or <c>initialize</c>).</summary>
    public string DefaultStorage { get; set; }

    /// <summary>Gets the credential broker (getCredentials, listAccounts, signOut).</summary>
    public Credentials.CredentialBroker Credentials => this.broker.Value;

    /// <summary>
    /// Gets the backends usable here: <c>memory</c> and <c>file</c> always; <c>keyring</c> where the OS keyring can be
    /// reached (on Linux: libsecret is installed and a D-Bus session bus is set). A keyring that turns out to be
    /// locked is reported by the call that needs it (-32009).
    /// </summary>
    /// <returns>The backend names.</returns>
    public static IReadOnlyList<string> AvailableStorage() => AvailableBackends.Value;

    private static readonly Lazy<string[]> AvailableBackends = new(() =>
    {
        bool keyring = !OperatingSystem.IsLinux()
            || (Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS") is { Length: > 0 }
                && System.Runtime.InteropServices.NativeLibrary.TryLoad("libsecret-1.so.0", out IntPtr handle) && handle != IntPtr.Zero);
        return keyring ? ["keyring", "file", "memory"] : ["file", "memory"];
    });

    /// <summary>Returns the credential store for <paramref name="backend"/> (the default when <see langword="null"/>).</summary>
    /// <param name="backend"><c>keyring</c>, <c>file</c> or <c>memory</c>.</param>
    /// <returns>The store (one per backend and process).</returns>
    /// <exception cref="InvalidOptionException">An unknown backend.</exception>
    public Credentials.CredentialStore GetStore(string? backend)
    {
        string name = backend ?? this.DefaultStorage;
        if (name is not ("keyring" or "file" or "memory"))
        {
            throw new InvalidOptionException("storage", $"storage '{name}' is not known: use keyring, file or memory.");
        }

        return this.stores.GetOrAdd(name, n =>
        {
            string dir = this.options.DataDirectory;
            switch (n)
            {
                case "memory":
                    return new Credentials.CredentialStore(new Credentials.MemoryItemStorage(), null);
                case "file":
                    string files = Path.Combine(dir, "credentials");
                    this.logger.LogWarning("Credentials are kept in files readable by your user only (0600) in {Directory}: anyone who can read your files can read them. The OS keyring (storage 'keyring') is safer.", files);
                    return new Credentials.CredentialStore(new Credentials.FileItemStorage(files), dir);
                default:
                    return new Credentials.CredentialStore(new Credentials.KeyringItemStorage(Path.Combine(dir, "keyring")), dir);
            }
        });
    }

    /// <summary>Gets the settings.</summary>
    public SessionOptions Options => this.options;

    /// <summary>Gets the loopback hub (created on first use, so Kestrel loads only when a listener is needed).</summary>
    public LoopbackHub Hub => this.hub.Value;

    /// <summary>Gets the number of flows in progress.</summary>
    public int FlowCount => this.flows.Count;

    /// <summary>
    /// Registers a client: discovers the server from <paramref name="issuer"/> (OpenID Connect Discovery, then RFC
    /// 8414) unless <paramref name="server"/> gives the endpoints.
    /// </summary>
    /// <param name="issuer">The issuer URL, for discovery.</param>
    /// <param name="server">Explicit endpoints; wins over discovery.</param>
    /// <param name="registration">The client registration.</param>
    /// <param name="cancellationToken">Cancels discovery.</param>
    /// <returns>The client, whose <see cref="OAuthClient.Handle"/> names it from now on.</returns>
    /// <exception cref="InvalidOptionException">Neither issuer nor endpoints, or an invalid option.</exception>
    /// <exception cref="ServerUnreachableException">Discovery failed.</exception>
    public async Task<OAuthClient> CreateClientAsync(string? issuer, ServerConfiguration? server, ClientRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (string.IsNullOrWhiteSpace(registration.ClientId))
        {
            throw new InvalidOptionException("clientId", "clientId is required: the client identifier registered at the authorization server.");
        }

        if (registration.TimeoutSeconds is <= 0 or > 3600 || double.IsNaN(registration.TimeoutSeconds))
        {
            throw new InvalidOptionException("timeoutSeconds", "timeoutSeconds must be between 0 and 3600 seconds.");
        }

        if (registration.EffectiveAuthMethod is TokenEndpointAuthMethod.ClientSecretBasic or TokenEndpointAuthMethod.ClientSecretPost && registration.ClientSecret is null)
        {
            throw new InvalidOptionException("clientSecret", "clientSecret is required with client_secret_basic and client_secret_post.");
        }

        HttpClient http = HttpClients.Create(registration);
        try
        {
            ServerConfiguration configuration;
            if (server is not null)
            {
                if (string.IsNullOrWhiteSpace(server.TokenEndpoint))
                {
                    throw new InvalidOptionException("serverConfiguration.tokenEndpoint", "serverConfiguration.tokenEndpoint is required.");
                }

                configuration = server with { Issuer = server.Issuer ?? issuer };
            }
            else if (issuer is not null)
            {
                string cacheKey = $"{registration.CaBundlePath}|{registration.InsecureSkipVerify}";
                configuration = await this.discovery.GetAsync(issuer, http, cacheKey, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new InvalidOptionException("issuer", "Give issuer (for discovery) or serverConfiguration (with at least tokenEndpoint).");
            }

            string handle = "c_" + ProtocolRandom.Create(12);
            var client = new OAuthClient(handle, registration, configuration, http, this.options.Redactor, this.logger, this.options.TimeProvider, this.idTokens);
            this.clients[handle] = client;
            this.logger.LogInformation("Client {ClientId} registered for {Issuer}.", registration.ClientId, configuration.Issuer ?? configuration.TokenEndpoint);
            return client;
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>Returns the client named by <paramref name="clientHandle"/>.</summary>
    /// <param name="clientHandle">The handle.</param>
    /// <returns>The client.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    public OAuthClient GetClient(string clientHandle) =>
        clientHandle is not null && this.clients.TryGetValue(clientHandle, out OAuthClient? client)
            ? client
            : throw new UnknownHandleException("clientHandle", clientHandle ?? string.Empty, $"No client has the handle '{clientHandle}': it was never created or was disposed. Call createClient first.");

    /// <summary>Forgets a client and ends its flows.</summary>
    /// <param name="clientHandle">The handle.</param>
    /// <returns>A task that completes when its flows are ended.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    public async Task DisposeClientAsync(string clientHandle)
    {
        OAuthClient client = this.GetClient(clientHandle);
        this.clients.TryRemove(clientHandle, out _);
        foreach (IFlow flow in this.flows.Values.Where(f => f is AuthCodeFlow a && a.Client == client || f is DeviceFlow d && d.Client == client).ToList())
        {
            await this.EndFlowAsync(flow, new FlowCancelledException(flow.FlowId), linger: false).ConfigureAwait(false);
        }

        client.Dispose();
    }

    /// <summary>
    /// Starts an authorization code flow with PKCE S256, a random state and (with <c>openid</c>) a nonce. A loopback
    /// redirect URI starts a listener, bound on the port given (0 = any) directly.
    /// </summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="flowOptions">What to ask for.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The flow, with the authorization URI and the real redirect URI.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="InvalidOptionException">A bad redirect URI or parameter.</exception>
    /// <exception cref="ListenFailedException">The listener could not start.</exception>
    public async Task<AuthCodeFlow> InitiateAuthCodeFlowAsync(string clientHandle, AuthCodeFlowOptions flowOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flowOptions);
        OAuthClient client = this.GetClient(clientHandle);
        IReadOnlyList<string> scopes = client.EffectiveScopes(flowOptions.Scopes);
        string redirect = flowOptions.RedirectUri ?? "http://127.0.0.1:0/callback";
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out Uri? redirectUri))
        {
            throw new InvalidOptionException("redirectUri", $"redirectUri '{redirect}' is not an absolute URI.");
        }

        if (flowOptions.State is { Length: 0 })
        {
            throw new InvalidOptionException("state", "state may not be empty.");
        }

        TimeSpan lifetime = flowOptions.TimeoutSeconds is { } t
            ? (t is > 0 and <= 86_400 ? TimeSpan.FromSeconds(t) : throw new InvalidOptionException("callback.timeoutSeconds", "callback.timeoutSeconds must be between 0 and 86400 seconds."))
            : this.options.InteractiveTimeout;
        string state = flowOptions.State ?? ProtocolRandom.Create(16);
        string? nonce = scopes.Contains("openid") ? ProtocolRandom.Create(16) : null;
        string verifier = Pkce.CreateCodeVerifier();
        this.options.Redactor.Register(verifier);
        string flowId = "f_" + ProtocolRandom.Create(12);
        string path = string.IsNullOrEmpty(redirectUri.AbsolutePath) ? "/" : redirectUri.AbsolutePath;
        var flow = new AuthCodeFlow(flowId, client, state, nonce, verifier, scopes, this.options.TimeProvider.GetUtcNow() + lifetime, path, flowOptions.Pages ?? client.Registration.Pages ?? CallbackPages.Default, this.options.Events);

        string effectiveRedirect = redirect;
        if (IsListenable(redirectUri, flowOptions.AllowNonLoopback))
        {
            bool explicitPort = HasExplicitPort(redirectUri);
            int port = explicitPort ? redirectUri.Port : 0;
            LoopbackListener listener = await this.ListenAsync(flow, redirectUri.Scheme, redirectUri.Host, port, flowOptions.CertFile, flowOptions.KeyFile, flowOptions.AllowNonLoopback, "callback.tls", cancellationToken).ConfigureAwait(false);
            flow.SetListener(this.Hub, listener);
            if (!explicitPort || port == 0)
            {
                effectiveRedirect = WithPort(redirect, redirectUri, listener.Port);
            }
        }

        flow.RedirectUri = effectiveRedirect;
        try
        {
            flow.AuthUri = client.BuildAuthorizeUrl(new AuthorizeRequest
            {
                RedirectUri = effectiveRedirect,
                Scopes = scopes,
                State = state,
                Nonce = nonce,
                CodeChallenge = Pkce.CreateCodeChallenge(verifier),
                LoginHint = flowOptions.LoginHint,
                Prompt = flowOptions.Prompt,
                ResponseMode = flowOptions.ResponseMode,
                ExtraParams = flowOptions.ExtraParams,
            });
        }
        catch
        {
            await flow.EndAsync(new FlowCancelledException(flowId), lingerListener: false).ConfigureAwait(false);
            throw;
        }

        this.AddFlow(flow);
        this.logger.LogInformation("Authorization code flow {FlowId} started; redirect URI {RedirectUri}.", flowId, effectiveRedirect);
        return flow;
    }

    /// <summary>
    /// Starts a standalone callback server (callback.py's <c>run_callback_server</c>): it waits for one complete
    /// callback (a code, tokens or an error) on its path, whatever its <c>state</c>.
    /// </summary>
    /// <param name="serverOptions">Where and how to listen.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The server, named by its flow id.</returns>
    /// <exception cref="InvalidOptionException">A bad host, path, scheme or timeout.</exception>
    /// <exception cref="ListenFailedException">The port is in use, the host is not loopback, or the certificate files cannot be read.</exception>
    public async Task<CallbackServerFlow> StartCallbackServerAsync(CallbackServerOptions serverOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverOptions);
        string path = NormalizePath(serverOptions.Path);
        string scheme = serverOptions.Scheme ?? "https";
        if (scheme is not ("http" or "https"))
        {
            throw new InvalidOptionException("scheme", "scheme must be 'https' (the default) or 'http'.");
        }

        if (serverOptions.Port is < 0 or > 65535)
        {
            throw new InvalidOptionException("port", "port must be between 0 (any free port) and 65535.");
        }

        TimeSpan lifetime = serverOptions.TimeoutSeconds is { } t
            ? (t is > 0 and <= 86_400 ? TimeSpan.FromSeconds(t) : throw new InvalidOptionException("timeoutSeconds", "timeoutSeconds must be between 0 and 86400 seconds."))
            : this.options.InteractiveTimeout;
        var flow = new CallbackServerFlow("f_" + ProtocolRandom.Create(12), path, this.options.TimeProvider.GetUtcNow() + lifetime, serverOptions.Pages ?? CallbackPages.Default, this.options.Events);
        string host = serverOptions.Host ?? "127.0.0.1";
        LoopbackListener listener = await this.ListenAsync(flow, scheme, host, serverOptions.Port ?? 8080, serverOptions.CertFile, serverOptions.KeyFile, serverOptions.AllowNonLoopback, "tls", cancellationToken).ConfigureAwait(false);
        flow.SetListener(this.Hub, listener);
        string hostInUrl = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? "[" + host + "]" : host;
        flow.Url = $"{scheme}://{hostInUrl}:{listener.Port.ToString(CultureInfo.InvariantCulture)}{path}";
        this.AddFlow(flow);
        this.logger.LogInformation("Callback server {FlowId} listening on {Url}.", flow.FlowId, flow.Url);
        return flow;
    }

    /// <summary>Stops a standalone callback server and closes its listener.</summary>
    /// <param name="flowId">The server's flow id.</param>
    /// <returns>A task that completes when it is stopped.</returns>
    /// <exception cref="UnknownHandleException">No such server.</exception>
    public Task StopCallbackServerAsync(string flowId)
    {
        CallbackServerFlow flow = this.GetFlow<CallbackServerFlow>(flowId);
        return this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: false);
    }

    /// <summary>
    /// Waits for a flow's callback (returns at once if it already arrived; may be called again). A timeout or
    /// cancellation leaves the flow alive.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="timeoutSeconds">How long to wait; default 300 s.</param>
    /// <param name="cancellationToken">Cancels the wait only.</param>
    /// <returns>The callback.</returns>
    /// <exception cref="UnknownHandleException">No such flow.</exception>
    /// <exception cref="FlowTimeoutException">Nothing arrived in time.</exception>
    /// <exception cref="FlowCancelledException">The flow was cancelled meanwhile.</exception>
    public async Task<CallbackResult> WaitForCallbackAsync(string flowId, double? timeoutSeconds, CancellationToken cancellationToken)
    {
        CallbackFlow flow = this.GetFlow<IFlow>(flowId) as CallbackFlow
            ?? throw new InvalidOptionException("flowId", $"Flow {flowId} is a device flow; it has no callback to wait for. Use obtainTokenByDeviceFlow.");
        TimeSpan timeout = timeoutSeconds is { } t
            ? (t is > 0 and <= 86_400 ? TimeSpan.FromSeconds(t) : throw new InvalidOptionException("timeoutSeconds", "timeoutSeconds must be between 0 and 86400 seconds."))
            : this.options.InteractiveTimeout;
        try
        {
            return await flow.Callback.WaitAsync(timeout, this.options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new FlowTimeoutException(flowId, timeout.TotalSeconds, $"No callback arrived for flow {flowId} within {timeout.TotalSeconds:0.###} s. The flow is still open: wait again, or cancel it with cancelFlow.");
        }
    }

    /// <summary>
    /// Completes an authorization code flow: takes the response the loopback server received (waiting for it if
    /// needed) or the one the caller gives, checks <c>state</c> and <c>iss</c> (RFC 9207), and redeems the code with
    /// the PKCE verifier. The flow ends once redeemed or refused.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="authResponse">An explicit authorization response (pasted URL, custom scheme), or <see langword="null"/>.</param>
    /// <param name="scopes">Not used for redemption; reported scopes come from the response.</param>
    /// <param name="cancellationToken">Cancels the wait or the request.</param>
    /// <returns>The tokens, or the server's error (including a callback's <c>error</c>, such as <c>access_denied</c>).</returns>
    /// <exception cref="UnknownHandleException">No such flow (or already redeemed).</exception>
    /// <exception cref="StateMismatchException">Wrong state or issuer.</exception>
    /// <exception cref="FlowTimeoutException">The flow expired before the callback.</exception>
    /// <exception cref="ServerUnreachableException">The token endpoint could not be used (the flow stays open for a retry).</exception>
    /// <exception cref="InvalidIdTokenException">The id_token's nonce does not match.</exception>
    public async Task<TokenOutcome> ObtainTokenByAuthCodeFlowAsync(string flowId, IReadOnlyDictionary<string, string>? authResponse, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        AuthCodeFlow flow = this.GetFlow<AuthCodeFlow>(flowId);
        OAuthClient client = flow.Client;
        IReadOnlyDictionary<string, string> response;
        if (authResponse is not null)
        {
            AuthorizationResponse.Validate(authResponse, flow.State, client.Server.Issuer, client.Server.AuthorizationResponseIssParameterSupported, flowId);
            response = authResponse;
            flow.Deliver(new CallbackResult(authResponse, "GET", flow.Path, this.options.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
        }
        else
        {
            TimeSpan remaining = flow.ExpiresAt - this.options.TimeProvider.GetUtcNow();
            CallbackResult result;
            try
            {
                result = await flow.Callback.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, this.options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new FlowTimeoutException(flowId, Math.Round((flow.ExpiresAt - this.options.TimeProvider.GetUtcNow() + remaining).TotalSeconds), $"No callback arrived for flow {flowId} before it expired. Start a new sign-in.");
            }

            response = result.Params;
            try
            {
                AuthorizationResponse.Validate(response, flow.State, client.Server.Issuer, client.Server.AuthorizationResponseIssParameterSupported, flowId);
            }
            catch (StateMismatchException)
            {
                await this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: true).ConfigureAwait(false);
                throw;
            }
        }

        if (!this.flows.TryRemove(new KeyValuePair<string, IFlow>(flowId, flow)))
        {
            throw UnknownFlow(flowId); // redeemed concurrently
        }

        if (response.TryGetValue("error", out string? error))
        {
            response.TryGetValue("error_description", out string? description);
            response.TryGetValue("error_uri", out string? uri);
            await this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: true).ConfigureAwait(false);
            this.logger.LogInformation("Flow {FlowId}: the authorization server answered '{Error}'.", flowId, error);
            return TokenOutcome.Failure(new OAuthError(error, description, uri));
        }

        if (!response.TryGetValue("code", out string? code) || code.Length == 0)
        {
            this.flows.TryAdd(flowId, flow);
            throw new InvalidOptionException("authResponse.code", "The authorization response carries no 'code' and no 'error'.");
        }

        TokenOutcome outcome;
        try
        {
            outcome = await client.RedeemCodeAsync(code, flow.RedirectUri, flow.CodeVerifier, flow.Scopes, flow.Nonce, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServerUnreachableException or OperationCanceledException)
        {
            this.flows.TryAdd(flowId, flow); // the code may still be redeemable: let the caller retry
            throw;
        }
        catch (InvalidIdTokenException)
        {
            await this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: true).ConfigureAwait(false);
            throw;
        }

        await this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: true).ConfigureAwait(false);
        return this.Report(client, flowId, "authorization_code", outcome);
    }

    /// <summary>Ends a flow: its waiters fail with -32800 and its listener closes when no other flow uses it.</summary>
    /// <param name="flowId">The flow.</param>
    /// <returns>A task that completes when the flow is ended.</returns>
    /// <exception cref="UnknownHandleException">No such flow.</exception>
    public Task CancelFlowAsync(string flowId)
    {
        IFlow flow = this.GetFlow<IFlow>(flowId);
        this.logger.LogInformation("Flow {FlowId} cancelled.", flowId);
        return this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: false);
    }

    /// <summary>Starts a device authorization grant (RFC 8628 §3.1).</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="scopes">The scopes; empty uses the client's default scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The flow, or the server's refusal.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<(DeviceFlow? Flow, OAuthError? Error)> InitiateDeviceFlowAsync(string clientHandle, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        OAuthClient client = this.GetClient(clientHandle);
        IReadOnlyList<string> effective = client.EffectiveScopes(scopes);
        DeviceAuthorizationOutcome outcome = await client.RequestDeviceAuthorizationAsync(effective, cancellationToken).ConfigureAwait(false);
        if (outcome.Authorization is not { } authorization)
        {
            return (null, outcome.Error);
        }

        int expiresIn = authorization.ExpiresIn is > 0 and { } e ? e : DevicePoller.DefaultExpiresInSeconds;
        int interval = authorization.Interval is > 0 and { } i ? i : DevicePoller.DefaultIntervalSeconds;
        var flow = new DeviceFlow("f_" + ProtocolRandom.Create(12), client, authorization, effective, interval, expiresIn, this.options.TimeProvider.GetUtcNow().AddSeconds(expiresIn));
        this.AddFlow(flow);
        this.logger.LogInformation("Device flow {FlowId} started: user code {UserCode}, interval {Interval} s, expires in {ExpiresIn} s.", flow.FlowId, authorization.UserCode, interval, expiresIn);
        return (flow, null);
    }

    /// <summary>
    /// Polls for the device flow's tokens until the user approves or refuses, or the device code expires
    /// (RFC 8628 §3.4–3.5). One poll loop runs per flow at a time.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="cancellationToken">Cancels the polling (the flow stays open).</param>
    /// <returns>The tokens or the server's terminal error.</returns>
    /// <exception cref="UnknownHandleException">No such flow.</exception>
    /// <exception cref="FlowTimeoutException">The device code expired.</exception>
    /// <exception cref="FlowCancelledException">The flow was cancelled.</exception>
    public async Task<TokenOutcome> ObtainTokenByDeviceFlowAsync(string flowId, CancellationToken cancellationToken)
    {
        DeviceFlow flow = this.GetFlow<DeviceFlow>(flowId);
        using (await flow.PollGate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            if (flow.EndReason is { } ended)
            {
                throw ended is FlowCancelledException ? UnknownFlow(flowId) : ended;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, flow.EndedToken);
            TokenOutcome outcome;
            try
            {
                outcome = await DevicePoller.PollAsync(
                    flowId,
                    ct => flow.Client.RequestDeviceTokenAsync(flow.Authorization.DeviceCode, flow.Scopes, ct),
                    flow.IntervalSeconds,
                    flow.ExpiresAt,
                    (attempt, error, next) => this.options.Events.DeviceFlowPending(flowId, attempt, error, next),
                    this.options.TimeProvider,
                    linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && flow.EndReason is { } reason)
            {
                throw reason;
            }
            catch (FlowTimeoutException ex)
            {
                await this.EndFlowAsync(flow, ex, linger: false).ConfigureAwait(false);
                throw;
            }

            await this.EndFlowAsync(flow, new FlowCancelledException(flowId), linger: false).ConfigureAwait(false);
            return this.Report(flow.Client, flowId, OAuthClient.DeviceCodeGrantType, outcome);
        }
    }

    /// <summary>
    /// Redeems a refresh token (RFC 6749 §6). A rotated refresh token is reported through
    /// <see cref="ISidecarEvents.RefreshTokenUpdated"/>; <c>invalid_grant</c> through <see cref="ISidecarEvents.RefreshTokenRemoved"/>.
    /// </summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="refreshToken">The refresh token.</param>
    /// <param name="scopes">Scopes to narrow to; empty keeps the grant's.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="InvalidOptionException">An empty refresh token.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> RefreshAsync(string clientHandle, string refreshToken, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        OAuthClient client = this.GetClient(clientHandle);
        if (string.IsNullOrEmpty(refreshToken))
        {
            throw new InvalidOptionException("refreshToken", "refreshToken is required.");
        }

        TokenOutcome outcome = await client.RefreshAsync(refreshToken, scopes ?? [], cancellationToken).ConfigureAwait(false);
        if (outcome.Tokens is { } tokens)
        {
            if (tokens.RefreshToken is { } rotated && !string.Equals(rotated, refreshToken, StringComparison.Ordinal))
            {
                this.options.Events.RefreshTokenUpdated(client.Handle, tokens.Account, rotated);
            }

            this.Report(client, null, "refresh_token", outcome);
        }
        else if (outcome.Error is { Error: "invalid_grant" } error)
        {
            this.options.Events.RefreshTokenRemoved(client.Handle, null, error.ErrorDescription is { } d ? $"invalid_grant: {d}" : "invalid_grant");
        }

        return outcome;
    }

    /// <summary>Builds an authorization request URI without PKCE or state keeping (MSAL's low-level builder).</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="request">The request parameters; pass <c>code_challenge</c> in extra parameters to manage PKCE yourself.</param>
    /// <returns>The URI.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="InvalidOptionException">An extra parameter overrides a standard one, or no authorization endpoint.</exception>
    public string BuildAuthRequestUri(string clientHandle, AuthorizeRequest request) => this.GetClient(clientHandle).BuildAuthorizeUrl(request);

    /// <summary>Redeems an authorization code obtained elsewhere (RFC 6749 §4.1.3), with an optional PKCE verifier.</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="code">The authorization code.</param>
    /// <param name="redirectUri">The redirect URI of the authorization request.</param>
    /// <param name="codeVerifier">The PKCE code verifier, when the caller managed PKCE.</param>
    /// <param name="nonce">The nonce to check in the id_token, when one was sent.</param>
    /// <param name="scopes">The requested scopes (reported when the response has none).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public async Task<TokenOutcome> ObtainTokenByAuthorizationCodeAsync(string clientHandle, string code, string? redirectUri, string? codeVerifier, string? nonce, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        OAuthClient client = this.GetClient(clientHandle);
        if (string.IsNullOrEmpty(code))
        {
            throw new InvalidOptionException("code", "code is required: the authorization code from the redirect.");
        }

        TokenOutcome outcome = await client.RedeemCodeAsync(code, redirectUri, codeVerifier, client.EffectiveScopes(scopes), nonce, cancellationToken).ConfigureAwait(false);
        return this.Report(client, null, "authorization_code", outcome);
    }

    /// <summary>
    /// The whole browser sign-in in one call: starts the flow, opens the browser through <paramref name="openBrowser"/>,
    /// waits for the callback and redeems it. The flow ends whatever happens.
    /// </summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="flowOptions">As for <see cref="InitiateAuthCodeFlowAsync"/>.</param>
    /// <param name="openBrowser">Opens the authorization URI, or <see langword="null"/> to leave that to the caller.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="FlowTimeoutException">No callback before the flow's lifetime ran out.</exception>
    public async Task<TokenOutcome> ObtainTokenByBrowserAsync(string clientHandle, AuthCodeFlowOptions flowOptions, Func<AuthCodeFlow, Task>? openBrowser, CancellationToken cancellationToken)
    {
        AuthCodeFlow flow = await this.InitiateAuthCodeFlowAsync(clientHandle, flowOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            if (openBrowser is not null)
            {
                await openBrowser(flow).ConfigureAwait(false);
            }

            return await this.ObtainTokenByAuthCodeFlowAsync(flow.FlowId, null, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (this.flows.ContainsKey(flow.FlowId))
            {
                await this.EndFlowAsync(flow, new FlowCancelledException(flow.FlowId), linger: true).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The client credentials grant (RFC 6749 §4.4).</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="scopes">The scopes; the client's defaults when empty.</param>
    /// <param name="resource">An RFC 8707 resource indicator, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> ObtainTokenForClientAsync(string clientHandle, IReadOnlyList<string>? scopes, string? resource, CancellationToken cancellationToken)
    {
        OAuthClient client = this.GetClient(clientHandle);
        TokenOutcome outcome = await client.ClientCredentialsAsync(client.EffectiveScopes(scopes), resource, cancellationToken).ConfigureAwait(false);
        return this.Report(client, null, "client_credentials", outcome);
    }

    /// <summary>The resource owner password credentials grant (RFC 6749 §4.3).</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="username">The user name.</param>
    /// <param name="password">The password.</param>
    /// <param name="scopes">The scopes; the client's defaults when empty.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="InvalidOptionException">An empty user name or password.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> ObtainTokenByUsernamePasswordAsync(string clientHandle, string username, string password, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        OAuthClient client = this.GetClient(clientHandle);
        this.options.Redactor.Register(password);
        if (string.IsNullOrEmpty(username))
        {
            throw new InvalidOptionException("username", "username is required.");
        }

        if (string.IsNullOrEmpty(password))
        {
            throw new InvalidOptionException("password", "password is required.");
        }

        TokenOutcome outcome = await client.PasswordAsync(username, password, client.EffectiveScopes(scopes), cancellationToken).ConfigureAwait(false);
        return this.Report(client, null, "password", outcome);
    }

    /// <summary>An assertion grant (RFC 7521): <c>jwt-bearer</c> (RFC 7523) or <c>saml2-bearer</c> (RFC 7522).</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="assertion">The JWT, or the SAML assertion (XML, or already base64url-encoded).</param>
    /// <param name="grantType">The grant type URN.</param>
    /// <param name="scopes">The scopes; the client's defaults when empty.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    /// <exception cref="InvalidOptionException">An empty assertion or an unsupported grant type.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> ObtainTokenByAssertionAsync(string clientHandle, string assertion, string grantType, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        OAuthClient client = this.GetClient(clientHandle);
        this.options.Redactor.Register(assertion);
        if (string.IsNullOrEmpty(assertion))
        {
            throw new InvalidOptionException("assertion", "assertion is required.");
        }

        if (grantType is not (OAuthClient.JwtBearerGrantType or OAuthClient.Saml2BearerGrantType))
        {
            throw new InvalidOptionException("grantType", $"grantType must be {OAuthClient.JwtBearerGrantType} or {OAuthClient.Saml2BearerGrantType}.");
        }

        TokenOutcome outcome = await client.AssertionAsync(assertion, grantType, client.EffectiveScopes(scopes), cancellationToken).ConfigureAwait(false);
        return this.Report(client, null, grantType, outcome);
    }

    /// <summary>Ends every flow and closes every listener and client (process exit).</summary>
    /// <returns>A task that completes when every socket is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref this.disposed, 1) != 0)
        {
            return;
        }

        foreach (IFlow flow in this.flows.Values.ToList())
        {
            await this.EndFlowAsync(flow, new FlowCancelledException(flow.FlowId), linger: false).ConfigureAwait(false);
        }

        if (this.hub.IsValueCreated)
        {
            await this.hub.Value.DisposeAsync().ConfigureAwait(false);
        }

        foreach (OAuthClient client in this.clients.Values)
        {
            client.Dispose();
        }

        this.clients.Clear();
        foreach (Credentials.CredentialStore store in this.stores.Values)
        {
            store.Dispose();
        }
    }

    /// <summary>Normalises a callback path: <c>callback</c> becomes <c>/callback</c> (callback.py).</summary>
    /// <param name="path">The path as given.</param>
    /// <returns>The path with one leading slash.</returns>
    /// <exception cref="InvalidOptionException">The path has a query, a fragment or dot segments.</exception>
    internal static string NormalizePath(string? path)
    {
        string p = string.IsNullOrWhiteSpace(path) ? "/callback" : "/" + path.Trim().TrimStart('/');
        if (p.IndexOfAny(['?', '#', '\\']) >= 0 || p.Split('/').Any(s => s is "." or ".."))
        {
            throw new InvalidOptionException("path", $"path '{path}' must be a plain path such as /callback (no query, fragment or dot segments).");
        }

        return p;
    }

    internal static bool HasExplicitPort(Uri uri)
    {
        string authority = uri.GetComponents(UriComponents.HostAndPort, UriFormat.UriEscaped);
        string original = uri.OriginalString;
        int start = original.IndexOf("://", StringComparison.Ordinal) + 3;
        int end = original.IndexOfAny(['/', '?', '#'], start);
        string written = end < 0 ? original[start..] : original[start..end];
        int colon = written.LastIndexOf(':');
        return authority.Length > 0 && colon > written.LastIndexOf(']');
    }

    internal static string WithPort(string original, Uri uri, int port)
    {
        int start = original.IndexOf("://", StringComparison.Ordinal) + 3;
        int end = original.IndexOfAny(['/', '?', '#'], start);
        string written = end < 0 ? original[start..] : original[start..end];
        int colon = written.LastIndexOf(':');
        string host = colon > written.LastIndexOf(']') ? written[..colon] : written;
        string rest = end < 0 ? string.Empty : original[end..];
        return $"{uri.Scheme}://{host}:{port.ToString(CultureInfo.InvariantCulture)}{rest}";
    }

    private static bool IsListenable(Uri uri, bool allowNonLoopback)
    {
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return false; // a custom scheme (myapp:/callback): the caller delivers the response itself
        }

        string host = uri.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out IPAddress? address) && (IPAddress.IsLoopback(address) || allowNonLoopback);
    }

    private async Task<LoopbackListener> ListenAsync(ICallbackTarget target, string scheme, string host, int port, string? certFile, string? keyFile, bool allowNonLoopback, string tlsField, CancellationToken cancellationToken)
    {
        X509Certificate2? certificate = null;
        if (scheme == Uri.UriSchemeHttps && (certFile is not null || keyFile is not null))
        {
            certificate = Certificates.LoadPem(
                certFile ?? throw new InvalidOptionException(tlsField + ".certFile", $"{tlsField} needs both certFile and keyFile."),
                keyFile ?? throw new InvalidOptionException(tlsField + ".keyFile", $"{tlsField} needs both certFile and keyFile."),
                host,
                port);
        }

        string bare = host.Trim('[', ']');
        if (allowNonLoopback && !string.Equals(bare, "localhost", StringComparison.OrdinalIgnoreCase) && !(IPAddress.TryParse(bare, out IPAddress? a) && IPAddress.IsLoopback(a)))
        {
            this.logger.LogWarning("The callback listener binds the non-loopback address {Host} because allowNonLoopback is set: other machines may reach it.", host);
        }

        // https without a certificate: the hub makes an ad-hoc one (or reuses the one of a shared listener).
        return await this.Hub.AttachAsync(new LoopbackEndpoint(scheme, host, port, certificate, allowNonLoopback), target, cancellationToken).ConfigureAwait(false);
    }

    private TokenOutcome Report(OAuthClient client, string? flowId, string grantType, TokenOutcome outcome)
    {
        if (outcome.Tokens is { } tokens)
        {
            this.options.Events.TokensObtained(client.Handle, flowId, grantType, tokens.Scopes, tokens.ExpiresAt);
        }

        return outcome;
    }

    private static UnknownHandleException UnknownFlow(string flowId) =>
        new("flowId", flowId, $"No flow has the id '{flowId}': it was never started, already redeemed, cancelled or expired.");

    private T GetFlow<T>(string flowId)
        where T : class, IFlow
    {
        if (flowId is not null && this.flows.TryGetValue(flowId, out IFlow? flow))
        {
            return flow as T ?? throw new InvalidOptionException("flowId", $"Flow {flowId} is a {(flow is DeviceFlow ? "device flow" : "browser flow")} and cannot be used with this method.");
        }

        throw UnknownFlow(flowId ?? string.Empty);
    }

    private void AddFlow(IFlow flow)
    {
        this.flows[flow.FlowId] = flow;
        TimeSpan due = flow.ExpiresAt - this.options.TimeProvider.GetUtcNow();
        ITimer timer = this.options.TimeProvider.CreateTimer(
            static state =>
            {
                var (session, f) = ((OAuthSession, IFlow))state!;
                double lifetime = Math.Round((f.ExpiresAt - session.options.TimeProvider.GetUtcNow()).TotalSeconds);
                _ = session.EndFlowAsync(f, new FlowTimeoutException(f.FlowId, lifetime, $"Flow {f.FlowId} expired before it completed. Start a new sign-in."), linger: false);
            },
            (this, flow),
            due > TimeSpan.Zero ? due : TimeSpan.Zero,
            Timeout.InfiniteTimeSpan);
        this.expiryTimers[flow.FlowId] = timer;
    }

    private async Task EndFlowAsync(IFlow flow, Exception reason, bool linger)
    {
        this.flows.TryRemove(new KeyValuePair<string, IFlow>(flow.FlowId, flow));
        if (this.expiryTimers.TryRemove(flow.FlowId, out ITimer? timer))
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        await flow.EndAsync(reason, linger).ConfigureAwait(false);
    }
}
