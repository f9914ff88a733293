namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Parameters of <c>buildAuthRequestUri</c>: MSAL's low-level builder; no PKCE, no state kept.</summary>
public sealed class BuildAuthRequestUriParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the <c>response_type</c>, e.g. <c>code</c>.</summary>
    public required string ResponseType { get; init; }

    /// <summary>Gets the redirect URI, sent exactly as given.</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the <c>state</c>.</summary>
    public string? State { get; init; }

    /// <summary>Gets extra parameters (e.g. <c>code_challenge</c> when you manage PKCE); they never replace a standard value.</summary>
    public IReadOnlyDictionary<string, string>? ExtraParams { get; init; }
}

/// <summary>Result of <c>buildAuthRequestUri</c>.</summary>
public sealed class BuildAuthRequestUriResult
{
    /// <summary>Gets the authorization request URI.</summary>
    public required string Uri { get; init; }
}

/// <summary>
/// Parameters of <c>parseAuthResponse</c>: one of <see cref="Params"/>, <see cref="Query"/> or <see cref="Url"/> —
/// the "paste the URL from your browser" fallback.
/// </summary>
public sealed class ParseAuthResponseParams
{
    /// <summary>Gets the response parameters as an object.</summary>
    public IReadOnlyDictionary<string, string>? Params { get; init; }

    /// <summary>Gets a query string (with or without <c>?</c>) or a fragment (with <c>#</c>).</summary>
    public string? Query { get; init; }

    /// <summary>Gets a whole redirect URL (its query and <c>#fragment</c> are read).</summary>
    public string? Url { get; init; }

    /// <summary>Gets the expected <c>state</c>; checked only when given (mismatch → -32002).</summary>
    public string? State { get; init; }
}

/// <summary>Result of <c>parseAuthResponse</c>: the standard fields, and every parameter in <see cref="Params"/>.</summary>
public sealed class ParseAuthResponseResult
{
    /// <summary>Gets the authorization code.</summary>
    public string? Code { get; init; }

    /// <summary>Gets the state.</summary>
    public string? State { get; init; }

    /// <summary>Gets the issuer (RFC 9207), as received.</summary>
    public string? Iss { get; init; }

    /// <summary>Gets the error code.</summary>
    public string? Error { get; init; }

    /// <summary>Gets the error description.</summary>
    public string? ErrorDescription { get; init; }

    /// <summary>Gets the error page.</summary>
    public string? ErrorUri { get; init; }

    /// <summary>Gets every parameter received.</summary>
    public required IReadOnlyDictionary<string, string> Params { get; init; }
}

/// <summary>Parameters of <c>obtainTokenByAuthorizationCode</c> (RFC 6749 §4.1.3): a code obtained elsewhere.</summary>
public sealed class ObtainTokenByAuthorizationCodeParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the authorization code.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the redirect URI of the authorization request.</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets the PKCE code verifier, when you managed PKCE.</summary>
    public string? CodeVerifier { get; init; }

    /// <summary>Gets the nonce sent in the authorization request, checked in the id_token (addition).</summary>
    public string? Nonce { get; init; }

    /// <summary>Gets the requested scopes.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

/// <summary>Parameters of <c>obtainTokenForClient</c>: the client credentials grant (RFC 6749 §4.4).</summary>
public sealed class ObtainTokenForClientParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets an RFC 8707 resource indicator (addition).</summary>
    public string? Resource { get; init; }
}

/// <summary>Parameters of <c>obtainTokenByUsernamePassword</c>: the password grant (RFC 6749 §4.3).</summary>
public sealed class ObtainTokenByUsernamePasswordParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the user name.</summary>
    public required string Username { get; init; }

    /// <summary>Gets the password (never logged).</summary>
    public required string Password { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

/// <summary>Parameters of <c>obtainTokenByAssertion</c> (RFC 7521).</summary>
public sealed class ObtainTokenByAssertionParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the assertion: a JWT, or a SAML 2.0 assertion (XML, base64url-encoded by the sidecar as MSAL does, or already encoded).</summary>
    public required string Assertion { get; init; }

    /// <summary>Gets <c>urn:ietf:params:oauth:grant-type:jwt-bearer</c> or <c>urn:ietf:params:oauth:grant-type:saml2-bearer</c>.</summary>
    /// <remarks>Nullable in C# only so that its absence is seen (RequiredMembers): on the wire it is required and never null.</remarks>
    public required AssertionGrantTypeDto? GrantType { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

/// <summary>The private key of a <c>private_key_jwt</c> client (addition to <c>createClient</c>).</summary>
public sealed class PrivateKeyDto
{
    /// <summary>Gets the path of an unencrypted PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).</summary>
    public string? PemFile { get; init; }

    /// <summary>Gets the PEM text itself (never logged).</summary>
    public string? Pem { get; init; }

    /// <summary>Gets the <c>kid</c>, as registered in the client's JWKS.</summary>
    public string? KeyId { get; init; }

    /// <summary>Gets the JWS algorithm: RS256 (default for RSA), PS256, ES256 (default for P-256), …</summary>
    public string? Algorithm { get; init; }
}
