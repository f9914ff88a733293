using Duende.IdentityModel.Client;
using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Fills in what every request of one client to the authorization server carries: the endpoint, <c>client_id</c>,
/// the client's headers, its authentication (RFC 6749 §2.3: <c>client_secret_basic</c> or <c>client_secret_post</c>;
/// RFC 7523 §2.2: <c>private_key_jwt</c>, a fresh assertion per request; or none for a public client), its
/// <c>audience</c>, the extra parameters of the request kind, and <c>Accept: application/json</c>.
/// </summary>
public sealed class ClientAuthentication
{
    private const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private readonly ClientRegistration registration;
    private readonly ServerConfiguration server;
    private readonly SecretRedactor redactor;
    private readonly TimeProvider timeProvider;

    /// <summary>Initializes a new instance of the <see cref="ClientAuthentication"/> class.</summary>
    /// <param name="registration">The client registration.</param>
    /// <param name="server">The server's endpoints.</param>
    /// <param name="redactor">Learns every signed assertion.</param>
    /// <param name="timeProvider">The clock of the assertions' <c>iat</c>/<c>exp</c>.</param>
    public ClientAuthentication(ClientRegistration registration, ServerConfiguration server, SecretRedactor redactor, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(redactor);
        ArgumentNullException.ThrowIfNull(timeProvider);
        this.registration = registration;
        this.server = server;
        this.redactor = redactor;
        this.timeProvider = timeProvider;
    }

    /// <summary>Prepares <paramref name="request"/> for the token endpoint (callers may change its address afterwards).</summary>
    /// <param name="request">The request.</param>
    /// <param name="extras">The extra parameters of this kind of request.</param>
    /// <param name="includeAuthParams">Also send the client's extra authorization parameters (flytekit's option).</param>
    public void Prepare(ProtocolRequest request, IReadOnlyDictionary<string, string> extras, bool includeAuthParams)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(extras);
        ClientRegistration r = this.registration;
        request.Address = this.server.TokenEndpoint;
        request.ClientId = r.ClientId;
        foreach (KeyValuePair<string, string> header in r.Headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        // Some servers answer form-encoded unless JSON is asked for (GitHub): ask for it on every request.
        if (!request.Headers.Accept.Any(a => string.Equals(a.MediaType, "application/json", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
        }

        switch (r.EffectiveAuthMethod)
        {
            case TokenEndpointAuthMethod.ClientSecretBasic:
                request.ClientSecret = r.ClientSecret;
                request.ClientCredentialStyle = ClientCredentialStyle.AuthorizationHeader;
                request.AuthorizationHeaderStyle = BasicAuthenticationHeaderStyle.Rfc6749;
                break;
            case TokenEndpointAuthMethod.ClientSecretPost:
                request.ClientSecret = r.ClientSecret;
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            case TokenEndpointAuthMethod.PrivateKeyJwt when r.AssertionKey is { } key:
                // Also a factory: Duende's token and PAR requests call it on each send, so a DPoP nonce retry gets an
                // assertion with a fresh jti (requests that ignore the factory send the value). Its first call hands
                // over the assertion already signed, so a request is signed once, not twice.
                ClientAssertion? unsent = this.SignAssertion(key);
                request.ClientAssertion = unsent;
                request.ClientAssertionFactory = () => Task.FromResult(Interlocked.Exchange(ref unsent, null) ?? this.SignAssertion(key));
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            case TokenEndpointAuthMethod.PrivateKeyJwt when r.ClientAssertion is { } assertion:
                request.ClientAssertion = new ClientAssertion { Type = JwtBearerAssertionType, Value = assertion };
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
            default:
                request.ClientCredentialStyle = ClientCredentialStyle.PostBody;
                break;
        }

        if (r.Audience is { } audience)
        {
            request.Parameters.Add("audience", audience);
        }

        foreach (KeyValuePair<string, string> pair in extras)
        {
            request.Parameters.Add(pair.Key, pair.Value);
        }

        if (includeAuthParams)
        {
            foreach (KeyValuePair<string, string> pair in r.ExtraAuthParams)
            {
                if (!request.Parameters.ContainsKey(pair.Key))
                {
                    request.Parameters.Add(pair.Key, pair.Value);
                }
            }
        }
    }

    private ClientAssertion SignAssertion(ClientAssertionKey key)
    {
        string signed = key.CreateAssertion(this.registration.ClientId, this.server.TokenEndpoint, this.timeProvider.GetUtcNow());
        this.redactor.Register(signed);
        return new ClientAssertion { Type = JwtBearerAssertionType, Value = signed };
    }
}
