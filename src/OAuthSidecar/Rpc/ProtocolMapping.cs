using Microsoft.Extensions.Logging;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
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
        AuthMethod = ParseAuthMethod(p.TokenEndpointAuthMethod),
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
        Pages = ToPages(p.Pages, logger),
        Storage = p.Storage is null ? null : ParseStorage(p.Storage),
        Dpop = p.Dpop is { Enabled: true } dpop ? new DpopOptions { Algorithm = dpop.Alg } : null,
        Par = ParsePar(p.Par),
    };

    /// <summary>Reads the options of <c>initiateAuthCodeFlow</c> / <c>obtainTokenByBrowser</c>.</summary>
    /// <param name="p">The parameters.</param>
    /// <returns>The flow options.</returns>
    /// <exception cref="InvalidOptionException">An unknown response mode.</exception>
    public static AuthCodeFlowOptions ToFlowOptions(InitiateAuthCodeFlowParams p)
    {
        if (p.ResponseMode is not (null or "query" or "form_post"))
        {
            throw new InvalidOptionException(CoreOption.ResponseMode, $"{{{CoreOption.ResponseMode}}} must be 'query' or 'form_post' (the loopback server accepts both).");
        }

        CallbackTls? tls = p.Callback?.Tls;
        return new AuthCodeFlowOptions
        {
            Scopes = p.Scopes,
            RedirectUri = p.RedirectUri,
            State = p.State,
            LoginHint = p.LoginHint,
            Prompt = p.Prompt,
            ResponseMode = p.ResponseMode,
            ExtraParams = p.ExtraParams,
            CertFile = tls?.Adhoc == true ? null : tls?.CertFile,
            KeyFile = tls?.Adhoc == true ? null : tls?.KeyFile,
            TimeoutSeconds = p.Callback?.TimeoutSeconds,
            AllowNonLoopback = p.Callback?.AllowNonLoopback ?? false,
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
        Scheme = p.Scheme,
        CertFile = p.Tls?.Adhoc == true ? null : p.Tls?.CertFile,
        KeyFile = p.Tls?.Adhoc == true ? null : p.Tls?.KeyFile,
        Pages = ToPages(p.Pages, logger),
        TimeoutSeconds = p.TimeoutSeconds,
        AllowNonLoopback = p.AllowNonLoopback ?? false,
    };

    /// <summary>Reads <c>getCredentials</c>' <c>interactive</c>.</summary>
    /// <param name="value">The wire value, or <see langword="null"/> for the default.</param>
    /// <returns>The mode.</returns>
    /// <exception cref="InvalidOptionException">An unknown value.</exception>
    public static InteractionMode ToInteraction(string? value) => value switch
    {
        null or "browser" => InteractionMode.Browser,
        "device" => InteractionMode.Device,
        "none" => InteractionMode.None,
        _ => throw new InvalidOptionException(CoreOption.Interaction, $"{{{CoreOption.Interaction}}} must be 'browser', 'device' or 'none'."),
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

    private static ParMode ParsePar(string? value) => value switch
    {
        null or "auto" => ParMode.Auto,
        "always" => ParMode.Always,
        "never" => ParMode.Never,
        _ => throw new InvalidOptionException(CoreOption.Par, $"{{{CoreOption.Par}}} '{value}' is not known: use auto, always or never."),
    };

    private static TokenEndpointAuthMethod? ParseAuthMethod(string? value) => value switch
    {
        null => null,
        "none" => TokenEndpointAuthMethod.None,
        "client_secret_basic" => TokenEndpointAuthMethod.ClientSecretBasic,
        "client_secret_post" => TokenEndpointAuthMethod.ClientSecretPost,
        "private_key_jwt" => TokenEndpointAuthMethod.PrivateKeyJwt,
        _ => throw new InvalidOptionException(CoreOption.AuthMethod, $"{{{CoreOption.AuthMethod}}} '{value}' is not supported; use client_secret_basic, client_secret_post, private_key_jwt or none."),
    };
}
