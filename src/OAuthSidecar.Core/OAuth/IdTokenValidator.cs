using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Validates id_tokens as OpenID Connect Core §3.1.3.7 asks, with Microsoft.IdentityModel.JsonWebTokens:
/// the signature against the provider's JWKS (cached per <c>jwks_uri</c>, fetched again once when a token names an
/// unknown <c>kid</c>), <c>iss</c>, <c>aud</c>, <c>azp</c>, <c>exp</c> and <c>iat</c> with 5 minutes of skew, and
/// <c>nonce</c>. Unsigned tokens (<c>alg: none</c>) are refused. MSAL checks no signature; this does.
/// </summary>
public sealed class IdTokenValidator
{
    /// <summary>The clock skew allowed for <c>exp</c>, <c>iat</c> and <c>nbf</c>.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, KeySet> keySets = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler handler = new();
    private readonly TimeProvider timeProvider;

    /// <summary>Initializes a new instance of the <see cref="IdTokenValidator"/> class.</summary>
    /// <param name="timeProvider">The clock.</param>
    public IdTokenValidator(TimeProvider timeProvider)
    {
        this.timeProvider = timeProvider;
    }

    /// <summary>Gets the number of JWKS downloads made (for tests and diagnostics).</summary>
    public int JwksFetches => this.fetches;

    private int fetches;

    /// <summary>Remembers a key set fetched elsewhere (with the discovery document), so the first id_token needs no download.</summary>
    /// <param name="jwksUri">The <c>jwks_uri</c>.</param>
    /// <param name="json">The JWKS document.</param>
    public void Seed(string jwksUri, string json)
    {
        try
        {
            this.keySets[jwksUri] = new KeySet(new JsonWebKeySet(json).GetSigningKeys(), this.timeProvider.GetUtcNow());
        }
        catch (ArgumentException)
        {
            // Not a usable key set: it will be fetched (and reported) when an id_token needs it.
        }
    }

    /// <summary>Validates <paramref name="idToken"/> and returns its claims.</summary>
    /// <param name="idToken">The id_token (a compact JWS).</param>
    /// <param name="server">The provider: its issuer and <c>jwks_uri</c>.</param>
    /// <param name="clientId">The client id the token must be for.</param>
    /// <param name="expectedNonce">The nonce of the authorization request, or <see langword="null"/> when none was sent (refresh, password grant).</param>
    /// <param name="http">The HTTP client for the JWKS.</param>
    /// <param name="cancellationToken">Cancels the JWKS download.</param>
    /// <returns>The claims, as a JSON object.</returns>
    /// <exception cref="InvalidIdTokenException">Any check failed; the reason names it.</exception>
    /// <exception cref="ServerUnreachableException">The JWKS could not be fetched.</exception>
    public Task<JsonElement> ValidateAsync(string idToken, ServerConfiguration server, string clientId, string? expectedNonce, HttpClient http, CancellationToken cancellationToken) =>
        this.ValidateAsync(idToken, server, clientId, expectedNonce, IssuerRule.Default, http, cancellationToken);

    /// <summary>Validates <paramref name="idToken"/> and returns its claims, comparing issuers by <paramref name="issuers"/>.</summary>
    /// <param name="idToken">The id_token (a compact JWS).</param>
    /// <param name="server">The provider: its issuer and <c>jwks_uri</c>.</param>
    /// <param name="clientId">The client id the token must be for.</param>
    /// <param name="expectedNonce">The nonce of the authorization request, or <see langword="null"/> when none was sent.</param>
    /// <param name="issuers">When the token's <c>iss</c> counts as the server's issuer (trailing slash, Entra's <c>{tenantid}</c>, Google's spellings).</param>
    /// <param name="http">The HTTP client for the JWKS.</param>
    /// <param name="cancellationToken">Cancels the JWKS download.</param>
    /// <returns>The claims, as a JSON object.</returns>
    /// <exception cref="InvalidIdTokenException">Any check failed; the reason names it.</exception>
    /// <exception cref="ServerUnreachableException">The JWKS could not be fetched.</exception>
    public async Task<JsonElement> ValidateAsync(string idToken, ServerConfiguration server, string clientId, string? expectedNonce, IssuerRule issuers, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(issuers);
        JsonWebToken token;
        try
        {
            token = new JsonWebToken(idToken);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidIdTokenException("The id_token is not a well-formed JWT.", ex);
        }

        if (string.IsNullOrEmpty(token.Alg) || string.Equals(token.Alg, "none", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidIdTokenException("The id_token is not signed (alg 'none'); unsigned id_tokens are refused (OpenID Connect Core §3.1.3.7).");
        }

        if (token.TryGetHeaderValue("crit", out object? crit))
        {
            // RFC 7515 §4.1.11: a recipient that does not understand every listed extension MUST refuse the JWS; the
            // sidecar understands none.
            throw new InvalidIdTokenException($"The id_token's header names critical extensions ({crit}) that the sidecar does not understand; it is refused (RFC 7515 §4.1.11).");
        }

        if (server.JwksUri is not { } jwksUri)
        {
            throw new InvalidIdTokenException("The id_token's signature cannot be checked: the server configuration has no jwksUri. Give serverConfiguration.jwksUri, or use discovery.");
        }

        IList<SecurityKey> keys = await this.GetKeysAsync(jwksUri, http, refresh: false, cancellationToken).ConfigureAwait(false);
        if (token.Kid is { Length: > 0 } kid && !keys.Any(k => k.KeyId == kid))
        {
            keys = await this.GetKeysAsync(jwksUri, http, refresh: true, cancellationToken).ConfigureAwait(false);
        }

        var parameters = new TokenValidationParameters
        {
            // The issuer is checked below with the issuer rule (trailing slash, Entra's {tenantid}, Google's spellings).
            ValidateIssuer = false,
            ValidAudience = clientId,
            ValidateAudience = true,
            IssuerSigningKeys = keys,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = ClockSkew,
            TryAllIssuerSigningKeys = string.IsNullOrEmpty(token.Kid),
            LifetimeValidator = this.ValidateLifetime,
        };

        TokenValidationResult result = await this.handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw new InvalidIdTokenException(Describe(result.Exception, token, server, clientId), result.Exception);
        }

        if (server.Issuer is not { } expectedIssuer)
        {
            // Nothing to check the iss against: any issuer's token would do. (createClient refuses openid as a default
            // scope without an issuer; a flow that asks for openid anyway gets this.)
            throw new InvalidIdTokenException("The client was created with explicit endpoints and no issuer, so the id_token's issuer cannot be checked (OpenID Connect Core §3.1.3.7); give the client its issuer.");
        }

        {
            string? tenant = token.TryGetPayloadValue("tid", out string? tid) ? tid : null;
            if (!token.TryGetPayloadValue("iss", out string? iss) || iss is null || !issuers.AcceptsTokenIssuer(iss, expectedIssuer, tenant))
            {
                throw new InvalidIdTokenException(expectedIssuer.Contains(IssuerRule.TenantPlaceholder, StringComparison.Ordinal)
                    ? $"The id_token's issuer '{token.Issuer}' is not '{expectedIssuer}' with the token's tenant ('{tenant}') in place of {IssuerRule.TenantPlaceholder}."
                    : $"The id_token's issuer '{token.Issuer}' is not '{expectedIssuer}'.");
            }
        }

        DateTimeOffset now = this.timeProvider.GetUtcNow();
        if (token.TryGetPayloadValue("iat", out long iat) && DateTimeOffset.FromUnixTimeSeconds(iat) > now + ClockSkew)
        {
            throw new InvalidIdTokenException($"The id_token was issued in the future (iat {iat}), beyond 5 minutes of clock skew.");
        }

        string[] audiences = token.Audiences.ToArray();
        bool hasAzp = token.TryGetPayloadValue("azp", out string? azp);
        if (audiences.Length > 1 && !hasAzp)
        {
            throw new InvalidIdTokenException("The id_token has several audiences but no azp claim (OpenID Connect Core §3.1.3.7).");
        }

        if (hasAzp && !string.Equals(azp, clientId, StringComparison.Ordinal))
        {
            throw new InvalidIdTokenException($"The id_token's azp '{azp}' is not this client ('{clientId}'): it was issued to another party.");
        }

        if (expectedNonce is not null)
        {
            if (!token.TryGetPayloadValue("nonce", out string? nonce) || !string.Equals(nonce, expectedNonce, StringComparison.Ordinal))
            {
                throw new InvalidIdTokenException("The id_token's nonce does not match the one sent in the authorization request: the token may be replayed (OpenID Connect Core §3.1.3.7).");
            }
        }

        using JsonDocument claims = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        if (!claims.RootElement.TryGetProperty("sub", out JsonElement sub) || sub.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(sub.GetString()))
        {
            throw new InvalidIdTokenException("The id_token has no sub claim that is a non-empty string, so it names no user (OpenID Connect Core §2: sub is required, a case-sensitive string).");
        }

        return claims.RootElement.Clone();
    }

    private static string Describe(Exception? exception, JsonWebToken token, ServerConfiguration server, string clientId) => exception switch
    {
        SecurityTokenSignatureKeyNotFoundException => $"The id_token is signed with a key (kid '{token.Kid}') that the provider does not publish at {server.JwksUri}.",
        SecurityTokenInvalidSignatureException => "The id_token's signature does not verify against the provider's keys: it was altered or forged.",
        SecurityTokenInvalidAudienceException => $"The id_token's audience ({string.Join(", ", token.Audiences)}) does not include this client ('{clientId}').",
        SecurityTokenExpiredException => $"The id_token expired at {token.ValidTo:u} (5 minutes of clock skew allowed).",
        SecurityTokenNotYetValidException => $"The id_token is not valid before {token.ValidFrom:u}.",
        SecurityTokenInvalidIssuerException => $"The id_token's issuer '{token.Issuer}' is not '{server.Issuer}'.",
        SecurityTokenNoExpirationException => "The id_token has no exp claim.",
        SecurityTokenInvalidLifetimeException => "The id_token's lifetime is invalid (exp before iat or nbf).",
        _ => $"The id_token is invalid: {exception?.GetType().Name ?? "unknown reason"}.",
    };

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken securityToken, TokenValidationParameters validationParameters)
    {
        DateTime now = this.timeProvider.GetUtcNow().UtcDateTime;
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException();
        }

        if (notBefore is { } nbf && expires < nbf)
        {
            throw new SecurityTokenInvalidLifetimeException();
        }

        if (notBefore is { } start && start > now + ClockSkew)
        {
            throw new SecurityTokenNotYetValidException();
        }

        if (expires < now - ClockSkew)
        {
            throw new SecurityTokenExpiredException();
        }

        return true;
    }

    private async Task<IList<SecurityKey>> GetKeysAsync(string jwksUri, HttpClient http, bool refresh, CancellationToken cancellationToken)
    {
        DateTimeOffset now = this.timeProvider.GetUtcNow();
        if (!refresh && this.keySets.TryGetValue(jwksUri, out KeySet? cached))
        {
            return cached.Keys;
        }

        string json;
        try
        {
            using HttpResponseMessage response = await http.GetAsync(jwksUri, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new ServerUnreachableException(jwksUri, (int)response.StatusCode, $"The provider's JWKS at {jwksUri} answered HTTP {(int)response.StatusCode}; the id_token cannot be checked.");
            }

            json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new ServerUnreachableException(jwksUri, null, $"The provider's JWKS at {jwksUri} could not be fetched: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerUnreachableException(jwksUri, null, $"The provider's JWKS at {jwksUri} did not arrive in time.", ex);
        }

        IList<SecurityKey> keys;
        try
        {
            keys = new JsonWebKeySet(json).GetSigningKeys();
        }
        catch (ArgumentException ex)
        {
            throw new ServerUnreachableException(jwksUri, null, $"The provider's JWKS at {jwksUri} is not a valid JSON Web Key Set.", ex);
        }

        Interlocked.Increment(ref this.fetches);
        this.keySets[jwksUri] = new KeySet(keys, now);
        return keys;
    }

    private sealed record KeySet(IList<SecurityKey> Keys, DateTimeOffset FetchedAt);
}
