using System.Net;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// Pushed authorization requests (RFC 9126) in the engine on a stub server and a fake clock: what is pushed and with
/// which authentication, the browser URL that is left, the <c>request_uri</c>'s lifetime bounding the flow, refusals,
/// and the PAR modes against the server's metadata.
/// </summary>
public sealed class ParEngineTests
{
    private static readonly ServerConfiguration WithPar = StubAuthorizationServer.Server with { PushedAuthorizationRequestEndpoint = StubAuthorizationServer.Issuer + "/par" };

    private static HttpResponseMessage Pushed(int expiresIn = 30) =>
        DpopSupport.Json(HttpStatusCode.Created, $$"""{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":{{expiresIn}}}""");

    [Fact]
    public async Task The_request_is_pushed_whole_and_the_browser_url_names_only_the_client_and_the_request_uri()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, new DpopOptions(), WithPar);
        engine.Server.Answer = r => r.Path == "/par" ? Pushed() : null;

        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/callback", LoginHint = "alice" }, CancellationToken.None);

        StubRequest push = Assert.Single(engine.Server.Requests);
        Assert.Equal("/par", push.Path);
        Assert.Equal("code", push.Form["response_type"]);
        Assert.Equal("native-app", push.Form["client_id"]);
        Assert.Equal("dev.example.app:/callback", push.Form["redirect_uri"]);
        Assert.Equal(flow.State, push.Form["state"]);
        Assert.Equal(Pkce.CreateCodeChallenge(flow.CodeVerifier), push.Form["code_challenge"]);
        Assert.Equal("S256", push.Form["code_challenge_method"]);
        Assert.Equal("alice", push.Form["login_hint"]);
        Assert.Equal(flow.DpopKey!.Thumbprint, push.Form["dpop_jkt"]);
        Assert.DoesNotContain("code_verifier", push.Form.Keys);

        var uri = new Uri(flow.AuthUri);
        Assert.Equal(StubAuthorizationServer.Issuer + "/authorize", uri.GetLeftPart(UriPartial.Path));
        System.Collections.Specialized.NameValueCollection query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        Assert.Equal(["client_id", "request_uri"], query.AllKeys.Order(StringComparer.Ordinal));
        Assert.Equal("native-app", query["client_id"]);
        Assert.Equal("urn:ietf:params:oauth:request_uri:abc", query["request_uri"]);
        Assert.Equal(SteppingClock.Epoch.AddSeconds(30), flow.ExpiresAt); // the request_uri's 30 s, not the flow's 300 s
    }

    [Fact]
    public async Task A_confidential_client_pushes_with_its_authentication()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await engine.Session.Clients.CreateAsync(null, WithPar, new ClientRegistration { ClientId = "confidential-app", ClientSecret = "s3cret-value" }, CancellationToken.None);
        engine.Server.Answer = r => r.Path == "/par" ? Pushed() : null;

        await engine.Session.AuthCode.InitiateAsync(client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/callback" }, CancellationToken.None);

        StubRequest push = Assert.Single(engine.Server.Requests);
        Assert.Equal("Basic " + Convert.ToBase64String("confidential-app:s3cret-value"u8.ToArray()), push.Header("Authorization"));
    }

    [Fact]
    public async Task A_request_uri_that_expires_before_the_callback_ends_the_flow_as_invalid_request_uri()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, null, WithPar);
        engine.Server.Answer = r => r.Path == "/par" ? Pushed(30) : null;
        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/callback" }, CancellationToken.None);

        Task<TokenOutcome> waiting = engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, null, CancellationToken.None);
        await engine.Clock.WaitForTimerAsync(TimeSpan.FromSeconds(30)); // the flow's expiry
        await engine.Clock.WaitForTimerAsync(TimeSpan.FromSeconds(30)); // the wait for the callback
        engine.Clock.Advance(TimeSpan.FromSeconds(30));
        TokenOutcome outcome = await waiting;

        Assert.Equal("invalid_request_uri", outcome.Error?.Error);
        Assert.Contains("30 s", outcome.Error?.ErrorDescription, StringComparison.Ordinal);
        Assert.Equal(0, engine.Session.Flows.Count);
        Assert.Single(engine.Server.Requests); // nothing was redeemed
    }

    [Fact]
    public async Task A_refused_push_is_the_servers_error_and_leaves_no_flow()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await DpopSupport.CreateClientAsync(engine, null, WithPar);
        engine.Server.Answer = r => r.Path == "/par" ? DpopSupport.Json(HttpStatusCode.BadRequest, """{"error":"invalid_request","error_description":"redirect_uri is not allowed"}""") : null;

        OAuthErrorException refused = await Assert.ThrowsAsync<OAuthErrorException>(() => engine.Session.AuthCode.InitiateAsync(client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/callback" }, CancellationToken.None));

        Assert.Equal("invalid_request", refused.Error.Error);
        Assert.Equal(400, refused.Error.Status);
        Assert.Equal(0, engine.Session.Flows.Count);
    }

    [Fact]
    public async Task The_par_mode_meets_the_servers_metadata()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        ServerConfiguration required = WithPar with { RequirePushedAuthorizationRequests = true };
        Assert.True((await DpopSupport.CreateClientAsync(engine, null, WithPar)).UsesPar);
        Assert.True((await DpopSupport.CreateClientAsync(engine, null, required, ParMode.Always)).UsesPar);
        Assert.False(engine.Client.UsesPar); // auto, and the metadata names no endpoint
        Assert.Equal(CoreOption.Par, (await Assert.ThrowsAsync<InvalidOptionException>(() => DpopSupport.CreateClientAsync(engine, null, required, ParMode.Never))).Option);
        Assert.Equal(CoreOption.Par, (await Assert.ThrowsAsync<InvalidOptionException>(() => DpopSupport.CreateClientAsync(engine, null, par: ParMode.Always))).Option);

        OAuthClient never = await DpopSupport.CreateClientAsync(engine, null, WithPar, ParMode.Never);
        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(never, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/callback" }, CancellationToken.None);
        Assert.Contains("code_challenge=", flow.AuthUri, StringComparison.Ordinal);
        Assert.Empty(engine.Server.Requests);
    }
}
