using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.OAuth;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>Settings of the stdio JSON-RPC host.</summary>
internal sealed class HostOptions
{
    public Framing Framing { get; init; } = Framing.Lsp;

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public long MaxMessageBytes { get; init; } = 4 * 1024 * 1024;

    public string? Storage { get; init; }
}

/// <summary>
/// Serves JSON-RPC 2.0 on stdin/stdout until <c>exit</c> or the end of stdin, then closes every listener.
/// </summary>
internal static class StdioHost
{
    public static async Task<int> RunAsync(HostOptions options, Stream input, Stream output, TextWriter diagnostics)
    {
        // Building the RPC target's metadata walks custom attributes by reflection (about a millisecond, a tenth of
        // a NativeAOT start): it runs on another core while the rest is set up.
        Task<RpcTargetMetadata> metadata = Task.Run(RpcTargetMetadata.FromShape<ISidecarRpc>);
        var redactor = new SecretRedactor();
        using var loggerProvider = new RpcLoggerProvider(redactor, options.LogLevel, diagnostics);
        using var loggerFactory = new LoggerFactory([loggerProvider], new LoggerFilterOptions { MinLevel = options.LogLevel });
        ILogger logger = loggerFactory.CreateLogger("OAuthSidecar");

        var formatter = CreateFormatter();
        var handler = new StdioMessageHandler(StdioPipes.StartReader(input, options.MaxMessageBytes), StdioPipes.CreateWriter(output), formatter, options.Framing, options.MaxMessageBytes);
        using var rpc = new SidecarJsonRpc(handler, redactor, logger)
        {
            CancelLocallyInvokedMethodsWhenConnectionIsClosed = true,
        };

        var lifecycle = new Lifecycle();
        await using var session = new OAuthSession(new SessionOptions
        {
            LoggerFactory = loggerFactory,
            Redactor = redactor,
            Events = new RpcNotifier(rpc, logger),
            DefaultStorage = options.Storage ?? "keyring",
        });
        var target = new SidecarRpcTarget(session, lifecycle, logger, new SystemBrowser());
        target.Attach(rpc);
        rpc.AddLocalRpcTarget(await metadata.ConfigureAwait(false), target, null);
        rpc.StartListening();
        loggerProvider.Attach(rpc);

        Task finished = await Task.WhenAny(rpc.Completion, lifecycle.ExitRequested).ConfigureAwait(false);
        int exitCode = finished == lifecycle.ExitRequested ? await lifecycle.ExitRequested.ConfigureAwait(false) : 0;
        loggerProvider.Dispose();
        if (finished == rpc.Completion && rpc.Completion.IsFaulted)
        {
            await diagnostics.WriteLineAsync($"The connection ended with an error: {rpc.Completion.Exception?.InnerException?.Message}").ConfigureAwait(false);
        }

        return exitCode;
    }

    /// <summary>Creates the message formatter: System.Text.Json with the source-generated context, never Newtonsoft.</summary>
    /// <returns>The formatter.</returns>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Every user type is in SidecarJsonContext (source generated); no reflection-based serialization happens.")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Every user type is in SidecarJsonContext (source generated); no reflection-based serialization happens.")]
    public static SystemTextJsonFormatter CreateFormatter()
    {
        var formatter = new SystemTextJsonFormatter();
        formatter.JsonSerializerOptions = RequiredMembers.Enforce(SidecarJsonContext.CreateOptions());
        return formatter;
    }
}
