using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>TLS options (flytekit's <c>verify</c>) and the standard proxy variables, against the real provider.</summary>
public sealed class TransportOptionsTests
{
    [Fact]
    public async Task Tls_provider_needs_its_ca_bundle_or_insecure_skip_verify()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--tls", "--device-interval", "1"]);
        Assert.StartsWith("https://", idp.Issuer, StringComparison.Ordinal);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();

        RpcError untrusted = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app" });
        Assert.Equal(-32006, untrusted.Code);
        Assert.Contains("SSL", untrusted.DataString("reason"), StringComparison.OrdinalIgnoreCase);

        string trusted = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Sign.OpenIdScopes, tls = new { caBundlePath = idp.CaFile } }))!.Str("clientHandle");
        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, trusted);
        Assert.Equal("alice", tokens.Str("account"));

        string insecure = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret", tls = new { insecureSkipVerify = true } }))!.Str("clientHandle");
        Assert.NotNull(await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = insecure }));
        await sidecar.WaitForStderrAsync("insecureSkipVerify");

        RpcError badBundle = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", tls = new { caBundlePath = "/no/such/ca.pem" } });
        Assert.Equal(-32602, badBundle.Code);
        Assert.Equal("tls.caBundlePath", badBundle.DataString("field"));
    }

    [Fact]
    public async Task Requests_go_through_http_proxy_and_no_proxy_bypasses_it()
    {
        IdpServer idp = await IdpServer.Shared;
        await using ProxyServer proxy = await ProxyServer.StartAsync();
        await using (SidecarProcess proxied = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["HTTP_PROXY"] = proxy.Url, ["HTTPS_PROXY"] = proxy.Url, ["NO_PROXY"] = null, ["no_proxy"] = null }))
        {
            string client = await Sign.CreateNativeClientAsync(proxied, idp);
            Assert.Equal(2, (await proxy.StatsAsync())["requests"]!.GetValue<int>()); // the metadata and its JWKS
            Assert.Equal("alice", (await Sign.SignInAsync(proxied, idp, client)).Str("account"));
            Assert.Equal(3, (await proxy.StatsAsync())["requests"]!.GetValue<int>()); // the token request; the id_token's keys were already known

            // A second client of the same issuer reuses the discovered metadata (cached per issuer).
            string other = (await proxied.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret" }))!.Str("clientHandle");
            Assert.Equal(3, (await proxy.StatsAsync())["requests"]!.GetValue<int>());
            Assert.NotNull(await proxied.CallAsync("obtainTokenForClient", new { clientHandle = other }));
        }

        JsonObject stats = await proxy.StatsAsync();
        string host = new Uri(idp.Issuer).Authority;
        Assert.Equal(4, stats["byHost"]![host]!.GetValue<int>());

        int before = stats["requests"]!.GetValue<int>();
        await using (SidecarProcess bypassing = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["HTTP_PROXY"] = proxy.Url, ["NO_PROXY"] = "127.0.0.1" }))
        {
            string client = (await bypassing.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret" }))!.Str("clientHandle");
            Assert.NotNull(await bypassing.CallAsync("obtainTokenForClient", new { clientHandle = client }));
        }

        Assert.Equal(before, (await proxy.StatsAsync())["requests"]!.GetValue<int>());
    }
}
