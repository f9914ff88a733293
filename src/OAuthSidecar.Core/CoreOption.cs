using System.Collections.Frozen;

namespace OAuthSidecar.Core;

/// <summary>
/// The names by which the engine refers to the options it validates (in <see cref="InvalidOptionException.Option"/>
/// and as <c>{Name}</c> placeholders in its messages). They are Core's own names; the host maps each one to the
/// field its callers know (the JSON-RPC host keeps that table beside its contract).
/// </summary>
public static class CoreOption
{
    /// <summary>The issuer to discover (OpenID Connect Discovery, RFC 8414).</summary>
    public const string Issuer = "Client.Issuer";

    /// <summary>A provider preset's name.</summary>
    public const string Provider = "Client.Provider";

    /// <summary>A provider preset's base URL.</summary>
    public const string Authority = "Client.Authority";

    /// <summary>The default resource indicators of a client (RFC 8707).</summary>
    public const string Resource = "Client.Resource";

    /// <summary>The default redirect URI of a client's browser sign-ins.</summary>
    public const string ClientRedirectUri = "Client.RedirectUri";

    /// <summary>The resource indicators of one request (RFC 8707).</summary>
    public const string RequestResource = "Request.Resource";

    /// <summary>The explicit server configuration as a whole.</summary>
    public const string Server = "Client.Server";

    /// <summary>The explicit issuer of a client given endpoints (checked in every id_token).</summary>
    public const string ServerIssuer = "Client.Server.Issuer";

    /// <summary>Accepting plain http on hosts that are not loopback (tests and labs only).</summary>
    public const string AllowInsecureHttp = "Client.AllowInsecureHttp";

    /// <summary>The explicit pushed authorization request endpoint (RFC 9126 §5).</summary>
    public const string ParEndpoint = "Client.Server.PushedAuthorizationRequestEndpoint";

    /// <summary>The explicit token endpoint (RFC 6749 §3.2).</summary>
    public const string TokenEndpoint = "Client.Server.TokenEndpoint";

    /// <summary>The explicit authorization endpoint (RFC 6749 §3.1).</summary>
    public const string AuthorizationEndpoint = "Client.Server.AuthorizationEndpoint";

    /// <summary>The explicit device authorization endpoint (RFC 8628 §3.1).</summary>
    public const string DeviceAuthorizationEndpoint = "Client.Server.DeviceAuthorizationEndpoint";

    /// <summary>The explicit revocation endpoint (RFC 7009).</summary>
    public const string RevocationEndpoint = "Client.Server.RevocationEndpoint";

    /// <summary>The explicit JWKS URI.</summary>
    public const string JwksUri = "Client.Server.JwksUri";

    /// <summary>The explicit introspection endpoint (RFC 7662).</summary>
    public const string IntrospectionEndpoint = "Client.Server.IntrospectionEndpoint";

    /// <summary>The client identifier (RFC 6749 §2.2).</summary>
    public const string ClientId = "Client.ClientId";

    /// <summary>The client secret.</summary>
    public const string ClientSecret = "Client.ClientSecret";

    /// <summary>The private key for <c>private_key_jwt</c>.</summary>
    public const string PrivateKey = "Client.PrivateKey";

    /// <summary>The file that holds the private key for <c>private_key_jwt</c>.</summary>
    public const string PrivateKeyFile = "Client.PrivateKey.File";

    /// <summary>How a credential request may interact with the user.</summary>
    public const string Interaction = "Credentials.Interaction";

    /// <summary>The token endpoint authentication method.</summary>
    public const string AuthMethod = "Client.AuthMethod";

    /// <summary>The per-request HTTP timeout of a client, in seconds.</summary>
    public const string HttpTimeout = "Client.TimeoutSeconds";

    /// <summary>The extra trusted roots (PEM bundle path).</summary>
    public const string CaBundlePath = "Client.CaBundlePath";

    /// <summary>Extra authorization request parameters of a client.</summary>
    public const string ExtraAuthParams = "Client.ExtraAuthParams";

    /// <summary>Extra token request parameters of a client.</summary>
    public const string ExtraTokenParams = "Client.ExtraTokenParams";

    /// <summary>Extra refresh request parameters of a client.</summary>
    public const string ExtraRefreshParams = "Client.ExtraRefreshParams";

    /// <summary>The <c>audience</c> of a client.</summary>
    public const string Audience = "Client.Audience";

    /// <summary>A credential store backend.</summary>
    public const string Storage = "Storage";

    /// <summary>A flow's identifier.</summary>
    public const string FlowId = "Flow.Id";

    /// <summary>The redirect URI of an authorization code flow.</summary>
    public const string RedirectUri = "AuthCode.RedirectUri";

    /// <summary>A caller-chosen <c>state</c>.</summary>
    public const string State = "AuthCode.State";

    /// <summary>Extra parameters of one authorization request.</summary>
    public const string ExtraParams = "AuthCode.ExtraParams";

    /// <summary>The <c>response_mode</c> of an authorization request.</summary>
    public const string ResponseMode = "AuthCode.ResponseMode";

    /// <summary>The lifetime of an authorization code flow, in seconds.</summary>
    public const string FlowTimeout = "AuthCode.TimeoutSeconds";

    /// <summary>The TLS settings of an authorization code flow's listener.</summary>
    public const string FlowTls = "AuthCode.Tls";

    /// <summary>The PEM certificate file of an authorization code flow's listener.</summary>
    public const string FlowCertFile = "AuthCode.Tls.CertFile";

    /// <summary>The PEM key file of an authorization code flow's listener.</summary>
    public const string FlowKeyFile = "AuthCode.Tls.KeyFile";

    /// <summary>An explicit authorization response.</summary>
    public const string AuthResponse = "AuthCode.Response";

    /// <summary>The <c>code</c> of an explicit authorization response.</summary>
    public const string AuthResponseCode = "AuthCode.Response.Code";

    /// <summary>How long one wait for a callback lasts, in seconds.</summary>
    public const string WaitTimeout = "Wait.TimeoutSeconds";

    /// <summary>The host of a standalone callback server.</summary>
    public const string ServerHost = "CallbackServer.Host";

    /// <summary>The port of a standalone callback server.</summary>
    public const string ServerPort = "CallbackServer.Port";

    /// <summary>The path of a standalone callback server.</summary>
    public const string ServerPath = "CallbackServer.Path";

    /// <summary>The scheme of a standalone callback server.</summary>
    public const string ServerScheme = "CallbackServer.Scheme";

    /// <summary>The lifetime of a standalone callback server, in seconds.</summary>
    public const string ServerTimeout = "CallbackServer.TimeoutSeconds";

    /// <summary>The TLS settings of a standalone callback server.</summary>
    public const string ServerTls = "CallbackServer.Tls";

    /// <summary>The PEM certificate file of a standalone callback server.</summary>
    public const string ServerCertFile = "CallbackServer.Tls.CertFile";

    /// <summary>The PEM key file of a standalone callback server.</summary>
    public const string ServerKeyFile = "CallbackServer.Tls.KeyFile";

    /// <summary>An authorization code to redeem.</summary>
    public const string Code = "Grant.Code";

    /// <summary>A refresh token to redeem.</summary>
    public const string RefreshToken = "Grant.RefreshToken";

    /// <summary>A resource owner's user name.</summary>
    public const string Username = "Grant.Username";

    /// <summary>A resource owner's password.</summary>
    public const string Password = "Grant.Password";

    /// <summary>An assertion (RFC 7521).</summary>
    public const string Assertion = "Grant.Assertion";

    /// <summary>An assertion grant type.</summary>
    public const string GrantType = "Grant.GrantType";

    /// <summary>The <c>claims</c> request of a step-up (OpenID Connect Core §5.5), as JSON.</summary>
    public const string Claims = "Credentials.Claims";

    /// <summary>The <c>acr_values</c> of a step-up (RFC 9470 §4).</summary>
    public const string AcrValues = "Credentials.AcrValues";

    /// <summary>The <c>max_age</c> of a step-up, in seconds (RFC 9470 §4).</summary>
    public const string MaxAge = "Credentials.MaxAge";

    /// <summary>A <c>WWW-Authenticate</c> header value to parse (RFC 7235 §4.1, RFC 6750 §3).</summary>
    public const string WwwAuthenticate = "Challenge.WwwAuthenticate";

    /// <summary>The DPoP settings of a client (RFC 9449).</summary>
    public const string Dpop = "Client.Dpop";

    /// <summary>The JWS algorithm of a client's DPoP keys.</summary>
    public const string DpopAlgorithm = "Client.Dpop.Algorithm";

    /// <summary>When a client pushes its authorization requests (RFC 9126).</summary>
    public const string Par = "Client.Par";

    /// <summary>The HTTP method of a DPoP proof for the caller's own request.</summary>
    public const string DpopHtm = "DpopProof.Htm";

    /// <summary>The URL of a DPoP proof for the caller's own request.</summary>
    public const string DpopHtu = "DpopProof.Htu";

    /// <summary>The account whose key signs a DPoP proof.</summary>
    public const string DpopAccount = "DpopProof.Account";

    /// <summary>Gets every name above.</summary>
    public static FrozenSet<string> All { get; } = new[]
    {
        Issuer, Provider, Authority, Resource, ClientRedirectUri, RequestResource, Server, ServerIssuer, AllowInsecureHttp, ParEndpoint, TokenEndpoint, AuthorizationEndpoint, DeviceAuthorizationEndpoint, RevocationEndpoint, JwksUri,
        IntrospectionEndpoint, ClientId, ClientSecret, PrivateKey, PrivateKeyFile, Interaction, AuthMethod, HttpTimeout, CaBundlePath, ExtraAuthParams,
        ExtraTokenParams, ExtraRefreshParams, Audience, Storage, FlowId, RedirectUri, State, ExtraParams, ResponseMode,
        FlowTimeout, FlowTls, FlowCertFile, FlowKeyFile, AuthResponse, AuthResponseCode, WaitTimeout, ServerHost, ServerPort,
        ServerPath, ServerScheme, ServerTimeout, ServerTls, ServerCertFile, ServerKeyFile, Code, RefreshToken, Username,
        Password, Assertion, GrantType, Claims, AcrValues, MaxAge, WwwAuthenticate, Dpop, DpopAlgorithm, Par, DpopHtm, DpopHtu, DpopAccount,
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Returns whether <paramref name="name"/> is one of the names above (ignoring a trailing <c>[key]</c>).</summary>
    /// <param name="name">A name.</param>
    /// <returns><see langword="true"/> when it is known.</returns>
    public static bool IsKnown(string name) =>
        name is not null && All.Contains(BaseOf(name));

    /// <summary>Returns <paramref name="name"/> without a trailing <c>[key]</c>.</summary>
    /// <param name="name">A name, such as <c>Client.ExtraAuthParams[scope]</c>.</param>
    /// <returns>The base name, such as <c>Client.ExtraAuthParams</c>.</returns>
    public static string BaseOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int bracket = name.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0 ? name : name[..bracket];
    }

    /// <summary>Returns the key of a <c>Name[key]</c> option, or <see langword="null"/>.</summary>
    /// <param name="name">A name.</param>
    /// <returns>The key.</returns>
    public static string? KeyOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int bracket = name.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0 || !name.EndsWith(']') ? null : name[(bracket + 1)..^1];
    }

    /// <summary>Returns the name of member <paramref name="key"/> of dictionary option <paramref name="option"/>.</summary>
    /// <param name="option">A dictionary option, e.g. <see cref="ExtraAuthParams"/>.</param>
    /// <param name="key">The member.</param>
    /// <returns><c>option[key]</c>.</returns>
    public static string Member(string option, string key) => $"{option}[{key}]";
}
