using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OAuthSidecar.Core.OAuth;

/// <summary>Creates the <see cref="HttpClient"/> a client registration talks to its server with.</summary>
public static class HttpClients
{
    /// <summary>The largest answer read from an authorization server, in bytes (1 MiB).</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    /// <summary>
    /// Creates the HTTP client of a registration over <paramref name="handler"/>: the registration's timeout, HTTP/1.1,
    /// and a bound on the answer's size.
    /// </summary>
    /// <param name="registration">The client registration.</param>
    /// <param name="handler">The handler (owned by the client afterwards).</param>
    /// <returns>The HTTP client.</returns>
    public static HttpClient Create(ClientRegistration registration, HttpMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(registration);
        return new HttpClient(handler, disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(registration.TimeoutSeconds),
            DefaultRequestVersion = HttpVersion.Version11,
            // Token, metadata and key set answers are a few KiB: a huge one is refused, not buffered.
            MaxResponseContentBufferSize = MaxResponseBytes,
        };
    }

    /// <summary>
    /// Creates the socket handler of a registration with its connect timeout and TLS options (extra trusted roots, or
    /// no verification at all when the caller opted in). Proxies come from the standard variables
    /// (<c>HTTPS_PROXY</c>, <c>HTTP_PROXY</c>, <c>NO_PROXY</c>), as .NET reads them. The default
    /// <see cref="SessionOptions.HttpHandlerFactory"/>.
    /// </summary>
    /// <param name="registration">The client registration.</param>
    /// <returns>The handler.</returns>
    /// <exception cref="InvalidOptionException">The CA bundle cannot be read.</exception>
    public static HttpMessageHandler CreateHandler(ClientRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, registration.TimeoutSeconds)),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxResponseHeadersLength = 64,
        };

        if (registration.InsecureSkipVerify)
        {
#pragma warning disable CA5359 // The caller's explicit opt-in (flytekit verify=False), for development servers only; logged as a warning.
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (registration.CaBundlePath is { } path)
        {
            X509Certificate2Collection bundle = LoadBundle(path);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }

                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(bundle);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
            };
        }

        return handler;
    }

    private static X509Certificate2Collection LoadBundle(string path)
    {
        try
        {
            var bundle = new X509Certificate2Collection();
            bundle.ImportFromPemFile(path);
            if (bundle.Count == 0)
            {
                throw new InvalidOptionException(CoreOption.CaBundlePath, $"{{{CoreOption.CaBundlePath}}} '{path}' holds no PEM certificate.");
            }

            return bundle;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOptionException(CoreOption.CaBundlePath, $"{{{CoreOption.CaBundlePath}}} '{path}' could not be read: {ex.Message}");
        }
    }
}
