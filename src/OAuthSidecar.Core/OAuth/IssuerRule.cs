using Duende.IdentityModel.Client;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// When an issuer identifier is "the same" as the one expected (RFC 8414 §3.3, OpenID Connect Discovery §4.3, OpenID
/// Connect Core §3.1.3.7 item 2): exactly equal, or — tolerated for every server, because real ones do it — different
/// only by one trailing slash (Auth0); Microsoft Entra's multi-tenant template, whose <c>{tenantid}</c> segment stands
/// for the token's <c>tid</c> claim; and Google's two spellings of its issuer (<c>https://accounts.google.com</c> and
/// <c>accounts.google.com</c>). Nothing else is loosened: any other difference is a mismatch. Presets refine the rule
/// (<see cref="Providers.EntraIssuerRule"/>, <see cref="Providers.GoogleIssuerRule"/>).
/// </summary>
public class IssuerRule
{
    /// <summary>The placeholder segment in Entra's <c>common</c> and <c>organizations</c> metadata (identitymodel-extensions#1731).</summary>
    public const string TenantPlaceholder = "{tenantid}";

    /// <summary>Google's issuer (https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken).</summary>
    public const string GoogleIssuer = "https://accounts.google.com";

    /// <summary>Google's scheme-less spelling of its issuer, which its id_tokens may carry.</summary>
    public const string GoogleIssuerWithoutScheme = "accounts.google.com";

    /// <summary>Gets the rule every client uses unless a preset gives another.</summary>
    public static IssuerRule Default { get; } = new();

    /// <summary>Gets the name of the rule, for logs and cache keys.</summary>
    public virtual string Name => "default";

    /// <summary>Returns whether two issuers are equal, or differ only by one trailing slash.</summary>
    /// <param name="a">One issuer.</param>
    /// <param name="b">The other.</param>
    /// <returns><see langword="true"/> when the same.</returns>
    public static bool Same(string? a, string? b) =>
        a is not null && b is not null && string.Equals(TrimSlash(a), TrimSlash(b), StringComparison.Ordinal);

    /// <summary>
    /// Returns whether discovered metadata whose <c>issuer</c> is <paramref name="metadataIssuer"/> belongs to the
    /// issuer <paramref name="requestedIssuer"/> it was fetched for: the same, or Entra's template with
    /// <c>{tenantid}</c> where the request named a tenant (<c>common</c>, <c>organizations</c>, a tenant).
    /// </summary>
    /// <param name="metadataIssuer">The metadata's <c>issuer</c>.</param>
    /// <param name="requestedIssuer">The issuer the caller gave.</param>
    /// <returns><see langword="true"/> when acceptable.</returns>
    public virtual bool AcceptsMetadataIssuer(string metadataIssuer, string requestedIssuer) =>
        Same(metadataIssuer, requestedIssuer) || TemplateMatches(metadataIssuer, requestedIssuer, tenant: null);

    /// <summary>
    /// Returns whether an id_token's <c>iss</c> is the expected issuer: the same; or, when the expected issuer is
    /// Entra's template, the template with <c>{tenantid}</c> replaced by the token's <c>tid</c>; or Google's other spelling.
    /// </summary>
    /// <param name="tokenIssuer">The token's <c>iss</c>.</param>
    /// <param name="expectedIssuer">The issuer from discovery or the caller.</param>
    /// <param name="tenantId">The token's <c>tid</c> claim, if any.</param>
    /// <returns><see langword="true"/> when acceptable.</returns>
    public virtual bool AcceptsTokenIssuer(string tokenIssuer, string expectedIssuer, string? tenantId)
    {
        if (Same(tokenIssuer, expectedIssuer))
        {
            return true;
        }

        if (expectedIssuer.Contains(TenantPlaceholder, StringComparison.Ordinal))
        {
            return tenantId is { Length: > 0 } tid && !tid.Contains('/', StringComparison.Ordinal)
                && Same(tokenIssuer, expectedIssuer.Replace(TenantPlaceholder, tid, StringComparison.Ordinal));
        }

        return Same(expectedIssuer, GoogleIssuer) && string.Equals(tokenIssuer, GoogleIssuerWithoutScheme, StringComparison.Ordinal);
    }

    /// <summary>Returns the Duende discovery strategy that applies this rule to the metadata's issuer.</summary>
    /// <returns>The strategy.</returns>
    public IAuthorityValidationStrategy ToDiscoveryStrategy() => new DiscoveryStrategy(this);

    /// <summary>
    /// Returns whether <paramref name="template"/> (with a <c>{tenantid}</c> segment) equals <paramref name="actual"/>
    /// segment by segment, the placeholder matching <paramref name="tenant"/> or, when that is <see langword="null"/>,
    /// any one segment.
    /// </summary>
    /// <param name="template">The issuer with the placeholder.</param>
    /// <param name="actual">The issuer to compare.</param>
    /// <param name="tenant">The tenant the placeholder must stand for, or <see langword="null"/> for any.</param>
    /// <returns><see langword="true"/> on a match.</returns>
    protected static bool TemplateMatches(string template, string actual, string? tenant)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(actual);
        if (!template.Contains(TenantPlaceholder, StringComparison.Ordinal))
        {
            return false;
        }

        string[] expected = TrimSlash(template).Split('/');
        string[] given = TrimSlash(actual).Split('/');
        if (expected.Length != given.Length)
        {
            return false;
        }

        for (int i = 0; i < expected.Length; i++)
        {
            bool same = expected[i] == TenantPlaceholder
                ? given[i].Length > 0 && (tenant is null || string.Equals(given[i], tenant, StringComparison.Ordinal))
                : string.Equals(expected[i], given[i], StringComparison.Ordinal);
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    private static string TrimSlash(string value) => value.EndsWith('/') ? value[..^1] : value;

    private sealed class DiscoveryStrategy(IssuerRule rule) : IAuthorityValidationStrategy
    {
        public AuthorityValidationResult IsIssuerNameValid(string issuerName, string expectedAuthority) =>
            issuerName is { Length: > 0 } && rule.AcceptsMetadataIssuer(issuerName, expectedAuthority)
                ? AuthorityValidationResult.SuccessResult
                : AuthorityValidationResult.CreateError($"Issuer name does not match authority: {issuerName}");

        public AuthorityValidationResult IsEndpointValid(string endpoint, IEnumerable<string> allowedAuthorities) =>
            AuthorityValidationResult.SuccessResult; // endpoints are not required to share the issuer's host (ValidateEndpoints is off)
    }
}
