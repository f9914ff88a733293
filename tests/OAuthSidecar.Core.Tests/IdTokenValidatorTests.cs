using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests;

/// <summary>OpenID Connect Core §3.1.3.7 checks, each on its own (the end-to-end tests run them against the real provider).</summary>
public sealed class IdTokenValidatorTests : IDisposable
{
    private const string Issuer = "https://idp.example";
    private static readonly ServerConfiguration Server = new(Issuer, null, Issuer + "/token", JwksUri: Issuer + "/jwks");
    private readonly RSA rsa = RSA.Create(2048);
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
    private readonly JwksHandler jwks = new();

    public IdTokenValidatorTests()
    {
        this.jwks.Publish(this.rsa, "k1");
    }

    public void Dispose() => this.rsa.Dispose();

    [Fact]
    public async Task A_valid_token_returns_its_claims()
    {
        JsonElement claims = await this.ValidateAsync(this.Sign(), nonce: "n1");
        Assert.Equal("alice", claims.GetProperty("sub").GetString());
        Assert.Equal(1, this.jwks.Fetches);
        await this.ValidateAsync(this.Sign(), nonce: "n1");
        Assert.Equal(1, this.jwks.Fetches); // cached
    }

    [Theory]
    [InlineData("aud", "someone-else", "audience")]
    [InlineData("iss", "https://evil.example", "issuer")]
    [InlineData("nonce", "other", "nonce")]
    public async Task A_wrong_claim_is_refused_with_its_name(string claim, string value, string reasonPart)
    {
        InvalidIdTokenException ex = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c[claim] = value), nonce: "n1"));
        Assert.Contains(reasonPart, ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expiry_allows_five_minutes_of_skew_and_no_more()
    {
        long now = this.time.GetUtcNow().ToUnixTimeSeconds();
        await this.ValidateAsync(this.Sign(c => { c["exp"] = now - 240; c["iat"] = now - 600; }), nonce: "n1");
        InvalidIdTokenException ex = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => { c["exp"] = now - 360; c["iat"] = now - 600; }), nonce: "n1"));
        Assert.Contains("expired", ex.Reason, StringComparison.Ordinal);
        InvalidIdTokenException future = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["iat"] = now + 600), nonce: "n1"));
        Assert.Contains("future", future.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_audiences_need_azp_and_azp_must_be_this_client()
    {
        InvalidIdTokenException noAzp = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["aud"] = new[] { "app", "other" }), nonce: "n1"));
        Assert.Contains("azp", noAzp.Reason, StringComparison.Ordinal);
        InvalidIdTokenException otherAzp = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => { c["aud"] = new[] { "app", "other" }; c["azp"] = "other"; }), nonce: "n1"));
        Assert.Contains("another party", otherAzp.Reason, StringComparison.Ordinal);
        await this.ValidateAsync(this.Sign(c => { c["aud"] = new[] { "app", "other" }; c["azp"] = "app"; }), nonce: "n1");
    }

    [Fact]
    public async Task Tampered_unsigned_and_foreign_key_tokens_are_refused()
    {
        string token = this.Sign();
        string[] parts = token.Split('.');
        string tampered = parts[0] + "." + parts[1] + "." + (parts[2][0] == 'A' ? 'B' : 'A') + parts[2][1..];
        InvalidIdTokenException signature = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(tampered, nonce: "n1"));
        Assert.Contains("signature", signature.Reason, StringComparison.Ordinal);

        string none = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + parts[1] + ".";
        InvalidIdTokenException unsigned = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(none, nonce: "n1"));
        Assert.Contains("not signed", unsigned.Reason, StringComparison.Ordinal);

        using RSA other = RSA.Create(2048);
        InvalidIdTokenException foreign = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(key: other, kid: "k-unknown"), nonce: "n1"));
        Assert.Contains("k-unknown", foreign.Reason, StringComparison.Ordinal);

        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync("not-a-jwt", nonce: null));
    }

    [Fact]
    public async Task An_unknown_kid_fetches_the_key_set_again_once()
    {
        await this.ValidateAsync(this.Sign(), nonce: "n1");
        using RSA rotated = RSA.Create(2048);
        this.jwks.Publish(rotated, "k2");
        this.time.Advance(TimeSpan.FromMinutes(1));
        JsonElement claims = await this.ValidateAsync(this.Sign(key: rotated, kid: "k2"), nonce: "n1");
        Assert.Equal("alice", claims.GetProperty("sub").GetString());
        Assert.Equal(2, this.jwks.Fetches);

        // A token naming a kid that still is not there: one more fetch at most, then refused.
        using RSA stranger = RSA.Create(2048);
        this.time.Advance(TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(key: stranger, kid: "k3"), nonce: "n1"));
        Assert.Equal(3, this.jwks.Fetches);
    }

    [Fact]
    public async Task Without_a_jwks_uri_the_signature_cannot_be_checked_and_the_token_is_refused()
    {
        var validator = new IdTokenValidator(this.time);
        using var http = new HttpClient(this.jwks);
        InvalidIdTokenException ex = await Assert.ThrowsAsync<InvalidIdTokenException>(() => validator.ValidateAsync(this.Sign(), Server with { JwksUri = null }, "app", null, http, CancellationToken.None));
        Assert.Contains("jwksUri", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issuers_that_differ_only_by_a_trailing_slash_match_and_any_other_difference_is_refused()
    {
        await this.ValidateAsync(this.Sign(c => c["iss"] = Issuer + "/"), nonce: "n1"); // Auth0 writes its issuer with a slash
        InvalidIdTokenException wrong = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["iss"] = Issuer + "/other"), nonce: "n1"));
        Assert.Contains("issuer", wrong.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["iss"] = "https://IDP.example"), nonce: "n1"));
    }

    [Fact]
    public async Task Entra_tenant_template_is_checked_against_the_tokens_tid()
    {
        ServerConfiguration entra = Server with { Issuer = "https://idp.example/{tenantid}/v2.0" };
        const string Tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        JsonElement claims = await this.ValidateAsync(this.Sign(c => { c["iss"] = $"https://idp.example/{Tid}/v2.0"; c["tid"] = Tid; }), "n1", entra, IssuerRule.Default);
        Assert.Equal(Tid, claims.GetProperty("tid").GetString());

        // Another tenant's issuer than the token's own tid, no tid at all, or a tid that would forge a path: refused.
        InvalidIdTokenException other = await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => { c["iss"] = "https://idp.example/evil-tenant/v2.0"; c["tid"] = Tid; }), "n1", entra, IssuerRule.Default));
        Assert.Contains("{tenantid}", other.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["iss"] = $"https://idp.example/{Tid}/v2.0"), "n1", entra, IssuerRule.Default));
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => { c["iss"] = "https://idp.example/a/b/v2.0"; c["tid"] = "a/b"; }), "n1", entra, IssuerRule.Default));
    }

    [Fact]
    public async Task Googles_two_issuer_spellings_are_accepted_for_google_only()
    {
        ServerConfiguration google = Server with { Issuer = "https://accounts.google.com" };
        await this.ValidateAsync(this.Sign(c => c["iss"] = "accounts.google.com"), "n1", google, IssuerRule.Default);
        await this.ValidateAsync(this.Sign(c => c["iss"] = "https://accounts.google.com"), "n1", google, IssuerRule.Default);

        // Elsewhere a scheme-less issuer is a mismatch, unless the Google preset's rule applies to that authority (its emulator).
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["iss"] = "idp.example"), "n1", Server, IssuerRule.Default));
        await this.ValidateAsync(this.Sign(c => c["iss"] = "idp.example"), "n1", Server, new Core.OAuth.Providers.GoogleIssuerRule());
        await Assert.ThrowsAsync<InvalidIdTokenException>(() => this.ValidateAsync(this.Sign(c => c["iss"] = "evil.example"), "n1", Server, new Core.OAuth.Providers.GoogleIssuerRule()));
    }

    private async Task<JsonElement> ValidateAsync(string token, string? nonce, ServerConfiguration server, IssuerRule rule)
    {
        var validator = this.validator ??= new IdTokenValidator(this.time);
        using var http = new HttpClient(this.jwks, disposeHandler: false);
        return await validator.ValidateAsync(token, server, "app", nonce, rule, http, CancellationToken.None);
    }

    private async Task<JsonElement> ValidateAsync(string token, string? nonce)
    {
        var validator = this.validator ??= new IdTokenValidator(this.time);
        using var http = new HttpClient(this.jwks, disposeHandler: false);
        return await validator.ValidateAsync(token, Server, "app", nonce, http, CancellationToken.None);
    }

    private IdTokenValidator? validator;

    private string Sign(Action<Dictionary<string, object>>? change = null, RSA? key = null, string kid = "k1")
    {
        long now = this.time.GetUtcNow().ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = "alice",
            ["aud"] = "app",
            ["exp"] = now + 300,
            ["iat"] = now,
            ["nonce"] = "n1",
        };
        change?.Invoke(claims);
        string header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = kid }));
        string payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims));
        byte[] signature = (key ?? this.rsa).SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + Base64UrlEncoder.Encode(signature);
    }

    private sealed class JwksHandler : HttpMessageHandler
    {
        private string body = """{"keys":[]}""";

        public int Fetches { get; private set; }

        public void Publish(RSA key, string kid)
        {
            JsonWebKey jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.ExportParameters(false)) { KeyId = kid });
            this.body = JsonSerializer.Serialize(new { keys = new[] { new { kty = "RSA", kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            this.Fetches++;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(this.body, Encoding.UTF8, "application/json") });
        }
    }
}
