using System.Collections.Frozen;
using OAuthSidecar.Core;

namespace OAuthSidecar.Rpc;

/// <summary>
/// The protocol's name of every option the engine names (<see cref="CoreOption"/>): the one table between Core's
/// names and the wire's camelCase field paths (<c>data.field</c> of -32602 and the sentences that name fields).
/// </summary>
internal static class WireNames
{
    /// <summary>Core option → wire field path.</summary>
    public static readonly FrozenDictionary<string, string> Fields = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [CoreOption.Issuer] = "issuer",
        [CoreOption.Provider] = "provider",
        [CoreOption.Authority] = "authority",
        [CoreOption.Resource] = "resource",
        [CoreOption.RequestResource] = "resource",
        [CoreOption.ClientRedirectUri] = "redirectUri",
        [CoreOption.Server] = "serverConfiguration",
        [CoreOption.ServerIssuer] = "serverConfiguration.issuer",
        [CoreOption.AllowInsecureHttp] = "allowInsecureHttp",
        [CoreOption.ParEndpoint] = "serverConfiguration.pushedAuthorizationRequestEndpoint",
        [CoreOption.TokenEndpoint] = "serverConfiguration.tokenEndpoint",
        [CoreOption.AuthorizationEndpoint] = "serverConfiguration.authorizationEndpoint",
        [CoreOption.DeviceAuthorizationEndpoint] = "serverConfiguration.deviceAuthorizationEndpoint",
        [CoreOption.RevocationEndpoint] = "serverConfiguration.revocationEndpoint",
        [CoreOption.JwksUri] = "serverConfiguration.jwksUri",
        [CoreOption.IntrospectionEndpoint] = "serverConfiguration.introspectionEndpoint",
        [CoreOption.ClientId] = "clientId",
        [CoreOption.ClientSecret] = "clientSecret",
        [CoreOption.PrivateKey] = "privateKey",
        [CoreOption.PrivateKeyFile] = "privateKey.pemFile",
        [CoreOption.Interaction] = "interactive",
        [CoreOption.AuthMethod] = "tokenEndpointAuthMethod",
        [CoreOption.HttpTimeout] = "timeoutSeconds",
        [CoreOption.CaBundlePath] = "tls.caBundlePath",
        [CoreOption.ExtraAuthParams] = "extraAuthParams",
        [CoreOption.ExtraTokenParams] = "extraTokenParams",
        [CoreOption.ExtraRefreshParams] = "extraRefreshParams",
        [CoreOption.Audience] = "audience",
        [CoreOption.Storage] = "storage",
        [CoreOption.FlowId] = "flowId",
        [CoreOption.RedirectUri] = "redirectUri",
        [CoreOption.State] = "state",
        [CoreOption.ExtraParams] = "extraParams",
        [CoreOption.ResponseMode] = "responseMode",
        [CoreOption.FlowTimeout] = "callback.timeoutSeconds",
        [CoreOption.FlowTls] = "callback.tls",
        [CoreOption.FlowCertFile] = "callback.tls.certFile",
        [CoreOption.FlowKeyFile] = "callback.tls.keyFile",
        [CoreOption.AuthResponse] = "authResponse",
        [CoreOption.AuthResponseCode] = "authResponse.code",
        [CoreOption.WaitTimeout] = "timeoutSeconds",
        [CoreOption.ServerHost] = "host",
        [CoreOption.ServerPort] = "port",
        [CoreOption.ServerPath] = "path",
        [CoreOption.ServerScheme] = "scheme",
        [CoreOption.ServerTimeout] = "timeoutSeconds",
        [CoreOption.ServerTls] = "tls",
        [CoreOption.ServerCertFile] = "tls.certFile",
        [CoreOption.ServerKeyFile] = "tls.keyFile",
        [CoreOption.Code] = "code",
        [CoreOption.RefreshToken] = "refreshToken",
        [CoreOption.Username] = "username",
        [CoreOption.Password] = "password",
        [CoreOption.Assertion] = "assertion",
        [CoreOption.GrantType] = "grantType",
        [CoreOption.Claims] = "claims",
        [CoreOption.AcrValues] = "acrValues",
        [CoreOption.MaxAge] = "maxAge",
        [CoreOption.WwwAuthenticate] = "wwwAuthenticate",
        [CoreOption.Dpop] = "dpop",
        [CoreOption.DpopAlgorithm] = "dpop.alg",
        [CoreOption.Par] = "par",
        [CoreOption.DpopHtm] = "htm",
        [CoreOption.DpopHtu] = "htu",
        [CoreOption.DpopAccount] = "account",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Returns the wire field path of a Core option (with <c>.key</c> for a dictionary member).</summary>
    /// <param name="option">A <see cref="CoreOption"/> name, optionally with <c>[key]</c>.</param>
    /// <returns>The field path, e.g. <c>extraAuthParams.scope</c>.</returns>
    public static string Field(string option)
    {
        string baseName = CoreOption.BaseOf(option);
        string field = Fields.TryGetValue(baseName, out string? wire) ? wire : baseName;
        return CoreOption.KeyOf(option) is { } key ? $"{field}.{key}" : field;
    }

    /// <summary>Renders an engine's invalid-option sentence with the protocol's field names.</summary>
    /// <param name="exception">The engine's exception.</param>
    /// <returns>The sentence.</returns>
    public static string Message(InvalidOptionException exception) =>
        InvalidOptionException.Render(exception.Problem, Field);
}
