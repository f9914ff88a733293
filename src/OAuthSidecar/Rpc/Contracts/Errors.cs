namespace OAuthSidecar.Rpc.Contracts;

/// <summary>
/// The protocol's error codes (JSON-RPC 2.0, LSP, and the sidecar's own): the one table of them. The schema's
/// <c>components.errors</c> is generated from it (name, code, <see cref="ProtocolErrorAttribute"/>), and the clients'
/// error tables from the schema.
/// </summary>
public static class ErrorCodes
{
    /// <summary>Invalid JSON was received.</summary>
    [ProtocolError("The message is not valid JSON; it was skipped and the sidecar keeps serving.")]
    public const int ParseError = -32700;

    /// <summary>The JSON is not a valid request object.</summary>
    [ProtocolError("The JSON is not a valid JSON-RPC request, or is larger than the limit.")]
    public const int InvalidRequest = -32600;

    /// <summary>The method does not exist.</summary>
    [ProtocolError("The method does not exist.")]
    public const int MethodNotFound = -32601;

    /// <summary>Invalid method parameters; <c>data.field</c> names the one at fault.</summary>
    [ProtocolError("A parameter is missing, unknown or of the wrong type or value; data.field names it.", typeof(InvalidParamsData))]
    public const int InvalidParams = -32602;

    /// <summary>An internal error (a bug).</summary>
    [ProtocolError("A bug in the sidecar; it keeps serving.")]
    public const int InternalError = -32603;

    /// <summary>The request was cancelled (<c>$/cancelRequest</c> or <c>cancelFlow</c>), LSP's RequestCancelled.</summary>
    [ProtocolError("Cancelled by $/cancelRequest or cancelFlow (LSP's RequestCancelled).")]
    public const int RequestCancelled = -32800;

    /// <summary>An interactive wait ran out.</summary>
    [ProtocolError("An interactive wait ran out.", typeof(TimeoutData))]
    public const int Timeout = -32001;

    /// <summary>An authorization response's <c>state</c> or <c>iss</c> does not match.</summary>
    [ProtocolError("An authorization response's state or iss (RFC 9207) does not match.", typeof(StateMismatchData))]
    public const int StateMismatch = -32002;

    /// <summary>The authorization server answered an OAuth error.</summary>
    [ProtocolError("The authorization server answered an OAuth error.", typeof(OAuthErrorData))]
    public const int OAuthError = -32003;

    /// <summary>No flow or client has that handle.</summary>
    [ProtocolError("No flow or client has that handle.", typeof(UnknownHandleData))]
    public const int UnknownHandle = -32004;

    /// <summary>The loopback listener could not start.</summary>
    [ProtocolError("The loopback listener could not start.", typeof(ListenFailedData))]
    public const int ListenFailed = -32005;

    /// <summary>The authorization server could not be used.</summary>
    [ProtocolError("The authorization server could not be used (network, TLS, HTTP error, not JSON).", typeof(ServerUnreachableData))]
    public const int ServerUnreachable = -32006;

    /// <summary>An id_token failed validation.</summary>
    [ProtocolError("The id_token failed OpenID Connect Core §3.1.3.7 validation.", typeof(InvalidIdTokenData))]
    public const int InvalidIdToken = -32007;

    /// <summary><c>getCredentials</c> with <c>interactive: "none"</c> and nothing usable.</summary>
    [ProtocolError("getCredentials with interactive 'none' and nothing usable stored.")]
    public const int InteractionRequired = -32008;

    /// <summary>The credential store cannot be used.</summary>
    [ProtocolError("The credential store cannot be used.", typeof(StorageUnavailableData))]
    public const int StorageUnavailable = -32009;
}

/// <summary><c>data</c> of -32602: the parameter at fault.</summary>
public sealed class InvalidParamsData
{
    /// <summary>Gets the parameter's path, e.g. <c>clientId</c> or <c>callback.timeoutSeconds</c>.</summary>
    public required string Field { get; init; }
}

/// <summary><c>data</c> of -32001.</summary>
public sealed class TimeoutData
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the wait that ran out, in seconds.</summary>
    public required double TimeoutSeconds { get; init; }
}

/// <summary><c>data</c> of -32002.</summary>
public sealed class StateMismatchData
{
    /// <summary>Gets the flow, if known.</summary>
    public string? FlowId { get; init; }

    /// <summary>Gets what did not match.</summary>
    public required string Reason { get; init; }
}

/// <summary><c>data</c> of -32003: the OAuth error as the server sent it.</summary>
public sealed class OAuthErrorData
{
    /// <summary>Gets the error code, e.g. <c>invalid_grant</c>.</summary>
    public required string Error { get; init; }

    /// <summary>Gets the server's description.</summary>
    public string? ErrorDescription { get; init; }

    /// <summary>Gets the server's error page.</summary>
    public string? ErrorUri { get; init; }

    /// <summary>Gets the HTTP status, when the error came from an endpoint.</summary>
    public int? Status { get; init; }
}

/// <summary><c>data</c> of -32004: the handle that names nothing.</summary>
public sealed class UnknownHandleData
{
    /// <summary>Gets the flow id, when a flow was named.</summary>
    public string? FlowId { get; init; }

    /// <summary>Gets the client handle, when a client was named.</summary>
    public string? ClientHandle { get; init; }
}

/// <summary><c>data</c> of -32005.</summary>
public sealed class ListenFailedData
{
    /// <summary>Gets the host.</summary>
    public required string Host { get; init; }

    /// <summary>Gets the port.</summary>
    public required int Port { get; init; }

    /// <summary>Gets why.</summary>
    public required string Reason { get; init; }
}

/// <summary><c>data</c> of -32006.</summary>
public sealed class ServerUnreachableData
{
    /// <summary>Gets the URL requested.</summary>
    public required string Url { get; init; }

    /// <summary>Gets the HTTP status, when an answer came.</summary>
    public int? Status { get; init; }

    /// <summary>Gets what went wrong.</summary>
    public required string Reason { get; init; }
}

/// <summary><c>data</c> of -32007.</summary>
public sealed class InvalidIdTokenData
{
    /// <summary>Gets which check failed.</summary>
    public required string Reason { get; init; }
}
