using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Cli;

/// <summary>What <c>oauth-sidecar callback</c> was asked to do (callback.py's options).</summary>
/// <param name="Host">The address to listen on, or <see langword="null"/> for 127.0.0.1.</param>
/// <param name="Port">The port (0 = any free port).</param>
/// <param name="Path">The callback path, or <see langword="null"/> for <c>/callback</c>.</param>
/// <param name="TimeoutSeconds">How long to wait, in seconds.</param>
/// <param name="CertFile">A PEM certificate (with <paramref name="KeyFile"/>).</param>
/// <param name="KeyFile">The PEM private key of <paramref name="CertFile"/>.</param>
/// <param name="Https">HTTPS (the default) or plain HTTP (<c>--no-https</c>).</param>
/// <param name="SuccessHtml">The page shown after a successful callback.</param>
/// <param name="ErrorHtml">The page shown after an error callback.</param>
/// <param name="AllowNonLoopback">Whether a non-loopback host may be bound.</param>
internal sealed record CallbackArguments(string? Host, int Port, string? Path, double TimeoutSeconds, string? CertFile, string? KeyFile, bool Https, string? SuccessHtml, string? ErrorHtml, bool AllowNonLoopback);

/// <summary>
/// The command line of <c>oauth-sidecar</c>: one System.CommandLine tree for the host (<c>[stdio]</c>, the default),
/// <c>callback</c>, <c>token</c> and <c>schema</c>, with one help style. Help, the version and the schema go to the output
/// writer (stdout); a usage error is a sentence on the error writer (stderr) and exit code <see cref="UsageError"/>.
/// </summary>
internal sealed class CommandLine
{
    /// <summary>The exit code of a usage error (a bad option or value), as argparse and getopt programs use.</summary>
    public const int UsageError = 2;

    /// <summary>The default of <c>--max-message-bytes</c>: 4 MiB.</summary>
    public const long DefaultMaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>The least <c>--max-message-bytes</c> accepted.</summary>
    public const long MinMaxMessageBytes = 1024;

    /// <summary>The most <c>--max-message-bytes</c> accepted (1 GiB: a message is held in memory whole).</summary>
    public const long MaxMaxMessageBytes = 1L << 30;

    private readonly Option<string?> framing = new("--framing")
    {
        Description = "Message framing: LSP Content-Length headers, or one JSON message per line. [default: lsp]",
        HelpName = "lsp|newline",
        CustomParser = r => OneOf(r, "--framing", ["lsp", "newline"]),
    };

    private readonly Option<string?> storage = new("--storage")
    {
        Description = "The default credential store (README \"Credentials\"). [default: keyring]",
        HelpName = "keyring|file|memory",
        CustomParser = r => OneOf(r, "--storage", ["keyring", "file", "memory"]),
    };

    private readonly Option<string?> logLevel = new("--log-level")
    {
        Description = "The least severe log record written to stderr and window/logMessage. [default: info]",
        HelpName = "debug|info|warning|error",
        CustomParser = r => OneOf(r, "--log-level", ["debug", "info", "warning", "error"]),
    };

    private readonly Option<long> maxMessageBytes = new("--max-message-bytes")
    {
        Description = $"The largest message accepted, in bytes, from {MinMaxMessageBytes} to {MaxMaxMessageBytes}.",
        HelpName = "N",
        DefaultValueFactory = _ => DefaultMaxMessageBytes,
        CustomParser = ParseMaxMessageBytes,
    };

    private readonly Option<string?> host = new("--host") { Description = "The address to listen on; localhost means 127.0.0.1 and ::1. [default: 127.0.0.1]", HelpName = "HOST" };

    private readonly Option<int> port = new("--port")
    {
        Description = "The port; 0 lets the system pick a free one.",
        HelpName = "PORT",
        DefaultValueFactory = _ => 8080,
        CustomParser = ParsePort,
    };

    private readonly Option<string?> path = new("--path") { Description = "The callback path; \"callback\" is normalised to \"/callback\". [default: /callback]", HelpName = "PATH" };

    private readonly Option<double> timeout = new("--timeout")
    {
        Description = "How long to wait, in seconds; exit code 2 when it runs out.",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 180,
        CustomParser = ParseTimeout,
    };

    private readonly Option<string?> sslCert = new("--ssl-cert") { Description = "A PEM certificate (with --ssl-key).", HelpName = "FILE" };
    private readonly Option<string?> sslKey = new("--ssl-key") { Description = "The PEM private key of --ssl-cert.", HelpName = "FILE" };
    private readonly Option<bool> adhocSsl = new("--adhoc-ssl") { Description = "An in-memory self-signed certificate (the default without a PEM pair)." };
    private readonly Option<bool> noHttps = new("--no-https") { Description = "Plain HTTP instead of HTTPS." };
    private readonly Option<string?> successHtml = new("--success-html") { Description = "The page shown after a successful callback (a readable fallback if missing).", HelpName = "FILE" };
    private readonly Option<string?> errorHtml = new("--error-html") { Description = "The page shown after an error callback (a readable fallback if missing).", HelpName = "FILE" };
    private readonly Option<bool> allowNonLoopback = new("--allow-non-loopback") { Description = "Allow a non-loopback --host (e.g. 0.0.0.0 inside a container)." };
    private readonly Option<string?> server = new("--server") { Description = "Accepted for compatibility with callback.py and ignored.", HelpName = "NAME" };

    /// <summary>Initializes a new instance of the <see cref="CommandLine"/> class.</summary>
    /// <param name="serve">Serves JSON-RPC on stdio with the given options; returns the exit code.</param>
    /// <param name="callback">Runs the <c>callback</c> command; returns the exit code.</param>
    /// <param name="schema">Writes the OpenRPC document to the writer; returns the exit code.</param>
    /// <param name="version">The version <c>--version</c> prints.</param>
    /// <param name="token">Runs the <c>token</c> command; returns the exit code (<see cref="TokenCommand"/>).</param>
    public CommandLine(Func<HostOptions, CancellationToken, Task<int>> serve, Func<CallbackArguments, CancellationToken, Task<int>> callback, Func<TextWriter, CancellationToken, Task<int>> schema, string version, Func<TokenArguments, CancellationToken, Task<int>>? token = null)
    {
        // A Command, not a RootCommand: its name is "oauth-sidecar" however the program was started (dotnet
        // oauth-sidecar.dll, the NativeAOT binary, a test host), and it has no directives ([suggest], [diagram]), so
        // nothing but help, the version and the schema writes to stdout.
        this.Root = new Command("oauth-sidecar", "oauth-sidecar: an OAuth 2.0 / OpenID Connect helper driven over JSON-RPC 2.0 on stdio. stdout carries JSON-RPC only; diagnostics go to stderr.")
        {
            new HelpOption(),
            new VersionOption { Action = new WriteLineAction(version) },
        };

        Option[] hostOptions = [this.framing, this.storage, this.logLevel, this.maxMessageBytes];
        var stdio = new Command("stdio", "Serve JSON-RPC on stdin/stdout (the default command).");
        foreach (Option option in hostOptions)
        {
            this.Root.Options.Add(option);
            stdio.Options.Add(option);
        }

        this.Root.SetAction((result, token) => serve(this.HostOptionsOf(result), token));
        stdio.SetAction((result, token) => serve(this.HostOptionsOf(result), token));

        var callbackCommand = new Command("callback", "Wait for one OAuth callback and print it as one JSON line, as callback.py does: {\"params\":{…},\"method\":\"GET\",\"path\":\"/callback\",\"received_at\":1730000000}. Exit code 0 when it arrived, 2 on timeout, 1 on any other failure.");
        foreach (Option option in new Option[] { this.host, this.port, this.path, this.timeout, this.sslCert, this.sslKey, this.adhocSsl, this.noHttps, this.successHtml, this.errorHtml, this.allowNonLoopback, this.server })
        {
            callbackCommand.Options.Add(option);
        }

        callbackCommand.Validators.Add(result =>
        {
            if ((result.GetResult(this.sslCert) is null) != (result.GetResult(this.sslKey) is null))
            {
                result.AddError("--ssl-cert and --ssl-key go together.");
            }
        });
        callbackCommand.SetAction((result, token) => callback(this.CallbackArgumentsOf(result), token));

        var schemaCommand = new Command("schema", "Print the protocol as an OpenRPC 1.3 document.");
        schemaCommand.SetAction((result, token) => schema(result.InvocationConfiguration.Output, token));

        this.Root.Subcommands.Add(stdio);
        this.Root.Subcommands.Add(callbackCommand);
        this.Root.Subcommands.Add(schemaCommand);
        this.TokenCommandOptions = new TokenOptions(token ?? ((_, _) => Task.FromResult(TokenCommand.Failed)));
        this.Root.Subcommands.Add(this.TokenCommandOptions.Command);
    }

    /// <summary>Gets the command tree.</summary>
    public Command Root { get; }

    /// <summary>Gets the <c>token</c> command's options.</summary>
    public TokenOptions TokenCommandOptions { get; }

    /// <summary>Parses a command line (no response files: an argument starting with <c>@</c> is a value).</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The parse result; <see cref="ParseResult.Errors"/> lists usage errors.</returns>
    public ParseResult Parse(IReadOnlyList<string> args) => this.Root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Where help, the version and the schema go (stdout).</param>
    /// <param name="error">Where usage errors go (stderr).</param>
    /// <param name="cancellationToken">Passed to the command.</param>
    /// <returns>The exit code: the command's, or <see cref="UsageError"/>.</returns>
    public async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        ParseResult result = this.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (ParseError problem in result.Errors)
            {
                await error.WriteLineAsync(problem.Message).ConfigureAwait(false);
            }

            string command = result.CommandResult.Command == this.Root ? "oauth-sidecar" : "oauth-sidecar " + result.CommandResult.Command.Name;
            await error.WriteLineAsync($"Run '{command} --help' for the options.").ConfigureAwait(false);

            // token's exit code 2 means "timed out": a usage error there is an error like any other (1).
            return result.CommandResult.Command == this.TokenCommandOptions.Command ? TokenCommand.Failed : UsageError;
        }

        // No SIGINT/SIGTERM handling of System.CommandLine's: the host ends as it always did.
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        int code = await result.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return code;
    }

    /// <summary>Reads the host's options from a parse result of the root or <c>stdio</c> command.</summary>
    /// <param name="result">The parse result.</param>
    /// <returns>The options.</returns>
    public HostOptions HostOptionsOf(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new HostOptions
        {
            Framing = result.GetValue(this.framing) == "newline" ? Framing.Newline : Framing.Lsp,
            Storage = result.GetValue(this.storage),
            LogLevel = result.GetValue(this.logLevel) switch
            {
                "debug" => LogLevel.Debug,
                "warning" => LogLevel.Warning,
                "error" => LogLevel.Error,
                _ => LogLevel.Information,
            },
            MaxMessageBytes = result.GetValue(this.maxMessageBytes),
        };
    }

    /// <summary>Reads the <c>callback</c> command's options from a parse result.</summary>
    /// <param name="result">The parse result.</param>
    /// <returns>The arguments.</returns>
    public CallbackArguments CallbackArgumentsOf(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new CallbackArguments(
            result.GetValue(this.host),
            result.GetValue(this.port),
            result.GetValue(this.path),
            result.GetValue(this.timeout),
            result.GetValue(this.sslCert),
            result.GetValue(this.sslKey),
            !result.GetValue(this.noHttps),
            result.GetValue(this.successHtml),
            result.GetValue(this.errorHtml),
            result.GetValue(this.allowNonLoopback));
    }

    private static string? Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : null;

    /// <summary>Reads an option that takes one of a few words, with a sentence listing them otherwise.</summary>
    /// <param name="result">The option's argument.</param>
    /// <param name="option">The option's name.</param>
    /// <param name="values">The words.</param>
    /// <returns>The word, or <see langword="null"/> when absent.</returns>
    internal static string? OneOf(ArgumentResult result, string option, string[] values)
    {
        string? value = Token(result);
        if (value is not null && !values.Contains(value, StringComparer.Ordinal))
        {
            result.AddError($"{option} takes {string.Join(", ", values.SkipLast(1).Select(v => $"'{v}'"))} or '{values[^1]}', not '{value}'.");
        }

        return value;
    }

    private static long ParseMaxMessageBytes(ArgumentResult result)
    {
        string? text = Token(result);
        if (text is null)
        {
            return DefaultMaxMessageBytes;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) || bytes is < MinMaxMessageBytes or > MaxMaxMessageBytes)
        {
            result.AddError($"--max-message-bytes takes a number of bytes from {MinMaxMessageBytes} to {MaxMaxMessageBytes}, not '{text}'.");
            return DefaultMaxMessageBytes;
        }

        return bytes;
    }

    private static int ParsePort(ArgumentResult result)
    {
        string? text = Token(result);
        if (text is null)
        {
            return 8080;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value > 65535)
        {
            result.AddError($"--port takes a port number from 0 to 65535, not '{text}'.");
            return 8080;
        }

        return value;
    }

    private static double ParseTimeout(ArgumentResult result) => ParseSeconds(result, 180);

    /// <summary>Reads <c>--timeout</c>: seconds greater than 0 (and at most <paramref name="max"/>), <paramref name="defaultValue"/> when not given.</summary>
    /// <param name="result">The option's tokens; a bad value adds a sentence to its errors.</param>
    /// <param name="defaultValue">The seconds when the option is not given or is bad.</param>
    /// <param name="max">The largest value allowed, or <see langword="null"/> for no limit.</param>
    /// <returns>The seconds.</returns>
    internal static double ParseSeconds(ArgumentResult result, double defaultValue, double? max = null)
    {
        string? text = Token(result);
        if (text is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !double.IsFinite(seconds) || seconds <= 0 || seconds > max)
        {
            result.AddError($"--timeout takes a number of seconds greater than 0{(max is { } m ? $" and at most {m.ToString(CultureInfo.InvariantCulture)}" : string.Empty)}, not '{text}'.");
            return defaultValue;
        }

        return seconds;
    }

    /// <summary>Writes one line to the output: <c>--version</c>.</summary>
    private sealed class WriteLineAction(string text) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(text);
            return 0;
        }
    }
}
