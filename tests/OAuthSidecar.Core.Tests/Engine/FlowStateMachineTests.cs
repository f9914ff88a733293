using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>The flow state machine: the allowed transitions, one winner under contention, terminal states are final.</summary>
public sealed class FlowStateMachineTests
{
    private static readonly FlowState[] All = Enum.GetValues<FlowState>();

    private static readonly HashSet<(FlowState, FlowState)> Allowed =
    [
        (FlowState.Pending, FlowState.CallbackReceived),
        (FlowState.Pending, FlowState.Redeeming),
        (FlowState.CallbackReceived, FlowState.Redeeming),
        (FlowState.Redeeming, FlowState.CallbackReceived),
        (FlowState.Redeeming, FlowState.Pending),
        .. from live in new[] { FlowState.Pending, FlowState.CallbackReceived, FlowState.Redeeming }
           from end in new[] { FlowState.Completed, FlowState.Failed, FlowState.Cancelled, FlowState.Expired }
           select (live, end),
    ];

    [Fact]
    public void Exactly_the_documented_transitions_are_allowed()
    {
        foreach (FlowState from in All)
        {
            foreach (FlowState to in All)
            {
                Assert.True(Allowed.Contains((from, to)) == FlowStateMachine.IsAllowed(from, to), $"{from} → {to}");
            }
        }
    }

    [Fact]
    public void A_move_from_another_state_does_nothing_and_a_forbidden_one_throws()
    {
        var machine = new FlowStateMachine();
        Assert.False(machine.TryMove(FlowState.CallbackReceived, FlowState.Redeeming));
        Assert.Equal(FlowState.Pending, machine.State);
        Assert.Throws<InvalidOperationException>(() => machine.TryMove(FlowState.Pending, FlowState.Pending));
        Assert.True(machine.TryMove(FlowState.Pending, FlowState.CallbackReceived));
        Assert.True(machine.TryMove(FlowState.CallbackReceived, FlowState.Redeeming));
        Assert.True(machine.TryMove(FlowState.Redeeming, FlowState.CallbackReceived));
        Assert.Equal(FlowState.CallbackReceived, machine.State);
    }

    [Fact]
    public void Terminal_states_are_final()
    {
        var machine = new FlowStateMachine();
        Assert.True(machine.TryEnd(FlowState.Cancelled));
        Assert.False(machine.TryEnd(FlowState.Completed));
        Assert.False(machine.TryMove(FlowState.Pending, FlowState.CallbackReceived));
        Assert.Throws<InvalidOperationException>(() => machine.TryMove(FlowState.Cancelled, FlowState.Pending));
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.TryEnd(FlowState.Redeeming));
        Assert.Equal(FlowState.Cancelled, machine.State);
        Assert.True(machine.IsTerminal);
    }

    [Fact]
    public async Task Two_redeemers_never_both_win()
    {
        for (int round = 0; round < 200; round++)
        {
            var machine = new FlowStateMachine();
            Assert.True(machine.TryMove(FlowState.Pending, FlowState.CallbackReceived));
            using var go = new ManualResetEventSlim();
            Task<bool>[] racers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                go.Wait();
                return machine.TryMove(FlowState.CallbackReceived, FlowState.Redeeming);
            }))];
            go.Set();
            bool[] won = await Task.WhenAll(racers);
            Assert.Equal(1, won.Count(w => w));
        }
    }

    [Fact]
    public async Task An_end_racing_a_redemption_leaves_one_consistent_state()
    {
        for (int round = 0; round < 200; round++)
        {
            var machine = new FlowStateMachine();
            Assert.True(machine.TryMove(FlowState.Pending, FlowState.CallbackReceived));
            using var go = new ManualResetEventSlim();
            Task<bool> redeem = Task.Run(() =>
            {
                go.Wait();
                return machine.TryMove(FlowState.CallbackReceived, FlowState.Redeeming);
            });
            Task<bool> cancel = Task.Run(() =>
            {
                go.Wait();
                return machine.TryEnd(FlowState.Cancelled);
            });
            go.Set();
            bool redeemed = await redeem;
            Assert.True(await cancel); // ending always wins from any live state
            Assert.Equal(FlowState.Cancelled, machine.State);
            Assert.False(redeemed && machine.TryMove(FlowState.Redeeming, FlowState.CallbackReceived));
        }
    }
}
