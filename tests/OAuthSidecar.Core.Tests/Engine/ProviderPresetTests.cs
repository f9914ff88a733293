using System.Net;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Core.OAuth.Providers;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>
/// The provider presets in process against a stub that serves each provider's discovery document (or fixed endpoints):
/// where the endpoints come from, the client authentication, how refresh tokens are asked for, the loopback host, the
/// issuer rule, the account of providers without id_tokens, and explicit members winning. The sign-in against each
/// provider's emulator or configured provider is in the end-to-end tests (ProviderSignInTests).
/// </summary>
public sealed class ProviderPresetTests
{
    [Fact]
    public void Every_preset_says_what_it_sets_and_picks_its_loopback_host()
    {
        foreach (ProviderPreset preset in ProviderPresets.All)
        {
            var authority = new Uri(preset.DefaultAuthority ?? (preset.Name == "keycloak" ? "https://sso.example/realms/dev" : "https://tenant.example"));
            ClientRegistration applied = preset.Apply(new ClientRegistration { ClientId = "app" }, authority);
            Assert.NotEmpty(applied.Quirks);
            Assert.All(applied.Quirks, q => Assert.EndsWith(".", q, StringComparison.Ordinal));
            Assert.Same(preset, applied.Preset);
            Assert.Matches(@"^http://(127\.0\.0\.1|localhost):0/callback$", applied.RedirectUri);
            Assert.StartsWith("https://", preset.Documentation, StringComparison.Ordinal);
        }

        Assert.Equal(new[] { "github", "gitlab", "google", "entra", "okta", "auth0", "keycloak" }, ProviderPresets.Names);
    }

    [Fact]
    public async Task Entra_organizations_discovery_accepts_the_tenantid_template_and_asks_for_offline_access()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path == "/organizations/v2.0/.well-known/openid-configuration"
            ? (HttpStatusCode.OK, Metadata("https://login.microsoftonline.com/{tenantid}/v2.0"))
            : null;
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "app", Scopes = ["User.Read"] }, new ClientTarget(Provider: "entra", Authority: "https://login.microsoftonline.com/organizations"), stub);

        Assert.Equal("https://login.microsoftonline.com/{tenantid}/v2.0", engine.Client.Server.Issuer);
        Assert.Equal(TokenEndpointAuthMethod.None, engine.Client.Registration.EffectiveAuthMethod);
        Assert.True(engine.Client.Registration.RefreshNamesScopes);
        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/cb" }, CancellationToken.None);
        Assert.Contains("scope=User.Read%20offline_access", flow.AuthUri, StringComparison.Ordinal);
        Assert.Equal("http://localhost:0/callback", engine.Client.Registration.RedirectUri);
    }

    [Fact]
    public async Task Entra_discovery_accepts_a_tenant_id_for_a_tenant_name_but_nothing_on_another_host()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal) ? (HttpStatusCode.OK, Metadata(r.Path.StartsWith("/consumers/", StringComparison.Ordinal)
            ? "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
            : "https://login.evil.example/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")) : null;
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "app" }, new ClientTarget(Provider: "entra", Authority: "https://login.microsoftonline.com/consumers"), stub);
        Assert.Equal("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", engine.Client.Server.Issuer);

        ServerUnreachableException foreign = await Assert.ThrowsAsync<ServerUnreachableException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "entra", Authority: "https://login.microsoftonline.com/contoso.onmicrosoft.com"), new ClientRegistration { ClientId = "app" }, CancellationToken.None));
        Assert.Contains("Issuer name does not match", foreign.Reason, StringComparison.Ordinal);

        // Without the preset the generic rule accepts Entra's {tenantid} template, and nothing more.
        await Assert.ThrowsAsync<ServerUnreachableException>(() => engine.Session.Clients.CreateAsync("https://login.microsoftonline.com/consumers/v2.0", null, new ClientRegistration { ClientId = "app" }, CancellationToken.None));
        InvalidOptionException shape = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "entra", Authority: "https://login.microsoftonline.com/a/b/c"), new ClientRegistration { ClientId = "app" }, CancellationToken.None));
        Assert.Equal(CoreOption.Authority, shape.Option);
    }

    [Fact]
    public async Task The_generic_rule_accepts_the_tenantid_template_and_a_trailing_slash()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path switch
        {
            "/organizations/v2.0/.well-known/openid-configuration" => (HttpStatusCode.OK, Metadata("https://login.microsoftonline.com/{tenantid}/v2.0")),
            "/.well-known/openid-configuration" => (HttpStatusCode.OK, Metadata("https://tenant.auth0.example/")),
            _ => null,
        };
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "app" }, new ClientTarget("https://login.microsoftonline.com/organizations/v2.0"), stub);
        Assert.Equal("https://login.microsoftonline.com/{tenantid}/v2.0", engine.Client.Server.Issuer);
        OAuthClient auth0 = await engine.Session.Clients.CreateAsync("https://tenant.auth0.example", null, new ClientRegistration { ClientId = "app" }, CancellationToken.None);
        Assert.Equal("https://tenant.auth0.example/", auth0.Server.Issuer);
    }

    [Fact]
    public async Task GitHub_has_fixed_endpoints_sends_its_secret_in_the_body_and_names_the_account_by_login()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path switch
        {
            "/login/oauth/access_token" => (HttpStatusCode.OK, "access_token=gho_abc&scope=repo%2Cread%3Auser&token_type=bearer"),
            "/user" when r.Host == "api.github.com" && r.Authorization == "Bearer gho_abc" => (HttpStatusCode.OK, """{"login":"octocat","id":1}"""),
            _ => null,
        };
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "Iv1.app", ClientSecret = "s3cret", Scopes = ["repo"] }, new ClientTarget(Provider: "github"), stub);
        Assert.Equal("https://github.com/login/oauth/authorize", engine.Client.Server.AuthorizationEndpoint);
        Assert.Equal("https://github.com/login/device/code", engine.Client.Server.DeviceAuthorizationEndpoint);
        Assert.Null(engine.Client.Server.RevocationEndpoint);
        Assert.Equal("https://github.com/login/oauth/access_token", engine.Client.StoreIssuer);

        TokenOutcome outcome = await engine.Client.RedeemCodeAsync("code", "http://127.0.0.1:5/callback", null, ["repo"], [], null, null, CancellationToken.None);
        StubRequest redeem = engine.Server.Requests.First(r => r.Path == "/login/oauth/access_token");
        Assert.Null(redeem.Authorization);
        Assert.Equal("s3cret", redeem.Form["client_secret"]);
        Assert.Equal("Iv1.app", redeem.Form["client_id"]);
        Assert.Equal("octocat", outcome.Tokens?.Account);
        Assert.Equal("octocat", outcome.Tokens?.Username);
        Assert.Equal(new[] { "repo", "read:user" }, outcome.Tokens!.Scopes);

        // GitHub Enterprise Server: the same paths on its host; the REST API under /api/v3.
        ClientRegistration ghes = new GitHubPreset().Apply(new ClientRegistration { ClientId = "x" }, new Uri("https://ghe.example.com"));
        Assert.Equal("https://ghe.example.com/api/v3/user", ghes.AccountEndpoint?.Url);
    }

    [Fact]
    public async Task Google_asks_for_refresh_tokens_with_access_type_offline_and_never_sends_offline_access()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path == "/.well-known/openid-configuration" && r.Host == "accounts.google.com" ? (HttpStatusCode.OK, Metadata("https://accounts.google.com")) : null;
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "123.apps.googleusercontent.com", ClientSecret = "GOCSPX-not-secret", Scopes = ["openid", "email", "offline_access"] }, new ClientTarget(Provider: "google"), stub);

        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/cb" }, CancellationToken.None);
        Assert.Contains("scope=openid%20email&", flow.AuthUri, StringComparison.Ordinal);
        Assert.Contains("access_type=offline", flow.AuthUri, StringComparison.Ordinal);
        Assert.Contains("prompt=consent", flow.AuthUri, StringComparison.Ordinal);
        AuthCodeFlow chosen = await engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/cb", Prompt = "select_account" }, CancellationToken.None);
        Assert.Contains("prompt=select_account", chosen.AuthUri, StringComparison.Ordinal); // the caller's prompt wins
        Assert.DoesNotContain("prompt=consent", chosen.AuthUri, StringComparison.Ordinal);

        await engine.Session.Device.InitiateAsync(engine.Client, null, CancellationToken.None);
        StubRequest device = engine.Server.Requests.Single(r => r.Path == "/device");
        Assert.Equal("123.apps.googleusercontent.com", device.Form["client_id"]); // in the body, with the secret
        Assert.Equal("GOCSPX-not-secret", device.Form["client_secret"]);
        Assert.Equal("openid email", device.Form["scope"]);
        Assert.Null(device.Authorization);
    }

    [Fact]
    public async Task Okta_auth0_and_keycloak_need_an_authority_of_their_shape()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal)
            ? (HttpStatusCode.OK, Metadata(r.Host == "tenant.auth0.example" ? "https://tenant.auth0.example/" : "https://" + r.Host + r.Path[..r.Path.IndexOf("/.well-known", StringComparison.Ordinal)]))
            : null;
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "app", Audience = "https://api.example" }, new ClientTarget(Provider: "auth0", Authority: "https://tenant.auth0.example"), stub);
        Assert.Equal("https://tenant.auth0.example/", engine.Client.Server.Issuer);
        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/cb", Scopes = ["openid"] }, CancellationToken.None);
        Assert.Contains("audience=https%3A%2F%2Fapi.example", flow.AuthUri, StringComparison.Ordinal);
        Assert.Contains("scope=openid%20offline_access", flow.AuthUri, StringComparison.Ordinal);

        OAuthClient okta = await engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "okta", Authority: "https://dev-1.okta.example/oauth2/default"), new ClientRegistration { ClientId = "app" }, CancellationToken.None);
        Assert.Equal("https://dev-1.okta.example/oauth2/default", okta.Server.Issuer);
        OAuthClient keycloak = await engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "keycloak", Authority: "https://sso.example/realms/dev"), new ClientRegistration { ClientId = "app", RedirectUri = "http://127.0.0.1:8400/callback" }, CancellationToken.None);
        Assert.Equal("http://127.0.0.1:8400/callback", keycloak.Registration.RedirectUri); // explicit wins
        Assert.Equal(RefreshTokenStyle.AsAsked, keycloak.Registration.RefreshTokens);

        foreach (string name in new[] { "okta", "auth0", "keycloak" })
        {
            InvalidOptionException missing = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Provider: name), new ClientRegistration { ClientId = "app" }, CancellationToken.None));
            Assert.Equal(CoreOption.Authority, missing.Option);
        }

        Assert.Equal(CoreOption.Authority, (await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "keycloak", Authority: "https://sso.example/dev"), new ClientRegistration { ClientId = "app" }, CancellationToken.None))).Option);
        Assert.Equal(CoreOption.Authority, (await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "okta", Authority: "http://okta.example/oauth2/default"), new ClientRegistration { ClientId = "app" }, CancellationToken.None))).Option);
    }

    [Fact]
    public async Task Explicit_members_win_over_the_preset_and_unknown_names_are_refused()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient github = await engine.Session.Clients.CreateAsync(
            new ClientTarget(Server: new ServerConfiguration(null, null, "https://proxy.example/token"), Provider: "github", Authority: "https://ghe.example"),
            new ClientRegistration { ClientId = "app", ClientSecret = "s", AuthMethod = TokenEndpointAuthMethod.ClientSecretBasic },
            CancellationToken.None);
        Assert.Equal("https://proxy.example/token", github.Server.TokenEndpoint);
        Assert.Equal("https://ghe.example/login/oauth/authorize", github.Server.AuthorizationEndpoint);
        Assert.Equal(TokenEndpointAuthMethod.ClientSecretBasic, github.Registration.EffectiveAuthMethod);
        Assert.Equal("github", github.Registration.Preset?.Name);

        InvalidOptionException unknown = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Provider: "myspace"), new ClientRegistration { ClientId = "app" }, CancellationToken.None));
        Assert.Equal(CoreOption.Provider, unknown.Option);
        Assert.Contains("github, gitlab, google, entra, okta, auth0, keycloak", unknown.Message, StringComparison.Ordinal);
        InvalidOptionException orphan = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Clients.CreateAsync(new ClientTarget(Issuer: "https://idp.test", Authority: "https://idp.test"), new ClientRegistration { ClientId = "app" }, CancellationToken.None));
        Assert.Equal(CoreOption.Authority, orphan.Option);
    }

    [Fact]
    public async Task GitLab_names_the_account_by_username_when_there_is_no_id_token_and_only_on_sign_in()
    {
        var stub = new StubAuthorizationServer();
        stub.Other = r => r.Path switch
        {
            "/.well-known/openid-configuration" => (HttpStatusCode.OK, Metadata("https://gitlab.example")),
            "/api/v4/user" when r.Authorization?.StartsWith("Bearer ", StringComparison.Ordinal) == true => (HttpStatusCode.OK, """{"id":42,"username":"tanuki","name":"Tanuki"}"""),
            _ => null,
        };
        await using TestEngine engine = await TestEngine.CreateAsync(new ClientRegistration { ClientId = "app", Scopes = ["read_user"] }, new ClientTarget(Provider: "gitlab", Authority: "https://gitlab.example"), stub);
        AuthCodeFlow flow = await engine.Session.AuthCode.InitiateAsync(engine.Client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/cb" }, CancellationToken.None);
        flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0));
        TokenOutcome signedIn = await engine.Session.AuthCode.ObtainTokenAsync(flow.FlowId, null, CancellationToken.None);
        Assert.Equal("tanuki", signedIn.Tokens?.Account);

        int asked = engine.Server.Requests.Count(r => r.Path == "/api/v4/user");
        TokenOutcome refreshed = await engine.Client.RefreshAsync(signedIn.Tokens!.RefreshToken!, [], "tanuki", CancellationToken.None);
        Assert.NotNull(refreshed.Tokens);
        Assert.Equal(asked, engine.Server.Requests.Count(r => r.Path == "/api/v4/user")); // a refresh knows its account
    }

    private static string Metadata(string issuer) => $$"""
        {"issuer":"{{issuer}}","authorization_endpoint":"{{StubAuthorizationServer.Issuer}}/authorize","token_endpoint":"{{StubAuthorizationServer.Issuer}}/token",
         "device_authorization_endpoint":"{{StubAuthorizationServer.Issuer}}/device","revocation_endpoint":"{{StubAuthorizationServer.Issuer}}/revoke","response_types_supported":["code"]}
        """;
}
