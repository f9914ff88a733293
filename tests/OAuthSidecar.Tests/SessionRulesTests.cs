using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// JSON-RPC session rules through the real process (issue 14, points 2 and 10): a response the sidecar did not ask
/// for is logged once and ignored (it used to end the process with exit code 0); duplicate ids in flight, messages
/// without <c>"jsonrpc": "2.0"</c> and requests after <c>shutdown</c> get -32600, and the process keeps serving.
/// </summary>
public sealed class SessionRulesTests
{
    [Fact]
    public async Task Stray_responses_are_logged_once_per_id_and_ignored()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        await sidecar.WriteRawAsync(Frame("""{"jsonrpc":"2.0","id":99,"result":null}"""));
        await sidecar.WriteRawAsync(Frame("""{"jsonrpc":"2.0","id":99,"result":{"again":true}}"""));
        await sidecar.WriteRawAsync(Frame("""{"jsonrpc":"2.0","id":"a-string","error":{"code":-1,"message":"no"}}"""));

        JsonNode? answer = await sidecar.CallAsync("initialize", new { });
        Assert.Equal("oauth-sidecar", answer!["serverInfo"].Str("name"));
        Assert.False(sidecar.HasExited);
        Assert.Empty(sidecar.Unmatched); // nothing is answered to a response
        await sidecar.WaitForNotificationAsync("window/logMessage", n => n.Str("message").Contains("a-string", StringComparison.Ordinal));
        Assert.Single(sidecar.Notifications, n => n["params"]?["message"]?.GetValue<string>().Contains("id 99", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Show_document_answered_twice_is_ignored_the_second_time()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        var asked = new TaskCompletionSource();
        sidecar.RequestHandler = (method, parameters) =>
        {
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            asked.TrySetResult();
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client }))!.AsObject();
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The sidecar's only request so far had id 0 or 1 (StreamJsonRpc's first ids): answer both again.
        await sidecar.WriteRawAsync(Frame("""{"jsonrpc":"2.0","id":0,"result":{"success":true}}"""));
        await sidecar.WriteRawAsync(Frame("""{"jsonrpc":"2.0","id":1,"result":{"success":true}}"""));

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("alice", tokens.Str("account"));
        Assert.False(sidecar.HasExited);
        await sidecar.WaitForNotificationAsync("window/logMessage", n => n.Str("message").Contains("Ignored a response", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_duplicate_id_in_flight_is_refused_and_the_first_request_goes_on()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client, openBrowser = false }))!.AsObject();
        string wait = $$$"""{"jsonrpc":"2.0","id":9001,"method":"waitForCallback","params":{"flowId":"{{{flow.Str("flowId")}}}","timeoutSeconds":60}}""";

        await sidecar.WriteRawAsync(Frame(wait));
        await sidecar.WriteRawAsync(Frame(wait));
        JsonObject refused = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(9001, refused["id"]!.GetValue<long>());
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        Assert.Contains("in progress", refused["error"].Str("message"), StringComparison.Ordinal);

        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonObject first = await sidecar.WaitForUnmatchedAsync(2);
        Assert.Equal(9001, first["id"]!.GetValue<long>());
        Assert.Equal(flow.Str("state"), first["result"]!["params"].Str("state"));

        await sidecar.WriteRawAsync(Frame(wait.Replace("\"timeoutSeconds\":60", "\"timeoutSeconds\":1", StringComparison.Ordinal))); // the id is free again
        JsonObject again = await sidecar.WaitForUnmatchedAsync(3);
        Assert.NotNull(again["result"]);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"1.0","id":7,"method":"initialize","params":{}}""")]
    [InlineData("""{"id":7,"method":"initialize","params":{}}""")]
    [InlineData("""{"jsonrpc":2.0,"id":7,"method":"initialize","params":{}}""")]
    public async Task A_message_that_is_not_json_rpc_2_0_is_an_invalid_request(string message)
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        await sidecar.WriteRawAsync(Frame(message));
        JsonObject refused = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(7, refused["id"]!.GetValue<long>());
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        Assert.Contains("\"2.0\"", refused["error"].Str("message"), StringComparison.Ordinal);
        Assert.NotNull(await sidecar.CallAsync("initialize", new { }));
    }

    [Fact]
    public async Task After_shutdown_requests_are_invalid_and_exit_ends_with_code_0()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        await sidecar.CallAsync("shutdown");
        RpcError refused = await sidecar.CallExpectingErrorAsync("initialize", new { });
        Assert.Equal(-32600, refused.Code);
        Assert.Contains("shutting down", refused.Message, StringComparison.Ordinal);
        await sidecar.NotifyAsync("exit");
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10)));
    }

    private static byte[] Frame(string body) => Encoding.UTF8.GetBytes($"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
}

/// <summary>
/// stderr never holds up the protocol (issue 14, points 3 and 5): a parent that does not read stderr still gets
/// every answer, and the lines that could not be written are counted once it reads again; a repeated warning is
/// written once with a count.
/// </summary>
public sealed class DiagnosticsFloodTests
{
    [Fact]
    public async Task A_parent_that_does_not_read_stderr_still_gets_every_answer()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--log-level", "info"], null, readStderr: false);
        var server = new { issuer = "http://127.0.0.1:9", tokenEndpoint = "http://127.0.0.1:9/token" };
        for (int i = 0; i < 2000; i++)
        {
            // Each registration logs a line (about 100 bytes): 200 KB, three times a pipe's buffer.
            await sidecar.CallAsync("createClient", new { clientId = $"flood-{i}-{new string('x', 40)}", serverConfiguration = server }, TimeSpan.FromSeconds(20));
        }

        sidecar.ResumeStderr();
        Assert.NotNull(await sidecar.CallAsync("initialize", new { }));
        await sidecar.CallAsync("shutdown");
        await sidecar.NotifyAsync("exit");
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("were dropped because stderr was not being read", sidecar.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_connections_to_the_listener_cost_one_warning_and_the_sign_in_still_works()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client, openBrowser = false }))!.AsObject();
        int port = new Uri(flow.Str("redirectUri")).Port;
        var idle = new List<System.Net.Sockets.TcpClient>();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                var connection = new System.Net.Sockets.TcpClient();
                await connection.ConnectAsync(System.Net.IPAddress.Loopback, port);
                idle.Add(connection);
            }

            await idp.AuthorizeAsync(flow.Str("authUri"));
            Assert.Equal("alice", (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!.Str("account"));
        }
        finally
        {
            foreach (System.Net.Sockets.TcpClient connection in idle)
            {
                connection.Dispose();
            }
        }

        await sidecar.BarrierAsync();
        int warnings = sidecar.Notifications.Count(n => n["params"]?["message"]?.GetValue<string>().Contains("connections open", StringComparison.Ordinal) == true);
        Assert.InRange(warnings, 1, 2); // hundreds of evictions, one line (then one with a count after the quiet window)
    }

    [Fact]
    public void A_repeated_warning_is_written_once_then_with_a_count()
    {
        using var stderr = new StringWriter();
        var provider = new OAuthSidecar.Rpc.RpcLoggerProvider(new OAuthSidecar.Core.Diagnostics.SecretRedactor(), Microsoft.Extensions.Logging.LogLevel.Information, stderr);
        Microsoft.Extensions.Logging.ILogger logger = provider.CreateLogger("OAuthSidecar");
        for (int port = 40000; port < 40300; port++)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "A connection from 127.0.0.1:{Port} sent no request in time.", port);
        }

        Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "Something else.");
        provider.Dispose();
        string[] lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("127.0.0.1:40000", lines[0], StringComparison.Ordinal);
        Assert.Equal(299, provider.SuppressedRepeats);
    }
}
