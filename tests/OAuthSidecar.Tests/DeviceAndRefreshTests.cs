using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>The device authorization grant and refresh with rotation, against the real provider.</summary>
public sealed class DeviceAndRefreshTests
{
    [Fact]
    public async Task Device_flow_polls_honours_slow_down_and_returns_tokens()
    {
        // A provider of its own: the slow_down setting applies to the next pending poll of any device code.
        await using IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);

        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        string flowId = device.Str("flowId");
        Assert.Equal(1, device["interval"]!.GetValue<int>());
        Assert.Equal(idp.Issuer + "/device", device.Str("verificationUri"));
        Assert.Contains(device.Str("userCode"), device.Str("message"), StringComparison.Ordinal);
        Assert.InRange(device["expiresAt"]!.GetValue<long>() - device["expiresIn"]!.GetValue<long>() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), -3, 3);

        // The provider answers the next pending poll with slow_down: the interval must grow by 5 s (RFC 8628 §3.5).
        await idp.ConfigAsync(new JsonObject { ["slowDown"] = 1 });
        (_, Task<JsonObject> polling) = sidecar.Start("obtainTokenByDeviceFlow", new { flowId });
        JsonObject slowDown = await sidecar.WaitForNotificationAsync("deviceFlowPending", n => n.Str("error") == "slow_down");
        Assert.Equal(flowId, slowDown.Str("flowId"));
        Assert.Equal(6, slowDown["nextPollSeconds"]!.GetValue<int>());
        Assert.Equal(1, slowDown["attempt"]!.GetValue<int>());

        await idp.ApproveDeviceAsync(device.Str("userCode"));
        JsonObject response = await polling;
        JsonNode tokens = response["result"] ?? throw new Xunit.Sdk.XunitException(response.ToJsonString());
        Assert.Equal("alice", tokens.Str("account"));
        Assert.False(string.IsNullOrEmpty(tokens.Str("accessToken")));

        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained");
        Assert.Equal("urn:ietf:params:oauth:grant-type:device_code", obtained.Str("grantType"));

        // A well-behaved client polled at the new interval, so the provider never had to say slow_down again.
        Assert.Single(sidecar.Notifications, n => n["method"]!.GetValue<string>() == "deviceFlowPending" && n["params"].Str("error") == "slow_down");
        RpcError redeemed = await sidecar.CallExpectingErrorAsync("obtainTokenByDeviceFlow", new { flowId });
        Assert.Equal(-32004, redeemed.Code);
    }

    [Fact]
    public async Task Device_flow_reports_each_pending_answer_and_a_denial_as_oauth_error()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client, scopes = new[] { "openid" } }))!;

        (_, Task<JsonObject> polling) = sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") });
        await sidecar.WaitForNotificationAsync("deviceFlowPending", n => n["attempt"]!.GetValue<int>() == 2);
        JsonObject first = await sidecar.WaitForNotificationAsync("deviceFlowPending", n => n["attempt"]!.GetValue<int>() == 1);
        Assert.Equal("authorization_pending", first.Str("error"));
        Assert.Equal(1, first["nextPollSeconds"]!.GetValue<int>());

        await idp.ApproveDeviceAsync(device.Str("userCode"), deny: true);
        JsonObject response = await polling;
        Assert.Equal(-32003, response["error"]!["code"]!.GetValue<int>());
        Assert.Equal("access_denied", response["error"]!["data"].Str("error"));
    }

    [Fact]
    public async Task Cancel_flow_stops_device_polling()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        (_, Task<JsonObject> polling) = sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") });
        await sidecar.WaitForNotificationAsync("deviceFlowPending");
        await sidecar.CallAsync("cancelFlow", new { flowId = device.Str("flowId") });
        JsonObject response = await polling;
        Assert.Equal(-32800, response["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Refresh_rotates_then_reuse_of_the_old_token_fails_and_is_reported_removed()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject first = await Sign.SignInAsync(sidecar, idp, client);
        string original = first.Str("refreshToken");

        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken = original }))!;
        string rotated = refreshed.Str("refreshToken");
        Assert.NotEqual(original, rotated);
        Assert.NotEqual(first.Str("accessToken"), refreshed.Str("accessToken"));
        JsonObject updated = await sidecar.WaitForNotificationAsync("refreshTokenUpdated");
        Assert.Equal(rotated, updated.Str("refreshToken"));
        Assert.Equal(client, updated.Str("clientHandle"));
        Assert.Equal("alice", updated.Str("account"));
        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained", n => n.Str("grantType") == "refresh_token");
        Assert.DoesNotContain(rotated, obtained.ToJsonString(), StringComparison.Ordinal);

        // Reusing a rotated refresh token revokes the whole grant at the provider.
        RpcError reuse = await sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = original });
        Assert.Equal(-32003, reuse.Code);
        Assert.Equal("invalid_grant", reuse.DataString("error"));
        Assert.Equal(400, reuse.Data!["status"]!.GetValue<int>());
        JsonObject removed = await sidecar.WaitForNotificationAsync("refreshTokenRemoved");
        Assert.Equal(client, removed.Str("clientHandle"));
        Assert.StartsWith("invalid_grant", removed.Str("reason"), StringComparison.Ordinal);

        RpcError revoked = await sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = client, refreshToken = rotated });
        Assert.Equal("invalid_grant", revoked.DataString("error"));
    }
}
