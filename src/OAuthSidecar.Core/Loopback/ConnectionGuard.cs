using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// Keeps room for the provider's redirect on a loopback listener. Kestrel's connection cap refuses the newest
/// connection once it is reached, so a local process that holds a few hundred idle connections would lock the honest
/// browser out. This Kestrel connection middleware caps live connections at <see cref="MaxConnections"/> the other way
/// round: a new connection over the cap closes the <em>oldest</em> one (an honest browser's request takes milliseconds;
/// idle ones are what piles up). The evictions are logged as one rate-limited warning.
/// </summary>
public sealed class ConnectionGuard
{
    /// <summary>How many connections a listener keeps open at most.</summary>
    public const int MaxConnections = 64;

    private readonly LinkedList<ConnectionContext> live = new();
    private readonly ILogger logger;
    private readonly int max;
    private long evicted;

    /// <summary>Initializes a new instance of the <see cref="ConnectionGuard"/> class.</summary>
    /// <param name="logger">Where evictions are reported.</param>
    /// <param name="max">The cap; <see cref="MaxConnections"/> by default.</param>
    public ConnectionGuard(ILogger logger, int max = MaxConnections)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        this.logger = logger;
        this.max = max;
    }

    /// <summary>Gets the number of connections closed to make room for newer ones.</summary>
    public long Evicted => Interlocked.Read(ref this.evicted);

    /// <summary>Gets the number of connections open now.</summary>
    public int Count
    {
        get
        {
            lock (this.live)
            {
                return this.live.Count;
            }
        }
    }

    /// <summary>The middleware: registers each connection, evicts the oldest when over the cap, forgets it when it ends.</summary>
    /// <param name="next">The rest of Kestrel's pipeline (TLS, HTTP).</param>
    /// <returns>The connection delegate.</returns>
    public ConnectionDelegate Middleware(ConnectionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return async connection =>
        {
            LinkedListNode<ConnectionContext> node;
            ConnectionContext? oldest = null;
            lock (this.live)
            {
                node = this.live.AddLast(connection);
                if (this.live.Count > this.max)
                {
                    oldest = this.live.First!.Value;
                    this.live.RemoveFirst();
                }
            }

            if (oldest is not null)
            {
                long count = Interlocked.Increment(ref this.evicted);
                this.logger.LogWarning("The callback listener has {Max} connections open; the oldest was closed to make room ({Count} so far). A local program may be holding idle connections.", this.max, count);
                oldest.Abort(new ConnectionAbortedException("Closed to make room for a newer connection."));
            }

            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                lock (this.live)
                {
                    if (node.List is not null)
                    {
                        this.live.Remove(node);
                    }
                }
            }
        };
    }
}
