using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// Sign-in wherever the user is (issue 16), through the real process and the real test provider: <c>interactive:
/// "auto"</c> choosing the device flow when this machine has no desktop session or the caller's browser did not open,
/// the paste path over <c>auth/promptRedirect</c> (with its state check, the loopback server still open, and -32008
/// for a caller that cannot paste), and the <c>authorizationUrl</c> notification. The test processes have no
/// DISPLAY, WAYLAND_DISPLAY or BROWSER (<see cref="SidecarProcess"/>), as this machine has no desktop session.
/// </summary>
public sealed class SignInChainTests
{
    private static readonly string[] Scopes = ["openid", "offline_access", "profile"];

    [Fact]
    public async Task Auto_without_a_desktop_session_signs_in_by_the_device_flow()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode environment = (await sidecar.CallAsync("initialize", new { capabilities = new { } }))!["capabilities"]!["environment"]!;
        Assert.False(environment["canOpenBrowser"]!.GetValue<bool>());
        Assert.Contains("display", environment.Str("reason"), StringComparison.OrdinalIgnoreCase);
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);

        Task<JsonObject> call = sidecar.Start("getCredentials", new { clientHandle = client }).Response; // interactive: auto, the default
        JsonObject code = await sidecar.WaitForNotificationAsync("deviceCode");
        JsonObject url = await sidecar.WaitForNotificationAsync("authorizationUrl");
        Assert.Equal(code.Str("flowId"), url.Str("flowId"));
        Assert.StartsWith(idp.Issuer + "/device", url.Str("authUri"), StringComparison.Ordinal);
        Assert.Contains(code.Str("userCode"), url.Str("message"), StringComparison.Ordinal);
        await idp.ApproveDeviceAsync(code.Str("userCode"));

        JsonObject answer = await call;
        Assert.Equal("device", answer["result"].Str("method"));
        Assert.Equal("alice", answer["result"].Str("account"));
        await sidecar.WaitForStderrAsync("not by the browser, because"); // the skipped step is logged with its reason
        JsonNode again = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, interactive = "none" }))!;
        Assert.Equal(answer["result"].Str("accessToken"), again.Str("accessToken"));
    }

    [Fact]
    public async Task Auto_with_show_document_answered_false_falls_back_to_the_device_flow()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        int asked = 0;
        sidecar.RequestHandler = (method, _) =>
        {
            Assert.Equal("window/showDocument", method);
            Interlocked.Increment(ref asked);
            return new JsonObject { ["success"] = false };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);

        Task<JsonObject> call = sidecar.Start("getCredentials", new { clientHandle = client, interactive = "auto" }).Response;
        JsonObject code = await sidecar.WaitForNotificationAsync("deviceCode");
        await idp.ApproveDeviceAsync(code.Str("userCode"));

        JsonObject answer = await call;
        Assert.Equal("device", answer["result"].Str("method"));
        Assert.Equal(1, asked);
        await sidecar.WaitForStderrAsync("not by the browser, because");
    }

    [Fact]
    public async Task Without_a_device_endpoint_auto_asks_for_the_pasted_redirect_address()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        var prompts = new List<JsonNode>();
        sidecar.AsyncRequestHandler = async (method, parameters) =>
        {
            Assert.Equal("auth/promptRedirect", method);
            lock (prompts)
            {
                prompts.Add(parameters!);
            }

            // The headless user signs in "on another machine"; the browser ends on the redirect address, which does
            // not load there; the user copies it.
            string pasted = (await idp.AuthorizeAsync(parameters.Str("authUri"), deliver: false)).Str("callbackUrl");
            sidecar.RememberSecret(System.Web.HttpUtility.ParseQueryString(new Uri(pasted).Query)["code"]!);
            return new JsonObject { ["url"] = pasted };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { promptRedirect = true } });
        string client = await CreateClientWithoutDeviceEndpointAsync(sidecar, idp);

        JsonNode result = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.Equal("paste", result.Str("method"));
        Assert.Equal("alice", result.Str("account"));
        JsonNode prompt = Assert.Single(prompts);
        Assert.StartsWith("http://127.0.0.1:", prompt.Str("redirectUri"), StringComparison.Ordinal);
        Assert.Contains(prompt.Str("redirectUri"), prompt.Str("message"), StringComparison.Ordinal);
        JsonObject url = await sidecar.WaitForNotificationAsync("authorizationUrl");
        Assert.Equal(prompt.Str("authUri"), url.Str("authUri"));
        Assert.Equal(prompt.Str("flowId"), url.Str("flowId"));
        await sidecar.WaitForStderrAsync("not by the device flow, because the authorization server offers no device authorization endpoint");
    }

    [Fact]
    public async Task A_pasted_address_with_a_wrong_state_is_refused_and_the_flow_stays_open()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        var prompts = new List<JsonNode>();
        sidecar.AsyncRequestHandler = async (_, parameters) =>
        {
            int n;
            lock (prompts)
            {
                prompts.Add(parameters!);
                n = prompts.Count;
            }

            string pasted = (await idp.AuthorizeAsync(parameters.Str("authUri"), deliver: false)).Str("callbackUrl");
            sidecar.RememberSecret(System.Web.HttpUtility.ParseQueryString(new Uri(pasted).Query)["code"]!);
            return new JsonObject { ["url"] = n == 1 ? WithState(pasted, "forged-state-of-another-sign-in") : pasted };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { promptRedirect = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);

        JsonNode result = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, interactive = "paste" }))!;
        Assert.Equal("paste", result.Str("method"));
        Assert.Equal(2, prompts.Count);
        Assert.Null(prompts[0]["error"]);
        Assert.Equal(-32002, prompts[1]["error"]!["code"]!.GetValue<int>()); // asked again, saying why
        Assert.Contains("another sign-in", prompts[1]["error"].Str("message"), StringComparison.Ordinal);
        Assert.Equal(prompts[0].Str("flowId"), prompts[1].Str("flowId")); // the same flow, still open
    }

    [Fact]
    public async Task While_the_paste_question_is_open_the_loopback_server_still_receives_the_redirect_and_wins()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        var neverAnswered = new TaskCompletionSource<JsonNode?>();
        sidecar.AsyncRequestHandler = (method, parameters) =>
        {
            // The browser turns out to reach this machine after all: the redirect arrives at the loopback server.
            _ = idp.AuthorizeAsync(parameters.Str("authUri"));
            return neverAnswered.Task;
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { promptRedirect = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);

        JsonNode result = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, interactive = "paste" }))!;
        Assert.Equal("browser", result.Str("method"));
        JsonObject cancel = await sidecar.WaitForNotificationAsync("$/cancelRequest"); // the question is withdrawn
        Assert.NotNull(cancel["id"]);
        neverAnswered.TrySetResult(null);
    }

    [Fact]
    public async Task Paste_without_the_prompt_redirect_capability_is_interaction_required_naming_the_options()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        await sidecar.CallAsync("initialize", new { capabilities = new { } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);

        RpcError paste = await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = client, interactive = "paste" });
        Assert.Equal(-32008, paste.Code);
        Assert.Contains("capabilities.promptRedirect", paste.Message, StringComparison.Ordinal);
        Assert.Contains("'device'", paste.Message, StringComparison.Ordinal);

        // auto with nothing left (no browser here, no device endpoint, no paste) says every reason and the options.
        string withoutDevice = await CreateClientWithoutDeviceEndpointAsync(sidecar, idp);
        RpcError auto = await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = withoutDevice });
        Assert.Equal(-32008, auto.Code);
        Assert.Contains("no device authorization endpoint", auto.Message, StringComparison.Ordinal);
        Assert.Contains("capabilities.promptRedirect", auto.Message, StringComparison.Ordinal);
        Assert.Contains("capabilities.showDocument", auto.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>());
    }

    /// <summary>The test provider's native client with its endpoints given explicitly, leaving out the device authorization endpoint.</summary>
    internal static async Task<string> CreateClientWithoutDeviceEndpointAsync(SidecarProcess sidecar, IdpServer idp) =>
        (await sidecar.CallAsync("createClient", new
        {
            clientId = "native-app",
            scopes = Scopes,
            serverConfiguration = new
            {
                issuer = idp.Issuer,
                authorizationEndpoint = idp.Issuer + "/auth",
                tokenEndpoint = idp.Issuer + "/token",
                jwksUri = idp.Issuer + "/jwks",
                authorizationResponseIssParameterSupported = true,
            },
        }))!.Str("clientHandle");

    private static string WithState(string url, string state)
    {
        var builder = new UriBuilder(url);
        System.Collections.Specialized.NameValueCollection query = System.Web.HttpUtility.ParseQueryString(builder.Query);
        query["state"] = state;
        builder.Query = query.ToString();
        return builder.Uri.AbsoluteUri;
    }
}
