using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>Parameters of <c>initialize</c> (LSP-compatible; optional). Unknown LSP fields are ignored.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed class InitializeParams
{
    /// <summary>Gets who is calling, for the log.</summary>
    public ClientInfo? ClientInfo { get; init; }

    /// <summary>Gets what the caller can do.</summary>
    public ClientCapabilities? Capabilities { get; init; }

    /// <summary>Gets the default credential store of the process: <c>keyring</c>, <c>file</c> or <c>memory</c>.</summary>
    public StorageBackendDto? Storage { get; init; }
}

/// <summary>The caller's name and version (LSP <c>clientInfo</c>).</summary>
public sealed class ClientInfo
{
    /// <summary>Gets the caller's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the caller's version.</summary>
    public string? Version { get; init; }
}

/// <summary>What the caller can do.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed class ClientCapabilities
{
    /// <summary>Gets a value indicating whether the caller answers <c>window/showDocument</c> (LSP 3.16) to open the browser itself.</summary>
    public bool? ShowDocument { get; init; }

    /// <summary>Gets a value indicating whether the caller answers <c>auth/promptRedirect</c>: asks the user to paste the address the browser ended on.</summary>
    public bool? PromptRedirect { get; init; }
}

/// <summary>Result of <c>initialize</c>.</summary>
public sealed class InitializeResult
{
    /// <summary>Gets the sidecar's name and version.</summary>
    public required ServerInfo ServerInfo { get; init; }

    /// <summary>Gets the protocol version: <c>"1.1"</c> (the 1.1 additions are all served; a version 1 caller keeps working).</summary>
    public required string ProtocolVersion { get; init; }

    /// <summary>Gets what the sidecar can do.</summary>
    public required ServerCapabilities Capabilities { get; init; }
}

/// <summary>The sidecar's name and version.</summary>
public sealed class ServerInfo
{
    /// <summary>Gets the name: <c>oauth-sidecar</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the version.</summary>
    public required string Version { get; init; }
}

/// <summary>What the sidecar can do.</summary>
public sealed class ServerCapabilities
{
    /// <summary>Gets the grant types supported, as RFC values.</summary>
    public required IReadOnlyList<string> GrantTypes { get; init; }

    /// <summary>Gets the callback schemes: <c>http</c> and <c>https</c>.</summary>
    public required IReadOnlyList<string> CallbackSchemes { get; init; }

    /// <summary>Gets the credential stores available on this machine.</summary>
    public required IReadOnlyList<string> Storage { get; init; }

    /// <summary>Gets where the sidecar runs: remote, WSL, container, and whether it can open a browser that reaches its loopback server.</summary>
    public required EnvironmentInfo Environment { get; init; }
}

/// <summary>Parameters of <c>window/logMessage</c> (LSP), sent by the sidecar. Secrets are redacted.</summary>
public sealed class LogMessageParams
{
    /// <summary>Gets the severity: 1 error, 2 warning, 3 info, 4 log (debug).</summary>
    public required int Type { get; init; }

    /// <summary>Gets the message.</summary>
    public required string Message { get; init; }
}

/// <summary>Parameters of <c>window/showDocument</c> (LSP 3.16), sent to a caller that declared <c>capabilities.showDocument</c>.</summary>
public sealed class ShowDocumentParams
{
    /// <summary>Gets the URI to open: the authorization request.</summary>
    public required string Uri { get; init; }

    /// <summary>Gets a value indicating whether to open it in the system browser: always <see langword="true"/>.</summary>
    public bool External { get; init; } = true;
}

/// <summary>Result of <c>window/showDocument</c>.</summary>
public sealed class ShowDocumentResult
{
    /// <summary>Gets a value indicating whether the caller opened the URI.</summary>
    public bool Success { get; init; }
}
