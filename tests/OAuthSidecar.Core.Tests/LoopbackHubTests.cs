using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.Tests;

public sealed class LoopbackHubTests
{

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Targets_on_the_same_fixed_port_share_one_listener_routed_by_state()
    {
        await using LoopbackHub hub = NewHub();
        int port = Ports.GetFree();
        var a = new TestTarget("/callback", "state-a");
        var b = new TestTarget("/callback", "state-b");

        LoopbackListener la = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), a, CoreOption.FlowTls, CancellationToken.None);
        LoopbackListener lb = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), b, CoreOption.FlowTls, CancellationToken.None);

        Assert.Same(la, lb);
        Assert.Equal(port, la.Port);
        Assert.Equal(1, hub.ListenerCount);
        Assert.Equal(2, la.TargetCount);

        using (HttpResponseMessage r = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}/callback?code=for-b&state=state-b")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.Null(a.Result);
        Assert.Equal("for-b", b.Result?.Params["code"]);

        using (HttpResponseMessage r = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}/callback?code=for-a&state=state-a")))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        Assert.Equal("for-a", a.Result?.Params["code"]);
        Assert.Equal("for-b", b.Result?.Params["code"]);
    }

    [Fact]
    public async Task Port_zero_gives_each_target_its_own_listener()
    {
        await using LoopbackHub hub = NewHub();
        var a = new TestTarget("/callback", "state-a");
        var b = new TestTarget("/callback", "state-b");

        LoopbackListener la = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), a, CoreOption.FlowTls, CancellationToken.None);
        LoopbackListener lb = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), b, CoreOption.FlowTls, CancellationToken.None);

        Assert.NotSame(la, lb);
        Assert.NotEqual(la.Port, lb.Port);
        Assert.Equal(2, hub.ListenerCount);
        Assert.Equal(1, la.TargetCount);
        Assert.Equal(1, lb.TargetCount);
    }

    [Fact]
    public async Task The_listener_closes_after_its_last_target_detaches_immediately()
    {
        await using LoopbackHub hub = NewHub();
        int port = Ports.GetFree();
        var a = new TestTarget("/callback", "state-a");
        var b = new TestTarget("/callback", "state-b");
        LoopbackListener listener = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), a, CoreOption.FlowTls, CancellationToken.None);
        await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), b, CoreOption.FlowTls, CancellationToken.None);

        await hub.DetachAsync(listener, a, immediately: true);
        Assert.Equal(1, hub.ListenerCount);
        Assert.Equal(1, listener.TargetCount);

        await hub.DetachAsync(listener, b, immediately: true);
        await WaitUntilAsync(() => hub.ListenerCount == 0);

        Assert.Equal(0, hub.ListenerCount);
        await Assert.ThrowsAsync<HttpRequestException>(async () =>
        {
            // The socket closes just after the hub forgets the listener.
            for (int i = 0; i < 100; i++)
            {
                using HttpResponseMessage r = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"));
                await Task.Delay(20);
            }
        });
    }

    [Fact]
    public async Task A_fixed_port_is_reusable_after_the_listener_closed()
    {
        await using LoopbackHub hub = NewHub();
        int port = Ports.GetFree();
        var a = new TestTarget("/callback", "state-a");
        LoopbackListener first = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), a, CoreOption.FlowTls, CancellationToken.None);
        await hub.DetachAsync(first, a, immediately: true);
        await WaitUntilAsync(() => hub.ListenerCount == 0);

        var b = new TestTarget("/callback", "state-b");
        LoopbackListener second = await WaitForAsync(() => hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), b, CoreOption.FlowTls, CancellationToken.None));

        Assert.NotSame(first, second);
        Assert.Equal(port, second.Port);
        Assert.Equal(1, hub.ListenerCount);
    }

    [Fact]
    public async Task A_listener_lingers_after_a_normal_detach()
    {
        await using LoopbackHub hub = NewHub();
        hub.Linger = TimeSpan.FromMinutes(5);
        var a = new TestTarget("/callback", null);
        LoopbackListener listener = await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), a, CoreOption.FlowTls, CancellationToken.None);

        await hub.DetachAsync(listener, a);
        await Task.Delay(50);

        Assert.Equal(1, hub.ListenerCount);
        using HttpResponseMessage r = await Http.GetAsync(new Uri($"http://127.0.0.1:{listener.Port}/health"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Sharing_a_port_with_a_different_certificate_is_refused()
    {
        await using LoopbackHub hub = NewHub();
        int port = Ports.GetFree();
        using var one = Certificates.CreateAdHoc();
        using var two = Certificates.CreateAdHoc();
        await hub.AttachAsync(new LoopbackEndpoint("https", "127.0.0.1", port, one), new TestTarget("/cb", "a"), CoreOption.FlowTls, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<InvalidOptionException>(() =>
            hub.AttachAsync(new LoopbackEndpoint("https", "127.0.0.1", port, two), new TestTarget("/cb", "b"), CoreOption.FlowTls, CancellationToken.None));

        Assert.Equal(CoreOption.FlowTls, ex.Option);
        Assert.Equal(1, hub.ListenerCount);
    }

    [Fact]
    public async Task DisposeAsync_closes_every_listener_and_refuses_new_attaches()
    {
        LoopbackHub hub = NewHub();
        await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), new TestTarget("/cb", "a"), CoreOption.FlowTls, CancellationToken.None);
        await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), new TestTarget("/cb", "b"), CoreOption.FlowTls, CancellationToken.None);
        Assert.Equal(2, hub.ListenerCount);

        await hub.DisposeAsync();

        Assert.Equal(0, hub.ListenerCount);
    }

    private static LoopbackHub NewHub() => new(NullLoggerFactory.Instance, TimeProvider.System);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "the condition did not become true within 2 s");
    }

    // Retries briefly: the previous socket may still be closing.
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> action)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                return await action();
            }
            catch (ListenFailedException) when (i < 100)
            {
                await Task.Delay(20);
            }
        }
    }

    [Fact]
    public async Task A_port_this_hub_serves_under_another_host_is_named_as_ours()
    {
        await using var hub = new LoopbackHub(NullLoggerFactory.Instance, TimeProvider.System);
        int port = Ports.GetFree();
        await hub.AttachAsync(new LoopbackEndpoint("http", "127.0.0.1", port), new TestTarget("/cb", "a"), CoreOption.FlowTls, CancellationToken.None);

        ListenFailedException taken = await Assert.ThrowsAsync<ListenFailedException>(() =>
            hub.AttachAsync(new LoopbackEndpoint("http", "localhost", port), new TestTarget("/cb", "b"), CoreOption.FlowTls, CancellationToken.None));
        Assert.Contains("already serving sign-ins of this sidecar at http://127.0.0.1:", taken.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("another program", taken.Reason, StringComparison.Ordinal);
        Assert.Equal(1, hub.ListenerCount);
    }
}
