using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// Token responses that break RFC 6749 §5.1 (issue 14, point 6), served by the real provider
/// (tests/idp/token-response-mutation.mjs) to the real sidecar: an unusable or missing <c>token_type</c> is refused
/// with -32003, a non-string <c>access_token</c> is never turned into text, and a missing or unusable
/// <c>expires_in</c> is taken as 3600 s (and logged) instead of a token that is kept forever.
/// </summary>
public sealed class TokenResponseRulesTests
{
    [Theory]
    [InlineData("token-type-mac", "token_type 'mac'")]
    [InlineData("no-token-type", "no token_type")]
    public async Task A_token_type_that_is_not_bearer_is_refused_and_nothing_is_kept(string mutation, string said)
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        (string client, string flowId) = await ConsentWithMutationAsync(idp, sidecar, mutation);

        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId });
        Assert.Equal(-32003, refused.Code);
        Assert.Equal("unsupported_token_type", refused.DataString("error"));
        Assert.Contains(said, refused.Message, StringComparison.Ordinal);
        Assert.Contains("only Bearer can be used", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(sidecar.Notifications, n => n["method"]!.GetValue<string>() == "tokensObtained");

        // Nothing was stored: a silent getCredentials needs a sign-in.
        RpcError silent = await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = client, interactive = "none" });
        Assert.Equal(-32008, silent.Code);
    }

    [Fact]
    public async Task A_lowercase_bearer_is_accepted_and_reported_as_Bearer()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "password-app", clientSecret = "password-secret", scopes = Sign.OpenIdScopes }))!.Str("clientHandle");
        await idp.ConfigAsync(new JsonObject { ["tokenResponseMutation"] = "lowercase-bearer" });
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByUsernamePassword", new { clientHandle = client, username = "bob", password = "bob-password" }))!;
        Assert.Equal("Bearer", tokens.Str("tokenType"));
    }

    [Fact]
    public async Task An_access_token_that_is_not_a_string_is_refused()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "password-app", clientSecret = "password-secret", scopes = Sign.OpenIdScopes }))!.Str("clientHandle");
        await idp.ConfigAsync(new JsonObject { ["tokenResponseMutation"] = "numeric-access-token" });

        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenByUsernamePassword", new { clientHandle = client, username = "bob", password = "bob-password" });
        Assert.Equal(-32006, refused.Code);
        Assert.Contains("access_token that is not a string", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("12345", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-expires-in", "nothing")]
    [InlineData("zero-expires-in", "0")]
    [InlineData("negative-expires-in", "-5")]
    [InlineData("fractional-expires-in", "59.5")]
    public async Task An_unusable_expires_in_is_taken_as_an_hour_and_logged(string mutation, string sent)
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        (string client, string flowId) = await ConsentWithMutationAsync(idp, sidecar, mutation);
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId }))!;
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(3600, tokens["expiresIn"]!.GetValue<long>());
        Assert.InRange(tokens["expiresAt"]!.GetValue<long>(), before + 3600, after + 3600);
        await sidecar.WaitForStderrAsync($"sent {sent} as expires_in; the access token is taken to expire in 3600 s");
    }

    // A sign-in up to the redemption: the user consented, and the provider will answer the redemption mutated.
    private static async Task<(string Client, string FlowId)> ConsentWithMutationAsync(IdpServer idp, SidecarProcess sidecar, string mutation)
    {
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        await idp.AuthorizeAsync(flow.Str("authUri"));
        await idp.ConfigAsync(new JsonObject { ["tokenResponseMutation"] = mutation });
        return (client, flow.Str("flowId"));
    }
}
