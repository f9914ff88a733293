namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The device access token polling loop of RFC 8628 §3.4–3.5, with MSAL's defaults: <c>interval</c> 5 s when the
/// server gives none, <c>slow_down</c> adds 5 s to this and every later poll, and polling stops at <c>expiresAt</c>.
/// </summary>
public static class DevicePoller
{
    /// <summary>The interval used when the server sends none, in seconds (RFC 8628 §3.2).</summary>
    public const int DefaultIntervalSeconds = 5;

    /// <summary>The device code lifetime used when the server sends none, in seconds (MSAL's default).</summary>
    public const int DefaultExpiresInSeconds = 1800;

    /// <summary>What <c>slow_down</c> adds to the interval, in seconds (RFC 8628 §3.5).</summary>
    public const int SlowDownIncrementSeconds = 5;

    /// <summary>
    /// Polls until tokens arrive, the server answers an error other than <c>authorization_pending</c> /
    /// <c>slow_down</c>, or <paramref name="expiresAt"/> passes. The first poll happens one interval after the call.
    /// </summary>
    /// <param name="flowId">The flow, for notifications and errors.</param>
    /// <param name="poll">One token request with the device code.</param>
    /// <param name="intervalSeconds">The server's interval in seconds (at least 1).</param>
    /// <param name="expiresAt">When the device code expires.</param>
    /// <param name="onPending">Called after each pending answer with the attempt number, the error and the seconds until the next poll.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="cancellationToken">Cancels the polling.</param>
    /// <returns>The tokens, or the server's terminal error (<c>access_denied</c>, <c>expired_token</c>, …).</returns>
    /// <exception cref="FlowTimeoutException">The device code expired while the user had not yet approved.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<TokenOutcome> PollAsync(
        string flowId,
        Func<CancellationToken, Task<TokenOutcome>> poll,
        int intervalSeconds,
        DateTimeOffset expiresAt,
        Action<int, string, int> onPending,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(onPending);
        ArgumentNullException.ThrowIfNull(timeProvider);
        int interval = Math.Max(1, intervalSeconds);
        int attempt = 0;
        DateTimeOffset startedAt = timeProvider.GetUtcNow();
        while (true)
        {
            TimeSpan remaining = expiresAt - timeProvider.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                throw new FlowTimeoutException(flowId, Math.Round((expiresAt - startedAt).TotalSeconds), $"The device code expired before the user approved the sign-in (after {attempt} polls). Start the device flow again.");
            }

            TimeSpan wait = TimeSpan.FromSeconds(interval);
            await Task.Delay(wait < remaining ? wait : remaining, timeProvider, cancellationToken).ConfigureAwait(false);
            attempt++;
            TokenOutcome outcome = await poll(cancellationToken).ConfigureAwait(false);
            switch (outcome.Error?.Error)
            {
                case null:
                    return outcome;
                case "authorization_pending":
                    onPending(attempt, "authorization_pending", interval);
                    break;
                case "slow_down":
                    interval += SlowDownIncrementSeconds;
                    onPending(attempt, "slow_down", interval);
                    break;
                default:
                    return outcome;
            }
        }
    }
}
