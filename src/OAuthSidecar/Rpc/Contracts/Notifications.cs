namespace OAuthSidecar.Rpc.Contracts;

/// <summary><c>callbackReceived</c>: the loopback server received a flow's authorization response. Carries the code.</summary>
public sealed class CallbackReceivedNotification
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the parameters received.</summary>
    public required IReadOnlyDictionary<string, string> Params { get; init; }

    /// <summary>Gets <c>GET</c> or <c>POST</c>.</summary>
    public required string Method { get; init; }

    /// <summary>Gets the request path.</summary>
    public required string Path { get; init; }

    /// <summary>Gets when it arrived, in Unix seconds.</summary>
    public required long ReceivedAt { get; init; }
}

/// <summary><c>deviceFlowPending</c>: one per pending answer while polling (RFC 8628 §3.5).</summary>
public sealed class DeviceFlowPendingNotification
{
    /// <summary>Gets the flow.</summary>
    public required string FlowId { get; init; }

    /// <summary>Gets the poll's number, from 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>Gets <c>authorization_pending</c> or <c>slow_down</c>.</summary>
    public required string Error { get; init; }

    /// <summary>Gets the seconds until the next poll.</summary>
    public required int NextPollSeconds { get; init; }
}

/// <summary><c>tokensObtained</c>: tokens were obtained (no token values).</summary>
public sealed class TokensObtainedNotification
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the RFC grant type.</summary>
    public required string GrantType { get; init; }

    /// <summary>Gets the granted scopes.</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>Gets the flow, if the grant had one.</summary>
    public string? FlowId { get; init; }

    /// <summary>Gets when the access token expires, in Unix seconds.</summary>
    public long? ExpiresAt { get; init; }
}

/// <summary><c>refreshTokenUpdated</c>: the server rotated the refresh token (MSAL <c>on_updating_rt</c>); persist the new one.</summary>
public sealed class RefreshTokenUpdatedNotification
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the new refresh token.</summary>
    public required string RefreshToken { get; init; }

    /// <summary>Gets the account, when known.</summary>
    public string? Account { get; init; }
}

/// <summary><c>refreshTokenRemoved</c>: a refresh token was refused (<c>invalid_grant</c>) and should be forgotten (MSAL <c>on_removing_rt</c>).</summary>
public sealed class RefreshTokenRemovedNotification
{
    /// <summary>Gets the client.</summary>
    public required string ClientHandle { get; init; }

    /// <summary>Gets the server's error and description.</summary>
    public required string Reason { get; init; }

    /// <summary>Gets the account, when known.</summary>
    public string? Account { get; init; }
}
