using System.Buffers.Text;
using System.Text.Json;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Turns a successful token response (RFC 6749 §5.1) into a <see cref="TokenSet"/>: registers every secret with the
/// redactor, validates the id_token (OpenID Connect Core §3.1.3.7, with the flow's nonce), takes the account from
/// its <c>sub</c> (or, without one, from the provider's account endpoint), and reports the requested scopes when the
/// server sent none. Members are read as real servers write them (<see cref="ResponseFields"/>: numbers as strings;
/// scopes space- or comma-separated). A missing or unusable <c>expires_in</c> (absent, zero, negative, fractional) is
/// taken as <see cref="AssumedLifetimeSeconds"/> and logged, so such a token is refreshed or renewed in time instead of
/// being kept forever (MSAL assumes 3599 s), except where the provider documents tokens that never expire (GitHub).
/// A sign-in that asked an OpenID provider (one with a <c>jwks_uri</c>) for <c>openid</c> must bring an id_token
/// (OpenID Connect Core §3.1.3.3).
/// </summary>
public sealed class TokenResponseProcessor
{
    /// <summary>The access token lifetime assumed, in seconds, when a token response has no usable <c>expires_in</c>.</summary>
    public const long AssumedLifetimeSeconds = 3600;

    /// <summary>The <c>token_type</c> of bearer tokens (RFC 6750), as <see cref="TokenSet.TokenType"/> spells it whatever the server's case.</summary>
    public const string Bearer = "Bearer";

    /// <summary>The <c>token_type</c> of DPoP-bound tokens (RFC 9449 §5), as <see cref="TokenSet.TokenType"/> spells it whatever the server's case.</summary>
    public const string Dpop = "DPoP";

    private readonly ClientRegistration registration;
    private readonly ServerConfiguration server;
    private readonly IdTokenValidator idTokens;
    private readonly SecretRedactor redactor;
    private readonly TimeProvider timeProvider;
    private readonly HttpClient http;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="TokenResponseProcessor"/> class.</summary>
    /// <param name="registration">The client registration.</param>
    /// <param name="server">The server's endpoints and issuer.</param>
    /// <param name="idTokens">The id_token validator.</param>
    /// <param name="redactor">Learns every token received.</param>
    /// <param name="timeProvider">The clock of <see cref="TokenSet.ExpiresAt"/>.</param>
    /// <param name="http">The HTTP client for the JWKS.</param>
    /// <param name="logger">Where an assumed lifetime is reported; nowhere when <see langword="null"/>.</param>
    public TokenResponseProcessor(ClientRegistration registration, ServerConfiguration server, IdTokenValidator idTokens, SecretRedactor redactor, TimeProvider timeProvider, HttpClient http, ILogger? logger = null)
    {
        this.logger = logger ?? NullLogger.Instance;
        this.registration = registration;
        this.server = server;
        this.idTokens = idTokens;
        this.redactor = redactor;
        this.timeProvider = timeProvider;
        this.http = http;
    }

    /// <summary>Reads a successful token response.</summary>
    /// <param name="response">The response (not an error).</param>
    /// <param name="endpoint">The token endpoint, for messages.</param>
    /// <param name="requestedScopes">The scopes asked for, reported when the response has no <c>scope</c> (RFC 6749 §5.1).</param>
    /// <param name="nonce">The nonce sent in the authorization request, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the JWKS request.</param>
    /// <returns>The tokens.</returns>
    /// <exception cref="ServerUnreachableException">The response has no access token or is not a JSON object.</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public Task<TokenSet> ReadAsync(TokenResponse response, string endpoint, IReadOnlyList<string> requestedScopes, string? nonce, CancellationToken cancellationToken) =>
        this.ReadAsync(response, endpoint, requestedScopes, nonce, nameAccount: false, cancellationToken);

    /// <summary>
    /// Reads a successful token response; with <paramref name="nameAccount"/> and no id_token, asks the provider's
    /// account endpoint (<see cref="ClientRegistration.AccountEndpoint"/>: GitHub, GitLab) who signed in.
    /// </summary>
    /// <param name="response">The response (not an error).</param>
    /// <param name="endpoint">The token endpoint, for messages.</param>
    /// <param name="requestedScopes">The scopes asked for, reported when the response has no <c>scope</c> (RFC 6749 §5.1).</param>
    /// <param name="nonce">The nonce sent in the authorization request, or <see langword="null"/>.</param>
    /// <param name="nameAccount">Whether to name the account from the account endpoint when there is no id_token (sign-ins).</param>
    /// <param name="cancellationToken">Cancels the JWKS or account request.</param>
    /// <returns>The tokens.</returns>
    /// <exception cref="ServerUnreachableException">The response has no access token or is not a JSON object.</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public async Task<TokenSet> ReadAsync(TokenResponse response, string endpoint, IReadOnlyList<string> requestedScopes, string? nonce, bool nameAccount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(requestedScopes);
        string? accessToken = ResponseFields.Text(response.Json, "access_token");
        if (response.Json is not { ValueKind: JsonValueKind.Object } json || string.IsNullOrEmpty(accessToken))
        {
            bool present = response.Json is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("access_token", out _);
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, present
                ? "The token endpoint answered with an access_token that is not a string (RFC 6749 §5.1); it was not used."
                : "The token endpoint answered without an access_token (RFC 6749 §5.1).");
        }

        string? refreshToken = ResponseFields.Text(json, "refresh_token");
        string? idToken = ResponseFields.Text(json, "id_token");
        this.redactor.Register(accessToken);
        this.redactor.Register(refreshToken);
        this.redactor.Register(idToken);
        long now = this.timeProvider.GetUtcNow().ToUnixTimeSeconds();
        long? expiresIn = this.Lifetime(json, endpoint);
        if (idToken is null && nameAccount && nonce is not null && this.server.JwksUri is not null)
        {
            // The authorization request asked an OpenID provider (it publishes signing keys) for openid (the request
            // carried a nonce): the answer must identify the user.
            throw new InvalidIdTokenException("The token endpoint answered a sign-in that asked for the openid scope without an id_token (OpenID Connect Core §3.1.3.3), so who signed in cannot be verified.");
        }

        JsonElement? claims = idToken is not null
            ? await this.idTokens.ValidateAsync(idToken, this.server, this.registration.ClientId, nonce, this.registration.Issuers, this.http, cancellationToken).ConfigureAwait(false)
            : null;
        string? account = claims is { } c && c.TryGetProperty("sub", out JsonElement sub) && sub.ValueKind == JsonValueKind.String ? sub.GetString() : null;
        string? username = null;
        if (account is null && nameAccount && this.registration.AccountEndpoint is { } accounts)
        {
            account = username = await accounts.GetNameAsync(this.http, accessToken, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyList<string> granted = Scopes.Parse(ResponseFields.Text(json, "scope"));
        return new TokenSet
        {
            AccessToken = accessToken,
            TokenType = ResponseFields.Text(json, "token_type") switch
            {
                { } t when string.Equals(t, Bearer, StringComparison.OrdinalIgnoreCase) => Bearer,
                { } t when string.Equals(t, Dpop, StringComparison.OrdinalIgnoreCase) => Dpop,
                { } t => t,
                null => string.Empty, // refused by the TokenRequestSender (RFC 6749 §5.1 requires it)
            },
            ExpiresIn = expiresIn,
            ExpiresAt = expiresIn is { } lifetime ? now + lifetime : null,
            RefreshToken = refreshToken,
            IdToken = idToken,
            IdTokenClaims = claims,
            Scopes = granted.Count > 0 ? granted : requestedScopes,
            Raw = json.Clone(),
            Account = account,
            Username = username,
        };
    }

    // RFC 6749 §5.1: expires_in is the lifetime in seconds. Absent or unusable: assume an hour (and say so), unless the
    // provider documents tokens that never expire.
    private long? Lifetime(JsonElement json, string endpoint)
    {
        // Seconds reads whole numbers only (3599 or "3599"): 59.5 or "3599.5" is unusable like 0 or -5.
        if (ResponseFields.Seconds(json, "expires_in") is > 0 and { } seconds)
        {
            return seconds;
        }

        bool present = json.TryGetProperty("expires_in", out JsonElement raw);

        if (!present && this.registration.Preset?.AccessTokensMayNotExpire == true)
        {
            return null;
        }

        this.logger.LogWarning(
            "The token endpoint {Endpoint} sent {ExpiresIn} as expires_in; the access token is taken to expire in {Assumed} s (RFC 6749 §5.1).",
            endpoint,
            present ? raw.GetRawText() : "nothing",
            AssumedLifetimeSeconds);
        return AssumedLifetimeSeconds;
    }

    /// <summary>Decodes a JWT's payload without checking it (for tokens validated when they were received).</summary>
    /// <param name="jwt">The JWT.</param>
    /// <returns>The payload object, or <see langword="null"/> when it is not a JWT with a JSON object payload.</returns>
    public static JsonElement? DecodePayload(string jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        string[] parts = jwt.Split('.');
        if (parts.Length < 2)
        {
            return null;
        }

        try
        {
            byte[] payload = Base64Url.DecodeFromChars(parts[1]);
            using JsonDocument document = JsonDocument.Parse(payload);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }
}
