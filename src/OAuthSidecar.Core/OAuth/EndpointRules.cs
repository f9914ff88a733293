using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Which URLs the sidecar sends requests or a browser to: absolute <c>https</c> URLs, or <c>http</c> on a loopback
/// address (RFC 8414 §2, RFC 6749 §3.1 and §3.2 require TLS; RFC 8252 §8.3 allows loopback). Nothing else — no
/// <c>javascript:</c>, <c>file:</c> or custom scheme, no text that a launcher could take for an option.
/// </summary>
public static class EndpointRules
{
    /// <summary>Returns why <paramref name="url"/> may not be used, or <see langword="null"/> when it may.</summary>
    /// <param name="url">The URL.</param>
    /// <param name="allowInsecureHttp">Accept <c>http</c> on any host too (tests and labs only).</param>
    /// <returns>The end of a sentence that starts with the URL ("… is not …"), or <see langword="null"/>.</returns>
    public static string? Problem(string? url, bool allowInsecureHttp = false)
    {
        if (string.IsNullOrWhiteSpace(url) || url.StartsWith('-') || !Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.IsFile || uri.IsUnc)
        {
            return "is not an absolute https URL";
        }

        if (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && (allowInsecureHttp || RedirectUris.IsLoopbackHost(uri.Host))))
        {
            return null;
        }

        return uri.Scheme == Uri.UriSchemeHttp
            ? "uses plain http on a host that is not loopback; an authorization server must use https (RFC 6749 §3.1, §3.2)"
            : $"uses the scheme '{uri.Scheme}'; only https (or http on a loopback address) is allowed";
    }
}
