using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// EdDSA DPoP keys (Ed25519, RFC 8037) in the engine on a stub server and a fake clock: the RFC 8037 example key's
/// thumbprint and signature, proofs whose <c>jwk</c> is <c>{ kty: "OKP", crv: "Ed25519", x }</c> and whose
/// signature BouncyCastle's verifier accepts, the account's key kept in the store and used for its refresh and the
/// caller's proofs (<c>ath</c>, <c>htu</c> without query), and the key's stored form and redaction.
/// </summary>
public sealed class DpopEdDsaTests
{
    // RFC 8037 Appendix A.1 (the private key d and public key x) and A.3 (its RFC 7638 thumbprint).
    private const string ExampleD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    private const string ExampleX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    private const string ExampleThumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    // RFC 8037 Appendix A.4: the JWS signing input of {"alg":"EdDSA"} over "Example of Ed25519 signing" and its signature.
    private const string ExampleSigningInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    private const string ExampleSignature = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    [Fact]
    public void The_RFC_8037_example_key_has_its_thumbprint_and_public_jwk_and_signs_the_example_through_identitymodel()
    {
        var redactor = new Diagnostics.SecretRedactor();
        string pkcs8 = Pkcs8Of(ExampleD);

        DpopKey key = DpopKey.Import("EdDSA", pkcs8, redactor)!;

        Assert.Equal(ExampleThumbprint, key.Thumbprint);
        Assert.Equal(["crv", "kty", "x"], key.PublicJwk.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("OKP", key.PublicJwk["kty"]);
        Assert.Equal("Ed25519", key.PublicJwk["crv"]);
        Assert.Equal(ExampleX, key.PublicJwk["x"]);
        Assert.Equal("[redacted]", redactor.Redact(ExampleD));
        Assert.Equal("[redacted]", redactor.Redact(pkcs8));

        // The signature provider the key registers on its CryptoProviderFactory (what JsonWebTokens signs with).
        Ed25519SecurityKey securityKey = Ed25519SecurityKey.ImportPkcs8(Convert.FromBase64String(pkcs8));
        SignatureProvider signer = securityKey.CryptoProviderFactory.CreateForSigning(securityKey, "EdDSA");
        byte[] signature = signer.Sign(Encoding.ASCII.GetBytes(ExampleSigningInput));
        Assert.Equal(ExampleSignature, Base64Url.EncodeToString(signature));
        SignatureProvider verifier = Ed25519SecurityKey.FromPublic(Base64Url.DecodeFromChars(ExampleX)).CryptoProviderFactory.CreateForVerifying(Ed25519SecurityKey.FromPublic(Base64Url.DecodeFromChars(ExampleX)), "EdDSA");
        Assert.True(verifier.Verify(Encoding.ASCII.GetBytes(ExampleSigningInput), signature));
        signature[0] ^= 1;
        Assert.False(verifier.Verify(Encoding.ASCII.GetBytes(ExampleSigningInput), signature));
        Assert.False(securityKey.CryptoProviderFactory.IsSupportedAlgorithm("ES256", securityKey));
    }

    [Fact]
    public async Task Token_requests_carry_an_EdDSA_proof_with_the_OKP_public_key_only_and_the_result_names_its_jkt()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "EdDSA" });
        engine.Server.Answer = r => r.Path == "/token" ? DpopSupport.DpopTokens(1) : null;

        TokenOutcome outcome = await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);

        string raw = Assert.Single(engine.Server.Requests).Header("DPoP")!;
        ReadProof proof = await DpopSupport.ReadAsync(raw); // the signature verifies with BouncyCastle
        Assert.Equal("EdDSA", proof.Header.GetProperty("alg").GetString());
        Assert.Equal("dpop+jwt", proof.Header.GetProperty("typ").GetString());
        Assert.False(proof.Header.TryGetProperty("kid", out _));
        Assert.Equal(["crv", "kty", "x"], proof.Jwk.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("OKP", proof.Jwk.GetProperty("kty").GetString());
        Assert.Equal("Ed25519", proof.Jwk.GetProperty("crv").GetString());
        Assert.Equal(32, Base64Url.DecodeFromChars(proof.Jwk.GetProperty("x").GetString()).Length);
        Assert.Equal(64, Base64Url.DecodeFromChars(raw.Split('.')[2]).Length);
        Assert.Equal("POST", proof.Claim("htm"));
        Assert.Equal(StubAuthorizationServer.Issuer + "/token", proof.Claim("htu"));
        Assert.Equal(SteppingClock.Epoch.ToUnixTimeSeconds(), proof.Claims.GetProperty("iat").GetInt64());
        Assert.False(proof.Has("ath"));
        Assert.Equal("DPoP", outcome.Tokens?.TokenType);
        Assert.Equal(proof.Thumbprint, outcome.Tokens?.Jkt);

        // A changed payload does not verify: the check is a real one.
        string[] parts = raw.Split('.');
        string forged = parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(proof.Claims.GetRawText().Replace("POST", "GET", StringComparison.Ordinal))) + "." + parts[2];
        Assert.False(DpopSupport.VerifyEd25519(forged, proof.Jwk));
    }

    [Fact]
    public async Task An_EdDSA_sign_in_keeps_its_key_with_the_account_for_the_refresh_and_the_callers_proofs()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "EdDSA" });
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        (TokenOutcome signedIn, string? dpopJkt) = await DpopSupport.SignInAsync(engine, client, store);

        ReadProof redemption = await DpopSupport.ReadAsync(engine.Server.Requests.Last().Header("DPoP")!);
        Assert.Equal("EdDSA", redemption.Header.GetProperty("alg").GetString());
        Assert.Equal(dpopJkt, redemption.Thumbprint);
        Assert.Equal(dpopJkt, signedIn.Tokens?.Jkt);
        StoredAccount stored = store.Read(new AccountKey(StubAuthorizationServer.Issuer, "native-app", "default"))!;
        Assert.Equal("EdDSA", stored.DpopKey?.Algorithm);
        Assert.Equal(dpopJkt, stored.DpopKey?.Thumbprint);
        Assert.Equal(dpopJkt, stored.DpopKey?.Load(new Diagnostics.SecretRedactor())?.Thumbprint); // what a restarted sidecar reads

        engine.Clock.Advance(TimeSpan.FromMinutes(56));
        TokenOutcome refreshed = await engine.Session.Credentials.GetCredentialsAsync(client, store, new CredentialRequest { Interactive = InteractionMode.None }, CancellationToken.None);
        Assert.Equal("rt-1", engine.Server.Requests.Last().Form["refresh_token"]);
        Assert.Equal(dpopJkt, (await DpopSupport.ReadAsync(engine.Server.Requests.Last().Header("DPoP")!)).Thumbprint);
        Assert.Equal(dpopJkt, refreshed.Tokens?.Jkt);

        DpopProof proof = engine.Session.DpopProofs.Create(client, store, new DpopProofRequest { Htm = "GET", Htu = "https://api.test/items?page=2#top", AccessToken = refreshed.Tokens!.AccessToken, Nonce = "rs-nonce" });
        ReadProof read = await DpopSupport.ReadAsync(proof.Proof);
        Assert.Equal("EdDSA", read.Header.GetProperty("alg").GetString());
        Assert.Equal(dpopJkt, read.Thumbprint);
        Assert.Equal(dpopJkt, proof.Jkt);
        Assert.Equal("GET", read.Claim("htm"));
        Assert.Equal("https://api.test/items", read.Claim("htu"));
        Assert.Equal(DpopKey.AccessTokenHash(refreshed.Tokens.AccessToken), read.Claim("ath"));
        Assert.Equal("rs-nonce", read.Claim("nonce"));
    }

    [Fact]
    public void An_EdDSA_key_survives_its_stored_form_which_is_PKCS8_and_redacted()
    {
        var redactor = new Diagnostics.SecretRedactor();
        DpopKey key = DpopKey.Create("EdDSA", redactor);
        StoredDpopKey stored = StoredDpopKey.From(key);

        DpopKey? loaded = stored.Load(new Diagnostics.SecretRedactor());

        Assert.Equal(key.Thumbprint, loaded?.Thumbprint);
        Assert.Equal(key.PublicJwk["x"], loaded?.PublicJwk["x"]);
        Assert.Equal("EdDSA", stored.Algorithm);
        var privateKey = (Ed25519PrivateKeyParameters)Org.BouncyCastle.Security.PrivateKeyFactory.CreateKey(Convert.FromBase64String(stored.Pkcs8));
        Assert.Equal(key.PublicJwk["x"], Base64Url.EncodeToString(privateKey.GeneratePublicKey().GetEncoded()));
        string d = Base64Url.EncodeToString(privateKey.GetEncoded());
        Assert.Equal("[redacted]", redactor.Redact(stored.Pkcs8));
        Assert.Equal("[redacted]", redactor.Redact(d));
        Assert.DoesNotContain(d, JsonSerializer.Serialize(key.PublicJwk), StringComparison.Ordinal);
        Assert.Null(DpopKey.Import("ES256", stored.Pkcs8, redactor)); // an Ed25519 key is not an EC key
        byte[] der = Convert.FromBase64String(stored.Pkcs8);
        Assert.Null(DpopKey.Import("EdDSA", Convert.ToBase64String(der[..^3]), redactor)); // damaged: truncated
        Assert.Null(DpopKey.Import("EdDSA", Convert.ToBase64String(new byte[48]), redactor)); // damaged: zeros
        Assert.Null(DpopKey.Import("EdDSA", Convert.ToBase64String(new byte[] { 0x30, 0x03, 0x02, 0x01, 0x00 }), redactor)); // a SEQUENCE that is no PrivateKeyInfo
    }

    private static string Pkcs8Of(string d) =>
        Convert.ToBase64String(PrivateKeyInfoFactory.CreatePrivateKeyInfo(new Ed25519PrivateKeyParameters(Base64Url.DecodeFromChars(d))).GetDerEncoded());
}
