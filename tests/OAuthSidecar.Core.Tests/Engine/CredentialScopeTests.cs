using System.Net;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// The credential broker with scopes as real servers grant them (issue 13, item 1), in process on a fake clock and a
/// stub server that grants fewer scopes than asked for, answers without <c>scope</c> or without a rotated refresh token,
/// and spells scopes its own way. One rule per test.
/// </summary>
public sealed class CredentialScopeTests
{
    private static readonly AccountKey Alice = new(StubAuthorizationServer.Issuer, "native-app", "default");

    [Fact]
    public async Task Stored_tokens_match_a_request_without_the_reserved_openid_scopes_in_any_order()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["openid", "offline_access", "api", "profile"]);

        engine.Clock.Advance(TimeSpan.FromMinutes(2)); // past the reuse window of the shared result
        foreach (string[] scopes in new string[][] { ["api"], ["api", "openid"], ["profile", "api", "email"], ["offline_access", "api"] })
        {
            TokenOutcome stored = await SilentAsync(engine, store, scopes);
            Assert.Equal("at-1", stored.Tokens?.AccessToken);
        }

        Assert.Equal(1, engine.Server.TokenRequests);
    }

    [Fact]
    public async Task A_refresh_for_what_the_grant_holds_sends_no_scope_even_when_the_server_granted_fewer()
    {
        // The case: scopes openid and offline_access asked for, the grant keeps openid only, 60 s tokens.
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        engine.Server.Token = form => Answer(engine.Server, scope: form["grant_type"] == "authorization_code" ? "openid" : null, expiresIn: 60);
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["openid", "offline_access"]);

        // Right after the sign-in: the 60 s token is still good (min(5 min, half of 60 s) = 30 s).
        engine.Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal("at-1", (await SilentAsync(engine, store, ["openid"])).Tokens?.AccessToken); // (another key than below: no shared result)
        Assert.Equal(1, engine.Server.TokenRequests);

        engine.Clock.Advance(TimeSpan.FromSeconds(2)); // 29 s left: refresh
        TokenOutcome refreshed = await SilentAsync(engine, store, ["openid", "offline_access"]);
        Assert.Equal("at-2", refreshed.Tokens?.AccessToken);
        StubRequest refresh = engine.Server.Requests.Last();
        Assert.Equal("refresh_token", refresh.Form["grant_type"]);
        Assert.False(refresh.Form.ContainsKey("scope")); // "the same scope as originally granted" (RFC 6749 §6)
        Assert.Equal(new[] { "openid" }, refreshed.Tokens!.Scopes); // the answer had no scope: the grant's are reported
    }

    [Fact]
    public async Task A_narrowing_refresh_sends_only_granted_scopes_and_never_offline_access()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        engine.Server.Token = form => Answer(engine.Server, scope: form["grant_type"] == "authorization_code" ? "openid offline_access api:read api:write" : form.GetValueOrDefault("scope"));
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["openid", "offline_access", "api:read", "api:write"]);

        TokenOutcome narrowed = await SilentAsync(engine, store, ["openid", "offline_access", "api:read"]);
        Assert.Equal("at-2", narrowed.Tokens?.AccessToken);
        Assert.Equal("api:read openid", engine.Server.Requests.Last().Form["scope"]);
        Assert.Equal(new[] { "api:read", "openid" }, narrowed.Tokens!.Scopes);
    }

    [Fact]
    public async Task Granted_scopes_in_another_spelling_or_a_comma_list_still_count_as_held()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        // GitHub's comma list and Google's URL spelling of email, in another order and case.
        engine.Server.Token = form => Answer(engine.Server, scope: form["grant_type"] == "authorization_code" ? "Repo,https://www.googleapis.com/auth/userinfo.email,gist" : null, expiresIn: 600);
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["gist", "email", "repo"]);

        engine.Clock.Advance(TimeSpan.FromMinutes(6)); // 4 minutes left of 10: refresh
        TokenOutcome refreshed = await SilentAsync(engine, store, ["repo", "gist"]);
        Assert.Equal("at-2", refreshed.Tokens?.AccessToken);
        Assert.False(engine.Server.Requests.Last().Form.ContainsKey("scope"));
        Assert.Equal("at-2", (await SilentAsync(engine, store, ["gist", "repo", "email"])).Tokens?.AccessToken); // same key, stored
    }

    [Fact]
    public async Task Invalid_scope_keeps_the_refresh_token_and_an_interactive_sign_in_asks_for_the_missing_scopes()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["openid", "offline_access", "api:read"]);
        engine.Server.Token = form => form["grant_type"] == "refresh_token" ? StubAuthorizationServer.Error("invalid_scope") : Answer(engine.Server, scope: null);

        InteractionRequiredException silent = await Assert.ThrowsAsync<InteractionRequiredException>(() => SilentAsync(engine, store, ["api:admin"]));
        Assert.Contains("invalid_scope", silent.Message, StringComparison.Ordinal);
        Assert.Equal("api:admin", engine.Server.Requests.Last().Form["scope"]); // more than the grant holds: asked for, the server decides
        Assert.Equal("rt-1", store.Read(Alice)?.RefreshToken);
        Assert.Empty(engine.Events.Removed);

        string? asked = null;
        TokenOutcome signedIn = await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest
        {
            Scopes = ["api:admin"],
            Interactive = InteractionMode.Browser,
            OpenBrowser = flow =>
            {
                asked = string.Join(' ', flow.Scopes);
                flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0));
                return Task.CompletedTask;
            },
        }, CancellationToken.None);
        Assert.Equal("at-2", signedIn.Tokens?.AccessToken);
        Assert.Equal("api:admin api:read offline_access openid", asked); // incremental: the grant's scopes too
        Assert.Equal("rt-2", store.Read(Alice)?.RefreshToken);
    }

    [Fact]
    public async Task A_stored_token_is_handed_out_while_it_has_five_minutes_or_half_its_lifetime_left()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        engine.Server.Token = form => Answer(engine.Server, scope: null, expiresIn: form["grant_type"] == "authorization_code" ? 3600 : 120);
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["api"]);

        // Each call names the same stored token by another scope list, so that no shared result of a call before is reused.
        engine.Clock.Advance(TimeSpan.FromSeconds(3600 - 300)); // exactly 5 minutes left of an hour: still handed out
        Assert.Equal("at-1", (await SilentAsync(engine, store, ["api"])).Tokens?.AccessToken);
        engine.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("at-2", (await SilentAsync(engine, store, ["api", "openid"])).Tokens?.AccessToken); // a 120 s token now

        engine.Clock.Advance(TimeSpan.FromSeconds(60)); // 60 s left of 120: half its lifetime, still good
        Assert.Equal("at-2", (await SilentAsync(engine, store, ["api", "profile"])).Tokens?.AccessToken);
        engine.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("at-3", (await SilentAsync(engine, store, ["api", "email"])).Tokens?.AccessToken);
    }

    [Fact]
    public async Task A_refresh_answer_without_a_refresh_token_keeps_the_one_used_and_reports_the_grants_scopes()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app" });
        engine.Server.Token = form => form["grant_type"] == "refresh_token"
            ? (HttpStatusCode.OK, """{"access_token":"at-never-rotates","token_type":"Bearer","expires_in":3600}""")
            : Answer(engine.Server, scope: "openid api", expiresIn: 60);
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        await SignInAsync(engine, store, ["openid", "api"]);

        engine.Clock.Advance(TimeSpan.FromSeconds(45));
        TokenOutcome refreshed = await SilentAsync(engine, store, ["openid", "api"]);
        Assert.Equal("at-never-rotates", refreshed.Tokens?.AccessToken);
        Assert.Equal("rt-1", refreshed.Tokens?.RefreshToken);
        Assert.Equal(new[] { "openid", "api" }, refreshed.Tokens!.Scopes);
        Assert.Equal("rt-1", store.Read(Alice)?.RefreshToken);
        Assert.Empty(engine.Events.Rotated);

        // The RPC-level refresh (no store): the same rules.
        TokenOutcome direct = await engine.Client.RefreshAsync("rt-1", new RefreshOptions { Scopes = ["openid", "offline_access"], ReportScopes = ["openid"] }, CancellationToken.None);
        Assert.Equal("rt-1", direct.Tokens?.RefreshToken);
        Assert.Equal("openid", engine.Server.Requests.Last().Form["scope"]); // offline_access is never sent on a refresh
        Assert.Equal(new[] { "openid" }, direct.Tokens!.Scopes);
    }

    [Fact]
    public async Task Tokens_are_stored_per_resource_and_every_refresh_carries_its_resource()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app", Resources = ["https://api.one.example"] });
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        string? authorize = null;
        await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest
        {
            Scopes = ["openid", "offline_access", "api"],
            Interactive = InteractionMode.Browser,
            OpenBrowser = flow =>
            {
                authorize = flow.AuthUri;
                flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0));
                return Task.CompletedTask;
            },
        }, CancellationToken.None);
        Assert.Contains("resource=https%3A%2F%2Fapi.one.example", authorize, StringComparison.Ordinal);
        Assert.Equal("https://api.one.example", engine.Server.Requests.Last().Form["resource"]); // redemption

        TokenOutcome other = await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Scopes = ["api"], Interactive = InteractionMode.None, Resources = ["urn:two"] }, CancellationToken.None);
        Assert.Equal("at-2", other.Tokens?.AccessToken);
        Assert.Equal("urn:two", engine.Server.Requests.Last().Form["resource"]);
        Assert.Equal("refresh_token", engine.Server.Requests.Last().Form["grant_type"]);

        engine.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("at-1", (await SilentAsync(engine, store, ["api"])).Tokens?.AccessToken); // the client's default resource
        Assert.Equal("at-2", (await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Scopes = ["api"], Interactive = InteractionMode.None, Resources = ["urn:two"] }, CancellationToken.None)).Tokens?.AccessToken);
        Assert.Equal(2, engine.Server.TokenRequests);

        InvalidOptionException bad = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Interactive = InteractionMode.None, Resources = ["not a uri"] }, CancellationToken.None));
        Assert.Equal(CoreOption.RequestResource, bad.Option);
    }

    [Fact]
    public async Task A_device_sign_in_carries_the_requests_resource_to_the_device_endpoint_and_every_poll()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "native-app", Resources = ["https://api.one.example"] });
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        Task<TokenOutcome> call = engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Scopes = ["api"], Interactive = InteractionMode.Device, Resources = ["urn:two"] }, CancellationToken.None);
        await engine.Clock.WaitForTimerAsync(TimeSpan.FromSeconds(5));
        engine.Clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal("at-1", (await call.WaitAsync(TimeSpan.FromSeconds(10))).Tokens?.AccessToken);
        Assert.Equal("urn:two", engine.Server.Requests.Single(r => r.Path == "/device").Form["resource"]);
        Assert.Equal("urn:two", engine.Server.Requests.Single(r => r.Path == "/token").Form["resource"]);
        engine.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("at-1", (await engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Scopes = ["api"], Interactive = InteractionMode.None, Resources = ["urn:two"] }, CancellationToken.None)).Tokens?.AccessToken);
    }

    private static (HttpStatusCode Status, string Json) Answer(StubAuthorizationServer server, string? scope, int expiresIn = 3600)
    {
        int n = server.NextNumber();
        string scopeMember = scope is null ? string.Empty : $",\"scope\":\"{scope}\"";
        return (HttpStatusCode.OK, $$"""{"access_token":"at-{{n}}","token_type":"Bearer","expires_in":{{expiresIn}},"refresh_token":"rt-{{n}}"{{scopeMember}}}""");
    }

    private static Task<TokenOutcome> SilentAsync(TestEngine engine, CredentialStore store, string[] scopes) =>
        engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Scopes = scopes, Interactive = InteractionMode.None }, CancellationToken.None);

    private static async Task SignInAsync(TestEngine engine, CredentialStore store, string[] scopes)
    {
        var request = new CredentialRequest
        {
            Scopes = scopes,
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
