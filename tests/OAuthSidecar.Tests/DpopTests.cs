using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// DPoP (RFC 9449) against the real provider with its DPoP feature on (oidc-provider's <c>features.dPoP</c>): sign-ins
/// whose tokens introspect with <c>cnf.jkt</c> equal to the returned <c>jkt</c>, the server nonce, proofs for the
/// caller's requests checked by the provider's resource server (jose), the account's key across restarts with the
/// file store and the keyring, and a client without DPoP at a provider that requires it.
/// </summary>
public sealed class DpopTests
{
    private static readonly string[] Scopes = ["openid", "offline_access", "profile"];

    [Fact]
    public async Task An_auth_code_sign_in_binds_the_tokens_to_the_key_named_in_the_request()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode created = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = true }))!;
        Assert.Contains("ES256", created["serverConfiguration"]!["dpopSigningAlgValuesSupported"]!.AsArray().Select(a => a!.GetValue<string>()));
        string client = created.Str("clientHandle");

        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        string? dpopJkt = System.Web.HttpUtility.ParseQueryString(new Uri(flow.Str("authUri")).Query)["dpop_jkt"];
        Assert.False(string.IsNullOrEmpty(dpopJkt));
        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;

        Assert.Equal("DPoP", tokens.Str("tokenType"));
        Assert.Equal(dpopJkt, tokens.Str("jkt"));
        Assert.Equal(dpopJkt, (await idp.IntrospectAsync(tokens.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());

        // The bound refresh token (a public client's, RFC 9449 §5) is refreshed with the same key.
        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") }))!;
        Assert.Equal("DPoP", refreshed.Str("tokenType"));
        Assert.Equal(dpopJkt, refreshed.Str("jkt"));
        Assert.Equal(dpopJkt, (await idp.IntrospectAsync(refreshed.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_device_sign_in_binds_the_tokens_to_its_key()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop", "--device-interval", "1"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = new { alg = "RS256" } }))!.Str("clientHandle");

        JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
        (_, Task<JsonObject> polling) = sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") });
        await sidecar.WaitForNotificationAsync("deviceFlowPending");
        await idp.ApproveDeviceAsync(device.Str("userCode"));
        JsonNode tokens = (await polling)["result"]!;

        Assert.Equal("DPoP", tokens.Str("tokenType"));
        Assert.Equal(tokens.Str("jkt"), (await idp.IntrospectAsync(tokens.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_required_server_nonce_costs_one_retry_and_is_remembered()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop-nonce"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = true }))!.Str("clientHandle");

        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, client);
        Assert.Equal("DPoP", tokens.Str("tokenType"));
        Assert.Equal(2, await TokenRequestsAsync(idp)); // use_dpop_nonce, then the retry with the nonce

        await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") });
        Assert.Equal(3, await TokenRequestsAsync(idp)); // the remembered nonce: no refusal first

        // A private_key_jwt client (another client of the same server) also gets the nonce right at once, and its
        // client credentials token is bound too (a JWT access token: cnf.jkt is in it).
        string jwtApp = (await sidecar.CallAsync("createClient", new
        {
            issuer = idp.Issuer,
            clientId = "jwt-app",
            privateKey = new { pemFile = Path.Combine(RepoPaths.Root, "tests", "idp", "fixtures", "client-rsa.key.pem"), keyId = "client-rsa" },
            dpop = true,
        }))!.Str("clientHandle");
        JsonNode machine = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = jwtApp, scopes = new[] { "api:read" } }))!;
        Assert.Equal(4, await TokenRequestsAsync(idp));
        Assert.Equal("DPoP", machine.Str("tokenType"));
        JsonNode claims = JsonNode.Parse(Base64Url.DecodeFromChars(machine.Str("accessToken").Split('.')[1]))!;
        Assert.Equal(machine.Str("jkt"), claims["cnf"]!["jkt"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_private_key_jwt_client_answers_the_nonce_with_a_fresh_assertion()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop-nonce"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string jwtApp = (await sidecar.CallAsync("createClient", new
        {
            issuer = idp.Issuer,
            clientId = "jwt-app",
            privateKey = new { pemFile = Path.Combine(RepoPaths.Root, "tests", "idp", "fixtures", "client-rsa.key.pem"), keyId = "client-rsa" },
            dpop = true,
        }))!.Str("clientHandle");

        // The first request is refused for its nonce after the provider accepted its assertion: the retry needs another (each is good once).
        JsonNode machine = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = jwtApp, scopes = new[] { "api:read" } }))!;

        Assert.Equal(2, await TokenRequestsAsync(idp));
        Assert.Equal("DPoP", machine.Str("tokenType"));
    }

    [Fact]
    public async Task A_proof_for_the_callers_request_is_accepted_by_the_resource_server_once_and_for_its_url_only()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = true }))!.Str("clientHandle");
        JsonObject tokens = await Sign.SignInAsync(sidecar, idp, client);
        string accessToken = tokens.Str("accessToken");
        string url = idp.Issuer + "/rs/documents?page=2#top";

        JsonNode proof = (await sidecar.CallAsync("createDpopProof", new { clientHandle = client, htm = "GET", htu = url, accessToken }))!;
        Assert.Equal(tokens.Str("jkt"), proof.Str("jkt"));
        Assert.InRange(proof["expiresAt"]!.GetValue<long>() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 55, 65);
        JsonNode header = JsonNode.Parse(Base64Url.DecodeFromChars(proof.Str("proof").Split('.')[0]))!;
        Assert.Equal("dpop+jwt", header.Str("typ"));
        Assert.All(PrivateKeyCheck.PrivateMembers, m => Assert.Null(header["jwk"]![m]));
        JsonNode claims = JsonNode.Parse(Base64Url.DecodeFromChars(proof.Str("proof").Split('.')[1]))!;
        Assert.Equal(idp.Issuer + "/rs/documents", claims.Str("htu"));

        (HttpStatusCode status, JsonNode body, _) = await CallResourceAsync(idp, HttpMethod.Get, "/rs/documents?page=2", accessToken, proof.Str("proof"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("alice", body.Str("sub"));
        Assert.Equal(tokens.Str("jkt"), body.Str("jkt"));

        (status, body, _) = await CallResourceAsync(idp, HttpMethod.Get, "/rs/documents?page=2", accessToken, proof.Str("proof"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_dpop_proof", body.Str("error"));
        Assert.Contains("replay", body.Str("error_description"), StringComparison.Ordinal);

        string other = (await sidecar.CallAsync("createDpopProof", new { clientHandle = client, htm = "GET", htu = url, accessToken }))!.Str("proof");
        (status, body, _) = await CallResourceAsync(idp, HttpMethod.Get, "/rs/other", accessToken, other);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("htu", body.Str("error_description"), StringComparison.Ordinal);
        (status, body, _) = await CallResourceAsync(idp, HttpMethod.Post, "/rs/documents", accessToken, other);
        Assert.Contains("htm", body.Str("error_description"), StringComparison.Ordinal);

        // The resource server's own nonce (RFC 9449 §9): the caller passes it back in.
        await idp.ConfigAsync(new JsonObject { ["resourceNonce"] = true });
        string first = (await sidecar.CallAsync("createDpopProof", new { clientHandle = client, htm = "DELETE", htu = idp.Issuer + "/rs/documents/7", accessToken }))!.Str("proof");
        (status, body, HttpResponseHeaders headers) = await CallResourceAsync(idp, HttpMethod.Delete, "/rs/documents/7", accessToken, first);
        Assert.Equal("use_dpop_nonce", body.Str("error"));
        Assert.Contains("error=\"use_dpop_nonce\"", headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        string nonce = headers.GetValues("DPoP-Nonce").Single();
        string answered = (await sidecar.CallAsync("createDpopProof", new { clientHandle = client, htm = "DELETE", htu = idp.Issuer + "/rs/documents/7", accessToken, nonce }))!.Str("proof");
        (status, _, _) = await CallResourceAsync(idp, HttpMethod.Delete, "/rs/documents/7", accessToken, answered);
        Assert.Equal(HttpStatusCode.OK, status);

        RpcError badMethod = await sidecar.CallExpectingErrorAsync("createDpopProof", new { clientHandle = client, htm = "GET NOW", htu = url });
        Assert.Equal(-32602, badMethod.Code);
        Assert.Equal("htm", badMethod.DataString("field"));
        RpcError badUrl = await sidecar.CallExpectingErrorAsync("createDpopProof", new { clientHandle = client, htm = "GET", htu = "/rs/documents" });
        Assert.Equal("htu", badUrl.DataString("field"));
    }

    [Fact]
    public async Task The_accounts_key_survives_a_restart_with_the_file_store_and_its_bound_refresh_token_still_works()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop", "--access-token-ttl", "1"]);
        string data = TestTemp.CreateDirectory("dpop-creds").FullName;
        var environment = new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data };
        string jkt = await SignInThenRefreshAfterRestartAsync(idp, ["--storage", "file"], environment);

        // The key is in the account's 0600 file, never in the index.
        string[] files = Directory.GetFiles(Path.Combine(data, "credentials"), "acct-*.json");
        string stored = File.ReadAllText(Assert.Single(files));
        Assert.Contains(jkt, stored, StringComparison.Ordinal);
        Assert.NotEmpty(PrivateKeyCheck.KeyMaterialIn(stored));
        Assert.DoesNotContain("pkcs8", File.ReadAllText(Path.Combine(data, "credentials", "index.json")), StringComparison.Ordinal);

        // Without its key the bound refresh token is worthless: a fresh key is refused by the provider.
        JsonObject account = JsonNode.Parse(stored)!.AsObject();
        account.Remove("dpopKey");
        account["tokens"] = new JsonArray();
        File.WriteAllText(files[0], account.ToJsonString());
        await using SidecarProcess third = await SidecarProcess.StartAsync(["--storage", "file"], environment);
        string client = (await third.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = true }))!.Str("clientHandle");
        RpcError refused = await third.CallExpectingErrorAsync("getCredentials", new { clientHandle = client, interactive = "none" });
        Assert.Equal(-32008, refused.Code);
        Assert.Contains("invalid_grant", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_accounts_key_survives_a_restart_with_the_keyring_and_its_bound_refresh_token_still_works()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop", "--access-token-ttl", "1"]);
        await using KeyringSession keyring = await KeyringSession.StartAsync();
        string jkt = await SignInThenRefreshAfterRestartAsync(idp, ["--storage", "keyring"], keyring.Environment, keyring);

        Assert.False(Directory.Exists(Path.Combine(keyring.Root, "sidecar", "credentials"))); // nothing in files
        string items = await keyring.SearchAsync();
        Assert.Contains(PrivateKeyCheck.Readable(items), item => item.Contains(jkt, StringComparison.Ordinal)); // in the account's item
        Assert.NotEmpty(PrivateKeyCheck.KeyMaterialIn(items));
    }

    [Fact]
    public async Task A_client_without_dpop_at_a_provider_that_requires_it_is_told_to_turn_it_on()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--require-dpop"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        await idp.AuthorizeAsync(flow.Str("authUri"));

        RpcError error = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") });

        Assert.Equal(-32003, error.Code);
        Assert.Equal("invalid_dpop_proof", error.DataString("error"));
        Assert.Contains("The DPoP proof JWT header is missing.", error.Message, StringComparison.Ordinal);
        Assert.Contains("requires DPoP-bound tokens (RFC 9449): create the client with dpop: true", error.Message, StringComparison.Ordinal);

        RpcError unknown = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", dpop = new { alg = "Ed448" } });
        Assert.Equal(-32602, unknown.Code);
        Assert.Equal("dpop.alg", unknown.DataString("field"));
        Assert.Contains("'ES256', 'ES384', 'ES512', 'RS256', 'PS256' or 'EdDSA'", unknown.Message, StringComparison.Ordinal);
        RpcError shape = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", dpop = new { algorithm = "ES256" } });
        Assert.Equal(-32602, shape.Code);
        Assert.Equal("dpop", shape.DataString("field"));
    }

    [Fact]
    public void The_private_key_sweep_finds_stored_keys_and_refuses_private_jwks_anywhere()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        System.Security.Cryptography.ECParameters p = key.ExportParameters(true);
        string pkcs8 = Convert.ToBase64String(key.ExportPkcs8PrivateKey());
        string stored = new JsonObject { ["dpopKey"] = new JsonObject { ["algorithm"] = "ES256", ["pkcs8"] = pkcs8 } }.ToJsonString();
        string d = Base64Url.EncodeToString(p.D);
        Assert.Contains(d, PrivateKeyCheck.KeyMaterialIn(stored));
        Assert.Contains(pkcs8, PrivateKeyCheck.KeyMaterialIn("secret = " + Convert.ToBase64String(Encoding.UTF8.GetBytes(stored)) + "\n")); // a keyring listing

        var jwk = new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y) };
        PrivateKeyCheck.AssertNoPrivateJwk(new JsonObject { ["result"] = jwk.DeepClone() });
        jwk["d"] = d;
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => PrivateKeyCheck.AssertNoPrivateJwk(new JsonObject { ["result"] = new JsonArray(jwk.DeepClone()) }));
        string header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(new JsonObject { ["typ"] = "dpop+jwt", ["jwk"] = jwk.DeepClone() }.ToJsonString()));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => PrivateKeyCheck.AssertNoPrivateJwk(new JsonObject { ["proof"] = header + ".e30.sig" }));
    }

    /// <summary>
    /// Signs in (getCredentials, browser) in one process, then in a second one lets the expired 1 s token be refreshed
    /// with the stored key and calls the resource server with a proof of it; answers the key's thumbprint.
    /// <paramref name="dpop"/> is <c>createClient</c>'s <c>dpop</c> (<c>true</c> when null).
    /// </summary>
    internal static async Task<string> SignInThenRefreshAfterRestartAsync(IdpServer idp, string[] arguments, Dictionary<string, string?> environment, KeyringSession? keyring = null, object? dpop = null)
    {
        dpop ??= true;
        string jkt;
        long signedInExpiresAt;
        await using (SidecarProcess first = await SidecarProcess.StartAsync(arguments, environment))
        {
            first.RequestHandler = (method, parameters) =>
            {
                _ = idp.AuthorizeAsync(parameters.Str("uri"));
                return new JsonObject { ["success"] = true };
            };
            await first.CallAsync("initialize", new { capabilities = new { showDocument = true } });
            string client = (await first.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop }))!.Str("clientHandle");
            JsonNode tokens = (await first.CallAsync("getCredentials", new { clientHandle = client }))!;
            Assert.Equal("DPoP", tokens.Str("tokenType"));
            jkt = tokens.Str("jkt");
            signedInExpiresAt = tokens["expiresAt"]!.GetValue<long>();
            if (keyring is not null)
            {
                foreach (string material in PrivateKeyCheck.KeyMaterialIn(await keyring.SearchAsync()))
                {
                    first.AddPrivateKeyMaterial(material);
                }
            }
        }

        await using SidecarProcess second = await SidecarProcess.StartAsync(arguments, environment);
        if (keyring is not null)
        {
            foreach (string material in PrivateKeyCheck.KeyMaterialIn(await keyring.SearchAsync()))
            {
                second.AddPrivateKeyMaterial(material);
            }
        }

        string again = (await second.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop }))!.Str("clientHandle");
        // The 1 s token has expired: the next one lives an hour, so the refreshed token is still good for the resource call.
        await idp.ConfigAsync(new JsonObject { ["accessTokenTtl"] = 3600 });
        await Sign.WaitUntilPastAsync(signedInExpiresAt);
        int refreshes = await RefreshRequestsAsync(idp);
        JsonNode refreshed = (await second.CallAsync("getCredentials", new { clientHandle = again, interactive = "none" }))!;
        Assert.Equal(refreshes + 1, await RefreshRequestsAsync(idp)); // the expired token needed a refresh: with the stored key
        Assert.Equal(jkt, refreshed.Str("jkt"));
        Assert.Equal(jkt, (await idp.IntrospectAsync(refreshed.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());
        JsonNode proof = (await second.CallAsync("createDpopProof", new { clientHandle = again, account = "alice", htm = "GET", htu = idp.Issuer + "/rs/me", accessToken = refreshed.Str("accessToken") }))!;
        (HttpStatusCode status, _, _) = await CallResourceAsync(idp, HttpMethod.Get, "/rs/me", refreshed.Str("accessToken"), proof.Str("proof"));
        Assert.Equal(HttpStatusCode.OK, status);
        return jkt;
    }

    /// <summary>Calls the provider's resource server (<c>/rs/…</c>) with a DPoP-bound access token and a proof.</summary>
    internal static async Task<(HttpStatusCode Status, JsonNode Body, HttpResponseHeaders Headers)> CallResourceAsync(IdpServer idp, HttpMethod method, string path, string accessToken, string proof)
    {
        using var request = new HttpRequestMessage(method, idp.Issuer + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", accessToken);
        request.Headers.Add("DPoP", proof);
        using HttpResponseMessage response = await idp.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!, response.Headers);
    }

    private static async Task<int> TokenRequestsAsync(IdpServer idp) => (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>();

    private static async Task<int> RefreshRequestsAsync(IdpServer idp) =>
        (await idp.StatsAsync())["token"]!["byGrantType"]!["refresh_token"]?.GetValue<int>() ?? 0;
}
