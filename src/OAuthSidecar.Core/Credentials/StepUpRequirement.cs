using System.Globalization;
using System.Text.Json;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>The user authentication a token was issued under: what a step-up is checked against.</summary>
/// <param name="Acr">The authentication context class reference (<c>acr</c>), or <see langword="null"/>.</param>
/// <param name="AuthTime">When the user last actively authenticated (<c>auth_time</c>), in Unix seconds, or <see langword="null"/>.</param>
/// <param name="Claims">The claims request (JSON) the sign-in was made with, or <see langword="null"/>.</param>
public sealed record AuthenticationContext(string? Acr, long? AuthTime, string? Claims)
{
    /// <summary>Reads the context from a token response's id_token claims (<c>acr</c>, <c>auth_time</c>).</summary>
    /// <param name="tokens">The tokens.</param>
    /// <param name="claims">The claims request the sign-in was made with, or <see langword="null"/>.</param>
    /// <returns>The context, or <see langword="null"/> when the response has no id_token.</returns>
    public static AuthenticationContext? FromIdToken(TokenSet tokens, string? claims)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.IdTokenClaims is not { ValueKind: JsonValueKind.Object } idToken)
        {
            return claims is null ? null : new AuthenticationContext(null, null, claims);
        }

        string? acr = idToken.TryGetProperty("acr", out JsonElement a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        long? authTime = idToken.TryGetProperty("auth_time", out JsonElement t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out long at) ? at : null;
        return new AuthenticationContext(acr, authTime, claims);
    }
}

/// <summary>
/// What a step-up challenge asks of the user's authentication (RFC 9470 §4 <c>acr_values</c> and <c>max_age</c>;
/// an OpenID Connect Core §5.5 <c>claims</c> request, as Entra's claims challenges carry): a stored token that does
/// not satisfy it is not handed out, and the sign-in it leads to sends it in the authorization request.
/// </summary>
/// <remarks>
/// A token satisfies <c>acr_values</c> when its sign-in's <c>acr</c> is one of them, <c>max_age</c> when its
/// <c>auth_time</c> is at most that many seconds ago, and a claims request when the sign-in was made with the same
/// request or the request only asks for an id_token <c>acr</c> (value or values) and <c>auth_time</c> that it has.
/// Anything else in a claims request (an <c>access_token</c> member) cannot be checked here, so only a sign-in made
/// with that very request satisfies it.
/// </remarks>
public sealed class StepUpRequirement
{
    // The claims request, parsed once (Unsatisfied reads it on every getCredentials).
    private readonly JsonElement claimsRequest;

    private StepUpRequirement(string? claims, JsonElement claimsRequest, IReadOnlyList<string> acrValues, long? maxAge)
    {
        this.Claims = claims;
        this.claimsRequest = claimsRequest;
        this.AcrValues = acrValues;
        this.MaxAge = maxAge;
    }

    /// <summary>Gets the claims request as compact JSON, or <see langword="null"/>.</summary>
    public string? Claims { get; }

    /// <summary>Gets the acceptable <c>acr</c> values (empty: any).</summary>
    public IReadOnlyList<string> AcrValues { get; }

    /// <summary>Gets the most seconds since the user's last active authentication, or <see langword="null"/>.</summary>
    public long? MaxAge { get; }

    /// <summary>Gets a text that identifies the requirement (for sharing one sign-in between equal requests).</summary>
    public string Key => $"{string.Join(' ', this.AcrValues)}|{this.MaxAge}|{this.Claims}";

    /// <summary>Gets the authorization request parameters that ask for it: <c>acr_values</c>, <c>max_age</c>, <c>claims</c>.</summary>
    public IReadOnlyDictionary<string, string> AuthorizationParameters
    {
        get
        {
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            if (this.AcrValues.Count > 0)
            {
                parameters["acr_values"] = string.Join(' ', this.AcrValues);
            }

            if (this.MaxAge is { } maxAge)
            {
                parameters["max_age"] = maxAge.ToString(CultureInfo.InvariantCulture);
            }

            if (this.Claims is { } claims)
            {
                parameters["claims"] = claims;
            }

            return parameters;
        }
    }

    /// <summary>Reads a step-up request; <see langword="null"/> when it asks for nothing.</summary>
    /// <param name="claims">The claims request: JSON, or base64-encoded JSON as Entra's challenges carry it.</param>
    /// <param name="acrValues">The acceptable <c>acr</c> values.</param>
    /// <param name="maxAge">The most seconds since the last active authentication (0 or more).</param>
    /// <returns>The requirement, or <see langword="null"/>.</returns>
    /// <exception cref="InvalidOptionException">A claims request that is not a JSON object, an empty <c>acr</c> value, a negative <c>max_age</c>.</exception>
    public static StepUpRequirement? Create(string? claims, IReadOnlyList<string>? acrValues, long? maxAge)
    {
        string? compact = null;
        JsonElement request = default;
        if (claims is not null)
        {
            string json;
            try
            {
                json = WwwAuthenticateChallenge.DecodeClaims(claims);
            }
            catch (InvalidOptionException)
            {
                throw new InvalidOptionException(CoreOption.Claims, $"{{{CoreOption.Claims}}} must be a JSON object (OpenID Connect Core §5.5), or its base64 encoding as in an Entra claims challenge.");
            }

            using JsonDocument document = JsonDocument.Parse(json);
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                document.RootElement.WriteTo(writer);
            }

            compact = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
            request = document.RootElement.Clone();
        }

        List<string> acr = [.. (acrValues ?? []).Distinct(StringComparer.Ordinal)];
        if (acr.Any(v => string.IsNullOrWhiteSpace(v) || v.Contains(' ', StringComparison.Ordinal)))
        {
            throw new InvalidOptionException(CoreOption.AcrValues, $"{{{CoreOption.AcrValues}}} must be a list of non-empty values without spaces (RFC 9470 §4).");
        }

        if (maxAge is < 0)
        {
            throw new InvalidOptionException(CoreOption.MaxAge, $"{{{CoreOption.MaxAge}}} must be 0 or more seconds (RFC 9470 §4).");
        }

        return compact is null && acr.Count == 0 && maxAge is null ? null : new StepUpRequirement(compact, request, acr, maxAge);
    }

    /// <summary>Tells why a sign-in's authentication does not satisfy this requirement.</summary>
    /// <param name="context">The authentication, or <see langword="null"/> when unknown (no id_token).</param>
    /// <param name="now">The time, in Unix seconds.</param>
    /// <returns>A clause ("its acr 'pwd' is not one of 'mfa'"), or <see langword="null"/> when it is satisfied.</returns>
    public string? Unsatisfied(AuthenticationContext? context, long now)
    {
        if (this.AcrValues.Count > 0 && !(context?.Acr is { } acr && this.AcrValues.Contains(acr, StringComparer.Ordinal)))
        {
            return context?.Acr is { } had
                ? $"its authentication context '{had}' is not one of '{string.Join(' ', this.AcrValues)}'"
                : $"its authentication context (acr) is not known to be one of '{string.Join(' ', this.AcrValues)}'";
        }

        if (this.MaxAge is { } maxAge)
        {
            if (context?.AuthTime is not { } authTime)
            {
                return "the time of its sign-in (auth_time) is not known";
            }

            if (now - authTime > maxAge)
            {
                return $"its sign-in was {now - authTime} s ago, more than the {maxAge} s allowed";
            }
        }

        if (this.Claims is { } claims && !string.Equals(context?.Claims, claims, StringComparison.Ordinal) && !this.IdTokenClaimsSatisfied(context))
        {
            return "it was not obtained with this claims request";
        }

        return null;
    }

    // A claims request that asks only for id_token acr (value or values) and auth_time can be checked against the
    // sign-in's id_token; anything else cannot.
    private bool IdTokenClaimsSatisfied(AuthenticationContext? context)
    {
        JsonElement root = this.claimsRequest;
        if (context is null || root.EnumerateObject().Any(p => p.Name != "id_token") || !root.TryGetProperty("id_token", out JsonElement idToken) || idToken.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (JsonProperty claim in idToken.EnumerateObject())
        {
            switch (claim.Name)
            {
                case "auth_time" when context.AuthTime is not null:
                    break;
                case "acr" when context.Acr is { } acr && claim.Value.ValueKind == JsonValueKind.Object:
                    bool matches = claim.Value.TryGetProperty("value", out JsonElement one) ? one.ValueKind == JsonValueKind.String && one.GetString() == acr
                        : claim.Value.TryGetProperty("values", out JsonElement many) && many.ValueKind == JsonValueKind.Array && many.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.String && v.GetString() == acr);
                    if (!matches)
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }
        }

        return true;
    }
}

/// <summary>The credential broker's step-up checks of stored tokens and grants, and what it records after a sign-in.</summary>
internal static class StepUpCheck
{
    /// <summary>Why a stored access token does not satisfy the step-up, or <see langword="null"/>.</summary>
    public static string? OfToken(StepUpRequirement? stepUp, StoredToken token, long now) =>
        stepUp?.Unsatisfied(new AuthenticationContext(token.Acr, token.AuthTime, token.Claims), now);

    /// <summary>Why the sign-in behind an account's refresh token does not satisfy the step-up (so a refresh cannot either), or <see langword="null"/>.</summary>
    public static string? OfGrant(StepUpRequirement? stepUp, StoredAccount account, long now) =>
        stepUp?.Unsatisfied(new AuthenticationContext(account.GrantAcr, account.GrantAuthTime, account.GrantClaims), now);

    /// <summary>Why an authentication does not satisfy the step-up, or <see langword="null"/>.</summary>
    public static string? OfContext(StepUpRequirement? stepUp, AuthenticationContext? context, long now) =>
        stepUp?.Unsatisfied(context, now);

    /// <summary>The authentication behind refreshed tokens: the new id_token's, else the grant's (a refresh does not authenticate the user).</summary>
    public static AuthenticationContext AfterRefresh(StoredAccount account, TokenSet tokens)
    {
        AuthenticationContext? fromIdToken = AuthenticationContext.FromIdToken(tokens, account.GrantClaims);
        return new AuthenticationContext(fromIdToken?.Acr ?? account.GrantAcr, fromIdToken?.AuthTime ?? account.GrantAuthTime, account.GrantClaims);
    }

    /// <summary>Records the authentication of a new sign-in as the grant's, when it issued a refresh token (a new grant).</summary>
    public static void RecordGrant(StoredAccount account, TokenSet tokens, AuthenticationContext? context)
    {
        if (tokens.RefreshToken is null)
        {
            return;
        }

        account.GrantAcr = context?.Acr;
        account.GrantAuthTime = context?.AuthTime;
        account.GrantClaims = context?.Claims;
    }
}
