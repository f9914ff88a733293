using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// getCredentials with <c>interactive: "none"</c> right after a sign-in, against the unmodified test provider
/// (oidc-provider) granting fewer scopes than were asked for (it drops scopes it does not know), with short-lived
/// tokens: a token comes back, stored or silently refreshed, never -32008 (issue 13).
/// </summary>
public sealed class GrantedScopesTests
{
    [Fact]
    public async Task A_sixty_second_token_is_handed_out_right_after_the_sign_in()
    {
        // The case: openid and offline_access, 60 s tokens, at once with interactive "none".
        await using IdpServer idp = await IdpServer.StartAsync(["--access-token-ttl", "60"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, idp);
        string[] scopes = ["openid", "offline_access"];
        JsonNode signedIn = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, scopes }))!;
        int tokenRequests = (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>();

        JsonNode silent = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, scopes, interactive = "none" }))!;
        Assert.Equal(signedIn.Str("accessToken"), silent.Str("accessToken"));
        Assert.Equal(tokenRequests, (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_grant_with_fewer_scopes_than_asked_is_refreshed_without_scope_and_never_needs_a_new_sign_in()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--access-token-ttl", "1"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await PrepareAsync(sidecar, idp);
        // 'calendar' is not a scope of the provider: it signs in with openid and offline_access only.
        string[] asked = ["openid", "offline_access", "calendar"];
        JsonNode signedIn = (await sidecar.CallAsync("getCredentials", new { clientHandle = client, scopes = asked }))!;
        Assert.Equal(new[] { "offline_access", "openid" }, signedIn["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).Order(StringComparer.Ordinal));

        // The token has expired: a silent refresh. Had it sent scope=calendar, the provider would have answered
        // invalid_scope "refresh token missing requested scope" and the caller -32008.
        await Sign.WaitUntilPastAsync(signedIn["expiresAt"]!.GetValue<long>());
        int refreshes = await RefreshesAsync(idp);
        JsonObject again = await sidecar.SendAsync("getCredentials", new { clientHandle = client, scopes = asked, interactive = "none" });
        Assert.Null(again["error"]);
        Assert.NotEqual(signedIn.Str("accessToken"), again["result"].Str("accessToken"));
        Assert.Equal(refreshes + 1, await RefreshesAsync(idp));

        // The same grant for the reserved scopes alone: no stored token under that key, a silent refresh again.
        JsonObject narrower = await sidecar.SendAsync("getCredentials", new { clientHandle = client, scopes = new[] { "openid", "offline_access" }, interactive = "none" });
        Assert.Null(narrower["error"]);
        Assert.Equal(new[] { "offline_access", "openid" }, narrower["result"]!["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(refreshes + 2, await RefreshesAsync(idp));
    }

    private static async Task<string> PrepareAsync(SidecarProcess sidecar, IdpServer idp)
    {
        sidecar.RequestHandler = (method, parameters) =>
        {
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        return await Sign.CreateNativeClientAsync(sidecar, idp, ["openid"]);
    }

    private static async Task<int> RefreshesAsync(IdpServer idp) =>
        (await idp.StatsAsync())["token"]!["byGrantType"]!["refresh_token"]?.GetValue<int>() ?? 0;
}
