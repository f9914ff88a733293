using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.OAuth;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// One JSON-RPC server of the sidecar over a pair of pipes: the framing handler, the connection, the engine and the
/// RPC target, wired together. <see cref="StdioHost"/> runs one on stdin/stdout; tests run one on in-memory
/// <see cref="Pipe"/>s with a stub HTTP handler and a fake clock.
/// </summary>
internal sealed class SidecarServer : IAsyncDisposable
{
    private readonly RpcLoggerProvider loggerProvider;
    private readonly LoggerFactory loggerFactory;
    private readonly SystemBrowser browser;

    private SidecarServer(RpcLoggerProvider loggerProvider, LoggerFactory loggerFactory, SystemBrowser browser, StdioMessageHandler handler, SidecarJsonRpc rpc, OAuthSession session, SidecarRpcTarget target, Lifecycle lifecycle)
    {
        this.loggerProvider = loggerProvider;
        this.loggerFactory = loggerFactory;
        this.browser = browser;
        this.Handler = handler;
        this.Rpc = rpc;
        this.Session = session;
        this.Target = target;
        this.Lifecycle = lifecycle;
    }

    public StdioMessageHandler Handler { get; }

    public SidecarJsonRpc Rpc { get; }

    public OAuthSession Session { get; }

    public SidecarRpcTarget Target { get; }

    public Lifecycle Lifecycle { get; }

    /// <summary>Builds and starts a server.</summary>
    /// <param name="reader">Where requests arrive.</param>
    /// <param name="writer">Where responses and notifications go.</param>
    /// <param name="options">Framing, log level, message limit, default storage.</param>
    /// <param name="diagnostics">Where logs go (stderr).</param>
    /// <param name="engine">Engine settings other than logging, redaction and events (a stub HTTP handler, a fake clock in tests), or <see langword="null"/>.</param>
    /// <returns>The running server.</returns>
    public static async Task<SidecarServer> StartAsync(PipeReader reader, PipeWriter writer, HostOptions options, TextWriter diagnostics, SessionOptions? engine = null)
    {
        // Building the RPC target's metadata walks custom attributes by reflection (about a millisecond, a tenth of
        // a NativeAOT start): it runs on another core while the rest is set up.
        Task<RpcTargetMetadata> metadata = Task.Run(RpcTargetMetadata.FromShape<ISidecarRpc>);
        var redactor = new SecretRedactor();
        var loggerProvider = new RpcLoggerProvider(redactor, options.LogLevel, diagnostics);
        var loggerFactory = new LoggerFactory([loggerProvider], new LoggerFilterOptions { MinLevel = options.LogLevel });
        ILogger logger = loggerFactory.CreateLogger("OAuthSidecar");

        var guard = new JsonRpcSessionGuard(warning => logger.LogWarning("{Warning}", warning));
        var handler = new StdioMessageHandler(reader, writer, StdioHost.CreateFormatter(), options.Framing, options.MaxMessageBytes, guard);
        var rpc = new SidecarJsonRpc(handler, redactor, logger) { CancelLocallyInvokedMethodsWhenConnectionIsClosed = true };
        var lifecycle = new Lifecycle();
        engine ??= new SessionOptions();
        var session = new OAuthSession(new SessionOptions
        {
            LoggerFactory = loggerFactory,
            Redactor = redactor,
            Events = new RpcNotifier(rpc, logger, redactor),
            TimeProvider = engine.TimeProvider,
            InteractiveTimeout = engine.InteractiveTimeout,
            HttpHandlerFactory = engine.HttpHandlerFactory,
            DataDirectory = engine.DataDirectory,
        });
        var browser = new SystemBrowser();
        var target = new SidecarRpcTarget(session, lifecycle, logger, new BrowserOpener(browser, logger), ProtocolMapping.ParseStorage(options.Storage ?? "keyring"));
        target.Attach(rpc);
        rpc.AddLocalRpcTarget(await metadata.ConfigureAwait(false), target, null);
        rpc.StartListening();
        loggerProvider.Attach(rpc);
        return new SidecarServer(loggerProvider, loggerFactory, browser, handler, rpc, session, target, lifecycle);
    }

    /// <summary>Serves until <c>exit</c> or the end of input.</summary>
    /// <param name="diagnostics">Where a broken connection is reported.</param>
    /// <returns>The exit code: 0 after <c>shutdown</c> then <c>exit</c> or at the end of input, 1 for <c>exit</c> without <c>shutdown</c>.</returns>
    public async Task<int> RunAsync(TextWriter diagnostics)
    {
#pragma warning disable VSTHRD003 // Completion signals of the connection and the lifecycle, not work started elsewhere.
        Task finished = await Task.WhenAny(this.Rpc.Completion, this.Lifecycle.ExitRequested).ConfigureAwait(false);
        int exitCode = finished == this.Lifecycle.ExitRequested ? await this.Lifecycle.ExitRequested.ConfigureAwait(false) : 0;
#pragma warning restore VSTHRD003
        this.loggerProvider.Dispose();
        if (finished == this.Rpc.Completion && this.Rpc.Completion.IsFaulted)
        {
            await diagnostics.WriteLineAsync($"The connection ended with an error: {this.Rpc.Completion.Exception?.InnerException?.Message}").ConfigureAwait(false);
        }

        return exitCode;
    }

    /// <summary>Ends every flow, closes every listener and the connection.</summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await this.Session.DisposeAsync().ConfigureAwait(false);
        this.browser.Dispose();
        this.Rpc.Dispose();
        this.loggerProvider.Dispose();
        this.loggerFactory.Dispose();
    }
}
