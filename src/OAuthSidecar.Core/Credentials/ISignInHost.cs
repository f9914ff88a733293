using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>How a credential request's user signed in (the <c>method</c> of its result).</summary>
public enum SignInMethod
{
    /// <summary>No sign-in: a stored access token.</summary>
    Stored,

    /// <summary>No sign-in: the stored refresh token was redeemed (RFC 6749 §6).</summary>
    Refresh,

    /// <summary>The authorization code flow, its response received by the loopback server.</summary>
    Browser,

    /// <summary>The device authorization grant (RFC 8628).</summary>
    Device,

    /// <summary>The authorization code flow, its response pasted by the user.</summary>
    Paste,
}

/// <summary>What went wrong with a pasted address, when the user is asked again.</summary>
public enum RedirectProblemKind
{
    /// <summary>The address belongs to another sign-in: its <c>state</c> or <c>iss</c> does not match (RFC 6749 §10.12, RFC 9207).</summary>
    StateMismatch,

    /// <summary>The text is not an authorization response: it has no <c>code</c>, <c>error</c> or <c>state</c>.</summary>
    NotARedirect,
}

/// <summary>The problem with the previous answer to a <see cref="RedirectPrompt"/>.</summary>
/// <param name="Kind">What kind of problem.</param>
/// <param name="Message">A sentence for the user.</param>
public sealed record RedirectProblem(RedirectProblemKind Kind, string Message);

/// <summary>A request to the user: sign in at <paramref name="AuthUri"/> on any machine and paste the address the browser ends on.</summary>
/// <param name="FlowId">The flow.</param>
/// <param name="AuthUri">The authorization request to open.</param>
/// <param name="RedirectUri">The redirect URI: the address the browser ends on starts with it (and fails to load there).</param>
/// <param name="Message">What to tell the user.</param>
/// <param name="Problem">What was wrong with the previous answer, when this asks again.</param>
public sealed record RedirectPrompt(string FlowId, string AuthUri, string RedirectUri, string Message, RedirectProblem? Problem);

/// <summary>The user's answer to a <see cref="RedirectPrompt"/>.</summary>
/// <param name="Url">The address pasted, or <see langword="null"/> when the user or the host declined.</param>
/// <param name="DeclinedBecause">Why it was declined (a sentence), when it was.</param>
public sealed record RedirectAnswer(string? Url, string? DeclinedBecause = null);

/// <summary>Whether a browser was opened.</summary>
/// <param name="Opened">Whether it was.</param>
/// <param name="Reason">Why not, as a clause ("the caller answered window/showDocument with success: false").</param>
public readonly record struct BrowserOpening(bool Opened, string? Reason);

/// <summary>
/// What the host can do to reach the user during an interactive sign-in: open a browser (itself, or through its
/// caller) and ask the user to paste the address a browser ended on. The JSON-RPC host asks its caller
/// (<c>window/showDocument</c>, <c>auth/promptRedirect</c>); the command line uses the system browser and the terminal.
/// </summary>
public interface ISignInHost
{
    /// <summary>Gets why no browser that reaches this machine's loopback address can be opened (a clause), or <see langword="null"/> when one can.</summary>
    string? BrowserUnavailableReason { get; }

    /// <summary>Gets why the user cannot be asked to paste an address (a clause), or <see langword="null"/> when they can.</summary>
    string? PromptUnavailableReason { get; }

    /// <summary>Opens the flow's authorization request in a browser.</summary>
    /// <param name="flow">The flow.</param>
    /// <returns>Whether it was opened, and why not.</returns>
    Task<BrowserOpening> OpenBrowserAsync(AuthCodeFlow flow);

    /// <summary>Asks the user for the address the browser ended on; cancelled when the loopback server received the response first.</summary>
    /// <param name="prompt">What to show.</param>
    /// <param name="cancellationToken">Withdraws the question.</param>
    /// <returns>The address, or a refusal.</returns>
    Task<RedirectAnswer> PromptRedirectAsync(RedirectPrompt prompt, CancellationToken cancellationToken);
}

/// <summary>An <see cref="ISignInHost"/> that opens the browser with a function and cannot ask the user anything (engine callers and tests).</summary>
/// <param name="open">Opens the flow's authorization request.</param>
public sealed class DelegateSignInHost(Func<AuthCodeFlow, Task> open) : ISignInHost
{
    /// <inheritdoc/>
    public string? BrowserUnavailableReason => null;

    /// <inheritdoc/>
    public string? PromptUnavailableReason => "the host cannot ask the user to paste an address";

    /// <inheritdoc/>
    public async Task<BrowserOpening> OpenBrowserAsync(AuthCodeFlow flow)
    {
        await open(flow).ConfigureAwait(false);
        return new BrowserOpening(true, null);
    }

    /// <inheritdoc/>
    public Task<RedirectAnswer> PromptRedirectAsync(RedirectPrompt prompt, CancellationToken cancellationToken) =>
        Task.FromResult(new RedirectAnswer(null, this.PromptUnavailableReason));
}
