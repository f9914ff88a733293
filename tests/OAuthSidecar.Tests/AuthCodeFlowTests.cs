using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>The authorization code flow with PKCE through the real sidecar, its loopback server and the real provider.</summary>
public sealed class AuthCodeFlowTests
{
    [Fact]
    public async Task Full_sign_in_by_query_response_returns_tokens_and_notifies()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        await sidecar.CallAsync("initialize", new { clientInfo = new { name = "tests" } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);

        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        string flowId = flow.Str("flowId");
        var redirect = new Uri(flow.Str("redirectUri"));
        Assert.Equal("127.0.0.1", redirect.Host);
        Assert.NotEqual(0, redirect.Port);
        Assert.Equal("/callback", redirect.AbsolutePath);
        string authUri = flow.Str("authUri");
        Assert.StartsWith(idp.Issuer + "/auth?", authUri, StringComparison.Ordinal);
        Assert.Contains("code_challenge_method=S256", authUri, StringComparison.Ordinal);
        Assert.Contains("code_challenge=", authUri, StringComparison.Ordinal);
        Assert.Contains("nonce=", authUri, StringComparison.Ordinal);
        Assert.Contains("state=" + flow.Str("state"), authUri, StringComparison.Ordinal);
        Assert.Contains("redirect_uri=" + Uri.EscapeDataString(redirect.ToString().TrimEnd('/')), authUri, StringComparison.Ordinal);
        Assert.DoesNotContain("code_verifier", authUri, StringComparison.Ordinal);

        JsonObject delivered = await idp.AuthorizeAsync(authUri);
        Assert.Equal(200, delivered["status"]!.GetValue<int>());
        Assert.Contains("Signed in", delivered.Str("body"), StringComparison.Ordinal);

        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId }))!;
        Assert.Equal("GET", callback.Str("method"));
        Assert.Equal("/callback", callback.Str("path"));
        Assert.Equal(flow.Str("state"), callback["params"].Str("state"));
        Assert.Equal(idp.Issuer, callback["params"].Str("iss"));
        string code = callback["params"].Str("code");

        JsonObject received = await sidecar.WaitForNotificationAsync("callbackReceived");
        Assert.Equal(flowId, received.Str("flowId"));
        Assert.Equal(code, received["params"].Str("code"));

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId }))!;
        Assert.Equal("Bearer", tokens.Str("tokenType"));
        Assert.False(string.IsNullOrEmpty(tokens.Str("accessToken")));
        Assert.False(string.IsNullOrEmpty(tokens.Str("refreshToken")));
        Assert.Equal("alice", tokens["idTokenClaims"].Str("sub"));
        Assert.Equal("alice", tokens.Str("account"));
        Assert.Contains("openid", tokens["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.True(tokens["expiresAt"]!.GetValue<long>() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(tokens.Str("accessToken"), tokens["raw"].Str("access_token"));

        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained");
        Assert.Equal("authorization_code", obtained.Str("grantType"));
        Assert.Equal(flowId, obtained.Str("flowId"));
        Assert.DoesNotContain(tokens.Str("accessToken"), obtained.ToJsonString(), StringComparison.Ordinal);

        // A flow is redeemed once.
        RpcError again = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId });
        Assert.Equal(-32004, again.Code);
        Assert.Equal(flowId, again.DataString("flowId"));
    }

    [Fact]
    public async Task Form_post_response_is_accepted()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client, new { responseMode = "form_post" });
        Assert.Contains("response_mode=form_post", flow.Str("authUri"), StringComparison.Ordinal);

        JsonObject delivered = await idp.AuthorizeAsync(flow.Str("authUri"));
        Assert.Equal("form_post", delivered.Str("responseMode"));
        Assert.Equal(200, delivered["status"]!.GetValue<int>());

        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("POST", callback.Str("method"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("alice", tokens.Str("account"));
    }

    [Fact]
    public async Task Obtain_waits_for_the_callback_when_called_first()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);

        (_, Task<JsonObject> obtaining) = sidecar.Start("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        await sidecar.BarrierAsync(); // obtain is now waiting (requests are invoked in order)
        Assert.False(obtaining.IsCompleted);
        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonObject response = await obtaining;
        Assert.Equal("alice", response["result"].Str("account"));
    }

    [Fact]
    public async Task Wrong_state_and_wrong_path_never_complete_the_flow()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        var redirect = new Uri(flow.Str("redirectUri"));
        using var http = new HttpClient();

        HttpResponseMessage wrongState = await http.GetAsync($"{redirect}?code=forged&state=not-the-state");
        Assert.Equal(HttpStatusCode.BadRequest, wrongState.StatusCode);
        Assert.Contains("does not belong to any sign-in", await wrongState.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        HttpResponseMessage wrongPath = await http.GetAsync($"http://127.0.0.1:{redirect.Port}/elsewhere?code=x&state={flow.Str("state")}");
        Assert.Equal(HttpStatusCode.NotFound, wrongPath.StatusCode);

        RpcError notYet = await sidecar.CallExpectingErrorAsync("waitForCallback", new { flowId = flow.Str("flowId"), timeoutSeconds = 0.3 });
        Assert.Equal(-32001, notYet.Code);

        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("alice", tokens.Str("account"));
        await sidecar.WaitForStderrAsync("carried a state that matches no sign-in in progress"); // the refused callback was logged as a warning
    }

    [Fact]
    public async Task Denied_consent_is_a_callback_then_an_oauth_error()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);

        JsonObject delivered = await idp.AuthorizeAsync(flow.Str("authUri"), deny: true);
        Assert.Contains("access_denied", delivered.Str("body"), StringComparison.Ordinal);

        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("access_denied", callback["params"].Str("error"));

        RpcError error = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32003, error.Code);
        Assert.Equal("access_denied", error.DataString("error"));
        Assert.Contains("access_denied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc9207_iss_that_is_missing_or_different_is_rejected()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        string flowId = flow.Str("flowId");
        string state = flow.Str("state");

        RpcError wrongIss = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId, authResponse = new { code = "c0de-from-elsewhere", state, iss = "https://evil.example" } });
        Assert.Equal(-32002, wrongIss.Code);
        Assert.Contains("iss", wrongIss.DataString("reason"), StringComparison.Ordinal);
        Assert.Equal(flowId, wrongIss.DataString("flowId"));

        RpcError missingIss = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId, authResponse = new { code = "c0de-from-elsewhere", state } });
        Assert.Equal(-32002, missingIss.Code);
        Assert.Contains("RFC 9207", missingIss.Message, StringComparison.Ordinal);

        RpcError wrongState = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId, authResponse = new { code = "c0de-from-elsewhere", state = "other", iss = idp.Issuer } });
        Assert.Equal(-32002, wrongState.Code);
        Assert.Contains("state", wrongState.DataString("reason"), StringComparison.Ordinal);

        // The flow survived the rejected responses; the genuine one (pasted URL) still signs in.
        JsonObject genuine = await idp.AuthorizeAsync(flow.Str("authUri"), deliver: false);
        var callbackUrl = new Uri(genuine.Str("callbackUrl"));
        var parameters = System.Web.HttpUtility.ParseQueryString(callbackUrl.Query);
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new
        {
            flowId,
            authResponse = new { code = parameters["code"], state = parameters["state"], iss = parameters["iss"] },
        }))!;
        Assert.Equal("alice", tokens.Str("account"));
    }

    [Fact]
    public async Task Loopback_callback_with_a_foreign_iss_fails_redemption_with_state_mismatch()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        using var http = new HttpClient();
        HttpResponseMessage reply = await http.GetAsync($"{flow.Str("redirectUri")}?code=abcdef123&state={flow.Str("state")}&iss={Uri.EscapeDataString("https://mix-up.example")}");
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);

        RpcError error = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32002, error.Code);
        Assert.Contains("mix-up", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_flow_fails_waiters_with_request_cancelled_and_closes_the_listener()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        int port = new Uri(flow.Str("redirectUri")).Port;

        (_, Task<JsonObject> waiting) = sidecar.Start("waitForCallback", new { flowId = flow.Str("flowId") });
        await sidecar.BarrierAsync(); // the wait has begun before the flow is cancelled
        await sidecar.CallAsync("cancelFlow", new { flowId = flow.Str("flowId") });
        JsonObject response = await waiting;
        Assert.Equal(-32800, response["error"]!["code"]!.GetValue<int>());

        RpcError gone = await sidecar.CallExpectingErrorAsync("waitForCallback", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32004, gone.Code);
        await AssertPortClosedAsync(port);
    }

    [Fact]
    public async Task Cancel_request_ends_the_wait_but_not_the_flow()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);

        (string id, Task<JsonObject> waiting) = sidecar.Start("waitForCallback", new { flowId = flow.Str("flowId") });
        await sidecar.BarrierAsync(); // the wait has begun before it is cancelled
        await sidecar.NotifyAsync("$/cancelRequest", new { id = long.Parse(id, System.Globalization.CultureInfo.InvariantCulture) });
        JsonObject response = await waiting;
        Assert.Equal(-32800, response["error"]!["code"]!.GetValue<int>());

        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("alice", tokens.Str("account"));
    }

    [Fact]
    public async Task Wait_times_out_with_timeout_error_and_the_flow_stays_open()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);

        RpcError timeout = await sidecar.CallExpectingErrorAsync("waitForCallback", new { flowId = flow.Str("flowId"), timeoutSeconds = 0.5 });
        Assert.Equal(-32001, timeout.Code);
        Assert.Equal(flow.Str("flowId"), timeout.DataString("flowId"));
        Assert.Equal(0.5, timeout.Data!["timeoutSeconds"]!.GetValue<double>());

        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = flow.Str("flowId"), timeoutSeconds = 5 }))!;
        Assert.NotNull(callback["params"]!["code"]);
    }

    [Fact]
    public async Task A_flow_expires_at_its_lifetime_and_closes_its_listener()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client, new { callback = new { timeoutSeconds = 1 } });
        Assert.InRange(flow["expiresAt"]!.GetValue<long>() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, 2);

        RpcError expired = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32001, expired.Code);
        await AssertPortClosedAsync(new Uri(flow.Str("redirectUri")).Port);
    }

    /// <summary>
    /// Waits until nothing accepts connections on <paramref name="port"/> any more. The listener closes in the
    /// sidecar's background after the call that ended its flow has answered, and another process's socket offers no
    /// event to wait on: this is the one place the end-to-end tests poll, an observable condition with a deadline.
    /// </summary>
    internal static async Task AssertPortClosedAsync(int port)
    {
        for (int i = 0; i < 50; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Port {port} is still accepting connections.");
    }
}
