using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// A sign-in per provider preset through the real sidecar process: GitHub, Google and Entra against emulators of their
/// documented wire formats (tests/idp/emulators), Okta, Auth0, Keycloak and GitLab against the test provider configured
/// their way (tests/idp/flavors.mjs). Each provider has its own process (its counters and requests are asserted).
/// </summary>
public sealed class ProviderSignInTests
{
    [Fact]
    public async Task GitHub_device_flow_reads_http_200_errors_and_names_the_account_by_login()
    {
        await using IdpServer github = await IdpServer.StartProviderAsync("github");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode created = (await sidecar.CallAsync("createClient", new { provider = "github", authority = github.Authority, clientId = github.ClientId, scopes = new[] { "repo", "read:user" } }))!;
        Assert.Equal("github", created.Str("provider"));
        Assert.Contains(created["quirks"]!.AsArray(), q => q!.GetValue<string>().Contains("HTTP 200", StringComparison.Ordinal));
        string client = created.Str("clientHandle");

        Task<JsonObject> call = sidecar.Start("getCredentials", new { clientHandle = client, interactive = "device" }).Response;
        JsonObject code = await sidecar.WaitForNotificationAsync("deviceCode");
        Assert.Equal(github.Authority + "/login/device", code.Str("verificationUri"));
        // At least one poll is answered authorization_pending with HTTP 200 before the user approves.
        JsonObject pending = await sidecar.WaitForNotificationAsync("deviceFlowPending");
        Assert.Equal("authorization_pending", pending.Str("error"));
        await github.ApproveDeviceAsync(code.Str("userCode"));
        JsonObject answer = await call;
        Assert.Null(answer["error"]);
        JsonNode tokens = answer["result"]!;
        Assert.StartsWith("gho_", tokens.Str("accessToken"), StringComparison.Ordinal);
        Assert.Equal(new[] { "read:user", "repo" }, tokens["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).Order(StringComparer.Ordinal)); // granted as "read:user,repo"
        Assert.Equal("octocat", tokens.Str("account"));

        JsonNode account = Assert.Single((await sidecar.CallAsync("listAccounts", new { clientHandle = client }))!.AsArray())!;
        Assert.Equal("octocat", account.Str("username"));
        JsonArray requests = await github.RequestsAsync();
        Assert.All(requests.Where(r => r.Str("method") == "POST"), r => Assert.Contains("application/json", r.Str("accept"), StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Str("path") == "/api/v3/user");
    }

    [Fact]
    public async Task GitHub_web_flow_sends_the_secret_in_the_body_and_reads_form_encoded_answers()
    {
        await using IdpServer github = await IdpServer.StartProviderAsync("github");
        await github.ConfigAsync(new JsonObject { ["formAlways"] = true }); // form-encoded whatever Accept says
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { provider = "github", authority = github.Authority, clientId = github.ClientId, clientSecret = github.ClientSecret, scopes = new[] { "repo" } }))!.Str("clientHandle");

        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        Assert.StartsWith("http://127.0.0.1:", flow.Str("redirectUri"), StringComparison.Ordinal);
        await github.AuthorizeAsync(flow.Str("authUri"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        Assert.StartsWith("gho_", tokens.Str("accessToken"), StringComparison.Ordinal);
        Assert.Equal("Bearer", tokens.Str("tokenType")); // GitHub sends "bearer"; reported as RFC 6750 spells it
        Assert.Null(tokens["expiresAt"]); // an OAuth app token never expires (no expires_in): none is assumed for GitHub
        Assert.Equal("octocat", tokens.Str("account"));
        JsonNode redeem = (await github.RequestsAsync()).Last(r => r.Str("path") == "/login/oauth/access_token")!;
        Assert.Null(redeem["authorization"]); // no Basic header: GitHub ignores it
        Assert.Contains("client_secret", redeem["params"]!.AsArray().Select(p => p!.GetValue<string>()));

        // A refused redemption comes with HTTP 200: it is -32003 with GitHub's error, not an unreachable server.
        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthorizationCode", new { clientHandle = client, code = "not-a-code", redirectUri = flow.Str("redirectUri") });
        Assert.Equal(-32003, refused.Code);
        Assert.Equal("bad_verification_code", refused.DataString("error"));
        Assert.Equal(200, refused.Data!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task GitHub_app_user_tokens_refresh_and_rotate()
    {
        await using IdpServer github = await IdpServer.StartProviderAsync("github");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { provider = "github", authority = github.Authority, clientId = "Iv23-gh-app", clientSecret = "gh-app-secret" }))!.Str("clientHandle");
        JsonObject signedIn = await Sign.SignInAsync(sidecar, github, client);
        Assert.Equal(28800, signedIn["expiresIn"]!.GetValue<long>());
        string refreshToken = signedIn.Str("refreshToken");
        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken }))!;
        Assert.StartsWith("ghu_", refreshed.Str("accessToken"), StringComparison.Ordinal);
        Assert.NotEqual(refreshToken, refreshed.Str("refreshToken"));
        Assert.Equal(refreshed.Str("refreshToken"), (await sidecar.WaitForNotificationAsync("refreshTokenUpdated")).Str("refreshToken"));
    }

    [Fact]
    public async Task Google_signs_in_with_the_desktop_secret_access_type_offline_and_either_issuer_spelling()
    {
        await using IdpServer google = await IdpServer.StartProviderAsync("google");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, google, new { provider = "google", authority = google.Authority, clientId = google.ClientId, clientSecret = google.ClientSecret, scopes = new[] { "openid", "email", "offline_access" } });
        string? authUri = null;
        sidecar.RequestHandler = (method, parameters) =>
        {
            authUri = parameters.Str("uri");
            _ = google.AuthorizeAsync(authUri);
            return new JsonObject { ["success"] = true };
        };

        JsonNode tokens = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.Contains("access_type=offline", authUri, StringComparison.Ordinal);
        Assert.Contains("prompt=consent", authUri, StringComparison.Ordinal);
        Assert.DoesNotContain("offline_access", authUri, StringComparison.Ordinal);
        Assert.StartsWith("ya29.", tokens.Str("accessToken"), StringComparison.Ordinal);
        Assert.Equal("110169484474386276334", tokens.Str("account"));
        Assert.Equal(google.Authority.Replace("http://", string.Empty, StringComparison.Ordinal), tokens["idTokenClaims"]!.Str("iss")); // the scheme-less spelling
        Assert.Contains("https://www.googleapis.com/auth/userinfo.email", tokens["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));

        // Google does not rotate: a refresh answer has no refresh token, and the one used stays.
        string refreshToken = tokens.Str("refreshToken");
        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken }))!;
        Assert.Equal(refreshToken, refreshed.Str("refreshToken"));

        // The device flow: client_id and the secret in the body, verification_url read as verificationUri, HTTP 428 pending.
        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        Assert.Equal(google.Authority + "/device", device.Str("verificationUri"));
        Task<JsonObject> polling = sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") }).Response;
        Assert.Equal("authorization_pending", (await sidecar.WaitForNotificationAsync("deviceFlowPending")).Str("error"));
        await google.ApproveDeviceAsync(device.Str("userCode"));
        Assert.StartsWith("ya29.", (await polling)["result"].Str("accessToken"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entra_organizations_checks_the_tenantid_issuer_template_and_reads_string_numbers()
    {
        await using IdpServer entra = await IdpServer.StartProviderAsync("entra");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, entra, new { provider = "entra", authority = entra.Authority, clientId = entra.ClientId, scopes = new[] { "openid", "profile", "User.Read" } });
        JsonNode created = (await sidecar.CallAsync("createClient", new { provider = "entra", authority = entra.Authority, clientId = entra.ClientId }))!;
        Assert.Equal(entra.Issuer + "/{tenantid}/v2.0", created["serverConfiguration"]!.Str("issuer"));
        string? redirect = null;
        sidecar.RequestHandler = (method, parameters) =>
        {
            redirect = System.Web.HttpUtility.ParseQueryString(new Uri(parameters.Str("uri")).Query)["redirect_uri"];
            _ = entra.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };

        JsonNode tokens = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.StartsWith("http://localhost:", redirect, StringComparison.Ordinal);
        Assert.Equal(3599, tokens["expiresIn"]!.GetValue<long>()); // sent as "3599"
        string tid = entra.Ready["tenantId"]!.GetValue<string>();
        Assert.Equal(tid, tokens["idTokenClaims"]!.Str("tid"));
        Assert.Equal($"{entra.Issuer}/{tid}/v2.0", tokens["idTokenClaims"]!.Str("iss"));
        Assert.Equal("adele@contoso.example", Assert.Single((await sidecar.CallAsync("listAccounts", new { clientHandle = client }))!.AsArray())!.Str("username"));

        // Entra rotates refresh tokens; the preset names the scopes of a refresh (never offline_access).
        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") }))!;
        Assert.NotEqual(tokens.Str("refreshToken"), refreshed.Str("refreshToken"));

        // The device flow, with its numbers as strings.
        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        Assert.Equal(1, device["interval"]!.GetValue<int>());
        Assert.Equal(900, device["expiresIn"]!.GetValue<int>());
        await entra.ApproveDeviceAsync(device.Str("userCode"));
        JsonNode viaDevice = (await sidecar.CallAsync("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") }))!;
        Assert.Equal(tid, viaDevice["idTokenClaims"]!.Str("tid"));
    }

    [Fact]
    public async Task Okta_signs_in_on_the_exact_registered_redirect_uri_with_offline_access()
    {
        await using IdpServer okta = await IdpServer.StartProviderAsync("okta");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, okta, new { provider = "okta", authority = okta.Authority, clientId = okta.ClientId, redirectUri = okta.RedirectUri, scopes = new[] { "openid", "profile" } });
        JsonNode tokens = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.Equal("alice", tokens.Str("account"));
        Assert.False(string.IsNullOrEmpty(tokens["refreshToken"]?.GetValue<string>())); // the preset asked for offline_access
        Assert.Equal(okta.Issuer, tokens["idTokenClaims"]!.Str("iss"));

        // Another port is refused by Okta's exact match: the preset's default redirect would not do.
        string other = (await sidecar.CallAsync("createClient", new { provider = "okta", authority = okta.Authority, clientId = okta.ClientId }))!.Str("clientHandle");
        JsonObject flow = await Sign.InitiateAsync(sidecar, other);
        await Assert.ThrowsAsync<InvalidOperationException>(() => okta.AuthorizeAsync(flow.Str("authUri")));
    }

    [Fact]
    public async Task Auth0_signs_in_with_an_audience_and_a_trailing_slash_issuer()
    {
        await using IdpServer auth0 = await IdpServer.StartProviderAsync("auth0");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, auth0, new { provider = "auth0", authority = auth0.Authority, clientId = auth0.ClientId, redirectUri = auth0.RedirectUri, audience = "https://api.sidecar.test", scopes = new[] { "openid", "profile", "read:messages" } });
        JsonNode tokens = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.EndsWith("/", tokens["idTokenClaims"]!.Str("iss"), StringComparison.Ordinal);
        JsonNode access = JsonNode.Parse(Convert.FromBase64String(Pad(tokens.Str("accessToken").Split('.')[1])))!;
        Assert.Equal("https://api.sidecar.test", access["aud"]!.GetValue<string>()); // an API token, thanks to audience
        Assert.False(string.IsNullOrEmpty(tokens["refreshToken"]?.GetValue<string>()));
    }

    [Fact]
    public async Task Keycloak_gives_a_refresh_token_without_offline_access_on_the_exact_redirect_uri()
    {
        await using IdpServer keycloak = await IdpServer.StartProviderAsync("keycloak");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, keycloak, new { provider = "keycloak", authority = keycloak.Authority, clientId = keycloak.ClientId, redirectUri = keycloak.RedirectUri, scopes = new[] { "openid", "profile" } });
        string? authUri = null;
        sidecar.RequestHandler = (method, parameters) =>
        {
            authUri = parameters.Str("uri");
            _ = keycloak.AuthorizeAsync(authUri);
            return new JsonObject { ["success"] = true };
        };
        JsonNode tokens = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.DoesNotContain("offline_access", authUri, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(tokens["refreshToken"]?.GetValue<string>()));
        Assert.Equal(keycloak.Issuer, tokens["idTokenClaims"]!.Str("iss"));
    }

    [Fact]
    public async Task GitLab_without_openid_names_the_account_from_the_user_api()
    {
        await using IdpServer gitlab = await IdpServer.StartProviderAsync("gitlab");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, gitlab, new { provider = "gitlab", authority = gitlab.Authority, clientId = gitlab.ClientId, scopes = new[] { "read_user" } });
        JsonNode tokens = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.Null(tokens["idToken"]);
        Assert.Equal("alice", tokens.Str("account"));
        Assert.False(string.IsNullOrEmpty(tokens["refreshToken"]?.GetValue<string>()));
        JsonNode account = Assert.Single((await sidecar.CallAsync("listAccounts", new { clientHandle = client }))!.AsArray())!;
        Assert.Equal("alice", account.Str("username"));
    }

    private static async Task<string> PrepareAsync(SidecarProcess sidecar, IdpServer idp, object createClient)
    {
        sidecar.RequestHandler = (method, parameters) =>
        {
            Assert.Equal("window/showDocument", method);
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        JsonNode created = (await sidecar.CallAsync("createClient", createClient))!;
        Assert.NotEmpty(created["quirks"]!.AsArray());
        return created.Str("clientHandle");
    }

    private static string Pad(string base64Url)
    {
        string s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - (s.Length % 4)) % 4);
    }
}
