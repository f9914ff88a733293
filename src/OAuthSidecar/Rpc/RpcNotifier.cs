using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>Sends the engine's events to the caller as JSON-RPC notifications (PROTOCOL.md "Notifications").</summary>
internal sealed class RpcNotifier : ISidecarEvents
{
    private readonly JsonRpc rpc;
    private readonly ILogger logger;

    public RpcNotifier(JsonRpc rpc, ILogger logger)
    {
        this.rpc = rpc;
        this.logger = logger;
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
        this.Notify(ServerMessages.DeviceFlowPending.Name, new DeviceFlowPendingNotification { FlowId = flowId, Attempt = attempt, Error = errorCode, NextPollSeconds = nextPollSeconds });

    public void DeviceCode(DeviceFlow flow) =>
        this.Notify(ServerMessages.DeviceCode.Name, new DeviceCodeNotification
        {
            FlowId = flow.FlowId,
            UserCode = flow.Authorization.UserCode,
            VerificationUri = flow.Authorization.VerificationUri,
            VerificationUriComplete = flow.Authorization.VerificationUriComplete,
            Message = flow.Message,
            ExpiresAt = flow.ExpiresAt.ToUnixTimeSeconds(),
        });

    public void TokensObtained(string clientHandle, string? flowId, string grantType, IReadOnlyList<string> scopes, long? expiresAt) =>
        this.Notify(ServerMessages.TokensObtained.Name, new TokensObtainedNotification { ClientHandle = clientHandle, FlowId = flowId, GrantType = grantType, Scopes = scopes, ExpiresAt = expiresAt });

    public void RefreshTokenUpdated(string clientHandle, string? account, string refreshToken) =>
        this.Notify(ServerMessages.RefreshTokenUpdated.Name, new RefreshTokenUpdatedNotification { ClientHandle = clientHandle, Account = account, RefreshToken = refreshToken });

    public void RefreshTokenRemoved(string clientHandle, string? account, string reason) =>
        this.Notify(ServerMessages.RefreshTokenRemoved.Name, new RefreshTokenRemovedNotification { ClientHandle = clientHandle, Account = account, Reason = reason });

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
