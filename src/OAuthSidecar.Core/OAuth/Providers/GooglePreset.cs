namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// Google, as documented in "OAuth 2.0 for Mobile &amp; Desktop Apps"
/// (https://developers.google.com/identity/protocols/oauth2/native-app), "OAuth 2.0 for TV and Limited-Input Device
/// Applications" (https://developers.google.com/identity/protocols/oauth2/limited-input-device) and "OpenID Connect"
/// (https://developers.google.com/identity/openid-connect/openid-connect): a Desktop client has a client secret that is
/// not secret but required, sent in the form body (the device endpoint wants <c>client_id</c> there too); refresh
/// tokens need <c>access_type=offline</c> (and <c>prompt=consent</c> to get one again), and <c>offline_access</c> is
/// rejected; id_tokens carry <c>https://accounts.google.com</c> or <c>accounts.google.com</c> as issuer; the device
/// flow answers <c>verification_url</c>.
/// </summary>
public sealed class GooglePreset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "google";

    /// <inheritdoc/>
    public override string Documentation => "https://developers.google.com/identity/protocols/oauth2/native-app";

    /// <inheritdoc/>
    public override string? DefaultAuthority => IssuerRule.GoogleIssuer;

    /// <inheritdoc/>
    protected override TokenEndpointAuthMethod? SecretAuthMethod => TokenEndpointAuthMethod.ClientSecretPost;

    /// <inheritdoc/>
    protected override RefreshTokenStyle RefreshTokens => RefreshTokenStyle.AccessTypeOffline;

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, string> DefaultAuthParams { get; } = new Dictionary<string, string>
    {
        ["access_type"] = "offline",
        ["prompt"] = "consent",
    };

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority) => new(Base(authority), null);

    /// <inheritdoc/>
    public override IssuerRule Issuers(Uri authority) => new GoogleIssuerRule();

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"Endpoints from OpenID Connect discovery at {Base(authority)}.",
        "The Desktop client's secret (not secret, but required) is sent in the form body (client_secret_post), with client_id, also to the device endpoint.",
        "Refresh tokens are asked for with access_type=offline and prompt=consent (unless the request sets prompt); offline_access is never sent (Google rejects it).",
        "The id_token's issuer may be https://accounts.google.com or accounts.google.com.",
        "Granted scopes come in URL form (https://www.googleapis.com/auth/userinfo.email for email).",
        "The device flow answers verification_url, read as verification_uri.",
        "Refresh answers carry no new refresh token: the one used stays valid.",
        "Redirect URIs use 127.0.0.1 on any port (Desktop clients need no registered redirect URI).",
    ];
}

/// <summary>
/// Google's issuer rule: an id_token's <c>iss</c> may be the issuer without its scheme (<c>accounts.google.com</c> for
/// <c>https://accounts.google.com</c>), as https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken allows.
/// </summary>
public sealed class GoogleIssuerRule : IssuerRule
{
    /// <inheritdoc/>
    public override string Name => "google";

    /// <inheritdoc/>
    public override bool AcceptsTokenIssuer(string tokenIssuer, string expectedIssuer, string? tenantId)
    {
        ArgumentNullException.ThrowIfNull(expectedIssuer);
        if (base.AcceptsTokenIssuer(tokenIssuer, expectedIssuer, tenantId))
        {
            return true;
        }

        return Uri.TryCreate(expectedIssuer, UriKind.Absolute, out Uri? expected)
            && string.Equals(tokenIssuer, expected.Authority + expected.AbsolutePath.TrimEnd('/'), StringComparison.Ordinal);
    }
}
