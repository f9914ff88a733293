namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// GitLab (gitlab.com and self-managed), as documented in "OAuth 2.0 identity provider API"
/// (https://docs.gitlab.com/api/oauth2/) and "GitLab as an OpenID Connect identity provider"
/// (https://docs.gitlab.com/integration/openid_connect_provider/): OpenID Connect discovery at the instance's root;
/// non-confidential applications use PKCE without a secret; refresh tokens are issued with every token and rotate;
/// without the <c>openid</c> scope there is no id_token, so the account is the <c>username</c> of
/// <c>GET /api/v4/user</c>.
/// </summary>
public sealed class GitLabPreset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "gitlab";

    /// <inheritdoc/>
    public override string Documentation => "https://docs.gitlab.com/api/oauth2/";

    /// <inheritdoc/>
    public override string? DefaultAuthority => "https://gitlab.com";

    /// <inheritdoc/>
    protected override TokenEndpointAuthMethod? SecretAuthMethod => TokenEndpointAuthMethod.ClientSecretPost;

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority) => new(Base(authority), null);

    /// <inheritdoc/>
    public override AccountEndpoint Account(Uri authority) => new(Base(authority) + "/api/v4/user", "username");

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"Endpoints from OpenID Connect discovery at {Base(authority)}.",
        "A non-confidential application uses PKCE and no secret; a confidential one sends its secret in the form body (client_secret_post).",
        "Refresh tokens come with every sign-in (no offline_access needed) and rotate on use.",
        $"Without the openid scope there is no id_token: the account is then the username of GET {Base(authority)}/api/v4/user.",
        "Redirect URIs use 127.0.0.1 (register http://127.0.0.1/callback).",
    ];
}
