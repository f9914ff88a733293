using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// Step-up through the real process (issue 16, point 5): <c>parseChallenge</c> over real <c>WWW-Authenticate</c>
/// headers, and a challenge's <c>acr_values</c>/<c>max_age</c> handed to <c>getCredentials</c>, which the test
/// provider honours (its ID tokens carry the login's <c>acr</c> and <c>auth_time</c>: tests/idp/step-up.mjs).
/// </summary>
public sealed class StepUpTests
{
    private const string Mfa = "urn:sidecar:acr:mfa";
    private static readonly string[] Scopes = ["openid", "offline_access", "profile"];

    public static TheoryData<string, string, string?, string?> Headers => new()
    {
        // RFC 6750 §3.1
        { "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"", "Bearer", "invalid_token", null },
        // RFC 9470 §3
        { "Bearer error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", acr_values=\"myACR\"", "Bearer", "insufficient_user_authentication", "acrValues" },
        { "Bearer error=\"insufficient_user_authentication\", error_description=\"More recent authentication is required\", max_age=\"5\"", "Bearer", "insufficient_user_authentication", "maxAge" },
        // Entra claims challenge (learn.microsoft.com/entra/identity-platform/claims-challenge)
        { "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19fQ==\"", "Bearer", "insufficient_claims", "claims" },
        // GitHub's MCP server (RFC 9728 resource_metadata, github/github-mcp-server#1804)
        { "Bearer error=\"invalid_request\", error_description=\"No access token was provided in this request\", resource_metadata=\"https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp/\"", "Bearer", "invalid_request", "resourceMetadata" },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public async Task Parse_challenge_reads_real_headers(string header, string scheme, string? error, string? member)
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode result = (await sidecar.CallAsync("parseChallenge", new { wwwAuthenticate = header }))!;
        Assert.Equal(scheme, result.Str("scheme"));
        Assert.Equal(error, result["error"]?.GetValue<string>());
        switch (member)
        {
            case "acrValues":
                Assert.Equal("myACR", Assert.Single(result["acrValues"]!.AsArray())!.GetValue<string>());
                break;
            case "maxAge":
                Assert.Equal(5, result["maxAge"]!.GetValue<long>());
                break;
            case "claims":
                Assert.Equal("""{"access_token":{"acrs":{"essential":true,"value":"cp1"}}}""", result.Str("claims"));
                break;
            case "resourceMetadata":
                Assert.Equal("https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp/", result.Str("resourceMetadata"));
                break;
        }
    }

    [Theory]
    [InlineData("Bearer error=\"unterminated")]
    [InlineData("")]
    [InlineData("=\"no scheme\"")]
    public async Task A_malformed_header_is_invalid_params_and_the_process_keeps_serving(string header)
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        RpcError error = await sidecar.CallExpectingErrorAsync("parseChallenge", new { wwwAuthenticate = header });
        Assert.Equal(-32602, error.Code);
        Assert.Equal("wwwAuthenticate", error.DataString("field"));
        Assert.NotNull(await sidecar.CallAsync("parseChallenge", new { wwwAuthenticate = "Bearer" }));
    }

    [Fact]
    public async Task A_step_up_challenge_gets_a_token_the_provider_issued_for_it_and_the_account_keeps_serving()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        var opened = new List<string>();
        sidecar.RequestHandler = (method, parameters) =>
        {
            Assert.Equal("window/showDocument", method);
            lock (opened)
            {
                opened.Add(parameters.Str("uri"));
            }

            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);
        JsonNode first = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!;
        Assert.Equal("browser", first.Str("method"));
        Assert.Equal("urn:sidecar:acr:password", first["idTokenClaims"].Str("acr"));

        // The resource refuses the token: it wants a second factor within the last 10 minutes (RFC 9470 §3).
        JsonNode challenge = (await sidecar.CallAsync("parseChallenge", new { wwwAuthenticate = $"Bearer error=\"insufficient_user_authentication\", acr_values=\"{Mfa}\", max_age=600" }))!;
        var stepUp = new { clientHandle = client, acrValues = challenge["acrValues"]!.DeepClone(), maxAge = challenge["maxAge"]!.GetValue<long>() };

        RpcError notWithout = await sidecar.CallExpectingErrorAsync("getCredentials", new { stepUp.clientHandle, stepUp.acrValues, stepUp.maxAge, interactive = "none" });
        Assert.Equal(-32008, notWithout.Code);
        Assert.Contains("step-up", notWithout.Message, StringComparison.Ordinal);
        Assert.Contains("urn:sidecar:acr:password", notWithout.Message, StringComparison.Ordinal);

        JsonNode stepped = (await sidecar.CallAsync("getCredentials", stepUp))!;
        Assert.Equal("browser", stepped.Str("method"));
        Assert.Equal(Mfa, stepped["idTokenClaims"].Str("acr"));
        Assert.NotEqual(first.Str("accessToken"), stepped.Str("accessToken"));
        Assert.Equal(2, opened.Count);
        System.Collections.Specialized.NameValueCollection sent = System.Web.HttpUtility.ParseQueryString(new Uri(opened[1]).Query);
        Assert.Equal(Mfa, sent["acr_values"]);
        Assert.Equal("600", sent["max_age"]);

        // The stepped-up token now satisfies the challenge without a sign-in, and plain requests keep being served.
        JsonNode again = (await sidecar.CallAsync("getCredentials", new { stepUp.clientHandle, stepUp.acrValues, stepUp.maxAge, interactive = "none" }))!;
        Assert.Equal(stepped.Str("accessToken"), again.Str("accessToken"));
        Assert.Equal("stored", again.Str("method"));
        Assert.NotNull(await sidecar.CallAsync("getCredentials", new { clientHandle = client, interactive = "none" }));
        Assert.Equal(2, opened.Count);
    }

    [Fact]
    public async Task A_sign_in_older_than_max_age_is_not_handed_out()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        sidecar.RequestHandler = (method, parameters) =>
        {
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);
        await idp.ConfigAsync(new JsonObject { ["idTokenMutation"] = "stale-auth-time" }); // the sign-in looks an hour old
        await sidecar.CallAsync("getCredentials", new { clientHandle = client });
        await idp.ConfigAsync(new JsonObject { ["idTokenMutation"] = "none" });

        RpcError error = await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = client, maxAge = 600, interactive = "none" });
        Assert.Equal(-32008, error.Code);
        Assert.Contains("more than the 600 s allowed", error.Message, StringComparison.Ordinal);
        JsonNode fresh = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, maxAge = 600 }))!;
        Assert.Equal("browser", fresh.Str("method"));
        long authTime = fresh["idTokenClaims"]!["auth_time"]!.GetValue<long>();
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - authTime, -60, 600);
    }
}
