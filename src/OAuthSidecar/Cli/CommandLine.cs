using System.Globalization;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Cli;

/// <summary>The parsed command line.</summary>
internal sealed class CommandLine
{
    public const string Usage = """
        oauth-sidecar — an OAuth 2.0 / OpenID Connect helper driven over JSON-RPC 2.0 on stdio.

        Usage:
          oauth-sidecar [stdio] [options]     serve JSON-RPC on stdin/stdout (the default)
          oauth-sidecar callback [options]    wait for one OAuth callback, print it as JSON (callback.py; --help for its options)
          oauth-sidecar schema                print the protocol as an OpenRPC 1.3 document
          oauth-sidecar --version             print the version
          oauth-sidecar --help                print this help

        Options (stdio):
          --framing lsp|newline      message framing: LSP Content-Length headers (default) or one JSON message per line
          --storage keyring|file|memory
                                     default credential store (default keyring; see README "Credentials")
          --log-level debug|info|warning|error
                                     least severe log record written to stderr and window/logMessage (default info)
          --max-message-bytes N      largest message accepted (default 4194304)

        stdout carries JSON-RPC only; diagnostics go to stderr.
        """;

    public string Command { get; private init; } = "stdio";

    public HostOptions Host { get; private init; } = new();

    public string? Error { get; private init; }

    public static CommandLine Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string command = "stdio";
        Framing framing = Framing.Lsp;
        LogLevel level = LogLevel.Information;
        long maxBytes = 4 * 1024 * 1024;
        string? storage = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (arg)
            {
                case "stdio" when i == 0:
                    break;
                case "--help" or "-h":
                    return new CommandLine { Command = "help" };
                case "--version":
                    return new CommandLine { Command = "version" };
                case "schema" when i == 0:
                    return new CommandLine { Command = "schema" };
                case "--framing":
                    string? f = Next();
                    if (f is not ("lsp" or "newline"))
                    {
                        return Fail($"--framing takes 'lsp' or 'newline', not '{f}'.");
                    }

                    framing = f == "lsp" ? Framing.Lsp : Framing.Newline;
                    break;
                case "--storage":
                    storage = Next();
                    if (storage is not ("keyring" or "file" or "memory"))
                    {
                        return Fail($"--storage takes 'keyring', 'file' or 'memory', not '{storage}'.");
                    }

                    break;
                case "--log-level":
                    string? l = Next();
                    LogLevel? parsed = l switch
                    {
                        "debug" => LogLevel.Debug,
                        "info" => LogLevel.Information,
                        "warning" => LogLevel.Warning,
                        "error" => LogLevel.Error,
                        _ => null,
                    };
                    if (parsed is null)
                    {
                        return Fail($"--log-level takes debug, info, warning or error, not '{l}'.");
                    }

                    level = parsed.Value;
                    break;
                case "--max-message-bytes":
                    if (!long.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out maxBytes) || maxBytes < 1024)
                    {
                        return Fail("--max-message-bytes takes a number of bytes, at least 1024.");
                    }

                    break;
                default:
                    return Fail($"Unknown argument '{arg}'. Run oauth-sidecar --help.");
            }
        }

        return new CommandLine
        {
            Command = command,
            Host = new HostOptions { Framing = framing, LogLevel = level, MaxMessageBytes = maxBytes, Storage = storage },
        };
    }

    private static CommandLine Fail(string message) => new() { Command = "error", Error = message };
}
