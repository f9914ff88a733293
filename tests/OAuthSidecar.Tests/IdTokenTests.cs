using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// id_token validation (OpenID Connect Core §3.1.3.7) against the real provider serving broken tokens. Each test has
/// a provider of its own: a mutation applies to the next token response of any client.
/// </summary>
public sealed class IdTokenTests
{
    [Theory]
    [InlineData("tamper-signature", "signature")]
    [InlineData("wrong-audience", "audience")]
    [InlineData("wrong-nonce", "nonce")]
    [InlineData("expired", "expired")]
    [InlineData("wrong-issuer", "issuer")]
    [InlineData("azp-mismatch", "azp")]
    [InlineData("alg-none", "not signed")]
    [InlineData("unknown-key", "does not publish")]
    [InlineData("no-sub", "no sub claim")]
    [InlineData("numeric-sub", "no sub claim")]
    [InlineData("unknown-crit", "critical extensions")]
    [InlineData("drop", "without an id_token")]
    public async Task A_broken_id_token_fails_with_invalid_id_token_and_its_reason(string mutation, string reasonPart)
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        await idp.AuthorizeAsync(flow.Str("authUri"));
        await idp.ConfigAsync(new JsonObject { ["idTokenMutation"] = mutation });

        RpcError error = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });
        Assert.Equal(-32007, error.Code);
        Assert.Contains(reasonPart, error.DataString("reason"), StringComparison.Ordinal);
        Assert.DoesNotContain(sidecar.Notifications, n => n["method"]!.GetValue<string>() == "tokensObtained");

        // The next sign-in, with an honest token, succeeds.
        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, client);
        Assert.Equal("alice", tokens.Str("account"));
    }

    [Fact]
    public async Task A_rotated_signing_key_is_fetched_again_once()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject first = await Sign.SignInAsync(sidecar, idp, client);

        string kid = (await idp.PostAsync("/rotate-keys", new JsonObject { ["keepOld"] = false })).Str("kid");
        JsonObject second = await Sign.SignInAsync(sidecar, idp, client);
        Assert.Equal("alice", second.Str("account"));
        string header = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(Pad(second.Str("idToken").Split('.')[0])));
        Assert.Contains(kid, header, StringComparison.Ordinal);
        Assert.NotEqual(first.Str("idToken"), second.Str("idToken"));
    }

    [Fact]
    public async Task Refresh_validates_the_new_id_token_too()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, client);
        await idp.ConfigAsync(new JsonObject { ["idTokenMutation"] = "wrong-audience" });
        RpcError error = await sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") });
        Assert.Equal(-32007, error.Code);
    }

    private static string Pad(string base64Url)
    {
        string s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
    }
}
