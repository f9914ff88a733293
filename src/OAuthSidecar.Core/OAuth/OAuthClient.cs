using System.Buffers.Text;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The token client of one OAuth client registration at one authorization server (MSAL's <c>Client</c>, flytekit's
/// <c>AuthorizationClient</c>, Git Credential Manager's <c>OAuth2Client</c>): one method per grant, each made with
/// Duende.IdentityModel and sent by its <see cref="TokenRequestSender"/> (with DPoP proofs when the client uses DPoP,
/// RFC 9449), and the refresh token events raised where the tokens are obtained.
/// </summary>
/// <remarks>
/// Expected refusals (an OAuth <c>error</c> body, RFC 6749 §5.2) come back as <see cref="TokenOutcome.Error"/>.
/// Everything else — no connection, TLS failure, a timeout, HTTP 5xx, a body that is not the JSON expected —
/// throws <see cref="ServerUnreachableException"/> (see <see cref="AuthorizationServerChannel"/>).
/// </remarks>
public sealed class OAuthClient : IDisposable
{
    /// <summary>The grant type of the device authorization grant (RFC 8628 §3.4).</summary>
    public const string DeviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code";

    /// <summary>The JWT bearer grant type (RFC 7523 §2.1).</summary>
    public const string JwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    /// <summary>The SAML 2.0 bearer grant type (RFC 7522 §2.1).</summary>
    public const string Saml2BearerGrantType = "urn:ietf:params:oauth:grant-type:saml2-bearer";

    /// <summary>How many times a transient failure is retried during device polling and refresh.</summary>
    public const int MaxRetries = AuthorizationServerChannel.MaxRetries;

    private readonly HttpClient http;
    private readonly SecretRedactor redactor;
    private readonly ISidecarEvents events;
    private readonly AuthorizationServerChannel channel;
    private readonly ClientAuthentication authentication;
    private readonly TokenRequestSender tokens;
    private readonly PushedAuthorizationRequests pushed;
    private readonly DeviceAuthorizationRequests deviceAuthorization;

    /// <summary>Initializes a new instance of the <see cref="OAuthClient"/> class.</summary>
    /// <param name="handle">The opaque handle the caller uses.</param>
    /// <param name="registration">The client registration.</param>
    /// <param name="server">The authorization server's endpoints.</param>
    /// <param name="http">The HTTP client (owned by this instance afterwards).</param>
    /// <param name="options">The engine's clock, logging, redactor and events.</param>
    /// <param name="idTokens">Validates every id_token received.</param>
    /// <param name="nonces">The servers' latest DPoP nonces, shared by the engine's clients; a private cache when <see langword="null"/>.</param>
    /// <exception cref="InvalidOptionException">An extra parameter would override a standard one; a DPoP algorithm or PAR mode the server or the sidecar cannot use.</exception>
    public OAuthClient(string handle, ClientRegistration registration, ServerConfiguration server, HttpClient http, SessionOptions options, IdTokenValidator idTokens, DpopNonces? nonces = null)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        this.Handle = handle;
        this.Registration = registration;
        this.Server = server;
        this.http = http;
        this.redactor = options.Redactor;
        this.events = options.Events;
        ILogger logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
        this.channel = new AuthorizationServerChannel(http, registration.TimeoutSeconds, logger, options.TimeProvider, nonces);
        this.authentication = new ClientAuthentication(registration, server, options.Redactor, options.TimeProvider);
        this.DpopKeys = new DpopKeyRing(registration.Dpop is { } dpop ? DpopKey.ChooseAlgorithm(dpop.Algorithm, server.DpopSigningAlgValuesSupported) : null, options.Redactor);
        this.pushed = new PushedAuthorizationRequests(registration, server, this.channel, this.authentication);
        this.deviceAuthorization = new DeviceAuthorizationRequests(registration, server, this.channel, this.authentication, options.Redactor);
        var responses = new TokenResponseProcessor(registration, server, idTokens, options.Redactor, options.TimeProvider, http, logger);
        this.tokens = new TokenRequestSender(handle, this.channel, responses, this.DpopKeys, options.Events);
        this.redactor.Register(registration.ClientSecret);
        this.redactor.Register(registration.ClientAssertion);
        AuthorizeRequestBuilder.RejectOverrides(registration.ExtraAuthParams, AuthorizeRequestBuilder.StandardAuthParams, CoreOption.ExtraAuthParams);
        AuthorizeRequestBuilder.RejectOverrides(registration.ExtraTokenParams, AuthorizeRequestBuilder.StandardTokenParams, CoreOption.ExtraTokenParams);
        AuthorizeRequestBuilder.RejectOverrides(registration.ExtraRefreshParams, AuthorizeRequestBuilder.StandardTokenParams, CoreOption.ExtraRefreshParams);
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

    /// <summary>Gets the DPoP keys the client holds in memory (RFC 9449); <see cref="DpopKeyRing.Enabled"/> says whether it uses DPoP.</summary>
    public DpopKeyRing DpopKeys { get; }

    /// <summary>Gets a value indicating whether authorization requests are pushed first (RFC 9126).</summary>
    public bool UsesPar => this.pushed.Enabled;

    /// <summary>Gets the issuer, or the token endpoint when the client was given endpoints without an issuer: the key of its accounts in the store.</summary>
    public string StoreIssuer => this.Server.Issuer ?? this.Server.TokenEndpoint;

    /// <summary>Returns <paramref name="scopes"/> when it has any, else the client's default scopes.</summary>
    /// <param name="scopes">The scopes a call asked for.</param>
    /// <returns>The effective scopes.</returns>
    public IReadOnlyList<string> EffectiveScopes(IReadOnlyList<string>? scopes) =>
        scopes is { Count: > 0 } ? scopes : this.Registration.Scopes;

    /// <summary>Builds an authorization request URI (RFC 6749 §4.1.1); the redirect URI is sent exactly as given.</summary>
    /// <param name="request">The request parameters.</param>
    /// <returns>The URI to open in the browser.</returns>
    /// <exception cref="InvalidOptionException">No authorization endpoint is known, or an extra parameter overrides a standard one.</exception>
    public string BuildAuthorizeUrl(AuthorizeRequest request) => AuthorizeRequestBuilder.Build(this.Registration, this.Server, request);

    /// <summary>
    /// Pushes an authorization request (RFC 9126 §2) with the client's authentication; the browser then opens
    /// <see cref="AuthorizeRequestBuilder.BuildPushed"/>.
    /// </summary>
    /// <param name="request">The request parameters.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The <c>request_uri</c> and its lifetime, or the server's error.</returns>
    /// <exception cref="InvalidOptionException">An extra parameter overrides a standard one, or the server has no pushed authorization request endpoint.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<PushOutcome> PushAuthorizationAsync(AuthorizeRequest request, CancellationToken cancellationToken) => this.pushed.PushAsync(request, cancellationToken);

    /// <inheritdoc cref="RedeemCodeAsync(string, string?, string?, IReadOnlyList{string}, IReadOnlyList{string}, string?, string?, DpopKey?, CancellationToken)"/>
    public Task<TokenOutcome> RedeemCodeAsync(string code, string? redirectUri, string? codeVerifier, IReadOnlyList<string> scopes, IReadOnlyList<string> resources, string? nonce, string? flowId, CancellationToken cancellationToken) =>
        this.RedeemCodeAsync(code, redirectUri, codeVerifier, scopes, resources, nonce, flowId, null, cancellationToken);

    /// <summary>
    /// Redeems an authorization code (RFC 6749 §4.1.3) with its PKCE code verifier (RFC 7636 §4.5), the resource
    /// indicators of the authorization request (RFC 8707 §2.2) and a DPoP proof when the client uses DPoP (RFC 9449
    /// §5). Without an id_token, the account is named by the provider's account endpoint, if it has one.
    /// </summary>
    /// <param name="code">The authorization code.</param>
    /// <param name="redirectUri">The redirect URI sent in the authorization request.</param>
    /// <param name="codeVerifier">The PKCE code verifier, if PKCE was used.</param>
    /// <param name="scopes">The scopes that were requested (reported when the response has no <c>scope</c>).</param>
    /// <param name="resources">The resource indicators (RFC 8707); empty for none.</param>
    /// <param name="nonce">The nonce sent in the authorization request, checked in the id_token; <see langword="null"/> when none was sent.</param>
    /// <param name="flowId">The flow the code came from, for the <c>tokensObtained</c> event, or <see langword="null"/>.</param>
    /// <param name="dpopKey">The key of the authorization request's <c>dpop_jkt</c> that signs the DPoP proof (RFC 9449 §5, §10); <see langword="null"/>: the client's own key when it uses DPoP, else none.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="InvalidOptionException">An empty code.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public Task<TokenOutcome> RedeemCodeAsync(string code, string? redirectUri, string? codeVerifier, IReadOnlyList<string> scopes, IReadOnlyList<string> resources, string? nonce, string? flowId, DpopKey? dpopKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resources);
        if (string.IsNullOrEmpty(code))
        {
            throw new InvalidOptionException(CoreOption.Code, $"{{{CoreOption.Code}}} is required: the authorization code from the redirect.");
        }

        this.redactor.Register(code);
        this.redactor.Register(codeVerifier);
        var request = new AuthorizationCodeTokenRequest { Code = code, RedirectUri = redirectUri!, CodeVerifier = codeVerifier };
        foreach (string resource in resources)
        {
            request.Resource.Add(resource);
        }

        this.authentication.Prepare(request, this.Registration.ExtraTokenParams, this.Registration.AddAuthParamsToTokenRequest);
        return this.tokens.SendAsync(request, "authorization_code", scopes, (h, r, c) => h.RequestAuthorizationCodeTokenAsync(r, c), nonce, flowId, dpopKey ?? this.DpopKeys.ClientKey, cancellationToken);
    }

    /// <summary>Asks for a device code (RFC 8628 §3.1–3.2), with resource indicators (RFC 8707).</summary>
    /// <param name="scopes">The scopes.</param>
    /// <param name="resources">The resource indicators; <see langword="null"/>: the client's defaults.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The device authorization, or the server's error.</returns>
    /// <exception cref="InvalidOptionException">The server has no device authorization endpoint.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<DeviceAuthorizationOutcome> RequestDeviceAuthorizationAsync(IReadOnlyList<string> scopes, IReadOnlyList<string>? resources, CancellationToken cancellationToken) =>
        this.deviceAuthorization.RequestAsync(scopes, resources, cancellationToken);

    /// <inheritdoc cref="RequestDeviceTokenAsync(string, IReadOnlyList{string}, IReadOnlyList{string}, string?, DpopKey?, CancellationToken)"/>
    public Task<TokenOutcome> RequestDeviceTokenAsync(string deviceCode, IReadOnlyList<string> scopes, IReadOnlyList<string> resources, string? flowId, CancellationToken cancellationToken) =>
        this.RequestDeviceTokenAsync(deviceCode, scopes, resources, flowId, null, cancellationToken);

    /// <summary>Polls the token endpoint once with a device code (RFC 8628 §3.4), retrying transient failures.</summary>
    /// <param name="deviceCode">The device code.</param>
    /// <param name="scopes">The scopes that were requested.</param>
    /// <param name="resources">The resource indicators of the device authorization request (RFC 8707).</param>
    /// <param name="flowId">The device flow, for the <c>tokensObtained</c> event.</param>
    /// <param name="dpopKey">The flow's key that signs the DPoP proof (RFC 9449 §5); <see langword="null"/>: the client's own key when it uses DPoP, else none.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens, or the server's error (<c>authorization_pending</c>, <c>slow_down</c>, <c>access_denied</c>, <c>expired_token</c>, …).</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> RequestDeviceTokenAsync(string deviceCode, IReadOnlyList<string> scopes, IReadOnlyList<string> resources, string? flowId, DpopKey? dpopKey, CancellationToken cancellationToken) =>
        await this.channel.PollingRetry.ExecuteAsync(
            async ct =>
            {
                var request = new DeviceTokenRequest { DeviceCode = deviceCode };
                this.authentication.Prepare(request, this.Registration.ExtraTokenParams, this.Registration.AddAuthParamsToTokenRequest);
                AddResources(request, resources);
                return await this.tokens.SendAsync(request, DeviceCodeGrantType, scopes, (h, r, c) => h.RequestDeviceTokenAsync(r, c), null, flowId, dpopKey ?? this.DpopKeys.ClientKey, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Redeems a refresh token (RFC 6749 §6) for the client's default resources. A rotated refresh token is announced by
    /// <see cref="ISidecarEvents.RefreshTokenUpdated"/>; <c>invalid_grant</c> by <see cref="ISidecarEvents.RefreshTokenRemoved"/>.
    /// </summary>
    /// <param name="refreshToken">The refresh token.</param>
    /// <param name="scopes">Scopes to narrow to; empty keeps the grant's. <c>offline_access</c> is never sent.</param>
    /// <param name="account">The account the refresh token belongs to, for the events, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens (possibly with a rotated refresh token) or the server's error.</returns>
    /// <exception cref="InvalidOptionException">An empty refresh token.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> RefreshAsync(string refreshToken, IReadOnlyList<string> scopes, string? account, CancellationToken cancellationToken) =>
        this.RefreshAsync(refreshToken, new RefreshOptions { Scopes = scopes, Account = account }, cancellationToken);

    /// <summary>
    /// Redeems a refresh token (RFC 6749 §6) with the resource indicators of the grant (RFC 8707 §2.2) and, when the
    /// client uses DPoP, a proof made with the key the refresh token is bound to (RFC 9449 §5). <c>scope</c> is
    /// sent only when <see cref="RefreshOptions.Scopes"/> names some (never <c>offline_access</c>). An answer without
    /// <c>scope</c> reports <see cref="RefreshOptions.ReportScopes"/>; one without <c>refresh_token</c> returns the
    /// refresh token used, which stays valid. A rotated refresh token is announced by
    /// <see cref="ISidecarEvents.RefreshTokenUpdated"/>; <c>invalid_grant</c> by <see cref="ISidecarEvents.RefreshTokenRemoved"/>.
    /// </summary>
    /// <param name="refreshToken">The refresh token.</param>
    /// <param name="options">Scopes, reported scopes, resources, account and DPoP key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens (possibly with a rotated refresh token) or the server's error.</returns>
    /// <exception cref="InvalidOptionException">An empty refresh token.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<TokenOutcome> RefreshAsync(string refreshToken, RefreshOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(refreshToken))
        {
            throw new InvalidOptionException(CoreOption.RefreshToken, $"{{{CoreOption.RefreshToken}}} is required.");
        }

        List<string> send = options.Scopes.SelectMany(Scopes.Parse).Where(s => s != Scopes.OfflineAccess).Distinct(StringComparer.Ordinal).ToList();
        IReadOnlyList<string> report = options.ReportScopes ?? send;
        IReadOnlyList<string> resources = options.Resources ?? this.Registration.Resources;
        string? account = options.Account;
        this.redactor.Register(refreshToken);
        DpopKey? key = options.DpopKey ?? this.DpopKeys.ForToken(refreshToken) ?? this.DpopKeys.ClientKey;
        TokenOutcome outcome = await this.channel.RefreshRetry.ExecuteAsync(
            async ct =>
            {
                var request = new RefreshTokenRequest { RefreshToken = refreshToken, Scope = send.Count > 0 ? string.Join(' ', send) : null };
                foreach (string resource in resources)
                {
                    request.Resource.Add(resource);
                }

                this.authentication.Prepare(request, this.Registration.ExtraRefreshParams, includeAuthParams: false);
                return await this.tokens.SendAsync(request, "refresh_token", report, (h, r, c) => h.RequestRefreshTokenAsync(r, c), null, null, key, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        if (outcome.Tokens is { RefreshToken: { } rotated } tokens && !string.Equals(rotated, refreshToken, StringComparison.Ordinal))
        {
            this.events.RefreshTokenUpdated(this.Handle, account ?? tokens.Account, rotated);
        }
        else if (outcome.Tokens is { RefreshToken: null } kept)
        {
            TokenSet same = kept.WithRefreshToken(refreshToken); // providers that never rotate (Google)
            this.DpopKeys.Remember(same);
            return TokenOutcome.Success(same);
        }
        else if (outcome.Error is { Error: "invalid_grant" } error)
        {
            this.events.RefreshTokenRemoved(this.Handle, account, error.ErrorDescription is { } d ? $"invalid_grant: {d}" : "invalid_grant");
        }

        return outcome;
    }

    /// <summary>The client credentials grant (RFC 6749 §4.4), optionally for a resource (RFC 8707).</summary>
    /// <param name="scopes">The scopes.</param>
    /// <param name="resource">The resource indicator, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> ClientCredentialsAsync(IReadOnlyList<string> scopes, string? resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        var request = new ClientCredentialsTokenRequest { Scope = scopes.Count > 0 ? string.Join(' ', scopes) : null };
        if (resource is not null)
        {
            request.Resource.Add(resource);
        }

        this.authentication.Prepare(request, this.Registration.ExtraTokenParams, includeAuthParams: false);
        return this.tokens.SendAsync(request, "client_credentials", scopes, (h, r, c) => h.RequestClientCredentialsTokenAsync(r, c), null, null, this.DpopKeys.ClientKey, cancellationToken);
    }

    /// <summary>The resource owner password credentials grant (RFC 6749 §4.3).</summary>
    /// <param name="username">The user name.</param>
    /// <param name="password">The password (a secret: never logged).</param>
    /// <param name="scopes">The scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="InvalidOptionException">An empty user name or password.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> PasswordAsync(string username, string password, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        this.redactor.Register(password);
        if (string.IsNullOrEmpty(username))
        {
            throw new InvalidOptionException(CoreOption.Username, $"{{{CoreOption.Username}}} is required.");
        }

        if (string.IsNullOrEmpty(password))
        {
            throw new InvalidOptionException(CoreOption.Password, $"{{{CoreOption.Password}}} is required.");
        }

        var request = new PasswordTokenRequest { UserName = username, Password = password, Scope = scopes.Count > 0 ? string.Join(' ', scopes) : null };
        this.authentication.Prepare(request, this.Registration.ExtraTokenParams, includeAuthParams: false);
        return this.tokens.SendAsync(request, "password", scopes, (h, r, c) => h.RequestPasswordTokenAsync(r, c), null, null, this.DpopKeys.ClientKey, cancellationToken);
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
    /// <exception cref="InvalidOptionException">An empty assertion or an unsupported grant type.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<TokenOutcome> AssertionAsync(string assertion, string grantType, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        this.redactor.Register(assertion);
        if (string.IsNullOrEmpty(assertion))
        {
            throw new InvalidOptionException(CoreOption.Assertion, $"{{{CoreOption.Assertion}}} is required.");
        }

        if (grantType is not (JwtBearerGrantType or Saml2BearerGrantType))
        {
            throw new InvalidOptionException(CoreOption.GrantType, $"{{{CoreOption.GrantType}}} must be {JwtBearerGrantType} or {Saml2BearerGrantType}.");
        }

        string encoded = grantType == Saml2BearerGrantType && assertion.TrimStart().StartsWith('<')
            ? Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(assertion))
            : assertion;
        this.redactor.Register(encoded);
        var request = new TokenRequest { GrantType = grantType };
        request.Parameters.Add("assertion", encoded);
        if (scopes.Count > 0)
        {
            request.Parameters.Add("scope", string.Join(' ', scopes));
        }

        this.authentication.Prepare(request, this.Registration.ExtraTokenParams, includeAuthParams: false);
        return this.tokens.SendAsync(request, grantType, scopes, (h, r, c) => h.RequestTokenAsync(r, c), null, null, this.DpopKeys.ClientKey, cancellationToken);
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
        this.authentication.Prepare(request, new Dictionary<string, string>(), includeAuthParams: false);
        request.Address = endpoint;
        using TokenRevocationResponse response = await this.channel.SendAsync(endpoint, request, (h, r, c) => h.RevokeTokenAsync(r, c), cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, $"The server refused to revoke the token: {response.Error}.");
        }

        return true;
    }

    /// <summary>Disposes the HTTP client.</summary>
    public void Dispose() => this.http.Dispose();

    private static void AddResources(ProtocolRequest request, IReadOnlyList<string> resources)
    {
        foreach (string resource in resources)
        {
            request.Parameters.Add("resource", resource);
        }
    }
}
