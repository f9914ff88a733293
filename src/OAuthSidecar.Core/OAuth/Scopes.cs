using System.Collections.Frozen;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Scope lists as servers really grant them (RFC 6749 §3.3): parsed from space- or comma-separated strings (GitHub
/// answers <c>repo,gist</c>), compared without regard to order, case or duplicates, with Google's URL spellings of the
/// OpenID Connect scopes read as the short ones, and with the reserved OpenID Connect scopes set apart — as MSAL does
/// when it matches cached tokens to a request.
/// </summary>
public static class Scopes
{
    /// <summary>The reserved OpenID Connect scopes: they ask for an id_token, claims or a refresh token, not for API access.</summary>
    public static readonly FrozenSet<string> Reserved = new[] { "openid", "profile", "email", "offline_access" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The scope that asks for a refresh token (OpenID Connect Core §11); never sent on a refresh.</summary>
    public const string OfflineAccess = "offline_access";

    /// <summary>The scope that asks for an id_token (OpenID Connect Core §3.1.2.1).</summary>
    public const string OpenId = "openid";

    // Google answers the short OpenID Connect scopes in their URL spelling
    // (https://developers.google.com/identity/protocols/oauth2/scopes#oauth2).
    private static readonly FrozenDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["https://www.googleapis.com/auth/userinfo.email"] = "email",
        ["https://www.googleapis.com/auth/userinfo.profile"] = "profile",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Splits a <c>scope</c> value on spaces and commas, dropping empty entries and duplicates.</summary>
    /// <param name="scope">The value as a server sent it, or <see langword="null"/>.</param>
    /// <returns>The scopes, in the order sent.</returns>
    public static IReadOnlyList<string> Parse(string? scope) =>
        scope is null ? [] : scope.Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Returns the comparable form of a scope: Google's URL spellings of <c>email</c> and <c>profile</c> as the short names.</summary>
    /// <param name="scope">A scope.</param>
    /// <returns>Its canonical spelling.</returns>
    public static string Canonical(string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return Aliases.TryGetValue(scope, out string? shortName) ? shortName : scope;
    }

    /// <summary>Returns whether a scope is one of the reserved OpenID Connect scopes (in any spelling).</summary>
    /// <param name="scope">A scope.</param>
    /// <returns><see langword="true"/> for <c>openid</c>, <c>profile</c>, <c>email</c>, <c>offline_access</c>.</returns>
    public static bool IsReserved(string scope) => Reserved.Contains(Canonical(scope));

    /// <summary>Returns the scopes of <paramref name="scopes"/> that are not reserved, canonical, without duplicates, sorted (ordinal, ignoring case).</summary>
    /// <param name="scopes">Scopes; entries may themselves be space- or comma-separated lists.</param>
    /// <returns>The set that stored tokens are matched by.</returns>
    public static IReadOnlyList<string> Key(IEnumerable<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        return scopes.SelectMany(Parse).Select(Canonical).Where(s => !Reserved.Contains(s))
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Returns whether two scope lists name the same set (order, case, duplicates and spelling aside).</summary>
    /// <param name="a">One list.</param>
    /// <param name="b">The other.</param>
    /// <returns><see langword="true"/> when equal as sets.</returns>
    public static bool SetEquals(IEnumerable<string> a, IEnumerable<string> b) =>
        Normalize(a).SetEquals(Normalize(b));

    /// <summary>Returns whether every scope of <paramref name="subset"/> is in <paramref name="superset"/>.</summary>
    /// <param name="subset">The scopes asked for.</param>
    /// <param name="superset">The scopes held.</param>
    /// <returns><see langword="true"/> when covered.</returns>
    public static bool IsSubsetOf(IEnumerable<string> subset, IEnumerable<string> superset) =>
        Normalize(subset).IsSubsetOf(Normalize(superset));

    /// <summary>Returns the scopes of <paramref name="scopes"/> that <paramref name="held"/> contains, in the order of <paramref name="scopes"/>.</summary>
    /// <param name="scopes">The scopes.</param>
    /// <param name="held">The scopes held.</param>
    /// <returns>The intersection.</returns>
    public static IReadOnlyList<string> Intersect(IEnumerable<string> scopes, IEnumerable<string> held)
    {
        HashSet<string> set = Normalize(held);
        return scopes.SelectMany(Parse).Where(s => set.Contains(Canonical(s))).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Returns the union of scope lists, without duplicates (first spelling wins), in the order met.</summary>
    /// <param name="lists">The lists.</param>
    /// <returns>The union.</returns>
    public static List<string> Union(params IEnumerable<string>[] lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<string>();
        foreach (string scope in lists.SelectMany(l => l).SelectMany(Parse))
        {
            if (seen.Add(Canonical(scope)))
            {
                result.Add(scope);
            }
        }

        return result;
    }

    private static HashSet<string> Normalize(IEnumerable<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        return scopes.SelectMany(Parse).Select(Canonical).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }
}
