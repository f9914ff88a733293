using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.InProcess;

/// <summary>DPoP and PAR through the RPC target in process: wire shapes (<c>dpop</c>, <c>par</c>, <c>jkt</c>, <c>createDpopProof</c>) and the errors' codes, fields and advice.</summary>
public sealed class DpopParInProcessTests
{
    private const string Issuer = "https://idp.test";

    private static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    [Fact]
    public async Task A_dpop_client_gets_jkt_in_results_and_proofs_for_its_own_requests()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        sidecar.Stub.Answer = r => r.Path == "/token" ? Json(HttpStatusCode.OK, """{"access_token":"at-bound","token_type":"DPoP","expires_in":3600}""") : null;
        JsonObject created = await sidecar.CallAsync("createClient", new { clientId = "machine", clientSecret = "machine-secret", dpop = new { alg = "ES384" }, serverConfiguration = new { issuer = Issuer, tokenEndpoint = Issuer + "/token", dpopSigningAlgValuesSupported = new[] { "ES384" } } });
        string handle = created["result"]!["clientHandle"]!.GetValue<string>();
        Assert.Equal("ES384", created["result"]!["serverConfiguration"]!["dpopSigningAlgValuesSupported"]![0]!.GetValue<string>());

        JsonObject tokens = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = handle }))["result"]!.AsObject();
        Assert.Equal("DPoP", tokens["tokenType"]!.GetValue<string>());
        string jkt = tokens["jkt"]!.GetValue<string>();
        Assert.NotNull(Assert.Single(sidecar.Stub.Requests).Header("DPoP"));

        JsonObject proof = (await sidecar.CallAsync("createDpopProof", new { clientHandle = handle, htm = "PATCH", htu = "https://api.test/x?y=1", accessToken = "at-bound" }))["result"]!.AsObject();
        Assert.Equal(jkt, proof["jkt"]!.GetValue<string>());
        Assert.Equal(3, proof["proof"]!.GetValue<string>().Split('.').Length);
        Assert.True(proof["expiresAt"]!.GetValue<long>() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.DoesNotContain("at-bound", sidecar.Diagnostics.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dpop_and_par_options_are_checked_and_named_by_their_wire_fields()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        var server = new { issuer = Issuer, tokenEndpoint = Issuer + "/token", authorizationEndpoint = Issuer + "/authorize" };

        JsonObject unknown = (await sidecar.CallAsync("createClient", new { clientId = "a", serverConfiguration = server, dpop = new { alg = "Ed448" } }))["error"]!.AsObject();
        Assert.Equal(-32602, unknown["code"]!.GetValue<int>());
        Assert.Equal("dpop.alg", unknown["data"]!["field"]!.GetValue<string>());
        Assert.Equal("The parameter 'dpop.alg' must be 'ES256', 'ES384', 'ES512', 'RS256', 'PS256' or 'EdDSA'.", unknown["message"]!.GetValue<string>());
        JsonObject eddsa = (await sidecar.CallAsync("createClient", new { clientId = "a", serverConfiguration = server, dpop = new { alg = "EdDSA" } }))["result"]!.AsObject();
        Assert.False(string.IsNullOrEmpty(eddsa["clientHandle"]!.GetValue<string>()));

        JsonObject notBoolean = (await sidecar.CallAsync("createClient", new { clientId = "a", serverConfiguration = server, dpop = "yes" }))["error"]!.AsObject();
        Assert.Equal("dpop", notBoolean["data"]!["field"]!.GetValue<string>());

        JsonObject always = (await sidecar.CallAsync("createClient", new { clientId = "a", serverConfiguration = server, par = "always" }))["error"]!.AsObject();
        Assert.Equal("par", always["data"]!["field"]!.GetValue<string>());
        Assert.StartsWith("par 'always' needs", always["message"]!.GetValue<string>(), StringComparison.Ordinal);

        string plain = (await sidecar.CallAsync("createClient", new { clientId = "a", serverConfiguration = server, dpop = false }))["result"]!["clientHandle"]!.GetValue<string>();
        JsonObject noKey = (await sidecar.CallAsync("createDpopProof", new { clientHandle = plain, htm = "GET", htu = "https://api.test/" }))["error"]!.AsObject();
        Assert.Equal("dpop", noKey["data"]!["field"]!.GetValue<string>());
        Assert.Contains("create it with dpop on", noKey["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_about_dpop_and_refused_pushes_are_oauth_errors_with_advice()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        sidecar.Stub.Answer = r => r.Path switch
        {
            "/token" => Json(HttpStatusCode.BadRequest, """{"error":"invalid_dpop_proof","error_description":"DPoP proof required"}"""),
            "/par" => Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"client authentication failed"}"""),
            _ => null,
        };
        string handle = (await sidecar.CallAsync("createClient", new { clientId = "a", serverConfiguration = new { issuer = Issuer, tokenEndpoint = Issuer + "/token", authorizationEndpoint = Issuer + "/authorize", pushedAuthorizationRequestEndpoint = Issuer + "/par" } }))["result"]!["clientHandle"]!.GetValue<string>();

        JsonObject required = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = handle }))["error"]!.AsObject();
        Assert.Equal(-32003, required["code"]!.GetValue<int>());
        Assert.Equal("invalid_dpop_proof", required["data"]!["error"]!.GetValue<string>());
        Assert.EndsWith("create the client with dpop: true.", required["message"]!.GetValue<string>(), StringComparison.Ordinal);

        JsonObject pushRefused = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = handle, openBrowser = false, redirectUri = "dev.example.app:/cb" }))["error"]!.AsObject();
        Assert.Equal(-32003, pushRefused["code"]!.GetValue<int>());
        Assert.Equal("invalid_client", pushRefused["data"]!["error"]!.GetValue<string>());
        Assert.Equal(401, pushRefused["data"]!["status"]!.GetValue<int>());
    }
}
