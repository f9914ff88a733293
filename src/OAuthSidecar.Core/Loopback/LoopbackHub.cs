using Microsoft.Extensions.Logging;


using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// Owns every loopback listener of the process. Targets that ask for the same scheme, host and fixed port share
/// one listener (routed by <c>state</c>), so a fixed registered redirect URI serves concurrent sign-ins; port 0
/// always gets a listener of its own. A listener closes a few seconds after its last target leaves, so the final
/// page finishes loading.
/// </summary>
public sealed class LoopbackHub : IAsyncDisposable
{
    private readonly ILoggerFactory loggerFactory;
    private readonly TimeProvider timeProvider;
    private readonly Dictionary<string, LoopbackListener> shared = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<LoopbackListener> all = [];
    private readonly Microsoft.VisualStudio.Threading.AsyncSemaphore gate = new(1);
    private bool disposed;

    /// <summary>Initializes a new instance of the <see cref="LoopbackHub"/> class.</summary>
    /// <param name="loggerFactory">Logging.</param>
    /// <param name="timeProvider">The clock.</param>
    public LoopbackHub(ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        this.loggerFactory = loggerFactory;
        this.timeProvider = timeProvider;
    }

    /// <summary>Gets or sets how long a listener stays open after its last target leaves (default 3 s).</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets the number of open listeners.</summary>
    public int ListenerCount
    {
        get
        {
            lock (this.all)
            {
                return this.all.Count;
            }
        }
    }

    /// <summary>Attaches <paramref name="target"/> to a listener for <paramref name="endpoint"/>, starting one if needed.</summary>
    /// <param name="endpoint">Where to listen.</param>
    /// <param name="target">The flow or server that waits for a callback.</param>
    /// <param name="certificateOption">The <see cref="CoreOption"/> that gave the certificate, for errors.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The listener, whose <see cref="LoopbackListener.Port"/> is the real port.</returns>
    /// <exception cref="ListenFailedException">Binding failed.</exception>
    /// <exception cref="InvalidOptionException">A shared port is asked for with a different certificate.</exception>
    public async Task<LoopbackListener> AttachAsync(LoopbackEndpoint endpoint, ICallbackTarget target, string certificateOption, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(target);
        using (await this.gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            ObjectDisposedException.ThrowIf(this.disposed, this);
            string? key = endpoint.Port == 0 ? null : $"{endpoint.Scheme}://{endpoint.Host.Trim('[', ']')}:{endpoint.Port}";
            if (key is not null && this.shared.TryGetValue(key, out LoopbackListener? existing))
            {
                // No certificate asked for (ad hoc): the shared listener's serves. A PEM pair must be the same one.
                if (endpoint.Certificate is not null && existing.Endpoint.Certificate?.Thumbprint != endpoint.Certificate.Thumbprint)
                {
                    throw new InvalidOptionException(certificateOption, $"Port {endpoint.Port} is already serving another sign-in with a different certificate; use the same certificate or another port ({{{certificateOption}}}).");
                }

                existing.Attach(target);
                return existing;
            }

            if (key is not null && this.shared.Values.FirstOrDefault(l => l.Endpoint.Port == endpoint.Port) is { } sibling)
            {
                // The same port under another host or scheme (localhost vs 127.0.0.1): not "another program".
                string uses = $"{sibling.Endpoint.Scheme}://{sibling.Endpoint.Host}:{endpoint.Port}";
                throw new ListenFailedException(endpoint.Host, endpoint.Port, $"Port {endpoint.Port} is already serving sign-ins of this sidecar at {uses}; ask for that same scheme and host to share it, or use another port.");
            }

            if (endpoint.Scheme == "https" && endpoint.Certificate is null)
            {
                endpoint = endpoint with { Certificate = Certificates.CreateAdHoc() };
            }

            LoopbackListener listener = await LoopbackListener.StartAsync(endpoint, this.loggerFactory, this.timeProvider, cancellationToken).ConfigureAwait(false);
            listener.Completed = completed => _ = this.DetachAfterLingerAsync(listener, completed);
            listener.Attach(target);
            lock (this.all)
            {
                this.all.Add(listener);
            }

            if (key is not null)
            {
                this.shared[key] = listener;
            }

            return listener;
        }
    }

    /// <summary>
    /// Detaches <paramref name="target"/>; when no target is left, the listener closes after <see cref="Linger"/>
    /// (or at once when <paramref name="immediately"/>).
    /// </summary>
    /// <param name="listener">The listener the target was attached to.</param>
    /// <param name="target">The target.</param>
    /// <param name="immediately">Close without lingering (the flow was cancelled: no page to finish).</param>
    /// <returns>A task that completes when the detach is recorded (closing happens in the background).</returns>
    public Task DetachAsync(LoopbackListener listener, ICallbackTarget target, bool immediately = false)
    {
        ArgumentNullException.ThrowIfNull(listener);
        if (!listener.Detach(target, out int remaining) || remaining > 0)
        {
            return Task.CompletedTask; // already detached, or other targets still use the listener
        }

        TimeSpan delay = immediately ? TimeSpan.Zero : this.Linger;
        _ = this.CloseWhenIdleAsync(listener, delay);
        return Task.CompletedTask;
    }

    /// <summary>Closes every listener at once (process exit).</summary>
    /// <returns>A task that completes when every socket is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        LoopbackListener[] listeners;
        using (await this.gate.EnterAsync().ConfigureAwait(false))
        {
            this.disposed = true;
            lock (this.all)
            {
                listeners = [.. this.all];
                this.all.Clear();
            }

            this.shared.Clear();
        }

        await Task.WhenAll(listeners.Select(l => l.DisposeAsync().AsTask())).ConfigureAwait(false);
        this.gate.Dispose();
    }

    // After a callback completed a target, later requests still get its final page for a few seconds; then it
    // leaves the listener (which closes when it was the last one).
    private async Task DetachAfterLingerAsync(LoopbackListener listener, ICallbackTarget target)
    {
        try
        {
            await Task.Delay(this.Linger, this.timeProvider).ConfigureAwait(false);
            await this.DetachAsync(listener, target, immediately: true).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The hub is closing everything anyway.
        }
    }

    private async Task CloseWhenIdleAsync(LoopbackListener listener, TimeSpan delay)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, this.timeProvider).ConfigureAwait(false);
            }

            using (await this.gate.EnterAsync().ConfigureAwait(false))
            {
                if (this.disposed || listener.TargetCount > 0)
                {
                    return; // reused meanwhile, or everything is closing anyway
                }

                lock (this.all)
                {
                    this.all.Remove(listener);
                }

                foreach (KeyValuePair<string, LoopbackListener> pair in this.shared.Where(p => ReferenceEquals(p.Value, listener)).ToList())
                {
                    this.shared.Remove(pair.Key);
                }
            }

            await listener.DisposeAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The hub was disposed meanwhile; it closed the listener itself.
        }
    }
}
