using System.Text.Json;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The endpoints of one authorization server, from OpenID Connect discovery, RFC 8414 metadata,
/// or given explicitly by the caller.
/// </summary>
/// <param name="Issuer">The issuer identifier (RFC 8414 §2); <see langword="null"/> when the caller gave endpoints only.</param>
/// <param name="AuthorizationEndpoint">RFC 6749 §3.1 authorization endpoint.</param>
/// <param name="TokenEndpoint">RFC 6749 §3.2 token endpoint (required).</param>
/// <param name="DeviceAuthorizationEndpoint">RFC 8628 §3.1 device authorization endpoint.</param>
/// <param name="RevocationEndpoint">RFC 7009 revocation endpoint.</param>
/// <param name="JwksUri">The JSON Web Key Set that signs id_tokens.</param>
/// <param name="IntrospectionEndpoint">RFC 7662 introspection endpoint.</param>
/// <param name="AuthorizationResponseIssParameterSupported">RFC 9207: the server puts <c>iss</c> in every authorization response, so the client must check it.</param>
/// <param name="PushedAuthorizationRequestEndpoint">RFC 9126 §5 pushed authorization request endpoint.</param>
/// <param name="RequirePushedAuthorizationRequests">RFC 9126 §5: the server accepts authorization requests only through its pushed authorization request endpoint.</param>
/// <param name="DpopSigningAlgValuesSupported">RFC 9449 §5.1: the JWS algorithms the server accepts in DPoP proofs; <see langword="null"/> when not published.</param>
public sealed record ServerConfiguration(
    string? Issuer,
    string? AuthorizationEndpoint,
    string TokenEndpoint,
    string? DeviceAuthorizationEndpoint = null,
    string? RevocationEndpoint = null,
    string? JwksUri = null,
    string? IntrospectionEndpoint = null,
    bool AuthorizationResponseIssParameterSupported = false,
    string? PushedAuthorizationRequestEndpoint = null,
    bool RequirePushedAuthorizationRequests = false,
    IReadOnlyList<string>? DpopSigningAlgValuesSupported = null);

/// <summary>When an authorization request is pushed to the server first (RFC 9126).</summary>
public enum ParMode
{
    /// <summary>When the server's metadata names a <c>pushed_authorization_request_endpoint</c> (the default).</summary>
    Auto,

    /// <summary>Always; the server must have a pushed authorization request endpoint.</summary>
    Always,

    /// <summary>Never; refused when the server requires pushed authorization requests.</summary>
    Never,
}

/// <summary>A client's DPoP settings (RFC 9449): its tokens are bound to keys the sidecar holds.</summary>
public sealed class DpopOptions
{
    /// <summary>Gets the JWS algorithm of the keys (<c>ES256</c>, <c>RS256</c>, …); by default the sidecar's first choice (ES256, ES384, ES512, RS256, PS256) that the server's <c>dpop_signing_alg_values_supported</c> lists, else ES256.</summary>
    public string? Algorithm { get; init; }
}

/// <summary>How the client authenticates at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2).</summary>
public enum TokenEndpointAuthMethod
{
    /// <summary>A public client: only <c>client_id</c> is sent.</summary>
    None,

    /// <summary>HTTP Basic with the form-urlencoded client id and secret (RFC 6749 §2.3.1).</summary>
    ClientSecretBasic,

    /// <summary><c>client_id</c> and <c>client_secret</c> in the request body.</summary>
    ClientSecretPost,

    /// <summary>A JWT signed with the client's private key (RFC 7523 §2.2).</summary>
    PrivateKeyJwt,
}

/// <summary>How a provider is asked for a refresh token in an authorization request.</summary>
public enum RefreshTokenStyle
{
    /// <summary>As the caller asked: the scopes are sent unchanged (the default without a preset).</summary>
    AsAsked,

    /// <summary>The <c>offline_access</c> scope is added (OpenID Connect Core §11: Entra, Okta, Auth0).</summary>
    OfflineAccessScope,

    /// <summary><c>access_type=offline</c> and <c>prompt=consent</c>, and no <c>offline_access</c> scope (Google rejects it).</summary>
    AccessTypeOffline,
}

/// <summary>
/// One OAuth client registration at one authorization server: what <c>createClient</c> configures
/// (MSAL's <c>Client</c> constructor, flytekit's <c>AuthorizationClient</c>). A provider preset
/// (<see cref="Providers.ProviderPreset"/>) fills the members the caller left out.
/// </summary>
public sealed record ClientRegistration
{
    /// <summary>Gets the client identifier (RFC 6749 §2.2).</summary>
    public required string ClientId { get; init; }

    /// <summary>Gets the client secret for <c>client_secret_basic</c> / <c>client_secret_post</c>.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>Gets a ready-made client assertion (RFC 7521 §4.2) for <c>private_key_jwt</c>.</summary>
    public string? ClientAssertion { get; init; }

    /// <summary>Gets the private key that signs a fresh client assertion per request (<c>private_key_jwt</c>, RFC 7523 §2.2).</summary>
    public ClientAssertionKey? AssertionKey { get; init; }

    /// <summary>Gets the token endpoint authentication method; when <see langword="null"/>, <c>client_secret_basic</c> with a secret, else <c>none</c>.</summary>
    public TokenEndpointAuthMethod? AuthMethod { get; init; }

    /// <summary>Gets the default scopes, used when a call names none.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Gets the <c>audience</c> parameter sent with authorization and token requests (flytekit, Auth0).</summary>
    public string? Audience { get; init; }

    /// <summary>Gets extra authorization request parameters; they may not override standard ones.</summary>
    public IReadOnlyDictionary<string, string> ExtraAuthParams { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets extra token request parameters; they may not override standard ones.</summary>
    public IReadOnlyDictionary<string, string> ExtraTokenParams { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets extra refresh request parameters; they may not override standard ones.</summary>
    public IReadOnlyDictionary<string, string> ExtraRefreshParams { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets a value indicating whether <see cref="ExtraAuthParams"/> are also sent to the token endpoint (flytekit <c>add_request_auth_code_params_to_request_access_token_params</c>).</summary>
    public bool AddAuthParamsToTokenRequest { get; init; }

    /// <summary>Gets HTTP headers added to every request to the authorization server.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets the time allowed for one HTTP request to the authorization server, in seconds (default 30).</summary>
    public double TimeoutSeconds { get; init; } = 30;

    /// <summary>Gets the path of a PEM bundle of extra trusted root certificates, if any.</summary>
    public string? CaBundlePath { get; init; }

    /// <summary>Gets a value indicating whether server certificates are not verified (flytekit <c>verify=False</c>; for development only).</summary>
    public bool InsecureSkipVerify { get; init; }

    /// <summary>
    /// Gets a value indicating whether plain <c>http</c> endpoints on hosts that are not loopback are accepted (tests and
    /// labs only: a client secret or code would then cross the network in cleartext; RFC 6749 §3.1, §3.2 require TLS).
    /// </summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>Gets the credential store of this client; the process default when <see langword="null"/>.</summary>
    public Credentials.StorageBackend? Storage { get; init; }

    /// <summary>Gets the pages the loopback server shows after this client's callbacks (flytekit <c>EndpointMetadata</c>).</summary>
    public Loopback.CallbackPages? Pages { get; init; }

    /// <summary>Gets the default resource indicators (RFC 8707 §2) of authorization, token and refresh requests; empty for none.</summary>
    public IReadOnlyList<string> Resources { get; init; } = [];

    /// <summary>Gets the default redirect URI of browser sign-ins (a preset's loopback host, or the exact URI registered at a provider that pins ports); <see langword="null"/>: <c>http://127.0.0.1:0/callback</c>.</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets how a refresh token is asked for in authorization requests.</summary>
    public RefreshTokenStyle RefreshTokens { get; init; } = RefreshTokenStyle.AsAsked;

    /// <summary>Gets a value indicating whether a refresh always names the scopes it asks for (Entra recommends it), instead of none when it asks for what the grant holds.</summary>
    public bool RefreshNamesScopes { get; init; }

    /// <summary>Gets authorization request parameters a preset adds unless the request sets them itself (Google's <c>access_type</c>, <c>prompt</c>).</summary>
    public IReadOnlyDictionary<string, string> DefaultAuthParams { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets the endpoint that names the account when the provider issues no id_token (GitHub, GitLab), or <see langword="null"/>.</summary>
    public Providers.AccountEndpoint? AccountEndpoint { get; init; }

    /// <summary>Gets the rule by which issuers (discovery, id_token <c>iss</c>) count as the server's.</summary>
    public IssuerRule Issuers { get; init; } = IssuerRule.Default;

    /// <summary>Gets the preset that filled this registration, or <see langword="null"/>.</summary>
    public Providers.ProviderPreset? Preset { get; init; }

    /// <summary>Gets what the preset set, in words (empty without a preset).</summary>
    public IReadOnlyList<string> Quirks { get; init; } = [];

    /// <summary>Gets the DPoP settings (RFC 9449); <see langword="null"/>: the client's tokens are bearer tokens.</summary>
    public DpopOptions? Dpop { get; init; }

    /// <summary>Gets when authorization requests are pushed (RFC 9126); default <see cref="ParMode.Auto"/>.</summary>
    public ParMode Par { get; init; } = ParMode.Auto;

    /// <summary>Gets the effective authentication method.</summary>
    public TokenEndpointAuthMethod EffectiveAuthMethod =>
        this.AuthMethod ?? (this.ClientSecret is not null ? TokenEndpointAuthMethod.ClientSecretBasic
            : this.ClientAssertion is not null || this.AssertionKey is not null ? TokenEndpointAuthMethod.PrivateKeyJwt
            : TokenEndpointAuthMethod.None);

    /// <summary>
    /// Returns the scopes an authorization or device authorization request sends for <paramref name="scopes"/>:
    /// with <c>offline_access</c> added or removed as <see cref="RefreshTokens"/> asks.
    /// </summary>
    /// <param name="scopes">The scopes asked for.</param>
    /// <returns>The scopes to send.</returns>
    public IReadOnlyList<string> AuthorizationScopes(IReadOnlyList<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        return this.RefreshTokens switch
        {
            RefreshTokenStyle.OfflineAccessScope when !scopes.Contains(OAuth.Scopes.OfflineAccess, StringComparer.Ordinal) => [.. scopes, OAuth.Scopes.OfflineAccess],
            RefreshTokenStyle.AccessTypeOffline => scopes.Where(s => !string.Equals(s, OAuth.Scopes.OfflineAccess, StringComparison.Ordinal)).ToList(),
            _ => scopes,
        };
    }

    /// <summary>Names the client without its secrets (a record would print every member).</summary>
    /// <returns>A description.</returns>
    public override string ToString() => $"ClientRegistration {{ ClientId = {this.ClientId}, Provider = {this.Preset?.Name ?? "none"} }}";
}

/// <summary>
/// A successful token response (RFC 6749 §5.1), with the id_token's claims when one was issued.
/// </summary>
public sealed class TokenSet
{
    /// <summary>Gets the access token.</summary>
    public required string AccessToken { get; init; }

    /// <summary>Gets the token type, usually <c>Bearer</c>.</summary>
    public required string TokenType { get; init; }

    /// <summary>Gets the lifetime of the access token in seconds, as the server sent it.</summary>
    public long? ExpiresIn { get; init; }

    /// <summary>Gets when the access token expires, in Unix seconds (time of receipt + <see cref="ExpiresIn"/>).</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>Gets the refresh token, if one was issued.</summary>
    public string? RefreshToken { get; init; }

    /// <summary>Gets the id_token (OpenID Connect), if one was issued.</summary>
    public string? IdToken { get; init; }

    /// <summary>Gets the id_token's claims as JSON, when an id_token was issued.</summary>
    public JsonElement? IdTokenClaims { get; init; }

    /// <summary>Gets the granted scopes: the response's <c>scope</c>, else the requested ones (RFC 6749 §5.1).</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>Gets the whole token response as the server sent it.</summary>
    public required JsonElement Raw { get; init; }

    /// <summary>Gets the account this token belongs to: the id_token's <c>sub</c>, or the user endpoint's name (GitHub, GitLab), when known.</summary>
    public string? Account { get; init; }

    /// <summary>Gets the name to show for the account (the user endpoint's <c>login</c> / <c>username</c>), when the provider issues no id_token.</summary>
    public string? Username { get; init; }

    /// <summary>Gets the DPoP key the tokens are bound to (RFC 9449 §5: the server answered <c>token_type</c> <c>DPoP</c>), or <see langword="null"/> for bearer tokens. Never leaves the sidecar.</summary>
    public DpopKey? DpopKey { get; init; }

    /// <summary>Gets the thumbprint (<c>jkt</c>, RFC 7638) of <see cref="DpopKey"/>, or <see langword="null"/>.</summary>
    public string? Jkt => this.DpopKey?.Thumbprint;

    /// <summary>Returns a copy bound to <paramref name="key"/>.</summary>
    /// <param name="key">The DPoP key the server bound the tokens to.</param>
    /// <returns>The copy.</returns>
    public TokenSet BoundTo(DpopKey key) => this.Copy(this.Account, this.RefreshToken, key);

    /// <summary>Returns a copy naming <paramref name="account"/>.</summary>
    /// <param name="account">The account.</param>
    /// <returns>The copy.</returns>
    public TokenSet WithAccount(string account) => this.Copy(account, this.RefreshToken, this.DpopKey);

    /// <summary>Returns a copy with <paramref name="refreshToken"/> (a refresh answer without one keeps the one used, RFC 6749 §6).</summary>
    /// <param name="refreshToken">The refresh token.</param>
    /// <returns>The copy.</returns>
    public TokenSet WithRefreshToken(string refreshToken) => this.Copy(this.Account, refreshToken, this.DpopKey);

    private TokenSet Copy(string? account, string? refreshToken, DpopKey? dpopKey) => new()
    {
        AccessToken = this.AccessToken,
        TokenType = this.TokenType,
        ExpiresIn = this.ExpiresIn,
        ExpiresAt = this.ExpiresAt,
        RefreshToken = refreshToken,
        IdToken = this.IdToken,
        IdTokenClaims = this.IdTokenClaims,
        Scopes = this.Scopes,
        Raw = this.Raw,
        Account = account,
        Username = this.Username,
        DpopKey = dpopKey,
    };
}

/// <summary>An OAuth error response as the server sent it (RFC 6749 §5.2, §4.1.2.1; RFC 8628 §3.5).</summary>
/// <param name="Error">The error code, e.g. <c>invalid_grant</c>, <c>access_denied</c>.</param>
/// <param name="ErrorDescription">The server's human-readable description.</param>
/// <param name="ErrorUri">A page about the error.</param>
/// <param name="Status">The HTTP status of the response, when it came from an endpoint (not a redirect).</param>
public sealed record OAuthError(string Error, string? ErrorDescription = null, string? ErrorUri = null, int? Status = null)
{
    /// <summary>Gets what the error says about DPoP (RFC 9449), so the host can add advice.</summary>
    public DpopRefusal Dpop { get; init; }

    /// <summary>
    /// Gets a value indicating whether the sidecar refused the server's answer (e.g. an unusable <c>token_type</c>)
    /// rather than the server refusing the request; <see cref="ErrorDescription"/> then says why.
    /// </summary>
    public bool FromClient { get; init; }

    /// <summary>Returns a sentence for a person: the code and the server's description.</summary>
    /// <returns>The sentence.</returns>
    public string Describe() =>
        this.FromClient ? $"The authorization server's answer was refused ('{this.Error}'): {this.ErrorDescription}" :
        this.ErrorDescription is { Length: > 0 } d
            ? $"The authorization server answered '{this.Error}': {d}"
            : $"The authorization server answered '{this.Error}'.";
}

/// <summary>What a refusal says about DPoP (RFC 9449).</summary>
public enum DpopRefusal
{
    /// <summary>Nothing.</summary>
    None,

    /// <summary>The server wants DPoP proofs and the client sent none: it must use DPoP with this server.</summary>
    Required,

    /// <summary>The client sent a proof and the server refused it (<c>invalid_dpop_proof</c>, or <c>use_dpop_nonce</c> again after the one retry with its nonce).</summary>
    ProofRefused,
}

/// <summary>The outcome of a token request: tokens, or the OAuth error the server answered.</summary>
public readonly record struct TokenOutcome
{
    private TokenOutcome(TokenSet? tokens, OAuthError? error)
    {
        this.Tokens = tokens;
        this.Error = error;
    }

    /// <summary>Gets the tokens, when the request succeeded.</summary>
    public TokenSet? Tokens { get; }

    /// <summary>Gets the server's error, when it refused.</summary>
    public OAuthError? Error { get; }

    /// <summary>Gets how the user signed in, for a credential request (<c>getCredentials</c>); <see langword="null"/> for a single grant.</summary>
    public Credentials.SignInMethod? Method { get; init; }

    /// <summary>Creates a successful outcome.</summary>
    /// <param name="tokens">The tokens.</param>
    /// <returns>The outcome.</returns>
    public static TokenOutcome Success(TokenSet tokens) => new(tokens, null);

    /// <summary>Creates a refused outcome.</summary>
    /// <param name="error">The server's error.</param>
    /// <returns>The outcome.</returns>
    public static TokenOutcome Failure(OAuthError error) => new(null, error);
}
