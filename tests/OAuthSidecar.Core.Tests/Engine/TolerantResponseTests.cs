using System.Net;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// Answers as real servers write them (issue 13, item 3), for every server: form-encoded bodies, an error member with
/// HTTP 200, numbers as strings, <c>verification_url</c>, and <c>Accept: application/json</c> on every request — and
/// nothing else loosened. (Issuer tolerance: <see cref="IdTokenValidatorTests"/> and <see cref="ProviderPresetTests"/>.)
/// </summary>
public sealed class TolerantResponseTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_form_encoded_token_answer_is_read_and_a_comma_separated_scope_split()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        // GitHub's default answer (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps).
        engine.Server.Token = _ => (HttpStatusCode.OK, "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer");
        TokenOutcome outcome = await engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", "v".PadRight(43, 'v'), ["repo", "gist"], [], null, null, CancellationToken.None);

        TokenSet tokens = Assert.IsType<TokenSet>(outcome.Tokens);
        Assert.Equal("gho_16C7e42F292c6912E7710c838347Ae178B4a", tokens.AccessToken);
        Assert.Equal(new[] { "repo", "gist" }, tokens.Scopes);
        Assert.Equal("Bearer", tokens.TokenType); // GitHub's "bearer", spelled as RFC 6750 does
        Assert.Equal(TokenResponseProcessor.AssumedLifetimeSeconds, tokens.ExpiresIn); // no expires_in and no preset that says tokens never expire: an hour
        Assert.Equal("gho_16C7e42F292c6912E7710c838347Ae178B4a", tokens.Raw.GetProperty("access_token").GetString());
    }

    [Fact]
    public async Task Only_a_provider_whose_tokens_never_expire_keeps_a_token_without_expires_in_unbounded()
    {
        // GitHub OAuth app tokens do not expire and come without expires_in; any other server's are taken as an hour.
        ClientRegistration github = new Core.OAuth.Providers.GitHubPreset().Apply(new ClientRegistration { ClientId = "app" }, new Uri("https://github.com"));
        await using TestEngine engine = await TestEngine.CreateAsync(github with { AccountEndpoint = null }, new Core.OAuth.Providers.ClientTarget(Server: StubAuthorizationServer.Server));
        engine.Server.Token = _ => (HttpStatusCode.OK, "access_token=gho_x&scope=repo&token_type=bearer");
        TokenOutcome outcome = await engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", "v".PadRight(43, 'v'), ["repo"], [], null, null, CancellationToken.None);
        Assert.Null(outcome.Tokens!.ExpiresAt);
        Assert.Null(outcome.Tokens.ExpiresIn);
    }

    [Fact]
    public async Task An_error_member_is_an_oauth_error_whatever_the_status_below_500()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        foreach ((HttpStatusCode status, string body) in new[]
        {
            (HttpStatusCode.OK, "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.&error_uri=https%3A%2F%2Fdocs.github.com"),
            (HttpStatusCode.OK, """{"error":"incorrect_client_credentials","error_description":"The client_id and/or client_secret passed are incorrect."}"""),
            ((HttpStatusCode)428, """{"error":"authorization_pending","error_description":"Precondition Required"}"""),
        })
        {
            engine.Server.Token = _ => (status, body);
            TokenOutcome outcome = await engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", null, [], [], null, null, CancellationToken.None);
            Assert.Null(outcome.Tokens);
            Assert.Equal((int)status, outcome.Error?.Status);
            Assert.False(string.IsNullOrEmpty(outcome.Error?.ErrorDescription));
        }
    }

    [Fact]
    public async Task Device_polling_reads_pending_and_slow_down_answered_with_http_200()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        int polls = 0;
        engine.Server.Token = form => Interlocked.Increment(ref polls) switch
        {
            1 => (HttpStatusCode.OK, "error=authorization_pending&error_description=The+authorization+request+is+still+pending."),
            2 => (HttpStatusCode.OK, """{"error":"slow_down","error_description":"Too many requests.","interval":10}"""),
            _ => (HttpStatusCode.OK, "access_token=gho_token&token_type=bearer&scope=repo"),
        };
        (DeviceFlow? flow, _) = await engine.Session.Device.InitiateAsync(engine.Client, ["repo"], CancellationToken.None);
        Task<TokenOutcome> tokens = engine.Session.Device.ObtainTokenAsync(flow!.FlowId, CancellationToken.None);
        foreach (TimeSpan wait in new[] { Interval, Interval, Interval + Interval })
        {
            await engine.Clock.WaitForTimerAsync(wait);
            engine.Clock.Advance(wait);
            await engine.Server.NextRequestAsync();
        }

        Assert.Equal("gho_token", (await tokens.WaitAsync(TimeSpan.FromSeconds(10))).Tokens?.AccessToken);
        Assert.Equal(new[] { "authorization_pending", "slow_down" }, engine.Events.Pending.Select(p => p.Error));
    }

    [Fact]
    public async Task Numbers_may_come_as_strings_and_verification_url_stands_for_verification_uri()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        // Google's device answer (verification_url) with Entra v1's string numbers.
        engine.Server.Device = _ => (HttpStatusCode.OK, """{"device_code":"dc-9","user_code":"GQVQ-JKEC","verification_url":"https://www.google.com/device","expires_in":"1800","interval":"7"}""");
        engine.Server.Token = _ => (HttpStatusCode.OK, """{"access_token":"at-s","token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599"}""");
        (DeviceFlow? flow, OAuthError? error) = await engine.Session.Device.InitiateAsync(engine.Client, ["openid"], CancellationToken.None);

        Assert.Null(error);
        Assert.Equal("https://www.google.com/device", flow!.Authorization.VerificationUri);
        Assert.Equal(7, flow.IntervalSeconds);
        Assert.Equal(1800, flow.ExpiresInSeconds);
        TokenOutcome outcome = await engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", null, [], [], null, null, CancellationToken.None);
        Assert.Equal(3599, outcome.Tokens?.ExpiresIn);
        Assert.Equal(engine.Clock.GetUtcNow().ToUnixTimeSeconds() + 3599, outcome.Tokens?.ExpiresAt);
    }

    [Fact]
    public async Task Every_token_device_and_revocation_request_asks_for_json()
    {
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "app", Headers = new Dictionary<string, string> { ["Accept"] = "text/plain" } });
        await engine.Session.Device.InitiateAsync(engine.Client, ["api"], CancellationToken.None);
        await engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", null, [], [], null, null, CancellationToken.None);
        await engine.Client.RefreshAsync("rt-0", [], null, CancellationToken.None);
        Assert.True(await engine.Client.RevokeAsync("rt-1", "refresh_token", CancellationToken.None));

        Assert.Equal(new[] { "/device", "/token", "/token", "/revoke" }, engine.Server.Requests.Select(r => r.Path));
        Assert.All(engine.Server.Requests, r => Assert.Contains("application/json", r.Accept, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nothing_else_is_loosened_html_a_form_without_a_token_or_a_device_answer_without_its_uri_stay_unreachable()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        engine.Server.Token = _ => (HttpStatusCode.OK, "token_type=bearer&scope=repo");
        ServerUnreachableException noToken = await Assert.ThrowsAsync<ServerUnreachableException>(() => engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", null, [], [], null, null, CancellationToken.None));
        Assert.Contains("access_token", noToken.Reason, StringComparison.Ordinal);

        engine.Server.Token = _ => (HttpStatusCode.OK, "<html>access_token=x</html>");
        ServerUnreachableException html = await Assert.ThrowsAsync<ServerUnreachableException>(() => engine.Client.RedeemCodeAsync("c", "http://127.0.0.1:1/cb", null, [], [], null, null, CancellationToken.None));
        Assert.Equal(UnreachableKind.BrokenResponse, html.Kind);

        engine.Server.Device = _ => (HttpStatusCode.OK, """{"device_code":"dc","user_code":"U","verification":"https://x"}""");
        await Assert.ThrowsAsync<ServerUnreachableException>(() => engine.Session.Device.InitiateAsync(engine.Client, null, CancellationToken.None));
    }
}
