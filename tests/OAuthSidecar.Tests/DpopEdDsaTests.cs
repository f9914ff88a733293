using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// EdDSA (Ed25519, RFC 8037) DPoP keys through the real sidecar against the real provider with DPoP on
/// (oidc-provider's <c>features.dPoP</c> with EdDSA in <c>enabledJWA.dPoPSigningAlgValues</c>): a sign-in whose
/// tokens introspect with <c>cnf.jkt</c> equal to the result's <c>jkt</c>, proofs the provider's resource server
/// (jose) accepts, the account's Ed25519 key across a restart with the file store, and the private key sweep
/// recognising Ed25519 material.
/// </summary>
public sealed class DpopEdDsaTests
{
    private static readonly string[] Scopes = ["openid", "offline_access", "profile"];

    [Fact]
    public async Task An_EdDSA_sign_in_binds_the_tokens_to_its_Ed25519_key_and_the_resource_server_accepts_its_proofs()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        JsonNode created = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, dpop = new { alg = "EdDSA" } }))!;
        Assert.Contains("EdDSA", created["serverConfiguration"]!["dpopSigningAlgValuesSupported"]!.AsArray().Select(a => a!.GetValue<string>()));
        string client = created.Str("clientHandle");

        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        string? dpopJkt = System.Web.HttpUtility.ParseQueryString(new Uri(flow.Str("authUri")).Query)["dpop_jkt"];
        Assert.False(string.IsNullOrEmpty(dpopJkt));
        await idp.AuthorizeAsync(flow.Str("authUri"));
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!;

        Assert.Equal("DPoP", tokens.Str("tokenType"));
        Assert.Equal(dpopJkt, tokens.Str("jkt"));
        Assert.Equal(dpopJkt, (await idp.IntrospectAsync(tokens.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());

        // The refresh token is redeemed with the same Ed25519 key.
        JsonNode refreshed = (await sidecar.CallAsync("refresh", new { clientHandle = client, refreshToken = tokens.Str("refreshToken") }))!;
        Assert.Equal(dpopJkt, refreshed.Str("jkt"));
        Assert.Equal(dpopJkt, (await idp.IntrospectAsync(refreshed.Str("accessToken")))["cnf"]!["jkt"]!.GetValue<string>());

        // A proof for the caller's request: EdDSA, the OKP public key only, htu without the query; jose at /rs checks
        // its signature with the embedded jwk, its ath against the token and the token's cnf.jkt against the key.
        string accessToken = refreshed.Str("accessToken");
        JsonNode proof = (await sidecar.CallAsync("createDpopProof", new { clientHandle = client, htm = "GET", htu = idp.Issuer + "/rs/documents?page=2#top", accessToken }))!;
        Assert.Equal(dpopJkt, proof.Str("jkt"));
        JsonNode header = JsonNode.Parse(Base64Url.DecodeFromChars(proof.Str("proof").Split('.')[0]))!;
        Assert.Equal("EdDSA", header.Str("alg"));
        Assert.Equal("dpop+jwt", header.Str("typ"));
        Assert.Equal(["crv", "kty", "x"], header["jwk"]!.AsObject().Select(m => m.Key).Order(StringComparer.Ordinal));
        Assert.Equal("OKP", header["jwk"]!.Str("kty"));
        Assert.Equal("Ed25519", header["jwk"]!.Str("crv"));
        JsonNode claims = JsonNode.Parse(Base64Url.DecodeFromChars(proof.Str("proof").Split('.')[1]))!;
        Assert.Equal(idp.Issuer + "/rs/documents", claims.Str("htu"));

        (HttpStatusCode status, JsonNode body, _) = await DpopTests.CallResourceAsync(idp, HttpMethod.Get, "/rs/documents?page=2", accessToken, proof.Str("proof"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("alice", body.Str("sub"));
        Assert.Equal(dpopJkt, body.Str("jkt"));

        // A proof whose signature was tampered with is refused: the resource server really checks Ed25519 signatures.
        string[] parts = (await sidecar.CallAsync("createDpopProof", new { clientHandle = client, htm = "GET", htu = idp.Issuer + "/rs/documents", accessToken }))!.Str("proof").Split('.');
        byte[] signature = Base64Url.DecodeFromChars(parts[2]);
        signature[5] ^= 0x40;
        (status, body, _) = await DpopTests.CallResourceAsync(idp, HttpMethod.Get, "/rs/documents", accessToken, parts[0] + "." + parts[1] + "." + Base64Url.EncodeToString(signature));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_dpop_proof", body.Str("error"));
    }

    [Fact]
    public async Task The_accounts_Ed25519_key_survives_a_restart_with_the_file_store_and_its_bound_refresh_token_still_works()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--dpop", "--access-token-ttl", "1"]);
        string data = TestTemp.CreateDirectory("dpop-eddsa").FullName;
        var environment = new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data };

        string jkt = await DpopTests.SignInThenRefreshAfterRestartAsync(idp, ["--storage", "file"], environment, dpop: new { alg = "EdDSA" });

        // The account's file holds the EdDSA key as PKCS#8 (which the sweep of every sidecar above read and looked for).
        string stored = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(data, "credentials"), "acct-*.json")));
        JsonNode key = JsonNode.Parse(stored)!["dpopKey"]!;
        Assert.Equal("EdDSA", key.Str("algorithm"));
        Assert.Equal(jkt, key.Str("thumbprint"));
        var ed25519 = Assert.IsType<Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters>(Org.BouncyCastle.Security.PrivateKeyFactory.CreateKey(Convert.FromBase64String(key.Str("pkcs8"))), exactMatch: false);
        Assert.Contains(Base64Url.EncodeToString(ed25519.GetEncoded()), PrivateKeyCheck.StoredKeyMaterial(data));
    }

    [Fact]
    public void The_private_key_sweep_recognises_Ed25519_keys_and_fails_on_a_leaked_one()
    {
        var ed25519 = new Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        string pkcs8 = Convert.ToBase64String(Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(ed25519).GetDerEncoded());
        string stored = new JsonObject { ["dpopKey"] = new JsonObject { ["algorithm"] = "EdDSA", ["pkcs8"] = pkcs8 } }.ToJsonString();
        string d = Base64Url.EncodeToString(ed25519.GetEncoded());
        string x = Base64Url.EncodeToString(ed25519.GeneratePublicKey().GetEncoded());

        List<string> material = [.. PrivateKeyCheck.KeyMaterialIn(stored)];
        Assert.Contains(pkcs8, material);
        Assert.Contains(d, material);
        Assert.Contains(Convert.ToBase64String(ed25519.GetEncoded()), material);
        Assert.DoesNotContain(x, material); // the public key may be anywhere
        Assert.Contains(d, PrivateKeyCheck.KeyMaterialIn("secret = " + Convert.ToBase64String(Encoding.UTF8.GetBytes(stored)) + "\n")); // a keyring listing

        // What SidecarProcess.AssertNoPrivateKeyLeaked does with the material: a log line with d fails it.
        string leakedLog = $"dbug: signing with {{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"{d}\"}}";
        Assert.Contains(material, m => leakedLog.Contains(m, StringComparison.Ordinal));

        var jwk = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = x };
        PrivateKeyCheck.AssertNoPrivateJwk(new JsonObject { ["result"] = jwk.DeepClone() });
        jwk["d"] = d;
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => PrivateKeyCheck.AssertNoPrivateJwk(new JsonObject { ["result"] = jwk.DeepClone() }));
        string header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = "EdDSA", ["jwk"] = jwk.DeepClone() }.ToJsonString()));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => PrivateKeyCheck.AssertNoPrivateJwk(new JsonObject { ["proof"] = header + ".e30.sig" }));

        // A stored key the sweep cannot read stops it instead of being skipped.
        Assert.Throws<InvalidOperationException>(() => PrivateKeyCheck.PrivateParts(Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(new Org.BouncyCastle.Crypto.Parameters.X25519PrivateKeyParameters(new byte[32])).GetDerEncoded()));
    }
}
