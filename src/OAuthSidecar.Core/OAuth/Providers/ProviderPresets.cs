namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>The provider presets by name, and how <c>createClient { provider, authority }</c> is read.</summary>
public static class ProviderPresets
{
    /// <summary>Gets every preset, in the order the documentation lists them.</summary>
    public static IReadOnlyList<ProviderPreset> All { get; } =
    [
        new GitHubPreset(), new GitLabPreset(), new GooglePreset(), new EntraPreset(), new OktaPreset(), new Auth0Preset(), new KeycloakPreset(),
    ];

    /// <summary>Gets the preset names, for messages and schemas.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToList();

    /// <summary>Finds a preset by name.</summary>
    /// <param name="name">The name (<c>github</c>, <c>gitlab</c>, <c>google</c>, <c>entra</c>, <c>okta</c>, <c>auth0</c>, <c>keycloak</c>).</param>
    /// <returns>The preset.</returns>
    /// <exception cref="InvalidOptionException">An unknown name.</exception>
    public static ProviderPreset Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal))
            ?? throw new InvalidOptionException(CoreOption.Provider, $"{{{CoreOption.Provider}}} '{name}' is not known: use one of {string.Join(", ", Names)}, or give {{{CoreOption.Issuer}}} or {{{CoreOption.Server}}} for any other server.");

    /// <summary>Reads the authority of a preset: the caller's, else the preset's default.</summary>
    /// <param name="preset">The preset.</param>
    /// <param name="authority">The caller's authority, or <see langword="null"/>.</param>
    /// <returns>The authority (absolute; https, or http on a loopback host).</returns>
    /// <exception cref="InvalidOptionException">Missing where required, or not an acceptable URL.</exception>
    public static Uri Authority(ProviderPreset preset, string? authority)
    {
        ArgumentNullException.ThrowIfNull(preset);
        string value = authority ?? preset.DefaultAuthority
            ?? throw new InvalidOptionException(CoreOption.Authority, $"{{{CoreOption.Authority}}} is required with {{{CoreOption.Provider}}} '{preset.Name}': the provider's base URL (see {preset.Documentation}).");
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new InvalidOptionException(CoreOption.Authority, $"{{{CoreOption.Authority}}} '{value}' is not an absolute https URL without query or fragment.");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            throw new InvalidOptionException(CoreOption.Authority, $"{{{CoreOption.Authority}}} '{value}' uses http on a non-loopback host; a provider must use https.");
        }

        return uri;
    }

    /// <summary>
    /// Applies <paramref name="target"/>'s preset, if any, to <paramref name="registration"/> and returns where the
    /// endpoints come from: the caller's <c>issuer</c> and <c>serverConfiguration</c> win over the preset's (member by
    /// member over fixed endpoints).
    /// </summary>
    /// <param name="target">What the caller named.</param>
    /// <param name="registration">The caller's registration.</param>
    /// <returns>The registration to use, the issuer to discover, and explicit endpoints.</returns>
    /// <exception cref="InvalidOptionException">An unknown preset, a bad authority, or an authority without a preset.</exception>
    public static (ClientRegistration Registration, string? Issuer, ServerConfiguration? Server) Apply(ClientTarget target, ClientRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(registration);
        if (target.Provider is not { } name)
        {
            return target.Authority is null
                ? (registration, target.Issuer, target.Server)
                : throw new InvalidOptionException(CoreOption.Authority, $"{{{CoreOption.Authority}}} needs {{{CoreOption.Provider}}}; without a preset give {{{CoreOption.Issuer}}}.");
        }

        ProviderPreset preset = Find(name);
        Uri authority = Authority(preset, target.Authority);
        PresetTarget resolved = preset.Resolve(authority);
        ServerConfiguration? server = (target.Server, resolved.Endpoints) switch
        {
            (null, var fixedEndpoints) => fixedEndpoints,
            (var explicitEndpoints, null) => explicitEndpoints,
            var (given, fixedByPreset) => new ServerConfiguration(
                given.Issuer ?? fixedByPreset.Issuer,
                given.AuthorizationEndpoint ?? fixedByPreset.AuthorizationEndpoint,
                string.IsNullOrEmpty(given.TokenEndpoint) ? fixedByPreset.TokenEndpoint : given.TokenEndpoint,
                given.DeviceAuthorizationEndpoint ?? fixedByPreset.DeviceAuthorizationEndpoint,
                given.RevocationEndpoint ?? fixedByPreset.RevocationEndpoint,
                given.JwksUri ?? fixedByPreset.JwksUri,
                given.IntrospectionEndpoint ?? fixedByPreset.IntrospectionEndpoint,
                given.AuthorizationResponseIssParameterSupported || fixedByPreset.AuthorizationResponseIssParameterSupported,
                given.PushedAuthorizationRequestEndpoint ?? fixedByPreset.PushedAuthorizationRequestEndpoint,
                given.RequirePushedAuthorizationRequests || fixedByPreset.RequirePushedAuthorizationRequests,
                given.DpopSigningAlgValuesSupported ?? fixedByPreset.DpopSigningAlgValuesSupported),
        };
        return (preset.Apply(registration, authority), target.Issuer ?? resolved.DiscoveryIssuer, server);
    }
}

/// <summary>What <c>createClient</c> names as the server: an issuer to discover, explicit endpoints, or a provider preset and its authority.</summary>
/// <param name="Issuer">The issuer to discover.</param>
/// <param name="Server">Explicit endpoints.</param>
/// <param name="Provider">A preset name.</param>
/// <param name="Authority">The preset's base URL.</param>
public sealed record ClientTarget(string? Issuer = null, ServerConfiguration? Server = null, string? Provider = null, string? Authority = null);
