using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// The credential broker in process on a fake clock and a stub server: one sign-in for many callers, the reuse
/// window, stored and refreshed tokens, and what each refusal does to the stored refresh token.
/// </summary>
public sealed class CredentialBrokerTests
{
    [Fact]
    public async Task Many_concurrent_callers_share_one_sign_in()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        int flowsOpened = 0;
        var request = new CredentialRequest
        {
            Interactive = InteractionMode.Browser,
            OpenBrowser = flow =>
            {
                Interlocked.Increment(ref flowsOpened);
                flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0)); // the user signs in
                return Task.CompletedTask;
            },
        };

        TokenOutcome[] outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, request, CancellationToken.None)));

        Assert.Equal(1, flowsOpened);
        Assert.Equal(1, engine.Server.TokenRequests);
        Assert.All(outcomes, o => Assert.Equal("at-1", o.Tokens?.AccessToken));
        Assert.Equal("default", outcomes[0].Tokens?.Account);
    }

    [Fact]
    public async Task A_stored_token_is_used_until_it_nears_expiry_then_refreshed_silently()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store);

        engine.Clock.Advance(TimeSpan.FromMinutes(10)); // past the reuse window, token valid 50 more minutes
        TokenOutcome stored = await Silent(engine, store);
        Assert.Equal("at-1", stored.Tokens?.AccessToken);
        Assert.Equal(1, engine.Server.TokenRequests);

        engine.Clock.Advance(TimeSpan.FromMinutes(46)); // 4 minutes left: inside the 5-minute margin
        TokenOutcome refreshed = await Silent(engine, store);
        Assert.Equal("at-2", refreshed.Tokens?.AccessToken);
        StubRequest refresh = engine.Server.Requests.Last();
        Assert.Equal("refresh_token", refresh.Form["grant_type"]);
        Assert.Equal("rt-1", refresh.Form["refresh_token"]);
        Assert.Equal(("default", "rt-2"), Assert.Single(engine.Events.Rotated));
        Assert.Equal("rt-2", store.Read(new AccountKey(StubAuthorizationServer.Issuer, "native-app", "default"))?.RefreshToken);
    }

    [Fact]
    public async Task Results_are_reused_for_sixty_seconds()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        int opened = 0;
        var request = new CredentialRequest
        {
            Interactive = InteractionMode.Browser,
            OpenBrowser = flow =>
            {
                Interlocked.Increment(ref opened);
                flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0));
                return Task.CompletedTask;
            },
        };
        Assert.Equal("at-1", (await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, request, CancellationToken.None)).Tokens?.AccessToken);
        store.Remove(new AccountKey(StubAuthorizationServer.Issuer, "native-app", "default")); // only the shared result remains

        Assert.Equal("at-1", (await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, request, CancellationToken.None)).Tokens?.AccessToken);
        Assert.Equal(1, opened);

        engine.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("at-2", (await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, request, CancellationToken.None)).Tokens?.AccessToken);
        Assert.Equal(2, opened);
    }

    [Fact]
    public async Task Invalid_grant_forgets_the_refresh_token_and_invalid_scope_keeps_it()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store);
        var key = new AccountKey(StubAuthorizationServer.Issuer, "native-app", "default");

        engine.Clock.Advance(TimeSpan.FromMinutes(58));
        engine.Server.Token = _ => StubAuthorizationServer.Error("invalid_scope");
        InteractionRequiredException scope = await Assert.ThrowsAsync<InteractionRequiredException>(() => Silent(engine, store));
        Assert.Contains("invalid_scope", scope.Message, StringComparison.Ordinal);
        Assert.Equal("rt-1", store.Read(key)?.RefreshToken);
        Assert.Empty(engine.Events.Removed);

        engine.Server.Token = _ => StubAuthorizationServer.Error("invalid_grant");
        await Assert.ThrowsAsync<InteractionRequiredException>(() => Silent(engine, store));
        Assert.Null(store.Read(key)?.RefreshToken);
        Assert.Equal("default", Assert.Single(engine.Events.Removed).Account);
    }

    [Fact]
    public async Task Nothing_stored_and_no_interaction_allowed_is_interaction_required()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        InteractionRequiredException required = await Assert.ThrowsAsync<InteractionRequiredException>(() => Silent(engine, store));
        Assert.Contains("no interaction", required.Message, StringComparison.Ordinal);
        Assert.Empty(engine.Server.Requests);
    }

    private static Task<TokenOutcome> Silent(TestEngine engine, CredentialStore store) =>
        engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Interactive = InteractionMode.None }, CancellationToken.None);

    private static async Task SignInAsync(TestEngine engine, CredentialStore store)
    {
        var request = new CredentialRequest
        {
            Interactive = InteractionMode.Browser,
            OpenBrowser = flow =>
            {
                flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0));
                return Task.CompletedTask;
            },
        };
        TokenOutcome outcome = await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, request, CancellationToken.None);
        Assert.Equal("at-1", outcome.Tokens?.AccessToken);
    }
}
