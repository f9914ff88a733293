using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The client registrations of one engine, by handle: validates a registration, discovers its server (OpenID Connect
/// Discovery, then RFC 8414) unless endpoints are given, gives it an HTTP client over the injected
/// <see cref="SessionOptions.HttpHandlerFactory"/>, and disposes it. Its clients share the servers' latest DPoP nonces
/// (RFC 9449 §8). Thread-safe.
/// </summary>
public sealed class ClientRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, OAuthClient> clients = new(StringComparer.Ordinal);
    private readonly SessionOptions options;
    private readonly ILogger logger;
    private readonly DiscoveryService discovery;
    private readonly DpopNonces nonces = new();

    /// <summary>Initializes a new instance of the <see cref="ClientRegistry"/> class.</summary>
    /// <param name="options">The engine's settings.</param>
    /// <param name="idTokens">The id_token validator every client shares (it caches key sets).</param>
    public ClientRegistry(SessionOptions options, IdTokenValidator idTokens)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(idTokens);
        this.options = options;
        this.IdTokens = idTokens;
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
        this.discovery = new DiscoveryService(this.logger, options.TimeProvider, idTokens.Seed);
    }

    /// <summary>Gets the id_token validator the clients share.</summary>
    public IdTokenValidator IdTokens { get; }

    /// <summary>Gets the number of registered clients.</summary>
    public int Count => this.clients.Count;

    /// <summary>
    /// Registers a client: discovers the server from <paramref name="issuer"/> unless <paramref name="server"/> gives
    /// the endpoints.
    /// </summary>
    /// <param name="issuer">The issuer URL, for discovery (and the expected <c>iss</c> with explicit endpoints).</param>
    /// <param name="server">Explicit endpoints; win over discovery.</param>
    /// <param name="registration">The client registration.</param>
    /// <param name="cancellationToken">Cancels discovery.</param>
    /// <returns>The client, whose <see cref="OAuthClient.Handle"/> names it from now on.</returns>
    /// <exception cref="InvalidOptionException">Neither issuer nor endpoints, or an invalid option.</exception>
    /// <exception cref="ServerUnreachableException">Discovery failed.</exception>
    public Task<OAuthClient> CreateAsync(string? issuer, ServerConfiguration? server, ClientRegistration registration, CancellationToken cancellationToken) =>
        this.CreateAsync(new Providers.ClientTarget(issuer, server), registration, cancellationToken);

    /// <summary>
    /// Registers a client for <paramref name="target"/>: a provider preset (<see cref="Providers.ProviderPresets"/>)
    /// fills what the registration leaves out and says where the endpoints are; then the server is discovered unless
    /// endpoints are given. Explicit members win over the preset.
    /// </summary>
    /// <param name="target">The issuer, explicit endpoints, or a provider preset and its authority.</param>
    /// <param name="registration">The client registration.</param>
    /// <param name="cancellationToken">Cancels discovery.</param>
    /// <returns>The client, whose <see cref="OAuthClient.Handle"/> names it from now on.</returns>
    /// <exception cref="InvalidOptionException">Neither issuer nor endpoints, an unknown preset, or an invalid option.</exception>
    /// <exception cref="ServerUnreachableException">Discovery failed.</exception>
    public async Task<OAuthClient> CreateAsync(Providers.ClientTarget target, ClientRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(registration);
        (registration, string? issuer, ServerConfiguration? server) = Providers.ProviderPresets.Apply(target, registration);
        Validate(registration);
        HttpClient http = HttpClients.Create(registration, this.options.HttpHandlerFactory(registration));
        try
        {
            ServerConfiguration configuration;
            if (server is not null)
            {
                if (string.IsNullOrWhiteSpace(server.TokenEndpoint))
                {
                    throw new InvalidOptionException(CoreOption.TokenEndpoint, $"{{{CoreOption.TokenEndpoint}}} is required.");
                }

                configuration = server with { Issuer = server.Issuer ?? issuer };
                this.CheckEndpoints(configuration, registration);
            }
            else if (issuer is not null)
            {
                string cacheKey = $"{registration.CaBundlePath}|{registration.InsecureSkipVerify}";
                configuration = await this.discovery.GetAsync(issuer, registration.Issuers, http, cacheKey, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new InvalidOptionException(CoreOption.Issuer, $"Give {{{CoreOption.Issuer}}} (for discovery), {{{CoreOption.Server}}} (with at least {{{CoreOption.TokenEndpoint}}}) or {{{CoreOption.Provider}}}.");
            }

            string handle = "c_" + ProtocolRandom.Create(12);
            var client = new OAuthClient(handle, registration, configuration, http, this.options, this.IdTokens, this.nonces);
            this.clients[handle] = client;
            this.logger.LogInformation("Client {ClientId} registered for {Issuer}{Preset}.", registration.ClientId, configuration.Issuer ?? configuration.TokenEndpoint, registration.Preset is { } p ? $" (preset {p.Name})" : string.Empty);
            return client;
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>Returns the client named by <paramref name="clientHandle"/>.</summary>
    /// <param name="clientHandle">The handle.</param>
    /// <returns>The client.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    public OAuthClient Get(string clientHandle) =>
        clientHandle is not null && this.clients.TryGetValue(clientHandle, out OAuthClient? client)
            ? client
            : throw new UnknownHandleException(HandleKind.Client, clientHandle ?? string.Empty, $"No client has the handle '{clientHandle}': it was never created or was disposed.");

    /// <summary>Forgets a client (its flows are the caller's to end) and disposes it.</summary>
    /// <param name="clientHandle">The handle.</param>
    /// <returns>The client that was removed (already disposed).</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    public OAuthClient Remove(string clientHandle)
    {
        OAuthClient client = this.Get(clientHandle);
        if (!this.clients.TryRemove(new KeyValuePair<string, OAuthClient>(clientHandle, client)))
        {
            throw new UnknownHandleException(HandleKind.Client, clientHandle, $"The client '{clientHandle}' was disposed meanwhile.");
        }

        client.Dispose();
        return client;
    }

    /// <summary>Disposes every client.</summary>
    public void Dispose()
    {
        foreach (OAuthClient client in this.clients.Values)
        {
            client.Dispose();
        }

        this.clients.Clear();
    }

    // Explicit endpoints get the checks discovered ones get (RFC 8414 §2; RFC 6749 §3.1, §3.2): https, or http on a
    // loopback address; nothing a browser launcher or a URL handler could take for something else.
    private void CheckEndpoints(ServerConfiguration server, ClientRegistration registration)
    {
        (string Option, string? Url)[] endpoints =
        [
            (CoreOption.TokenEndpoint, server.TokenEndpoint),
            (CoreOption.AuthorizationEndpoint, server.AuthorizationEndpoint),
            (CoreOption.DeviceAuthorizationEndpoint, server.DeviceAuthorizationEndpoint),
            (CoreOption.RevocationEndpoint, server.RevocationEndpoint),
            (CoreOption.JwksUri, server.JwksUri),
            (CoreOption.IntrospectionEndpoint, server.IntrospectionEndpoint),
            (CoreOption.ParEndpoint, server.PushedAuthorizationRequestEndpoint),
            (CoreOption.ServerIssuer, server.Issuer),
        ];
        foreach ((string option, string? url) in endpoints)
        {
            if (url is not null && EndpointRules.Problem(url, registration.AllowInsecureHttp) is { } problem)
            {
                // Only plain http is lifted by allowInsecureHttp: name it where it would help.
                string hint = EndpointRules.Problem(url, allowInsecureHttp: true) is null ? $" (for a test server only: {{{CoreOption.AllowInsecureHttp}}})" : string.Empty;
                throw new InvalidOptionException(option, $"{{{option}}} '{url}' {problem}{hint}.");
            }
        }

        if (server.Issuer is null && registration.Scopes.Contains("openid", StringComparer.Ordinal))
        {
            throw new InvalidOptionException(CoreOption.ServerIssuer, $"{{{CoreOption.ServerIssuer}}} is required with explicit endpoints and the openid scope: every id_token's iss is checked against it (OpenID Connect Core §3.1.3.7).");
        }

        if (registration.AllowInsecureHttp)
        {
            this.logger.LogWarning("Plain http endpoints are allowed for client {ClientId}: its secrets and codes may cross the network in cleartext. Allow this for test servers only.", registration.ClientId);
        }
    }

    private static void Validate(ClientRegistration registration)
    {
        if (string.IsNullOrWhiteSpace(registration.ClientId))
        {
            throw new InvalidOptionException(CoreOption.ClientId, $"{{{CoreOption.ClientId}}} is required: the client identifier registered at the authorization server.");
        }

        if (registration.TimeoutSeconds is <= 0 or > 3600 || double.IsNaN(registration.TimeoutSeconds))
        {
            throw new InvalidOptionException(CoreOption.HttpTimeout, $"{{{CoreOption.HttpTimeout}}} must be between 0 and 3600 seconds.");
        }

        if (registration.EffectiveAuthMethod is TokenEndpointAuthMethod.ClientSecretBasic or TokenEndpointAuthMethod.ClientSecretPost && registration.ClientSecret is null)
        {
            throw new InvalidOptionException(CoreOption.ClientSecret, $"{{{CoreOption.ClientSecret}}} is required with client_secret_basic and client_secret_post.");
        }

        foreach (string resource in registration.Resources)
        {
            CheckResource(resource, CoreOption.Resource);
        }

        if (registration.RedirectUri is { } redirect && !Uri.TryCreate(redirect, UriKind.Absolute, out _))
        {
            throw new InvalidOptionException(CoreOption.ClientRedirectUri, $"{{{CoreOption.ClientRedirectUri}}} '{redirect}' is not an absolute URI.");
        }
    }

    /// <summary>Checks one resource indicator (RFC 8707 §2: an absolute URI without a fragment).</summary>
    /// <param name="resource">The value.</param>
    /// <param name="option">The <see cref="CoreOption"/> that gave it.</param>
    /// <exception cref="InvalidOptionException">Not an absolute URI, or one with a fragment.</exception>
    public static void CheckResource(string resource, string option)
    {
        if (string.IsNullOrEmpty(resource) || !Uri.TryCreate(resource, UriKind.Absolute, out Uri? uri) || resource.Contains('#', StringComparison.Ordinal))
        {
            throw new InvalidOptionException(option, $"{{{option}}} '{resource}' is not a resource indicator: RFC 8707 §2 asks for an absolute URI without a fragment (such as https://api.example.com or urn:example:api).");
        }

        _ = uri;
    }
}
