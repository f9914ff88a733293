using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// One loopback HTTP(S) listener on Kestrel. It receives authorization responses (RFC 6749 §4.1.2) for every
/// <see cref="ICallbackTarget"/> attached to it, routed by path and <c>state</c>, and answers <c>/health</c>.
/// </summary>
/// <remarks>
/// Defences: only loopback addresses unless asked otherwise; <c>localhost</c> is served on both 127.0.0.1 and ::1
/// or not at all (a browser that tries ::1 first must not reach another program); the <c>Host</c> header must name
/// the listener (DNS rebinding); bodies over 64 KiB are refused; headers, bodies, TLS handshakes and idle keep-alive
/// connections get a few seconds each (<see cref="IdleTimeout"/>); at most <see cref="ConnectionGuard.MaxConnections"/>
/// connections stay open and the oldest gives way to a new one (<see cref="ConnectionGuard"/>); a wrong path gets 404
/// and a wrong <c>state</c> an error page, and neither disturbs the flows waiting; every reply is
/// <c>Cache-Control: no-store</c> and <c>Referrer-Policy: no-referrer</c>.
/// </remarks>
public sealed class LoopbackListener : IAsyncDisposable
{
    /// <summary>The largest request body accepted, in bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>How many times port 0 is tried again when ::1 cannot take the port 127.0.0.1 got (localhost).</summary>
    private const int DualStackAttempts = 8;

    /// <summary>Gets how long a connection may take to send its headers, its body (at least 240 B/s after it), its TLS handshake, or stay idle between requests: 5 s.</summary>
    public static TimeSpan IdleTimeout { get; } = TimeSpan.FromSeconds(5);

    private readonly List<WebApplication> servers = [];
    private readonly CallbackRoutes routes = new();
    private readonly ILogger logger;
    private readonly TimeProvider timeProvider;
    private readonly HashSet<string> allowedHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConnectionGuard guard;
    private int disposed;

    private LoopbackListener(LoopbackEndpoint endpoint, ILogger logger, TimeProvider timeProvider)
    {
        this.Endpoint = endpoint;
        this.logger = logger;
        this.timeProvider = timeProvider;
        this.guard = new ConnectionGuard(logger);
    }

    /// <summary>Gets the connection cap's counters.</summary>
    public ConnectionGuard Connections => this.guard;

    /// <summary>Gets the endpoint as asked for (port possibly 0).</summary>
    public LoopbackEndpoint Endpoint { get; }

    /// <summary>Gets the port actually bound.</summary>
    public int Port { get; private set; }

    /// <summary>Gets the SHA-256 of the TLS certificate in lowercase hex, for <c>https</c> listeners.</summary>
    public string? CertificateSha256 =>
        this.Endpoint.Certificate is { } c ? Convert.ToHexStringLower(SHA256.HashData(c.RawData)) : null;

    /// <summary>Gets a task that completes when the listener has stopped and its sockets are closed (after <see cref="DisposeAsync"/>).</summary>
#pragma warning disable VSTHRD003 // A completion signal (TaskCompletionSource), not work started elsewhere.
    public Task Closed => this.closed.Task;
#pragma warning restore VSTHRD003

    /// <summary>Gets the number of targets attached.</summary>
    public int TargetCount => this.routes.Count;

    /// <summary>
    /// Binds and starts a listener. <c>localhost</c> binds 127.0.0.1 and ::1 on the same port.
    /// </summary>
    /// <param name="endpoint">Where to bind.</param>
    /// <param name="loggerFactory">Logging for the listener and Kestrel.</param>
    /// <param name="timeProvider">The clock for <see cref="CallbackResult.ReceivedAt"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running listener.</returns>
    /// <exception cref="ListenFailedException">The address is not loopback (and not allowed), or the port is in use, or binding failed.</exception>
    public static async Task<LoopbackListener> StartAsync(LoopbackEndpoint endpoint, ILoggerFactory loggerFactory, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        IPAddress[] addresses = endpoint.ResolveAddresses();
        var listener = new LoopbackListener(endpoint, loggerFactory.CreateLogger("OAuthSidecar.Loopback"), timeProvider);
        try
        {
            int port = await listener.BindAllAsync(addresses, loggerFactory, cancellationToken).ConfigureAwait(false);
            listener.Port = port;
            bool defaultPort = port == (endpoint.Scheme == "https" ? 443 : 80);
            foreach (string name in new[] { "127.0.0.1", "[::1]", "localhost", LoopbackEndpoint.FormatHost(endpoint.Host) })
            {
                listener.allowedHosts.Add(name + ":" + port.ToString(CultureInfo.InvariantCulture));
                if (defaultPort)
                {
                    listener.allowedHosts.Add(name); // browsers omit the scheme's default port
                }
            }

            listener.logger.LogDebug("Loopback listener started on {Scheme}://{Host}:{Port}.", endpoint.Scheme, endpoint.Host, port);
            return listener;
        }
        catch
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Attaches a target: callbacks on its path (and with its state) now reach it.</summary>
    /// <param name="target">The target.</param>
    public void Attach(ICallbackTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        this.routes.Add(target);
    }

    /// <summary>Detaches a target.</summary>
    /// <param name="target">The target.</param>
    /// <param name="remaining">The number of targets left.</param>
    /// <returns><see langword="true"/> when the target was attached.</returns>
    public bool Detach(ICallbackTarget target, out int remaining)
    {
        ArgumentNullException.ThrowIfNull(target);
        return this.routes.Remove(target, out remaining);
    }

    /// <summary>Gets or sets what happens when a callback completes a target (the hub detaches it a few seconds later).</summary>
    internal Action<ICallbackTarget>? Completed { get; set; }

    /// <summary>Stops listening and closes every connection, within about half a second.</summary>
    /// <returns>A task that completes when the sockets are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref this.disposed, 1) != 0)
        {
            return;
        }

        foreach (WebApplication server in this.servers)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                await server.StopAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException)
            {
                // Connections that did not close in time are aborted by DisposeAsync below.
            }

            await server.DisposeAsync().ConfigureAwait(false);
        }

        this.closed.TrySetResult();
    }

    // Binds every address on one port. localhost needs 127.0.0.1 and ::1 both (RFC 8252 §8.3: a browser may try
    // either first): with port 0, a port ::1 cannot take is given back and another tried; a fixed port taken on one
    // of them fails, naming which. Only a machine without IPv6 loopback is served on 127.0.0.1 alone.
    private async Task<int> BindAllAsync(IPAddress[] addresses, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = this.Endpoint.Port;
            try
            {
                foreach (IPAddress address in addresses)
                {
                    WebApplication server;
                    try
                    {
                        server = await this.StartServerAsync(address, port, loggerFactory, cancellationToken).ConfigureAwait(false);
                    }
                    catch (ListenFailedException ex) when (address.AddressFamily == AddressFamily.InterNetworkV6 && addresses.Length > 1 && ex.InnerException is not null && IsNoIpv6(ex.InnerException))
                    {
                        this.logger.LogInformation("localhost: this machine has no IPv6 loopback, so the callback listens on 127.0.0.1 only.");
                        continue;
                    }

                    this.servers.Add(server);
                    if (port == 0)
                    {
                        port = ReadPort(server);
                    }
                }

                return port;
            }
            catch (ListenFailedException) when (this.Endpoint.Port == 0 && this.servers.Count > 0 && attempt < DualStackAttempts)
            {
                await this.StopServersAsync().ConfigureAwait(false); // the other address family's port was taken: try another
            }
        }
    }

    private static bool IsNoIpv6(Exception ex) =>
        ex is SocketException { SocketErrorCode: SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable }
        || ex.InnerException is { } inner && IsNoIpv6(inner);

    private async Task StopServersAsync()
    {
        foreach (WebApplication server in this.servers)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        this.servers.Clear();
    }

    private static int ReadPort(WebApplication server)
    {
        string address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)).Port;
    }

    // Kestrel through the minimal (empty) web application builder: the supported way to get HTTPS with an
    // in-memory certificate, and NativeAOT-safe. One application per bound address.
    private async Task<WebApplication> StartServerAsync(IPAddress address, int port, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "oauth-sidecar" });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore();
        if (this.Endpoint.Certificate is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = MaxBodyBytes;
            options.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            options.Limits.MaxRequestLineSize = 16 * 1024;
            options.Limits.RequestHeadersTimeout = IdleTimeout;
            options.Limits.KeepAliveTimeout = IdleTimeout;
            options.Limits.MaxConcurrentConnections = null; // the guard caps them, closing the oldest instead of refusing the newest
            options.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: IdleTimeout);
            options.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(this.guard.Middleware);
                if (this.Endpoint.Certificate is { } certificate)
                {
                    listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions { ServerCertificate = certificate, HandshakeTimeout = IdleTimeout });
                }
            });
        });

        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidOperationException or CryptographicException)
        {
            throw new ListenFailedException(this.Endpoint.Host, port, $"The callback listener could not be configured: {ex.Message}", ex);
        }

        app.Run(this.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return app;
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException or CryptographicException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            bool inUse = ex is IOException { InnerException: AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } }
                or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse };
            string where = $"{LoopbackEndpoint.FormatHost(address.ToString())}:{port}";
            throw new ListenFailedException(
                this.Endpoint.Host,
                port,
                inUse
                    ? $"Port {port} on {LoopbackEndpoint.FormatHost(address.ToString())} is already in use by another program{(string.Equals(this.Endpoint.Host, "localhost", StringComparison.OrdinalIgnoreCase) ? " (localhost must be served on both 127.0.0.1 and [::1], or a browser that tries that one first would deliver the code to the other program; use 127.0.0.1 in the redirect URI)" : string.Empty)}. Choose another port, or use port 0 to let the system pick a free one."
                    : $"The callback listener could not bind {where}: {ex.Message}",
                ex);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        bool json = CallbackReply.WantsJson(request);

        if (!this.allowedHosts.Contains(request.Host.Value ?? string.Empty))
        {
            this.logger.LogWarning("A request to the callback listener named a foreign Host header and was refused (DNS rebinding protection).");
            await CallbackReply.WriteAsync(context, StatusCodes.Status421MisdirectedRequest, json, CallbackPages.RenderMessage("Wrong host", "This address does not serve sign-in responses."), new CallbackReply.Problem("invalid_host", "The Host header does not name this listener.")).ConfigureAwait(false);
            return;
        }

        string path = request.Path.Value ?? "/";
        if (path == "/health")
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync("OK", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (!this.routes.Serves(path))
        {
            await CallbackReply.WriteAsync(context, StatusCodes.Status404NotFound, json, CallbackPages.RenderMessage("Not found", "Nothing is served at this address."), new CallbackReply.Problem("not_found", "No sign-in listens on this path.")).ConfigureAwait(false);
            return;
        }

        bool isPost = HttpMethods.IsPost(request.Method);
        if (!isPost && !HttpMethods.IsGet(request.Method))
        {
            response.Headers.Allow = "GET, POST";
            await CallbackReply.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, json, CallbackPages.RenderMessage("Method not allowed", "Sign-in responses arrive by GET or POST."), new CallbackReply.Problem("method_not_allowed", "Use GET or POST.")).ConfigureAwait(false);
            return;
        }

        Dictionary<string, string> parameters = CallbackRequestReader.ReadQuery(request);
        if (isPost && await CallbackRequestReader.ReadBodyAsync(request, parameters, context.RequestAborted).ConfigureAwait(false) is { } refused)
        {
            await CallbackReply.WriteAsync(context, refused.Status, json, CallbackPages.RenderMessage("Bad request", refused.Reason), new CallbackReply.Problem("invalid_request", refused.Reason)).ConfigureAwait(false);
            return;
        }

        var result = new CallbackResult(parameters, isPost ? "POST" : "GET", path, this.timeProvider.GetUtcNow().ToUnixTimeSeconds());
        if (!result.IsComplete)
        {
            if (!isPost && !json)
            {
                // The response may be in the #fragment, which browsers never send: the bridge page re-posts it.
                await CallbackReply.WriteAsync(context, StatusCodes.Status200OK, json: false, CallbackPages.RenderBridge(), null).ConfigureAwait(false);
            }
            else
            {
                await CallbackReply.WriteAsync(context, StatusCodes.Status400BadRequest, json, CallbackPages.RenderMessage("No sign-in response", "This request carries no code, token or error."), new CallbackReply.Problem("invalid_request", "The request carries no code, token or error.")).ConfigureAwait(false);
            }

            return;
        }

        parameters.TryGetValue("state", out string? state);
        if (this.routes.Find(path, state) is not { } target)
        {
            this.logger.LogWarning("A callback on {Path} carried a state that matches no sign-in in progress; it was refused and the sign-in keeps waiting.", path);
            await CallbackReply.WriteAsync(context, StatusCodes.Status400BadRequest, json, CallbackPages.Default.RenderError("state_mismatch", "This response does not belong to any sign-in in progress. Close this window and start the sign-in again."), new CallbackReply.Problem("state_mismatch", "The state matches no sign-in in progress.")).ConfigureAwait(false);
            return;
        }

        if (target.TryComplete(result))
        {
            this.Completed?.Invoke(target);
        }
        else
        {
            result = target.Result ?? result; // later requests get the final page
        }

        if (result.Params.TryGetValue("error", out string? error))
        {
            result.Params.TryGetValue("error_description", out string? description);
            await CallbackReply.WriteAsync(context, StatusCodes.Status200OK, json, target.Pages.RenderError(error, description), result).ConfigureAwait(false);
        }
        else
        {
            await CallbackReply.WriteAsync(context, StatusCodes.Status200OK, json, target.Pages.RenderSuccess(), result).ConfigureAwait(false);
        }
    }
}
