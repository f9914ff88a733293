using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>Common steps of the end-to-end tests.</summary>
public static class Sign
{
    public static readonly string[] OpenIdScopes = ["openid", "offline_access", "profile"];

    /// <summary>Creates a client for the test provider's public native client.</summary>
    public static async Task<string> CreateNativeClientAsync(SidecarProcess sidecar, IdpServer idp, string[]? scopes = null)
    {
        JsonNode? result = await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = scopes ?? OpenIdScopes });
        return result!["clientHandle"]!.GetValue<string>();
    }

    /// <summary>Starts an auth code flow without opening a browser.</summary>
    public static async Task<JsonObject> InitiateAsync(SidecarProcess sidecar, string clientHandle, object? extra = null)
    {
        var parameters = new JsonObject { ["clientHandle"] = clientHandle, ["openBrowser"] = false };
        if (extra is not null)
        {
            foreach ((string key, JsonNode? value) in System.Text.Json.JsonSerializer.SerializeToNode(extra)!.AsObject())
            {
                parameters[key] = value?.DeepClone();
            }
        }

        return (await sidecar.CallAsync("initiateAuthCodeFlow", parameters))!.AsObject();
    }

    /// <summary>A whole sign-in by the auth code flow: initiate, the user consents, redeem.</summary>
    public static async Task<JsonObject> SignInAsync(SidecarProcess sidecar, IdpServer idp, string clientHandle)
    {
        JsonObject flow = await InitiateAsync(sidecar, clientHandle);
        await idp.AuthorizeAsync(flow["authUri"]!.GetValue<string>());
        return (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow["flowId"]!.GetValue<string>() }))!.AsObject();
    }

    public static string Str(this JsonNode? node, string name) => node![name]!.GetValue<string>();

    /// <summary>
    /// Waits until the wall clock is past <paramref name="unixSeconds"/> (an access token's <c>expiresAt</c>): the one
    /// event a stored token's expiry is, with a real provider and a real clock. Tokens for this are issued with a 1 s
    /// lifetime, so the wait is about a second.
    /// </summary>
    public static async Task WaitUntilPastAsync(long unixSeconds)
    {
        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() <= unixSeconds)
        {
            await Task.Delay(100);
        }
    }
}
