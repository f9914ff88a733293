using System.Text.Json;
using System.Text.RegularExpressions;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace OAuthSidecar.Rpc;

/// <summary>
/// The one place where outcomes and exceptions become protocol errors (codes from <c>PROTOCOL.md</c>).
/// Messages are sentences a person can act on, with secrets redacted; stack traces never leave the process.
/// </summary>
internal static partial class ErrorMapping
{
    /// <summary>Turns a refused token request into -32003 with the server's error; returns the tokens otherwise.</summary>
    /// <param name="outcome">The token request's outcome.</param>
    /// <returns>The wire result.</returns>
    /// <exception cref="LocalRpcException">-32003 with <see cref="OAuthErrorData"/>.</exception>
    public static TokenResult Unwrap(TokenOutcome outcome)
    {
        if (outcome.Error is { } error)
        {
            throw OAuthFailure(error);
        }

        TokenSet t = outcome.Tokens!;
        return new TokenResult
        {
            AccessToken = t.AccessToken,
            TokenType = t.TokenType,
            ExpiresIn = t.ExpiresIn,
            ExpiresAt = t.ExpiresAt,
            RefreshToken = t.RefreshToken,
            IdToken = t.IdToken,
            IdTokenClaims = t.IdTokenClaims,
            Scopes = t.Scopes,
            Raw = t.Raw,
            Account = t.Account,
            Jkt = t.Jkt,
        };
    }

    /// <summary>Creates the -32003 error for an OAuth error.</summary>
    /// <param name="error">The server's error.</param>
    /// <returns>The exception to throw.</returns>
    public static LocalRpcException OAuthFailure(OAuthError error) =>
        new(error.Describe() + DpopAdvice(error.Dpop))
        {
            ErrorCode = ErrorCodes.OAuthError,
            ErrorData = new OAuthErrorData { Error = error.Error, ErrorDescription = error.ErrorDescription, ErrorUri = error.ErrorUri, Status = error.Status },
        };

    // RFC 9449: what to do about a refusal that concerns DPoP, in the protocol's words.
    private static string DpopAdvice(DpopRefusal refusal) => refusal switch
    {
        DpopRefusal.Required => " This authorization server requires DPoP-bound tokens (RFC 9449): create the client with dpop: true.",
        DpopRefusal.ProofRefused => " The server refused the sidecar's DPoP proof (RFC 9449 §4.3): check that the clock is right and that dpop.alg is one of the server's dpop_signing_alg_values_supported.",
        _ => string.Empty,
    };

    /// <summary>Maps an exception thrown while serving a request to the error sent back.</summary>
    /// <param name="exception">What was thrown.</param>
    /// <param name="redactor">Masks secrets in the message.</param>
    /// <returns>The error detail.</returns>
    public static JsonRpcError.ErrorDetail ToErrorDetail(Exception exception, SecretRedactor redactor)
    {
        (int code, string message, object? data) = Map(exception);
        return new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)code, Message = redactor.Redact(message), Data = data };
    }

    /// <summary>Gets a value indicating whether the exception is a bug (logged with its stack) rather than an expected failure.</summary>
    /// <param name="exception">What was thrown.</param>
    /// <returns><see langword="true"/> for bugs.</returns>
    public static bool IsUnexpected(Exception exception) => Map(exception).Code == ErrorCodes.InternalError;

    /// <summary>Extracts the field path from a System.Text.Json failure, e.g. <c>callback.timeoutSeconds</c>.</summary>
    /// <param name="exception">The JSON failure.</param>
    /// <returns>The field, or an empty string for the whole parameter object.</returns>
    internal static string FieldOf(JsonException exception)
    {
        string path = exception.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : string.Empty;
        Match missing = MissingRequired().Match(exception.Message);
        if (missing.Success)
        {
            string name = missing.Groups[1].Value;
            return path.Length == 0 ? name : path + "." + name;
        }

        Match unknown = UnknownMember().Match(exception.Message);
        if (unknown.Success && path.Length == 0)
        {
            return unknown.Groups[1].Value;
        }

        return path;
    }

    /// <summary>
    /// Rewrites the errors StreamJsonRpc writes by itself (an unknown method, parameters it cannot bind) into the
    /// protocol's sentences. Called on every outgoing error.
    /// </summary>
    /// <param name="error">The error about to be written; changed in place.</param>
    public static void RewriteTransportError(JsonRpcError error)
    {
        if (error.Error is not { } detail)
        {
            return;
        }

        if (detail.Code == JsonRpcErrorCode.MethodNotFound)
        {
            Match name = QuotedName().Match(detail.Message ?? string.Empty);
            string method = name.Success ? name.Groups[1].Value : "?";
            detail.Message = $"The method '{method}' does not exist. The methods are listed in PROTOCOL.md and in schema/oauth-sidecar.openrpc.json (oauth-sidecar schema).";
            detail.Data = null;
        }
        else if (detail.Code == JsonRpcErrorCode.RequestCanceled && detail.Data is null && detail.Message is "The task was cancelled." or "A task was canceled." or "The operation was canceled.")
        {
            detail.Message = "The request was cancelled ($/cancelRequest) before it completed; nothing else changed (a flow it was waiting on stays open).";
        }
        else if (detail.Code == JsonRpcErrorCode.InvalidParams && detail.Data is not InvalidParamsData)
        {
            detail.Message = "The parameters do not fit this method: send one JSON object with the method's named parameters (see the schema).";
            detail.Data = new InvalidParamsData { Field = string.Empty };
        }
    }

    private static (int Code, string Message, object? Data) Map(Exception exception)
    {
        switch (exception)
        {
            case LocalRpcException rpc:
                return (rpc.ErrorCode, rpc.Message, rpc.ErrorData);
            case OAuthErrorException oauth:
                LocalRpcException failure = OAuthFailure(oauth.Error);
                return (failure.ErrorCode, failure.Message, failure.ErrorData);
            case InvalidOptionException invalid:
                return (ErrorCodes.InvalidParams, WireNames.Message(invalid), new InvalidParamsData { Field = WireNames.Field(invalid.Option) });
            case JsonException json:
                string field = FieldOf(json);
                return (ErrorCodes.InvalidParams, DescribeJsonFailure(json, field), new InvalidParamsData { Field = field });
            case FlowTimeoutException timeout:
                return (ErrorCodes.Timeout, timeout.Message, new TimeoutData { FlowId = timeout.FlowId, TimeoutSeconds = timeout.TimeoutSeconds });
            case StateMismatchException state:
                return (ErrorCodes.StateMismatch, state.Message, new StateMismatchData { FlowId = state.FlowId, Reason = state.Reason });
            case UnknownHandleException unknown:
                return (ErrorCodes.UnknownHandle, unknown.Kind == HandleKind.Client ? $"{unknown.Message} Call createClient first." : unknown.Message, unknown.Kind == HandleKind.Flow ? new UnknownHandleData { FlowId = unknown.Value } : new UnknownHandleData { ClientHandle = unknown.Value });
            case ListenFailedException listen:
                return (ErrorCodes.ListenFailed, listen.Message, new ListenFailedData { Host = listen.Host, Port = listen.Port, Reason = listen.Reason });
            case ServerUnreachableException unreachable:
                return (ErrorCodes.ServerUnreachable, unreachable.Message, new ServerUnreachableData { Url = unreachable.Url, Status = unreachable.Status, Reason = unreachable.Reason });
            case InvalidIdTokenException idToken:
                return (ErrorCodes.InvalidIdToken, idToken.Message, new InvalidIdTokenData { Reason = idToken.Reason });
            case InteractionRequiredException interaction:
                return (ErrorCodes.InteractionRequired, $"{interaction.Message} Call getCredentials with interactive 'browser' or 'device' to sign in.", null);
            case StorageUnavailableException storage:
                return (ErrorCodes.StorageUnavailable, storage.Message, new StorageUnavailableData { Backend = Core.Credentials.StorageFactory.NameOf(storage.Backend), Reason = storage.Reason });
            case FlowCancelledException cancelled:
                return (ErrorCodes.RequestCancelled, cancelled.Message, null);
            case OperationCanceledException:
                return (ErrorCodes.RequestCancelled, "The request was cancelled.", null);
            case ArgumentNullException { ParamName: "parameters" }:
                return (ErrorCodes.InvalidParams, "This method takes a parameter object; none was given.", new InvalidParamsData { Field = string.Empty });
            default:
                return (ErrorCodes.InternalError, $"Internal error ({exception.GetType().Name}): {exception.Message}. This is a bug in the sidecar; the process keeps serving.", null);
        }
    }

    private static string DescribeJsonFailure(JsonException json, string field)
    {
        if (MissingRequired().IsMatch(json.Message))
        {
            return $"The parameter '{field}' is required.";
        }

        if (UnknownMember().IsMatch(json.Message))
        {
            return $"The parameter '{field}' is not known for this method (check its spelling against the schema).";
        }

        return field.Length == 0
            ? "The parameters could not be read: send one JSON object with the method's named parameters."
            : $"The parameter '{field}' has the wrong type or value (see the schema for this method).";
    }

    [GeneratedRegex(@"'([^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedName();

    [GeneratedRegex(@"missing required properties[^']*'([^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"property '([^']+)' could not be mapped", RegexOptions.CultureInvariant)]
    private static partial Regex UnknownMember();
}
