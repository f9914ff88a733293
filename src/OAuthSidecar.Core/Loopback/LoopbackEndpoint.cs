using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace OAuthSidecar.Core.Loopback;

/// <summary>Where a loopback listener binds (RFC 8252 §7.3).</summary>
/// <param name="Scheme"><c>http</c> or <c>https</c>.</param>
/// <param name="Host"><c>127.0.0.1</c>, <c>::1</c>, <c>localhost</c> (both loopback addresses), or another address when <paramref name="AllowNonLoopback"/> is set.</param>
/// <param name="Port">The port; 0 lets the OS choose a free one, bound directly (no probe-then-bind race).</param>
/// <param name="Certificate">The TLS certificate for <c>https</c>; the hub makes an ad-hoc one when <see langword="null"/>.</param>
/// <param name="AllowNonLoopback">Whether a non-loopback address (e.g. <c>0.0.0.0</c> in a container) may be bound.</param>
public sealed record LoopbackEndpoint(string Scheme, string Host, int Port, X509Certificate2? Certificate = null, bool AllowNonLoopback = false)
{
    /// <summary>The addresses to bind: both loopback addresses for <c>localhost</c>, else the one address given.</summary>
    /// <returns>The addresses.</returns>
    /// <exception cref="ListenFailedException">Not an address (nor localhost), or not loopback without <see cref="AllowNonLoopback"/>.</exception>
    public IPAddress[] ResolveAddresses()
    {
        LoopbackEndpoint endpoint = this;
        string host = endpoint.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [IPAddress.Loopback, IPAddress.IPv6Loopback];
        }

        if (!IPAddress.TryParse(host, out IPAddress? address))
        {
            throw new ListenFailedException(endpoint.Host, endpoint.Port, $"'{endpoint.Host}' is not an IP address or 'localhost'. Use 127.0.0.1 (recommended by RFC 8252 §8.3), [::1] or localhost.");
        }

        if (!IPAddress.IsLoopback(address) && !endpoint.AllowNonLoopback)
        {
            throw new ListenFailedException(endpoint.Host, endpoint.Port, $"{endpoint.Host} is not a loopback address, so other machines could reach the callback. Use 127.0.0.1, or set allowNonLoopback (for example inside a container, with the port published on 127.0.0.1 of the host).");
        }

        return [address];
    }

    /// <summary>Writes a host for a URL or a message: IPv6 addresses in brackets.</summary>
    /// <param name="host">The host, with or without brackets.</param>
    /// <returns>The host as written in URLs.</returns>
    public static string FormatHost(string host)
    {
        string bare = host.Trim('[', ']');
        return IPAddress.TryParse(bare, out IPAddress? a) && a.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + bare + "]" : bare;
    }
}

