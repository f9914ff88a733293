using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Opens an authorization URI: through the caller (LSP <c>window/showDocument</c>) when it declared
/// <c>capabilities.showDocument</c>, else with the system browser. A failure is logged with the URL, so the user
/// can open it by hand; the flow keeps waiting.
/// </summary>
internal sealed class BrowserOpener
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

    /// <summary>Sets the connection <c>window/showDocument</c> goes through.</summary>
    /// <param name="connection">The connection.</param>
    public void Attach(JsonRpc connection) => this.rpc = connection;

    /// <summary>Opens <paramref name="uri"/> after the current result is sent, without waiting (fire and forget).</summary>
    /// <param name="uri">The authorization URI.</param>
    public void OpenSoon(string uri) => _ = this.OpenAsync(uri);

    // Opens the browser after the result is sent: a caller that answers window/showDocument only after it has the
    // initiate result must not deadlock.
    private async Task OpenAsync(string uri)
    {
        await Task.Yield();
        try
        {
            if (this.CallerShowsDocuments && this.rpc is { } connection)
            {
                IReadOnlyDictionary<string, object?> arguments = RpcArguments.From(new ShowDocumentParams { Uri = uri, External = true });
                ShowDocumentResult? shown = await connection.InvokeWithParameterObjectAsync<ShowDocumentResult>(ServerMessages.ShowDocument.Name, arguments, RpcArguments.TypesOf(arguments), CancellationToken.None).ConfigureAwait(false);
                if (shown?.Success != true)
                {
                    this.logger.LogWarning("The caller could not open the browser (window/showDocument answered success: false). Open this URL in a browser: {Uri}", uri);
                }

                return;
            }

            BrowserLaunch launch = this.browser.Open(uri, this.logger);
            if (!launch.Launched)
            {
                this.logger.LogWarning("{Advice}", launch.Advice);
            }
        }
        catch (Exception ex) when (ex is RemoteInvocationException or ConnectionLostException or ObjectDisposedException or RemoteMethodNotFoundException)
        {
            this.logger.LogWarning("The browser could not be opened ({Reason}). Open this URL in a browser: {Uri}", ex.Message, uri);
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
