using System.Text.Json;
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
/// Everything here works from types and structured values (exception types, <see cref="JsonException.Path"/>,
/// error codes), never by reading the text of another library's message.
/// </summary>
internal static class ErrorMapping
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
            Method = ProtocolMapping.ToDto(outcome.Method),
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
    /// <param name="method">The request's method, which says what type its parameters have (for -32602).</param>
    /// <returns>The error detail (a <see cref="MappedErrorDetail"/>, which <see cref="RewriteTransportError"/> leaves alone).</returns>
    public static JsonRpcError.ErrorDetail ToErrorDetail(Exception exception, SecretRedactor redactor, string? method = null)
    {
        (int code, string message, object? data) = Map(exception, method);
        return new MappedErrorDetail { Code = (JsonRpcErrorCode)code, Message = redactor.Redact(message), Data = RedactData(data, redactor) };
    }

    /// <summary>
    /// Masks secrets in every string member of an error's <c>data</c> (a server may echo a secret in its
    /// <c>error_description</c>; a URL may carry a password in its user information).
    /// </summary>
    /// <param name="data">The data object, or <see langword="null"/>.</param>
    /// <param name="redactor">The redactor.</param>
    /// <returns>A redacted copy (or the same object when it holds no free text).</returns>
    internal static object? RedactData(object? data, SecretRedactor redactor) => data switch
    {
        OAuthErrorData d => new OAuthErrorData { Error = redactor.Redact(d.Error), ErrorDescription = redactor.RedactOrNull(d.ErrorDescription), ErrorUri = redactor.RedactOrNull(d.ErrorUri), Status = d.Status },
        ServerUnreachableData d => new ServerUnreachableData { Url = redactor.Redact(d.Url), Status = d.Status, Reason = redactor.Redact(d.Reason) },
        StateMismatchData d => new StateMismatchData { FlowId = d.FlowId, Reason = redactor.Redact(d.Reason) },
        ListenFailedData d => new ListenFailedData { Host = d.Host, Port = d.Port, Reason = redactor.Redact(d.Reason) },
        InvalidIdTokenData d => new InvalidIdTokenData { Reason = redactor.Redact(d.Reason) },
        StorageUnavailableData d => new StorageUnavailableData { Backend = d.Backend, Reason = redactor.Redact(d.Reason) },
        _ => data, // ids, field names, numbers: nothing a server or a caller wrote freely
    };

    /// <summary>Gets a value indicating whether the exception is a bug (logged with its stack) rather than an expected failure.</summary>
    /// <param name="exception">What was thrown.</param>
    /// <returns><see langword="true"/> for bugs.</returns>
    public static bool IsUnexpected(Exception exception) => Map(exception, null).Code == ErrorCodes.InternalError;

    /// <summary>
    /// Rewrites the errors StreamJsonRpc writes by itself — an unknown method, parameters it cannot bind, a request
    /// cancelled before its method answered — into the protocol's sentences. Errors made by
    /// <see cref="ToErrorDetail"/> are left as they are. Called on every outgoing error.
    /// </summary>
    /// <param name="error">The error about to be written; changed in place.</param>
    /// <param name="method">The method of the request it answers, when known (the transport remembers it by id).</param>
    public static void RewriteTransportError(JsonRpcError error, string? method)
    {
        if (error.Error is not { } detail || detail is MappedErrorDetail)
        {
            return;
        }

        if (detail.Code == JsonRpcErrorCode.MethodNotFound)
        {
            detail.Message = $"The method '{method ?? "?"}' does not exist. The methods are listed in PROTOCOL.md and in schema/oauth-sidecar.openrpc.json (oauth-sidecar schema).";
            detail.Data = null;
        }
        else if (detail.Code == JsonRpcErrorCode.RequestCanceled)
        {
            detail.Message = "The request was cancelled ($/cancelRequest) before it completed; nothing else changed (a flow it was waiting on stays open).";
            detail.Data = null;
        }
        else if (detail.Code == JsonRpcErrorCode.InvalidParams)
        {
            detail.Message = "The parameters do not fit this method: send one JSON object with the method's named parameters (see the schema).";
            detail.Data = new InvalidParamsData { Field = string.Empty };
        }
    }

    private static (int Code, string Message, object? Data) Map(Exception exception, string? method)
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
            case WireValueException value: // a value outside a contract enum: name the field and the allowed values
                return (ErrorCodes.InvalidParams, value.Sentence, new InvalidParamsData { Field = value.Field });
            case JsonException json:
                (string field, _, string message) = ParameterErrors.Describe(json, ParameterErrors.ParametersOf(method));
                return (ErrorCodes.InvalidParams, message, new InvalidParamsData { Field = field });
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
                return (ErrorCodes.InteractionRequired, $"{interaction.Message}{InteractionAdvice(interaction.Kind)}", null);
            case StorageUnavailableException storage:
                return (ErrorCodes.StorageUnavailable, storage.Message, new StorageUnavailableData { Backend = Core.Credentials.StorageFactory.NameOf(storage.Backend), Reason = storage.Reason });
            case FlowCancelledException cancelled:
                return (ErrorCodes.RequestCancelled, cancelled.Message, null);
            case OperationCanceledException:
                return (ErrorCodes.RequestCancelled, "The request was cancelled.", null);
            case RpcArgumentDeserializationException { InnerException: JsonException inner }:
                return Map(inner, method);
            case ArgumentNullException { ParamName: "parameters" }:
                return (ErrorCodes.InvalidParams, "This method takes a parameter object; none was given.", new InvalidParamsData { Field = string.Empty });
            default:
                return (ErrorCodes.InternalError, $"Internal error ({exception.GetType().Name}): {exception.Message}. This is a bug in the sidecar; the process keeps serving.", null);
        }
    }

    // What a JSON-RPC caller can do about -32008.
    private static string InteractionAdvice(InteractionRequiredKind kind) => kind switch
    {
        InteractionRequiredKind.NotAllowed => " Call getCredentials with interactive 'auto', 'browser', 'device' or 'paste' to sign in.",
        InteractionRequiredKind.NoWayLeft => " Declare capabilities.promptRedirect (initialize) and answer auth/promptRedirect so that the user can paste the address the browser ends on, or declare capabilities.showDocument and open the browser yourself.",
        InteractionRequiredKind.PasteUnavailable => " Declare capabilities.promptRedirect (initialize) and answer auth/promptRedirect, or use interactive 'auto', 'browser' or 'device'.",
        _ => string.Empty,
    };

    /// <summary>An error made by <see cref="ToErrorDetail"/>: already in the protocol's words.</summary>
    internal sealed class MappedErrorDetail : JsonRpcError.ErrorDetail
    {
    }
}
