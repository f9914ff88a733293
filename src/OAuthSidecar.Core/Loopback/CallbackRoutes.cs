namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// The targets attached to one listener, by path and then by <c>state</c>: routing a callback is two lookups
/// whatever the number of flows. Thread-safe.
/// </summary>
internal sealed class CallbackRoutes
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, PathTargets> byPath = new(StringComparer.Ordinal);
    private int count;

    /// <summary>Gets the number of targets attached.</summary>
    public int Count
    {
        get
        {
            lock (this.gate)
            {
                return this.count;
            }
        }
    }

    /// <summary>Adds a target: callbacks on its path (and with its state) now reach it.</summary>
    /// <param name="target">The target.</param>
    public void Add(ICallbackTarget target)
    {
        lock (this.gate)
        {
            if (!this.byPath.TryGetValue(target.Path, out PathTargets? onPath))
            {
                this.byPath[target.Path] = onPath = new PathTargets();
            }

            onPath.Add(target);
            this.count++;
        }
    }

    /// <summary>Removes a target.</summary>
    /// <param name="target">The target.</param>
    /// <param name="remaining">The number of targets left.</param>
    /// <returns><see langword="true"/> when the target was attached.</returns>
    public bool Remove(ICallbackTarget target, out int remaining)
    {
        lock (this.gate)
        {
            bool removed = this.byPath.TryGetValue(target.Path, out PathTargets? onPath) && onPath.Remove(target);
            if (removed)
            {
                this.count--;
                if (onPath!.IsEmpty)
                {
                    this.byPath.Remove(target.Path);
                }
            }

            remaining = this.count;
            return removed;
        }
    }

    /// <summary>Gets a value indicating whether any target listens on <paramref name="path"/>.</summary>
    /// <param name="path">The request path.</param>
    /// <returns><see langword="true"/> when the path is served.</returns>
    public bool Serves(string path)
    {
        lock (this.gate)
        {
            return this.byPath.ContainsKey(path);
        }
    }

    /// <summary>Finds the target for a callback: the one whose state is <paramref name="state"/> (first attached first), else the first without a state (a standalone callback server).</summary>
    /// <param name="path">The request path.</param>
    /// <param name="state">The callback's <c>state</c>, if any.</param>
    /// <returns>The target, or <see langword="null"/> when none matches.</returns>
    public ICallbackTarget? Find(string path, string? state)
    {
        lock (this.gate)
        {
            return this.byPath.TryGetValue(path, out PathTargets? onPath) ? onPath.Find(state) : null;
        }
    }

    /// <summary>The targets on one path: those with a state by their state (first attached first), and those without.</summary>
    private sealed class PathTargets
    {
        private readonly Dictionary<string, List<ICallbackTarget>> byState = new(StringComparer.Ordinal);
        private readonly List<ICallbackTarget> stateless = [];

        public bool IsEmpty => this.byState.Count == 0 && this.stateless.Count == 0;

        public void Add(ICallbackTarget target)
        {
            if (target.State is not { } state)
            {
                this.stateless.Add(target);
            }
            else if (this.byState.TryGetValue(state, out List<ICallbackTarget>? same))
            {
                same.Add(target);
            }
            else
            {
                this.byState[state] = [target];
            }
        }

        public bool Remove(ICallbackTarget target)
        {
            if (target.State is not { } state)
            {
                return this.stateless.Remove(target);
            }

            if (!this.byState.TryGetValue(state, out List<ICallbackTarget>? same) || !same.Remove(target))
            {
                return false;
            }

            if (same.Count == 0)
            {
                this.byState.Remove(state);
            }

            return true;
        }

        public ICallbackTarget? Find(string? state) =>
            state is not null && this.byState.TryGetValue(state, out List<ICallbackTarget>? same) ? same[0]
            : this.stateless.Count > 0 ? this.stateless[0] : null;
    }
}
