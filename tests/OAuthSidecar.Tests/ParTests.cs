using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// Pushed authorization requests (RFC 9126) against the real provider (oidc-provider's PAR endpoint, advertised in its
/// metadata with <c>--par</c>, required with <c>--require-par</c>): the browser URL that is left, the client's
/// authentication on the push, DPoP's <c>dpop_jkt</c> pushed along, <c>require_pushed_authorization_requests</c>,
/// and a <c>request_uri</c> that expires.
/// </summary>
public sealed class ParTests
{
    private static readonly string[] Scopes = ["openid", "offline_access", "profile"];

    [Fact]
    public async Task A_pushed_request_leaves_only_client_id_and_request_uri_in_the_browser_url()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--par", "--dpop"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode created = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = true }))!;
        Assert.Equal(idp.Issuer + "/request", created["serverConfiguration"].Str("pushedAuthorizationRequestEndpoint"));

        JsonObject flow = await Sign.InitiateAsync(sidecar, created.Str("clientHandle"));
        var authUri = new Uri(flow.Str("authUri"));
        System.Collections.Specialized.NameValueCollection query = System.Web.HttpUtility.ParseQueryString(authUri.Query);
        Assert.Equal(idp.Issuer + "/auth", authUri.GetLeftPart(UriPartial.Path));
        Assert.Equal(["client_id", "request_uri"], query.AllKeys.Order(StringComparer.Ordinal));
        Assert.Equal("native-app", query["client_id"]);
        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", query["request_uri"], StringComparison.Ordinal);
        Assert.InRange(flow["expiresAt"]!.GetValue<long>() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 50, 61); // the request_uri's 60 s

        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        Assert.Equal("alice", tokens.Str("account"));
        Assert.Equal("DPoP", tokens.Str("tokenType")); // the pushed dpop_jkt bound the code; redeemed with its key
        Assert.Equal(tokens.Str("jkt"), (await idp.IntrospectAsync(tokens.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Confidential_and_private_key_jwt_clients_push_with_their_authentication()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--par"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string confidential = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret", scopes = Scopes }))!.Str("clientHandle");
        string jwtApp = (await sidecar.CallAsync("createClient", new
        {
            issuer = idp.Issuer,
            clientId = "jwt-app",
            scopes = Scopes,
            privateKey = new { pemFile = Path.Combine(RepoPaths.Root, "tests", "idp", "fixtures", "client-rsa.key.pem"), keyId = "client-rsa" },
        }))!.Str("clientHandle");

        foreach (string client in new[] { confidential, jwtApp })
        {
            JsonObject tokens = await Sign.SignInAsync(sidecar, idp, client);
            Assert.Equal("alice", tokens.Str("account"));
        }

        // A wrong secret: the push itself is refused (RFC 9126 §2.3), before any browser.
        string wrong = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "not-the-secret", scopes = Scopes }))!.Str("clientHandle");
        RpcError refused = await sidecar.CallExpectingErrorAsync("initiateAuthCodeFlow", new { clientHandle = wrong, openBrowser = false });
        Assert.Equal(-32003, refused.Code);
        Assert.Equal("invalid_client", refused.DataString("error"));

        // buildAuthRequestUri pushes too.
        string uri = (await sidecar.CallAsync("buildAuthRequestUri", new { clientHandle = confidential, responseType = "code", redirectUri = "http://127.0.0.1:5000/callback", state = "s-123" }))!.Str("uri");
        Assert.Equal(["client_id", "request_uri"], System.Web.HttpUtility.ParseQueryString(new Uri(uri).Query).AllKeys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_server_that_requires_pushed_requests_gets_them_and_par_never_is_refused()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--require-par"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode created = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes }))!;
        Assert.True(created["serverConfiguration"]!["requirePushedAuthorizationRequests"]!.GetValue<bool>());
        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, created.Str("clientHandle"));
        Assert.Equal("alice", tokens.Str("account"));

        RpcError never = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", par = "never" });
        Assert.Equal(-32602, never.Code);
        Assert.Equal("par", never.DataString("field"));
        Assert.Contains("require_pushed_authorization_requests", never.Message, StringComparison.Ordinal);
        RpcError unknown = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", par = "sometimes" });
        Assert.Equal("par", unknown.DataString("field"));
    }

    [Fact]
    public async Task Without_the_metadata_auto_does_not_push_and_always_is_refused_but_never_opts_out()
    {
        IdpServer idp = await IdpServer.Shared; // PAR served, not advertised
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        Assert.Contains("code_challenge=", flow.Str("authUri"), StringComparison.Ordinal);
        Assert.DoesNotContain("request_uri", flow.Str("authUri"), StringComparison.Ordinal);
        await sidecar.CallAsync("cancelFlow", new { flowId = flow.Str("flowId") });

        RpcError always = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", par = "always" });
        Assert.Equal("par", always.DataString("field"));

        await using IdpServer advertising = await IdpServer.StartAsync(["--par"]);
        string optOut = (await sidecar.CallAsync("createClient", new { issuer = advertising.Issuer, clientId = "native-app", scopes = Scopes, par = "never" }))!.Str("clientHandle");
        JsonObject plain = await Sign.InitiateAsync(sidecar, optOut);
        Assert.Contains("code_challenge=", plain.Str("authUri"), StringComparison.Ordinal);
        await sidecar.CallAsync("cancelFlow", new { flowId = plain.Str("flowId") });
    }

    [Fact]
    public async Task An_expired_request_uri_ends_the_sign_in_with_invalid_request_uri()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--par", "--par-ttl", "2"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        Assert.InRange(flow["expiresAt"]!.GetValue<long>() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, 3);

        // The flow waits for its callback until the request_uri expires, then says so.
        RpcError expired = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32003, expired.Code);
        Assert.Equal("invalid_request_uri", expired.DataString("error"));
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);

        // The provider agrees: the browser now gets its error page for the request_uri.
        InvalidOperationException late = await Assert.ThrowsAsync<InvalidOperationException>(() => idp.AuthorizeAsync(flow.Str("authUri"), deliver: false));
        Assert.Contains("request_uri is invalid, expired", late.Message, StringComparison.Ordinal);
        Assert.Equal(-32004, (await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") })).Code);
    }
}
