using System.Collections.Concurrent;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The latest <c>DPoP-Nonce</c> (RFC 9449 §8) each authorization server sent, by origin (scheme, host and port), so
/// the next proof to that server carries it without being refused first. Shared by every client of an engine.
/// Thread-safe.
/// </summary>
public sealed class DpopNonces
{
    private readonly ConcurrentDictionary<string, string> latest = new(StringComparer.Ordinal);

    /// <summary>Returns the latest nonce of the server at <paramref name="url"/>, or <see langword="null"/>.</summary>
    /// <param name="url">Any absolute URL of the server.</param>
    /// <returns>The nonce.</returns>
    public string? Get(string url) => this.latest.TryGetValue(OriginOf(url), out string? nonce) ? nonce : null;

    /// <summary>Remembers the nonce a server sent (a <see langword="null"/> or empty one is ignored).</summary>
    /// <param name="url">Any absolute URL of the server.</param>
    /// <param name="nonce">The <c>DPoP-Nonce</c> header's value.</param>
    public void Remember(string url, string? nonce)
    {
        if (!string.IsNullOrEmpty(nonce))
        {
            this.latest[OriginOf(url)] = nonce;
        }
    }

    private static string OriginOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ? uri.GetLeftPart(UriPartial.Authority) : url;
}
