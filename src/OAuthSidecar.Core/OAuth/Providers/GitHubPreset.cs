namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// GitHub (github.com and GitHub Enterprise Server), as documented in "Authorizing OAuth apps"
/// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps) and "Refreshing user access
/// tokens" (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens):
/// no discovery for user sign-in, so the endpoints are fixed paths under the host; the client secret goes in the form
/// body (GitHub ignores HTTP Basic); scopes are granted as a comma-separated list; no id_token, so the account is the
/// <c>login</c> of <c>GET /user</c>; a loopback redirect URI may use any port.
/// </summary>
public sealed class GitHubPreset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "github";

    /// <inheritdoc/>
    public override string Documentation => "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps";

    /// <inheritdoc/>
    public override string? DefaultAuthority => "https://github.com";

    /// <inheritdoc/>
    /// <remarks>"OAuth app tokens do not expire" unless the app opted into expiring user tokens (then with expires_in).</remarks>
    public override bool AccessTokensMayNotExpire => true;

    /// <inheritdoc/>
    protected override TokenEndpointAuthMethod? SecretAuthMethod => TokenEndpointAuthMethod.ClientSecretPost;

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority)
    {
        string host = Base(authority);
        return new PresetTarget(null, new ServerConfiguration(
            Issuer: null,
            AuthorizationEndpoint: host + "/login/oauth/authorize",
            TokenEndpoint: host + "/login/oauth/access_token",
            DeviceAuthorizationEndpoint: host + "/login/device/code"));
    }

    /// <inheritdoc/>
    public override AccountEndpoint Account(Uri authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        // github.com's REST API is on api.github.com; GitHub Enterprise Server serves it under /api/v3 on its own host.
        string url = string.Equals(authority.Host, "github.com", StringComparison.OrdinalIgnoreCase)
            ? "https://api.github.com/user"
            : Base(authority) + "/api/v3/user";
        return new AccountEndpoint(url, "login", "application/vnd.github+json");
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"No discovery for user sign-in: the endpoints are {Base(authority)}/login/oauth/authorize, /login/oauth/access_token and /login/device/code.",
        "A client secret is sent in the form body (client_secret_post): GitHub ignores HTTP Basic client authentication. The device flow needs no secret.",
        "Answers are form-encoded unless JSON is asked for, and errors (device polling too) come with HTTP 200: Accept: application/json is sent and an error member is an error whatever the status.",
        "Granted scopes come as a comma-separated list.",
        $"No id_token: the account is the login of GET {this.Account(authority).Url}.",
        "Refresh tokens exist only for GitHub Apps with expiring user tokens; OAuth app tokens do not expire.",
        "Redirect URIs use 127.0.0.1 on any port (register http://127.0.0.1/callback).",
        "No RFC 7009 revocation endpoint: signOut forgets the account locally.",
    ];
}
