namespace OAuthSidecar.Core;

/// <summary>
/// Base class of the failures that the sidecar reports to its caller with a specific error code.
/// Expected OAuth outcomes (an <c>error</c> answered by the authorization server) are not exceptions:
/// they are <see cref="OAuth.OAuthError"/> results. These exceptions cover what is not an OAuth answer:
/// timeouts, attacks (state mismatch), unknown handles, network failures, invalid tokens.
/// </summary>
public abstract class SidecarException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="SidecarException"/> class.</summary>
    /// <param name="message">A sentence a person can act on.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    protected SidecarException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>An interactive wait (a callback, device polling) did not finish in time. Protocol code -32001.</summary>
public sealed class FlowTimeoutException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="FlowTimeoutException"/> class.</summary>
    /// <param name="flowId">The flow that timed out.</param>
    /// <param name="timeoutSeconds">The wait that ran out, in seconds.</param>
    /// <param name="message">A sentence a person can act on.</param>
    public FlowTimeoutException(string flowId, double timeoutSeconds, string message)
        : base(message)
    {
        this.FlowId = flowId;
        this.TimeoutSeconds = timeoutSeconds;
    }

    /// <summary>Gets the flow that timed out.</summary>
    public string FlowId { get; }

    /// <summary>Gets the wait that ran out, in seconds.</summary>
    public double TimeoutSeconds { get; }
}

/// <summary>
/// An authorization response whose <c>state</c> (RFC 6749 §10.12) or <c>iss</c> (RFC 9207) does not match the
/// request: a possible CSRF or mix-up attack. Protocol code -32002.
/// </summary>
public sealed class StateMismatchException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="StateMismatchException"/> class.</summary>
    /// <param name="flowId">The flow concerned, if known.</param>
    /// <param name="reason">What did not match, e.g. <c>state</c> or <c>iss</c>, in a sentence.</param>
    public StateMismatchException(string? flowId, string reason)
        : base(reason)
    {
        this.FlowId = flowId;
        this.Reason = reason;
    }

    /// <summary>Gets the flow concerned, if known.</summary>
    public string? FlowId { get; }

    /// <summary>Gets what did not match.</summary>
    public string Reason { get; }
}

/// <summary>What kind of handle an <see cref="UnknownHandleException"/> is about.</summary>
public enum HandleKind
{
    /// <summary>A flow (authorization code flow, device flow or standalone callback server).</summary>
    Flow,

    /// <summary>A client registration.</summary>
    Client,
}

/// <summary>A flow id or client handle that names nothing (never issued, expired, redeemed or disposed). Protocol code -32004.</summary>
public sealed class UnknownHandleException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="UnknownHandleException"/> class.</summary>
    /// <param name="kind">Whether a flow or a client was named.</param>
    /// <param name="value">The value the caller sent.</param>
    /// <param name="message">A sentence a person can act on.</param>
    public UnknownHandleException(HandleKind kind, string value, string message)
        : base(message)
    {
        this.Kind = kind;
        this.Value = value;
    }

    /// <summary>Gets whether a flow or a client was named.</summary>
    public HandleKind Kind { get; }

    /// <summary>Gets the value the caller sent.</summary>
    public string Value { get; }
}

/// <summary>The loopback callback server could not listen (port in use, bad certificate). Protocol code -32005.</summary>
public sealed class ListenFailedException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="ListenFailedException"/> class.</summary>
    /// <param name="host">The host the listener was to bind.</param>
    /// <param name="port">The port asked for (0 = any).</param>
    /// <param name="reason">Why it failed, in a sentence.</param>
    /// <param name="innerException">The underlying failure.</param>
    public ListenFailedException(string host, int port, string reason, Exception? innerException = null)
        : base(reason, innerException)
    {
        this.Host = host;
        this.Port = port;
        this.Reason = reason;
    }

    /// <summary>Gets the host the listener was to bind.</summary>
    public string Host { get; }

    /// <summary>Gets the port asked for.</summary>
    public int Port { get; }

    /// <summary>Gets why it failed.</summary>
    public string Reason { get; }
}

/// <summary>
/// The authorization server could not be used: connection refused or reset, TLS failure, no answer in time,
/// an HTTP error without an OAuth error body, or a body that is not the JSON expected. Protocol code -32006.
/// </summary>
public sealed class ServerUnreachableException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="ServerUnreachableException"/> class.</summary>
    /// <param name="url">The URL that was requested.</param>
    /// <param name="status">The HTTP status, when an answer came.</param>
    /// <param name="reason">What went wrong, in a sentence.</param>
    /// <param name="innerException">The underlying failure.</param>
    public ServerUnreachableException(string url, int? status, string reason, Exception? innerException = null)
        : base(reason, innerException)
    {
        this.Url = url;
        this.Status = status;
        this.Reason = reason;
    }

    /// <summary>Gets the URL that was requested.</summary>
    public string Url { get; }

    /// <summary>Gets the HTTP status, when an answer came.</summary>
    public int? Status { get; }

    /// <summary>Gets what went wrong.</summary>
    public string Reason { get; }

    /// <summary>Gets what kind of failure it was, which decides whether a retry is safe.</summary>
    public UnreachableKind Kind { get; init; } = UnreachableKind.Other;

    /// <summary>Gets the server's <c>Retry-After</c>, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>How a request to the authorization server failed.</summary>
public enum UnreachableKind
{
    /// <summary>Anything else (a bad certificate, a redirect, a policy violation): not transient.</summary>
    Other,

    /// <summary>No connection (refused, reset before the request was answered, DNS): the server did not process the request.</summary>
    Network,

    /// <summary>HTTP 5xx or 429: the server declined for now.</summary>
    ServerBusy,

    /// <summary>The answer broke off or was not the JSON expected: the server may have processed the request.</summary>
    BrokenResponse,

    /// <summary>No answer within <c>timeoutSeconds</c>: the server may have processed the request.</summary>
    Timeout,
}

/// <summary>An id_token that fails OpenID Connect Core §3.1.3.7 validation. Protocol code -32007.</summary>
public sealed class InvalidIdTokenException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="InvalidIdTokenException"/> class.</summary>
    /// <param name="reason">Which check failed, in a sentence.</param>
    /// <param name="innerException">The underlying failure.</param>
    public InvalidIdTokenException(string reason, Exception? innerException = null)
        : base(reason, innerException)
    {
        this.Reason = reason;
    }

    /// <summary>Gets which check failed.</summary>
    public string Reason { get; }
}

/// <summary>
/// A parameter or option that cannot be used as given. Protocol code -32602, with the field named.
/// </summary>
/// <remarks>
/// Core does not know the protocol's field names: <see cref="Option"/> is one of the <see cref="CoreOption"/> names
/// (optionally followed by <c>[key]</c> for a member of a dictionary option), and <see cref="Problem"/> refers to
/// options as <c>{Name}</c> placeholders. The host renders both with its own names (<see cref="Render"/>);
/// <see cref="Exception.Message"/> renders them with the Core names.
/// </remarks>
public sealed class InvalidOptionException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="InvalidOptionException"/> class.</summary>
    /// <param name="option">The option at fault: a <see cref="CoreOption"/> name, optionally with <c>[key]</c>.</param>
    /// <param name="problem">A sentence that names the option (as <c>{Option}</c> placeholders) and says what is expected.</param>
    public InvalidOptionException(string option, string problem)
        : base(Render(problem, static name => name))
    {
        this.Option = option;
        this.Problem = problem;
    }

    /// <summary>Gets the option at fault: a <see cref="CoreOption"/> name, optionally followed by <c>[key]</c>.</summary>
    public string Option { get; }

    /// <summary>Gets the sentence with <c>{Option}</c> placeholders.</summary>
    public string Problem { get; }

    /// <summary>Replaces every <c>{Option}</c> placeholder of <paramref name="problem"/> with <paramref name="name"/>'s answer.</summary>
    /// <param name="problem">A sentence with placeholders.</param>
    /// <param name="name">Maps a Core option name to the name to show.</param>
    /// <returns>The sentence.</returns>
    public static string Render(string problem, Func<string, string> name)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(name);
        var text = new System.Text.StringBuilder(problem.Length);
        int at = 0;
        while (at < problem.Length)
        {
            int open = problem.IndexOf('{', at);
            int close = open < 0 ? -1 : problem.IndexOf('}', open);
            if (open < 0 || close < 0)
            {
                text.Append(problem, at, problem.Length - at);
                break;
            }

            text.Append(problem, at, open - at);
            string candidate = problem[(open + 1)..close];
            text.Append(CoreOption.IsKnown(candidate) ? name(candidate) : problem[open..(close + 1)]);
            at = close + 1;
        }

        return text.ToString();
    }
}

/// <summary>A flow ended by <c>cancelFlow</c> (or by its client being disposed) while a call was waiting on it. Protocol code -32800.</summary>
public sealed class FlowCancelledException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="FlowCancelledException"/> class.</summary>
    /// <param name="flowId">The flow that was cancelled.</param>
    public FlowCancelledException(string flowId)
        : base($"Flow {flowId} was cancelled before it completed.")
    {
        this.FlowId = flowId;
    }

    /// <summary>Gets the flow that was cancelled.</summary>
    public string FlowId { get; }
}

/// <summary>Why a credential request needs an interaction it could not have.</summary>
public enum InteractionRequiredKind
{
    /// <summary>Nothing usable is stored and no interaction was allowed (<c>interactive: "none"</c>).</summary>
    NotAllowed,

    /// <summary>The automatic chain found no way to reach the user (no browser, no device flow, no way to paste).</summary>
    NoWayLeft,

    /// <summary>Pasting the redirect address was asked for, but the user cannot be asked.</summary>
    PasteUnavailable,

    /// <summary>The user (or the caller) declined to paste the redirect address.</summary>
    Declined,
}

/// <summary>
/// A credential request needs an interaction with the user that it could not have: <c>interactive: "none"</c> with
/// nothing usable stored, or no way left to reach the user. Protocol code -32008; the host adds what its user can do
/// (<see cref="Kind"/>).
/// </summary>
public sealed class InteractionRequiredException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="InteractionRequiredException"/> class.</summary>
    /// <param name="message">A sentence a person can act on.</param>
    /// <param name="kind">Why.</param>
    public InteractionRequiredException(string message, InteractionRequiredKind kind = InteractionRequiredKind.NotAllowed)
        : base(message)
    {
        this.Kind = kind;
    }

    /// <summary>Gets why the interaction was not possible.</summary>
    public InteractionRequiredKind Kind { get; }
}

/// <summary>The credential store cannot be used: no keyring, a locked one, an unwritable file. Protocol code -32009.</summary>
public sealed class StorageUnavailableException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="StorageUnavailableException"/> class.</summary>
    /// <param name="backend">The backend that failed.</param>
    /// <param name="reason">What is wrong and what to install or unlock, in a sentence.</param>
    /// <param name="innerException">The underlying failure.</param>
    public StorageUnavailableException(Credentials.StorageBackend backend, string reason, Exception? innerException = null)
        : base(reason, innerException)
    {
        this.Backend = backend;
        this.Reason = reason;
    }

    /// <summary>Gets the backend.</summary>
    public Credentials.StorageBackend Backend { get; }

    /// <summary>Gets what is wrong.</summary>
    public string Reason { get; }
}

/// <summary>
/// The authorization server refused a request that is not a token request and whose method returns no outcome (a
/// pushed authorization request, RFC 9126 §2.3). Protocol code -32003, as a refused token request.
/// </summary>
public sealed class OAuthErrorException : SidecarException
{
    /// <summary>Initializes a new instance of the <see cref="OAuthErrorException"/> class.</summary>
    /// <param name="error">The server's error.</param>
    public OAuthErrorException(OAuth.OAuthError error)
        : base((error ?? throw new ArgumentNullException(nameof(error))).Describe())
    {
        this.Error = error;
    }

    /// <summary>Gets the server's error.</summary>
    public OAuth.OAuthError Error { get; }
}
