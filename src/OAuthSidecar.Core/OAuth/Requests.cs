namespace OAuthSidecar.Core.OAuth;

/// <summary>The parameters of an authorization request (RFC 6749 §4.1.1).</summary>
public sealed class AuthorizeRequest
{
    /// <summary>Gets the <c>response_type</c>, usually <c>code</c>.</summary>
    public string ResponseType { get; init; } = "code";

    /// <summary>Gets the redirect URI, sent exactly as given.</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets the scopes; empty uses the client's default scopes.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the <c>state</c>.</summary>
    public string? State { get; init; }

    /// <summary>Gets the OpenID Connect <c>nonce</c>.</summary>
    public string? Nonce { get; init; }

    /// <summary>Gets the PKCE S256 code challenge.</summary>
    public string? CodeChallenge { get; init; }

    /// <summary>Gets the <c>dpop_jkt</c>: the thumbprint of the DPoP key the authorization code is bound to (RFC 9449 §10).</summary>
    public string? DpopJkt { get; init; }

    /// <summary>Gets the <c>login_hint</c>.</summary>
    public string? LoginHint { get; init; }

    /// <summary>Gets the <c>prompt</c>.</summary>
    public string? Prompt { get; init; }

    /// <summary>Gets the <c>response_mode</c> (<c>query</c>, <c>form_post</c>, <c>fragment</c>).</summary>
    public string? ResponseMode { get; init; }

    /// <summary>Gets extra parameters for this request.</summary>
    public IReadOnlyDictionary<string, string>? ExtraParams { get; init; }
}

/// <summary>A device authorization response (RFC 8628 §3.2).</summary>
/// <param name="DeviceCode">The device code (a secret: never logged).</param>
/// <param name="UserCode">The code the user types.</param>
/// <param name="VerificationUri">Where the user types it.</param>
/// <param name="VerificationUriComplete">A URI that carries the user code.</param>
/// <param name="ExpiresIn">Lifetime in seconds, if the server said.</param>
/// <param name="Interval">Polling interval in seconds, if the server said.</param>
public sealed record DeviceAuthorization(string DeviceCode, string UserCode, string VerificationUri, string? VerificationUriComplete, int? ExpiresIn, int? Interval);

/// <summary>The outcome of a device authorization request.</summary>
/// <param name="Authorization">The device authorization, on success.</param>
/// <param name="Error">The server's error, on refusal.</param>
public readonly record struct DeviceAuthorizationOutcome(DeviceAuthorization? Authorization, OAuthError? Error);
