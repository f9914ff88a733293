using System.Threading.Channels;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.SignIn;

/// <summary>One question of the interactive chain to the user, which the test answers.</summary>
internal sealed record PendingPrompt(RedirectPrompt Prompt, TaskCompletionSource<RedirectAnswer> Answer, CancellationToken Withdrawn);

/// <summary>
/// A host that plays the user: it "opens" the browser by completing the flow like the loopback server would (or
/// refuses to), and hands each paste question to the test, which answers it.
/// </summary>
internal sealed class FakeSignInHost : ISignInHost
{
    private readonly Channel<PendingPrompt> prompts = Channel.CreateUnbounded<PendingPrompt>();

    public string? BrowserUnavailableReason { get; set; }

    public string? PromptUnavailableReason { get; set; }

    /// <summary>Gets or sets what opening the browser does: by default the user signs in (the callback arrives).</summary>
    public Func<AuthCodeFlow, BrowserOpening> Open { get; set; } = flow =>
    {
        flow.TryComplete(new CallbackResult(new Dictionary<string, string> { ["code"] = "the-code", ["state"] = flow.State }, "GET", flow.Path, 0));
        return new BrowserOpening(true, null);
    };

    public List<AuthCodeFlow> Opened { get; } = [];

    public Task<BrowserOpening> OpenBrowserAsync(AuthCodeFlow flow)
    {
        lock (this.Opened)
        {
            this.Opened.Add(flow);
        }

        return Task.FromResult(this.Open(flow));
    }

    public Task<RedirectAnswer> PromptRedirectAsync(RedirectPrompt prompt, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<RedirectAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellationToken.Register(() => answer.TrySetCanceled(cancellationToken));
        this.prompts.Writer.TryWrite(new PendingPrompt(prompt, answer, cancellationToken));
        return answer.Task;
    }

    /// <summary>Waits for the next question.</summary>
    public async Task<PendingPrompt> NextPromptAsync() =>
        await this.prompts.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>The address the browser would end on for <paramref name="prompt"/>, with <paramref name="state"/> (the flow's by default).</summary>
    public static string Redirect(RedirectPrompt prompt, string state, string code = "pasted-code") =>
        $"{prompt.RedirectUri}?code={code}&state={Uri.EscapeDataString(state)}";
}

/// <summary>Reading what the chain sent.</summary>
internal static class Prompts
{
    /// <summary>The <c>state</c> of the authorization request the user is asked to open.</summary>
    public static string StateOf(this RedirectPrompt prompt) => QueryOf(prompt.AuthUri)["state"];

    /// <summary>The query parameters of a URL.</summary>
    public static Dictionary<string, string> QueryOf(string url) => AuthorizationResponse.Parse(url);
}
