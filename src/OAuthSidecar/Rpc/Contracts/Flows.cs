using System.Text.Json;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Parameters of <c>initiateAuthCodeFlow</c> (RFC 6749 §4.1 with PKCE, RFC 8252 loopback redirect).</summary>
public sealed class InitiateAuthCodeFlowParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the redirect URI; default <c>http://127.0.0.1:0/callback</c> (port 0: any free port, bound directly).</summary>
    public string? RedirectUri { get; init; }

    /// <summary>Gets a caller-chosen <c>state</c>; 128 random bits by default.</summary>
    public string? State { get; init; }

    /// <summary>Gets the <c>login_hint</c>.</summary>
    public string? LoginHint { get; init; }

    /// <summary>Gets the <c>prompt</c> (<c>login</c>, <c>consent</c>, <c>select_account</c>, <c>none</c>).</summary>
    public string? Prompt { get; init; }

    /// <summary>Gets the <c>response_mode</c>: <c>query</c> or <c>form_post</c> (both are accepted by the loopback server).</summary>
    public ResponseModeDto? ResponseMode { get; init; }

    /// <summary>Gets extra authorization request parameters; they may add names but never replace a standard value.</summary>
    public IReadOnlyDictionary<string, string>? ExtraParams { get; init; }

    /// <summary>Gets the loopback callback options.</summary>
    public CallbackOptions? Callback { get; init; }

    /// <summary>Gets the resource indicators (1.1, RFC 8707): one URI or an array, sent in the authorization request and the code redemption; the client's by default.</summary>
    public ResourceIndicators? Resource { get; init; }

    /// <summary>Gets a value indicating whether to open the browser (default <see langword="true"/>): <c>window/showDocument</c> to a caller that declared it, else the system browser.</summary>
    public bool? OpenBrowser { get; init; }
}

/// <summary>Loopback callback options.</summary>
public sealed class CallbackOptions
{
    /// <summary>Gets the TLS certificate for an <c>https</c> redirect URI: a PEM pair, or ad hoc (the default).</summary>
    public CallbackTls? Tls { get; init; }

    /// <summary>Gets the flow's lifetime in seconds (default 300).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets a value indicating whether a non-loopback host may be bound (inside a container).</summary>
    public bool? AllowNonLoopback { get; init; }
}

/// <summary>The TLS certificate of an <c>https</c> loopback listener.</summary>
public sealed class CallbackTls
{
    /// <summary>Gets the PEM certificate file.</summary>
    public string? CertFile { get; init; }

    /// <summary>Gets the PEM private key file.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Gets a value indicating whether to use an in-memory self-signed ECDSA certificate.</summary>
    public bool? Adhoc { get; init; }
}

/// <summary>Result of <c>initiateAuthCodeFlow</c>.</summary>
public sealed class InitiateAuthCodeFlowResult
{
    /// <summary>Gets the flow's opaque identifier.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the authorization request URI to open in the browser.</summary>
    public required string AuthUri { get; init; }

    /// <summary>Gets the <c>state</c> sent.</summary>
    public required string State { get; init; }

    /// <summary>Gets the redirect URI sent, with the real port.</summary>
    public required string RedirectUri { get; init; }

    /// <summary>Gets when the flow ends by itself, in Unix seconds.</summary>
    public required long ExpiresAt { get; init; }

    /// <summary>Gets the SHA-256 of the listener's TLS certificate, lowercase hex, for <c>https</c>.</summary>
    public string? CertificateSha256 { get; init; }
}

/// <summary>Parameters of <c>waitForCallback</c>.</summary>
public sealed class WaitForCallbackParams
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets how long to wait in seconds (default 300); a timeout leaves the flow open.</summary>
    public double? TimeoutSeconds { get; init; }
}

/// <summary>What the loopback server received (callback.py's shape).</summary>
public sealed class CallbackResultDto
{
    /// <summary>Gets the parameters: query, form, JSON and fragment values merged.</summary>
    public required IReadOnlyDictionary<string, string> Params { get; init; }

    /// <summary>Gets <c>GET</c> or <c>POST</c>.</summary>
    public required string Method { get; init; }

    /// <summary>Gets the request path.</summary>
    public required string Path { get; init; }

    /// <summary>Gets when it arrived, in Unix seconds.</summary>
    public required long ReceivedAt { get; init; }
}

/// <summary>Parameters of <c>obtainTokenByAuthCodeFlow</c>.</summary>
public sealed class ObtainTokenByAuthCodeFlowParams
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets an explicit authorization response (pasted URL parameters, custom scheme); by default what the loopback server received, waiting for it if needed.</summary>
    public IReadOnlyDictionary<string, string>? AuthResponse { get; init; }

    /// <summary>Gets the scopes (informational; the flow's scopes were fixed when it started).</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

/// <summary>Parameters of <c>cancelFlow</c>.</summary>
public sealed class CancelFlowParams
{
    /// <summary>Gets the flow to end.</summary>
    public required string FlowId { get; init; }
}

/// <summary>Parameters of <c>initiateDeviceFlow</c> (RFC 8628 §3.1).</summary>
public sealed class InitiateDeviceFlowParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the scopes; the client's default scopes when absent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

/// <summary>Result of <c>initiateDeviceFlow</c> (RFC 8628 §3.2).</summary>
public sealed class InitiateDeviceFlowResult
{
    /// <summary>Gets the flow's opaque identifier.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the code the user types.</summary>
    public required string UserCode { get; init; }

    /// <summary>Gets where the user types it.</summary>
    public required string VerificationUri { get; init; }

    /// <summary>Gets a URI that carries the user code.</summary>
    public string? VerificationUriComplete { get; init; }

    /// <summary>Gets the device code's lifetime in seconds (1800 when the server gave none).</summary>
    public required int ExpiresIn { get; init; }

    /// <summary>Gets when the device code expires, in Unix seconds.</summary>
    public required long ExpiresAt { get; init; }

    /// <summary>Gets the polling interval in seconds (5 when the server gave none).</summary>
    public required int Interval { get; init; }

    /// <summary>Gets a sentence to show the user.</summary>
    public required string Message { get; init; }
}

/// <summary>Parameters of <c>obtainTokenByDeviceFlow</c>.</summary>
public sealed class ObtainTokenByDeviceFlowParams
{
    /// <summary>Gets the device flow.</summary>
    public required string FlowId { get; init; }
}

/// <summary>Parameters of <c>refresh</c> (RFC 6749 §6).</summary>
public sealed class RefreshParams
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the refresh token.</summary>
    public required string RefreshToken { get; init; }

    /// <summary>Gets scopes to narrow to; the grant's scopes when absent (no <c>scope</c> is sent). <c>offline_access</c> is never sent.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Gets the resource indicators (1.1, RFC 8707): one URI or an array; the client's by default.</summary>
    public ResourceIndicators? Resource { get; init; }
}

/// <summary>A token response (RFC 6749 §5.1).</summary>
public sealed class TokenResult
{
    /// <summary>Gets the access token.</summary>
    public required string AccessToken { get; init; }

    /// <summary>Gets the token type, usually <c>Bearer</c>.</summary>
    public required string TokenType { get; init; }

    /// <summary>Gets the access token's lifetime in seconds, as sent.</summary>
    public long? ExpiresIn { get; init; }

    /// <summary>Gets when the access token expires, in Unix seconds.</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>Gets the refresh token, if issued.</summary>
    public string? RefreshToken { get; init; }

    /// <summary>Gets the id_token, if issued.</summary>
    public string? IdToken { get; init; }

    /// <summary>Gets the id_token's claims.</summary>
    [JsonShape(JsonShape.AnyObject)]
    public JsonElement? IdTokenClaims { get; init; }

    /// <summary>Gets the granted scopes.</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>Gets the token response as the server sent it.</summary>
    [JsonShape(JsonShape.AnyObject)]
    public required JsonElement Raw { get; init; }

    /// <summary>Gets the account (the id_token's <c>sub</c>), when known.</summary>
    public string? Account { get; init; }

    /// <summary>Gets how the user signed in (<c>getCredentials</c> only): <c>stored</c>, <c>refresh</c>, <c>browser</c>, <c>device</c> or <c>paste</c>.</summary>
    public SignInMethodDto? Method { get; init; }

    /// <summary>
    /// Gets the thumbprint (RFC 7638) of the DPoP key the tokens are bound to, when <see cref="TokenType"/> is
    /// <c>DPoP</c> (RFC 9449 §5, addition 1.1). Ask <c>createDpopProof</c> for the proofs that go with the access token.
    /// </summary>
    public string? Jkt { get; init; }
}
