using Microsoft.Extensions.Logging;
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
        await using SidecarServer server = await SidecarServer.StartAsync(StdioPipes.StartReader(input, options.MaxMessageBytes), StdioPipes.CreateWriter(output), options, diagnostics).ConfigureAwait(false);
        return await server.RunAsync(diagnostics).ConfigureAwait(false);
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
