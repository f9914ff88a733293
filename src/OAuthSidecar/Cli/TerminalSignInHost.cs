using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Cli;

/// <summary>
/// Reaches the user of <c>oauth-sidecar token</c> in their terminal: the system browser (when one can reach the
/// loopback server here), the address and user code on stderr, and the redirect address pasted on stdin when stdin is
/// a terminal. stdout is never written: it carries the token alone.
/// </summary>
internal sealed class TerminalSignInHost : ISignInHost, ISidecarEvents
{
    private readonly SystemBrowser browser;
    private readonly TextReader stdin;
    private readonly bool stdinIsTerminal;
    private readonly TextWriter stderr;
    private readonly Lock gate = new();

    /// <summary>Initializes a new instance of the <see cref="TerminalSignInHost"/> class.</summary>
    /// <param name="browser">The system browser (and the environment it runs in).</param>
    /// <param name="stdin">Where a pasted address is read.</param>
    /// <param name="stdinIsTerminal">Whether stdin is a terminal (else nothing can be pasted).</param>
    /// <param name="stderr">Where the address, the user code and the questions go.</param>
    public TerminalSignInHost(SystemBrowser browser, TextReader stdin, bool stdinIsTerminal, TextWriter stderr)
    {
        this.browser = browser;
        this.stdin = stdin;
        this.stdinIsTerminal = stdinIsTerminal;
        this.stderr = stderr;
    }

    /// <inheritdoc/>
    public string? BrowserUnavailableReason => this.browser.Environment.BrowserUnavailableReason;

    /// <inheritdoc/>
    public string? PromptUnavailableReason => this.stdinIsTerminal ? null : "standard input is not a terminal, so the address cannot be pasted";

    /// <inheritdoc/>
    public Task<BrowserOpening> OpenBrowserAsync(AuthCodeFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        BrowserLaunch launch = this.browser.Open(flow.AuthUri, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return Task.FromResult(launch.Launched
            ? new BrowserOpening(true, null)
            : new BrowserOpening(false, launch.Reason));
    }

    /// <inheritdoc/>
    public async Task<RedirectAnswer> PromptRedirectAsync(RedirectPrompt prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Problem is { } problem)
        {
            this.Write(problem.Message);
        }

        this.Write("Paste the address here and press Enter:");
        string? line = await this.stdin.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        return string.IsNullOrWhiteSpace(line)
            ? new RedirectAnswer(null, line is null ? "standard input ended" : "an empty line was entered")
            : new RedirectAnswer(line.Trim());
    }

    /// <inheritdoc/>
    public void AuthorizationUrl(string flowId, string authUri, string message) => this.Write(message);

    private void Write(string line)
    {
        lock (this.gate)
        {
            this.stderr.WriteLine(line);
            this.stderr.Flush();
        }
    }
}
