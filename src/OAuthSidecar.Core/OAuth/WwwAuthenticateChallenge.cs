using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HeaderUtilities = Microsoft.Net.Http.Headers.HeaderUtilities;
using NameValueHeaderValue = Microsoft.Net.Http.Headers.NameValueHeaderValue;

namespace OAuthSidecar.Core.OAuth;

/// <summary>One challenge of a <c>WWW-Authenticate</c> header (RFC 7235 §2.1): its scheme and auth-params, or a token68.</summary>
/// <param name="Scheme">The authentication scheme as sent (<c>Bearer</c>, <c>DPoP</c>, <c>Basic</c>, …).</param>
/// <param name="Parameters">The auth-params, names in lower case (they are case-insensitive), quoted strings unescaped.</param>
/// <param name="Token68">The token68 of a scheme that carries one instead of auth-params (<c>Negotiate abc==</c>), else <see langword="null"/>.</param>
public sealed record AuthenticationChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters, string? Token68);

/// <summary>
/// What a protected resource asks for in its challenge: the RFC 6750 §3 error attributes, the RFC 9470 step-up
/// attributes, an Entra claims challenge and the RFC 9728 resource metadata address.
/// </summary>
public sealed class ResourceChallenge
{
    /// <summary>Gets the scheme of the challenge read (<c>Bearer</c>, <c>DPoP</c>, …).</summary>
    public required string Scheme { get; init; }

    /// <summary>Gets the <c>error</c> (RFC 6750 §3.1: <c>invalid_token</c>, <c>insufficient_scope</c>; RFC 9470 §3: <c>insufficient_user_authentication</c>; Entra: <c>insufficient_claims</c>).</summary>
    public string? Error { get; init; }

    /// <summary>Gets the <c>error_description</c>.</summary>
    public string? ErrorDescription { get; init; }

    /// <summary>Gets the scopes the resource needs (RFC 6750 §3 <c>scope</c>, space-separated on the wire).</summary>
    public IReadOnlyList<string>? Scope { get; init; }

    /// <summary>Gets the authentication context classes the resource accepts (RFC 9470 §3 <c>acr_values</c>).</summary>
    public IReadOnlyList<string>? AcrValues { get; init; }

    /// <summary>Gets the most seconds since the user's last active authentication that the resource accepts (RFC 9470 §3 <c>max_age</c>).</summary>
    public long? MaxAge { get; init; }

    /// <summary>Gets the claims request as JSON (OpenID Connect Core §5.5), decoded when the resource sent it base64-encoded (Entra).</summary>
    public string? Claims { get; init; }

    /// <summary>Gets the address of the resource's protected resource metadata (RFC 9728 §5.1 <c>resource_metadata</c>).</summary>
    public string? ResourceMetadata { get; init; }

    /// <summary>Gets the <c>realm</c>.</summary>
    public string? Realm { get; init; }

    /// <summary>Gets every auth-param of the challenge, names in lower case.</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }
}

/// <summary>
/// Reads <c>WWW-Authenticate</c> headers (RFC 7235 §4.1: one or more challenges, each a scheme with auth-params in
/// tokens or quoted strings, or a token68). The challenges are split by <see cref="HttpHeaders"/> (the .NET HTTP
/// stack's own parser), the auth-params by ASP.NET Core's <see cref="NameValueHeaderValue"/> and
/// <see cref="HeaderUtilities.UnescapeAsQuotedString(Microsoft.Extensions.Primitives.StringSegment)"/>; this class
/// adds what RFC 7235 asks on top (no repeated parameter) and what the step-up attributes mean.
/// </summary>
public static class WwwAuthenticateChallenge
{
    /// <summary>Parses every challenge of a header value (several header lines may be joined with commas).</summary>
    /// <param name="header">The header value.</param>
    /// <returns>The challenges, in order.</returns>
    /// <exception cref="InvalidOptionException">The value is empty or does not follow RFC 7235 §4.1.</exception>
    public static IReadOnlyList<AuthenticationChallenge> ParseAll(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (string.IsNullOrWhiteSpace(header))
        {
            throw Malformed("is empty: give the value of the WWW-Authenticate header, e.g. Bearer error=\"invalid_token\".");
        }

        using var message = new HttpResponseMessage();
        if (!message.Headers.WwwAuthenticate.TryParseAdd(header) || message.Headers.WwwAuthenticate.Count == 0)
        {
            throw Malformed("is not a WWW-Authenticate value (RFC 7235 §4.1): it should be a scheme followed by name=value parameters, e.g. Bearer realm=\"api\", error=\"invalid_token\".");
        }

        var challenges = new List<AuthenticationChallenge>();
        foreach (AuthenticationHeaderValue value in message.Headers.WwwAuthenticate)
        {
            challenges.Add(ReadChallenge(value));
        }

        return challenges;
    }

    /// <summary>
    /// Parses a header value and reads the challenge that concerns OAuth: the first <c>Bearer</c> or <c>DPoP</c>
    /// challenge, else the first one.
    /// </summary>
    /// <param name="header">The header value.</param>
    /// <returns>The challenge's meaning.</returns>
    /// <exception cref="InvalidOptionException">The value is malformed, or an attribute's value is (a <c>max_age</c> that is not a number, a <c>claims</c> that is not JSON).</exception>
    public static ResourceChallenge Parse(string header)
    {
        IReadOnlyList<AuthenticationChallenge> all = ParseAll(header);
        AuthenticationChallenge chosen = all.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || c.Scheme.Equals("DPoP", StringComparison.OrdinalIgnoreCase)) ?? all[0];
        IReadOnlyDictionary<string, string> p = chosen.Parameters;
        string? Get(string name) => p.TryGetValue(name, out string? v) ? v : null;
        return new ResourceChallenge
        {
            Scheme = chosen.Scheme,
            Error = Get("error"),
            ErrorDescription = Get("error_description"),
            Scope = SpaceSeparated(Get("scope")),
            AcrValues = SpaceSeparated(Get("acr_values")),
            MaxAge = Get("max_age") is { } maxAge ? ReadMaxAge(maxAge) : null,
            Claims = Get("claims") is { } claims ? DecodeClaims(claims) : null,
            ResourceMetadata = Get("resource_metadata"),
            Realm = Get("realm"),
            Parameters = p,
        };
    }

    /// <summary>
    /// Reads a claims request: JSON as it is, or base64 (standard or URL-safe, padded or not) of JSON, as Entra sends
    /// it in its claims challenges. It must be a JSON object.
    /// </summary>
    /// <param name="claims">The value.</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="InvalidOptionException">Neither JSON nor base64 of a JSON object.</exception>
    public static string DecodeClaims(string claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        string text = claims.Trim();
        if (!text.StartsWith('{'))
        {
            string base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            byte[] buffer = new byte[base64.Length];
            if (!Convert.TryFromBase64String(base64, buffer, out int written))
            {
                throw Malformed("has a 'claims' parameter that is neither JSON nor base64-encoded JSON (OpenID Connect Core §5.5).");
            }

            text = Encoding.UTF8.GetString(buffer, 0, written);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("has a 'claims' parameter that is not a JSON object (OpenID Connect Core §5.5).");
            }
        }
        catch (JsonException)
        {
            throw Malformed("has a 'claims' parameter that is neither JSON nor base64-encoded JSON (OpenID Connect Core §5.5).");
        }

        return text;
    }

    private static AuthenticationChallenge ReadChallenge(AuthenticationHeaderValue value)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        string? parameterText = value.Parameter;
        if (string.IsNullOrWhiteSpace(parameterText))
        {
            return new AuthenticationChallenge(value.Scheme, parameters, null);
        }

        if (!NameValueHeaderValue.TryParseStrictList([parameterText], out IList<NameValueHeaderValue>? list))
        {
            // RFC 7235 §2.1: a challenge carries auth-params or one token68.
            if (IsToken68(parameterText.Trim()))
            {
                return new AuthenticationChallenge(value.Scheme, parameters, parameterText.Trim());
            }

            throw Malformed($"has parameters in its {value.Scheme} challenge that are not name=value pairs separated by commas (RFC 7235 §2.1); a value with spaces must be in double quotes.");
        }

        foreach (NameValueHeaderValue pair in list)
        {
            string name = pair.Name.ToString().ToLowerInvariant();
            string raw = pair.Value.HasValue ? pair.Value.ToString() : string.Empty;
            string unquoted = raw.StartsWith('"') ? HeaderUtilities.UnescapeAsQuotedString(raw).ToString() : raw;
            if (!parameters.TryAdd(name, unquoted))
            {
                throw Malformed($"names the parameter '{name}' twice in its {value.Scheme} challenge; each may appear once (RFC 7235 §2.1).");
            }
        }

        return new AuthenticationChallenge(value.Scheme, parameters, null);
    }

    private static bool IsToken68(string text) =>
        text.Length > 0
        && text.TrimEnd('=').Length > 0
        && text.TrimEnd('=').All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/');

    private static List<string>? SpaceSeparated(string? value) =>
        value is null ? null : [.. value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static long ReadMaxAge(string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            ? seconds
            : throw Malformed($"has a 'max_age' of '{value}', which is not a number of seconds (RFC 9470 §3).");

    private static InvalidOptionException Malformed(string problem) =>
        new(CoreOption.WwwAuthenticate, $"{{{CoreOption.WwwAuthenticate}}} {problem}");
}
