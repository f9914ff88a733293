using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// <c>oauth-sidecar token</c> (issue 16, point 6) as a shell runs it: the real executable, the real test provider, no
/// desktop session and no terminal on stdin, so the <c>auto</c> chain signs in by the device flow with the code on
/// stderr; the token alone on stdout; each exit code; the same store as the JSON-RPC methods.
/// </summary>
public sealed partial class TokenCommandTests
{
    [Fact]
    public async Task Signs_in_by_the_device_flow_headless_then_prints_a_token_without_a_sign_in()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
        string data = TestTemp.CreateDirectory("token-cli").FullName;
        Dictionary<string, string?> environment = Headless(data);

        // The "Done when" command line: no --storage (no keyring reachable here: the file store, said on stderr).
        await using TokenRun first = TokenRun.Start(["--issuer", idp.Issuer, "--client-id", "native-app"], environment);
        string userCode = UserCode().Match(await first.WaitForStderrAsync(UserCode())).Value;
        await idp.ApproveDeviceAsync(userCode);
        (int code, string stdout, string stderr) = await first.FinishAsync();
        Assert.True(code == 0, stderr);
        string token = stdout.TrimEnd('\n');
        Assert.Equal(stdout, token + "\n"); // the token alone, one line
        Assert.DoesNotContain('\n', token);
        Assert.Contains("file store", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(token, stderr, StringComparison.Ordinal);
        int tokenRequests = (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>();

        // A second call prints a token from the store: no sign-in, no request to the provider.
        await using TokenRun second = TokenRun.Start(["--issuer", idp.Issuer, "--client-id", "native-app", "--json"], environment);
        (int again, string json, string quiet) = await second.FinishAsync();
        Assert.True(again == 0, quiet);
        JsonNode result = JsonNode.Parse(json)!;
        Assert.Equal(token, result.Str("accessToken"));
        Assert.Equal("stored", result.Str("method"));
        Assert.DoesNotMatch(UserCode(), quiet);
        Assert.Equal(tokenRequests, (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>());

        // The JSON-RPC methods use the same store: an editor and a script share one sign-in.
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], environment);
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = new[] { "openid", "offline_access" } }))!.Str("clientHandle");
        Assert.Equal(token, (await sidecar.CallAsync("getCredentials", new { clientHandle = client, interactive = "none" }))!.Str("accessToken"));
    }

    [Fact]
    public async Task In_a_shell_pipeline_the_token_authorizes_a_request_and_each_failure_has_its_exit_code()
    {
        string curl = Requires.Tool("a real HTTP client in the shell pipeline", "curl");
        await using IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
        string data = TestTemp.CreateDirectory("token-cli").FullName;
        Dictionary<string, string?> environment = Headless(data);
        string[] common = ["--issuer", idp.Issuer, "--client-id", "native-app", "--storage", "file"];

        // 3: a sign-in is needed, and --interactive none forbids it.
        await using (TokenRun none = TokenRun.Start([.. common, "--interactive", "none"], environment))
        {
            (int code, string stdout, string stderr) = await none.FinishAsync();
            Assert.Equal(3, code);
            Assert.Empty(stdout);
            Assert.Contains("--interactive auto", stderr, StringComparison.Ordinal);
        }

        // 2: nobody enters the user code before --timeout.
        await using (TokenRun late = TokenRun.Start([.. common, "--timeout", "2"], environment))
        {
            (int code, string stdout, string stderr) = await late.FinishAsync();
            Assert.Equal(2, code);
            Assert.Empty(stdout);
            Assert.Contains("--timeout", stderr, StringComparison.Ordinal);
        }

        // 1: an error (the issuer cannot be reached), and a usage error; a sentence on stderr each time.
        await using (TokenRun unreachable = TokenRun.Start(["--issuer", $"http://127.0.0.1:{Tools.FreePort()}", "--client-id", "native-app", "--storage", "memory"], environment))
        {
            (int code, string stdout, string stderr) = await unreachable.FinishAsync();
            Assert.Equal(1, code);
            Assert.Empty(stdout);
            Assert.False(string.IsNullOrWhiteSpace(stderr));
        }

        await using (TokenRun usage = TokenRun.Start(["--client-id", "native-app"], environment))
        {
            (int code, string stdout, string stderr) = await usage.FinishAsync();
            Assert.Equal(1, code);
            Assert.Empty(stdout);
            Assert.Contains("--issuer is required", stderr, StringComparison.Ordinal);
        }

        // 0: signed in once (device flow), then in a pipeline: curl -H "Authorization: Bearer $(oauth-sidecar token …)".
        await using (TokenRun signIn = TokenRun.Start(common, environment))
        {
            await idp.ApproveDeviceAsync(UserCode().Match(await signIn.WaitForStderrAsync(UserCode())).Value);
            Assert.Equal(0, (await signIn.FinishAsync()).Code);
        }

        (string file, string[] arguments) = RepoPaths.SidecarCommand();
        string command = string.Join(' ', new[] { file }.Concat(arguments).Concat(["token", .. common, "--interactive", "none"]).Select(Quote));
        string pipeline = $"set -o pipefail; curl --silent --show-error --fail -H \"Authorization: Bearer $({command})\" {Quote(idp.Issuer + "/me")}";
        await using TokenRun shell = TokenRun.StartProgram("bash", ["-c", pipeline], environment);
        (int status, string userinfo, string shellErrors) = await shell.FinishAsync();
        Assert.True(status == 0, $"{curl}: {shellErrors}");
        Assert.Equal("alice", JsonNode.Parse(userinfo)!.Str("sub"));
    }

    [Fact]
    public async Task A_confidential_clients_secret_comes_from_the_environment_or_a_file_never_from_argv()
    {
        // 1 s access tokens: the token command must refresh, which the provider allows only with the secret.
        await using IdpServer idp = await IdpServer.StartAsync(["--access-token-ttl", "1"]);
        string data = TestTemp.CreateDirectory("token-cli").FullName;
        Dictionary<string, string?> environment = Headless(data);
        long expiresAt;
        await using (SidecarProcess editor = await SidecarProcess.StartAsync(["--storage", "file"], environment))
        {
            editor.RequestHandler = (method, parameters) =>
            {
                _ = idp.AuthorizeAsync(parameters.Str("uri"));
                return new JsonObject { ["success"] = true };
            };
            await editor.CallAsync("initialize", new { capabilities = new { showDocument = true } });
            string client = (await editor.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret", scopes = new[] { "openid", "offline_access" } }))!.Str("clientHandle");
            expiresAt = (await editor.CallAsync("getCredentials", new { clientHandle = client, interactive = "browser" }))!["expiresAt"]!.GetValue<long>();
        }

        // Each run below starts after the stored token has expired (a NativeAOT start is fast enough to be handed a
        // 1 s token that is still fresh), so each must refresh.
        string[] common = ["--issuer", idp.Issuer, "--client-id", "confidential-app", "--storage", "file", "--interactive", "none"];
        await Sign.WaitUntilPastAsync(expiresAt);
        await using (TokenRun without = TokenRun.Start(common, environment))
        {
            (int code, string stdout, string stderr) = await without.FinishAsync();
            Assert.NotEqual(0, code); // the refresh is refused without client authentication
            Assert.Empty(stdout);
        }

        string secretFile = Path.Combine(data, "secret");
        await File.WriteAllTextAsync(secretFile, "confidential-secret\n");
        await using (TokenRun fromFile = TokenRun.Start([.. common, "--client-secret-file", secretFile], environment))
        {
            (int code, string stdout, string stderr) = await fromFile.FinishAsync();
            Assert.True(code == 0, stderr);
            Assert.NotEmpty(stdout.Trim());
            Assert.DoesNotContain("confidential-secret", stderr, StringComparison.Ordinal);
        }

        await Sign.WaitUntilPastAsync(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1); // the refreshed 1 s token expires
        environment["OAUTH_SIDECAR_CLIENT_SECRET"] = "confidential-secret";
        await using (TokenRun fromEnvironment = TokenRun.Start(common, environment))
        {
            (int code, string stdout, string stderr) = await fromEnvironment.FinishAsync();
            Assert.True(code == 0, stderr);
            Assert.NotEmpty(stdout.Trim());
        }

        await using TokenRun missing = TokenRun.Start([.. common, "--client-secret-file", Path.Combine(data, "nope")], environment);
        (int failed, _, string why) = await missing.FinishAsync();
        Assert.Equal(1, failed);
        Assert.Contains("cannot be read", why, StringComparison.Ordinal);
    }

    [GeneratedRegex("[A-Z]{4}-[A-Z]{4}")]
    private static partial Regex UserCode();

    // No desktop session, no keyring (no D-Bus session), the store in a directory of the test's own.
    private static Dictionary<string, string?> Headless(string data) => new()
    {
        ["OAUTH_SIDECAR_DATA_DIR"] = data,
        ["DBUS_SESSION_BUS_ADDRESS"] = null,
        ["DISPLAY"] = null,
        ["WAYLAND_DISPLAY"] = null,
        ["BROWSER"] = null,
    };

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>One run of <c>oauth-sidecar token</c> (or a shell): stdin closed (not a terminal), stderr read line by line.</summary>
    private sealed class TokenRun : IAsyncDisposable
    {
        private readonly Process process;
        private readonly StringBuilder stderr = new();
        private readonly Channel<string> lines = Channel.CreateUnbounded<string>();
        private readonly Task<string> stdout;

        private TokenRun(Process process)
        {
            this.process = process;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    this.lines.Writer.TryComplete();
                    return;
                }

                lock (this.stderr)
                {
                    this.stderr.AppendLine(e.Data);
                }

                this.lines.Writer.TryWrite(e.Data);
            };
            process.BeginErrorReadLine();
            process.StandardInput.Close();
            this.stdout = process.StandardOutput.ReadToEndAsync();
        }

        public static TokenRun Start(string[] arguments, IDictionary<string, string?> environment)
        {
            (string file, string[] baseArguments) = RepoPaths.SidecarCommand();
            return StartProgram(file, [.. baseArguments, "token", .. arguments], environment);
        }

        public static TokenRun StartProgram(string file, string[] arguments, IDictionary<string, string?> environment)
        {
            var info = new ProcessStartInfo(file)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = RepoPaths.Root,
            };
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            foreach ((string key, string? value) in environment)
            {
                if (value is null)
                {
                    info.Environment.Remove(key);
                }
                else
                {
                    info.Environment[key] = value;
                }
            }

            return new TokenRun(Process.Start(info)!);
        }

        /// <summary>Waits for the first stderr line that matches.</summary>
        public async Task<string> WaitForStderrAsync(Regex pattern)
        {
            using var timeout = new CancellationTokenSource(SidecarProcess.DefaultTimeout);
            await foreach (string line in this.lines.Reader.ReadAllAsync(timeout.Token))
            {
                if (pattern.IsMatch(line))
                {
                    return line;
                }
            }

            throw new InvalidOperationException("The command ended without writing the line looked for: " + this.Stderr);
        }

        public async Task<(int Code, string Stdout, string Stderr)> FinishAsync()
        {
            using var timeout = new CancellationTokenSource(SidecarProcess.DefaultTimeout);
            await this.process.WaitForExitAsync(timeout.Token);
            return (this.process.ExitCode, await this.stdout, this.Stderr);
        }

        private string Stderr
        {
            get
            {
                lock (this.stderr)
                {
                    return this.stderr.ToString();
                }
            }
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
