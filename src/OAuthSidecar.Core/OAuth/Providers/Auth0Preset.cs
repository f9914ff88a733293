namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// Auth0, as documented in "Authorization Code Flow with PKCE"
/// (https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow-with-pkce),
/// "Get Access Tokens" (https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens) and "Refresh Tokens"
/// (https://auth0.com/docs/secure/tokens/refresh-tokens): the authority is the tenant's issuer, which ends with a slash
/// (<c>https://&lt;tenant&gt;.auth0.com/</c>); an access token for an API needs the <c>audience</c> parameter (give
/// <c>audience</c>), otherwise it is an opaque token for <c>/userinfo</c>; a native app uses PKCE without a secret;
/// refresh tokens need <c>offline_access</c>; callback URLs match exactly, port included.
/// </summary>
public sealed class Auth0Preset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "auth0";

    /// <inheritdoc/>
    public override string Documentation => "https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow-with-pkce";

    /// <inheritdoc/>
    protected override RefreshTokenStyle RefreshTokens => RefreshTokenStyle.OfflineAccessScope;

    /// <inheritdoc/>
    protected override string LoopbackHost => "localhost";

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority) => new(Base(authority) + "/", null);

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"Endpoints from OpenID Connect discovery at {Base(authority)}/; the issuer ends with a slash, as Auth0 writes it.",
        "An access token for an API needs the audience parameter (give audience: the API's identifier); without it the access token is an opaque one for /userinfo.",
        "A native app uses PKCE and no client secret.",
        "Refresh tokens are asked for with the offline_access scope (allow offline access in the API's settings).",
        "Allowed callback URLs match exactly, port included: register e.g. http://localhost:8400/callback and give it as redirectUri.",
    ];
}
