using Microsoft.AspNetCore.WebUtilities;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Parses and checks authorization responses (RFC 6749 §4.1.2): from a loopback callback, a pasted redirect URL,
/// a query string, or a parameter object.
/// </summary>
public static class AuthorizationResponse
{
    /// <summary>
    /// Parses a whole redirect URL (query and <c>#fragment</c>), a query string with or without its leading
    /// <c>?</c>, or a fragment with its leading <c>#</c>. The "paste the URL from your browser" fallback.
    /// </summary>
    /// <param name="urlOrQuery">What the user pasted or the caller received.</param>
    /// <returns>The parameters, first value of each; fragment values win over query values of the same name.</returns>
    public static Dictionary<string, string> Parse(string urlOrQuery)
    {
        ArgumentNullException.ThrowIfNull(urlOrQuery);
        string text = urlOrQuery.Trim();
        string query = text;
        string fragment = string.Empty;
        int hash = text.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            fragment = text[(hash + 1)..];
            query = text[..hash];
        }

        int question = query.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            query = query[(question + 1)..];
        }
        else if (Uri.TryCreate(query, UriKind.Absolute, out _))
        {
            query = string.Empty; // a URL without a query, including private-use schemes (com.example.app:/cb, RFC 8252 §7.1)
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        Merge(result, query);
        Merge(result, fragment);
        return result;
    }

    /// <summary>
    /// Checks <c>state</c> (RFC 6749 §10.12) and <c>iss</c> (RFC 9207 §2.4) of an authorization response.
    /// </summary>
    /// <param name="parameters">The response parameters.</param>
    /// <param name="expectedState">The state sent in the request; <see langword="null"/> skips the check.</param>
    /// <param name="issuer">The issuer the request went to; <see langword="null"/> skips the <c>iss</c> check.</param>
    /// <param name="issRequired">Whether the server announced <c>authorization_response_iss_parameter_supported</c>, so a missing <c>iss</c> is an error.</param>
    /// <param name="flowId">The flow, for the exception.</param>
    /// <exception cref="StateMismatchException">The state or issuer does not match.</exception>
    public static void Validate(IReadOnlyDictionary<string, string> parameters, string? expectedState, string? issuer, bool issRequired, string? flowId)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (expectedState is not null)
        {
            if (!parameters.TryGetValue("state", out string? state))
            {
                throw new StateMismatchException(flowId, "The authorization response carries no 'state', so it cannot be tied to this sign-in (RFC 6749 §10.12). Start the sign-in again.");
            }

            if (!FixedTimeEquals(state, expectedState))
            {
                throw new StateMismatchException(flowId, "The authorization response's 'state' does not match this sign-in: it belongs to another sign-in or was forged (RFC 6749 §10.12). Start the sign-in again.");
            }
        }

        if (issuer is not null)
        {
            bool hasIss = parameters.TryGetValue("iss", out string? iss);
            if (!hasIss && issRequired)
            {
                throw new StateMismatchException(flowId, $"The authorization response has no 'iss' although the server announces authorization_response_iss_parameter_supported; it may come from another server (RFC 9207 mix-up protection). Expected iss '{issuer}'.");
            }

            if (hasIss && !string.Equals(iss, issuer, StringComparison.Ordinal))
            {
                throw new StateMismatchException(flowId, $"The authorization response's 'iss' '{iss}' differs from the issuer '{issuer}' this sign-in was sent to: possible mix-up attack (RFC 9207). Start the sign-in again.");
            }
        }
    }

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));

    private static void Merge(Dictionary<string, string> target, string query)
    {
        if (query.Length == 0)
        {
            return;
        }

        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> pair in QueryHelpers.ParseQuery(query))
        {
            if (pair.Value.Count > 0 && pair.Value[0] is { } value)
            {
                target[pair.Key] = value;
            }
        }
    }
}
