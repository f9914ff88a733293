using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// What the engine tells its host as it happens. The executable turns each call into a JSON-RPC notification.
/// Implementations must not block and must not throw. Every member does nothing unless implemented, so a host (a
/// terminal, a test) implements only what it shows.
/// </summary>
public interface ISidecarEvents
{
    /// <summary>The loopback server received the authorization response of a flow. Carries the code: a secret.</summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="result">What arrived.</param>
    void CallbackReceived(string flowId, CallbackResult result)
    {
    }

    /// <summary>A device flow poll answered <c>authorization_pending</c> or <c>slow_down</c> (RFC 8628 §3.5).</summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="attempt">The poll's number, from 1.</param>
    /// <param name="errorCode"><c>authorization_pending</c> or <c>slow_down</c>.</param>
    /// <param name="nextPollSeconds">Seconds until the next poll.</param>
    void DeviceFlowPending(string flowId, int attempt, string errorCode, int nextPollSeconds)
    {
    }

    /// <summary><c>getCredentials</c> chose the device flow: show the user code.</summary>
    /// <param name="flow">The device flow.</param>
    void DeviceCode(DeviceFlow flow)
    {
    }

    /// <summary>
    /// A sign-in waits on the user: the address to open (the authorization request, or a device flow's verification
    /// URI) and a sentence to show, so that a terminal can always print it. Carries no secret.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="authUri">The address to open.</param>
    /// <param name="message">What to tell the user.</param>
    void AuthorizationUrl(string flowId, string authUri, string message)
    {
    }

    /// <summary>Tokens were obtained. Carries no token values.</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="flowId">The flow, if the grant had one.</param>
    /// <param name="grantType">The RFC grant type, e.g. <c>authorization_code</c>.</param>
    /// <param name="scopes">The granted scopes.</param>
    /// <param name="expiresAt">When the access token expires, in Unix seconds.</param>
    void TokensObtained(string clientHandle, string? flowId, string grantType, IReadOnlyList<string> scopes, long? expiresAt)
    {
    }

    /// <summary>The server rotated the refresh token (MSAL <c>on_updating_rt</c>). Carries the new refresh token: a secret.</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="account">The account, when known.</param>
    /// <param name="refreshToken">The new refresh token.</param>
    void RefreshTokenUpdated(string clientHandle, string? account, string refreshToken)
    {
    }

    /// <summary>A refresh token was refused with <c>invalid_grant</c> and should be forgotten (MSAL <c>on_removing_rt</c>).</summary>
    /// <param name="clientHandle">The client.</param>
    /// <param name="account">The account, when known.</param>
    /// <param name="reason">The server's error and description.</param>
    void RefreshTokenRemoved(string clientHandle, string? account, string reason)
    {
    }
}

/// <summary>An <see cref="ISidecarEvents"/> that ignores everything.</summary>
public sealed class NullSidecarEvents : ISidecarEvents
{
    /// <summary>Gets the shared instance.</summary>
    public static NullSidecarEvents Instance { get; } = new();
}
