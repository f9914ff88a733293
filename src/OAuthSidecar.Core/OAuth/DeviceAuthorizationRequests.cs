using Duende.IdentityModel.Client;
using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Device authorization requests (RFC 8628 §3.1–3.2) of one client: asks the server's device authorization endpoint
/// for a device code with the client's authentication and resource indicators (RFC 8707), reads the answer tolerantly
/// (<see cref="DeviceAuthorization.Read"/>) and refuses a <c>verification_uri</c> the user must not be sent to
/// (<see cref="EndpointRules"/>).
/// </summary>
public sealed class DeviceAuthorizationRequests
{
    private readonly ClientRegistration registration;
    private readonly ServerConfiguration server;
    private readonly AuthorizationServerChannel channel;
    private readonly ClientAuthentication authentication;
    private readonly SecretRedactor redactor;

    /// <summary>Initializes a new instance of the <see cref="DeviceAuthorizationRequests"/> class.</summary>
    /// <param name="registration">The client registration (its extra authorization parameters and default resources).</param>
    /// <param name="server">The server's endpoints.</param>
    /// <param name="channel">Sends the requests.</param>
    /// <param name="authentication">The client's authentication.</param>
    /// <param name="redactor">Learns each device code.</param>
    public DeviceAuthorizationRequests(ClientRegistration registration, ServerConfiguration server, AuthorizationServerChannel channel, ClientAuthentication authentication, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(authentication);
        ArgumentNullException.ThrowIfNull(redactor);
        this.registration = registration;
        this.server = server;
        this.channel = channel;
        this.authentication = authentication;
        this.redactor = redactor;
    }

    /// <summary>Asks for a device code (RFC 8628 §3.1–3.2), with resource indicators (RFC 8707).</summary>
    /// <param name="scopes">The scopes.</param>
    /// <param name="resources">The resource indicators; <see langword="null"/>: the client's defaults.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The device authorization, or the server's error.</returns>
    /// <exception cref="InvalidOptionException">The server has no device authorization endpoint.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used, or sent an incomplete answer or a verification URI that is not https (or http loopback).</exception>
    public async Task<DeviceAuthorizationOutcome> RequestAsync(IReadOnlyList<string> scopes, IReadOnlyList<string>? resources, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        string endpoint = this.server.DeviceAuthorizationEndpoint
            ?? throw new InvalidOptionException(CoreOption.DeviceAuthorizationEndpoint, $"This authorization server has no device authorization endpoint (RFC 8628), so the device flow cannot be used with it. Use the authorization code flow, or give {{{CoreOption.DeviceAuthorizationEndpoint}}}.");
        IReadOnlyList<string> sent = this.registration.AuthorizationScopes(scopes);
        var request = new DeviceAuthorizationRequest { Scope = sent.Count > 0 ? string.Join(' ', sent) : null };
        this.authentication.Prepare(request, this.registration.ExtraAuthParams, includeAuthParams: false);
        foreach (string resource in resources ?? this.registration.Resources)
        {
            request.Parameters.Add("resource", resource); // RFC 8707 §2: one parameter per resource
        }

        request.Address = endpoint;
        using DeviceAuthorizationResponse response = await this.channel.SendAsync(endpoint, request, (h, r, c) => h.RequestDeviceAuthorizationAsync(r, c), cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            return new DeviceAuthorizationOutcome(null, this.channel.ToOAuthError(response, endpoint));
        }

        if (DeviceAuthorization.Read(response.Json) is not { } authorization)
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, "The device authorization response lacks device_code, user_code or verification_uri (RFC 8628 §3.2).");
        }

        // The user is sent to these: a server must not point them at javascript:, file: or a lookalike http page.
        if (EndpointRules.Problem(authorization.VerificationUri) is { } bad || (authorization.VerificationUriComplete is { } complete && EndpointRules.Problem(complete) is { } bad2 && (bad = bad2) is not null))
        {
            throw new ServerUnreachableException(endpoint, (int)response.HttpStatusCode, $"The device authorization response's verification_uri {bad}, so it is not shown to the user (RFC 8628 §3.2).");
        }

        this.redactor.Register(authorization.DeviceCode);
        return new DeviceAuthorizationOutcome(authorization, null);
    }
}
