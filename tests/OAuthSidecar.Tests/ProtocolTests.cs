using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>The JSON-RPC transport and lifecycle of the real process: framing, bad input, errors, exit.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task Initialize_reports_server_info_and_capabilities()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode result = (await sidecar.CallAsync("initialize", new { clientInfo = new { name = "tests", version = "1" }, capabilities = new { showDocument = false }, processId = 1, rootUri = (string?)null }))!;
        Assert.Equal("oauth-sidecar", result["serverInfo"].Str("name"));
        Assert.Equal("1.1", result.Str("protocolVersion"));
        string[] grants = result["capabilities"]!["grantTypes"]!.AsArray().Select(g => g!.GetValue<string>()).ToArray();
        Assert.Contains("authorization_code", grants);
        Assert.Contains("urn:ietf:params:oauth:grant-type:device_code", grants);
        Assert.Equal(["http", "https"], result["capabilities"]!["callbackSchemes"]!.AsArray().Select(g => g!.GetValue<string>()));
    }

    [Fact]
    public async Task Malformed_frame_gets_parse_error_and_the_process_keeps_serving()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        byte[] body = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":");
        await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body]);
        JsonObject parseError = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(-32700, parseError["error"]!["code"]!.GetValue<int>());
        Assert.Null(parseError["id"]);
        Assert.Contains("not valid JSON", parseError["error"].Str("message"), StringComparison.Ordinal);

        // Valid JSON that is not a request: -32600 with its id.
        byte[] notRequest = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":\"x-1\",\"method\":42}");
        await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {notRequest.Length}\r\n\r\n"), .. notRequest]);
        JsonObject invalid = await sidecar.WaitForUnmatchedAsync(2);
        Assert.Equal(-32600, invalid["error"]!["code"]!.GetValue<int>());
        Assert.Equal("x-1", invalid["id"]!.GetValue<string>());

        // A header without Content-Length, then garbage bytes that are not UTF-8 JSON.
        await sidecar.WriteRawAsync(Encoding.ASCII.GetBytes("Content-Type: application/json\r\n\r\n"));
        JsonObject noLength = await sidecar.WaitForUnmatchedAsync(3);
        Assert.Equal(-32700, noLength["error"]!["code"]!.GetValue<int>());
        byte[] garbage = [0xff, 0xfe, 0x00, 0x80, 0x7b];
        await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {garbage.Length}\r\n\r\n"), .. garbage]);
        JsonObject notJson = await sidecar.WaitForUnmatchedAsync(4);
        Assert.Equal(-32700, notJson["error"]!["code"]!.GetValue<int>());

        JsonNode result = (await sidecar.CallAsync("initialize", new { }))!;
        Assert.Equal("oauth-sidecar", result["serverInfo"].Str("name"));
        Assert.False(sidecar.HasExited);
    }

    [Fact]
    public async Task Header_lines_are_read_as_the_LSP_base_protocol_says()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        byte[] body = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":51,\"method\":\"initialize\",\"params\":{}}");

        // Any case, a Content-Type line, spaces and tabs around the value.
        await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"content-type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-LENGTH:\t {body.Length} \r\n\r\n"), .. body]);
        JsonObject answer = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(51, answer["id"]!.GetValue<int>());

        // A signed or non-numeric length is a parse error; the process keeps serving.
        await sidecar.WriteRawAsync(Encoding.ASCII.GetBytes("Content-Length: -5\r\n\r\n"));
        Assert.Equal(-32700, (await sidecar.WaitForUnmatchedAsync(2))["error"]!["code"]!.GetValue<int>());
        await sidecar.WriteRawAsync(Encoding.ASCII.GetBytes("Content-Length: 1x\r\n\r\n"));
        Assert.Equal(-32700, (await sidecar.WaitForUnmatchedAsync(3))["error"]!["code"]!.GetValue<int>());

        JsonNode result = (await sidecar.CallAsync("initialize", new { }))!;
        Assert.Equal("oauth-sidecar", result["serverInfo"].Str("name"));
    }

    [Fact]
    public async Task A_frame_split_across_many_writes_is_reassembled()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        byte[] body = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"initialize\",\"params\":{\"clientInfo\":{\"name\":\"s\u00e9parateur\"}}}");
        byte[] frame = [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body];
        foreach (byte[] piece in frame.Chunk(7))
        {
            await sidecar.WriteRawAsync(piece);
            await Task.Delay(5);
        }

        JsonObject answer = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(41, answer["id"]!.GetValue<int>());
        Assert.Equal("1.1", answer["result"].Str("protocolVersion"));
    }

    [Fact]
    public async Task Oversized_message_is_refused_and_skipped()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--max-message-bytes", "2048");
        string big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"clientInfo\":{\"name\":\"" + new string('a', 5000) + "\"}}}";
        byte[] body = Encoding.UTF8.GetBytes(big);
        await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body]);
        JsonObject refused = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        Assert.Contains("limit", refused["error"].Str("message"), StringComparison.Ordinal);
        Assert.NotNull(await sidecar.CallAsync("initialize", new { }));
    }

    [Fact]
    public async Task Newline_framing_serves_one_message_per_line_and_survives_garbage()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--framing", "newline");
        await sidecar.WriteRawAsync(Encoding.UTF8.GetBytes("this is not json\n\n"));
        JsonObject parseError = await sidecar.WaitForUnmatchedAsync(1);
        Assert.Equal(-32700, parseError["error"]!["code"]!.GetValue<int>());
        JsonNode result = (await sidecar.CallAsync("initialize", new { }))!;
        Assert.Equal("1.1", result.Str("protocolVersion"));
    }

    [Fact]
    public async Task Unknown_method_gets_method_not_found()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError error = await sidecar.CallExpectingErrorAsync("signInPlease", new { });
        Assert.Equal(-32601, error.Code);
        Assert.Contains("signInPlease", error.Message, StringComparison.Ordinal);
        Assert.Contains("schema", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"issuer\":\"http://127.0.0.1:1\",\"clientId\":5}", "clientId", "wrong type")]
    [InlineData("{\"issuer\":\"http://127.0.0.1:1\"}", "clientId", "required")]
    [InlineData("{\"issuer\":\"http://127.0.0.1:1\",\"clientId\":\"a\",\"clientSecrett\":\"x\"}", "clientSecrett", "not known")]
    [InlineData("{\"clientId\":\"a\",\"timeoutSeconds\":\"soon\"}", "timeoutSeconds", "wrong type")]
    [InlineData("{\"clientId\":\"a\"}", "issuer", "issuer")]
    [InlineData("{\"clientId\":\"a\",\"issuer\":\"ftp://x\"}", "issuer", "https")]
    [InlineData("{\"clientId\":\"a\",\"issuer\":\"http://127.0.0.1:1\",\"tokenEndpointAuthMethod\":\"magic\"}", "tokenEndpointAuthMethod", "'client_secret_post'")]
    [InlineData("{\"clientId\":\"a\",\"issuer\":\"http://127.0.0.1:1\",\"tls\":{\"caBundlePath\":7}}", "tls.caBundlePath", "wrong type")]
    public async Task Bad_params_get_invalid_params_naming_the_field(string parameters, string field, string messagePart)
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError error = await sidecar.CallExpectingErrorAsync("createClient", JsonNode.Parse(parameters));
        Assert.Equal(-32602, error.Code);
        Assert.Equal(field, error.DataString("field"));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Params_that_are_missing_or_positional_get_invalid_params()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError missing = await sidecar.CallExpectingErrorAsync("waitForCallback");
        Assert.Equal(-32602, missing.Code);
        RpcError positional = await sidecar.CallExpectingErrorAsync("waitForCallback", new JsonArray("f_1", 5));
        Assert.Equal(-32602, positional.Code);
        Assert.NotNull(await sidecar.CallAsync("initialize"));
    }

    [Fact]
    public async Task Unknown_flow_and_client_get_unknown_handle()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError flow = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = "f_nope" });
        Assert.Equal(-32004, flow.Code);
        Assert.Equal("f_nope", flow.DataString("flowId"));
        RpcError client = await sidecar.CallExpectingErrorAsync("initiateAuthCodeFlow", new { clientHandle = "c_nope", openBrowser = false });
        Assert.Equal(-32004, client.Code);
        Assert.Equal("c_nope", client.DataString("clientHandle"));
        Assert.Contains("createClient", client.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provider_down_gets_server_unreachable()
    {
        int closedPort = FreePortThatIsClosed();
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError error = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = $"http://127.0.0.1:{closedPort}", clientId = "native-app" });
        Assert.Equal(-32006, error.Code);
        Assert.Contains($"127.0.0.1:{closedPort}", error.DataString("url"), StringComparison.Ordinal);
        Assert.Contains("could not be reached", error.DataString("reason"), StringComparison.Ordinal);

        // Explicit endpoints: the failure surfaces at the token endpoint.
        string client = (await sidecar.CallAsync("createClient", new { serverConfiguration = new { tokenEndpoint = $"http://127.0.0.1:{closedPort}/token" }, clientId = "native-app" }))!.Str("clientHandle");
        RpcError refresh = await sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = "some-refresh-token" });
        Assert.Equal(-32006, refresh.Code);
        Assert.Equal($"http://127.0.0.1:{closedPort}/token", refresh.DataString("url"));
    }

    [Fact]
    public async Task Discovery_falls_back_to_rfc8414_metadata()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--rfc8414-only"]);
        using (HttpResponseMessage oidc = await idp.Http.GetAsync(idp.Issuer + "/.well-known/openid-configuration"))
        {
            Assert.Equal(HttpStatusCode.NotFound, oidc.StatusCode);
        }

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode created = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Sign.OpenIdScopes }))!;
        Assert.Equal(idp.Issuer + "/token", created["serverConfiguration"].Str("tokenEndpoint"));
        Assert.True(created["serverConfiguration"]!["authorizationResponseIssParameterSupported"]!.GetValue<bool>());
        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, created.Str("clientHandle"));
        Assert.Equal("alice", tokens.Str("account"));
    }

    [Fact]
    public async Task Explicit_server_configuration_needs_no_discovery()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new
        {
            serverConfiguration = new
            {
                issuer = idp.Issuer,
                authorizationEndpoint = idp.Issuer + "/auth",
                tokenEndpoint = idp.Issuer + "/token",
                jwksUri = idp.Issuer + "/jwks",
                authorizationResponseIssParameterSupported = true,
            },
            clientId = "native-app",
            scopes = Sign.OpenIdScopes,
        }))!.Str("clientHandle");
        Assert.Equal("alice", (await Sign.SignInAsync(sidecar, idp, client)).Str("account"));
        RpcError noDevice = await sidecar.CallExpectingErrorAsync("initiateDeviceFlow", new { clientHandle = client });
        Assert.Equal(-32602, noDevice.Code);
        Assert.Equal("serverConfiguration.deviceAuthorizationEndpoint", noDevice.DataString("field"));
    }

    [Fact]
    public async Task Port_in_use_gets_listen_failed_naming_the_port()
    {
        IdpServer idp = await IdpServer.Shared;
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        RpcError error = await sidecar.CallExpectingErrorAsync("initiateAuthCodeFlow", new { clientHandle = client, openBrowser = false, redirectUri = $"http://127.0.0.1:{port}/callback" });
        Assert.Equal(-32005, error.Code);
        Assert.Equal(port, error.Data!["port"]!.GetValue<int>());
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task End_of_stdin_exits_promptly_and_closes_every_listener()
    {
        IdpServer idp = await IdpServer.Shared;
        SidecarProcess sidecar = await SidecarProcess.StartAsync();
        await using (sidecar)
        {
            string client = await Sign.CreateNativeClientAsync(sidecar, idp);
            JsonObject flow = await Sign.InitiateAsync(sidecar, client);
            int port = new Uri(flow.Str("redirectUri")).Port;
            _ = sidecar.Start("waitForCallback", new { flowId = flow.Str("flowId") });
            await sidecar.BarrierAsync(); // a request is in progress when the input ends

            // The flow lives for minutes: ending promptly means not waiting for it (10 s: a hang guard).
            sidecar.CloseStdin();
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            await AuthCodeFlowTests.AssertPortClosedAsync(port);
        }
    }

    [Fact]
    public async Task Exit_after_shutdown_is_code_0_and_without_is_code_1()
    {
        await using (SidecarProcess polite = await SidecarProcess.StartAsync())
        {
            Assert.Null(await polite.CallAsync("shutdown"));
            await polite.NotifyAsync("exit");
            Assert.Equal(0, await polite.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        await using SidecarProcess abrupt = await SidecarProcess.StartAsync();
        await abrupt.CallAsync("initialize", new { });
        await abrupt.NotifyAsync("initialized", new { });
        await abrupt.NotifyAsync("exit");
        Assert.Equal(1, await abrupt.WaitForExitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_committed_schema_is_what_the_contract_generates()
    {
        (int code, string generated, string stderr) = await RunToEndAsync("schema");
        Assert.True(code == 0, stderr);
        string committed = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "schema", "oauth-sidecar.openrpc.json"));
        Assert.True(
            committed.ReplaceLineEndings("\n") == generated.ReplaceLineEndings("\n"),
            "schema/oauth-sidecar.openrpc.json differs from the contract: regenerate it with `oauth-sidecar schema > schema/oauth-sidecar.openrpc.json` (npm run schema) and commit it.");
        JsonObject document = JsonNode.Parse(generated)!.AsObject();
        Assert.Equal("1.3.2", document.Str("openrpc"));
        string[] names = document["methods"]!.AsArray().Select(m => m.Str("name")).ToArray();
        Assert.Contains("obtainTokenByAuthCodeFlow", names);
        Assert.Contains("$/cancelRequest", names);
        JsonNode callback = document["methods"]!.AsArray().Single(m => m.Str("name") == "callbackReceived")!;
        Assert.True(callback["x-notification"]!.GetValue<bool>());
        Assert.Equal("server-to-client", callback.Str("x-direction"));
        Assert.Equal(-32602, document["components"]!["errors"]!["InvalidParams"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Command_line_help_version_and_bad_arguments()
    {
        (int code, string stdout, string stderr) = await RunToEndAsync("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout);
        (code, stdout, _) = await RunToEndAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("--framing", stdout, StringComparison.Ordinal);
        (code, _, stderr) = await RunToEndAsync("--framing", "xml");
        Assert.Equal(2, code);
        Assert.Contains("--framing", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunToEndAsync(params string[] arguments)
    {
        (string file, string[] baseArguments) = RepoPaths.SidecarCommand();
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in baseArguments.Concat(arguments))
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static int FreePortThatIsClosed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
