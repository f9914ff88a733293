using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>The password, JWT bearer, SAML bearer grants and private_key_jwt, against grant handlers that really validate.</summary>
public sealed class GrantTests
{
    private static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "idp", "fixtures", name);

    [Fact]
    public async Task Password_grant_signs_in_and_a_wrong_password_is_invalid_grant()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "password-app", clientSecret = "password-secret", scopes = Sign.OpenIdScopes }))!.Str("clientHandle");

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByUsernamePassword", new { clientHandle = client, username = "bob", password = "bob-password" }))!;
        Assert.Equal("bob", tokens.Str("account"));
        Assert.Equal("bob", tokens["idTokenClaims"].Str("sub"));
        Assert.False(string.IsNullOrEmpty(tokens.Str("refreshToken")));
        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained");
        Assert.Equal("password", obtained.Str("grantType"));

        RpcError wrong = await sidecar.CallExpectingErrorAsync("obtainTokenByUsernamePassword", new { clientHandle = client, username = "bob", password = "guess-123456" });
        Assert.Equal(-32003, wrong.Code);
        Assert.Equal("invalid_grant", wrong.DataString("error"));
        Assert.DoesNotContain("guess-123456", sidecar.AllDiagnostics(), StringComparison.Ordinal);
        Assert.DoesNotContain("bob-password", sidecar.AllDiagnostics(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jwt_bearer_assertion_is_exchanged_and_an_expired_one_refused()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "assertion-app", clientSecret = "assertion-secret", tokenEndpointAuthMethod = "client_secret_post" }))!.Str("clientHandle");
        string assertion = (await idp.PostAsync("/jwt-assertion", new JsonObject { ["sub"] = "alice" })).Str("assertion");

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAssertion", new { clientHandle = client, assertion, grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer", scopes = new[] { "openid" } }))!;
        Assert.Equal("alice", tokens.Str("account"));
        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained");
        Assert.Equal("urn:ietf:params:oauth:grant-type:jwt-bearer", obtained.Str("grantType"));

        string expired = (await idp.PostAsync("/jwt-assertion", new JsonObject { ["sub"] = "alice", ["expiresIn"] = -600 })).Str("assertion");
        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenByAssertion", new { clientHandle = client, assertion = expired, grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer" });
        Assert.Equal("invalid_grant", refused.DataString("error"));

        RpcError badType = await sidecar.CallExpectingErrorAsync("obtainTokenByAssertion", new { clientHandle = client, assertion, grantType = "urn:example:magic" });
        Assert.Equal(-32602, badType.Code);
        Assert.Equal("grantType", badType.DataString("field"));
        Assert.DoesNotContain(assertion, sidecar.AllDiagnostics(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Saml2_bearer_assertion_is_base64url_encoded_by_the_sidecar_and_a_tampered_one_refused()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "assertion-app", clientSecret = "assertion-secret", tokenEndpointAuthMethod = "client_secret_post" }))!.Str("clientHandle");
        string xml = (await idp.PostAsync("/saml-assertion", new JsonObject { ["nameId"] = "bob" })).Str("xml");
        Assert.StartsWith("<", xml, StringComparison.Ordinal);

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAssertion", new { clientHandle = client, assertion = xml, grantType = "urn:ietf:params:oauth:grant-type:saml2-bearer", scopes = new[] { "openid" } }))!;
        Assert.Equal("bob", tokens.Str("account"));

        string tampered = (await idp.PostAsync("/saml-assertion", new JsonObject { ["nameId"] = "bob", ["tamper"] = true })).Str("xml");
        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenByAssertion", new { clientHandle = client, assertion = tampered, grantType = "urn:ietf:params:oauth:grant-type:saml2-bearer" });
        Assert.Equal(-32003, refused.Code);
        Assert.Equal("invalid_grant", refused.DataString("error"));
    }

    [Theory]
    [InlineData("jwt-app", "client-rsa.key.pem", "client-rsa", null)]
    [InlineData("jwt-ec-app", "client-ec.key.pem", "client-ec", "ES256")]
    public async Task Private_key_jwt_client_authenticates_with_a_fresh_assertion_per_request(string clientId, string keyFile, string keyId, string? algorithm)
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new
        {
            issuer = idp.Issuer,
            clientId,
            tokenEndpointAuthMethod = "private_key_jwt",
            privateKey = new { pemFile = Fixture(keyFile), keyId, algorithm },
            scopes = new[] { "api:read" },
        }))!.Str("clientHandle");

        // Twice: oidc-provider refuses a replayed assertion (same jti), so each request must sign a new one.
        for (int i = 0; i < 2; i++)
        {
            JsonNode tokens = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = client }))!;
            Assert.Equal(["api:read"], tokens["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        }

        // The wrong key for the client: invalid_client.
        string wrong = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId, tokenEndpointAuthMethod = "private_key_jwt", privateKey = new { pemFile = Fixture("assertion-rsa.key.pem"), keyId } }))!.Str("clientHandle");
        RpcError refused = await sidecar.CallExpectingErrorAsync("obtainTokenForClient", new { clientHandle = wrong });
        Assert.True(refused.Code == -32003, refused.Message);
        Assert.Equal("invalid_client", refused.DataString("error"));

        RpcError missing = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId, privateKey = new { pemFile = "/no/such/key.pem" } });
        Assert.Equal(-32602, missing.Code);
        Assert.Equal("privateKey.pemFile", missing.DataString("field"));
    }
}
