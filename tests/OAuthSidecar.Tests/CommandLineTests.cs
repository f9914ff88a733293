using System.CommandLine;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Cli;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Tests;

/// <summary>In process: the command line (System.CommandLine) of the host, callback and schema.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task No_arguments_serve_stdio_with_the_defaults()
    {
        var run = new Recorder();

        Assert.Equal(0, await run.RunAsync());

        HostOptions options = Assert.IsType<HostOptions>(run.Host);
        Assert.Equal(Framing.Lsp, options.Framing);
        Assert.Equal(LogLevel.Information, options.LogLevel);
        Assert.Equal(4L * 1024 * 1024, options.MaxMessageBytes);
        Assert.Null(options.Storage);
        Assert.Equal(string.Empty, run.Output.ToString());
        Assert.Equal(string.Empty, run.Error.ToString());
    }

    [Theory]
    [InlineData("--framing newline --storage memory --log-level debug --max-message-bytes 65536")]
    [InlineData("stdio --framing newline --storage memory --log-level debug --max-message-bytes 65536")]
    [InlineData("--framing=newline --storage=memory --log-level=debug --max-message-bytes=65536")]
    [InlineData("--log-level debug --max-message-bytes 65536 stdio --storage memory --framing newline")]
    public async Task Host_options_are_read_with_or_without_stdio(string line)
    {
        var run = new Recorder();

        Assert.Equal(0, await run.RunAsync(line.Split(' ')));

        HostOptions options = Assert.IsType<HostOptions>(run.Host);
        Assert.Equal(Framing.Newline, options.Framing);
        Assert.Equal("memory", options.Storage);
        Assert.Equal(LogLevel.Debug, options.LogLevel);
        Assert.Equal(65536, options.MaxMessageBytes);
    }

    [Theory]
    [InlineData(new[] { "--max-message-bytes", "9223372036854775807" }, "--max-message-bytes takes a number of bytes from 1024 to 1073741824, not '9223372036854775807'.")]
    [InlineData(new[] { "--max-message-bytes", "99999999999999999999" }, "--max-message-bytes takes a number of bytes from 1024 to 1073741824, not '99999999999999999999'.")]
    [InlineData(new[] { "--max-message-bytes", "1023" }, "--max-message-bytes takes a number of bytes from 1024 to 1073741824, not '1023'.")]
    [InlineData(new[] { "--max-message-bytes", "-5" }, "--max-message-bytes takes a number of bytes")]
    [InlineData(new[] { "--framing", "xml" }, "--framing takes 'lsp' or 'newline', not 'xml'.")]
    [InlineData(new[] { "--storage", "cloud" }, "--storage takes 'keyring', 'file' or 'memory', not 'cloud'.")]
    [InlineData(new[] { "--log-level", "verbose" }, "--log-level takes 'debug', 'info', 'warning' or 'error', not 'verbose'.")]
    [InlineData(new[] { "--framing" }, "--framing")]
    [InlineData(new[] { "--no-such-option" }, "--no-such-option")]
    [InlineData(new[] { "schema", "--framing", "lsp" }, "--framing")]
    [InlineData(new[] { "callback", "--port", "x" }, "--port takes a port number from 0 to 65535, not 'x'.")]
    [InlineData(new[] { "callback", "--port", "65536" }, "--port takes a port number from 0 to 65535, not '65536'.")]
    [InlineData(new[] { "callback", "--port", "99999999999999" }, "--port takes a port number from 0 to 65535")]
    [InlineData(new[] { "callback", "--timeout", "0" }, "--timeout takes a number of seconds greater than 0, not '0'.")]
    [InlineData(new[] { "callback", "--timeout", "NaN" }, "--timeout takes a number of seconds greater than 0, not 'NaN'.")]
    [InlineData(new[] { "callback", "--ssl-cert", "cert.pem" }, "--ssl-cert and --ssl-key go together.")]
    [InlineData(new[] { "callback", "--framing", "lsp" }, "--framing")]
    public async Task A_usage_error_is_a_sentence_on_stderr_and_exit_code_2_and_nothing_runs(string[] args, string sentence)
    {
        var run = new Recorder();

        Assert.Equal(2, await run.RunAsync(args));

        Assert.Contains(sentence, run.Error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--help' for the options.", run.Error.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Output.ToString()); // stdout is the protocol
        Assert.Null(run.Host);
        Assert.Null(run.Callback);
        Assert.False(run.SchemaWritten);
    }

    [Fact]
    public async Task Callback_options_follow_callback_py()
    {
        var run = new Recorder();

        Assert.Equal(0, await run.RunAsync(
            "callback", "--host", "0.0.0.0", "--port=0", "--path", "callback", "--timeout", "2.5", "--ssl-cert", "c.pem", "--ssl-key", "k.pem",
            "--adhoc-ssl", "--success-html", "ok.html", "--error-html", "bad.html", "--allow-non-loopback", "--server", "auto"));

        Assert.Equal(new CallbackArguments("0.0.0.0", 0, "callback", 2.5, "c.pem", "k.pem", true, "ok.html", "bad.html", true), run.Callback);
        Assert.Null(run.Host);
    }

    [Fact]
    public async Task Callback_defaults_are_callback_py_s()
    {
        var run = new Recorder();

        Assert.Equal(0, await run.RunAsync("callback", "--no-https"));

        Assert.Equal(new CallbackArguments(null, 8080, null, 180, null, null, false, null, null, false), run.Callback);
    }

    [Fact]
    public async Task An_argument_starting_with_at_is_a_value_not_a_response_file()
    {
        var run = new Recorder();

        Assert.Equal(0, await run.RunAsync("callback", "--path", "@callback"));

        Assert.Equal("@callback", run.Callback!.Path);
    }

    [Fact]
    public async Task Help_goes_to_stdout_in_one_style_for_every_command()
    {
        var root = new Recorder();
        Assert.Equal(0, await root.RunAsync("--help"));
        string help = root.Output.ToString();
        foreach (string expected in new[] { "Usage:", "oauth-sidecar [command] [options]", "--framing <lsp|newline>", "--storage <keyring|file|memory>", "--log-level <debug|info|warning|error>", "--max-message-bytes <N>", "--version", "callback", "schema", "stdio", "stdout carries JSON-RPC only" })
        {
            Assert.Contains(expected, help, StringComparison.Ordinal);
        }

        var callback = new Recorder();
        Assert.Equal(0, await callback.RunAsync("callback", "--help"));
        string callbackHelp = callback.Output.ToString();
        foreach (string expected in new[] { "Usage:", "oauth-sidecar callback [options]", "--port <PORT>", "[default: 8080]", "--timeout <SECONDS>", "--ssl-cert <FILE>", "--no-https", "--server <NAME>", "received_at" })
        {
            Assert.Contains(expected, callbackHelp, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, root.Error.ToString() + callback.Error);
        Assert.Null(root.Host);
        Assert.Null(callback.Callback);
    }

    [Fact]
    public async Task Version_and_schema_write_to_stdout()
    {
        var version = new Recorder();
        Assert.Equal(0, await version.RunAsync("--version"));
        Assert.Equal("9.8.7" + Environment.NewLine, version.Output.ToString());
        Assert.Null(version.Host);

        var schema = new Recorder();
        Assert.Equal(0, await schema.RunAsync("schema"));
        Assert.True(schema.SchemaWritten);
        Assert.Equal("{\"openrpc\":\"1.3.2\"}", schema.Output.ToString());
    }

    [Fact]
    public void The_parse_result_gives_the_host_options_without_running_anything()
    {
        var run = new Recorder();

        ParseResult result = run.CommandLine.Parse(["--framing", "newline"]);

        Assert.Empty(result.Errors);
        Assert.Equal(Framing.Newline, run.CommandLine.HostOptionsOf(result).Framing);
        Assert.Null(run.Host);
    }

    /// <summary>A command line whose commands record what they were given instead of running.</summary>
    private sealed class Recorder
    {
        public Recorder()
        {
            this.CommandLine = new CommandLine(
                serve: (options, _) =>
                {
                    this.Host = options;
                    return Task.FromResult(0);
                },
                callback: (arguments, _) =>
                {
                    this.Callback = arguments;
                    return Task.FromResult(0);
                },
                schema: async (writer, _) =>
                {
                    this.SchemaWritten = true;
                    await writer.WriteAsync("{\"openrpc\":\"1.3.2\"}");
                    return 0;
                },
                version: "9.8.7");
        }

        public CommandLine CommandLine { get; }

        public StringWriter Output { get; } = new();

        public StringWriter Error { get; } = new();

        public HostOptions? Host { get; private set; }

        public CallbackArguments? Callback { get; private set; }

        public bool SchemaWritten { get; private set; }

        public Task<int> RunAsync(params string[] args) => this.CommandLine.RunAsync(args, this.Output, this.Error, CancellationToken.None);
    }
}
