using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// Explicit endpoints get the checks discovered ones get (issue 14, points 4 and 6), through the real process:
/// https, or http on a loopback address, unless <c>allowInsecureHttp</c> says otherwise (with a warning); no other
/// scheme and nothing a launcher could take for an option; and an issuer whenever id_tokens must be checked.
/// </summary>
public sealed class ExplicitEndpointsTests
{
    [Fact]
    public async Task A_plain_http_token_endpoint_off_loopback_is_refused_before_any_secret_is_sent()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        var server = new { issuer = "https://idp.example", tokenEndpoint = "http://192.0.2.2:8080/token" };
        RpcError refused = await sidecar.CallExpectingErrorAsync("createClient", new { clientId = "app", clientSecret = "a-secret-value", serverConfiguration = server });
        Assert.Equal(-32602, refused.Code);
        Assert.Equal("serverConfiguration.tokenEndpoint", refused.DataString("field"));
        Assert.Contains("plain http", refused.Message, StringComparison.Ordinal);
        Assert.Contains("allowInsecureHttp", refused.Message, StringComparison.Ordinal);

        JsonNode allowed = (await sidecar.CallAsync("createClient", new { clientId = "app", clientSecret = "a-secret-value", serverConfiguration = server, allowInsecureHttp = true }))!;
        Assert.StartsWith("c_", allowed.Str("clientHandle"), StringComparison.Ordinal);
        await sidecar.WaitForStderrAsync("Plain http endpoints are allowed for client app");
    }

    [Theory]
    [InlineData("javascript:alert(document.cookie)")]
    [InlineData("file:///etc/passwd")]
    [InlineData("vscode://vscode.git/clone?url=x")]
    [InlineData("--new-window=https://evil.example")]
    [InlineData("not a url")]
    public async Task An_authorization_endpoint_that_is_not_an_https_url_is_refused(string endpoint)
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError refused = await sidecar.CallExpectingErrorAsync("createClient", new
        {
            clientId = "app",
            serverConfiguration = new { issuer = "https://idp.example", tokenEndpoint = "https://idp.example/token", authorizationEndpoint = endpoint },
            allowInsecureHttp = true,
        });
        Assert.Equal(-32602, refused.Code);
        Assert.Equal("serverConfiguration.authorizationEndpoint", refused.DataString("field"));
    }

    [Fact]
    public async Task A_pushed_authorization_request_endpoint_in_plain_http_is_refused()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError refused = await sidecar.CallExpectingErrorAsync("createClient", new
        {
            clientId = "app",
            clientSecret = "s3cret-par",
            serverConfiguration = new { issuer = "https://idp.example", tokenEndpoint = "https://idp.example/token", pushedAuthorizationRequestEndpoint = "http://192.0.2.2/par" },
        });
        Assert.Equal(-32602, refused.Code);
        Assert.Equal("serverConfiguration.pushedAuthorizationRequestEndpoint", refused.DataString("field"));
        Assert.DoesNotContain("s3cret-par", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Openid_with_explicit_endpoints_needs_the_issuer()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError refused = await sidecar.CallExpectingErrorAsync("createClient", new { clientId = "app", scopes = new[] { "openid" }, serverConfiguration = new { tokenEndpoint = "https://idp.example/token" } });
        Assert.Equal(-32602, refused.Code);
        Assert.Equal("serverConfiguration.issuer", refused.DataString("field"));
    }

    [Fact]
    public async Task An_id_token_is_refused_when_the_client_has_no_issuer_to_check_it_against()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        var server = new { authorizationEndpoint = idp.Issuer + "/auth", tokenEndpoint = idp.Issuer + "/token", jwksUri = idp.Issuer + "/jwks" };
        string client = (await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = server }))!.Str("clientHandle");
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client, scopes = new[] { "openid" }, openBrowser = false }))!.AsObject();
        await idp.AuthorizeAsync(flow.Str("authUri"));

        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32007, refused.Code);
        Assert.Contains("no issuer", refused.Message, StringComparison.Ordinal);
    }
}
