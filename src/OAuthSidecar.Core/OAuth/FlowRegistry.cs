using System.Collections.Concurrent;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The flows in progress of one engine, by flow id, each with its expiry timer. A flow leaves the registry exactly
/// when its <see cref="FlowStateMachine"/> reaches a terminal state, through <see cref="EndAsync"/>; from then on its
/// id is unknown. Thread-safe.
/// </summary>
public sealed class FlowRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Entry> flows = new(StringComparer.Ordinal);
    private readonly TimeProvider timeProvider;

    /// <summary>Initializes a new instance of the <see cref="FlowRegistry"/> class.</summary>
    /// <param name="timeProvider">The clock of the expiry timers.</param>
    public FlowRegistry(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        this.timeProvider = timeProvider;
    }

    /// <summary>Gets the number of flows in progress.</summary>
    public int Count => this.flows.Count;

    /// <summary>Returns the error for a flow id that names nothing (never issued, redeemed, cancelled or expired).</summary>
    /// <param name="flowId">The id.</param>
    /// <returns>The exception (-32004).</returns>
    public static UnknownHandleException UnknownFlow(string flowId) =>
        new(HandleKind.Flow, flowId, $"No flow has the id '{flowId}': it was never started, already redeemed, cancelled or expired.");

    /// <summary>Adds a new flow and starts its expiry timer (at <see cref="IFlow.ExpiresAt"/> it ends as <see cref="FlowState.Expired"/>).</summary>
    /// <param name="flow">The flow, in <see cref="FlowState.Pending"/>.</param>
    /// <exception cref="InvalidOperationException">A flow with that id exists (a bug).</exception>
    public void Add(IFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var entry = new Entry(flow);
        if (!this.flows.TryAdd(flow.FlowId, entry))
        {
            throw new InvalidOperationException($"Flow {flow.FlowId} is registered twice.");
        }

        TimeSpan due = flow.ExpiresAt - this.timeProvider.GetUtcNow();
        entry.Timer = this.timeProvider.CreateTimer(
            static state =>
            {
                var (registry, f) = ((FlowRegistry, IFlow))state!;
                double lifetime = Math.Round((f.ExpiresAt - registry.timeProvider.GetUtcNow()).TotalSeconds);
                _ = registry.EndAsync(f, FlowState.Expired, new FlowTimeoutException(f.FlowId, lifetime, $"Flow {f.FlowId} expired before it completed. Start a new sign-in."), lingerListener: false);
            },
            (this, flow),
            due > TimeSpan.Zero ? due : TimeSpan.Zero,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Returns the flow named <paramref name="flowId"/>, which must be a <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The kind of flow the method works on.</typeparam>
    /// <param name="flowId">The id.</param>
    /// <returns>The flow.</returns>
    /// <exception cref="UnknownHandleException">No such flow.</exception>
    /// <exception cref="InvalidOptionException">The flow is of another kind.</exception>
    public T Get<T>(string flowId)
        where T : class, IFlow
    {
        if (flowId is not null && this.flows.TryGetValue(flowId, out Entry? entry))
        {
            return entry.Flow as T ?? throw new InvalidOptionException(CoreOption.FlowId, $"Flow {flowId} is {Describe(entry.Flow)} and cannot be used with this method.");
        }

        throw UnknownFlow(flowId ?? string.Empty);
    }

    /// <summary>Returns the flows that match <paramref name="predicate"/>.</summary>
    /// <param name="predicate">The filter.</param>
    /// <returns>A snapshot.</returns>
    public IReadOnlyList<IFlow> Where(Func<IFlow, bool> predicate) =>
        this.flows.Values.Select(e => e.Flow).Where(predicate).ToList();

    /// <summary>
    /// Ends a flow in a terminal state (unless it has ended already): it leaves the registry, its timer stops, its
    /// waiters fail with <paramref name="reason"/> and its listener is released.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="terminal">How it ended: completed, failed, cancelled or expired.</param>
    /// <param name="reason">What waiters still waiting on it get.</param>
    /// <param name="lingerListener">Keep the listener a few seconds so the browser's final page loads.</param>
    /// <returns><see langword="true"/> when this call ended the flow.</returns>
    public async Task<bool> EndAsync(IFlow flow, FlowState terminal, Exception reason, bool lingerListener)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (!flow.Machine.TryEnd(terminal))
        {
            return false;
        }

        if (this.flows.TryRemove(flow.FlowId, out Entry? entry) && entry.Timer is { } timer)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        await flow.ReleaseAsync(reason, lingerListener).ConfigureAwait(false);
        return true;
    }

    /// <summary>Ends every flow that matches <paramref name="predicate"/> as cancelled.</summary>
    /// <param name="predicate">The filter.</param>
    /// <returns>A task that completes when they are ended.</returns>
    public async Task CancelAllAsync(Func<IFlow, bool> predicate)
    {
        foreach (IFlow flow in this.Where(predicate))
        {
            await this.EndAsync(flow, FlowState.Cancelled, new FlowCancelledException(flow.FlowId), lingerListener: false).ConfigureAwait(false);
        }
    }

    /// <summary>Cancels every flow.</summary>
    /// <returns>A task that completes when every flow has ended.</returns>
    public async ValueTask DisposeAsync() => await this.CancelAllAsync(static _ => true).ConfigureAwait(false);

    private static string Describe(IFlow flow) => flow switch
    {
        DeviceFlow => "a device flow",
        AuthCodeFlow => "a browser flow",
        _ => "a standalone callback server",
    };

    private sealed class Entry(IFlow flow)
    {
        public IFlow Flow { get; } = flow;

        public ITimer? Timer { get; set; }
    }
}
