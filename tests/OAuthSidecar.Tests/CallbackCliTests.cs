using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary><c>oauth-sidecar callback</c>: callback.py's command line, flag for flag.</summary>
public sealed class CallbackCliTests
{
    private static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "idp", "fixtures", name);

    [Fact]
    public async Task Prints_one_json_line_in_callback_py_shape_and_exits_0()
    {
        string page = Path.Combine(TestTemp.CreateDirectory("cli").FullName, "done.html");
        File.WriteAllText(page, "<html><body>All done, Acme</body></html>");
        await using var cli = await Cli.StartAsync("--port", "0", "--no-https", "--path", "callback", "--timeout", "30", "--success-html", page, "--error-html", "/no/such/error.html", "--server", "auto");
        Assert.Equal("http", cli.Url.Scheme);
        Assert.Equal("/callback", cli.Url.AbsolutePath);
        (int code, string body, _) = await Tools.CurlAsync($"{cli.Url}?code=abc&state=xyz");
        Assert.Equal(0, code);
        Assert.Contains("All done, Acme", body, StringComparison.Ordinal);

        (int exit, string stdout, string stderr) = await cli.FinishAsync();
        Assert.Equal(0, exit);
        string line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        JsonObject result = JsonNode.Parse(line)!.AsObject();
        Assert.Equal(["params", "method", "path", "received_at"], result.Select(p => p.Key));
        Assert.Equal("abc", result["params"].Str("code"));
        Assert.Equal("GET", result.Str("method"));
        Assert.Equal("/callback", result.Str("path"));
        Assert.InRange(result["received_at"]!.GetValue<long>(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Contains("error.html", stderr, StringComparison.Ordinal); // the missing page was logged
    }

    [Fact]
    public async Task Https_by_default_with_an_ad_hoc_certificate_or_the_given_pem_pair()
    {
        await using (var adhoc = await Cli.StartAsync("--port", "0", "--timeout", "30"))
        {
            Assert.Equal("https", adhoc.Url.Scheme);
            Assert.Equal(0, (await Tools.CurlAsync("--insecure", $"{adhoc.Url}?error=access_denied")).Code);
            (int exit, string stdout, _) = await adhoc.FinishAsync();
            Assert.Equal(0, exit);
            Assert.Equal("access_denied", JsonNode.Parse(stdout)!["params"].Str("error"));
        }

        await using var pem = await Cli.StartAsync("--port", "0", "--ssl-cert", Fixture("server.cert.pem"), "--ssl-key", Fixture("server.key.pem"), "--timeout", "30");
        (int code, _, string curlError) = await Tools.CurlAsync("--cacert", Fixture("ca.cert.pem"), $"{pem.Url}?code=pem");
        Assert.True(code == 0, curlError);
        Assert.Equal("pem", JsonNode.Parse((await pem.FinishAsync()).Stdout)!["params"].Str("code"));
    }

    [Fact]
    public async Task Timeout_and_usage_errors_are_exit_2_and_failures_are_exit_1_with_a_sentence()
    {
        (int code, _, string stderr) = await Tools.RunAsync(Cli.File, [.. Cli.BaseArguments, "callback", "--port", "0", "--no-https", "--timeout", "0.5"]);
        Assert.Equal(2, code);
        Assert.Contains("No callback arrived", stderr, StringComparison.Ordinal);

        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        (code, _, stderr) = await Tools.RunAsync(Cli.File, [.. Cli.BaseArguments, "callback", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-https", "--timeout", "5"]);
        Assert.Equal(1, code);
        Assert.Contains($"Port {port}", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Tools.RunAsync(Cli.File, [.. Cli.BaseArguments, "callback", "--port", "0", "--ssl-cert", "/no/cert.pem", "--ssl-key", "/no/key.pem"]);
        Assert.Equal(1, code);
        Assert.Contains("/no/cert.pem", stderr, StringComparison.Ordinal);

        // A usage error is reported before anything starts, with exit code 2 as argparse (callback.py) gives it.
        (code, string stdout, stderr) = await Tools.RunAsync(Cli.File, [.. Cli.BaseArguments, "callback", "--port", "http"]);
        Assert.Equal(2, code);
        Assert.Contains("--port takes a port number from 0 to 65535, not 'http'.", stderr, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }

    /// <summary>The CLI running in the background; its first stderr line names the URL.</summary>
    private sealed class Cli : IAsyncDisposable
    {
        private readonly Process process;
        private readonly Task<string> stdout;
        private readonly System.Text.StringBuilder stderr = new();
        private Task? stderrRead;

        private Cli(Process process, Uri url)
        {
            this.process = process;
            this.Url = url;
            this.stdout = process.StandardOutput.ReadToEndAsync();
        }

        public static string File => RepoPaths.SidecarCommand().FileName;

        public static string[] BaseArguments => RepoPaths.SidecarCommand().Arguments;

        public Uri Url { get; }

        public static async Task<Cli> StartAsync(params string[] arguments)
        {
            var info = new ProcessStartInfo(File) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (string a in BaseArguments.Concat(["callback"]).Concat(arguments))
            {
                info.ArgumentList.Add(a);
            }

            Process process = Process.Start(info)!;
            var before = new System.Text.StringBuilder();
            while (true)
            {
                string? line = await process.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.True(line is not null, "the CLI ended before listening: " + before);
                before.AppendLine(line);
                var match = System.Text.RegularExpressions.Regex.Match(line, @"Waiting for the callback on (https?://\S+?)[ ,]");
                if (match.Success)
                {
                    var cli = new Cli(process, new Uri(match.Groups[1].Value));
                    cli.stderr.Append(before);
                    cli.stderrRead = Task.Run(async () => cli.stderr.Append(await process.StandardError.ReadToEndAsync()));
                    return cli;
                }
            }
        }

        public async Task<(int Exit, string Stdout, string Stderr)> FinishAsync()
        {
            await this.process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            string output = await this.stdout;
            await this.stderrRead!; // to the end of stderr
            return (this.process.ExitCode, output, this.stderr.ToString());
        }

        public ValueTask DisposeAsync()
        {
            if (!this.process.HasExited)
            {
                this.process.Kill(entireProcessTree: true);
            }

            this.process.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
