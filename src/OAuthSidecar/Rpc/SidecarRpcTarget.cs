using Microsoft.Extensions.Logging;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Implements the protocol by calling the engine's parts (<see cref="OAuthSession"/>): wire shapes in and out through
/// <see cref="ProtocolMapping"/>, outcomes through <see cref="ErrorMapping"/>. The only place where the protocol meets
/// the engine.
/// </summary>
internal sealed class SidecarRpcTarget : ISidecarRpc
{
    /// <summary>The protocol version reported by <c>initialize</c>.</summary>
    public const string ProtocolVersion = "1.1";

    private readonly OAuthSession session;
    private readonly Lifecycle lifecycle;
    private readonly ILogger logger;
    private readonly BrowserOpener browser;

    public SidecarRpcTarget(OAuthSession session, Lifecycle lifecycle, ILogger logger, BrowserOpener browser, StorageBackend defaultStorage)
    {
        this.session = session;
        this.lifecycle = lifecycle;
        this.logger = logger;
        this.browser = browser;
        this.DefaultStorage = defaultStorage;
    }

    public static string Version => ProductVersion.Current;

    /// <summary>Gets the process's default credential store (from <c>--storage</c> or <c>initialize</c>).</summary>
    public StorageBackend DefaultStorage { get; private set; }

    public void Attach(JsonRpc connection) => this.browser.Attach(connection);

    public Task<InitializeResult> InitializeAsync(InitializeParams? parameters = null, CancellationToken cancellationToken = default)
    {
        this.browser.CallerShowsDocuments = parameters?.Capabilities?.ShowDocument == true;
        this.browser.CallerPromptsRedirects = parameters?.Capabilities?.PromptRedirect == true;
        if (parameters?.Storage is { } storage)
        {
            this.DefaultStorage = ProtocolMapping.ToStorage(storage);
        }

        if (parameters?.ClientInfo is { } info)
        {
            this.logger.LogInformation("Initialized by {Client}.", info.Version is { } v ? $"{info.Name} {v}" : info.Name);
        }

        return Task.FromResult(new InitializeResult
        {
            ServerInfo = new ServerInfo { Name = "oauth-sidecar", Version = Version },
            ProtocolVersion = ProtocolVersion,
            Capabilities = new ServerCapabilities
            {
                GrantTypes = ["authorization_code", "refresh_token", OAuthClient.DeviceCodeGrantType, "client_credentials", "password", OAuthClient.JwtBearerGrantType, OAuthClient.Saml2BearerGrantType],
                CallbackSchemes = ["http", "https"],
                Storage = StorageFactory.Available.Select(StorageFactory.NameOf).ToList(),
                Environment = ProtocolMapping.ToDto(this.browser.Environment),
            },
        });
    }

    public void Initialized()
    {
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        this.lifecycle.ShutdownRequested = true;
        await this.session.DisposeAsync().ConfigureAwait(false);
    }

    public void ExitNotification() => this.lifecycle.RequestExit(this.lifecycle.ShutdownRequested ? 0 : 1);

    public async Task<CreateClientResult> CreateClientAsync(CreateClientParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ClientRegistration registration = ProtocolMapping.ToRegistration(parameters, this.logger);
        if (registration.InsecureSkipVerify)
        {
            this.logger.LogWarning("tls.insecureSkipVerify is set for client {ClientId}: server certificates are not checked. Use this for development servers only.", registration.ClientId);
        }

        OAuthClient client = await this.session.Clients.CreateAsync(ProtocolMapping.ToTarget(parameters), registration, cancellationToken).ConfigureAwait(false);
        return new CreateClientResult
        {
            ClientHandle = client.Handle,
            ServerConfiguration = ProtocolMapping.ToDto(client.Server),
            Provider = client.Registration.Preset?.Name is { } preset ? ProtocolMapping.FromProviderName(preset) : null,
            Quirks = client.Registration.Quirks,
        };
    }

    public Task DisposeClientAsync(DisposeClientParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return this.session.DisposeClientAsync(parameters.ClientHandle);
    }

    public async Task<InitiateAuthCodeFlowResult> InitiateAuthCodeFlowAsync(InitiateAuthCodeFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        AuthCodeFlow flow = await this.session.AuthCode.InitiateAsync(client, ProtocolMapping.ToFlowOptions(parameters), cancellationToken).ConfigureAwait(false);
        this.Present(flow, parameters.OpenBrowser ?? true);
        return ProtocolMapping.ToResult(flow);
    }

    public async Task<CallbackResultDto> WaitForCallbackAsync(WaitForCallbackParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ProtocolMapping.ToDto(await this.session.AuthCode.WaitForCallbackAsync(parameters.FlowId, parameters.TimeoutSeconds, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TokenResult> ObtainTokenByAuthCodeFlowAsync(ObtainTokenByAuthCodeFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ErrorMapping.Unwrap(await this.session.AuthCode.ObtainTokenAsync(parameters.FlowId, parameters.AuthResponse, cancellationToken).ConfigureAwait(false));
    }

    public Task CancelFlowAsync(CancelFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.logger.LogInformation("Flow {FlowId} cancelled.", parameters.FlowId);
        return this.session.CancelFlowAsync(parameters.FlowId);
    }

    public async Task<InitiateDeviceFlowResult> InitiateDeviceFlowAsync(InitiateDeviceFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        (DeviceFlow? flow, OAuthError? error) = await this.session.Device.InitiateAsync(client, parameters.Scopes, cancellationToken).ConfigureAwait(false);
        return flow is null ? throw ErrorMapping.OAuthFailure(error!) : ProtocolMapping.ToResult(flow);
    }

    public async Task<TokenResult> ObtainTokenByDeviceFlowAsync(ObtainTokenByDeviceFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ErrorMapping.Unwrap(await this.session.Device.ObtainTokenAsync(parameters.FlowId, cancellationToken).ConfigureAwait(false));
    }

    public async Task<BuildAuthRequestUriResult> BuildAuthRequestUriAsync(BuildAuthRequestUriParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        var request = new AuthorizeRequest
        {
            ResponseType = parameters.ResponseType,
            RedirectUri = parameters.RedirectUri,
            Scopes = parameters.Scopes,
            State = parameters.State,
            ExtraParams = parameters.ExtraParams,
            // The code is redeemed by obtainTokenByAuthorizationCode, with the client's own key (RFC 9449 §10).
            DpopJkt = parameters.ExtraParams?.ContainsKey("dpop_jkt") == true ? null : client.DpopKeys.ClientKey?.Thumbprint,
        };
        if (!client.UsesPar)
        {
            return new BuildAuthRequestUriResult { Uri = client.BuildAuthorizeUrl(request) };
        }

        PushOutcome pushed = await client.PushAuthorizationAsync(request, cancellationToken).ConfigureAwait(false);
        return pushed.Pushed is { } accepted
            ? new BuildAuthRequestUriResult { Uri = AuthorizeRequestBuilder.BuildPushed(client.Registration, client.Server, accepted.RequestUri) }
            : throw ErrorMapping.OAuthFailure(pushed.Error!);
    }

    public Task<ParseAuthResponseResult> ParseAuthResponseAsync(ParseAuthResponseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int given = (parameters.Params is null ? 0 : 1) + (parameters.Query is null ? 0 : 1) + (parameters.Url is null ? 0 : 1);
        if (given != 1)
        {
            throw new LocalRpcException("Give exactly one of params, query or url.") { ErrorCode = ErrorCodes.InvalidParams, ErrorData = new InvalidParamsData { Field = given == 0 ? "url" : "params" } };
        }

        IReadOnlyDictionary<string, string> values = parameters.Params ?? AuthorizationResponse.Parse(parameters.Query ?? parameters.Url!);
        if (parameters.State is not null)
        {
            AuthorizationResponse.Validate(values, parameters.State, issuer: null, issRequired: false, flowId: null);
        }

        string? Get(string name) => values.TryGetValue(name, out string? v) ? v : null;
        return Task.FromResult(new ParseAuthResponseResult
        {
            Code = Get("code"),
            State = Get("state"),
            Iss = Get("iss"),
            Error = Get("error"),
            ErrorDescription = Get("error_description"),
            ErrorUri = Get("error_uri"),
            Params = values,
        });
    }

    public async Task<TokenResult> ObtainTokenByAuthorizationCodeAsync(ObtainTokenByAuthorizationCodeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        TokenOutcome outcome = await client.RedeemCodeAsync(parameters.Code, parameters.RedirectUri, parameters.CodeVerifier, client.EffectiveScopes(parameters.Scopes), client.Registration.Resources, parameters.Nonce, null, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public async Task<TokenResult> ObtainTokenByBrowserAsync(InitiateAuthCodeFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        bool openBrowser = parameters.OpenBrowser ?? true;
        Task OpenAsync(AuthCodeFlow flow)
        {
            this.Present(flow, openBrowser);
            return Task.CompletedTask;
        }

        return ErrorMapping.Unwrap(await this.session.AuthCode.ObtainTokenByBrowserAsync(client, ProtocolMapping.ToFlowOptions(parameters), OpenAsync, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TokenResult> ObtainTokenForClientAsync(ObtainTokenForClientParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        return ErrorMapping.Unwrap(await client.ClientCredentialsAsync(client.EffectiveScopes(parameters.Scopes), parameters.Resource, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TokenResult> ObtainTokenByUsernamePasswordAsync(ObtainTokenByUsernamePasswordParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        return ErrorMapping.Unwrap(await client.PasswordAsync(parameters.Username, parameters.Password, client.EffectiveScopes(parameters.Scopes), cancellationToken).ConfigureAwait(false));
    }

    public async Task<TokenResult> ObtainTokenByAssertionAsync(ObtainTokenByAssertionParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        return ErrorMapping.Unwrap(await client.AssertionAsync(parameters.Assertion, ProtocolMapping.ToGrantType(parameters.GrantType!.Value), client.EffectiveScopes(parameters.Scopes), cancellationToken).ConfigureAwait(false));
    }

    public async Task<StartCallbackServerResult> StartCallbackServerAsync(StartCallbackServerParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CallbackServerFlow server = await this.session.CallbackServers.StartAsync(ProtocolMapping.ToServerOptions(parameters, this.logger), cancellationToken).ConfigureAwait(false);
        return new StartCallbackServerResult { FlowId = server.FlowId, Url = server.Url, CertificateSha256 = server.Listener?.CertificateSha256 };
    }

    public Task StopCallbackServerAsync(StopCallbackServerParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return this.session.CallbackServers.StopAsync(parameters.FlowId);
    }

    public async Task<TokenResult> GetCredentialsAsync(GetCredentialsParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        var request = new CredentialRequest
        {
            Scopes = parameters.Scopes,
            Interactive = ProtocolMapping.ToInteraction(parameters.Interactive),
            Account = parameters.Account,
            Host = this.browser,
            Claims = parameters.Claims,
            AcrValues = parameters.AcrValues,
            MaxAge = parameters.MaxAge,
            Resources = parameters.Resource?.Values,
        };
        TokenOutcome outcome = await this.session.Credentials.GetCredentialsAsync(client, this.StoreOf(client), request, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public Task<ParseChallengeResult> ParseChallengeAsync(ParseChallengeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Task.FromResult(ProtocolMapping.ToDto(WwwAuthenticateChallenge.Parse(parameters.WwwAuthenticate)));
    }

    public Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(ListAccountsParams? parameters = null, CancellationToken cancellationToken = default)
    {
        OAuthClient? client = parameters?.ClientHandle is { } handle ? this.session.Clients.Get(handle) : null;
        CredentialStore store = client is null ? this.session.Storage.Get(this.DefaultStorage) : this.StoreOf(client);
        IReadOnlyList<AccountSummary> accounts = CredentialBroker.ListAccounts(client, store);
        return Task.FromResult<IReadOnlyList<AccountInfo>>(accounts.Select(ProtocolMapping.ToDto).ToList());
    }

    public async Task SignOutAsync(SignOutParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        int removed = await this.session.Credentials.SignOutAsync(client, this.StoreOf(client), parameters.Account, cancellationToken).ConfigureAwait(false);
        this.logger.LogInformation("Signed out {Count} account(s) of {ClientId}.", removed, client.Registration.ClientId);
    }

    public async Task<TokenResult> RefreshAsync(RefreshParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        IReadOnlyList<string>? resources = parameters.Resource?.Values;
        foreach (string resource in resources ?? [])
        {
            ClientRegistry.CheckResource(resource, CoreOption.RequestResource);
        }

        // An answer without scope reports the scopes asked for or, without any, the grant's as far as a stateless call
        // knows them: the client's default scopes (the caller manages this refresh token itself). A DPoP-bound refresh
        // token is redeemed with its key (RFC 9449 §5): the one this process or the store bound it to.
        DpopKey? key = parameters.RefreshToken is { Length: > 0 } token ? DpopProofService.KeyOfToken(client, this.StoreOf(client), token) : null;
        var options = new RefreshOptions { Scopes = parameters.Scopes ?? [], ReportScopes = parameters.Scopes is { Count: > 0 } narrowed ? narrowed : client.Registration.Scopes, Resources = resources, DpopKey = key };
        return ErrorMapping.Unwrap(await client.RefreshAsync(parameters.RefreshToken, options, cancellationToken).ConfigureAwait(false));
    }

    public Task<CreateDpopProofResult> CreateDpopProofAsync(CreateDpopProofParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.Clients.Get(parameters.ClientHandle);
        DpopProof proof = this.session.DpopProofs.Create(client, this.StoreOf(client), new DpopProofRequest
        {
            Account = parameters.Account,
            Htm = parameters.Htm,
            Htu = parameters.Htu,
            AccessToken = parameters.AccessToken,
            Nonce = parameters.Nonce,
        });
        return Task.FromResult(new CreateDpopProofResult { Proof = proof.Proof, Jkt = proof.Jkt, ExpiresAt = proof.ExpiresAt });
    }

    private CredentialStore StoreOf(OAuthClient client) => this.session.Storage.Get(client.Registration.Storage ?? this.DefaultStorage);

    // authorizationUrl: every browser sign-in the caller starts, so a terminal caller can always print the address.
    // The caller's browser gets the flow's URL (if asked), and the authorizationUrl notification announces it.
    private void Present(AuthCodeFlow flow, bool openBrowser)
    {
        if (openBrowser)
        {
            this.browser.OpenSoon(flow.AuthUri);
        }

        this.AnnounceAuthorizationUrl(flow);
    }

    private void AnnounceAuthorizationUrl(AuthCodeFlow flow) =>
        this.session.Options.Events.AuthorizationUrl(flow.FlowId, flow.AuthUri, $"Sign in at this address: {flow.AuthUri}");
}
