using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Sends the engine's events to the caller as JSON-RPC notifications (PROTOCOL.md "Notifications"). Only
/// <c>callbackReceived</c> and <c>refreshTokenUpdated</c> carry secrets (that is their purpose); every string of the
/// others passes through the <see cref="SecretRedactor"/>.
/// </summary>
internal sealed class RpcNotifier : ISidecarEvents
{
    private readonly JsonRpc rpc;
    private readonly ILogger logger;
    private readonly SecretRedactor redactor;

    public RpcNotifier(JsonRpc rpc, ILogger logger, SecretRedactor redactor)
    {
        this.rpc = rpc;
        this.logger = logger;
        this.redactor = redactor;
    }

    public void CallbackReceived(string flowId, CallbackResult result) =>
        this.Notify(ServerMessages.CallbackReceived.Name, new CallbackReceivedNotification
        {
            FlowId = flowId,
            Params = result.Params,
            Method = result.Method,
            Path = result.Path,
            ReceivedAt = result.ReceivedAt,
        });

    public void DeviceFlowPending(string flowId, int attempt, string errorCode, int nextPollSeconds) =>
        this.Notify(ServerMessages.DeviceFlowPending.Name, new DeviceFlowPendingNotification { FlowId = flowId, Attempt = attempt, Error = this.redactor.Redact(errorCode), NextPollSeconds = nextPollSeconds });

    public void DeviceCode(DeviceFlow flow) =>
        this.Notify(ServerMessages.DeviceCode.Name, new DeviceCodeNotification
        {
            FlowId = flow.FlowId,
            UserCode = this.redactor.Redact(flow.Authorization.UserCode),
            VerificationUri = this.redactor.Redact(flow.Authorization.VerificationUri),
            VerificationUriComplete = this.redactor.RedactOrNull(flow.Authorization.VerificationUriComplete),
            Message = this.redactor.Redact(flow.Message),
            ExpiresAt = flow.ExpiresAt.ToUnixTimeSeconds(),
        });

    public void AuthorizationUrl(string flowId, string authUri, string message) =>
        this.Notify(ServerMessages.AuthorizationUrl.Name, new AuthorizationUrlNotification { FlowId = flowId, AuthUri = this.redactor.Redact(authUri), Message = this.redactor.Redact(message) });

    public void TokensObtained(string clientHandle, string? flowId, string grantType, IReadOnlyList<string> scopes, long? expiresAt) =>
        this.Notify(ServerMessages.TokensObtained.Name, new TokensObtainedNotification { ClientHandle = clientHandle, FlowId = flowId, GrantType = grantType, Scopes = scopes, ExpiresAt = expiresAt });

    public void RefreshTokenUpdated(string clientHandle, string? account, string refreshToken) =>
        this.Notify(ServerMessages.RefreshTokenUpdated.Name, new RefreshTokenUpdatedNotification { ClientHandle = clientHandle, Account = account, RefreshToken = refreshToken });

    public void RefreshTokenRemoved(string clientHandle, string? account, string reason) =>
        this.Notify(ServerMessages.RefreshTokenRemoved.Name, new RefreshTokenRemovedNotification { ClientHandle = clientHandle, Account = account, Reason = this.redactor.Redact(reason) });

    private void Notify<T>(string method, T argument)
    {
        if (this.rpc.IsDisposed)
        {
            return;
        }

        _ = this.NotifyAsync(method, argument);
    }

    private async Task NotifyAsync<T>(string method, T argument)
    {
        try
        {
            IReadOnlyDictionary<string, object?> arguments = RpcArguments.From(argument);
            await this.rpc.NotifyWithParameterObjectAsync(method, arguments, RpcArguments.TypesOf(arguments)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            this.logger.LogDebug("The {Method} notification was not delivered: the caller is gone.", method);
        }
    }
}
