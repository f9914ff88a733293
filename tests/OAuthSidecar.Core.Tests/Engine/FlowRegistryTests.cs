using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>The flow registry: expiry on the clock, cancellation, kinds, and unknown ids.</summary>
public sealed class FlowRegistryTests
{
    [Fact]
    public async Task A_flow_expires_at_its_time_and_its_waiters_learn_why()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        Task<CallbackResult> waiter = engine.Session.AuthCode.WaitForCallbackAsync(flow.FlowId, 3600, CancellationToken.None);

        engine.Clock.Advance(flow.ExpiresAt - engine.Clock.GetUtcNow());

        await Assert.ThrowsAsync<FlowTimeoutException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(FlowState.Expired, flow.Machine.State);
        UnknownHandleException unknown = Assert.Throws<UnknownHandleException>(() => engine.Session.Flows.Get<AuthCodeFlow>(flow.FlowId));
        Assert.Equal(HandleKind.Flow, unknown.Kind);
        Assert.Equal(0, engine.Session.Flows.Count);
    }

    [Fact]
    public async Task Cancelling_ends_the_flow_once_and_waiters_get_cancelled()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        Task<CallbackResult> waiter = engine.Session.AuthCode.WaitForCallbackAsync(flow.FlowId, null, CancellationToken.None);

        await engine.Session.CancelFlowAsync(flow.FlowId);

        await Assert.ThrowsAsync<FlowCancelledException>(() => waiter);
        Assert.Equal(FlowState.Cancelled, flow.Machine.State);
        await Assert.ThrowsAsync<UnknownHandleException>(() => engine.Session.CancelFlowAsync(flow.FlowId));
    }

    [Fact]
    public async Task A_method_for_another_kind_of_flow_is_refused_by_name()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        AuthCodeFlow flow = await engine.InitiateAsync();
        InvalidOptionException wrongKind = Assert.Throws<InvalidOptionException>(() => engine.Session.Flows.Get<DeviceFlow>(flow.FlowId));
        Assert.Equal(CoreOption.FlowId, wrongKind.Option);
        Assert.Contains("browser flow", wrongKind.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_a_client_cancels_its_flows_only()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient other = await engine.Session.Clients.CreateAsync(null, StubAuthorizationServer.Server, new ClientRegistration { ClientId = "other" }, CancellationToken.None);
        AuthCodeFlow mine = await engine.InitiateAsync();
        AuthCodeFlow theirs = await engine.Session.AuthCode.InitiateAsync(other, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/cb" }, CancellationToken.None);

        await engine.Session.DisposeClientAsync(other.Handle);

        Assert.Equal(FlowState.Cancelled, theirs.Machine.State);
        Assert.Equal(FlowState.Pending, mine.Machine.State);
        Assert.Throws<UnknownHandleException>(() => engine.Session.Clients.Get(other.Handle));
    }
}
