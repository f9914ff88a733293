using System.Buffers.Text;
using System.Net;
using System.Text.Json;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Diagnostics;
using Polly;
using Polly.Retry;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// One OAuth client registration talking to one authorization server (MSAL's <c>Client</c>, flytekit's
/// <c>AuthorizationClient</c>): builds authorization requests and makes token, device authorization and refresh
/// requests with Duende.IdentityModel.
/// </summary>
/// <remarks>
/// Expected refusals (an OAuth <c>error</c> body, RFC 6749 §5.2) come back as <see cref="TokenOutcome.Error"/>.
/// Everything else — no connection, TLS failure, a timeout, HTTP 5xx, a body that is not the JSON expected —
/// throws <see cref="ServerUnreachableException"/>, as MSAL treats 5xx as a transport error.
/// </remarks>
public sealed class OAuthClient : IDisposable
{
    /// <summary>The grant type of the device authorization grant (RFC 8628 §3.4).</summary>
    public const string DeviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code";

    private static readonly HashSet<string> StandardAuthParams = new(StringComparer.Ordinal)
    {
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method",
    };

    private static readonly HashSet<string> StandardTokenParams = new(StringComparer.Ordinal)
    {
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "code", "redirect_uri",
        "code_verifier", "refresh_token", "device_code", "scope", "username", "password", "assertion",
    };

    /// <summary>The JWT bearer grant type (RFC 7523 §2.1).</summary>
    public const string JwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    /// <summary>The SAML 2.0 bearer grant type (RFC 7522 §2.1).</summary>
    public const string Saml2BearerGrantType = "urn:ietf:params:oauth:grant-type:saml2-bearer";

    private readonly HttpClient http;
    private readonly IdTokenValidator idTokens;
    private readonly SecretRedactor redactor;
    private readonly ILogger logger;
    private readonly TimeProvider timeProvider;
    private readonly ResiliencePipeline pollingRetry;
    private readonly ResiliencePipeline refreshRetry;

    /// <summary>How many times a transient failure is retried during device polling and refresh.</summary>
    public const int MaxRetries = 3;

    /// <summary>Initializes a new instance of the <see cref="OAuthClient"/> class.</summary>
    /// <param name="handle">The opaque handle the caller uses.</param>
    /// <param name="registration">The client registration.</param>
    /// <param name="server">The authorization server's endpoints.</param>
    /// <param name="http">The HTTP client (owned by this instance afterwards).</param>
    /// <param name="redactor">Learns every secret this client handles.</param>
    /// <param name="logger">Diagnostics (never secrets).</param>
    /// <param name="timeProvider">The clock for <see cref="TokenSet.ExpiresAt"/>.</param>
    /// <param name="idTokens">Validates every id_token received.</param>
    /// <exception cref="InvalidOptionException">An extra parameter would override a standard one.</exception>
    public OAuthClient(string handle, ClientRegistration registration, ServerConfiguration server, HttpClient http, SecretRedactor redactor, ILogger logger, TimeProvider timeProvider, IdTokenValidator idTokens)
    {
        this.idTokens = idTokens;
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(redactor);
        this.Handle = handle;
        this.Registration = registration;
        this.Server = server;
        this.http = http;
        this.redactor = redactor;
        this.logger = logger;
        this.timeProvider = timeProvider;
        // Device polling is idempotent: any transient failure is retried. A refresh is retried only when the server
        // surely did not process it (no connection, 5xx/429): a broken answer may hide a rotated refresh token, and
        // redeeming the old one again would revoke the whole grant.
        this.pollingRetry = BuildRetry(timeProvider, logger, kind => kind is UnreachableKind.Network or UnreachableKind.ServerBusy or UnreachableKind.BrokenResponse or UnreachableKind.Timeout);
        this.refreshRetry = BuildRetry(timeProvider, logger, kind => kind is UnreachableKind.Network or UnreachableKind.ServerBusy);
        redactor.Register(registration.ClientSecret);
        redactor.Register(registration.ClientAssertion);
        RejectOverrides(registration.ExtraAuthParams, StandardAuthParams, "extraAuthParams");
        RejectOverrides(registration.ExtraTokenParams, StandardTokenParams, "extraTokenParams");
        RejectOverrides(registration.ExtraRefreshParams, StandardTokenParams, "extraRefreshParams");
    }

    /// <summary>Gets the handle the caller uses for this client.</summary>
    public string Handle { get; }

    /// <summary>Gets the client registration.</summary>
    public ClientRegistration Registration { get; }

    /// <summary>Gets the authorization server's endpoints.</summary>
    public ServerConfiguration Server { get; }

    /// <summary>Gets the redactor that learns the secrets this client handles.</summary>
    public SecretRedactor Redactor => this.redactor;

    /// <summary>Gets the HTTP client used for every request to the server.</summary>
    public HttpClient Http => this.http;

    /// <summary>Returns <paramref name="scopes"/> when it has any, else the client's default scopes.</summary>
    /// <param name="scopes">The scopes a call asked for.</param>
    /// <returns>The effective scopes.</returns>
    public IReadOnlyList<string> EffectiveScopes(IReadOnlyList<string>? scopes) =>
        scopes is { Count: > 0 } ? scopes : this.Registration.Scopes;

    /// <summary>
    /// Builds an authorization request URI (RFC 6749 §4.1.1) at the authorization endpoint. The redirect URI is sent
    /// exactly as given; extra parameters may never override standard ones.
    /// </summary>
    /// <param name="request">The request parameters.</param>
    /// <returns>The URI to open in the browser.</returns>
    /// <exception cref="InvalidOptionException">No authorization endpoint is known, or an extra parameter overrides a standard one.</exception>
    public string BuildAuthorizeUrl(AuthorizeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string endpoint = this.Server.AuthorizationEndpoint
            ?? throw new InvalidOptionException("serverConfiguration.authorizationEndpoint", "This client has no authorization endpoint: give serverConfiguration.authorizationEndpoint or an issuer whose metadata has one.");
        var parameters = new Parameters
        {
            { "response_type", request.ResponseType },
            { "client_id", this.Registration.ClientId },
        };
        parameters.AddOptional("redirect_uri", request.RedirectUri);
        IReadOnlyList<string> scopes = this.EffectiveScopes(request.Scopes);
        if (scopes.Count > 0)
        {
            parameters.Add("scope", string.Join(' ', scopes));
        }

        parameters.AddOptional("state", request.State);
        parameters.AddOptional("nonce", request.Nonce);
        if (request.CodeChallenge is not null)
        {
            parameters.Add("code_challenge", request.CodeChallenge);
            parameters.Add("code_challenge_method", Pkce.MethodS256);
        }

        parameters.AddOptional("login_hint", request.LoginHint);
        parameters.AddOptional("prompt", request.Prompt);
        parameters.AddOptional("response_mode", request.ResponseMode);
        AddExtras(parameters, this.Registration.Audience is { } audience ? new Dictionary<string, string> { ["audience"] = audience } : null, "audience");
        AddExtras(parameters, this.Registration.ExtraAuthParams, "extraAuthParams");
        AddExtras(parameters, request.ExtraParams, "extraParams");
        return new RequestUrl(endpoint).Create(parameters);
    }

    /// <summary>Redeems an authorization code (RFC 6749 §4.1.3) with its PKCE code verifier (RFC 7636 §4.5).</summary>
    /// <param name="code">The authorization code.</param>
    /// <param name="redirectUri">The redirect URI sent in the authorization request.</param>
    /// <param name="codeVerifier">The PKCE code verifier, if PKCE was used.</param>
    /// <param name="scopes">The scopes that were requested (reported when the response has no <c>scope</c>).</param>
    /// <param name="nonce">The nonce sent in the authorization request, checked in the id_token; <see langword="null"/> when none was sent.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public Task<TokenOutcome> RedeemCodeAsync(string code, string? redirectUri, string? codeVerifier, IReadOnlyList<string> scopes, string? nonce, CancellationToken cancellationToken)
    {
        this.redactor.Register(code);
        this.redactor.Register(codeVerifier);
        var request = new AuthorizationCodeTokenRequest
        {
            Code = code,
            RedirectUri = redirectUri!,
            CodeVerifier = codeVerifier,
        };
        this.Prepare(request, this.Registration.ExtraTokenParams, this.Registration.AddAuthParamsToTokenRequest);
        return this.SendTokenRequestAsync(request, scopes, (h, r, c) => h.RequestAuthorizationCodeTokenAsync(r, c), nonce, cancellationToken);
    }

    /// <summary>Asks for a device code (RFC 8628 §3.1–3.2).</summary>
    /// <param name="scopes">The scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The device authorization, or the server's error.</returns>
    /// <exception cref="InvalidOptionException">The server has no device authorization endpoint.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<DeviceAuthorizationOutcome> RequestDeviceAuthorizationAsync(IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        string endpoint = this.Server.DeviceAuthorizationEndpoint
            ?? throw new InvalidOptionException("serverConfiguration.deviceAuthorizationEndpoint", "This authorization server has no device authorization endpoint (RFC 8628), so the device flow cannot be used with it. Use the authorization code flow, or give serverConfiguration.deviceAuthorizationEndpoint.");
        var request = new DeviceAuthorizationRequest { Scope = scopes.Count > 0 ? string.Join(' ', scopes) : null };
        this.Prepare(request, this.Registration.ExtraAuthParams, includeAuthParams: false);
        request.Address = endpoint;
        DeviceAuthorizationResponse response = await this.SendAsync(endpoint, request, (h, r, c) => h.RequestDeviceAuthorizationAsync(r, c), cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            return new DeviceAuthorizationOutcome(null, this.ToOAuthError(response, endpoint));
        }

        if (string.IsNullOrEmpty(response.DeviceCode) || string.IsNullOrEmpty(response.UserCode) || string.IsNullOrEmpty(response.VerificationUri))
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, "The device authorization response lacks device_code, user_code or verification_uri (RFC 8628 §3.2).");
        }

        this.redactor.Register(response.DeviceCode);
        return new DeviceAuthorizationOutcome(
            new DeviceAuthorization(response.DeviceCode, response.UserCode, response.VerificationUri, response.VerificationUriComplete, response.ExpiresIn, response.Interval),
            null);
    }

    /// <summary>Polls the token endpoint once with a device code (RFC 8628 §3.4).</summary>
    /// <param name="deviceCode">The device code.</param>
    /// <param name="scopes">The scopes that were requested.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens, or the server's error (<c>authorization_pending</c>, <c>slow_down</c>, <c>access_denied</c>, <c>expired_token</c>, …).</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> RequestDeviceTokenAsync(string deviceCode, IReadOnlyList<string> scopes, CancellationToken cancellationToken) =>
        await this.pollingRetry.ExecuteAsync(
            async ct =>
            {
                var request = new DeviceTokenRequest { DeviceCode = deviceCode };
                this.Prepare(request, this.Registration.ExtraTokenParams, this.Registration.AddAuthParamsToTokenRequest);
                return await this.SendTokenRequestAsync(request, scopes, (h, r, c) => h.RequestDeviceTokenAsync(r, c), null, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>Redeems a refresh token (RFC 6749 §6).</summary>
    /// <param name="refreshToken">The refresh token.</param>
    /// <param name="scopes">Scopes to narrow to; empty keeps the grant's.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens (possibly with a rotated refresh token) or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> RefreshAsync(string refreshToken, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        this.redactor.Register(refreshToken);
        return await this.refreshRetry.ExecuteAsync(
            async ct =>
            {
                var request = new RefreshTokenRequest
                {
                    RefreshToken = refreshToken,
                    Scope = scopes.Count > 0 ? string.Join(' ', scopes) : null,
                };
                this.Prepare(request, this.Registration.ExtraRefreshParams, includeAuthParams: false);
                return await this.SendTokenRequestAsync(request, scopes, (h, r, c) => h.RequestRefreshTokenAsync(r, c), null, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The client credentials grant (RFC 6749 §4.4), optionally for a resource (RFC 8707).</summary>
    /// <param name="scopes">The scopes.</param>
    /// <param name="resource">The resource indicator, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> ClientCredentialsAsync(IReadOnlyList<string> scopes, string? resource, CancellationToken cancellationToken)
    {
        var request = new ClientCredentialsTokenRequest { Scope = scopes.Count > 0 ? string.Join(' ', scopes) : null };
        if (resource is not null)
        {
            request.Resource.Add(resource);
        }

        this.Prepare(request, this.Registration.ExtraTokenParams, includeAuthParams: false);
        return this.SendTokenRequestAsync(request, scopes, (h, r, c) => h.RequestClientCredentialsTokenAsync(r, c), null, cancellationToken);
    }

    /// <summary>The resource owner password credentials grant (RFC 6749 §4.3).</summary>
    /// <param name="username">The user name.</param>
    /// <param name="password">The password (a secret: never logged).</param>
    /// <param name="scopes">The scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> PasswordAsync(string username, string password, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        this.redactor.Register(password);
        var request = new PasswordTokenRequest { UserName = username, Password = password, Scope = scopes.Count > 0 ? string.Join(' ', scopes) : null };
        this.Prepare(request, this.Registration.ExtraTokenParams, includeAuthParams: false);
        return this.SendTokenRequestAsync(request, scopes, (h, r, c) => h.RequestPasswordTokenAsync(r, c), null, cancellationToken);
    }

    /// <summary>
    /// An assertion grant (RFC 7521 §4.1): <c>jwt-bearer</c> (RFC 7523) or <c>saml2-bearer</c> (RFC 7522). A SAML
    /// assertion given as XML is base64url-encoded first, as MSAL does; an already encoded one is sent as is.
    /// </summary>
    /// <param name="assertion">The assertion.</param>
    /// <param name="grantType">The grant type URN.</param>
    /// <param name="scopes">The scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> AssertionAsync(string assertion, string grantType, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        string encoded = grantType == Saml2BearerGrantType && assertion.TrimStart().StartsWith('<')
            ? Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(assertion))
            : assertion;
        this.redactor.Register(assertion);
        this.redactor.Register(encoded);
        var request = new TokenRequest { GrantType = grantType };
        request.Parameters.Add("assertion", encoded);
        if (scopes.Count > 0)
        {
            request.Parameters.Add("scope", string.Join(' ', scopes));
        }

        this.Prepare(request, this.Registration.ExtraTokenParams, includeAuthParams: false);
        return this.SendTokenRequestAsync(request, scopes, (h, r, c) => h.RequestTokenAsync(r, c), null, cancellationToken);
    }

    /// <summary>Revokes a token (RFC 7009) at the revocation endpoint, authenticating as for token requests.</summary>
    /// <param name="token">The token.</param>
    /// <param name="tokenTypeHint"><c>refresh_token</c> or <c>access_token</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> when the server confirmed; <see langword="false"/> when it has no revocation endpoint.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used or refused.</exception>
    public async Task<bool> RevokeAsync(string token, string tokenTypeHint, CancellationToken cancellationToken)
    {
        if (this.Server.RevocationEndpoint is not { } endpoint)
        {
            return false;
        }

        var request = new TokenRevocationRequest { Token = token, TokenTypeHint = tokenTypeHint };
        this.Prepare(request, new Dictionary<string, string>(), includeAuthParams: false);
        request.Address = endpoint;

        using TokenRevocationResponse response = await this.SendAsync(endpoint, request, (h, r, c) => h.RevokeTokenAsync(r, c), cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, $"The server refused to revoke the token: {response.Error}.");
        }

        return true;
    }

    /// <summary>Disposes the HTTP client.</summary>
    public void Dispose() => this.http.Dispose();

    internal static JsonElement? DecodeJwtPayload(string jwt)
    {
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

    private static void RejectOverrides(IReadOnlyDictionary<string, string>? extras, HashSet<string> standard, string field)
    {
        if (extras is null)
        {
            return;
        }

        foreach (string key in extras.Keys)
        {
            if (standard.Contains(key))
            {
                throw new InvalidOptionException($"{field}.{key}", $"{field} may not set the standard parameter '{key}': the sidecar sets it itself (a standard parameter is never overridden).");
            }
        }
    }

    // An extra parameter may add a name (response_mode, a vendor parameter) but never replace a value already set.
    private static void AddExtras(Parameters parameters, IReadOnlyDictionary<string, string>? extras, string field)
    {
        if (extras is null)
        {
            return;
        }

        foreach (KeyValuePair<string, string> pair in extras)
        {
            if (parameters.ContainsKey(pair.Key))
            {
                throw new InvalidOptionException($"{field}.{pair.Key}", $"{field} may not set '{pair.Key}': it is a standard parameter that the sidecar sets itself.");
            }

            parameters.Add(pair.Key, pair.Value);
        }
    }

    private void Prepare(ProtocolRequest request, IReadOnlyDictionary<string, string> extras, bool includeAuthParams)
    {
        request.Address = this.Server.TokenEndpoint;
        request.ClientId = this.Registration.ClientId;
        foreach (KeyValuePair<string, string> header in this.Registration.Headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        switch (this.Registration.EffectiveAuthMethod)
        {
            case TokenEndpointAuthMethod.ClientSecretBasic:
                request.ClientSecret = this.Registration.ClientSecret;
                request.ClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader;
                request.AuthorizationHeaderStyle = BasicAuthenticationHeaderStyle.Rfc6749;
                break;
            case TokenEndpointAuthMethod.ClientSecretPost:
                request.ClientSecret = this.Registration.ClientSecret;
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            case TokenEndpointAuthMethod.PrivateKeyJwt when this.Registration.AssertionKey is { } key:
                string signed = key.CreateAssertion(this.Registration.ClientId, this.Server.TokenEndpoint, this.timeProvider.GetUtcNow());
                this.redactor.Register(signed);
                request.ClientAssertion = new ClientAssertion { Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", Value = signed };
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            case TokenEndpointAuthMethod.PrivateKeyJwt when this.Registration.ClientAssertion is { } assertion:
                request.ClientAssertion = new ClientAssertion { Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", Value = assertion };
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            default:
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
        }

        if (this.Registration.Audience is { } audience)
        {
            request.Parameters.Add("audience", audience);
        }

        foreach (KeyValuePair<string, string> pair in extras)
        {
            request.Parameters.Add(pair.Key, pair.Value);
        }

        if (includeAuthParams)
        {
            foreach (KeyValuePair<string, string> pair in this.Registration.ExtraAuthParams)
            {
                if (!request.Parameters.ContainsKey(pair.Key))
                {
                    request.Parameters.Add(pair.Key, pair.Value);
                }
            }
        }
    }

    private async Task<TokenOutcome> SendTokenRequestAsync<TRequest>(TRequest request, IReadOnlyList<string> scopes, Func<HttpClient, TRequest, CancellationToken, Task<TokenResponse>> send, string? nonce, CancellationToken cancellationToken)
        where TRequest : ProtocolRequest
    {
        string endpoint = request.Address!;
        using TokenResponse response = await this.SendAsync(endpoint, request, send, cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            return TokenOutcome.Failure(this.ToOAuthError(response, endpoint));
        }

        if (response.Json is not { ValueKind: JsonValueKind.Object } json || string.IsNullOrEmpty(response.AccessToken))
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, "The token endpoint answered without an access_token (RFC 6749 §5.1).");
        }

        this.redactor.Register(response.AccessToken);
        this.redactor.Register(response.RefreshToken);
        this.redactor.Register(response.IdentityToken);
        long now = this.timeProvider.GetUtcNow().ToUnixTimeSeconds();
        long? expiresIn = response.ExpiresIn > 0 ? response.ExpiresIn : null;
        JsonElement? claims = response.IdentityToken is { } idToken
            ? await this.idTokens.ValidateAsync(idToken, this.Server, this.Registration.ClientId, nonce, this.http, cancellationToken).ConfigureAwait(false)
            : null;
        string? account = claims is { } c && c.TryGetProperty("sub", out JsonElement sub) && sub.ValueKind == JsonValueKind.String ? sub.GetString() : null;
        return TokenOutcome.Success(new TokenSet
        {
            AccessToken = response.AccessToken,
            TokenType = response.TokenType ?? "Bearer",
            ExpiresIn = expiresIn,
            ExpiresAt = expiresIn is { } e ? now + e : null,
            RefreshToken = response.RefreshToken,
            IdToken = response.IdentityToken,
            IdTokenClaims = claims,
            Scopes = response.Scope is { Length: > 0 } s ? s.Split(' ', StringSplitOptions.RemoveEmptyEntries) : scopes,
            Raw = json.Clone(),
            Account = account,
        });
    }

    private async Task<TResponse> SendAsync<TRequest, TResponse>(string endpoint, TRequest request, Func<HttpClient, TRequest, CancellationToken, Task<TResponse>> send, CancellationToken cancellationToken)
        where TResponse : ProtocolResponse
    {
        TResponse response;
        try
        {
            response = await send(this.http, request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerUnreachableException(endpoint, null, $"The authorization server did not answer within {this.Registration.TimeoutSeconds:0.###} s ({endpoint}). Check the network or raise timeoutSeconds.", ex)
            {
                Kind = UnreachableKind.Timeout,
            };
        }

        int? status = response.HttpResponse is null ? null : (int)response.HttpStatusCode;
        TimeSpan? retryAfter = RetryAfterOf(response.HttpResponse);
        if (response.IsError && response.ErrorType != ResponseErrorType.Protocol && !IsOAuthErrorBody(response))
        {
            if (response.Exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            (UnreachableKind kind, string reason) = response.ErrorType switch
            {
                ResponseErrorType.Http when status is >= 500 or 429 => (UnreachableKind.ServerBusy, $"The authorization server answered HTTP {status} {response.HttpErrorReason} at {endpoint}{(retryAfter is { } ra ? $" (Retry-After {ra.TotalSeconds:0} s)" : string.Empty)}. Try again later."),
                ResponseErrorType.Http => (UnreachableKind.Other, $"The authorization server answered HTTP {status} {response.HttpErrorReason} at {endpoint} without an OAuth error."),
                _ when response.Exception is OperationCanceledException => (UnreachableKind.Timeout, $"The authorization server did not answer within {this.Registration.TimeoutSeconds:0.###} s ({endpoint})."),
                _ when response.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError } h
                    => (UnreachableKind.Network, $"The authorization server could not be reached at {endpoint}: {h.Message}"),
                _ when response.Exception is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } h
                    => (UnreachableKind.Other, $"The TLS connection to {endpoint} failed: {h.Message} (for a private CA, set tls.caBundlePath)."),
                _ when response.Exception is HttpRequestException or IOException => (UnreachableKind.BrokenResponse, $"The connection to {endpoint} broke off before a complete answer: {response.Exception.Message}"),
                _ when response.Exception is JsonException => (UnreachableKind.BrokenResponse, $"The authorization server's answer at {endpoint} is not JSON or is cut short (HTTP {status}, {response.HttpResponse?.Content.Headers.ContentType?.MediaType ?? "no content type"})."),
                _ => (UnreachableKind.Other, $"The request to {endpoint} failed: {response.Exception?.Message ?? response.Error}"),
            };
            this.logger.LogWarning("{Reason}", reason);
            throw new ServerUnreachableException(endpoint, status, reason, response.Exception) { Kind = kind, RetryAfter = retryAfter };
        }

        if (response.IsError && status >= 500)
        {
            // MSAL: HTTP 5xx is a transport error even with an OAuth error body.
            string reason = $"The authorization server failed with HTTP {status} at {endpoint} ({response.Error}). Try again later.";
            throw new ServerUnreachableException(endpoint, status, reason) { Kind = UnreachableKind.ServerBusy, RetryAfter = retryAfter };
        }

        return response;
    }

    private static ResiliencePipeline BuildRetry(TimeProvider timeProvider, ILogger logger, Func<UnreachableKind, bool> transient) =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ServerUnreachableException>(e => transient(e.Kind)),
                MaxRetryAttempts = MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromSeconds(10),
                DelayGenerator = static args => ValueTask.FromResult(
                    args.Outcome.Exception is ServerUnreachableException { RetryAfter: { } wait }
                        ? (TimeSpan?)(wait > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : wait)
                        : null),
                OnRetry = args =>
                {
                    logger.LogWarning("A transient failure ({Reason}); retrying in {Delay:0.0} s (retry {Attempt} of {Max}).", args.Outcome.Exception?.Message, args.RetryDelay.TotalSeconds, args.AttemptNumber + 1, MaxRetries);
                    return default;
                },
            })
            .Build();

    private static TimeSpan? RetryAfterOf(HttpResponseMessage? response) =>
        response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
            _ => null,
        };

    // RFC 6749 §5.2: invalid_client may come as HTTP 401 with an OAuth error body; it is still the server's answer.
    private static bool IsOAuthErrorBody(ProtocolResponse response) =>
        response.HttpResponse is not null && (int)response.HttpStatusCode is >= 400 and < 500 && OAuthErrorCode(response) is not null;

    private static string? OAuthErrorCode(ProtocolResponse response) =>
        response.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String
            ? error.GetString()
            : null;

    private OAuthError ToOAuthError(ProtocolResponse response, string endpoint)
    {
        var error = new OAuthError(
            OAuthErrorCode(response) ?? response.Error ?? "invalid_response",
            response.TryGet("error_description"),
            response.TryGet("error_uri"),
            response.HttpResponse is null ? null : (int)response.HttpStatusCode);
        this.logger.LogDebug("{Endpoint} answered OAuth error {Error}.", endpoint, error.Error);
        return error;
    }
}

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
