using System.Globalization;
using System.Net;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// What the engine reads from and writes into redirect URIs (RFC 8252 §7.3): whether a port was written, the URI
/// with the real port put in (keeping everything else exactly as the caller wrote it), whether a listener can serve
/// it, and callback paths in callback.py's spelling.
/// </summary>
public static class RedirectUris
{
    /// <summary>The default redirect URI: loopback IPv4, any free port, <c>/callback</c> (RFC 8252 §7.3, §8.3).</summary>
    public const string Default = "http://127.0.0.1:0/callback";

    /// <summary>Returns whether the URI as written names a port (<c>http://127.0.0.1:0/cb</c> does; <c>http://127.0.0.1/cb</c> does not).</summary>
    /// <param name="uri">The URI, parsed from its original string.</param>
    /// <returns><see langword="true"/> when a port is written.</returns>
    public static bool HasExplicitPort(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        string authority = uri.GetComponents(UriComponents.HostAndPort, UriFormat.UriEscaped);
        string written = AuthorityAsWritten(uri.OriginalString, out _, out _);
        int colon = written.LastIndexOf(':');
        return authority.Length > 0 && colon > written.LastIndexOf(']');
    }

    /// <summary>Returns <paramref name="original"/> with its port set to <paramref name="port"/>, the rest kept as written.</summary>
    /// <param name="original">The URI as the caller wrote it.</param>
    /// <param name="uri">The same URI, parsed.</param>
    /// <param name="port">The real port.</param>
    /// <returns>The URI with the port.</returns>
    public static string WithPort(string original, Uri uri, int port)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(uri);
        string written = AuthorityAsWritten(original, out _, out int end);
        int colon = written.LastIndexOf(':');
        string host = colon > written.LastIndexOf(']') ? written[..colon] : written;
        string rest = end < 0 ? string.Empty : original[end..];
        return $"{uri.Scheme}://{host}:{port.ToString(CultureInfo.InvariantCulture)}{rest}";
    }

    /// <summary>
    /// Returns whether a loopback listener can serve <paramref name="uri"/>: http or https on <c>localhost</c> or a
    /// loopback address (or any address with <paramref name="allowNonLoopback"/>). A custom scheme
    /// (<c>myapp:/callback</c>) is delivered by the caller itself.
    /// </summary>
    /// <param name="uri">The redirect URI.</param>
    /// <param name="allowNonLoopback">Whether a non-loopback address may be bound.</param>
    /// <returns><see langword="true"/> when a listener should be started.</returns>
    public static bool IsListenable(Uri uri, bool allowNonLoopback)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return false;
        }

        string host = uri.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out IPAddress? address) && (IPAddress.IsLoopback(address) || allowNonLoopback);
    }

    /// <summary>
    /// Returns why an http(s) redirect URI could never reach this sidecar, or <see langword="null"/>: a wildcard
    /// address (<c>0.0.0.0</c>, <c>::</c>) or port 0 on a host that is not loopback, without <paramref name="allowNonLoopback"/>.
    /// Other hosts (a claimed https redirect, RFC 8252 §7.2) are the caller's to serve.
    /// </summary>
    /// <param name="uri">The redirect URI.</param>
    /// <param name="allowNonLoopback">Whether a non-loopback address may be bound.</param>
    /// <returns>The end of a sentence that starts with the URI, or <see langword="null"/>.</returns>
    public static string? IsUnservable(Uri uri, bool allowNonLoopback)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (allowNonLoopback || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || IsLoopbackHost(uri.Host))
        {
            return null;
        }

        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            return "names a wildcard address, which only a listener on every interface could serve; use 127.0.0.1 (or allow a non-loopback listener, e.g. inside a container).";
        }

        return HasExplicitPort(uri) && uri.Port == 0
            ? "asks for any free port on a host that is not loopback, so no listener could serve it; use 127.0.0.1 (or allow a non-loopback listener)."
            : null;
    }

    /// <summary>Returns whether <paramref name="host"/> is <c>localhost</c> or a loopback address.</summary>
    /// <param name="host">A host, with or without IPv6 brackets.</param>
    /// <returns><see langword="true"/> for loopback.</returns>
    public static bool IsLoopbackHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        string bare = host.Trim('[', ']');
        return string.Equals(bare, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(bare, out IPAddress? a) && IPAddress.IsLoopback(a));
    }

    /// <summary>Normalises a callback path: <c>callback</c> becomes <c>/callback</c> (callback.py); empty is <c>/callback</c>.</summary>
    /// <param name="path">The path as given.</param>
    /// <param name="option">The <see cref="CoreOption"/> that gave it, for errors.</param>
    /// <returns>The path with one leading slash.</returns>
    /// <exception cref="InvalidOptionException">The path has a query, a fragment or dot segments.</exception>
    public static string NormalizePath(string? path, string option)
    {
        string p = string.IsNullOrWhiteSpace(path) ? "/callback" : "/" + path.Trim().TrimStart('/');
        if (p.IndexOfAny(['?', '#', '\\']) >= 0 || p.Split('/').Any(s => s is "." or ".."))
        {
            throw new InvalidOptionException(option, $"{{{option}}} '{path}' must be a plain path such as /callback (no query, fragment or dot segments).");
        }

        return p;
    }

    private static string AuthorityAsWritten(string original, out int start, out int end)
    {
        start = original.IndexOf("://", StringComparison.Ordinal) + 3;
        end = original.IndexOfAny(['/', '?', '#'], start);
        return end < 0 ? original[start..] : original[start..end];
    }
}
