using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>
/// How a stored refresh token should be redeemed for a request (RFC 6749 §6): which <c>scope</c> to send (none when the
/// request asks for what the grant holds) and which scopes to report when the answer names none.
/// </summary>
/// <param name="Send">The scopes to send; empty: no <c>scope</c> parameter, "the same scope as originally granted". Never <c>offline_access</c>.</param>
/// <param name="Report">The scopes to report when the answer has no <c>scope</c> (RFC 6749 §5.1).</param>
/// <param name="Extends">Whether the request asks for scopes the grant is not known to hold (the server may still grant them).</param>
public sealed record RefreshPlan(IReadOnlyList<string> Send, IReadOnlyList<string> Report, bool Extends);

/// <summary>
/// The rules by which <see cref="CredentialBroker"/> reuses stored tokens and refreshes them, as real servers grant
/// scopes: stored tokens match a request by its scopes without the reserved OpenID Connect ones (MSAL's rule) and by
/// its resource indicators (RFC 8707); a stored access token is handed out while it has at least min(5 minutes, half
/// its lifetime) left; a refresh asks only for what the grant holds (RFC 6749 §6).
/// </summary>
public static class GrantRules
{
    /// <summary>The most a stored access token must still be valid to be handed out: 300 s.</summary>
    public static readonly TimeSpan MaximumMargin = TimeSpan.FromMinutes(5);

    /// <summary>Returns the sorted, distinct resource indicators of a request (the form tokens are stored under).</summary>
    /// <param name="resources">The resource indicators, or <see langword="null"/>.</param>
    /// <returns>The key form.</returns>
    public static List<string> ResourceKey(IEnumerable<string>? resources) =>
        resources is null ? [] : resources.Where(r => !string.IsNullOrEmpty(r)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Finds the stored token for a request: the same scopes (reserved OpenID Connect scopes aside) and the same resources.</summary>
    /// <param name="account">The stored account.</param>
    /// <param name="scopes">The scopes asked for.</param>
    /// <param name="resources">The resource indicators asked for (key form).</param>
    /// <returns>The token, or <see langword="null"/>.</returns>
    public static StoredToken? Find(StoredAccount account, IReadOnlyList<string> scopes, IReadOnlyList<string> resources)
    {
        ArgumentNullException.ThrowIfNull(account);
        IReadOnlyList<string> key = Scopes.Key(scopes);
        return account.Tokens.FirstOrDefault(t => Matches(t, key, resources));
    }

    /// <summary>Removes the stored token of the same key, if any.</summary>
    /// <param name="account">The stored account.</param>
    /// <param name="scopes">The scopes asked for.</param>
    /// <param name="resources">The resource indicators (key form).</param>
    public static void Remove(StoredAccount account, IReadOnlyList<string> scopes, IReadOnlyList<string> resources)
    {
        ArgumentNullException.ThrowIfNull(account);
        IReadOnlyList<string> key = Scopes.Key(scopes);
        account.Tokens.RemoveAll(t => Matches(t, key, resources));
    }

    /// <summary>
    /// Returns whether a stored access token may be handed out at <paramref name="now"/>: it has no known expiry, or at
    /// least min(5 minutes, half its lifetime) left — so a server that issues 60-second tokens does not cost a refresh
    /// on every call. A token stored without its lifetime keeps the 5-minute margin.
    /// </summary>
    /// <param name="token">The token.</param>
    /// <param name="now">The time, in Unix seconds (with fractions).</param>
    /// <returns><see langword="true"/> when fresh enough.</returns>
    public static bool IsFresh(StoredToken token, double now)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.ExpiresAt is not { } expiresAt)
        {
            return true;
        }

        double margin = token.Lifetime is { } lifetime and > 0 ? Math.Min(MaximumMargin.TotalSeconds, lifetime / 2.0) : MaximumMargin.TotalSeconds;
        return expiresAt - now >= margin;
    }

    /// <summary>The scopes the account's grant was asked for (the stored tokens' when not recorded).</summary>
    /// <param name="account">The account.</param>
    /// <returns>The scopes.</returns>
    public static IReadOnlyList<string> RequestedOf(StoredAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return account.GrantRequestedScopes ?? Scopes.Union(account.Tokens.SelectMany(t => t.Scopes));
    }

    /// <summary>The scopes the server granted the account's grant (the stored tokens' when not recorded).</summary>
    /// <param name="account">The account.</param>
    /// <returns>The scopes.</returns>
    public static IReadOnlyList<string> GrantedOf(StoredAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        return account.GrantGrantedScopes ?? Scopes.Union(account.Tokens.SelectMany(t => t.GrantedScopes.Count > 0 ? t.GrantedScopes : t.Scopes));
    }

    /// <summary>
    /// Plans the refresh of <paramref name="account"/>'s grant for <paramref name="requested"/> (RFC 6749 §6): no
    /// <c>scope</c> when the request asks for what the grant holds (the scopes it was asked for, or those granted —
    /// reserved OpenID Connect scopes aside); only granted scopes when it narrows; every requested scope when it asks
    /// for more than the grant is known to hold (the server decides; <c>invalid_scope</c> then leaves the refresh token
    /// intact). <c>offline_access</c> is never sent.
    /// </summary>
    /// <param name="account">The stored account.</param>
    /// <param name="requested">The scopes asked for.</param>
    /// <returns>The plan.</returns>
    public static RefreshPlan Plan(StoredAccount account, IReadOnlyList<string> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        IReadOnlyList<string> grantRequested = RequestedOf(account);
        IReadOnlyList<string> granted = GrantedOf(account);
        IReadOnlyList<string> key = Scopes.Key(requested);
        if (!Scopes.IsSubsetOf(key, Scopes.Union(Scopes.Key(grantRequested), Scopes.Key(granted))))
        {
            List<string> more = WithoutOfflineAccess(requested);
            return new RefreshPlan(more, more, Extends: true);
        }

        if (Scopes.SetEquals(key, Scopes.Key(grantRequested)) || Scopes.SetEquals(key, Scopes.Key(granted)))
        {
            return new RefreshPlan([], granted, Extends: false);
        }

        List<string> narrowed = WithoutOfflineAccess(Scopes.Intersect(requested, granted));
        return new RefreshPlan(narrowed, narrowed.Count > 0 ? narrowed : granted, Extends: false);
    }

    private static List<string> WithoutOfflineAccess(IEnumerable<string> scopes) =>
        scopes.SelectMany(Scopes.Parse).Where(s => !string.Equals(s, Scopes.OfflineAccess, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();

    private static bool Matches(StoredToken token, IReadOnlyList<string> key, IReadOnlyList<string> resources) =>
        Scopes.SetEquals(Scopes.Key(token.Scopes), key) && token.Resources.SequenceEqual(resources, StringComparer.Ordinal);
}
