using System.Globalization;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>What <see cref="CallbackServerService.StartAsync"/> is asked for (callback.py's options).</summary>
public sealed class CallbackServerOptions
{
    /// <summary>Gets the host: <c>127.0.0.1</c> (default), <c>::1</c>, <c>localhost</c>, or another address with <see cref="AllowNonLoopback"/>.</summary>
    public string? Host { get; init; }

    /// <summary>Gets the port: 8080 by default (callback.py's), 0 for any free port.</summary>
    public int? Port { get; init; }

    /// <summary>Gets the path: <c>/callback</c> by default; <c>callback</c> is normalised to <c>/callback</c>.</summary>
    public string? Path { get; init; }

    /// <summary>Gets the scheme: <c>https</c> (default, with an ad-hoc certificate unless a PEM pair is given) or <c>http</c>.</summary>
    public string? Scheme { get; init; }

    /// <summary>Gets the PEM certificate file.</summary>
    public string? CertFile { get; init; }

    /// <summary>Gets the PEM key file.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Gets the pages shown in the browser.</summary>
    public CallbackPages? Pages { get; init; }

    /// <summary>Gets how long the server waits, in seconds (0 &lt; t ≤ 86,400; default 300).</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Gets a value indicating whether a non-loopback host may be bound.</summary>
    public bool AllowNonLoopback { get; init; }
}

/// <summary>
/// The standalone callback server (callback.py's <c>run_callback_server</c>): a listener that waits for one complete
/// callback (a code, tokens or an error) on its path, whatever its <c>state</c>.
/// </summary>
public sealed class CallbackServerService
{
    /// <summary>callback.py's default port.</summary>
    public const int DefaultPort = 8080;

    private readonly FlowRegistry flows;
    private readonly CallbackListeners listeners;
    private readonly SessionOptions options;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="CallbackServerService"/> class.</summary>
    /// <param name="flows">Where servers are kept (each is a flow).</param>
    /// <param name="listeners">Starts loopback listeners.</param>
    /// <param name="options">The engine's settings.</param>
    public CallbackServerService(FlowRegistry flows, CallbackListeners listeners, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(flows);
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentNullException.ThrowIfNull(options);
        this.flows = flows;
        this.listeners = listeners;
        this.options = options;
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
    }

    /// <summary>Starts a standalone callback server.</summary>
    /// <param name="serverOptions">Where and how to listen.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The server, named by its flow id.</returns>
    /// <exception cref="InvalidOptionException">A bad host, path, scheme or timeout.</exception>
    /// <exception cref="ListenFailedException">The port is in use, the host is not loopback, or the certificate files cannot be read.</exception>
    public async Task<CallbackServerFlow> StartAsync(CallbackServerOptions serverOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverOptions);
        string path = RedirectUris.NormalizePath(serverOptions.Path, CoreOption.ServerPath);
        string scheme = serverOptions.Scheme ?? "https";
        if (scheme is not ("http" or "https"))
        {
            throw new InvalidOptionException(CoreOption.ServerScheme, $"{{{CoreOption.ServerScheme}}} must be 'https' (the default) or 'http'.");
        }

        if (serverOptions.Port is < 0 or > 65535)
        {
            throw new InvalidOptionException(CoreOption.ServerPort, $"{{{CoreOption.ServerPort}}} must be between 0 (any free port) and 65535.");
        }

        TimeSpan lifetime = serverOptions.TimeoutSeconds is { } t
            ? (t is > 0 and <= 86_400 ? TimeSpan.FromSeconds(t) : throw new InvalidOptionException(CoreOption.ServerTimeout, $"{{{CoreOption.ServerTimeout}}} must be between 0 and 86400 seconds."))
            : this.options.InteractiveTimeout;
        var flow = new CallbackServerFlow("f_" + ProtocolRandom.Create(12), path, this.options.TimeProvider.GetUtcNow() + lifetime, serverOptions.Pages ?? CallbackPages.Default, this.options.Events);
        string host = serverOptions.Host ?? "127.0.0.1";
        var tls = new ListenerTls(serverOptions.CertFile, serverOptions.KeyFile, CoreOption.ServerTls, CoreOption.ServerCertFile, CoreOption.ServerKeyFile);
        LoopbackListener listener = await this.listeners.ListenAsync(flow, scheme, host, serverOptions.Port ?? DefaultPort, tls, serverOptions.AllowNonLoopback, cancellationToken).ConfigureAwait(false);
        flow.SetListener(this.listeners.Hub, listener);
        string hostInUrl = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? "[" + host + "]" : host;
        flow.Url = $"{scheme}://{hostInUrl}:{listener.Port.ToString(CultureInfo.InvariantCulture)}{path}";
        this.flows.Add(flow);
        this.logger.LogInformation("Callback server {FlowId} listening on {Url}.", flow.FlowId, flow.Url);
        return flow;
    }

    /// <summary>Stops a standalone callback server and closes its listener.</summary>
    /// <param name="flowId">The server's flow id.</param>
    /// <returns>A task that completes when it is stopped.</returns>
    /// <exception cref="UnknownHandleException">No such server.</exception>
    /// <exception cref="InvalidOptionException">The id names another kind of flow.</exception>
    public async Task StopAsync(string flowId)
    {
        CallbackServerFlow flow = this.flows.Get<CallbackServerFlow>(flowId);
        FlowState end = flow.Result is null ? FlowState.Cancelled : FlowState.Completed;
        await this.flows.EndAsync(flow, end, new FlowCancelledException(flowId), lingerListener: false).ConfigureAwait(false);
    }
}
