using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// A provider that fails: the fault-injecting proxy of tests/idp between the real sidecar and the real provider.
/// Every fault ends in its error code, promptly; transient ones during device polling and refresh are retried.
/// </summary>
public sealed class ProviderFaultTests
{
    [Theory]
    [InlineData("""{"mode":"status","status":503,"retryAfter":1}""", 503, "503")]
    [InlineData("""{"mode":"status","status":500,"body":"{\"error\":\"server_error\"}"}""", 500, "500")]
    [InlineData("""{"mode":"reset"}""", null, "broke off")]
    [InlineData("""{"mode":"body","contentType":"text/html","body":"<html>maintenance</html>"}""", 200, "not JSON")]
    [InlineData("""{"mode":"truncate"}""", 200, "not JSON")]
    [InlineData("""{"mode":"huge","bytes":10485760}""", null, "broke off")]
    [InlineData("""{"mode":"delay","ms":9000}""", null, "did not answer within 3 s")]
    public async Task A_token_endpoint_fault_is_server_unreachable_with_a_reason(string fault, int? status, string reasonPart)
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = (await faulty.Sidecar.CallAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret", timeoutSeconds = 3 }))!.Str("clientHandle");
        await faulty.Proxy.FaultAsync(JsonNode.Parse(fault)!.AsObject().Also(f => f["path"] = "/token"));

        RpcError error = await faulty.Sidecar.CallExpectingErrorAsync("obtainTokenForClient", new { clientHandle = client }, TimeSpan.FromSeconds(20));
        Assert.Equal(-32006, error.Code);
        Assert.Contains(reasonPart, error.DataString("reason"), StringComparison.Ordinal);
        Assert.Equal(status, error.Data!["status"]?.GetValue<int>());
        Assert.EndsWith("/token", error.DataString("url"), StringComparison.Ordinal);

        // The sidecar keeps serving, and the next request goes through.
        Assert.NotNull(await faulty.Sidecar.CallAsync("obtainTokenForClient", new { clientHandle = client }));
    }

    [Fact]
    public async Task A_json_answer_with_a_wrong_content_type_is_still_read()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = (await faulty.Sidecar.CallAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret" }))!.Str("clientHandle");
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "body", ["contentType"] = "text/plain", ["body"] = """{"access_token":"plain-typed-token","token_type":"Bearer","expires_in":60}""", ["path"] = "/token" });
        Assert.Equal("plain-typed-token", (await faulty.Sidecar.CallAsync("obtainTokenForClient", new { clientHandle = client }))!.Str("accessToken"));
    }

    [Fact]
    public async Task Discovery_faults_are_server_unreachable_too()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "body", ["contentType"] = "application/json", ["body"] = "{\"issuer\":", ["path"] = "/.well-known" });
        RpcError garbage = await faulty.Sidecar.CallExpectingErrorAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "native-app" });
        Assert.Equal(-32006, garbage.Code);
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "status", ["status"] = 503, ["path"] = "/.well-known" });
        Assert.Equal(-32006, (await faulty.Sidecar.CallExpectingErrorAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "native-app" })).Code);
        Assert.NotNull(await faulty.Sidecar.CallAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "native-app" }));
    }

    [Fact]
    public async Task Refresh_retries_a_busy_server_honouring_retry_after_then_gives_up()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = await Sign.CreateNativeClientAsync(faulty.Sidecar, faulty.Idp);
        JsonObject tokens = await Sign.SignInAsync(faulty.Sidecar, faulty.Idp, client);

        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "status", ["status"] = 503, ["retryAfter"] = 1, ["count"] = 2, ["path"] = "/token" });
        JsonNode refreshed = (await faulty.Sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") }))!;
        Assert.NotEqual(tokens.Str("refreshToken"), refreshed.Str("refreshToken"));
        await faulty.Sidecar.WaitForStderrAsync("retrying in 1.0 s"); // stderr is its own pipe: the line may trail the answer

        // A server that stays down: three retries, then -32006.
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "status", ["status"] = 503, ["count"] = 10, ["path"] = "/token" });
        int before = (await faulty.Proxy.StatsAsync())["requests"]!.GetValue<int>();
        RpcError down = await faulty.Sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = refreshed.Str("refreshToken") }, TimeSpan.FromSeconds(60));
        Assert.Equal(-32006, down.Code);
        Assert.Equal(before + 4, (await faulty.Proxy.StatsAsync())["requests"]!.GetValue<int>());
        await faulty.Proxy.Http.PostAsync(faulty.Proxy.Url + "/__proxy/faults/reset", null);
    }

    [Fact]
    public async Task Refresh_is_not_retried_after_a_broken_answer_that_may_have_rotated_the_token()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = await Sign.CreateNativeClientAsync(faulty.Sidecar, faulty.Idp);
        JsonObject tokens = await Sign.SignInAsync(faulty.Sidecar, faulty.Idp, client);
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "reset", ["path"] = "/token" });
        int before = (await faulty.Proxy.StatsAsync())["requests"]!.GetValue<int>();
        RpcError broken = await faulty.Sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") });
        Assert.Equal(-32006, broken.Code);
        Assert.Equal(before + 1, (await faulty.Proxy.StatsAsync())["requests"]!.GetValue<int>());
    }

    [Fact]
    public async Task Device_polling_rides_out_transient_failures()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = await Sign.CreateNativeClientAsync(faulty.Sidecar, faulty.Idp);
        JsonNode device = (await faulty.Sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "status", ["status"] = 502, ["path"] = "/token" });
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "reset", ["path"] = "/token" });
        (_, Task<JsonObject> polling) = faulty.Sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") });
        await faulty.Sidecar.WaitForNotificationAsync("deviceFlowPending");
        await faulty.Idp.ApproveDeviceAsync(device.Str("userCode"));
        JsonObject answer = await polling;
        Assert.Equal("alice", answer["result"].Str("account"));
        await faulty.Sidecar.WaitForStderrAsync("retrying");
    }

    /// <summary>A provider of its own behind a proxy of its own, and a sidecar that uses the proxy.</summary>
    [Fact]
    public async Task A_secret_the_server_echoes_is_redacted_in_the_error_data_and_notifications()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = (await faulty.Sidecar.CallAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret" }))!.Str("clientHandle");
        const string RefreshToken = "rt-echoed-0123456789abcdef";
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "body", ["status"] = 400, ["contentType"] = "application/json", ["body"] = $$"""{"error":"invalid_grant","error_description":"refresh token {{RefreshToken}} is not valid"}""", ["path"] = "/token" });

        RpcError refused = await faulty.Sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = RefreshToken });
        Assert.Equal(-32003, refused.Code);
        Assert.Equal("invalid_grant", refused.DataString("error"));
        Assert.DoesNotContain(RefreshToken, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RefreshToken, refused.DataString("errorDescription"), StringComparison.Ordinal);
        Assert.Contains("[redacted]", refused.DataString("errorDescription"), StringComparison.Ordinal);
        JsonObject removed = await faulty.Sidecar.WaitForNotificationAsync("refreshTokenRemoved");
        Assert.DoesNotContain(RefreshToken, removed.Str("reason"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_password_in_a_url_is_redacted_in_messages_data_and_logs()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        int port = ClosedPort();
        RpcError unreachable = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = $"http://user:hunter2-pass@127.0.0.1:{port}", clientId = "native-app" });
        Assert.Equal(-32006, unreachable.Code);
        Assert.DoesNotContain("hunter2-pass", unreachable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-pass", unreachable.DataString("url"), StringComparison.Ordinal);
        Assert.Contains("http://[redacted]@127.0.0.1", unreachable.DataString("url"), StringComparison.Ordinal);
        await sidecar.BarrierAsync();
        Assert.DoesNotContain("hunter2-pass", sidecar.AllDiagnostics(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_characters_in_a_user_code_are_escaped_in_the_logs()
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = (await faulty.Sidecar.CallAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "native-app", scopes = new[] { "openid" } }))!.Str("clientHandle");
        string hostile = "AB\ninfo forged line\u001b]0;pwned\u0007CD";
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "body", ["status"] = 200, ["contentType"] = "application/json", ["body"] = new JsonObject { ["device_code"] = "dc-0123456789", ["user_code"] = hostile, ["verification_uri"] = faulty.Idp.Issuer + "/device", ["expires_in"] = 600, ["interval"] = 5 }.ToJsonString(), ["path"] = "/device/auth" });

        JsonNode flow = (await faulty.Sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        Assert.Equal(hostile, flow.Str("userCode")); // the result carries what the server sent
        await faulty.Sidecar.WaitForStderrAsync("Device flow");
        await faulty.Sidecar.BarrierAsync();
        Assert.DoesNotContain('\u001b', faulty.Sidecar.Stderr);
        Assert.DoesNotContain('\u0007', faulty.Sidecar.Stderr);
        Assert.DoesNotContain(faulty.Sidecar.Stderr.Split('\n'), line => line.StartsWith("info forged line", StringComparison.Ordinal));
        Assert.Contains("AB\\u000ainfo forged line\\u001b]0;pwned\\u0007CD", faulty.Sidecar.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("javascript:alert(1)", "scheme 'javascript'")]
    [InlineData("file:///etc/passwd", "absolute https URL")]
    [InlineData("http://evil.example/device", "plain http")]
    public async Task A_verification_uri_that_is_not_https_is_refused(string uri, string reason)
    {
        await using Faulty faulty = await Faulty.StartAsync();
        string client = (await faulty.Sidecar.CallAsync("createClient", new { issuer = faulty.Idp.Issuer, clientId = "native-app", scopes = new[] { "openid" } }))!.Str("clientHandle");
        await faulty.Proxy.FaultAsync(new JsonObject { ["mode"] = "body", ["status"] = 200, ["contentType"] = "application/json", ["body"] = $$"""{"device_code":"dc-0123456789","user_code":"ABCD-EFGH","verification_uri":"{{uri}}","expires_in":600,"interval":5}""", ["path"] = "/device/auth" });

        RpcError refused = await faulty.Sidecar.CallExpectingErrorAsync("initiateDeviceFlow", new { clientHandle = client });
        Assert.Equal(-32006, refused.Code);
        Assert.Contains("verification_uri", refused.Message, StringComparison.Ordinal);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class Faulty : IAsyncDisposable
    {
        private Faulty(IdpServer idp, ProxyServer proxy, SidecarProcess sidecar)
        {
            this.Idp = idp;
            this.Proxy = proxy;
            this.Sidecar = sidecar;
        }

        public IdpServer Idp { get; }

        public ProxyServer Proxy { get; }

        public SidecarProcess Sidecar { get; }

        public static async Task<Faulty> StartAsync()
        {
            IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
            ProxyServer proxy = await ProxyServer.StartAsync();
            SidecarProcess sidecar = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["HTTP_PROXY"] = proxy.Url, ["NO_PROXY"] = null, ["no_proxy"] = null });
            return new Faulty(idp, proxy, sidecar);
        }

        public async ValueTask DisposeAsync()
        {
            await this.Sidecar.DisposeAsync();
            await this.Proxy.DisposeAsync();
            await this.Idp.DisposeAsync();
        }
    }
}

internal static class JsonNodeExtensions
{
    public static JsonObject Also(this JsonObject node, Action<JsonObject> change)
    {
        change(node);
        return node;
    }
}
