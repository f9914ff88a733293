using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Core.Tests.Engine;

namespace OAuthSidecar.Core.Tests.SignIn;

/// <summary>
/// Step-up (RFC 9470, OpenID Connect claims requests): which stored tokens satisfy it, when a refresh may serve it,
/// what the sign-in sends, and that the account keeps serving other requests.
/// </summary>
public sealed class StepUpTests
{
    private const string Password = "urn:acr:password";
    private const string Mfa = "urn:acr:mfa";

    private static readonly AccountKey Key = new(StubAuthorizationServer.Issuer, "native-app", "alice");

    [Fact]
    public void The_requirement_checks_acr_max_age_and_claims()
    {
        long now = 1_000_000;
        StepUpRequirement acr = StepUpRequirement.Create(null, [Mfa, "urn:acr:hardware"], null)!;
        Assert.Null(acr.Unsatisfied(new AuthenticationContext(Mfa, null, null), now));
        Assert.Contains("'urn:acr:password' is not one of", acr.Unsatisfied(new AuthenticationContext(Password, null, null), now), StringComparison.Ordinal);
        Assert.Contains("not known", acr.Unsatisfied(null, now), StringComparison.Ordinal);

        StepUpRequirement maxAge = StepUpRequirement.Create(null, null, 600)!;
        Assert.Null(maxAge.Unsatisfied(new AuthenticationContext(null, now - 600, null), now));
        Assert.Contains("601 s ago", maxAge.Unsatisfied(new AuthenticationContext(null, now - 601, null), now), StringComparison.Ordinal);
        Assert.Contains("auth_time", maxAge.Unsatisfied(new AuthenticationContext(Mfa, null, null), now), StringComparison.Ordinal);

        // A claims request about the access token is satisfied only by a sign-in made with it; one about the id_token's acr is checked.
        StepUpRequirement accessToken = StepUpRequirement.Create("eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19fQ==", null, null)!;
        Assert.Equal("""{"access_token":{"acrs":{"essential":true,"value":"cp1"}}}""", accessToken.Claims);
        Assert.NotNull(accessToken.Unsatisfied(new AuthenticationContext(Mfa, now, null), now));
        Assert.Null(accessToken.Unsatisfied(new AuthenticationContext(null, null, accessToken.Claims), now));
        StepUpRequirement idToken = StepUpRequirement.Create("""{ "id_token": { "acr": { "essential": true, "values": ["urn:acr:mfa"] }, "auth_time": { "essential": true } } }""", null, null)!;
        Assert.Null(idToken.Unsatisfied(new AuthenticationContext(Mfa, now, null), now));
        Assert.NotNull(idToken.Unsatisfied(new AuthenticationContext(Password, now, null), now));

        Assert.Equal(new Dictionary<string, string> { ["acr_values"] = "urn:acr:mfa urn:acr:hardware" }, acr.AuthorizationParameters);
        Assert.Null(StepUpRequirement.Create(null, [], null));
    }

    [Theory]
    [InlineData("[1,2]", null, null, CoreOption.Claims)]
    [InlineData("not json", null, null, CoreOption.Claims)]
    [InlineData(null, "", null, CoreOption.AcrValues)]
    [InlineData(null, "two words", null, CoreOption.AcrValues)]
    [InlineData(null, null, -1L, CoreOption.MaxAge)]
    public void A_bad_requirement_names_its_option(string? claims, string? acr, long? maxAge, string option)
    {
        InvalidOptionException error = Assert.Throws<InvalidOptionException>(() => StepUpRequirement.Create(claims, acr is null ? null : [acr], maxAge));
        Assert.Equal(option, error.Option);
    }

    [Fact]
    public async Task A_token_of_a_weaker_sign_in_is_not_handed_out_and_the_sign_in_asks_for_the_step_up()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        Store(store, engine, acr: Password);
        var host = new FakeSignInHost();

        TokenOutcome stepped = await GetAsync(engine, store, host, new CredentialRequest { AcrValues = [Mfa], MaxAge = 300 });

        Assert.Equal(SignInMethod.Browser, stepped.Method);
        Dictionary<string, string> sent = Prompts.QueryOf(Assert.Single(host.Opened).AuthUri);
        Assert.Equal(Mfa, sent["acr_values"]);
        Assert.Equal("300", sent["max_age"]);
        Assert.DoesNotContain(engine.Server.Requests, r => r.Form.GetValueOrDefault("grant_type") == "refresh_token");
    }

    [Fact]
    public async Task A_token_that_satisfies_the_step_up_is_handed_out_without_a_sign_in()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        Store(store, engine, acr: Mfa, authTime: engine.Clock.GetUtcNow().ToUnixTimeSeconds() - 100);
        var host = new FakeSignInHost();

        TokenOutcome outcome = await GetAsync(engine, store, host, new CredentialRequest { AcrValues = [Mfa], MaxAge = 600, Interactive = InteractionMode.None });

        Assert.Equal(SignInMethod.Stored, outcome.Method);
        Assert.Equal("stored-at", outcome.Tokens?.AccessToken);
        Assert.Empty(engine.Server.Requests);
    }

    [Fact]
    public async Task Without_interaction_an_unsatisfied_step_up_is_interaction_required_and_the_account_keeps_serving()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        Store(store, engine, acr: Password, authTime: engine.Clock.GetUtcNow().ToUnixTimeSeconds() - 3600);
        var host = new FakeSignInHost();

        InteractionRequiredException error = await Assert.ThrowsAsync<InteractionRequiredException>(() => GetAsync(engine, store, host, new CredentialRequest { MaxAge = 600, Interactive = InteractionMode.None }));
        Assert.Contains("step-up", error.Message, StringComparison.Ordinal);
        Assert.Contains("3600 s ago", error.Message, StringComparison.Ordinal);

        Assert.Equal("stored-at", (await GetAsync(engine, store, host, new CredentialRequest { Interactive = InteractionMode.None })).Tokens?.AccessToken);
        Assert.Empty(engine.Server.Requests);
    }

    [Fact]
    public async Task A_refresh_serves_a_step_up_only_when_the_grant_satisfies_it()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        Store(store, engine, acr: Mfa, grantAcr: Mfa, expired: true);
        var host = new FakeSignInHost();

        TokenOutcome refreshed = await GetAsync(engine, store, host, new CredentialRequest { AcrValues = [Mfa], Interactive = InteractionMode.None });
        Assert.Equal(SignInMethod.Refresh, refreshed.Method);
        Assert.Equal(Mfa, Assert.Single(store.Read(Key)!.Tokens).Acr); // a refresh keeps the grant's authentication

        engine.Clock.Advance(CredentialBroker.ReuseWindow + TimeSpan.FromSeconds(1)); // a new request, not the shared result
        using var other = new CredentialStore(new MemoryItemStorage(), null);
        Store(other, engine, acr: Password, grantAcr: Password, expired: true);
        InteractionRequiredException error = await Assert.ThrowsAsync<InteractionRequiredException>(() => GetAsync(engine, other, host, new CredentialRequest { AcrValues = [Mfa], Interactive = InteractionMode.None }));
        Assert.Contains("step-up", error.Message, StringComparison.Ordinal);
        Assert.Single(engine.Server.Requests, r => r.Form.GetValueOrDefault("grant_type") == "refresh_token");
    }

    [Fact]
    public async Task A_sign_in_made_for_a_claims_request_satisfies_it_later_and_other_scopes_keep_their_tokens()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        Store(store, engine, acr: Password, otherScopes: ["other"]);
        var host = new FakeSignInHost();
        const string Claims = """{"access_token":{"acrs":{"essential":true,"value":"cp1"}}}""";

        TokenOutcome stepped = await GetAsync(engine, store, host, new CredentialRequest { Claims = Claims });
        Assert.Equal(SignInMethod.Browser, stepped.Method);
        Assert.Equal(Claims, Prompts.QueryOf(Assert.Single(host.Opened).AuthUri)["claims"]);

        engine.Clock.Advance(TimeSpan.FromMinutes(2));
        TokenOutcome again = await GetAsync(engine, store, host, new CredentialRequest { Claims = Claims, Interactive = InteractionMode.None });
        Assert.Equal(SignInMethod.Stored, again.Method);
        Assert.Equal(stepped.Tokens?.AccessToken, again.Tokens?.AccessToken);
        Assert.Equal("other-at", (await GetAsync(engine, store, host, new CredentialRequest { Scopes = ["other"], Interactive = InteractionMode.None })).Tokens?.AccessToken);
    }

    private static Task<TokenOutcome> GetAsync(TestEngine engine, CredentialStore store, ISignInHost host, CredentialRequest request) =>
        engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest
        {
            Scopes = request.Scopes,
            Interactive = request.Interactive,
            Host = host,
            Claims = request.Claims,
            AcrValues = request.AcrValues,
            MaxAge = request.MaxAge,
        }, CancellationToken.None);

    // An account signed in earlier: a token for the client's scopes under the given authentication, a refresh token.
    private static void Store(CredentialStore store, TestEngine engine, string? acr, long? authTime = null, string? grantAcr = null, bool expired = false, string[]? otherScopes = null)
    {
        long now = engine.Clock.GetUtcNow().ToUnixTimeSeconds();
        var account = new StoredAccount
        {
            Issuer = StubAuthorizationServer.Issuer,
            ClientId = "native-app",
            Account = "alice",
            RefreshToken = "stored-rt",
            GrantAcr = grantAcr,
            GrantAuthTime = authTime,
            UpdatedAt = now,
        };
        account.Tokens.Add(new StoredToken { Scopes = ["api"], AccessToken = "stored-at", ExpiresAt = expired ? now - 1 : now + 3600, Acr = acr, AuthTime = authTime });
        if (otherScopes is not null)
        {
            account.Tokens.Add(new StoredToken { Scopes = [.. otherScopes], AccessToken = "other-at", ExpiresAt = now + 3600 });
        }

        store.Write(account);
    }
}
