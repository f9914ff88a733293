using Microsoft.Extensions.Logging;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Implements the protocol by mapping each method onto <see cref="OAuthSession"/>: wire shapes in, wire shapes out,
/// outcomes through <see cref="ErrorMapping"/>. The only place where the protocol meets the engine.
/// </summary>
internal sealed class SidecarRpcTarget : ISidecarRpc
{
    /// <summary>The protocol version reported by <c>initialize</c>.</summary>
    public const string ProtocolVersion = "1";

    private readonly OAuthSession session;
    private readonly Lifecycle lifecycle;
    private readonly ILogger logger;
    private readonly SystemBrowser browser;
    private JsonRpc? rpc;
    private bool callerShowsDocuments;

    public SidecarRpcTarget(OAuthSession session, Lifecycle lifecycle, ILogger logger, SystemBrowser browser)
    {
        this.session = session;
        this.lifecycle = lifecycle;
        this.logger = logger;
        this.browser = browser;
    }

    public static string Version => ProductVersion.Current;

    public void Attach(JsonRpc connection) => this.rpc = connection;

    public Task<InitializeResult> InitializeAsync(InitializeParams? parameters = null, CancellationToken cancellationToken = default)
    {
        this.callerShowsDocuments = parameters?.Capabilities?.ShowDocument == true;
        if (parameters?.Storage is { } storage)
        {
            this.session.GetStore(storage); // validates the name
            this.session.DefaultStorage = storage;
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
                Storage = OAuthSession.AvailableStorage(),
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
        ServerConfiguration? explicitServer = parameters.ServerConfiguration is { } s
            ? new ServerConfiguration(s.Issuer, s.AuthorizationEndpoint, s.TokenEndpoint, s.DeviceAuthorizationEndpoint, s.RevocationEndpoint, s.JwksUri, s.IntrospectionEndpoint, s.AuthorizationResponseIssParameterSupported ?? false)
            : null;
        var registration = new ClientRegistration
        {
            ClientId = parameters.ClientId,
            ClientSecret = parameters.ClientSecret,
            ClientAssertion = parameters.ClientAssertion,
            AssertionKey = LoadPrivateKey(parameters.PrivateKey),
            AuthMethod = ParseAuthMethod(parameters.TokenEndpointAuthMethod),
            Scopes = parameters.Scopes ?? [],
            Audience = parameters.Audience,
            ExtraAuthParams = parameters.ExtraAuthParams ?? new Dictionary<string, string>(),
            ExtraTokenParams = parameters.ExtraTokenParams ?? new Dictionary<string, string>(),
            ExtraRefreshParams = parameters.ExtraRefreshParams ?? new Dictionary<string, string>(),
            AddAuthParamsToTokenRequest = parameters.AddAuthParamsToTokenRequest ?? false,
            Headers = parameters.Headers ?? new Dictionary<string, string>(),
            TimeoutSeconds = parameters.TimeoutSeconds ?? 30,
            CaBundlePath = parameters.Tls?.CaBundlePath,
            InsecureSkipVerify = parameters.Tls?.InsecureSkipVerify ?? false,
            Pages = parameters.Pages is { } pages ? CallbackPages.Load(pages.SuccessHtmlPath, pages.ErrorHtmlPath, pages.SuccessHtml, pages.ErrorHtml, this.logger) : null,
            Storage = parameters.Storage,
        };
        if (parameters.Storage is not null)
        {
            this.session.GetStore(parameters.Storage); // validates the name now, not at the first getCredentials
        }
        if (registration.InsecureSkipVerify)
        {
            this.logger.LogWarning("tls.insecureSkipVerify is set for client {ClientId}: server certificates are not checked. Use this for development servers only.", registration.ClientId);
        }

        OAuthClient client = await this.session.CreateClientAsync(parameters.Issuer, explicitServer, registration, cancellationToken).ConfigureAwait(false);
        ServerConfiguration c = client.Server;
        return new CreateClientResult
        {
            ClientHandle = client.Handle,
            ServerConfiguration = new ServerConfigurationDto
            {
                Issuer = c.Issuer,
                AuthorizationEndpoint = c.AuthorizationEndpoint,
                TokenEndpoint = c.TokenEndpoint,
                DeviceAuthorizationEndpoint = c.DeviceAuthorizationEndpoint,
                RevocationEndpoint = c.RevocationEndpoint,
                JwksUri = c.JwksUri,
                IntrospectionEndpoint = c.IntrospectionEndpoint,
                AuthorizationResponseIssParameterSupported = c.AuthorizationResponseIssParameterSupported,
            },
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
        AuthCodeFlow flow = await this.session.InitiateAuthCodeFlowAsync(parameters.ClientHandle, ToFlowOptions(parameters), cancellationToken).ConfigureAwait(false);
        if (parameters.OpenBrowser ?? true)
        {
            _ = this.OpenBrowserAsync(flow.AuthUri);
        }

        return new InitiateAuthCodeFlowResult
        {
            FlowId = flow.FlowId,
            AuthUri = flow.AuthUri,
            State = flow.State,
            RedirectUri = flow.RedirectUri,
            ExpiresAt = flow.ExpiresAt.ToUnixTimeSeconds(),
            CertificateSha256 = flow.Listener?.CertificateSha256,
        };
    }

    public async Task<CallbackResultDto> WaitForCallbackAsync(WaitForCallbackParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CallbackResult result = await this.session.WaitForCallbackAsync(parameters.FlowId, parameters.TimeoutSeconds, cancellationToken).ConfigureAwait(false);
        return new CallbackResultDto { Params = result.Params, Method = result.Method, Path = result.Path, ReceivedAt = result.ReceivedAt };
    }

    public async Task<TokenResult> ObtainTokenByAuthCodeFlowAsync(ObtainTokenByAuthCodeFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        TokenOutcome outcome = await this.session.ObtainTokenByAuthCodeFlowAsync(parameters.FlowId, parameters.AuthResponse, parameters.Scopes, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public Task CancelFlowAsync(CancelFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return this.session.CancelFlowAsync(parameters.FlowId);
    }

    public async Task<InitiateDeviceFlowResult> InitiateDeviceFlowAsync(InitiateDeviceFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        (DeviceFlow? flow, OAuthError? error) = await this.session.InitiateDeviceFlowAsync(parameters.ClientHandle, parameters.Scopes, cancellationToken).ConfigureAwait(false);
        if (flow is null)
        {
            throw ErrorMapping.OAuthFailure(error!);
        }

        return new InitiateDeviceFlowResult
        {
            FlowId = flow.FlowId,
            UserCode = flow.Authorization.UserCode,
            VerificationUri = flow.Authorization.VerificationUri,
            VerificationUriComplete = flow.Authorization.VerificationUriComplete,
            ExpiresIn = flow.ExpiresInSeconds,
            ExpiresAt = flow.ExpiresAt.ToUnixTimeSeconds(),
            Interval = flow.IntervalSeconds,
            Message = flow.Message,
        };
    }

    public async Task<TokenResult> ObtainTokenByDeviceFlowAsync(ObtainTokenByDeviceFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        TokenOutcome outcome = await this.session.ObtainTokenByDeviceFlowAsync(parameters.FlowId, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public Task<BuildAuthRequestUriResult> BuildAuthRequestUriAsync(BuildAuthRequestUriParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string uri = this.session.BuildAuthRequestUri(parameters.ClientHandle, new AuthorizeRequest
        {
            ResponseType = parameters.ResponseType,
            RedirectUri = parameters.RedirectUri,
            Scopes = parameters.Scopes,
            State = parameters.State,
            ExtraParams = parameters.ExtraParams,
        });
        return Task.FromResult(new BuildAuthRequestUriResult { Uri = uri });
    }

    public Task<ParseAuthResponseResult> ParseAuthResponseAsync(ParseAuthResponseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int given = (parameters.Params is null ? 0 : 1) + (parameters.Query is null ? 0 : 1) + (parameters.Url is null ? 0 : 1);
        if (given != 1)
        {
            throw new InvalidOptionException(given == 0 ? "url" : "params", "Give exactly one of params, query or url.");
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
        TokenOutcome outcome = await this.session.ObtainTokenByAuthorizationCodeAsync(parameters.ClientHandle, parameters.Code, parameters.RedirectUri, parameters.CodeVerifier, parameters.Nonce, parameters.Scopes, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public async Task<TokenResult> ObtainTokenByBrowserAsync(InitiateAuthCodeFlowParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Func<AuthCodeFlow, Task>? open = parameters.OpenBrowser ?? true
            ? flow =>
            {
                _ = this.OpenBrowserAsync(flow.AuthUri);
                return Task.CompletedTask;
            }
            : null;
        TokenOutcome outcome = await this.session.ObtainTokenByBrowserAsync(parameters.ClientHandle, ToFlowOptions(parameters), open, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public async Task<TokenResult> ObtainTokenForClientAsync(ObtainTokenForClientParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ErrorMapping.Unwrap(await this.session.ObtainTokenForClientAsync(parameters.ClientHandle, parameters.Scopes, parameters.Resource, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TokenResult> ObtainTokenByUsernamePasswordAsync(ObtainTokenByUsernamePasswordParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ErrorMapping.Unwrap(await this.session.ObtainTokenByUsernamePasswordAsync(parameters.ClientHandle, parameters.Username, parameters.Password, parameters.Scopes, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TokenResult> ObtainTokenByAssertionAsync(ObtainTokenByAssertionParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ErrorMapping.Unwrap(await this.session.ObtainTokenByAssertionAsync(parameters.ClientHandle, parameters.Assertion, parameters.GrantType, parameters.Scopes, cancellationToken).ConfigureAwait(false));
    }

    public async Task<StartCallbackServerResult> StartCallbackServerAsync(StartCallbackServerParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        CallbackServerFlow server = await this.session.StartCallbackServerAsync(
            new CallbackServerOptions
            {
                Host = parameters.Host,
                Port = parameters.Port,
                Path = parameters.Path,
                Scheme = parameters.Scheme,
                CertFile = parameters.Tls?.Adhoc == true ? null : parameters.Tls?.CertFile,
                KeyFile = parameters.Tls?.Adhoc == true ? null : parameters.Tls?.KeyFile,
                Pages = parameters.Pages is { } pages ? CallbackPages.Load(pages.SuccessHtmlPath, pages.ErrorHtmlPath, pages.SuccessHtml, pages.ErrorHtml, this.logger) : null,
                TimeoutSeconds = parameters.TimeoutSeconds,
                AllowNonLoopback = parameters.AllowNonLoopback ?? false,
            },
            cancellationToken).ConfigureAwait(false);
        return new StartCallbackServerResult { FlowId = server.FlowId, Url = server.Url, CertificateSha256 = server.Listener?.CertificateSha256 };
    }

    public Task StopCallbackServerAsync(StopCallbackServerParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return this.session.StopCallbackServerAsync(parameters.FlowId);
    }

    public async Task<TokenResult> GetCredentialsAsync(GetCredentialsParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.GetClient(parameters.ClientHandle);
        InteractionMode mode = parameters.Interactive switch
        {
            null or "browser" => InteractionMode.Browser,
            "device" => InteractionMode.Device,
            "none" => InteractionMode.None,
            _ => throw new InvalidOptionException("interactive", "interactive must be 'browser', 'device' or 'none'."),
        };
        TokenOutcome outcome = await this.session.Credentials.GetCredentialsAsync(
            client,
            this.session.GetStore(client.Registration.Storage),
            new CredentialRequest
            {
                Scopes = parameters.Scopes,
                Interactive = mode,
                Account = parameters.Account,
                OpenBrowser = flow =>
                {
                    _ = this.OpenBrowserAsync(flow.AuthUri);
                    return Task.CompletedTask;
                },
            },
            cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    public Task<IReadOnlyList<AccountInfo>> ListAccountsAsync(ListAccountsParams? parameters = null, CancellationToken cancellationToken = default)
    {
        OAuthClient? client = parameters?.ClientHandle is { } handle ? this.session.GetClient(handle) : null;
        IReadOnlyList<AccountSummary> accounts = CredentialBroker.ListAccounts(client, this.session.GetStore(client?.Registration.Storage));
        return Task.FromResult<IReadOnlyList<AccountInfo>>(accounts.Select(a => new AccountInfo
        {
            Account = a.Account,
            ClientId = a.ClientId,
            Issuer = a.Issuer,
            Scopes = a.Scopes,
            ExpiresAt = a.ExpiresAt,
            Username = a.Username,
        }).ToList());
    }

    public async Task SignOutAsync(SignOutParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        OAuthClient client = this.session.GetClient(parameters.ClientHandle);
        int removed = await this.session.Credentials.SignOutAsync(client, this.session.GetStore(client.Registration.Storage), parameters.Account, cancellationToken).ConfigureAwait(false);
        this.logger.LogInformation("Signed out {Count} account(s) of {ClientId}.", removed, client.Registration.ClientId);
    }

    public async Task<TokenResult> RefreshAsync(RefreshParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        TokenOutcome outcome = await this.session.RefreshAsync(parameters.ClientHandle, parameters.RefreshToken, parameters.Scopes, cancellationToken).ConfigureAwait(false);
        return ErrorMapping.Unwrap(outcome);
    }

    private static AuthCodeFlowOptions ToFlowOptions(InitiateAuthCodeFlowParams parameters)
    {
        if (parameters.ResponseMode is not (null or "query" or "form_post"))
        {
            throw new InvalidOptionException("responseMode", "responseMode must be 'query' or 'form_post' (the loopback server accepts both).");
        }

        CallbackTls? tls = parameters.Callback?.Tls;
        return new AuthCodeFlowOptions
        {
            Scopes = parameters.Scopes,
            RedirectUri = parameters.RedirectUri,
            State = parameters.State,
            LoginHint = parameters.LoginHint,
            Prompt = parameters.Prompt,
            ResponseMode = parameters.ResponseMode,
            ExtraParams = parameters.ExtraParams,
            CertFile = tls?.Adhoc == true ? null : tls?.CertFile,
            KeyFile = tls?.Adhoc == true ? null : tls?.KeyFile,
            TimeoutSeconds = parameters.Callback?.TimeoutSeconds,
            AllowNonLoopback = parameters.Callback?.AllowNonLoopback ?? false,
        };
    }

    private static ClientAssertionKey? LoadPrivateKey(PrivateKeyDto? key)
    {
        if (key is null)
        {
            return null;
        }

        string pem;
        if (key.Pem is { } text)
        {
            pem = text;
        }
        else if (key.PemFile is { } path)
        {
            try
            {
                pem = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new InvalidOptionException("privateKey.pemFile", $"privateKey.pemFile '{path}' could not be read: {ex.Message}");
            }
        }
        else
        {
            throw new InvalidOptionException("privateKey.pemFile", "privateKey needs pemFile or pem.");
        }

        return ClientAssertionKey.FromPem(pem, key.KeyId, key.Algorithm, "privateKey");
    }

    private static TokenEndpointAuthMethod? ParseAuthMethod(string? value) => value switch
    {
        null => null,
        "none" => TokenEndpointAuthMethod.None,
        "client_secret_basic" => TokenEndpointAuthMethod.ClientSecretBasic,
        "client_secret_post" => TokenEndpointAuthMethod.ClientSecretPost,
        "private_key_jwt" => TokenEndpointAuthMethod.PrivateKeyJwt,
        _ => throw new InvalidOptionException("tokenEndpointAuthMethod", $"tokenEndpointAuthMethod '{value}' is not supported; use client_secret_basic, client_secret_post, private_key_jwt or none."),
    };

    // Opens the browser after the result is sent: a caller that answers window/showDocument only after it has the
    // initiate result must not deadlock.
    private async Task OpenBrowserAsync(string uri)
    {
        await Task.Yield();
        try
        {
            if (this.callerShowsDocuments && this.rpc is { } connection)
            {
                IReadOnlyDictionary<string, object?> arguments = RpcArguments.From(new ShowDocumentParams { Uri = uri, External = true });
                ShowDocumentResult? shown = await connection.InvokeWithParameterObjectAsync<ShowDocumentResult>(ServerMessages.ShowDocument.Name, arguments, RpcArguments.TypesOf(arguments), CancellationToken.None).ConfigureAwait(false);
                if (shown?.Success == true)
                {
                    return;
                }

                this.logger.LogWarning("The caller could not open the browser (window/showDocument answered success: false). Open this URL in a browser: {Uri}", uri);
                return;
            }

            BrowserLaunch launch = this.browser.Open(uri, this.logger);
            if (!launch.Launched)
            {
                this.logger.LogWarning("{Advice}", launch.Advice);
            }
        }
        catch (Exception ex) when (ex is RemoteInvocationException or ConnectionLostException or ObjectDisposedException or RemoteMethodNotFoundException)
        {
            this.logger.LogWarning("The browser could not be opened ({Reason}). Open this URL in a browser: {Uri}", ex.Message, uri);
        }
    }
}

/// <summary>The process lifecycle: <c>shutdown</c>, <c>exit</c>, end of stdin.</summary>
internal sealed class Lifecycle
{
    private readonly TaskCompletionSource<int> exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool ShutdownRequested { get; set; }

#pragma warning disable VSTHRD003 // A completion signal, not work started elsewhere.
    public Task<int> ExitRequested => this.exit.Task;
#pragma warning restore VSTHRD003

    public void RequestExit(int code) => this.exit.TrySetResult(code);
}
