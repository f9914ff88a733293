using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests;

public class DevicePollerTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Pending_pending_success_returns_the_tokens()
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, Pending(), Pending(), TokenOutcome.Success(Tokens("at-1")));
        var pending = new List<(int Attempt, string Error, int Next)>();

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-1", server.PollAsync, 5, Start.AddMinutes(10), (a, e, n) => pending.Add((a, e, n)), fake, CancellationToken.None);
        await AdvanceUntilAsync(fake, task, server, 3);
        TokenOutcome outcome = await task.WaitAsync(Bound);

        Assert.Null(outcome.Error);
        Assert.Equal("at-1", outcome.Tokens?.AccessToken);
        Assert.Equal([Start.AddSeconds(5), Start.AddSeconds(10), Start.AddSeconds(15)], server.PollTimes);
        Assert.Equal([(1, "authorization_pending", 5), (2, "authorization_pending", 5)], pending);
    }

    [Fact]
    public async Task The_first_poll_happens_one_interval_after_the_call()
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, TokenOutcome.Success(Tokens("at")));

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-1", server.PollAsync, 7, Start.AddMinutes(10), (_, _, _) => { }, fake, CancellationToken.None);
        for (int i = 0; i < 6; i++)
        {
            await WaitUntilParkedAsync(fake, task);
            fake.Advance(TimeSpan.FromSeconds(1));
        }

        // Parked on the 7 s timer, which has not fired: no poll can have happened.
        await WaitUntilParkedAsync(fake, task);
        Assert.Empty(server.PollTimes);
        Assert.False(task.IsCompleted);

        await AdvanceUntilAsync(fake, task, server, 1);
        await task.WaitAsync(Bound);
        Assert.Equal([Start.AddSeconds(7)], server.PollTimes);
    }

    [Fact]
    public async Task Slow_down_adds_five_seconds_to_this_and_later_polls()
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, SlowDown(), Pending(), SlowDown(), Pending(), TokenOutcome.Success(Tokens("at-2")));
        var pending = new List<(int Attempt, string Error, int Next)>();

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-2", server.PollAsync, 5, Start.AddHours(1), (a, e, n) => pending.Add((a, e, n)), fake, CancellationToken.None);
        await AdvanceUntilAsync(fake, task, server, 5);
        TokenOutcome outcome = await task.WaitAsync(Bound);

        Assert.Equal("at-2", outcome.Tokens?.AccessToken);
        // 5 s, then slow_down → 10 s, 10 s, then slow_down → 15 s, 15 s.
        Assert.Equal(
            [Start.AddSeconds(5), Start.AddSeconds(15), Start.AddSeconds(25), Start.AddSeconds(40), Start.AddSeconds(55)],
            server.PollTimes);
        Assert.Equal(
            [(1, "slow_down", 10), (2, "authorization_pending", 10), (3, "slow_down", 15), (4, "authorization_pending", 15)],
            pending);
    }

    [Theory]
    [InlineData("access_denied")]
    [InlineData("expired_token")]
    [InlineData("invalid_grant")]
    public async Task A_terminal_error_is_returned_as_the_outcome(string error)
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, Pending(), TokenOutcome.Failure(new OAuthError(error, "no", Status: 400)), TokenOutcome.Success(Tokens("never")));
        int pendingCalls = 0;

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-3", server.PollAsync, 5, Start.AddMinutes(10), (_, _, _) => pendingCalls++, fake, CancellationToken.None);
        await AdvanceUntilAsync(fake, task, server, 2);
        TokenOutcome outcome = await task.WaitAsync(Bound);

        Assert.Null(outcome.Tokens);
        Assert.Equal(error, outcome.Error?.Error);
        Assert.Equal("no", outcome.Error?.ErrorDescription);
        Assert.Equal(1, pendingCalls);
        Assert.Equal(2, server.PollTimes.Count);
    }

    [Fact]
    public async Task Expiry_with_only_pending_answers_throws_FlowTimeoutException()
    {
        var fake = new PollerClock(Start);
        DateTimeOffset expiresAt = Start.AddSeconds(12);
        var server = new ScriptedServer(fake, Enumerable.Repeat(Pending(), 100).ToArray());

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-4", server.PollAsync, 5, expiresAt, (_, _, _) => { }, fake, CancellationToken.None);
        await AdvanceUntilAsync(fake, task, server, int.MaxValue);

        var ex = await Assert.ThrowsAsync<FlowTimeoutException>(() => task.WaitAsync(Bound));
        Assert.Equal("flow-4", ex.FlowId);
        Assert.Equal(12, ex.TimeoutSeconds);
        Assert.NotEmpty(server.PollTimes);
        Assert.All(server.PollTimes, t => Assert.True(t <= expiresAt, $"polled at {t:O}, after the device code expired"));
        Assert.True(fake.GetUtcNow() >= expiresAt);
    }

    [Fact]
    public async Task An_already_expired_device_code_throws_without_polling()
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, TokenOutcome.Success(Tokens("at")));

        var ex = await Assert.ThrowsAsync<FlowTimeoutException>(() =>
            DevicePoller.PollAsync("flow-5", server.PollAsync, 5, Start.AddSeconds(-1), (_, _, _) => { }, fake, CancellationToken.None).WaitAsync(Bound));

        Assert.Equal("flow-5", ex.FlowId);
        Assert.Empty(server.PollTimes);
    }

    [Fact]
    public async Task Cancellation_while_waiting_throws_OperationCanceledException()
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, Enumerable.Repeat(Pending(), 100).ToArray());
        using var cts = new CancellationTokenSource();

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-6", server.PollAsync, 5, Start.AddMinutes(10), (_, _, _) => { }, fake, cts.Token);
        await AdvanceUntilAsync(fake, task, server, 1);
        await WaitUntilParkedAsync(fake, task);
        fake.Advance(TimeSpan.FromSeconds(2));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(Bound));
        Assert.Single(server.PollTimes);

        fake.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(server.PollTimes);
    }

    [Fact]
    public async Task Cancellation_is_passed_to_the_poll()
    {
        var fake = new PollerClock(Start);
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<TokenOutcome> HangingPoll(CancellationToken ct)
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return Pending();
        }

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-7", HangingPoll, 1, Start.AddMinutes(10), (_, _, _) => { }, fake, cts.Token);
        fake.Advance(TimeSpan.FromSeconds(1));
        await started.Task.WaitAsync(Bound);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(Bound));
    }

    [Fact]
    public async Task An_interval_below_one_second_is_raised_to_one()
    {
        var fake = new PollerClock(Start);
        var server = new ScriptedServer(fake, Pending(), TokenOutcome.Success(Tokens("at")));
        var next = new List<int>();

        Task<TokenOutcome> task = DevicePoller.PollAsync("flow-8", server.PollAsync, 0, Start.AddMinutes(10), (_, _, n) => next.Add(n), fake, CancellationToken.None);
        await AdvanceUntilAsync(fake, task, server, 2);
        await task.WaitAsync(Bound);

        Assert.Equal([Start.AddSeconds(1), Start.AddSeconds(2)], server.PollTimes);
        Assert.Equal([1], next);
    }

    private static TokenOutcome Pending() => TokenOutcome.Failure(new OAuthError("authorization_pending"));

    private static TokenOutcome SlowDown() => TokenOutcome.Failure(new OAuthError("slow_down"));

    private static TokenSet Tokens(string accessToken) => new()
    {
        AccessToken = accessToken,
        TokenType = "Bearer",
        Scopes = ["openid"],
        Raw = JsonDocument.Parse("{}").RootElement.Clone(),
    };

    // Advances the fake clock one second at a time until the server has seen `polls` requests or the task ended.
    // Task.Delay(…, TimeProvider) resumes its awaiter on the thread pool, so the clock only moves while the poller
    // is parked on a timer; otherwise a second would pass before the next delay starts.
    private static async Task AdvanceUntilAsync(PollerClock fake, Task task, ScriptedServer server, int polls)
    {
        for (int i = 0; i < 10_000 && server.PollTimes.Count < polls && !task.IsCompleted; i++)
        {
            await WaitUntilParkedAsync(fake, task);
            if (task.IsCompleted)
            {
                break;
            }

            fake.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(server.PollTimes.Count >= polls || task.IsCompleted, $"only {server.PollTimes.Count} polls happened");
    }

    // Returns when the poller waits on a timer of the fake clock (or has finished): an event the clock raises when a
    // timer is created, not a look at the clock every millisecond.
    private static async Task WaitUntilParkedAsync(PollerClock fake, Task task) =>
        await Task.WhenAny(fake.WhenParked(), task).WaitAsync(Bound);

    /// <summary>A fake clock that says when a timer is waiting to fire.</summary>
    private sealed class PollerClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly Lock gate = new();
        private int waiting;
        private TaskCompletionSource parked = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a timer created on this clock has not fired yet (at once if one is waiting now).</summary>
        public Task WhenParked()
        {
            lock (this.gate)
            {
                return this.parked.Task;
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (this.gate)
            {
                this.waiting++;
                this.parked.TrySetResult();
            }

            return base.CreateTimer(
                s =>
                {
                    lock (this.gate)
                    {
                        if (--this.waiting == 0)
                        {
                            this.parked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }
                    }

                    callback(s);
                },
                state,
                dueTime,
                period);
        }
    }

    private sealed class ScriptedServer(FakeTimeProvider clock, params TokenOutcome[] answers)
    {
        private readonly Queue<TokenOutcome> answers = new(answers);

        public List<DateTimeOffset> PollTimes { get; } = [];

        public Task<TokenOutcome> PollAsync(CancellationToken cancellationToken)
        {
            lock (this.PollTimes)
            {
                this.PollTimes.Add(clock.GetUtcNow());
                return Task.FromResult(this.answers.Dequeue());
            }
        }
    }
}
