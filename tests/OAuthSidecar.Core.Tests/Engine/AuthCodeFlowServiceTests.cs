using System.Net;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// The authorization code flow service in process, on a stub token endpoint: each outcome moves the flow's state
/// machine as documented, and a flow is redeemed at most once.
/// </summary>
public sealed class AuthCodeFlowServiceTests
{
    [Fact]
    public async Task A_redeemed_flow_completes_reports_its_tokens_and_is_gone()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        Assert.Contains("code_challenge_method=S256", flow.AuthUri, StringComparison.Ordinal);

        TokenOutcome outcome = await engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, TestEngine.Response(flow), CancellationToken.None);

        Assert.Equal("at-1", outcome.Tokens?.AccessToken);
        Assert.Equal(FlowState.Completed, flow.Machine.State);
        StubRequest request = Assert.Single(engine.Server.Requests);
        Assert.Equal("the-code", request.Form["code"]);
        Assert.Equal(flow.CodeVerifier, request.Form["code_verifier"]);
        Assert.Equal("dev.example.app:/callback", request.Form["redirect_uri"]);
        Assert.Equal((engine.Client.Handle, (string?)flow.FlowId, "authorization_code"), Assert.Single(engine.Events.Tokens));
        await Assert.ThrowsAsync<UnknownHandleException>(() => engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, TestEngine.Response(flow), CancellationToken.None));
    }

    [Fact]
    public async Task A_response_with_another_state_is_refused_and_the_flow_stays_open()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();

        StateMismatchException mismatch = await Assert.ThrowsAsync<StateMismatchException>(() =>
            engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, new Dictionary<string, string> { ["code"] = "c", ["state"] = "not-it" }, CancellationToken.None));
        Assert.Equal(flow.FlowId, mismatch.FlowId);
        Assert.Equal(FlowState.Pending, flow.Machine.State);
        Assert.Empty(engine.Server.Requests);

        TokenOutcome outcome = await engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, TestEngine.Response(flow), CancellationToken.None);
        Assert.NotNull(outcome.Tokens);
    }

    [Fact]
    public async Task A_response_without_code_or_error_is_refused_and_the_flow_stays_open()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        InvalidOptionException invalid = await Assert.ThrowsAsync<InvalidOptionException>(() =>
            engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, new Dictionary<string, string> { ["state"] = flow.State }, CancellationToken.None));
        Assert.Equal(CoreOption.AuthResponseCode, invalid.Option);
        Assert.Equal(FlowState.Pending, flow.Machine.State);
    }

    [Fact]
    public async Task An_unreachable_token_endpoint_leaves_the_code_redeemable()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        engine.Server.Token = _ => (HttpStatusCode.ServiceUnavailable, "{}");

        await Assert.ThrowsAsync<ServerUnreachableException>(() => engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, TestEngine.Response(flow), CancellationToken.None));
        Assert.Equal(FlowState.CallbackReceived, flow.Machine.State);

        engine.Server.Token = engine.Server.Grant;
        TokenOutcome retried = await engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, null, CancellationToken.None); // the response already received
        Assert.NotNull(retried.Tokens);
        Assert.Equal(FlowState.Completed, flow.Machine.State);
        Assert.All(engine.Server.Requests, r => Assert.Equal("the-code", r.Form["code"]));
    }

    [Fact]
    public async Task A_refused_sign_in_fails_the_flow_with_the_servers_error()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow denied = await engine.InitiateAsync();
        TokenOutcome outcome = await engine.Session.AuthCode.ObtainTokenAsync(denied.FlowId, new Dictionary<string, string> { ["error"] = "access_denied", ["state"] = denied.State }, CancellationToken.None);
        Assert.Equal("access_denied", outcome.Error?.Error);
        Assert.Equal(FlowState.Failed, denied.Machine.State);

        AuthCodeFlow refused = await engine.InitiateAsync();
        engine.Server.Token = _ => StubAuthorizationServer.Error("invalid_grant");
        TokenOutcome redemption = await engine.Session.AuthCode.ObtainTokenAsync(refused.FlowId, TestEngine.Response(refused), CancellationToken.None);
        Assert.Equal("invalid_grant", redemption.Error?.Error);
        Assert.Equal(FlowState.Failed, refused.Machine.State);
        Assert.Empty(engine.Events.Tokens);
    }

    [Fact]
    public async Task Concurrent_redemptions_send_one_token_request()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        var release = new TaskCompletionSource();
        engine.Server.Token = form =>
        {
            release.Task.Wait(TimeSpan.FromSeconds(10));
            return engine.Server.Grant(form);
        };

        Task<TokenOutcome>[] racers = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(() => engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, TestEngine.Response(flow), CancellationToken.None)))];
        await engine.Server.NextRequestAsync();
        release.SetResult();
        Task all = Task.WhenAll(racers);
        await Assert.ThrowsAnyAsync<Exception>(() => all);

        Assert.Equal(1, racers.Count(r => r.IsCompletedSuccessfully));
        Assert.All(racers.Where(r => !r.IsCompletedSuccessfully), r => Assert.IsType<UnknownHandleException>(r.Exception!.InnerException));
        Assert.Equal(1, engine.Server.TokenRequests);
    }

    [Fact]
    public async Task A_wait_that_times_out_leaves_the_flow_open()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        Task<CallbackResult> wait = engine.Session.AuthCode.WaitForCallbackAsync(flow.FlowId, 5, CancellationToken.None);
        await engine.Clock.WaitForTimerAsync(TimeSpan.FromSeconds(5));
        engine.Clock.Advance(TimeSpan.FromSeconds(5));
        FlowTimeoutException timeout = await Assert.ThrowsAsync<FlowTimeoutException>(() => wait);
        Assert.Equal(5, timeout.TimeoutSeconds);
        Assert.Equal(FlowState.Pending, flow.Machine.State);

        Assert.True(flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", "/callback", 0)));
        CallbackResult arrived = await engine.Session.AuthCode.WaitForCallbackAsync(flow.FlowId, 5, CancellationToken.None);
        Assert.Equal("the-code", arrived.Params["code"]);
        Assert.Equal(FlowState.CallbackReceived, flow.Machine.State);
        Assert.Contains($"callbackReceived {flow.FlowId}", engine.Events.All);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0/callback#frag", "fragment")]
    [InlineData("http://0.0.0.0:0/callback", "wildcard")]
    [InlineData("http://[::]:8123/callback", "wildcard")]
    [InlineData("http://192.0.2.7:0/callback", "any free port")]
    public async Task A_redirect_uri_that_could_never_be_served_is_refused(string redirect, string why)
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        InvalidOptionException refused = await Assert.ThrowsAsync<InvalidOptionException>(() =>
            engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = redirect }, CancellationToken.None));
        Assert.Equal(CoreOption.RedirectUri, refused.Option);
        Assert.Contains(why, refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.Session.Flows.Count);

        // A claimed https redirect (RFC 8252 §7.2) is the caller's to serve: no listener, no refusal.
        AuthCodeFlow claimed = await engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = "https://app.example/callback" }, CancellationToken.None);
        Assert.Null(claimed.Listener);
    }
}
