using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>No token, code or secret in anything the process writes besides results and the two notifications made to carry them.</summary>
public sealed class SecretsTests
{
    [Fact]
    public async Task Nothing_secret_reaches_stderr_or_log_messages()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--log-level", "debug");
        var secrets = new List<string>();

        string confidential = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret", scopes = Sign.OpenIdScopes }))!.Str("clientHandle");
        secrets.Add("confidential-secret");
        JsonObject flow = await Sign.InitiateAsync(sidecar, confidential);
        string codeChallenge = System.Web.HttpUtility.ParseQueryString(new Uri(flow.Str("authUri")).Query)["code_challenge"]!;
        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = flow.Str("flowId") }))!;
        secrets.Add(callback["params"].Str("code"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;
        secrets.AddRange([tokens.Str("accessToken"), tokens.Str("refreshToken"), tokens.Str("idToken")]);

        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = confidential, refreshToken = tokens.Str("refreshToken") }))!;
        secrets.AddRange([refreshed.Str("accessToken"), refreshed.Str("refreshToken")]);
        await sidecar.CallExpectingErrorAsync("refresh", new { clientHandle = confidential, refreshToken = tokens.Str("refreshToken") });

        string native = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = native }))!;
        (_, Task<JsonObject> polling) = sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") });
        await sidecar.WaitForNotificationAsync("deviceFlowPending");
        await idp.ApproveDeviceAsync(device.Str("userCode"));
        JsonNode deviceTokens = (await polling)["result"]!;
        secrets.AddRange([deviceTokens.Str("accessToken"), deviceTokens.Str("refreshToken")]);

        // A forged callback carrying a code-like value and an error description must not leak it either.
        await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = "f_nope", authResponse = new { code = "leaky-code-value-123" } });

        await sidecar.CallAsync("shutdown");
        await sidecar.StopAsync(); // all of stderr, to its last line
        string diagnostics = sidecar.Stderr + "\n" + string.Join("\n", sidecar.Notifications
            .Where(n => n["method"]!.GetValue<string>() is not ("callbackReceived" or "refreshTokenUpdated"))
            .Select(n => n.ToJsonString()));
        Assert.Contains("registered", diagnostics, StringComparison.Ordinal); // logging did happen
        foreach (string secret in secrets)
        {
            Assert.False(diagnostics.Contains(secret, StringComparison.Ordinal), $"A secret ({secret[..4]}…) was written to stderr or a notification.");
        }

        // The PKCE code verifier never leaves the process: no 43-character word written anywhere hashes to the challenge.
        foreach (System.Text.RegularExpressions.Match word in System.Text.RegularExpressions.Regex.Matches(diagnostics, "(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"))
        {
            string challenge = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(word.Value))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.NotEqual(codeChallenge, challenge);
        }
    }
}

/// <summary>The leak check that runs when every end-to-end test disposes its sidecar does catch a leak.</summary>
public sealed class SecretCheckTests
{
    [Fact]
    public async Task The_dispose_time_leak_check_fails_when_a_secret_appears_in_stderr()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        sidecar.CheckSecretsOnDispose = false;
        const string Value = "leak-check-value-123";
        // The test treats Value as a code (parseAuthResponse answers it back), while the sidecar logs it as a client id.
        await sidecar.CallAsync("parseAuthResponse", new { query = "code=" + Value });
        await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = Value });
        await sidecar.WaitForStderrAsync(Value);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(sidecar.AssertNoSecretLeaked);
    }
}
