using System.Collections.Concurrent;
using System.Net;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Logging;
using Microsoft.VisualStudio.Threading;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Finds an authorization server's endpoints: OpenID Connect Discovery 1.0 (<c>/.well-known/openid-configuration</c>),
/// then RFC 8414 (<c>/.well-known/oauth-authorization-server</c>). Results are cached per issuer for an hour.
/// </summary>
public sealed class DiscoveryService
{
    private readonly ConcurrentDictionary<string, AsyncLazy<ServerConfiguration>> cache = new(StringComparer.Ordinal);
    private readonly ILogger logger;
    private readonly TimeProvider timeProvider;
    private readonly ConcurrentDictionary<string, DateTimeOffset> fetchedAt = new(StringComparer.Ordinal);

    private readonly Action<string, string>? onKeySet;

    /// <summary>Initializes a new instance of the <see cref="DiscoveryService"/> class.</summary>
    /// <param name="logger">Diagnostics.</param>
    /// <param name="timeProvider">The clock for cache expiry.</param>
    /// <param name="onKeySet">Receives the JWKS (its URI and JSON) fetched along with the metadata, so it is not fetched twice.</param>
    public DiscoveryService(ILogger logger, TimeProvider timeProvider, Action<string, string>? onKeySet = null)
    {
        this.logger = logger;
        this.timeProvider = timeProvider;
        this.onKeySet = onKeySet;
    }

    /// <summary>Gets or sets how long a discovered configuration is reused (default 1 hour).</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Discovers the server configuration of <paramref name="issuer"/>, from the cache when fresh.</summary>
    /// <param name="issuer">The issuer URL (https, or http on a loopback address).</param>
    /// <param name="http">The HTTP client to use (its TLS settings apply).</param>
    /// <param name="cacheKey">Distinguishes clients with different TLS settings.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="InvalidOptionException">The issuer is not an absolute https URL (http only on loopback).</exception>
    /// <exception cref="ServerUnreachableException">Neither metadata document could be fetched or used.</exception>
    public Task<ServerConfiguration> GetAsync(string issuer, HttpClient http, string cacheKey, CancellationToken cancellationToken) =>
        this.GetAsync(issuer, IssuerRule.Default, http, cacheKey, cancellationToken);

    /// <summary>
    /// Discovers the server configuration of <paramref name="issuer"/>, from the cache when fresh, accepting the
    /// metadata's <c>issuer</c> by <paramref name="issuers"/> (RFC 8414 §3.3: it must be the issuer asked for).
    /// </summary>
    /// <param name="issuer">The issuer URL (https, or http on a loopback address).</param>
    /// <param name="issuers">When the metadata's issuer counts as <paramref name="issuer"/>.</param>
    /// <param name="http">The HTTP client to use (its TLS settings apply).</param>
    /// <param name="cacheKey">Distinguishes clients with different TLS settings.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="InvalidOptionException">The issuer is not an absolute https URL (http only on loopback).</exception>
    /// <exception cref="ServerUnreachableException">Neither metadata document could be fetched or used.</exception>
    public async Task<ServerConfiguration> GetAsync(string issuer, IssuerRule issuers, HttpClient http, string cacheKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issuers);
        ValidateIssuer(issuer);
        string key = cacheKey + "|" + issuers.Name + "|" + issuer;
        if (this.fetchedAt.TryGetValue(key, out DateTimeOffset at) && this.timeProvider.GetUtcNow() - at > this.CacheDuration)
        {
            this.cache.TryRemove(key, out _);
        }

        AsyncLazy<ServerConfiguration> lazy = this.cache.GetOrAdd(key, _ => new AsyncLazy<ServerConfiguration>(() => this.FetchAsync(issuer, issuers, http, CancellationToken.None), joinableTaskFactory: null));
        try
        {
            ServerConfiguration result = await lazy.GetValueAsync(cancellationToken).ConfigureAwait(false);
            this.fetchedAt.TryAdd(key, this.timeProvider.GetUtcNow());
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            this.cache.TryRemove(new KeyValuePair<string, AsyncLazy<ServerConfiguration>>(key, lazy));
            throw;
        }
    }

    internal static string OAuthMetadataUrl(Uri issuer)
    {
        // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
        string path = issuer.AbsolutePath.TrimEnd('/');
        return $"{issuer.GetLeftPart(UriPartial.Authority)}/.well-known/oauth-authorization-server{path}";
    }

    private static void ValidateIssuer(string issuer)
    {
        if (!Uri.TryCreate(issuer, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOptionException(CoreOption.Issuer, $"{{{CoreOption.Issuer}}} '{issuer}' is not an absolute https URL.");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            throw new InvalidOptionException(CoreOption.Issuer, $"{{{CoreOption.Issuer}}} '{issuer}' uses http on a non-loopback host; an authorization server must use https (RFC 8414 §2).");
        }
    }

    private async Task<ServerConfiguration> FetchAsync(string issuer, IssuerRule issuers, HttpClient http, CancellationToken cancellationToken)
    {
        var uri = new Uri(issuer);
        string oidcUrl = issuer.TrimEnd('/') + "/.well-known/openid-configuration";
        DiscoveryDocumentResponse oidc = await RequestAsync(http, oidcUrl, issuer, issuers, cancellationToken).ConfigureAwait(false);
        if (!oidc.IsError)
        {
            return ToConfiguration(oidc, issuer);
        }

        if (oidc.ErrorType is ResponseErrorType.Http && oidc.HttpStatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Forbidden)
        {
            string rfc8414Url = OAuthMetadataUrl(uri);
            this.logger.LogDebug("No OpenID configuration at {Url}; trying RFC 8414 metadata at {Rfc8414}.", oidcUrl, rfc8414Url);
            DiscoveryDocumentResponse oauth = await RequestAsync(http, rfc8414Url, issuer, issuers, cancellationToken).ConfigureAwait(false);
            if (!oauth.IsError)
            {
                return ToConfiguration(oauth, issuer);
            }

            throw Unreachable(oauth, rfc8414Url, $"Neither {oidcUrl} nor {rfc8414Url} serves authorization server metadata");
        }

        throw Unreachable(oidc, oidcUrl, "Discovery failed");
    }

    private static async Task<DiscoveryDocumentResponse> RequestAsync(HttpClient http, string url, string issuer, IssuerRule issuers, CancellationToken cancellationToken)
    {
        var uri = new Uri(url);
        string authority = uri.GetLeftPart(UriPartial.Authority);
        var request = new DiscoveryDocumentRequest
        {
            Address = authority,
            Policy = new DiscoveryPolicy
            {
                Authority = issuer.TrimEnd('/'),
                DiscoveryDocumentPath = uri.AbsolutePath,
                RequireHttps = true,
                AllowHttpOnLoopback = true,
                ValidateIssuerName = true,
                AuthorityValidationStrategy = issuers.ToDiscoveryStrategy(),
                ValidateEndpoints = false,
                RequireKeySet = false,
            },
        };
        try
        {
            return await http.GetDiscoveryDocumentAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerUnreachableException(url, null, $"The authorization server did not answer discovery at {url} in time.", ex);
        }
    }

    private static ServerUnreachableException Unreachable(DiscoveryDocumentResponse response, string url, string what)
    {
        int? status = response.HttpResponse is null ? null : (int)response.HttpStatusCode;
        string reason = response.ErrorType switch
        {
            ResponseErrorType.Http => $"{what}: HTTP {status} from {url}.",
            ResponseErrorType.PolicyViolation => $"{what}: the metadata at {url} is not acceptable: {response.Error}.",
            _ when response.Exception is HttpRequestException h => $"{what}: the authorization server could not be reached at {url}: {h.Message}",
            _ when response.Exception is System.Text.Json.JsonException => $"{what}: the answer from {url} is not JSON.",
            _ => $"{what}: {response.Error} ({url}).",
        };
        return new ServerUnreachableException(url, status, reason + " Check the issuer URL and that the server is running.", response.Exception);
    }

    private ServerConfiguration ToConfiguration(DiscoveryDocumentResponse d, string issuer)
    {
        if (d.JwksUri is { } jwksUri && d.KeySet?.RawData is { Length: > 0 } jwks)
        {
            this.onKeySet?.Invoke(jwksUri, jwks);
        }

        if (string.IsNullOrEmpty(d.TokenEndpoint))
        {
            throw new ServerUnreachableException(issuer, null, $"The metadata of {issuer} names no token endpoint.");
        }

        return new ServerConfiguration(
            d.Issuer ?? issuer,
            d.AuthorizeEndpoint,
            d.TokenEndpoint,
            d.DeviceAuthorizationEndpoint,
            d.RevocationEndpoint,
            d.JwksUri,
            d.IntrospectionEndpoint,
            d.AuthorizationResponseIssParameterSupported ?? false,
            d.PushedAuthorizationRequestEndpoint,
            d.RequirePushedAuthorizationRequests ?? false,
            d.DPoPSigningAlgorithmsSupported is { } algs && algs.Any() ? [.. algs] : null);
    }
}
