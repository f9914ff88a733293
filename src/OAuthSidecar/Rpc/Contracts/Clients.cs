namespace OAuthSidecar.Rpc.Contracts;

/// <summary>
/// Parameters of <c>createClient</c>: one OAuth client registration at one authorization server (MSAL's
/// <c>Client</c>, flytekit's <c>AuthorizationClient</c>). Give <see cref="Issuer"/> for discovery or
/// <see cref="ServerConfiguration"/> for explicit endpoints.
/// </summary>
public sealed class CreateClientParams
{
    /// <summary>Gets the client identifier (RFC 6749 §2.2).</summary>
    public required string ClientId { get; init; }

    /// <summary>Gets the issuer URL: OpenID Connect discovery, then RFC 8414 metadata.</summary>
    public string? Issuer { get; init; }

    /// <summary>Gets explicit endpoints; they win over discovery (and, member by member, over a preset's fixed endpoints).</summary>
    public ServerConfigurationDto? ServerConfiguration { get; init; }

    /// <summary>Gets a provider preset (1.1): <c>github</c>, <c>gitlab</c>, <c>google</c>, <c>entra</c>, <c>okta</c>, <c>auth0</c> or <c>keycloak</c>. It fills the endpoints (or discovery), the client authentication, how refresh tokens are asked for, the loopback host and the issuer rule; explicit members win.</summary>
    public ProviderDto? Provider { get; init; }

    /// <summary>Gets the preset's base URL (1.1): the GitHub or GitLab host, <c>https://login.microsoftonline.com/&lt;tenant&gt;</c>, the Okta or Auth0 issuer, <c>https://host/realms/&lt;realm&gt;</c>. Defaults: github.com, gitlab.com, accounts.google.com, Entra's <c>common</c>; required for okta, auth0 and keycloak.</summary>
    public string? Authority { get; init; }

    /// <summary>Gets the default resource indicators (1.1, RFC 8707): one URI or an array, sent in authorization, code redemption and every refresh.</summary>
    public ResourceIndicators? Resource { get; init; }

    /// <summary>Gets the default redirect URI of this client's browser sign-ins (1.1): the exact loopback URI registered at a provider that pins ports (Okta, Auth0, Keycloak); by default the preset's loopback host on any free port, else <c>http://127.0.0.1:0/callback</c>.</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets the client secret (a secret: never logged).</summary>
    public string? ClientSecret { get; init; }

    /// <summary>Gets a ready-made client assertion JWT (RFC 7523 §2.2).</summary>
    public string? ClientAssertion { get; init; }

    /// <summary>Gets the private key that signs client assertions for <c>private_key_jwt</c> (addition).</summary>
    public PrivateKeyDto? PrivateKey { get; init; }

    /// <summary>Gets the token endpoint authentication method: <c>client_secret_basic</c> (default with a secret), <c>client_secret_post</c>, <c>none</c> (default without), <c>private_key_jwt</c>.</summary>
    public TokenEndpointAuthMethodDto? TokenEndpointAuthMethod { get; init; }

    /// <summary>Gets the default scopes.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the <c>audience</c> sent with authorization and token requests.</summary>
    public string? Audience { get; init; }

    /// <summary>Gets extra authorization request parameters (flytekit); they never override standard ones.</summary>
    public IReadOnlyDictionary<string, string>? ExtraAuthParams { get; init; }

    /// <summary>Gets extra token request parameters (flytekit); they never override standard ones.</summary>
    public IReadOnlyDictionary<string, string>? ExtraTokenParams { get; init; }

    /// <summary>Gets extra refresh request parameters (flytekit); they never override standard ones.</summary>
    public IReadOnlyDictionary<string, string>? ExtraRefreshParams { get; init; }

    /// <summary>Gets a value indicating whether the extra authorization parameters are also sent to the token endpoint (flytekit).</summary>
    public bool? AddAuthParamsToTokenRequest { get; init; }

    /// <summary>Gets HTTP headers added to every request to the server.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Gets the time allowed for one HTTP request, in seconds (default 30).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets the TLS options (flytekit <c>verify</c>).</summary>
    public TlsOptionsDto? Tls { get; init; }

    /// <summary>
    /// Gets a value indicating whether plain http endpoints on hosts that are not loopback are accepted (1.1; default
    /// false). For test servers and labs only: the client's secret and codes then cross the network in cleartext
    /// (RFC 6749 §3.1, §3.2 require TLS). A warning is logged.
    /// </summary>
    public bool? AllowInsecureHttp { get; init; }

    /// <summary>Gets the pages shown in the browser after a callback (flytekit <c>EndpointMetadata</c>, callback.py).</summary>
    public PagesDto? Pages { get; init; }

    /// <summary>Gets the credential store for this client: <c>keyring</c>, <c>file</c> or <c>memory</c>.</summary>
    public StorageBackendDto? Storage { get; init; }

    /// <summary>
    /// Gets DPoP (RFC 9449, addition 1.1): <c>true</c>, or <c>{ "alg": "ES256" | "RS256" | "EdDSA" | … }</c>, binds
    /// the client's tokens to keys the sidecar holds (results then say <c>tokenType</c> <c>DPoP</c> and <c>jkt</c>);
    /// default off (<c>false</c>). Without <c>alg</c>, the sidecar's first choice (ES256, ES384, ES512, RS256, PS256,
    /// EdDSA) that the server's <c>dpop_signing_alg_values_supported</c> lists, else ES256. EdDSA keys are Ed25519
    /// (RFC 8037). An algorithm the server's list does not name is refused (-32602, <c>dpop.alg</c>).
    /// </summary>
    public DpopSetting? Dpop { get; init; }

    /// <summary>
    /// Gets when authorization requests are pushed first (RFC 9126, addition 1.1): <c>auto</c> (default: when the
    /// server's metadata names a <c>pushed_authorization_request_endpoint</c>), <c>always</c> or <c>never</c>.
    /// </summary>
    public ParModeDto? Par { get; init; }
}

/// <summary>An authorization server's endpoints (RFC 8414 names in camelCase).</summary>
public sealed class ServerConfigurationDto
{
    /// <summary>Gets the issuer identifier.</summary>
    public string? Issuer { get; init; }

    /// <summary>Gets the authorization endpoint.</summary>
    public string? AuthorizationEndpoint { get; init; }

    /// <summary>Gets the token endpoint.</summary>
    public required string TokenEndpoint { get; init; }

    /// <summary>Gets the device authorization endpoint (RFC 8628).</summary>
    public string? DeviceAuthorizationEndpoint { get; init; }

    /// <summary>Gets the revocation endpoint (RFC 7009).</summary>
    public string? RevocationEndpoint { get; init; }

    /// <summary>Gets the JWKS URI.</summary>
    public string? JwksUri { get; init; }

    /// <summary>Gets the introspection endpoint (RFC 7662).</summary>
    public string? IntrospectionEndpoint { get; init; }

    /// <summary>Gets a value indicating whether the server puts <c>iss</c> in authorization responses (RFC 9207).</summary>
    public bool? AuthorizationResponseIssParameterSupported { get; init; }

    /// <summary>Gets the pushed authorization request endpoint (RFC 9126 §5, addition 1.1).</summary>
    public string? PushedAuthorizationRequestEndpoint { get; init; }

    /// <summary>Gets a value indicating whether the server accepts pushed authorization requests only (RFC 9126 §5, addition 1.1).</summary>
    public bool? RequirePushedAuthorizationRequests { get; init; }

    /// <summary>Gets the JWS algorithms the server accepts in DPoP proofs (RFC 9449 §5.1, addition 1.1).</summary>
    public IReadOnlyList<string>? DpopSigningAlgValuesSupported { get; init; }
}

/// <summary>TLS options for requests to the authorization server.</summary>
public sealed class TlsOptionsDto
{
    /// <summary>Gets the path of a PEM bundle of extra trusted CA certificates.</summary>
    public string? CaBundlePath { get; init; }

    /// <summary>Gets a value indicating whether certificates are not verified (development only).</summary>
    public bool? InsecureSkipVerify { get; init; }
}

/// <summary>Pages shown in the browser after a callback: files or strings; a missing file falls back to a built-in page.</summary>
[ProtocolType("CallbackPages")]
public sealed class PagesDto
{
    /// <summary>Gets the path of the success page.</summary>
    public string? SuccessHtmlPath { get; init; }

    /// <summary>Gets the path of the error page.</summary>
    public string? ErrorHtmlPath { get; init; }

    /// <summary>Gets the success page HTML.</summary>
    public string? SuccessHtml { get; init; }

    /// <summary>Gets the error page HTML.</summary>
    public string? ErrorHtml { get; init; }
}

/// <summary>Result of <c>createClient</c>.</summary>
public sealed class CreateClientResult
{
    /// <summary>Gets the opaque handle that names the client in later calls.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the endpoints in use (discovered or given).</summary>
    public required ServerConfigurationDto ServerConfiguration { get; init; }

    /// <summary>Gets the preset in force (1.1), or absent.</summary>
    public ProviderDto? Provider { get; init; }

    /// <summary>Gets what the preset set, in words (1.1); empty without a preset.</summary>
    public required IReadOnlyList<string> Quirks { get; init; }
}

/// <summary>Parameters of <c>disposeClient</c>.</summary>
public sealed class DisposeClientParams
{
    /// <summary>Gets the client to forget.</summary>
    public required string ClientHandle { get; init; }
}
