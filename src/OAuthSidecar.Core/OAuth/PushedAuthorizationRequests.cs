using Duende.IdentityModel.Client;

namespace OAuthSidecar.Core.OAuth;

/// <summary>A pushed authorization request the server accepted (RFC 9126 §2.2).</summary>
/// <param name="RequestUri">The <c>request_uri</c> the browser's authorization request refers to.</param>
/// <param name="ExpiresIn">How long the <c>request_uri</c> is good for, in seconds.</param>
public sealed record PushedAuthorization(string RequestUri, int ExpiresIn);

/// <summary>The outcome of a pushed authorization request: the <c>request_uri</c>, or the server's error (RFC 9126 §2.3).</summary>
/// <param name="Pushed">The accepted request.</param>
/// <param name="Error">The server's refusal.</param>
public readonly record struct PushOutcome(PushedAuthorization? Pushed, OAuthError? Error);

/// <summary>
/// Pushed authorization requests (RFC 9126) of one client: decides whether its authorization requests are pushed
/// (<see cref="ParMode"/> against the server's metadata, RFC 9126 §5) and pushes them with the client's
/// authentication through Duende.IdentityModel, so the browser's URL carries only <c>client_id</c> and
/// <c>request_uri</c>.
/// </summary>
public sealed class PushedAuthorizationRequests
{
    /// <summary>The lifetime assumed when the server's answer has no <c>expires_in</c>, in seconds.</summary>
    public const int DefaultExpiresInSeconds = 60;

    private readonly ClientRegistration registration;
    private readonly ServerConfiguration server;
    private readonly AuthorizationServerChannel channel;
    private readonly ClientAuthentication authentication;

    /// <summary>Initializes a new instance of the <see cref="PushedAuthorizationRequests"/> class.</summary>
    /// <param name="registration">The client registration (its <see cref="ClientRegistration.Par"/>).</param>
    /// <param name="server">The server's endpoints and PAR metadata.</param>
    /// <param name="channel">Sends the requests.</param>
    /// <param name="authentication">The client's authentication.</param>
    /// <exception cref="InvalidOptionException"><see cref="ParMode.Always"/> without a pushed authorization request endpoint, or <see cref="ParMode.Never"/> with a server that requires pushed requests.</exception>
    public PushedAuthorizationRequests(ClientRegistration registration, ServerConfiguration server, AuthorizationServerChannel channel, ClientAuthentication authentication)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(authentication);
        this.registration = registration;
        this.server = server;
        this.channel = channel;
        this.authentication = authentication;
        bool available = server.PushedAuthorizationRequestEndpoint is not null;
        this.Enabled = registration.Par switch
        {
            ParMode.Always when !available => throw new InvalidOptionException(CoreOption.Par, $"{{{CoreOption.Par}}} 'always' needs a pushed authorization request endpoint (RFC 9126 §5), and this server's metadata names none."),
            ParMode.Never when server.RequirePushedAuthorizationRequests => throw new InvalidOptionException(CoreOption.Par, $"{{{CoreOption.Par}}} 'never' cannot be used: this server requires pushed authorization requests (require_pushed_authorization_requests, RFC 9126 §5)."),
            ParMode.Never => false,
            _ => available,
        };
    }

    /// <summary>Gets a value indicating whether the client's authorization requests are pushed.</summary>
    public bool Enabled { get; }

    /// <summary>Pushes an authorization request (RFC 9126 §2.1) to the server's pushed authorization request endpoint.</summary>
    /// <param name="request">The authorization request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The <c>request_uri</c> and its lifetime, or the server's error.</returns>
    /// <exception cref="InvalidOptionException">The server has no pushed authorization request endpoint, or an extra parameter overrides a standard one.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used, or answered without a <c>request_uri</c>.</exception>
    public async Task<PushOutcome> PushAsync(AuthorizeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string endpoint = this.server.PushedAuthorizationRequestEndpoint
            ?? throw new InvalidOptionException(CoreOption.Par, $"This server has no pushed authorization request endpoint (RFC 9126), so {{{CoreOption.Par}}} cannot be used.");
        Parameters parameters = AuthorizeRequestBuilder.BuildParameters(this.registration, request, includeClientId: false);
        var pushed = new PushedAuthorizationRequest();
        this.authentication.Prepare(pushed, new Dictionary<string, string>(), includeAuthParams: false);
        pushed.Address = endpoint;
        var preset = new HashSet<string>(pushed.Parameters.Select(p => p.Key), StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> parameter in parameters)
        {
            // What the client authentication set wins; a name may repeat (RFC 8707 §2: one resource parameter each).
            if (!preset.Contains(parameter.Key))
            {
                pushed.Parameters.Add(parameter.Key, parameter.Value);
            }
        }

        using PushedAuthorizationResponse response = await this.channel.SendAsync(endpoint, pushed, (h, r, c) => h.PushAuthorizationAsync(r, c), cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            return new PushOutcome(null, this.channel.ToOAuthError(response, endpoint));
        }

        if (string.IsNullOrEmpty(response.RequestUri))
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, "The pushed authorization response has no request_uri (RFC 9126 §2.2).");
        }

        return new PushOutcome(new PushedAuthorization(response.RequestUri, response.ExpiresIn is > 0 and { } e ? e : DefaultExpiresInSeconds), null);
    }
}
