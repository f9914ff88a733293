using System.Net;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Core.Tests.Engine;

namespace OAuthSidecar.Core.Tests.SignIn;

/// <summary>
/// The interactive chain in process, through the credential broker, on the stub server and a fake clock: which way
/// signs the user in (browser, device, paste), what is skipped and why, the paste path's checks and races.
/// </summary>
public sealed class InteractiveSignInTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Auto_with_a_browser_signs_in_by_the_browser_and_announces_the_url()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost();

        TokenOutcome outcome = await GetAsync(engine, engine.Client, store, host);

        Assert.Equal(SignInMethod.Browser, outcome.Method);
        Assert.Equal("at-1", outcome.Tokens?.AccessToken);
        AuthCodeFlow flow = Assert.Single(host.Opened);
        (string flowId, string authUri, string message) = Assert.Single(engine.Events.AuthorizationUrls);
        Assert.Equal(flow.FlowId, flowId);
        Assert.Equal(flow.AuthUri, authUri);
        Assert.Contains(flow.AuthUri, message, StringComparison.Ordinal);
        Assert.DoesNotContain(engine.Server.Requests, r => r.Path == "/device");
        Assert.Equal(0, engine.Session.Flows.Count);
    }

    [Fact]
    public async Task Auto_without_a_browser_uses_the_device_flow()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { BrowserUnavailableReason = "this is an SSH session" };

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host);
        await engine.Clock.WaitForTimerAsync(Interval);
        engine.Clock.Advance(Interval);
        TokenOutcome outcome = await signIn.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(SignInMethod.Device, outcome.Method);
        Assert.Empty(host.Opened);
        Assert.Contains(engine.Events.All, e => e.StartsWith("deviceCode ", StringComparison.Ordinal));
        (_, string authUri, string message) = Assert.Single(engine.Events.AuthorizationUrls);
        Assert.Equal("https://idp.test/device", authUri);
        Assert.Contains("ABCD-EFGH", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_when_the_browser_does_not_open_ends_that_flow_and_uses_the_device_flow()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { Open = _ => new BrowserOpening(false, "the caller could not open the browser (window/showDocument answered success: false)") };

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host);
        await engine.Clock.WaitForTimerAsync(Interval);
        AuthCodeFlow abandoned = Assert.Single(host.Opened);
        Assert.True(abandoned.Machine.IsTerminal, "the browser flow was left open");
        Assert.Throws<UnknownHandleException>(() => engine.Session.Flows.Get<AuthCodeFlow>(abandoned.FlowId));
        engine.Clock.Advance(Interval);

        Assert.Equal(SignInMethod.Device, (await signIn.WaitAsync(TimeSpan.FromSeconds(10))).Method);
        Assert.DoesNotContain(engine.Events.AuthorizationUrls, u => u.FlowId == abandoned.FlowId);
    }

    [Fact]
    public async Task Auto_without_a_device_endpoint_asks_the_user_to_paste_the_address()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await WithoutDeviceEndpointAsync(engine);
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { BrowserUnavailableReason = "there is no desktop session" };

        Task<TokenOutcome> signIn = GetAsync(engine, client, store, host);
        PendingPrompt asked = await host.NextPromptAsync();
        Assert.StartsWith("https://idp.test/authorize?", asked.Prompt.AuthUri, StringComparison.Ordinal);
        Assert.StartsWith("http://127.0.0.1:", asked.Prompt.RedirectUri, StringComparison.Ordinal);
        Assert.Null(asked.Prompt.Problem);
        Assert.Contains(asked.Prompt.AuthUri, asked.Prompt.Message, StringComparison.Ordinal);
        Assert.Equal(asked.Prompt.FlowId, Assert.Single(engine.Events.AuthorizationUrls).FlowId);
        asked.Answer.SetResult(new RedirectAnswer(FakeSignInHost.Redirect(asked.Prompt, asked.Prompt.StateOf())));

        TokenOutcome outcome = await signIn.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(SignInMethod.Paste, outcome.Method);
        Assert.Equal("pasted-code", engine.Server.Requests.Single(r => r.Path == "/token").Form["code"]);
        Assert.DoesNotContain(engine.Server.Requests, r => r.Path == "/device");
    }

    [Fact]
    public async Task Auto_when_the_server_refuses_the_device_flow_asks_the_user_to_paste()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        engine.Server.Device = _ => StubAuthorizationServer.Error("unauthorized_client");
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { BrowserUnavailableReason = "there is no desktop session" };

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host);
        PendingPrompt asked = await host.NextPromptAsync();
        asked.Answer.SetResult(new RedirectAnswer(FakeSignInHost.Redirect(asked.Prompt, asked.Prompt.StateOf())));

        Assert.Equal(SignInMethod.Paste, (await signIn.WaitAsync(TimeSpan.FromSeconds(10))).Method);
        Assert.Single(engine.Server.Requests, r => r.Path == "/device");
    }

    [Fact]
    public async Task A_pasted_address_of_another_sign_in_is_refused_and_the_user_is_asked_again_on_the_open_flow()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost();

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host, InteractionMode.Paste);
        PendingPrompt first = await host.NextPromptAsync();
        first.Answer.SetResult(new RedirectAnswer(FakeSignInHost.Redirect(first.Prompt, "someone-elses-state")));

        PendingPrompt second = await host.NextPromptAsync();
        Assert.Equal(first.Prompt.FlowId, second.Prompt.FlowId);
        Assert.Equal(RedirectProblemKind.StateMismatch, second.Prompt.Problem?.Kind);
        Assert.Contains("state", second.Prompt.Problem?.Message, StringComparison.Ordinal);
        Assert.Equal(FlowState.Pending, engine.Session.Flows.Get<AuthCodeFlow>(first.Prompt.FlowId).Machine.State);
        Assert.DoesNotContain(engine.Server.Requests, r => r.Path == "/token");

        second.Answer.SetResult(new RedirectAnswer("not an address"));
        PendingPrompt third = await host.NextPromptAsync();
        Assert.Equal(RedirectProblemKind.NotARedirect, third.Prompt.Problem?.Kind);
        third.Answer.SetResult(new RedirectAnswer(FakeSignInHost.Redirect(third.Prompt, third.Prompt.StateOf())));

        Assert.Equal(SignInMethod.Paste, (await signIn.WaitAsync(TimeSpan.FromSeconds(10))).Method);
    }

    [Fact]
    public async Task Three_wrong_addresses_end_the_sign_in_with_a_state_mismatch()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost();

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host, InteractionMode.Paste);
        string? flowId = null;
        for (int i = 0; i < InteractiveSignIn.MaxPasteAttempts; i++)
        {
            PendingPrompt asked = await host.NextPromptAsync();
            flowId = asked.Prompt.FlowId;
            asked.Answer.SetResult(new RedirectAnswer(FakeSignInHost.Redirect(asked.Prompt, "wrong")));
        }

        StateMismatchException error = await Assert.ThrowsAsync<StateMismatchException>(() => signIn.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(flowId, error.FlowId);
        Assert.Equal(0, engine.Session.Flows.Count);
    }

    [Fact]
    public async Task A_declined_question_is_interaction_required()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost();

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host, InteractionMode.Paste);
        (await host.NextPromptAsync()).Answer.SetResult(new RedirectAnswer(null, "the user pressed Escape"));

        InteractionRequiredException error = await Assert.ThrowsAsync<InteractionRequiredException>(() => signIn.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(InteractionRequiredKind.Declined, error.Kind);
        Assert.Contains("the user pressed Escape", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_loopback_callback_wins_over_a_pending_question_which_is_withdrawn()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost();

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host, InteractionMode.Paste);
        PendingPrompt asked = await host.NextPromptAsync();
        AuthCodeFlow flow = engine.Session.Flows.Get<AuthCodeFlow>(asked.Prompt.FlowId);
        Assert.True(flow.TryComplete(new CallbackResult(TestEngine.Response(flow, "loopback-code"), "GET", flow.Path, 0)));

        TokenOutcome outcome = await signIn.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(SignInMethod.Browser, outcome.Method);
        Assert.True(asked.Withdrawn.IsCancellationRequested);
        Assert.Equal("loopback-code", engine.Server.Requests.Single(r => r.Path == "/token").Form["code"]);
    }

    [Fact]
    public async Task With_no_way_left_the_error_names_every_step_skipped_and_why()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        OAuthClient client = await WithoutDeviceEndpointAsync(engine);
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { BrowserUnavailableReason = "this is an SSH session", PromptUnavailableReason = "the caller did not declare capabilities.promptRedirect" };

        InteractionRequiredException error = await Assert.ThrowsAsync<InteractionRequiredException>(() => GetAsync(engine, client, store, host));

        Assert.Equal(InteractionRequiredKind.NoWayLeft, error.Kind);
        Assert.Contains("this is an SSH session", error.Message, StringComparison.Ordinal);
        Assert.Contains("no device authorization endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("capabilities.promptRedirect", error.Message, StringComparison.Ordinal);
        Assert.Empty(engine.Server.Requests);
    }

    [Fact]
    public async Task Paste_when_the_user_cannot_be_asked_is_interaction_required_before_anything_starts()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { PromptUnavailableReason = "standard input is not a terminal" };

        InteractionRequiredException error = await Assert.ThrowsAsync<InteractionRequiredException>(() => GetAsync(engine, engine.Client, store, host, InteractionMode.Paste));

        Assert.Equal(InteractionRequiredKind.PasteUnavailable, error.Kind);
        Assert.Contains("standard input is not a terminal", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.Session.Flows.Count);
    }

    [Fact]
    public async Task Explicit_browser_waits_even_when_the_browser_did_not_open()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var tried = new TaskCompletionSource<AuthCodeFlow>(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = new FakeSignInHost
        {
            Open = flow =>
            {
                tried.SetResult(flow);
                return new BrowserOpening(false, "no browser could be launched");
            },
        };

        Task<TokenOutcome> signIn = GetAsync(engine, engine.Client, store, host, InteractionMode.Browser);
        AuthCodeFlow flow = await tried.Task.WaitAsync(TimeSpan.FromSeconds(10));
        flow.TryComplete(new CallbackResult(TestEngine.Response(flow), "GET", flow.Path, 0)); // the user opened the logged URL by hand

        Assert.Equal(SignInMethod.Browser, (await signIn.WaitAsync(TimeSpan.FromSeconds(10))).Method);
        Assert.Equal(flow.FlowId, Assert.Single(engine.Events.AuthorizationUrls).FlowId);
    }

    [Fact]
    public async Task A_step_up_with_the_device_flow_is_refused_and_auto_skips_the_device_flow_for_it()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost { BrowserUnavailableReason = "this is an SSH session" };

        InvalidOptionException refused = await Assert.ThrowsAsync<InvalidOptionException>(() => engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Interactive = InteractionMode.Device, Host = host, AcrValues = ["mfa"] }, CancellationToken.None));
        Assert.Equal(CoreOption.Interaction, refused.Option);

        Task<TokenOutcome> signIn = engine.Session.Credentials.GetCredentialsAsync(engine.Client, store, new CredentialRequest { Host = host, AcrValues = ["mfa"] }, CancellationToken.None);
        PendingPrompt asked = await host.NextPromptAsync();
        Assert.Equal("mfa", Prompts.QueryOf(asked.Prompt.AuthUri)["acr_values"]);
        asked.Answer.SetResult(new RedirectAnswer(FakeSignInHost.Redirect(asked.Prompt, asked.Prompt.StateOf())));
        Assert.Equal(SignInMethod.Paste, (await signIn.WaitAsync(TimeSpan.FromSeconds(10))).Method);
        Assert.DoesNotContain(engine.Server.Requests, r => r.Path == "/device");
    }

    [Fact]
    public async Task A_stored_token_and_a_refresh_say_so_in_the_method()
    {
        await using TestEngine engine = await TestEngine.CreateAsync();
        using var store = new CredentialStore(new MemoryItemStorage(), null);
        var host = new FakeSignInHost();
        Assert.Equal(SignInMethod.Browser, (await GetAsync(engine, engine.Client, store, host)).Method);

        engine.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(SignInMethod.Stored, (await GetAsync(engine, engine.Client, store, host, InteractionMode.None)).Method);
        engine.Clock.Advance(TimeSpan.FromMinutes(57));
        Assert.Equal(SignInMethod.Refresh, (await GetAsync(engine, engine.Client, store, host, InteractionMode.None)).Method);
        Assert.Single(host.Opened);
    }

    private static Task<TokenOutcome> GetAsync(TestEngine engine, OAuthClient client, CredentialStore store, ISignInHost host, InteractionMode mode = InteractionMode.Auto) =>
        engine.Session.Credentials.GetCredentialsAsync(client, store, new CredentialRequest { Interactive = mode, Host = host }, CancellationToken.None);

    private static Task<OAuthClient> WithoutDeviceEndpointAsync(TestEngine engine) =>
        engine.Session.Clients.CreateAsync(null, StubAuthorizationServer.Server with { DeviceAuthorizationEndpoint = null }, new ClientRegistration { ClientId = "native-app", Scopes = ["api"] }, CancellationToken.None);
}
