using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>The device flow service in process: polling on a fake clock, the state machine, a caller that stops polling.</summary>
public sealed class DeviceFlowServiceTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Pending_then_approved_completes_the_flow()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        int polls = 0;
        engine.Server.Token = form => Interlocked.Increment(ref polls) < 3 ? StubAuthorizationServer.Error("authorization_pending") : engine.Server.Grant(form);
        DeviceFlow flow = await StartAsync(engine);

        Task<TokenOutcome> tokens = engine.Session.Device.ObtainTokenAsync(flow.FlowId, CancellationToken.None);
        for (int i = 0; i < 3; i++)
        {
            await engine.Clock.WaitForTimerAsync(Interval);
            Assert.Equal(FlowState.Redeeming, flow.Machine.State);
            engine.Clock.Advance(Interval);
            await engine.Server.NextRequestAsync();
        }

        TokenOutcome outcome = await tokens.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("at-1", outcome.Tokens?.AccessToken);
        Assert.Equal(FlowState.Completed, flow.Machine.State);
        Assert.Equal([1, 2], engine.Events.Pending.Select(p => p.Attempt));
        Assert.Equal("dc-1", engine.Server.Requests.Last().Form["device_code"]);
        Assert.Equal(OAuthClient.DeviceCodeGrantType, Assert.Single(engine.Events.Tokens).GrantType);
        await Assert.ThrowsAsync<UnknownHandleException>(() => engine.Session.Device.ObtainTokenAsync(flow.FlowId, CancellationToken.None));
    }

    [Fact]
    public async Task A_caller_that_stops_polling_leaves_the_flow_to_poll_again()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        DeviceFlow flow = await StartAsync(engine);
        using var stop = new CancellationTokenSource();
        Task<TokenOutcome> first = engine.Session.Device.ObtainTokenAsync(flow.FlowId, stop.Token);
        await engine.Clock.WaitForTimerAsync(Interval);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal(FlowState.Pending, flow.Machine.State);

        Task<TokenOutcome> second = engine.Session.Device.ObtainTokenAsync(flow.FlowId, CancellationToken.None);
        await engine.Clock.WaitForTimerAsync(Interval);
        engine.Clock.Advance(Interval);
        Assert.NotNull((await second.WaitAsync(TimeSpan.FromSeconds(10))).Tokens);
    }

    [Fact]
    public async Task A_refusal_fails_the_flow_and_cancelling_wakes_the_poller()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        engine.Server.Token = _ => StubAuthorizationServer.Error("access_denied");
        DeviceFlow denied = await StartAsync(engine);
        Task<TokenOutcome> polling = engine.Session.Device.ObtainTokenAsync(denied.FlowId, CancellationToken.None);
        await engine.Clock.WaitForTimerAsync(Interval);
        engine.Clock.Advance(Interval);
        Assert.Equal("access_denied", (await polling.WaitAsync(TimeSpan.FromSeconds(10))).Error?.Error);
        Assert.Equal(FlowState.Failed, denied.Machine.State);

        DeviceFlow cancelled = await StartAsync(engine);
        Task<TokenOutcome> waiting = engine.Session.Device.ObtainTokenAsync(cancelled.FlowId, CancellationToken.None);
        await engine.Clock.WaitForTimerAsync(Interval);
        await engine.Session.CancelFlowAsync(cancelled.FlowId);
        await Assert.ThrowsAsync<FlowCancelledException>(() => waiting);
        Assert.Equal(FlowState.Cancelled, cancelled.Machine.State);
    }

    [Fact]
    public async Task A_server_without_a_device_endpoint_is_refused_by_name()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient noDevice = await engine.Session.Clients.CreateAsync(null, StubAuthorizationServer.Server with { DeviceAuthorizationEndpoint = null }, new ClientRegistration { ClientId = "x" }, CancellationToken.None);
        InvalidOptionException refused = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Device.InitiateAsync(noDevice, null, CancellationToken.None));
        Assert.Equal(CoreOption.DeviceAuthorizationEndpoint, refused.Option);
        Assert.DoesNotContain("{", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<DeviceFlow> StartAsync(TestEngine engine)
    {
        (DeviceFlow? flow, OAuthError? error) = await engine.Session.Device.InitiateAsync(engine.Client, null, CancellationToken.None);
        Assert.Null(error);
        Assert.Equal(5, flow!.IntervalSeconds);
        Assert.Equal(FlowState.Pending, flow.Machine.State);
        return flow;
    }
}
