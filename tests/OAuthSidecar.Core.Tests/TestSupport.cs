using System.Net;
using System.Net.Sockets;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.Tests;

/// <summary>A callback target that records what the listener offers it.</summary>
internal sealed class TestTarget(string path, string? state, CallbackPages? pages = null) : ICallbackTarget
{
    private readonly Lock gate = new();
    private CallbackResult? result;
    private int offers;

    public string Path { get; } = path;

    public string? State { get; } = state;

    public CallbackPages Pages { get; } = pages ?? CallbackPages.Default;

    public CallbackResult? Result
    {
        get
        {
            lock (this.gate)
            {
                return this.result;
            }
        }
    }

    /// <summary>Gets how many times <see cref="TryComplete"/> was called.</summary>
    public int Offers => Volatile.Read(ref this.offers);

    public bool TryComplete(CallbackResult result)
    {
        Interlocked.Increment(ref this.offers);
        lock (this.gate)
        {
            if (this.result is not null)
            {
                return false;
            }

            this.result = result;
            return true;
        }
    }
}

internal static class Ports
{
    /// <summary>Returns a port that was free a moment ago on 127.0.0.1.</summary>
    public static int GetFree()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        int port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return port;
    }
}
