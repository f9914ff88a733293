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
/// Exit codes: 0 received, 2 timeout, 1 any other failure (with a sentence on stderr).
/// </summary>
internal static class CallbackCommand
{
    public const string Usage = """
        oauth-sidecar callback — wait for one OAuth callback and print it as one JSON line (callback.py's command line).

        Options:
          --host HOST            address to listen on (default 127.0.0.1; localhost = 127.0.0.1 and ::1)
          --port PORT            port (default 8080; 0 = any free port)
          --path PATH            callback path (default /callback; "callback" is normalised to "/callback")
          --timeout SECONDS      how long to wait (default 180); exit code 2 when it runs out
          --ssl-cert FILE        PEM certificate (with --ssl-key)
          --ssl-key FILE         PEM private key
          --adhoc-ssl            an in-memory self-signed certificate (the default when no PEM pair is given)
          --no-https             plain HTTP instead of HTTPS
          --success-html FILE    page shown after a successful callback (readable fallback if missing)
          --error-html FILE      page shown after an error callback (readable fallback if missing)
          --allow-non-loopback   allow a non-loopback --host (e.g. 0.0.0.0 inside a container)
          --server NAME          accepted for compatibility with callback.py and ignored

        Output: {"params":{…},"method":"GET","path":"/callback","received_at":1730000000} on stdout, exit 0.
        """;

    public static async Task<int> RunAsync(string[] args, Stream stdout, TextWriter stderr)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        string[] valued = ["--host", "--port", "--path", "--timeout", "--ssl-cert", "--ssl-key", "--success-html", "--error-html", "--server"];
        string[] flags = ["--adhoc-ssl", "--no-https", "--allow-non-loopback"];
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? inline = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            if (arg is "--help" or "-h")
            {
                await stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(Usage + Environment.NewLine)).ConfigureAwait(false);
                return 0;
            }

            if (valued.Contains(arg))
            {
                string? value = inline ?? (i + 1 < args.Length ? args[++i] : null);
                if (value is null)
                {
                    await stderr.WriteLineAsync($"{arg} needs a value. Run oauth-sidecar callback --help.").ConfigureAwait(false);
                    return 1;
                }

                options[arg] = value;
            }
            else if (flags.Contains(arg))
            {
                options[arg] = "true";
            }
            else
            {
                await stderr.WriteLineAsync($"Unknown argument '{args[i]}'. Run oauth-sidecar callback --help.").ConfigureAwait(false);
                return 1;
            }
        }

        if (!TryNumber(options, "--port", 8080, out double port) || port is < 0 or > 65535 || port != Math.Floor(port))
        {
            await stderr.WriteLineAsync("--port takes a port number from 0 to 65535.").ConfigureAwait(false);
            return 1;
        }

        if (!TryNumber(options, "--timeout", 180, out double timeout) || timeout <= 0)
        {
            await stderr.WriteLineAsync("--timeout takes a number of seconds greater than 0.").ConfigureAwait(false);
            return 1;
        }

        if (options.ContainsKey("--ssl-cert") != options.ContainsKey("--ssl-key"))
        {
            await stderr.WriteLineAsync("--ssl-cert and --ssl-key go together.").ConfigureAwait(false);
            return 1;
        }

        var redactor = new SecretRedactor();
        using var loggerProvider = new RpcLoggerProvider(redactor, LogLevel.Warning, stderr);
        using var loggerFactory = new LoggerFactory([loggerProvider]);
        await using var session = new OAuthSession(new SessionOptions { LoggerFactory = loggerFactory, Redactor = redactor, InteractiveTimeout = TimeSpan.FromSeconds(timeout) });
        try
        {
            CallbackServerFlow server = await session.CallbackServers.StartAsync(
                new CallbackServerOptions
                {
                    Host = options.GetValueOrDefault("--host"),
                    Port = (int)port,
                    Path = options.GetValueOrDefault("--path"),
                    Scheme = options.ContainsKey("--no-https") ? "http" : "https",
                    CertFile = options.GetValueOrDefault("--ssl-cert"),
                    KeyFile = options.GetValueOrDefault("--ssl-key"),
                    Pages = CallbackPages.Load(options.GetValueOrDefault("--success-html"), options.GetValueOrDefault("--error-html"), null, null, loggerFactory.CreateLogger("OAuthSidecar.Callback")),
                    TimeoutSeconds = timeout,
                    AllowNonLoopback = options.ContainsKey("--allow-non-loopback"),
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

    private static bool TryNumber(Dictionary<string, string?> options, string name, double fallback, out double value)
    {
        if (!options.TryGetValue(name, out string? text) || text is null)
        {
            value = fallback;
            return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
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
