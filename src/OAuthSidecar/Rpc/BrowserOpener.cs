using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Reaches the user through the caller: opens an authorization URI through the caller (LSP <c>window/showDocument</c>)
/// when it declared <c>capabilities.showDocument</c>, else with the system browser; asks the caller for a pasted
/// redirect address (<c>auth/promptRedirect</c>) when it declared <c>capabilities.promptRedirect</c>. As an
/// <see cref="ISignInHost"/>, it is what <c>getCredentials</c>' interactive chain uses.
/// </summary>
internal sealed class BrowserOpener : ISignInHost
{
    private readonly SystemBrowser browser;
    private readonly ILogger logger;
    private JsonRpc? rpc;

    public BrowserOpener(SystemBrowser browser, ILogger logger)
    {
        this.browser = browser;
        this.logger = logger;
    }

    /// <summary>Gets or sets a value indicating whether the caller declared <c>capabilities.showDocument</c>.</summary>
    public bool CallerShowsDocuments { get; set; }

    /// <summary>Gets or sets a value indicating whether the caller declared <c>capabilities.promptRedirect</c>.</summary>
    public bool CallerPromptsRedirects { get; set; }

    /// <summary>Gets where the sidecar runs.</summary>
    public HostEnvironment Environment => this.browser.Environment;

    /// <inheritdoc/>
    public string? BrowserUnavailableReason => this.CallerShowsDocuments ? null : this.browser.Environment.BrowserUnavailableReason;

    /// <inheritdoc/>
    public string? PromptUnavailableReason => this.CallerPromptsRedirects && this.rpc is not null ? null : "the caller did not declare capabilities.promptRedirect";

    /// <summary>Sets the connection <c>window/showDocument</c> and <c>auth/promptRedirect</c> go through.</summary>
    /// <param name="connection">The connection.</param>
    public void Attach(JsonRpc connection) => this.rpc = connection;

    /// <summary>Opens <paramref name="uri"/> after the current result is sent, without waiting (fire and forget); a failure is logged with the URL.</summary>
    /// <param name="uri">The authorization URI.</param>
    public void OpenSoon(string uri) => _ = this.OpenSoonAsync(uri);

    /// <inheritdoc/>
    public async Task<BrowserOpening> OpenBrowserAsync(AuthCodeFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        return (await this.OpenWithAdviceAsync(flow.AuthUri).ConfigureAwait(false)).Opening;
    }

    /// <inheritdoc/>
    public async Task<RedirectAnswer> PromptRedirectAsync(RedirectPrompt prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (this.rpc is not { } connection)
        {
            return new RedirectAnswer(null, "there is no caller to ask");
        }

        var parameters = new PromptRedirectParams
        {
            FlowId = prompt.FlowId,
            AuthUri = prompt.AuthUri,
            RedirectUri = prompt.RedirectUri,
            Message = prompt.Message,
            Error = prompt.Problem is { } problem ? new PromptRedirectProblem { Code = ProtocolMapping.ToErrorCode(problem.Kind), Message = problem.Message } : null,
        };
        try
        {
            IReadOnlyDictionary<string, object?> arguments = RpcArguments.From(parameters);
            PromptRedirectResult? answer = await connection.InvokeWithParameterObjectAsync<PromptRedirectResult>(ServerMessages.PromptRedirect.Name, arguments, RpcArguments.TypesOf(arguments), cancellationToken).ConfigureAwait(false);
            return answer?.Url is { Length: > 0 } url ? new RedirectAnswer(url) : new RedirectAnswer(null, "the caller answered auth/promptRedirect without an address");
        }
        catch (RemoteInvocationException ex)
        {
            return new RedirectAnswer(null, $"the caller declined auth/promptRedirect: {ex.Message}");
        }
        catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or RemoteMethodNotFoundException)
        {
            return new RedirectAnswer(null, $"the caller could not be asked ({ex.Message})");
        }
    }

    // Opens the browser after the result is sent: a caller that answers window/showDocument only after it has the
    // initiate result must not deadlock.
    private async Task OpenSoonAsync(string uri)
    {
        await Task.Yield();
        (BrowserOpening opening, string? advice) = await this.OpenWithAdviceAsync(uri).ConfigureAwait(false);
        if (!opening.Opened)
        {
            if (advice is not null)
            {
                this.logger.LogWarning("{Advice}", advice);
            }
            else
            {
                this.logger.LogWarning("The browser could not be opened ({Reason}). Open this URL in a browser: {Uri}", opening.Reason, uri);
            }
        }
    }

    // Whether the browser opened; when the system browser could not be launched, also its advice (with the URL).
    private async Task<(BrowserOpening Opening, string? Advice)> OpenWithAdviceAsync(string uri)
    {
        try
        {
            if (this.CallerShowsDocuments && this.rpc is { } connection)
            {
                IReadOnlyDictionary<string, object?> arguments = RpcArguments.From(new ShowDocumentParams { Uri = uri, External = true });
                ShowDocumentResult? shown = await connection.InvokeWithParameterObjectAsync<ShowDocumentResult>(ServerMessages.ShowDocument.Name, arguments, RpcArguments.TypesOf(arguments), CancellationToken.None).ConfigureAwait(false);
                return (shown?.Success == true ? new BrowserOpening(true, null) : new BrowserOpening(false, "the caller could not open the browser (window/showDocument answered success: false)"), null);
            }

            BrowserLaunch launch = this.browser.Open(uri, this.logger);
            return launch.Launched
                ? (new BrowserOpening(true, null), null)
                : (new BrowserOpening(false, launch.Reason), launch.Advice);
        }
        catch (Exception ex) when (ex is RemoteInvocationException or ConnectionLostException or ObjectDisposedException or RemoteMethodNotFoundException)
        {
            return (new BrowserOpening(false, $"the caller could not open the browser ({ex.Message})"), null);
        }
    }
}

/// <summary>The process lifecycle: <c>shutdown</c>, <c>exit</c>, end of stdin.</summary>
internal sealed class Lifecycle
{
    private readonly TaskCompletionSource<int> exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool ShutdownRequested { get; set; }

#pragma warning disable VSTHRD003 // A completion signal, not work started elsewhere.
    public Task<int> ExitRequested => this.exit.Task;
#pragma warning restore VSTHRD003

    public void RequestExit(int code) => this.exit.TrySetResult(code);
}
