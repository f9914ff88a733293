namespace OAuthSidecar.Core.OAuth;

/// <summary>Where a flow is in its life. The last four are terminal: a flow in one of them is gone for its caller.</summary>
public enum FlowState
{
    /// <summary>Started: waiting for the browser's callback, the user's approval (device flow) or the caller.</summary>
    Pending,

    /// <summary>The authorization response arrived (from the loopback listener or from the caller).</summary>
    CallbackReceived,

    /// <summary>A token request is in progress (code redemption, or device polling).</summary>
    Redeeming,

    /// <summary>Tokens were obtained (or, for a standalone callback server, it was stopped after its callback).</summary>
    Completed,

    /// <summary>The server or the response refused the sign-in (an OAuth error, a state or id_token failure).</summary>
    Failed,

    /// <summary>Ended by the caller (<c>cancelFlow</c>, a disposed client, the process shutting down).</summary>
    Cancelled,

    /// <summary>Its lifetime ran out first.</summary>
    Expired,
}

/// <summary>
/// The state of one flow and the one place its transitions are decided. Thread-safe: every transition is a
/// compare-and-swap from the state the caller expects, so two callers can never both redeem a flow, and a flow
/// that is ending cannot be revived.
/// </summary>
/// <remarks>
/// Allowed transitions:
/// <list type="bullet">
/// <item><see cref="FlowState.Pending"/> → <see cref="FlowState.CallbackReceived"/> (the response arrived) or
/// <see cref="FlowState.Redeeming"/> (device polling starts).</item>
/// <item><see cref="FlowState.CallbackReceived"/> → <see cref="FlowState.Redeeming"/> (the code is being redeemed).</item>
/// <item><see cref="FlowState.Redeeming"/> → <see cref="FlowState.CallbackReceived"/> (the token endpoint could not be
/// reached: the code may still be redeemed) or <see cref="FlowState.Pending"/> (device polling stopped by its caller).</item>
/// <item>any state that is not terminal → <see cref="FlowState.Completed"/>, <see cref="FlowState.Failed"/>,
/// <see cref="FlowState.Cancelled"/> or <see cref="FlowState.Expired"/>.</item>
/// </list>
/// </remarks>
public sealed class FlowStateMachine
{
    private int state = (int)FlowState.Pending;

    /// <summary>Gets the current state.</summary>
    public FlowState State => (FlowState)Volatile.Read(ref this.state);

    /// <summary>Gets a value indicating whether the flow has ended.</summary>
    public bool IsTerminal => IsTerminalState(this.State);

    /// <summary>Returns whether <paramref name="state"/> ends a flow.</summary>
    /// <param name="state">A state.</param>
    /// <returns><see langword="true"/> for completed, failed, cancelled and expired.</returns>
    public static bool IsTerminalState(FlowState state) =>
        state is FlowState.Completed or FlowState.Failed or FlowState.Cancelled or FlowState.Expired;

    /// <summary>Returns whether the machine allows moving from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="from">The current state.</param>
    /// <param name="to">The next state.</param>
    /// <returns><see langword="true"/> when the transition is allowed.</returns>
    public static bool IsAllowed(FlowState from, FlowState to) => (from, to) switch
    {
        _ when IsTerminalState(from) => false,
        (_, FlowState.Completed or FlowState.Failed or FlowState.Cancelled or FlowState.Expired) => true,
        (FlowState.Pending, FlowState.CallbackReceived or FlowState.Redeeming) => true,
        (FlowState.CallbackReceived, FlowState.Redeeming) => true,
        (FlowState.Redeeming, FlowState.CallbackReceived or FlowState.Pending) => true,
        _ => false,
    };

    /// <summary>Moves from <paramref name="from"/> to <paramref name="to"/> if the flow is in <paramref name="from"/> now.</summary>
    /// <param name="from">The state the caller expects.</param>
    /// <param name="to">The next state.</param>
    /// <returns><see langword="true"/> when this call made the transition.</returns>
    /// <exception cref="InvalidOperationException">The transition is never allowed (a bug).</exception>
    public bool TryMove(FlowState from, FlowState to)
    {
        if (!IsAllowed(from, to))
        {
            throw new InvalidOperationException($"A flow cannot go from {from} to {to}.");
        }

        return Interlocked.CompareExchange(ref this.state, (int)to, (int)from) == (int)from;
    }

    /// <summary>Ends the flow in <paramref name="terminal"/> unless it has already ended.</summary>
    /// <param name="terminal">A terminal state.</param>
    /// <returns><see langword="true"/> when this call ended the flow.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="terminal"/> is not terminal.</exception>
    public bool TryEnd(FlowState terminal)
    {
        if (!IsTerminalState(terminal))
        {
            throw new ArgumentOutOfRangeException(nameof(terminal), terminal, "Only a terminal state ends a flow.");
        }

        while (true)
        {
            int current = Volatile.Read(ref this.state);
            if (IsTerminalState((FlowState)current))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref this.state, (int)terminal, current) == current)
            {
                return true;
            }
        }
    }
}
