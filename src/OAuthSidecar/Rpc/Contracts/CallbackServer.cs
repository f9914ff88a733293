namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Parameters of <c>startCallbackServer</c>: a standalone callback server with callback.py's defaults.</summary>
public sealed class StartCallbackServerParams
{
    /// <summary>Gets the host: <c>127.0.0.1</c> (default), <c>::1</c>, <c>localhost</c> (both), or another address with <see cref="AllowNonLoopback"/>.</summary>
    public string? Host { get; init; }

    /// <summary>Gets the port: 8080 by default, 0 for any free port.</summary>
    public int? Port { get; init; }

    /// <summary>Gets the path: <c>/callback</c> by default; <c>callback</c> is normalised to <c>/callback</c>.</summary>
    public string? Path { get; init; }

    /// <summary>Gets <c>https</c> (default; an ad-hoc certificate unless <see cref="Tls"/> gives a PEM pair) or <c>http</c>.</summary>
    public CallbackSchemeDto? Scheme { get; init; }

    /// <summary>Gets the PEM certificate and key.</summary>
    public CallbackTls? Tls { get; init; }

    /// <summary>Gets the success and error pages.</summary>
    public PagesDto? Pages { get; init; }

    /// <summary>Gets how long the server waits, in seconds (default 300).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets a value indicating whether a non-loopback host may be bound (inside a container).</summary>
    public bool? AllowNonLoopback { get; init; }
}

/// <summary>Result of <c>startCallbackServer</c>.</summary>
public sealed class StartCallbackServerResult
{
    /// <summary>Gets the id that names the server in <c>waitForCallback</c> and <c>stopCallbackServer</c>.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the callback URL, with the real port.</summary>
    public required string Url { get; init; }

    /// <summary>Gets the SHA-256 of the TLS certificate, lowercase hex, for <c>https</c>.</summary>
    public string? CertificateSha256 { get; init; }
}

/// <summary>Parameters of <c>stopCallbackServer</c>.</summary>
public sealed class StopCallbackServerParams
{
    /// <summary>Gets the server.</summary>
    public required string FlowId { get; init; }
}
