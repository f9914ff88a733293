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

    /// <summary>Gets the resource indicators (RFC 8707); <see langword="null"/>: the client's defaults.</summary>
    public IReadOnlyList<string>? Resources { get; init; }
}

/// <summary>A device authorization response (RFC 8628 §3.2).</summary>
/// <param name="DeviceCode">The device code (a secret: never logged).</param>
/// <param name="UserCode">The code the user types.</param>
/// <param name="VerificationUri">Where the user types it.</param>
/// <param name="VerificationUriComplete">A URI that carries the user code.</param>
/// <param name="ExpiresIn">Lifetime in seconds, if the server said.</param>
/// <param name="Interval">Polling interval in seconds, if the server said.</param>
public sealed record DeviceAuthorization(string DeviceCode, string UserCode, string VerificationUri, string? VerificationUriComplete, int? ExpiresIn, int? Interval)
{
    /// <summary>
    /// Reads a device authorization response as servers write it: <c>verification_url</c> for <c>verification_uri</c>
    /// (Google, Entra's v1 endpoint) and numbers as strings (<see cref="ResponseFields.Seconds"/>).
    /// </summary>
    /// <param name="json">The answer.</param>
    /// <returns>The authorization, or <see langword="null"/> when <c>device_code</c>, <c>user_code</c> or the verification URI is missing.</returns>
    public static DeviceAuthorization? Read(System.Text.Json.JsonElement? json)
    {
        string? deviceCode = ResponseFields.Text(json, "device_code");
        string? userCode = ResponseFields.Text(json, "user_code");
        string? verificationUri = ResponseFields.Text(json, "verification_uri") ?? ResponseFields.Text(json, "verification_url");
        if (string.IsNullOrEmpty(deviceCode) || string.IsNullOrEmpty(userCode) || string.IsNullOrEmpty(verificationUri))
        {
            return null;
        }

        return new DeviceAuthorization(
            deviceCode,
            userCode,
            verificationUri,
            ResponseFields.Text(json, "verification_uri_complete") ?? ResponseFields.Text(json, "verification_url_complete"),
            ToInt(ResponseFields.Seconds(json, "expires_in")),
            ToInt(ResponseFields.Seconds(json, "interval")));
    }

    private static int? ToInt(long? value) => value is { } v ? (int)Math.Clamp(v, int.MinValue, int.MaxValue) : null;
}

/// <summary>The outcome of a device authorization request.</summary>
/// <param name="Authorization">The device authorization, on success.</param>
/// <param name="Error">The server's error, on refusal.</param>
public readonly record struct DeviceAuthorizationOutcome(DeviceAuthorization? Authorization, OAuthError? Error);

/// <summary>What <see cref="OAuthClient.RefreshAsync(string, RefreshOptions, CancellationToken)"/> sends and reports (RFC 6749 §6, RFC 8707 §2.2).</summary>
public sealed class RefreshOptions
{
    /// <summary>Gets the scopes to send; empty sends no <c>scope</c> ("the same scope as originally granted"). <c>offline_access</c> is dropped.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>Gets the scopes to report when the answer names none (the grant's); <see langword="null"/>: those sent.</summary>
    public IReadOnlyList<string>? ReportScopes { get; init; }

    /// <summary>Gets the resource indicators to send; <see langword="null"/>: the client's defaults.</summary>
    public IReadOnlyList<string>? Resources { get; init; }

    /// <summary>Gets the account the refresh token belongs to, for the events, or <see langword="null"/>.</summary>
    public string? Account { get; init; }

    /// <summary>
    /// Gets the key the refresh token is bound to, which signs the DPoP proof (RFC 9449 §5: a bound refresh token is
    /// redeemed only with its key); <see langword="null"/>: the key this process bound it to, else the client's own key
    /// when it uses DPoP, else none.
    /// </summary>
    public DpopKey? DpopKey { get; init; }
}
