using System.Net;
using System.Text.Json;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Sends one protocol request (token, device authorization, pushed authorization, revocation) to the authorization server through
/// Duende.IdentityModel and sorts its answer: an OAuth <c>error</c> body (RFC 6749 §5.2) is an answer for the caller
/// to read, whatever the HTTP status below 500 (GitHub answers errors, <c>authorization_pending</c> included, with
/// HTTP 200); a form-encoded answer (GitHub's default) is read as the JSON object it stands for; no connection, a TLS
/// failure, a timeout, HTTP 5xx or a body that is neither JSON nor a form throws <see cref="ServerUnreachableException"/>
/// with a <see cref="UnreachableKind"/> that says whether a retry is safe. Also holds the two retry pipelines (Polly)
/// built on that kind.
/// </summary>
public sealed class AuthorizationServerChannel
{
    /// <summary>How many times a transient failure is retried during device polling and refresh.</summary>
    public const int MaxRetries = 3;

    private readonly HttpClient http;
    private readonly ILogger logger;
    private readonly double timeoutSeconds;
    private readonly TimeProvider timeProvider;
    private readonly DpopNonces nonces;

    /// <summary>Initializes a new instance of the <see cref="AuthorizationServerChannel"/> class.</summary>
    /// <param name="http">The HTTP client (not owned).</param>
    /// <param name="timeoutSeconds">The per-request timeout the client uses, in seconds (for messages).</param>
    /// <param name="logger">Diagnostics (never secrets).</param>
    /// <param name="timeProvider">The clock of the retry delays and of DPoP proofs' <c>iat</c>.</param>
    /// <param name="nonces">The servers' latest DPoP nonces, shared by the engine's clients; a private cache when <see langword="null"/>.</param>
    public AuthorizationServerChannel(HttpClient http, double timeoutSeconds, ILogger logger, TimeProvider timeProvider, DpopNonces? nonces = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(logger);
        this.nonces = nonces ?? new DpopNonces();
        this.http = http;
        this.timeoutSeconds = timeoutSeconds;
        this.logger = logger;
        this.timeProvider = timeProvider;
        // Device polling is idempotent: any transient failure is retried. A refresh is retried only when the server
        // surely did not process it (no connection, 5xx/429): a broken answer may hide a rotated refresh token, and
        // redeeming the old one again would revoke the whole grant.
        this.PollingRetry = BuildRetry(timeProvider, logger, kind => kind is UnreachableKind.Network or UnreachableKind.ServerBusy or UnreachableKind.BrokenResponse or UnreachableKind.Timeout);
        this.RefreshRetry = BuildRetry(timeProvider, logger, kind => kind is UnreachableKind.Network or UnreachableKind.ServerBusy);
    }

    /// <summary>Gets the retry pipeline of idempotent requests (device polling): every transient failure, up to <see cref="MaxRetries"/>.</summary>
    public ResiliencePipeline PollingRetry { get; }

    /// <summary>Gets the retry pipeline of refresh requests: only failures where the server surely did not process the request.</summary>
    public ResiliencePipeline RefreshRetry { get; }

    /// <summary>Gets the HTTP client.</summary>
    public HttpClient Http => this.http;

    /// <summary>Returns the OAuth <c>error</c> member of a response body, or <see langword="null"/>.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The error code.</returns>
    public static string? OAuthErrorCode(ProtocolResponse response) =>
        response?.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String
            ? error.GetString()
            : null;

    /// <summary>Sends a request and returns the server's answer (success or OAuth error).</summary>
    /// <typeparam name="TRequest">The Duende request type.</typeparam>
    /// <typeparam name="TResponse">The Duende response type.</typeparam>
    /// <param name="endpoint">The URL, for messages.</param>
    /// <param name="request">The request.</param>
    /// <param name="send">The Duende extension method that sends it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response: a success, or an OAuth error body (RFC 6749 §5.2) with a 4xx status.</returns>
    /// <exception cref="ServerUnreachableException">No usable answer.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TResponse> SendAsync<TRequest, TResponse>(string endpoint, TRequest request, Func<HttpClient, TRequest, CancellationToken, Task<TResponse>> send, CancellationToken cancellationToken)
        where TResponse : ProtocolResponse, new()
    {
        ArgumentNullException.ThrowIfNull(send);
        TResponse response;
        try
        {
            response = await send(this.http, request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerUnreachableException(endpoint, null, $"The authorization server did not answer within {this.timeoutSeconds:0.###} s ({endpoint}). Check the network or give the client a longer timeout.", ex)
            {
                Kind = UnreachableKind.Timeout,
            };
        }

        response = await ReadFormAsync(response).ConfigureAwait(false);
        int? status = response.HttpResponse is null ? null : (int)response.HttpStatusCode;
        TimeSpan? retryAfter = RetryAfterOf(response.HttpResponse, this.timeProvider.GetUtcNow());
        if (response.IsError && response.ErrorType != ResponseErrorType.Protocol && !IsOAuthErrorBody(response))
        {
            if (response.Exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            (UnreachableKind kind, string reason) = this.Classify(response, endpoint, status, retryAfter);
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

    /// <summary>
    /// Sends a request with a DPoP proof (RFC 9449 §5) made with <paramref name="dpop"/> for <c>POST</c>
    /// <paramref name="endpoint"/>, carrying the server's latest nonce when one is known. A <c>use_dpop_nonce</c>
    /// refusal with a <c>DPoP-Nonce</c> header (§8) is answered once: the request is sent again with a fresh proof
    /// that carries the nonce (a <c>private_key_jwt</c> client assertion is made afresh too). Every nonce the server
    /// sends, on success or failure, is remembered for its origin. Without a key this is <see cref="SendAsync{TRequest, TResponse}(string, TRequest, Func{HttpClient, TRequest, CancellationToken, Task{TResponse}}, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="TRequest">The Duende request type (the extension methods send a clone of it, so it can be sent again).</typeparam>
    /// <typeparam name="TResponse">The Duende response type.</typeparam>
    /// <param name="endpoint">The URL: the proof's <c>htu</c>.</param>
    /// <param name="request">The request.</param>
    /// <param name="send">The Duende extension method that sends it.</param>
    /// <param name="dpop">The key that signs the proofs, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response, as for the other overload (after the retry, the second answer).</returns>
    /// <exception cref="ServerUnreachableException">No usable answer.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TResponse> SendAsync<TRequest, TResponse>(string endpoint, TRequest request, Func<HttpClient, TRequest, CancellationToken, Task<TResponse>> send, DpopKey? dpop, CancellationToken cancellationToken)
        where TRequest : ProtocolRequest
        where TResponse : ProtocolResponse, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        if (dpop is null)
        {
            return await this.SendAsync(endpoint, request, send, cancellationToken).ConfigureAwait(false);
        }

        request.DPoPProofToken = dpop.CreateProof("POST", endpoint, null, this.nonces.Get(endpoint), this.timeProvider.GetUtcNow());
        TResponse response = await this.SendAsync(endpoint, request, send, cancellationToken).ConfigureAwait(false);
        string? nonce = NonceOf(response);
        this.nonces.Remember(endpoint, nonce);
        if (response.IsError && OAuthErrorCode(response) == "use_dpop_nonce" && nonce is not null)
        {
            this.logger.LogDebug("{Endpoint} asked for a DPoP nonce (use_dpop_nonce); sending the request once more with it.", endpoint);
            response.Dispose();
            request.DPoPProofToken = dpop.CreateProof("POST", endpoint, null, nonce, this.timeProvider.GetUtcNow());
            response = await this.SendAsync(endpoint, request, send, cancellationToken).ConfigureAwait(false);
            this.nonces.Remember(endpoint, NonceOf(response));
        }

        return response;
    }

    /// <summary>Turns an OAuth error answer into an <see cref="OAuthError"/>.</summary>
    /// <param name="response">The response.</param>
    /// <param name="endpoint">The URL, for the log.</param>
    /// <returns>The error as the server sent it.</returns>
    public OAuthError ToOAuthError(ProtocolResponse response, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(response);
        var error = new OAuthError(
            OAuthErrorCode(response) ?? response.Error ?? "invalid_response",
            response.TryGet("error_description"),
            response.TryGet("error_uri"),
            response.HttpResponse is null ? null : (int)response.HttpStatusCode);
        this.logger.LogDebug("{Endpoint} answered OAuth error {Error}.", endpoint, error.Error);
        return error;
    }

    private (UnreachableKind Kind, string Reason) Classify(ProtocolResponse response, string endpoint, int? status, TimeSpan? retryAfter) => response.ErrorType switch
    {
        ResponseErrorType.Http when status is >= 500 or 429 => (UnreachableKind.ServerBusy, $"The authorization server answered HTTP {status} {response.HttpErrorReason} at {endpoint}{(retryAfter is { } ra ? $" (Retry-After {ra.TotalSeconds:0} s)" : string.Empty)}. Try again later."),
        ResponseErrorType.Http => (UnreachableKind.Other, $"The authorization server answered HTTP {status} {response.HttpErrorReason} at {endpoint} without an OAuth error."),
        _ when response.Exception is OperationCanceledException => (UnreachableKind.Timeout, $"The authorization server did not answer within {this.timeoutSeconds:0.###} s ({endpoint})."),
        _ when response.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError } h
            => (UnreachableKind.Network, $"The authorization server could not be reached at {endpoint}: {h.Message}"),
        _ when response.Exception is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } h
            => (UnreachableKind.Other, $"The TLS connection to {endpoint} failed: {h.Message} (for a private CA, give the client a CA bundle)."),
        _ when response.Exception is HttpRequestException or IOException => (UnreachableKind.BrokenResponse, $"The connection to {endpoint} broke off before a complete answer: {response.Exception.Message}"),
        _ when response.Exception is JsonException => (UnreachableKind.BrokenResponse, $"The authorization server's answer at {endpoint} is not JSON or is cut short (HTTP {status}, {response.HttpResponse?.Content.Headers.ContentType?.MediaType ?? "no content type"})."),
        _ => (UnreachableKind.Other, $"The request to {endpoint} failed: {response.Exception?.Message ?? response.Error}"),
    };

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

    private static TimeSpan? RetryAfterOf(HttpResponseMessage? response, DateTimeOffset now) =>
        response?.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
            _ => null,
        };

    private static string? NonceOf(ProtocolResponse response) =>
        response.DPoPNonce is { Length: > 0 } nonce ? nonce
        : response.HttpResponse?.Headers.TryGetValues("DPoP-Nonce", out IEnumerable<string>? values) == true ? values.FirstOrDefault()
        : null;

    // RFC 6749 §5.2: invalid_client may come as HTTP 401 with an OAuth error body; it is still the server's answer. So is
    // an error member with HTTP 200 (GitHub, device polling included) or 428 (Google's authorization_pending). HTTP 5xx
    // stays a transport failure (MSAL), so that it is retried.
    private static bool IsOAuthErrorBody(ProtocolResponse response) =>
        response.HttpResponse is not null && (int)response.HttpStatusCode < 500 && OAuthErrorCode(response) is not null;

    // A form-encoded answer (GitHub answers so unless asked for JSON) is read again as the JSON it stands for, with the
    // same status and headers.
    private static async Task<TResponse> ReadFormAsync<TResponse>(TResponse response)
        where TResponse : ProtocolResponse, new()
    {
        if (response.Json is not null || response.HttpResponse is not { } http || !ResponseFields.IsForm(http.Content.Headers.ContentType?.MediaType, response.Raw))
        {
            return response;
        }

        var converted = new HttpResponseMessage(http.StatusCode)
        {
            Content = new StringContent(ResponseFields.FormToJson(response.Raw!), System.Text.Encoding.UTF8, "application/json"),
            RequestMessage = http.RequestMessage,
            ReasonPhrase = http.ReasonPhrase,
        };
        foreach (KeyValuePair<string, IEnumerable<string>> header in http.Headers)
        {
            converted.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        TResponse reread = await ProtocolResponse.FromHttpResponseAsync<TResponse>(converted).ConfigureAwait(false);
        (response as IDisposable)?.Dispose();
        return reread;
    }
}
