namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>Where a preset's endpoints come from: discovery of an issuer, or fixed endpoints (GitHub has no discovery).</summary>
/// <param name="DiscoveryIssuer">The issuer to discover (OpenID Connect Discovery, then RFC 8414), or <see langword="null"/>.</param>
/// <param name="Endpoints">Fixed endpoints, or <see langword="null"/>.</param>
public sealed record PresetTarget(string? DiscoveryIssuer, ServerConfiguration? Endpoints);

/// <summary>
/// What <c>createClient { provider, authority }</c> knows about one identity provider: where its endpoints are, how a
/// native app authenticates there, how refresh tokens are asked for, which loopback host it accepts in redirect URIs,
/// how its issuer is compared, and how the account is named when it issues no id_token. Data and small strategies, one
/// subclass per provider, each citing the provider's documentation. The caller's explicit members always win.
/// </summary>
public abstract class ProviderPreset
{
    /// <summary>Gets the preset's name on the wire (<c>github</c>, <c>entra</c>, …).</summary>
    public abstract string Name { get; }

    /// <summary>Gets the provider's documentation page this preset follows.</summary>
    public abstract string Documentation { get; }

    /// <summary>Gets the authority used when the caller gives none, or <see langword="null"/> when one is required.</summary>
    public virtual string? DefaultAuthority => null;

    /// <summary>Gets the client authentication a native app uses when it has a secret and names no method; <see langword="null"/>: the generic default.</summary>
    protected virtual TokenEndpointAuthMethod? SecretAuthMethod => null;

    /// <summary>Gets how refresh tokens are asked for.</summary>
    protected virtual RefreshTokenStyle RefreshTokens => RefreshTokenStyle.AsAsked;

    /// <summary>
    /// Gets a value indicating whether the provider documents access tokens that never expire and are sent without
    /// <c>expires_in</c> (GitHub OAuth apps); for the others a missing <c>expires_in</c> is taken as 3600 s.
    /// </summary>
    public virtual bool AccessTokensMayNotExpire => false;

    /// <summary>Gets a value indicating whether refreshes always name their scopes.</summary>
    protected virtual bool RefreshNamesScopes => false;

    /// <summary>Gets the loopback host the provider accepts in redirect URIs (<c>127.0.0.1</c> or <c>localhost</c>).</summary>
    protected virtual string LoopbackHost => "127.0.0.1";

    /// <summary>Gets authorization parameters added unless the request sets them.</summary>
    protected virtual IReadOnlyDictionary<string, string> DefaultAuthParams { get; } = new Dictionary<string, string>();

    /// <summary>Returns where the endpoints come from for <paramref name="authority"/>.</summary>
    /// <param name="authority">The provider's base URL (validated: absolute, https or loopback http).</param>
    /// <returns>The target.</returns>
    /// <exception cref="InvalidOptionException">The authority has the wrong shape for this provider.</exception>
    public abstract PresetTarget Resolve(Uri authority);

    /// <summary>Returns what this preset sets, in words, for <paramref name="authority"/> (the <c>quirks</c> of <c>createClient</c>).</summary>
    /// <param name="authority">The authority.</param>
    /// <returns>One sentence per quirk.</returns>
    public abstract IReadOnlyList<string> Quirks(Uri authority);

    /// <summary>Returns the issuer rule of this provider (the generic one unless it needs more).</summary>
    /// <param name="authority">The authority.</param>
    /// <returns>The rule.</returns>
    public virtual IssuerRule Issuers(Uri authority) => IssuerRule.Default;

    /// <summary>Returns the endpoint that names the account when no id_token is issued, or <see langword="null"/>.</summary>
    /// <param name="authority">The authority.</param>
    /// <returns>The endpoint.</returns>
    public virtual AccountEndpoint? Account(Uri authority) => null;

    /// <summary>Fills what the caller left out of <paramref name="registration"/> with this preset's choices.</summary>
    /// <param name="registration">The caller's registration.</param>
    /// <param name="authority">The authority.</param>
    /// <returns>The registration to use.</returns>
    public ClientRegistration Apply(ClientRegistration registration, Uri authority)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(authority);
        var authParams = new Dictionary<string, string>(this.DefaultAuthParams, StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in registration.DefaultAuthParams)
        {
            authParams[pair.Key] = pair.Value;
        }

        return registration with
        {
            AuthMethod = registration.AuthMethod ?? (registration.ClientSecret is not null ? this.SecretAuthMethod : null),
            RefreshTokens = this.RefreshTokens,
            RefreshNamesScopes = this.RefreshNamesScopes,
            RedirectUri = registration.RedirectUri ?? $"http://{this.LoopbackHost}:0/callback",
            DefaultAuthParams = authParams,
            AccountEndpoint = registration.AccountEndpoint ?? this.Account(authority),
            Issuers = this.Issuers(authority),
            Preset = this,
            Quirks = this.Quirks(authority),
        };
    }

    /// <summary>Returns <paramref name="authority"/> without a trailing slash, as a string.</summary>
    /// <param name="authority">The authority.</param>
    /// <returns>The base URL.</returns>
    protected static string Base(Uri authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return authority.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>Returns the path segments of <paramref name="authority"/>.</summary>
    /// <param name="authority">The authority.</param>
    /// <returns>The segments, without slashes.</returns>
    protected static string[] Segments(Uri authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return authority.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }
}
