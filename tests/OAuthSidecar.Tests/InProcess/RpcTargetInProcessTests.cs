using System.Text.Json.Nodes;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Tests.Engine;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Tests.InProcess;

/// <summary>The RPC target in process: protocol shapes in and out, engine outcomes mapped to the protocol's codes and field names.</summary>
public sealed class RpcTargetInProcessTests
{
    private const string Issuer = "https://idp.test";

    private static readonly object ExplicitServer = new { issuer = Issuer, tokenEndpoint = Issuer + "/token", authorizationEndpoint = Issuer + "/authorize", deviceAuthorizationEndpoint = Issuer + "/device" };

    [Fact]
    public async Task A_grant_returns_its_tokens_after_a_tokens_obtained_notification_without_them()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        string handle = await CreateClientAsync(sidecar);

        JsonObject result = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = handle, scopes = new[] { "api" } }))["result"]!.AsObject();

        Assert.Equal("at-1", result["accessToken"]!.GetValue<string>());
        Assert.Equal(["api"], result["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        JsonObject obtained = Assert.Single(sidecar.Notifications, n => n["method"]?.GetValue<string>() == "tokensObtained");
        Assert.Equal("client_credentials", obtained["params"]!["grantType"]!.GetValue<string>());
        Assert.DoesNotContain("at-1", obtained.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("client_credentials", Assert.Single(sidecar.Stub.Requests).Form["grant_type"]);
    }

    [Fact]
    public async Task An_engine_option_error_names_the_wire_field()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        string handle = await CreateClientAsync(sidecar);

        JsonObject error = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = handle, openBrowser = false, callback = new { timeoutSeconds = 0 } }))["error"]!.AsObject();

        Assert.Equal(-32602, error["code"]!.GetValue<int>());
        Assert.Equal("callback.timeoutSeconds", error["data"]!["field"]!.GetValue<string>());
        Assert.StartsWith("callback.timeoutSeconds must be between", error["message"]!.GetValue<string>(), StringComparison.Ordinal);

        JsonObject extra = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = handle, openBrowser = false, redirectUri = "dev.example.app:/cb", extraParams = new Dictionary<string, string> { ["state"] = "mine" } }))["error"]!.AsObject();
        Assert.Equal("extraParams.state", extra["data"]!["field"]!.GetValue<string>());
        Assert.DoesNotContain("{", extra["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_handles_and_missing_interaction_get_their_codes()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        JsonObject unknown = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = "c_nope" }))["error"]!.AsObject();
        Assert.Equal(-32004, unknown["code"]!.GetValue<int>());
        Assert.Equal("c_nope", unknown["data"]!["clientHandle"]!.GetValue<string>());
        Assert.Contains("createClient", unknown["message"]!.GetValue<string>(), StringComparison.Ordinal);

        string handle = await CreateClientAsync(sidecar);
        JsonObject none = (await sidecar.CallAsync("getCredentials", new { clientHandle = handle, interactive = "none" }))["error"]!.AsObject();
        Assert.Equal(-32008, none["code"]!.GetValue<int>());
        Assert.Empty(sidecar.Stub.Requests);
    }

    [Fact]
    public async Task Create_client_with_a_provider_reports_the_preset_and_its_quirks()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        JsonObject created = (await sidecar.CallAsync("createClient", new { provider = "github", clientId = "Iv1.app", authority = "https://ghe.example" }))["result"]!.AsObject();
        Assert.Equal("github", created["provider"]!.GetValue<string>());
        string[] quirks = created["quirks"]!.AsArray().Select(q => q!.GetValue<string>()).ToArray();
        Assert.Contains(quirks, q => q.Contains("client_secret_post", StringComparison.Ordinal));
        Assert.Equal("https://ghe.example/login/oauth/access_token", created["serverConfiguration"]!["tokenEndpoint"]!.GetValue<string>());

        JsonObject plain = (await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = ExplicitServer }))["result"]!.AsObject();
        Assert.Null(plain["provider"]);
        Assert.Empty(plain["quirks"]!.AsArray());

        JsonObject unknown = (await sidecar.CallAsync("createClient", new { provider = "myspace", clientId = "x" }))["error"]!.AsObject();
        Assert.Equal(-32602, unknown["code"]!.GetValue<int>());
        Assert.Equal("provider", unknown["data"]!["field"]!.GetValue<string>());
        Assert.Equal("The parameter 'provider' must be 'github', 'gitlab', 'google', 'entra', 'okta', 'auth0' or 'keycloak'.", unknown["message"]!.GetValue<string>());
        JsonObject noAuthority = (await sidecar.CallAsync("createClient", new { provider = "okta", clientId = "x" }))["error"]!.AsObject();
        Assert.Equal("authority", noAuthority["data"]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Resource_is_one_uri_or_an_array_and_travels_with_authorization_and_refresh()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        string handle = (await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = ExplicitServer, resource = "https://api.one.example" }))["result"]!["clientHandle"]!.GetValue<string>();

        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = handle, openBrowser = false, redirectUri = "dev.example.app:/cb", resource = new[] { "urn:a", "urn:b" } }))["result"]!.AsObject();
        Assert.Contains("resource=urn%3Aa&resource=urn%3Ab", flow["authUri"]!.GetValue<string>(), StringComparison.Ordinal);
        JsonObject byDefault = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = handle, openBrowser = false, redirectUri = "dev.example.app:/cb" }))["result"]!.AsObject();
        Assert.Contains("resource=https%3A%2F%2Fapi.one.example", byDefault["authUri"]!.GetValue<string>(), StringComparison.Ordinal);

        JsonObject refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = handle, refreshToken = "rt-0", scopes = new[] { "openid", "offline_access" }, resource = "urn:c" }))["result"]!.AsObject();
        StubRequest refresh = sidecar.Stub.Requests.Last();
        Assert.Equal("urn:c", refresh.Form["resource"]);
        Assert.Equal("openid", refresh.Form["scope"]);
        Assert.Equal("rt-1", refreshed["refreshToken"]!.GetValue<string>());

        JsonObject wrongType = (await sidecar.CallAsync("refresh", new { clientHandle = handle, refreshToken = "rt-0", resource = 5 }))["error"]!.AsObject();
        Assert.Equal(-32602, wrongType["code"]!.GetValue<int>());
        JsonObject notUri = (await sidecar.CallAsync("getCredentials", new { clientHandle = handle, interactive = "none", resource = "not a uri" }))["error"]!.AsObject();
        Assert.Equal("resource", notUri["data"]!["field"]!.GetValue<string>());
        JsonObject badDefault = (await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = ExplicitServer, resource = new[] { "https://ok.example", "https://x.example/#frag" } }))["error"]!.AsObject();
        Assert.Equal("resource", badDefault["data"]!["field"]!.GetValue<string>());
    }

    [Fact]
    public void Every_engine_option_has_a_wire_name()
    {
        string[] declared = [.. typeof(CoreOption).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];
        Assert.All(declared, option => Assert.True(CoreOption.All.Contains(option), $"{option} is declared but missing from CoreOption.All"));
        Assert.All(CoreOption.All, option => Assert.True(WireNames.Fields.ContainsKey(option), $"{option} has no wire name"));
        Assert.Equal("extraAuthParams.scope", WireNames.Field(CoreOption.Member(CoreOption.ExtraAuthParams, "scope")));
        var exception = new InvalidOptionException(CoreOption.FlowTimeout, $"{{{CoreOption.FlowTimeout}}} must be positive ({{{CoreOption.RedirectUri}}} too; {{not an option}}).");
        Assert.Equal("callback.timeoutSeconds must be positive (redirectUri too; {not an option}).", WireNames.Message(exception));
        Assert.Equal($"{CoreOption.FlowTimeout} must be positive ({CoreOption.RedirectUri} too; {{not an option}}).", exception.Message);
    }

    private static async Task<string> CreateClientAsync(InProcessSidecar sidecar)
    {
        JsonObject created = await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = ExplicitServer });
        return created["result"]!["clientHandle"]!.GetValue<string>();
    }
}
