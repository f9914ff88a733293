using Microsoft.Extensions.Logging;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Core.OAuth.Providers;
using OAuthSidecar.Rpc.Contracts;

namespace OAuthSidecar.Rpc;

/// <summary>
/// The one place where wire shapes become Core types and back: parameter objects into registrations, flow and server
/// options; engine results into wire results. No engine logic here; <see cref="WireNames"/> holds the field names.
/// </summary>
internal static class ProtocolMapping
{
    /// <summary>Reads a storage backend name.</summary>
    /// <param name="name"><c>keyring</c>, <c>file</c> or <c>memory</c>.</param>
    /// <returns>The backend.</returns>
    /// <exception cref="InvalidOptionException">An unknown name.</exception>
    public static StorageBackend ParseStorage(string name) => name switch
    {
        "keyring" => StorageBackend.Keyring,
        "file" => StorageBackend.File,
        "memory" => StorageBackend.Memory,
        _ => throw new InvalidOptionException(CoreOption.Storage, $"{{{CoreOption.Storage}}} '{name}' is not known: use keyring, file or memory."),
    };

    /// <summary>Reads a storage backend of the contract.</summary>
    /// <param name="storage">The wire value.</param>
    /// <returns>The backend.</returns>
    public static StorageBackend ToStorage(StorageBackendDto storage) => storage switch
    {
        StorageBackendDto.Keyring => StorageBackend.Keyring,
        StorageBackendDto.File => StorageBackend.File,
        StorageBackendDto.Memory => StorageBackend.Memory,
        _ => throw Unmapped(storage),
    };

    /// <summary>Reads the storage of a client: its own, else the process default.</summary>
    /// <param name="name">The client's storage name, or <see langword="null"/>.</param>
    /// <param name="processDefault">The process default.</param>
    /// <returns>The backend.</returns>
    public static StorageBackend StorageOf(string? name, StorageBackend processDefault) => name is null ? processDefault : ParseStorage(name);

    /// <summary>Reads the explicit endpoints of <c>createClient</c>.</summary>
    /// <param name="dto">The wire shape.</param>
    /// <returns>The configuration, or <see langword="null"/>.</returns>
    public static ServerConfiguration? ToServerConfiguration(ServerConfigurationDto? dto) => dto is { } s
        ? new ServerConfiguration(s.Issuer, s.AuthorizationEndpoint, s.TokenEndpoint, s.DeviceAuthorizationEndpoint, s.RevocationEndpoint, s.JwksUri, s.IntrospectionEndpoint, s.AuthorizationResponseIssParameterSupported ?? false, s.PushedAuthorizationRequestEndpoint, s.RequirePushedAuthorizationRequests ?? false, s.DpopSigningAlgValuesSupported)
        : null;

    /// <summary>Writes the endpoints a client uses.</summary>
    /// <param name="c">The configuration.</param>
    /// <returns>The wire shape.</returns>
    public static ServerConfigurationDto ToDto(ServerConfiguration c) => new()
    {
        Issuer = c.Issuer,
        AuthorizationEndpoint = c.AuthorizationEndpoint,
        TokenEndpoint = c.TokenEndpoint,
        DeviceAuthorizationEndpoint = c.DeviceAuthorizationEndpoint,
        RevocationEndpoint = c.RevocationEndpoint,
        JwksUri = c.JwksUri,
        IntrospectionEndpoint = c.IntrospectionEndpoint,
        AuthorizationResponseIssParameterSupported = c.AuthorizationResponseIssParameterSupported,
        PushedAuthorizationRequestEndpoint = c.PushedAuthorizationRequestEndpoint,
        RequirePushedAuthorizationRequests = c.PushedAuthorizationRequestEndpoint is null ? null : c.RequirePushedAuthorizationRequests,
        DpopSigningAlgValuesSupported = c.DpopSigningAlgValuesSupported,
    };

    /// <summary>Reads the client registration of <c>createClient</c>.</summary>
    /// <param name="p">The parameters.</param>
    /// <param name="logger">For page loading problems.</param>
    /// <returns>The registration.</returns>
    /// <exception cref="InvalidOptionException">An unknown method, an unreadable key or page.</exception>
    public static ClientRegistration ToRegistration(CreateClientParams p, ILogger logger) => new()
    {
        ClientId = p.ClientId,
        ClientSecret = p.ClientSecret,
        ClientAssertion = p.ClientAssertion,
        AssertionKey = LoadPrivateKey(p.PrivateKey),
        AuthMethod = ToAuthMethod(p.TokenEndpointAuthMethod),
        Scopes = p.Scopes ?? [],
        Audience = p.Audience,
        ExtraAuthParams = p.ExtraAuthParams ?? new Dictionary<string, string>(),
        ExtraTokenParams = p.ExtraTokenParams ?? new Dictionary<string, string>(),
        ExtraRefreshParams = p.ExtraRefreshParams ?? new Dictionary<string, string>(),
        AddAuthParamsToTokenRequest = p.AddAuthParamsToTokenRequest ?? false,
        Headers = p.Headers ?? new Dictionary<string, string>(),
        TimeoutSeconds = p.TimeoutSeconds ?? 30,
        CaBundlePath = p.Tls?.CaBundlePath,
        InsecureSkipVerify = p.Tls?.InsecureSkipVerify ?? false,
        AllowInsecureHttp = p.AllowInsecureHttp ?? false,
        Pages = ToPages(p.Pages, logger),
        Storage = p.Storage is { } storage ? ToStorage(storage) : null,
        Resources = p.Resource?.Values ?? [],
        RedirectUri = p.RedirectUri,
        Dpop = p.Dpop is { Enabled: true } dpop ? new DpopOptions { Algorithm = dpop.Alg is { } alg ? ToAlgorithm(alg) : null } : null,
        Par = ToParMode(p.Par),
    };

    /// <summary>Reads what <c>createClient</c> names as the server: issuer, endpoints, or a provider preset and its authority.</summary>
    /// <param name="p">The parameters.</param>
    /// <returns>The target.</returns>
    public static ClientTarget ToTarget(CreateClientParams p) => new(p.Issuer, ToServerConfiguration(p.ServerConfiguration), p.Provider is { } provider ? ToProviderName(provider) : null, p.Authority);

    /// <summary>Writes a Core preset name as the wire's provider.</summary>
    /// <param name="name">The preset's name.</param>
    /// <returns>The wire value.</returns>
    public static ProviderDto FromProviderName(string name) =>
        Enum.GetValues<ProviderDto>().First(p => ToProviderName(p) == name);

    /// <summary>Reads a provider preset's name as Core knows it.</summary>
    /// <param name="provider">The wire value.</param>
    /// <returns>The preset's name.</returns>
    public static string ToProviderName(ProviderDto provider) => provider switch
    {
        ProviderDto.GitHub => "github",
        ProviderDto.GitLab => "gitlab",
        ProviderDto.Google => "google",
        ProviderDto.Entra => "entra",
        ProviderDto.Okta => "okta",
        ProviderDto.Auth0 => "auth0",
        ProviderDto.Keycloak => "keycloak",
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "A provider the mapping does not know (a bug)."),
    };

    /// <summary>Reads the options of <c>initiateAuthCodeFlow</c> / <c>obtainTokenByBrowser</c>.</summary>
    /// <param name="p">The parameters.</param>
    /// <returns>The flow options.</returns>
    public static AuthCodeFlowOptions ToFlowOptions(InitiateAuthCodeFlowParams p)
    {
        CallbackTls? tls = p.Callback?.Tls;
        return new AuthCodeFlowOptions
        {
            Scopes = p.Scopes,
            RedirectUri = p.RedirectUri,
            State = p.State,
            LoginHint = p.LoginHint,
            Prompt = p.Prompt,
            ResponseMode = p.ResponseMode switch { null => null, ResponseModeDto.Query => "query", ResponseModeDto.FormPost => "form_post", { } other => throw Unmapped(other) },
            ExtraParams = p.ExtraParams,
            CertFile = tls?.Adhoc == true ? null : tls?.CertFile,
            KeyFile = tls?.Adhoc == true ? null : tls?.KeyFile,
            TimeoutSeconds = p.Callback?.TimeoutSeconds,
            AllowNonLoopback = p.Callback?.AllowNonLoopback ?? false,
            Resources = p.Resource?.Values,
        };
    }

    /// <summary>Reads the options of <c>startCallbackServer</c>.</summary>
    /// <param name="p">The parameters.</param>
    /// <param name="logger">For page loading problems.</param>
    /// <returns>The server options.</returns>
    public static CallbackServerOptions ToServerOptions(StartCallbackServerParams p, ILogger logger) => new()
    {
        Host = p.Host,
        Port = p.Port,
        Path = p.Path,
        Scheme = p.Scheme switch { null => null, CallbackSchemeDto.Https => "https", CallbackSchemeDto.Http => "http", { } other => throw Unmapped(other) },
        CertFile = p.Tls?.Adhoc == true ? null : p.Tls?.CertFile,
        KeyFile = p.Tls?.Adhoc == true ? null : p.Tls?.KeyFile,
        Pages = ToPages(p.Pages, logger),
        TimeoutSeconds = p.TimeoutSeconds,
        AllowNonLoopback = p.AllowNonLoopback ?? false,
    };

    /// <summary>Reads <c>getCredentials</c>' <c>interactive</c>.</summary>
    /// <param name="value">The wire value, or <see langword="null"/> for the default.</param>
    /// <returns>The mode.</returns>
    public static InteractionMode ToInteraction(InteractionModeDto? value) => value switch
    {
        null or InteractionModeDto.Auto => InteractionMode.Auto,
        InteractionModeDto.Browser => InteractionMode.Browser,
        InteractionModeDto.Device => InteractionMode.Device,
        InteractionModeDto.None => InteractionMode.None,
        InteractionModeDto.Paste => InteractionMode.Paste,
        { } other => throw Unmapped(other),
    };

    /// <summary>Writes how the user signed in.</summary>
    /// <param name="method">The engine's value, or <see langword="null"/>.</param>
    /// <returns>The wire value.</returns>
    public static SignInMethodDto? ToDto(SignInMethod? method) => method switch
    {
        null => null,
        SignInMethod.Stored => SignInMethodDto.Stored,
        SignInMethod.Refresh => SignInMethodDto.Refresh,
        SignInMethod.Browser => SignInMethodDto.Browser,
        SignInMethod.Device => SignInMethodDto.Device,
        SignInMethod.Paste => SignInMethodDto.Paste,
        { } other => throw Unmapped(other),
    };

    /// <summary>The error code that tells a caller what was wrong with a pasted address.</summary>
    /// <param name="kind">The problem.</param>
    /// <returns>-32002 (state or iss) or -32602 (not a redirect address).</returns>
    public static int ToErrorCode(RedirectProblemKind kind) => kind switch
    {
        RedirectProblemKind.StateMismatch => ErrorCodes.StateMismatch,
        RedirectProblemKind.NotARedirect => ErrorCodes.InvalidParams,
        _ => throw Unmapped(kind),
    };

    /// <summary>Writes where the sidecar runs.</summary>
    /// <param name="environment">The detected environment.</param>
    /// <returns>The wire shape.</returns>
    public static EnvironmentInfo ToDto(HostEnvironment environment) => new()
    {
        Remote = environment.Remote,
        Wsl = environment.Wsl,
        Container = environment.Container,
        CanOpenBrowser = environment.CanOpenBrowser,
        Reason = environment.BrowserUnavailableReason,
    };

    /// <summary>Writes a parsed challenge.</summary>
    /// <param name="c">The challenge.</param>
    /// <returns>The wire result.</returns>
    public static ParseChallengeResult ToDto(ResourceChallenge c) => new()
    {
        Scheme = c.Scheme,
        Params = c.Parameters,
        Error = c.Error,
        ErrorDescription = c.ErrorDescription,
        Scope = c.Scope,
        AcrValues = c.AcrValues,
        MaxAge = c.MaxAge,
        Claims = c.Claims,
        ResourceMetadata = c.ResourceMetadata,
        Realm = c.Realm,
    };

    /// <summary>Reads <c>obtainTokenByAssertion</c>'s <c>grantType</c>.</summary>
    /// <param name="value">The wire value.</param>
    /// <returns>The RFC 7521 grant type URI.</returns>
    public static string ToGrantType(AssertionGrantTypeDto value) => value switch
    {
        AssertionGrantTypeDto.JwtBearer => OAuthClient.JwtBearerGrantType,
        AssertionGrantTypeDto.Saml2Bearer => OAuthClient.Saml2BearerGrantType,
        _ => throw Unmapped(value),
    };

    /// <summary>Writes the start of an authorization code flow.</summary>
    /// <param name="flow">The flow.</param>
    /// <returns>The wire result.</returns>
    public static InitiateAuthCodeFlowResult ToResult(AuthCodeFlow flow) => new()
    {
        FlowId = flow.FlowId,
        AuthUri = flow.AuthUri,
        State = flow.State,
        RedirectUri = flow.RedirectUri,
        ExpiresAt = flow.ExpiresAt.ToUnixTimeSeconds(),
        CertificateSha256 = flow.Listener?.CertificateSha256,
    };

    /// <summary>Writes the start of a device flow.</summary>
    /// <param name="flow">The flow.</param>
    /// <returns>The wire result.</returns>
    public static InitiateDeviceFlowResult ToResult(DeviceFlow flow) => new()
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

    /// <summary>Writes a callback.</summary>
    /// <param name="result">What the listener received.</param>
    /// <returns>The wire result.</returns>
    public static CallbackResultDto ToDto(CallbackResult result) =>
        new() { Params = result.Params, Method = result.Method, Path = result.Path, ReceivedAt = result.ReceivedAt };

    /// <summary>Writes an account summary.</summary>
    /// <param name="a">The summary.</param>
    /// <returns>The wire shape.</returns>
    public static AccountInfo ToDto(AccountSummary a) => new()
    {
        Account = a.Account,
        ClientId = a.ClientId,
        Issuer = a.Issuer,
        Scopes = a.Scopes,
        ExpiresAt = a.ExpiresAt,
        Username = a.Username,
    };

    private static CallbackPages? ToPages(PagesDto? pages, ILogger logger) =>
        pages is null ? null : CallbackPages.Load(pages.SuccessHtmlPath, pages.ErrorHtmlPath, pages.SuccessHtml, pages.ErrorHtml, logger);

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
                throw new InvalidOptionException(CoreOption.PrivateKeyFile, $"{{{CoreOption.PrivateKeyFile}}} '{path}' could not be read: {ex.Message}");
            }
        }
        else
        {
            throw new InvalidOptionException(CoreOption.PrivateKeyFile, $"{{{CoreOption.PrivateKey}}} needs a PEM file or the PEM text.");
        }

        return ClientAssertionKey.FromPem(pem, key.KeyId, key.Algorithm, CoreOption.PrivateKey);
    }

    private static ParMode ToParMode(ParModeDto? value) => value switch
    {
        null or ParModeDto.Auto => ParMode.Auto,
        ParModeDto.Always => ParMode.Always,
        ParModeDto.Never => ParMode.Never,
        { } other => throw Unmapped(other),
    };

    // The wire names are the JWS algorithm names (RFC 7518 §3.1, RFC 8037 §3.1) the engine uses.
    private static string ToAlgorithm(DpopAlgorithmDto value) => value switch
    {
        DpopAlgorithmDto.ES256 => "ES256",
        DpopAlgorithmDto.ES384 => "ES384",
        DpopAlgorithmDto.ES512 => "ES512",
        DpopAlgorithmDto.RS256 => "RS256",
        DpopAlgorithmDto.PS256 => "PS256",
        DpopAlgorithmDto.EdDSA => "EdDSA",
        _ => throw Unmapped(value),
    };

    private static TokenEndpointAuthMethod? ToAuthMethod(TokenEndpointAuthMethodDto? value) => value switch
    {
        null => null,
        TokenEndpointAuthMethodDto.ClientSecretBasic => TokenEndpointAuthMethod.ClientSecretBasic,
        TokenEndpointAuthMethodDto.ClientSecretPost => TokenEndpointAuthMethod.ClientSecretPost,
        TokenEndpointAuthMethodDto.None => TokenEndpointAuthMethod.None,
        TokenEndpointAuthMethodDto.PrivateKeyJwt => TokenEndpointAuthMethod.PrivateKeyJwt,
        { } other => throw Unmapped(other),
    };

    // A contract enum value without a Core counterpart: a bug (a value added to the contract but not mapped here).
    private static ArgumentOutOfRangeException Unmapped<TEnum>(TEnum value)
        where TEnum : struct, Enum => new(nameof(value), value, $"{typeof(TEnum).Name}.{value} has no mapping to the engine.");
}
