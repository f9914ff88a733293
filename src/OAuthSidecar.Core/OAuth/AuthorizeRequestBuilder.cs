using Duende.IdentityModel.Client;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Builds authorization request URIs (RFC 6749 §4.1.1, PKCE RFC 7636 §4.3) for one client: the standard parameters
/// first (the scopes as the client's preset asks for refresh tokens), the resource indicators (RFC 8707), then the
/// client's <c>audience</c> and extra parameters, then the request's own — which may add names but never replace a
/// standard value — and last a preset's defaults for what is still unset.
/// </summary>
public static class AuthorizeRequestBuilder
{
    /// <summary>The parameters the sidecar sets itself in an authorization request.</summary>
    public static readonly IReadOnlySet<string> StandardAuthParams = new HashSet<string>(StringComparer.Ordinal)
    {
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method",
        "dpop_jkt", "request_uri",
    };

    /// <summary>The parameters the sidecar sets itself in a token request.</summary>
    public static readonly IReadOnlySet<string> StandardTokenParams = new HashSet<string>(StringComparer.Ordinal)
    {
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "code", "redirect_uri",
        "code_verifier", "refresh_token", "device_code", "scope", "username", "password", "assertion",
    };

    /// <summary>Builds the authorization request URI.</summary>
    /// <param name="registration">The client registration.</param>
    /// <param name="server">The server's endpoints.</param>
    /// <param name="request">The request.</param>
    /// <returns>The URI to open in the browser.</returns>
    /// <exception cref="InvalidOptionException">No authorization endpoint is known, or an extra parameter overrides a standard one.</exception>
    public static string Build(ClientRegistration registration, ServerConfiguration server, AuthorizeRequest request)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(request);
        return new RequestUrl(EndpointOf(server)).Create(BuildParameters(registration, request, includeClientId: true));
    }

    /// <summary>
    /// Builds the URI the browser opens after a pushed authorization request (RFC 9126 §4): only <c>client_id</c> and
    /// <c>request_uri</c>.
    /// </summary>
    /// <param name="registration">The client registration.</param>
    /// <param name="server">The server's endpoints.</param>
    /// <param name="requestUri">The <c>request_uri</c> the server answered.</param>
    /// <returns>The URI to open in the browser.</returns>
    /// <exception cref="InvalidOptionException">No authorization endpoint is known.</exception>
    public static string BuildPushed(ClientRegistration registration, ServerConfiguration server, string requestUri)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return new RequestUrl(EndpointOf(server)).Create(new Parameters { { "client_id", registration.ClientId }, { "request_uri", requestUri } });
    }

    /// <summary>
    /// Builds the parameters of an authorization request: the standard ones, the resource indicators (RFC 8707), then
    /// the client's <c>audience</c> and extra parameters, then the request's own, and last a preset's defaults for what
    /// is still unset.
    /// </summary>
    /// <param name="registration">The client registration.</param>
    /// <param name="request">The request.</param>
    /// <param name="includeClientId">Add <c>client_id</c> (a pushed request gets it from the client authentication).</param>
    /// <returns>The parameters.</returns>
    /// <exception cref="InvalidOptionException">An extra parameter overrides a standard one.</exception>
    public static Parameters BuildParameters(ClientRegistration registration, AuthorizeRequest request, bool includeClientId)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(request);
        var parameters = new Parameters { { "response_type", request.ResponseType } };
        if (includeClientId)
        {
            parameters.Add("client_id", registration.ClientId);
        }

        parameters.AddOptional("redirect_uri", request.RedirectUri);
        IReadOnlyList<string> scopes = registration.AuthorizationScopes(request.Scopes is { Count: > 0 } s ? s : registration.Scopes);
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

        parameters.AddOptional("dpop_jkt", request.DpopJkt);
        parameters.AddOptional("login_hint", request.LoginHint);
        parameters.AddOptional("prompt", request.Prompt);
        parameters.AddOptional("response_mode", request.ResponseMode);
        foreach (string resource in request.Resources ?? registration.Resources)
        {
            parameters.Add("resource", resource); // RFC 8707 §2: one parameter per resource
        }

        AddExtras(parameters, registration.Audience is { } audience ? new Dictionary<string, string> { ["audience"] = audience } : null, CoreOption.Audience);
        AddExtras(parameters, registration.ExtraAuthParams, CoreOption.ExtraAuthParams);
        AddExtras(parameters, request.ExtraParams, CoreOption.ExtraParams);
        foreach (KeyValuePair<string, string> pair in registration.DefaultAuthParams)
        {
            // A preset's defaults (Google's access_type, prompt) yield to anything the request set.
            if (!parameters.ContainsKey(pair.Key))
            {
                parameters.Add(pair.Key, pair.Value);
            }
        }

        return parameters;
    }

    /// <summary>Refuses extra parameters that would set a standard one.</summary>
    /// <param name="extras">The extra parameters, or <see langword="null"/>.</param>
    /// <param name="standard">The standard names.</param>
    /// <param name="option">The <see cref="CoreOption"/> name of the extras.</param>
    /// <exception cref="InvalidOptionException">An extra parameter names a standard one.</exception>
    public static void RejectOverrides(IReadOnlyDictionary<string, string>? extras, IReadOnlySet<string> standard, string option)
    {
        ArgumentNullException.ThrowIfNull(standard);
        if (extras is null)
        {
            return;
        }

        foreach (string key in extras.Keys)
        {
            if (standard.Contains(key))
            {
                throw new InvalidOptionException(CoreOption.Member(option, key), $"{{{option}}} may not set the standard parameter '{key}': the sidecar sets it itself (a standard parameter is never overridden).");
            }
        }
    }

    private static string EndpointOf(ServerConfiguration server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.AuthorizationEndpoint
            ?? throw new InvalidOptionException(CoreOption.AuthorizationEndpoint, $"This client has no authorization endpoint: give {{{CoreOption.AuthorizationEndpoint}}} or an {{{CoreOption.Issuer}}} whose metadata has one.");
    }

    // An extra parameter may add a name (response_mode, a vendor parameter) but never replace a value already set.
    private static void AddExtras(Parameters parameters, IReadOnlyDictionary<string, string>? extras, string option)
    {
        if (extras is null)
        {
            return;
        }

        foreach (KeyValuePair<string, string> pair in extras)
        {
            if (parameters.ContainsKey(pair.Key))
            {
                throw new InvalidOptionException(CoreOption.Member(option, pair.Key), $"{{{option}}} may not set '{pair.Key}': it is a standard parameter that the sidecar sets itself.");
            }

            parameters.Add(pair.Key, pair.Value);
        }
    }
}
