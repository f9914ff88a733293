using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>A DPoP proof taken apart and checked the way a server does (RFC 9449 §4.3): its header, claims and signature.</summary>
internal sealed record ReadProof(JsonElement Header, JsonElement Jwk, JsonElement Claims, string Thumbprint)
{
    public string Claim(string name) => this.Claims.GetProperty(name).GetString()!;

    public bool Has(string name) => this.Claims.TryGetProperty(name, out _);
}

/// <summary>Helpers of the DPoP and PAR engine tests.</summary>
internal static class DpopSupport
{
    /// <summary>
    /// Reads a proof, checks its signature with the key in its own <c>jwk</c> header (EC and RSA with
    /// Microsoft.IdentityModel; OKP Ed25519 with BouncyCastle's verifier directly, not through the sidecar's provider),
    /// and computes the key's RFC 7638 thumbprint by hand.
    /// </summary>
    public static async Task<ReadProof> ReadAsync(string proof)
    {
        var jwt = new JsonWebToken(proof);
        using JsonDocument header = JsonDocument.Parse(Base64Url.DecodeFromChars(proof.Split('.')[0]));
        using JsonDocument claims = JsonDocument.Parse(Base64Url.DecodeFromChars(proof.Split('.')[1]));
        JsonElement jwk = header.RootElement.GetProperty("jwk");
        Assert.Equal(DpopKey.ProofType, jwt.Typ);
        if (jwk.GetProperty("kty").GetString() == "OKP")
        {
            Assert.True(VerifyEd25519(proof, jwk), "the Ed25519 signature does not verify with the jwk header's key");
            return new ReadProof(header.RootElement.Clone(), jwk.Clone(), claims.RootElement.Clone(), Thumbprint(jwk));
        }

        TokenValidationResult checkedProof = await new JsonWebTokenHandler().ValidateTokenAsync(proof, new TokenValidationParameters
        {
            IssuerSigningKey = new JsonWebKey(jwk.GetRawText()),
            ValidTypes = [DpopKey.ProofType],
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        Assert.True(checkedProof.IsValid, checkedProof.Exception?.Message);
        return new ReadProof(header.RootElement.Clone(), jwk.Clone(), claims.RootElement.Clone(), Thumbprint(jwk));
    }

    /// <summary>The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, no white space.</summary>
    public static string Thumbprint(JsonElement jwk)
    {
        string kty = jwk.GetProperty("kty").GetString()!;
        string canonical = kty switch
        {
            "EC" => $$"""{"crv":"{{jwk.GetProperty("crv").GetString()}}","kty":"EC","x":"{{jwk.GetProperty("x").GetString()}}","y":"{{jwk.GetProperty("y").GetString()}}"}""",
            "OKP" => $$"""{"crv":"{{jwk.GetProperty("crv").GetString()}}","kty":"OKP","x":"{{jwk.GetProperty("x").GetString()}}"}""", // RFC 8037 §2
            _ => $$"""{"e":"{{jwk.GetProperty("e").GetString()}}","kty":"RSA","n":"{{jwk.GetProperty("n").GetString()}}"}""",
        };
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>Checks a JWS signed with EdDSA (RFC 8037 §3.1) with BouncyCastle: the Ed25519 signature of <c>header.payload</c> by the OKP key <paramref name="jwk"/>.</summary>
    public static bool VerifyEd25519(string jws, JsonElement jwk)
    {
        Assert.Equal("Ed25519", jwk.GetProperty("crv").GetString());
        string[] parts = jws.Split('.');
        byte[] input = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var verifier = new Org.BouncyCastle.Crypto.Signers.Ed25519Signer();
        verifier.Init(false, new Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters(Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString())));
        verifier.BlockUpdate(input, 0, input.Length);
        return verifier.VerifySignature(Base64Url.DecodeFromChars(parts[2]));
    }

    /// <summary>The members a private JWK has and a public one must not (RFC 7518 §6.2.2, §6.3.2).</summary>
    public static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// <summary>An answer with a JSON body and headers.</summary>
    public static HttpResponseMessage Json(HttpStatusCode status, string json, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach ((string name, string value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    /// <summary>A token answer bound to DPoP (<c>token_type</c> <c>DPoP</c>).</summary>
    public static HttpResponseMessage DpopTokens(int n, params (string Name, string Value)[] headers) =>
        Json(HttpStatusCode.OK, $$"""{"access_token":"at-{{n}}","token_type":"DPoP","expires_in":3600,"refresh_token":"rt-{{n}}"}""", headers);

    /// <summary>Registers a DPoP client (with PAR settings) on the engine's stub server.</summary>
    /// <summary>
    /// A browser sign-in through <c>getCredentials</c> against the stub, whose token endpoint answers DPoP-bound tokens;
    /// answers the outcome and the <c>dpop_jkt</c> of the authorization request.
    /// </summary>
    public static async Task<(TokenOutcome SignedIn, string? DpopJkt)> SignInAsync(TestEngine engine, OAuthClient client, Credentials.CredentialStore store)
    {
        int n = 0;
        engine.Server.Answer = r => r.Path == "/token" ? DpopTokens(++n) : null;
        string? dpopJkt = null;
        var request = new Credentials.CredentialRequest
        {
            OpenBrowser = flow =>
            {
                dpopJkt = System.Web.HttpUtility.ParseQueryString(new Uri(flow.AuthUri).Query)["dpop_jkt"];
                flow.TryComplete(new Loopback.CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0));
                return Task.CompletedTask;
            },
        };

        TokenOutcome signedIn = await engine.Session.Credentials.GetCredentialsAsync(client, store, request, CancellationToken.None);
        return (signedIn, dpopJkt);
    }

    public static Task<OAuthClient> CreateClientAsync(TestEngine engine, DpopOptions? dpop, ServerConfiguration? server = null, ParMode par = ParMode.Auto) =>
        engine.Session.Clients.CreateAsync(null, server ?? StubAuthorizationServer.Server, new ClientRegistration { ClientId = "native-app", Scopes = ["api"], Dpop = dpop, Par = par }, CancellationToken.None);
}
