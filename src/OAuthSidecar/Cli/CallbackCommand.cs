using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Cli;

/// <summary>
/// <c>oauth-sidecar callback</c>: a drop-in for callback.py's command line. Waits for one OAuth callback and prints
/// one JSON line in callback.py's shape on stdout: <c>{"params":{…},"method":"GET","path":"/callback","received_at":1730000000}</c>.
/// Exit codes: 0 received, 2 timeout, 1 any other failure (with a sentence on stderr); a usage error is 2 as well
/// (<see cref="CommandLine.UsageError"/>, argparse's code), reported before anything starts.
/// </summary>
internal static class CallbackCommand
{
    private const double ServerGraceSeconds = 5;

    /// <summary>Runs the command.</summary>
    /// <param name="arguments">The parsed options (see <see cref="CommandLine"/>).</param>
    /// <param name="stdout">Where the JSON line goes.</param>
    /// <param name="stderr">Where the progress line and failures go.</param>
    /// <returns>The exit code: 0 received, 2 timeout, 1 any other failure.</returns>
    public static async Task<int> RunAsync(CallbackArguments arguments, Stream stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        double timeout = arguments.TimeoutSeconds;

        // The server outlives the wait by a few seconds, so the wait's own timeout ends it (exit code 2); with the
        // same lifetime, the server's expiry could win the race and the wait would find no flow (exit code 1).
        double lifetime = timeout + ServerGraceSeconds;
        var redactor = new SecretRedactor();
        using var loggerProvider = new RpcLoggerProvider(redactor, LogLevel.Warning, stderr);
        using var loggerFactory = new LoggerFactory([loggerProvider]);
        await using var session = new OAuthSession(new SessionOptions { LoggerFactory = loggerFactory, Redactor = redactor, InteractiveTimeout = TimeSpan.FromSeconds(lifetime) });
        try
        {
            CallbackServerFlow server = await session.CallbackServers.StartAsync(
                new CallbackServerOptions
                {
                    Host = arguments.Host,
                    Port = arguments.Port,
                    Path = arguments.Path,
                    Scheme = arguments.Https ? "https" : "http",
                    CertFile = arguments.CertFile,
                    KeyFile = arguments.KeyFile,
                    Pages = CallbackPages.Load(arguments.SuccessHtml, arguments.ErrorHtml, null, null, loggerFactory.CreateLogger("OAuthSidecar.Callback")),
                    TimeoutSeconds = lifetime,
                    AllowNonLoopback = arguments.AllowNonLoopback,
                },
                CancellationToken.None).ConfigureAwait(false);
            string fingerprint = server.Listener?.CertificateSha256 is { } sha ? $" (certificate SHA-256 {sha})" : string.Empty;
            await stderr.WriteLineAsync($"Waiting for the callback on {server.Url}{fingerprint}, for {timeout.ToString(CultureInfo.InvariantCulture)} s.").ConfigureAwait(false);

            CallbackResult result = await session.AuthCode.WaitForCallbackAsync(server.FlowId, timeout, CancellationToken.None).ConfigureAwait(false);
            await stdout.WriteAsync(Serialize(result)).ConfigureAwait(false);
            await stdout.FlushAsync().ConfigureAwait(false);

            // Keep serving a moment so the browser's final page (and a bridge page's re-post) finishes loading.
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return 0;
        }
        catch (FlowTimeoutException)
        {
            await stderr.WriteLineAsync($"No callback arrived within {timeout.ToString(CultureInfo.InvariantCulture)} s.").ConfigureAwait(false);
            return 2;
        }
        catch (SidecarException ex)
        {
            await stderr.WriteLineAsync(ex is InvalidOptionException invalid ? WireNames.Message(invalid) : ex.Message).ConfigureAwait(false);
            return 1;
        }
    }

    private static byte[] Serialize(CallbackResult result)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("params");
            foreach (KeyValuePair<string, string> pair in result.Params)
            {
                writer.WriteString(pair.Key, pair.Value);
            }

            writer.WriteEndObject();
            writer.WriteString("method", result.Method);
            writer.WriteString("path", result.Path);
            writer.WriteNumber("received_at", result.ReceivedAt);
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }
}
