using System.Net;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// DPoP (RFC 9449) in the engine on a stub server and a fake clock: the proof on every token request, the one
/// <c>use_dpop_nonce</c> retry and the remembered nonce, one key per account kept in the store and used for its
/// refresh, proofs for the caller's own requests, and the algorithms the sidecar can and cannot sign with (EdDSA in
/// <see cref="DpopEdDsaTests"/>).
/// </summary>
public sealed class DpopEngineTests
{
    [Fact]
    public async Task Every_token_request_carries_a_proof_with_the_public_key_only_and_the_result_names_its_jkt()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions());
        engine.Server.Answer = r => r.Path == "/token" ? DpopSupport.DpopTokens(1) : null;

        TokenOutcome outcome = await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);

        ReadProof proof = await DpopSupport.ReadAsync(Assert.Single(engine.Server.Requests).Header("DPoP")!);
        Assert.Equal("ES256", proof.Header.GetProperty("alg").GetString());
        Assert.False(proof.Header.TryGetProperty("kid", out _));
        Assert.All(DpopSupport.PrivateMembers, m => Assert.False(proof.Jwk.TryGetProperty(m, out _), $"the jwk header has '{m}'"));
        Assert.Equal("POST", proof.Claim("htm"));
        Assert.Equal(StubAuthorizationServer.Issuer + "/token", proof.Claim("htu"));
        Assert.Equal(SteppingClock.Epoch.ToUnixTimeSeconds(), proof.Claims.GetProperty("iat").GetInt64());
        Assert.True(proof.Claim("jti").Length >= 16);
        Assert.False(proof.Has("ath"));
        Assert.False(proof.Has("nonce"));
        Assert.Equal("DPoP", outcome.Tokens?.TokenType);
        Assert.Equal(proof.Thumbprint, outcome.Tokens?.Jkt);
    }

    [Fact]
    public async Task Use_dpop_nonce_is_answered_once_and_the_latest_nonce_is_remembered_per_server()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions());
        int n = 0;
        engine.Server.Answer = r => r.Path != "/token" ? null
            : ++n == 1 ? DpopSupport.Json(HttpStatusCode.BadRequest, """{"error":"use_dpop_nonce","error_description":"nonce is required in the DPoP proof"}""", ("DPoP-Nonce", "nonce-1"))
            : DpopSupport.DpopTokens(n, ("DPoP-Nonce", "nonce-2"));

        TokenOutcome first = await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);
        Assert.NotNull(first.Tokens);
        StubRequest[] requests = [.. engine.Server.Requests];
        Assert.Equal(2, requests.Length);
        ReadProof refused = await DpopSupport.ReadAsync(requests[0].Header("DPoP")!);
        ReadProof retried = await DpopSupport.ReadAsync(requests[1].Header("DPoP")!);
        Assert.False(refused.Has("nonce"));
        Assert.Equal("nonce-1", retried.Claim("nonce"));
        Assert.NotEqual(refused.Claim("jti"), retried.Claim("jti"));

        // The success carried the next nonce: another client of the same server uses it at once, without a refusal.
        OAuthClient other = await DpopSupport.CreateClientAsync(engine, new DpopOptions());
        await other.ClientCredentialsAsync(["api"], null, CancellationToken.None);
        Assert.Equal(3, engine.Server.TokenRequests);
        Assert.Equal("nonce-2", (await DpopSupport.ReadAsync(engine.Server.Requests.Last().Header("DPoP")!)).Claim("nonce"));
    }

    [Fact]
    public async Task A_second_nonce_refusal_is_not_retried_and_says_the_proof_was_refused()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions());
        engine.Server.Answer = r => r.Path == "/token"
            ? DpopSupport.Json(HttpStatusCode.BadRequest, """{"error":"use_dpop_nonce","error_description":"invalid nonce in DPoP proof"}""", ("DPoP-Nonce", "again"))
            : null;

        TokenOutcome outcome = await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);

        Assert.Equal(2, engine.Server.TokenRequests);
        Assert.Equal("use_dpop_nonce", outcome.Error?.Error);
        Assert.Equal(DpopRefusal.ProofRefused, outcome.Error?.Dpop);
    }

    [Fact]
    public async Task A_client_without_dpop_refused_for_its_missing_proof_is_told_dpop_is_required()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        engine.Server.Token = _ => (HttpStatusCode.BadRequest, """{"error":"invalid_grant","error_description":"DPoP proof JWT not provided"}""");

        TokenOutcome outcome = await engine.Client.ClientCredentialsAsync(["api"], null, CancellationToken.None);

        Assert.Null(Assert.Single(engine.Server.Requests).Header("DPoP"));
        Assert.Equal(DpopRefusal.Required, outcome.Error?.Dpop);
        engine.Server.Token = _ => StubAuthorizationServer.Error("invalid_grant");
        Assert.Equal(DpopRefusal.None, (await engine.Client.ClientCredentialsAsync(["api"], null, CancellationToken.None)).Error?.Dpop);
    }

    [Fact]
    public async Task Bearer_tokens_answered_to_a_proof_are_not_reported_as_bound()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions());

        TokenOutcome outcome = await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);

        Assert.NotNull(Assert.Single(engine.Server.Requests).Header("DPoP"));
        Assert.Equal("Bearer", outcome.Tokens?.TokenType);
        Assert.Null(outcome.Tokens?.Jkt);
    }

    [Fact]
    public async Task A_sign_in_binds_its_code_to_the_flow_key_which_the_account_keeps_for_its_refreshes_and_proofs()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "RS256" });
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        (TokenOutcome signedIn, string? dpopJkt) = await DpopSupport.SignInAsync(engine, client, store);

        ReadProof redemption = await DpopSupport.ReadAsync(engine.Server.Requests.Last().Header("DPoP")!);
        Assert.Equal("RS256", redemption.Header.GetProperty("alg").GetString());
        Assert.Equal(dpopJkt, redemption.Thumbprint); // RFC 9449 §10: the code is bound to the key named in the request
        Assert.Equal(dpopJkt, signedIn.Tokens?.Jkt);
        StoredAccount stored = store.Read(new AccountKey(StubAuthorizationServer.Issuer, "native-app", "default"))!;
        Assert.Equal(dpopJkt, stored.DpopKey?.Thumbprint);

        // Near expiry the refresh token is redeemed with the same key, and the caller's proofs are made with it too.
        engine.Clock.Advance(TimeSpan.FromMinutes(56));
        TokenOutcome refreshed = await engine.Session.Credentials.GetCredentialsAsync(client, store, new CredentialRequest { Interactive = InteractionMode.None }, CancellationToken.None);
        Assert.Equal("rt-1", engine.Server.Requests.Last().Form["refresh_token"]);
        Assert.Equal(dpopJkt, (await DpopSupport.ReadAsync(engine.Server.Requests.Last().Header("DPoP")!)).Thumbprint);
        Assert.Equal(dpopJkt, refreshed.Tokens?.Jkt);
        DpopProof proof = engine.Session.DpopProofs.Create(client, store, new DpopProofRequest { Htm = "GET", Htu = "https://api.test/items?page=2#top", AccessToken = refreshed.Tokens!.AccessToken });
        ReadProof read = await DpopSupport.ReadAsync(proof.Proof);
        Assert.Equal(dpopJkt, read.Thumbprint);
        Assert.Equal(dpopJkt, proof.Jkt);
        Assert.Equal("https://api.test/items", read.Claim("htu"));
        Assert.Equal(DpopKey.AccessTokenHash(refreshed.Tokens.AccessToken), read.Claim("ath"));
        Assert.Equal(engine.Clock.GetUtcNow().ToUnixTimeSeconds() + 60, proof.ExpiresAt);
    }

    [Fact]
    public async Task Proofs_for_the_caller_check_their_input_and_need_a_key()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions());
        DpopProofService proofs = engine.Session.DpopProofs;

        Assert.Equal(CoreOption.DpopHtm, Assert.Throws<InvalidOptionException>(() => proofs.Create(client, store, new DpopProofRequest { Htm = "GET /", Htu = "https://api.test/" })).Option);
        Assert.Equal(CoreOption.DpopHtu, Assert.Throws<InvalidOptionException>(() => proofs.Create(client, store, new DpopProofRequest { Htm = "GET", Htu = "/relative" })).Option);
        Assert.Equal(CoreOption.DpopAccount, Assert.Throws<InvalidOptionException>(() => proofs.Create(client, store, new DpopProofRequest { Htm = "GET", Htu = "https://api.test/", Account = "nobody" })).Option);
        Assert.Equal(CoreOption.Dpop, Assert.Throws<InvalidOptionException>(() => proofs.Create(engine.Client, store, new DpopProofRequest { Htm = "GET", Htu = "https://api.test/" })).Option);

        // Without account or token: the client's own key, the one its client credentials tokens are bound to.
        engine.Server.Answer = r => r.Path == "/token" ? DpopSupport.DpopTokens(1) : null;
        TokenOutcome tokens = await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);
        DpopProof first = proofs.Create(client, store, new DpopProofRequest { Htm = "DELETE", Htu = "https://api.test/x", Nonce = "rs-nonce" });
        DpopProof second = proofs.Create(client, store, new DpopProofRequest { Htm = "DELETE", Htu = "https://api.test/x" });
        Assert.Equal(tokens.Tokens?.Jkt, first.Jkt);
        ReadProof read = await DpopSupport.ReadAsync(first.Proof);
        Assert.Equal("rs-nonce", read.Claim("nonce"));
        Assert.Equal("DELETE", read.Claim("htm"));
        Assert.False(read.Has("ath"));
        Assert.NotEqual(read.Claim("jti"), (await DpopSupport.ReadAsync(second.Proof)).Claim("jti"));
    }

    [Fact]
    public async Task The_algorithm_is_the_one_asked_for_else_the_sidecars_first_choice_the_server_accepts()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        ServerConfiguration server = StubAuthorizationServer.Server with { DpopSigningAlgValuesSupported = ["EdDSA", "PS256"] };
        Assert.Equal("PS256", (await DpopSupport.CreateClientAsync(engine, new DpopOptions(), server)).DpopKeys.Algorithm);
        ServerConfiguration many = StubAuthorizationServer.Server with { DpopSigningAlgValuesSupported = ["RS256", "EdDSA", "ES256"] };
        Assert.Equal("ES256", (await DpopSupport.CreateClientAsync(engine, new DpopOptions(), many)).DpopKeys.Algorithm);
        Assert.Equal("ES256", (await DpopSupport.CreateClientAsync(engine, new DpopOptions())).DpopKeys.Algorithm);
        Assert.Null(engine.Client.DpopKeys.Algorithm);

        // EdDSA when asked for, and when it is the only one the server lists.
        Assert.Equal("EdDSA", (await DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "EdDSA" }, server)).DpopKeys.Algorithm);
        Assert.Equal("EdDSA", (await DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "EdDSA" })).DpopKeys.Algorithm);
        ServerConfiguration edOnly = StubAuthorizationServer.Server with { DpopSigningAlgValuesSupported = ["EdDSA"] };
        Assert.Equal("EdDSA", (await DpopSupport.CreateClientAsync(engine, new DpopOptions(), edOnly)).DpopKeys.Algorithm);

        ServerConfiguration rsaOnly = StubAuthorizationServer.Server with { DpopSigningAlgValuesSupported = ["RS256"] };
        InvalidOptionException eddsa = await Assert.ThrowsAsync<InvalidOptionException>(() => DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "EdDSA" }, rsaOnly));
        Assert.Equal(CoreOption.DpopAlgorithm, eddsa.Option);
        Assert.Contains("dpop_signing_alg_values_supported is RS256", eddsa.Message, StringComparison.Ordinal);
        Assert.Equal(CoreOption.DpopAlgorithm, (await Assert.ThrowsAsync<InvalidOptionException>(() => DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "RS256" }, server))).Option);
        InvalidOptionException hs = await Assert.ThrowsAsync<InvalidOptionException>(() => DpopSupport.CreateClientAsync(engine, new DpopOptions { Algorithm = "HS256" }));
        Assert.Equal(CoreOption.DpopAlgorithm, hs.Option);
        Assert.Contains("ES256, ES384, ES512, RS256, PS256, EdDSA", hs.Message, StringComparison.Ordinal);
        ServerConfiguration hmacOnly = StubAuthorizationServer.Server with { DpopSigningAlgValuesSupported = ["HS256"] };
        Assert.Equal(CoreOption.Dpop, (await Assert.ThrowsAsync<InvalidOptionException>(() => DpopSupport.CreateClientAsync(engine, new DpopOptions(), hmacOnly))).Option);
    }

    [Fact]
    public void A_key_survives_its_stored_form_and_an_unreadable_one_is_absent()
    {
        var redactor = new Diagnostics.SecretRedactor();
        DpopKey key = DpopKey.Create("ES384", redactor);
        StoredDpopKey stored = StoredDpopKey.From(key);
        DpopKey? loaded = stored.Load(redactor);
        Assert.Equal(key.Thumbprint, loaded?.Thumbprint);
        Assert.Equal(key.Thumbprint, stored.Thumbprint);
        Assert.Equal("[redacted]", redactor.Redact(stored.Pkcs8));
        Assert.Null(DpopKey.Import("ES256", "not base64!", redactor));
        Assert.Null(DpopKey.Import("EdDSA", stored.Pkcs8, redactor)); // a P-384 key is not an Ed25519 key
        Assert.Null(DpopKey.Import("EdDSA", "not base64!", redactor));
        Assert.Null(DpopKey.Import("PS512", stored.Pkcs8, redactor));
    }
}
