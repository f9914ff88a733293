namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// Microsoft Entra ID (the Microsoft identity platform v2.0 endpoints), as documented in "OpenID Connect on the
/// Microsoft identity platform" (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc), "OAuth
/// 2.0 authorization code flow" (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow),
/// "OAuth 2.0 device authorization grant" (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code)
/// and "Redirect URI restrictions" (https://learn.microsoft.com/en-us/entra/identity-platform/reply-url): the authority
/// is <c>https://login.microsoftonline.com/&lt;tenant&gt;</c> (a tenant id or domain, <c>common</c>,
/// <c>organizations</c>, <c>consumers</c>; sovereign clouds by their host); the metadata of <c>common</c> and
/// <c>organizations</c> carries the issuer template <c>…/{tenantid}/v2.0</c>, checked against the id_token's
/// <c>tid</c>; a public client sends no secret; refresh tokens need <c>offline_access</c>; <c>http://localhost</c>
/// redirect URIs match on any port.
/// </summary>
public sealed class EntraPreset : ProviderPreset
{
    /// <inheritdoc/>
    public override string Name => "entra";

    /// <inheritdoc/>
    public override string Documentation => "https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc";

    /// <inheritdoc/>
    public override string? DefaultAuthority => "https://login.microsoftonline.com/common";

    /// <inheritdoc/>
    protected override RefreshTokenStyle RefreshTokens => RefreshTokenStyle.OfflineAccessScope;

    /// <inheritdoc/>
    protected override bool RefreshNamesScopes => true;

    /// <inheritdoc/>
    protected override string LoopbackHost => "localhost";

    /// <inheritdoc/>
    public override PresetTarget Resolve(Uri authority) => new(DiscoveryIssuer(authority), null);

    /// <inheritdoc/>
    public override IssuerRule Issuers(Uri authority) => new EntraIssuerRule();

    /// <inheritdoc/>
    public override IReadOnlyList<string> Quirks(Uri authority) =>
    [
        $"Endpoints from OpenID Connect discovery at {DiscoveryIssuer(authority)}.",
        "The metadata of common and organizations names the issuer …/{tenantid}/v2.0: each id_token's issuer must be that template with its tid claim; the metadata of a tenant named by domain, or of consumers, names the tenant's id.",
        "A public client sends no client secret (Entra refuses one from a public client).",
        "Refresh tokens are asked for with the offline_access scope; they rotate on use.",
        "Refreshes name the scopes they ask for (Entra recommends it), offline_access aside.",
        "expires_in and other numbers may come as strings (v1 and B2C endpoints).",
        "Redirect URIs use localhost on any port (register http://localhost/callback under Mobile and desktop applications).",
        "Granted scopes may be spelt otherwise than asked (User.Read for https://graph.microsoft.com/User.Read) and never list offline_access: stored tokens are matched by the scopes asked for.",
    ];

    private static string DiscoveryIssuer(Uri authority)
    {
        string[] segments = Segments(authority);
        string host = authority.GetLeftPart(UriPartial.Authority);
        if (segments.Length > 2 || segments.Length == 2 && !string.Equals(segments[1], "v2.0", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOptionException(CoreOption.Authority, $"{{{CoreOption.Authority}}} '{authority}' is not an Entra authority: use https://login.microsoftonline.com/<tenant>, where the tenant is a tenant id or domain, common, organizations or consumers.");
        }

        string tenant = segments.Length == 0 ? "common" : segments[0];
        return $"{host}/{tenant}/v2.0";
    }
}

/// <summary>
/// Entra's issuer rule for discovery: the metadata of a tenant named by domain (<c>contoso.onmicrosoft.com</c>), of
/// <c>consumers</c>, or of <c>common</c> / <c>organizations</c> (<c>{tenantid}</c>) names the issuer by the tenant's id;
/// any tenant segment on the same host and with the same <c>/v2.0</c> suffix is accepted there. id_tokens are still
/// checked exactly (with <c>tid</c> for the template).
/// </summary>
public sealed class EntraIssuerRule : IssuerRule
{
    /// <inheritdoc/>
    public override string Name => "entra";

    /// <inheritdoc/>
    public override bool AcceptsMetadataIssuer(string metadataIssuer, string requestedIssuer)
    {
        if (base.AcceptsMetadataIssuer(metadataIssuer, requestedIssuer))
        {
            return true;
        }

        if (!Uri.TryCreate(metadataIssuer, UriKind.Absolute, out Uri? metadata) || !Uri.TryCreate(requestedIssuer, UriKind.Absolute, out Uri? requested))
        {
            return false;
        }

        string[] m = metadata.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string[] r = requested.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return string.Equals(metadata.GetLeftPart(UriPartial.Authority), requested.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
            && m.Length == 2 && r.Length == 2 && m[1] == "v2.0" && r[1] == "v2.0" && m[0].Length > 0;
    }
}
