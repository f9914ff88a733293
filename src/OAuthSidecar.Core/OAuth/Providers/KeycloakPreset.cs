namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// Keycloak, as documented in the Server Administration Guide, "OpenID Connect clients" and "Offline access"
/// (https://www.keycloak.org/docs/latest/server_admin/#_oidc_clients,
/// https://www.keycloak.org/docs/latest/server_admin/#_offline-access) and "Securing applications with OIDC"
/// (https://www.keycloak.org/securing-apps/oidc-layers): the authority is the realm,
/// <c>https://&lt;host&gt;/realms/&lt;realm&gt;</c>; a public client uses PKCE without a secret; a refresh token comes with
/// every sign-in (<c>offline_access</c> asks for an offline token that outlives the session, so it is not added);
/// valid redirect URIs match exactly unless registered with a wildcard.
/// </summary>
public sealed class KeycloakPreset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "keycloak";

    /// <inheritdoc/>
    public override string Documentation => "https://www.keycloak.org/docs/latest/server_admin/#_oidc_clients";

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority)
    {
        string[] segments = Segments(authority);
        if (segments.Length < 2 || !string.Equals(segments[^2], "realms", StringComparison.Ordinal))
        {
            throw new InvalidOptionException(CoreOption.Authority, $"{{{CoreOption.Authority}}} '{authority}' is not a Keycloak realm: use https://<host>/realms/<realm> (older servers: https://<host>/auth/realms/<realm>).");
        }

        return new PresetTarget(Base(authority), null);
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"Endpoints from OpenID Connect discovery of the realm at {Base(authority)}.",
        "A public client uses PKCE and no client secret; a confidential client's secret goes in HTTP Basic.",
        "A refresh token comes with every sign-in; offline_access (an offline token that outlives the SSO session) is sent only when asked for.",
        "Valid redirect URIs match exactly, port included: register e.g. http://127.0.0.1:8400/callback and give it as redirectUri.",
    ];
}
