using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// Starts the loopback listeners that flows wait on: loads a PEM certificate pair when one is given (an ad-hoc one
/// is made otherwise for https), warns when a non-loopback address is bound, and attaches the flow to the shared
/// <see cref="LoopbackHub"/> — created on first use, so Kestrel loads only when a listener is needed.
/// </summary>
public sealed class CallbackListeners : IAsyncDisposable
{
    private readonly Lazy<LoopbackHub> hub;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="CallbackListeners"/> class.</summary>
    /// <param name="loggerFactory">Logging.</param>
    /// <param name="timeProvider">The clock of the listeners.</param>
    public CallbackListeners(ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        this.logger = loggerFactory.CreateLogger("OAuthSidecar");
        this.hub = new Lazy<LoopbackHub>(() => new LoopbackHub(loggerFactory, timeProvider), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the hub (created on first use).</summary>
    public LoopbackHub Hub => this.hub.Value;

    /// <summary>Starts (or shares) a listener for <paramref name="target"/>.</summary>
    /// <param name="target">The flow that waits for a callback.</param>
    /// <param name="scheme"><c>http</c> or <c>https</c>.</param>
    /// <param name="host">The host to bind.</param>
    /// <param name="port">The port; 0 for any free port.</param>
    /// <param name="tls">The PEM pair for https, and the options that gave it (for errors).</param>
    /// <param name="allowNonLoopback">Whether a non-loopback address may be bound.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The listener, with its real port.</returns>
    /// <exception cref="InvalidOptionException">Only one of the PEM files was given, or a shared port has another certificate.</exception>
    /// <exception cref="ListenFailedException">Binding failed, or the certificate files cannot be read.</exception>
    public async Task<LoopbackListener> ListenAsync(ICallbackTarget target, string scheme, string host, int port, ListenerTls tls, bool allowNonLoopback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tls);
        X509Certificate2? certificate = null;
        if (scheme == Uri.UriSchemeHttps && (tls.CertFile is not null || tls.KeyFile is not null))
        {
            string both = $"{{{tls.Option}}} needs both {{{tls.CertFileOption}}} and {{{tls.KeyFileOption}}}.";
            certificate = Certificates.LoadPem(
                tls.CertFile ?? throw new InvalidOptionException(tls.CertFileOption, both),
                tls.KeyFile ?? throw new InvalidOptionException(tls.KeyFileOption, both),
                host,
                port);
        }

        if (allowNonLoopback && !RedirectUris.IsLoopbackHost(host))
        {
            this.logger.LogWarning("The callback listener binds the non-loopback address {Host} because non-loopback binding was allowed: other machines may reach it.", host);
        }

        // https without a certificate: the hub makes an ad-hoc one (or reuses the one of a shared listener).
        return await this.Hub.AttachAsync(new LoopbackEndpoint(scheme, host, port, certificate, allowNonLoopback), target, tls.Option, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes every listener.</summary>
    /// <returns>A task that completes when every socket is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (this.hub.IsValueCreated)
        {
            await this.hub.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>A listener's PEM certificate pair, and the options that gave it (for errors).</summary>
/// <param name="CertFile">The PEM certificate file, or <see langword="null"/>.</param>
/// <param name="KeyFile">The PEM key file, or <see langword="null"/>.</param>
/// <param name="Option">The <see cref="CoreOption"/> of the TLS settings as a whole.</param>
/// <param name="CertFileOption">The <see cref="CoreOption"/> of the certificate file.</param>
/// <param name="KeyFileOption">The <see cref="CoreOption"/> of the key file.</param>
public sealed record ListenerTls(string? CertFile, string? KeyFile, string Option, string CertFileOption, string KeyFileOption);
