using OAuthSidecar.Rpc.Contracts;

namespace OAuthSidecar.Rpc;

/// <summary>A message the sidecar sends to the caller: a notification, or a request (<c>window/showDocument</c>).</summary>
/// <param name="Name">The JSON-RPC method name.</param>
/// <param name="ParamsType">The parameter object's contract type.</param>
/// <param name="ResultType">The result type of a request; <see langword="null"/> for a notification.</param>
/// <param name="Summary">One sentence for the schema.</param>
public sealed record ServerMessage(string Name, Type ParamsType, Type? ResultType, string Summary)
{
    /// <summary>Gets a value indicating whether it is a notification (no answer expected).</summary>
    public bool IsNotification => this.ResultType is null;
}

/// <summary>Every message the sidecar sends to the caller: the one list the notifier and the schema both use.</summary>
public static class ServerMessages
{
    /// <summary><c>callbackReceived</c>.</summary>
    public static readonly ServerMessage CallbackReceived = new("callbackReceived", typeof(CallbackReceivedNotification), null, "The loopback server received a flow's authorization response (carries the code).");

    /// <summary><c>deviceFlowPending</c>.</summary>
    public static readonly ServerMessage DeviceFlowPending = new("deviceFlowPending", typeof(DeviceFlowPendingNotification), null, "A device flow poll answered authorization_pending or slow_down (RFC 8628 §3.5).");

    /// <summary><c>deviceCode</c>.</summary>
    public static readonly ServerMessage DeviceCode = new("deviceCode", typeof(DeviceCodeNotification), null, "getCredentials chose the device flow: show the user code.");

    /// <summary><c>tokensObtained</c>.</summary>
    public static readonly ServerMessage TokensObtained = new("tokensObtained", typeof(TokensObtainedNotification), null, "Tokens were obtained (no token values).");

    /// <summary><c>refreshTokenUpdated</c>.</summary>
    public static readonly ServerMessage RefreshTokenUpdated = new("refreshTokenUpdated", typeof(RefreshTokenUpdatedNotification), null, "The server rotated the refresh token (MSAL on_updating_rt); carries the new one.");

    /// <summary><c>refreshTokenRemoved</c>.</summary>
    public static readonly ServerMessage RefreshTokenRemoved = new("refreshTokenRemoved", typeof(RefreshTokenRemovedNotification), null, "A refresh token was refused (invalid_grant) and should be forgotten (MSAL on_removing_rt).");

    /// <summary><c>window/logMessage</c> (LSP).</summary>
    public static readonly ServerMessage LogMessage = new("window/logMessage", typeof(LogMessageParams), null, "A log record (secrets redacted), as LSP's window/logMessage.");

    /// <summary><c>window/showDocument</c> (LSP 3.16), a request.</summary>
    public static readonly ServerMessage ShowDocument = new("window/showDocument", typeof(ShowDocumentParams), typeof(ShowDocumentResult), "Asks a caller that declared capabilities.showDocument to open the authorization URI in the system browser.");

    /// <summary><c>authorizationUrl</c>.</summary>
    public static readonly ServerMessage AuthorizationUrl = new("authorizationUrl", typeof(AuthorizationUrlNotification), null, "A sign-in waits on the user: the address to open and a sentence to show (every interactive flow).");

    /// <summary><c>auth/promptRedirect</c>, a request.</summary>
    public static readonly ServerMessage PromptRedirect = new("auth/promptRedirect", typeof(PromptRedirectParams), typeof(PromptRedirectResult), "Asks a caller that declared capabilities.promptRedirect for the address the browser ended on after the user signed in on any machine; answer an error to decline.");

    /// <summary>Gets every message, in the schema's order.</summary>
    public static IReadOnlyList<ServerMessage> All { get; } =
        [CallbackReceived, DeviceFlowPending, DeviceCode, AuthorizationUrl, TokensObtained, RefreshTokenUpdated, RefreshTokenRemoved, LogMessage, ShowDocument, PromptRedirect];
}

/// <summary>What the schema says of a method: a summary and the protocol errors it can answer besides the JSON-RPC standard ones.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProtocolMethodAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="ProtocolMethodAttribute"/> class.</summary>
    /// <param name="summary">One sentence.</param>
    /// <param name="codes">The error codes (see <see cref="ErrorCodes"/>).</param>
    public ProtocolMethodAttribute(string summary, params int[] codes)
    {
        this.Summary = summary;
        this.Codes = codes;
    }

    /// <summary>Gets the summary.</summary>
    public string Summary { get; }

    /// <summary>Gets the error codes.</summary>
    public IReadOnlyList<int> Codes { get; }
}
