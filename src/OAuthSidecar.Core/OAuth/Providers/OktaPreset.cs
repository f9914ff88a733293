namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// Okta, as documented in "Implement authorization by grant type: Authorization Code with PKCE"
/// (https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/main/), "Refresh access tokens"
/// (https://developer.okta.com/docs/guides/refresh-tokens/main/) and "Configure Device Authorization Grant Flow"
/// (https://developer.okta.com/docs/guides/device-authorization-grant/main/): the authority is the authorization
/// server's issuer (<c>https://&lt;org&gt;.okta.com/oauth2/default</c>, or the org server); a native app uses PKCE
/// without a secret; refresh tokens need <c>offline_access</c>; sign-in redirect URIs match exactly, port included.
/// </summary>
public sealed class OktaPreset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "okta";

    /// <inheritdoc/>
    public override string Documentation => "https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/main/";

    /// <inheritdoc/>
    protected override RefreshTokenStyle RefreshTokens => RefreshTokenStyle.OfflineAccessScope;

    /// <inheritdoc/>
    protected override string LoopbackHost => "localhost";

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority) => new(Base(authority), null);

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"Endpoints from OpenID Connect discovery at {Base(authority)} (the authorization server's issuer).",
        "A native app uses PKCE and no client secret.",
        "Refresh tokens are asked for with the offline_access scope (the app needs the Refresh Token grant).",
        "Sign-in redirect URIs match exactly, port included: register e.g. http://localhost:8400/callback and give it as redirectUri.",
    ];
}
