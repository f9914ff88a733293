using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

// The closed sets of values the protocol accepts in parameters. Each is written on the wire as the string of its
// [JsonStringEnumMemberName] and listed as an `enum` in the schema (and so in the generated clients). To add a value:
// add a member here, map it in ProtocolMapping, run `npm run schema` and `node scripts/gen-clients.mjs`.

/// <summary>A credential store: <c>--storage</c>, <c>initialize.storage</c>, <c>createClient.storage</c>.</summary>
[JsonConverter(typeof(WireEnumConverter<StorageBackendDto>))]
public enum StorageBackendDto
{
    /// <summary>The OS keyring (Keychain, DPAPI, the Secret Service).</summary>
    [JsonStringEnumMemberName("keyring")]
    Keyring,

    /// <summary>Files readable only by the user, under the data directory.</summary>
    [JsonStringEnumMemberName("file")]
    File,

    /// <summary>The process's memory: gone when it exits.</summary>
    [JsonStringEnumMemberName("memory")]
    Memory,
}

/// <summary>How <c>getCredentials</c> signs in when nothing usable is stored (<c>interactive</c>).</summary>
[JsonConverter(typeof(WireEnumConverter<InteractionModeDto>))]
public enum InteractionModeDto
{
    /// <summary>The default: the browser, else the device flow, else pasting the redirect address, as the environment allows.</summary>
    [JsonStringEnumMemberName("auto")]
    Auto,

    /// <summary>An authorization code flow in the browser.</summary>
    [JsonStringEnumMemberName("browser")]
    Browser,

    /// <summary>The device authorization grant (RFC 8628); the code is shown through <c>deviceCode</c>.</summary>
    [JsonStringEnumMemberName("device")]
    Device,

    /// <summary>The authorization code flow whose response the user pastes (<c>auth/promptRedirect</c>).</summary>
    [JsonStringEnumMemberName("paste")]
    Paste,

    /// <summary>No sign-in: -32008 when nothing usable is stored.</summary>
    [JsonStringEnumMemberName("none")]
    None,
}

/// <summary>A provider preset (1.1): what <c>createClient</c> fills in for a provider people use (docs/PROVIDERS.md).</summary>
[JsonConverter(typeof(WireEnumConverter<ProviderDto>))]
public enum ProviderDto
{
    /// <summary>GitHub (github.com or GitHub Enterprise Server): no discovery, form-encoded answers, errors at HTTP 200.</summary>
    [JsonStringEnumMemberName("github")]
    GitHub,

    /// <summary>GitLab (gitlab.com or self-managed).</summary>
    [JsonStringEnumMemberName("gitlab")]
    GitLab,

    /// <summary>Google (a Desktop app client).</summary>
    [JsonStringEnumMemberName("google")]
    Google,

    /// <summary>Microsoft Entra ID (a tenant, <c>common</c>, <c>organizations</c>, <c>consumers</c>; sovereign clouds through <c>authority</c>).</summary>
    [JsonStringEnumMemberName("entra")]
    Entra,

    /// <summary>Okta (an authorization server's issuer as <c>authority</c>).</summary>
    [JsonStringEnumMemberName("okta")]
    Okta,

    /// <summary>Auth0 (the tenant's issuer as <c>authority</c>).</summary>
    [JsonStringEnumMemberName("auth0")]
    Auth0,

    /// <summary>Keycloak (<c>https://host/realms/&lt;realm&gt;</c> as <c>authority</c>).</summary>
    [JsonStringEnumMemberName("keycloak")]
    Keycloak,
}

/// <summary>How the client authenticates at the token endpoint (RFC 7591 §2 <c>token_endpoint_auth_method</c> values).</summary>
[JsonConverter(typeof(WireEnumConverter<TokenEndpointAuthMethodDto>))]
public enum TokenEndpointAuthMethodDto
{
    /// <summary>HTTP Basic with the client secret (RFC 6749 §2.3.1); the default with a secret.</summary>
    [JsonStringEnumMemberName("client_secret_basic")]
    ClientSecretBasic,

    /// <summary>The client secret in the request body (RFC 6749 §2.3.1).</summary>
    [JsonStringEnumMemberName("client_secret_post")]
    ClientSecretPost,

    /// <summary>A public client: <c>client_id</c> only; the default without a secret.</summary>
    [JsonStringEnumMemberName("none")]
    None,

    /// <summary>A client assertion JWT signed with the client's private key (RFC 7523 §2.2, OIDC Core §9).</summary>
    [JsonStringEnumMemberName("private_key_jwt")]
    PrivateKeyJwt,
}

/// <summary>How the authorization server delivers its response to the loopback server (<c>response_mode</c>).</summary>
[JsonConverter(typeof(WireEnumConverter<ResponseModeDto>))]
public enum ResponseModeDto
{
    /// <summary>In the redirect URI's query (RFC 6749 §4.1.2).</summary>
    [JsonStringEnumMemberName("query")]
    Query,

    /// <summary>An auto-submitted HTML form (OAuth 2.0 Form Post Response Mode).</summary>
    [JsonStringEnumMemberName("form_post")]
    FormPost,
}

/// <summary>The scheme of a standalone callback server.</summary>
[JsonConverter(typeof(WireEnumConverter<CallbackSchemeDto>))]
public enum CallbackSchemeDto
{
    /// <summary>TLS (the default): an ad-hoc certificate unless a PEM pair is given.</summary>
    [JsonStringEnumMemberName("https")]
    Https,

    /// <summary>Plain HTTP.</summary>
    [JsonStringEnumMemberName("http")]
    Http,
}

/// <summary>The assertion grants of <c>obtainTokenByAssertion</c> (RFC 7521).</summary>
[JsonConverter(typeof(WireEnumConverter<AssertionGrantTypeDto>))]
public enum AssertionGrantTypeDto
{
    /// <summary>A JWT bearer assertion (RFC 7523 §2.1).</summary>
    [JsonStringEnumMemberName("urn:ietf:params:oauth:grant-type:jwt-bearer")]
    JwtBearer,

    /// <summary>A SAML 2.0 bearer assertion (RFC 7522 §2.1).</summary>
    [JsonStringEnumMemberName("urn:ietf:params:oauth:grant-type:saml2-bearer")]
    Saml2Bearer,
}

/// <summary>When <c>createClient</c>'s authorization requests are pushed first (<c>par</c>, RFC 9126, addition 1.1).</summary>
[JsonConverter(typeof(WireEnumConverter<ParModeDto>))]
public enum ParModeDto
{
    /// <summary>When the server's metadata names a <c>pushed_authorization_request_endpoint</c> (the default).</summary>
    [JsonStringEnumMemberName("auto")]
    Auto,

    /// <summary>Always: -32602 when the server has no pushed authorization request endpoint.</summary>
    [JsonStringEnumMemberName("always")]
    Always,

    /// <summary>Never: -32602 when the server requires pushed authorization requests.</summary>
    [JsonStringEnumMemberName("never")]
    Never,
}

/// <summary>
/// The JWS algorithm of a client's DPoP keys (<c>createClient</c>'s <c>dpop.alg</c>, RFC 9449 §5.1, addition 1.1):
/// the names of RFC 7518 §3.1 and RFC 8037 §3.1.
/// </summary>
[JsonConverter(typeof(WireEnumConverter<DpopAlgorithmDto>))]
public enum DpopAlgorithmDto
{
    /// <summary>ECDSA with P-256 and SHA-256 (the default when the server's metadata does not choose).</summary>
    [JsonStringEnumMemberName("ES256")]
    ES256,

    /// <summary>ECDSA with P-384 and SHA-384.</summary>
    [JsonStringEnumMemberName("ES384")]
    ES384,

    /// <summary>ECDSA with P-521 and SHA-512.</summary>
    [JsonStringEnumMemberName("ES512")]
    ES512,

    /// <summary>RSASSA-PKCS1-v1_5 with SHA-256 (a 2048-bit key).</summary>
    [JsonStringEnumMemberName("RS256")]
    RS256,

    /// <summary>RSASSA-PSS with SHA-256 (a 2048-bit key).</summary>
    [JsonStringEnumMemberName("PS256")]
    PS256,

    /// <summary>EdDSA with an Ed25519 key (RFC 8037 §3.1; the proof's <c>jwk</c> is <c>{ kty: "OKP", crv: "Ed25519", x }</c>).</summary>
    [JsonStringEnumMemberName("EdDSA")]
    EdDSA,
}
