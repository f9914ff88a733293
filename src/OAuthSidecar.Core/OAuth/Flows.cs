using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>Something the caller names by a flow id: an authorization code flow, a device flow, a standalone callback server.</summary>
public interface IFlow
{
    /// <summary>Gets the flow's opaque identifier.</summary>
    string FlowId { get; }

    /// <summary>Gets when the flow ends by itself.</summary>
    DateTimeOffset ExpiresAt { get; }

    /// <summary>Gets the flow's state and the one place its transitions are decided.</summary>
    FlowStateMachine Machine { get; }

    /// <summary>Releases what the flow holds once its state machine has ended it: waiters fail with <paramref name="reason"/>, its listener is released.</summary>
    /// <param name="reason">The exception waiters get.</param>
    /// <param name="lingerListener">Keep the listener a few seconds so the browser's final page loads.</param>
    /// <returns>A task that completes when resources are released.</returns>
    Task ReleaseAsync(Exception reason, bool lingerListener);
}

/// <summary>
/// A flow that completes when the browser's callback reaches a loopback listener: the wait, the result, and the
/// release of the listener when the flow ends. <see cref="AuthCodeFlow"/> and <see cref="CallbackServerFlow"/> build on it.
/// </summary>
public abstract class CallbackFlow : IFlow, ICallbackTarget
{
    private readonly TaskCompletionSource<CallbackResult> callback = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ISidecarEvents events;
    private LoopbackHub? hub;
    private CallbackResult? result;

    private protected CallbackFlow(string flowId, string path, DateTimeOffset expiresAt, CallbackPages pages, ISidecarEvents events)
    {
        this.FlowId = flowId;
        this.Path = path;
        this.ExpiresAt = expiresAt;
        this.Pages = pages;
        this.events = events;
    }

    /// <inheritdoc/>
    public string FlowId { get; }

    /// <inheritdoc/>
    public string Path { get; }

    /// <inheritdoc/>
    public abstract string? State { get; }

    /// <inheritdoc/>
    public DateTimeOffset ExpiresAt { get; private set; }

    /// <inheritdoc/>
    public FlowStateMachine Machine { get; } = new();

    /// <inheritdoc/>
    public CallbackPages Pages { get; }

    /// <summary>Gets the loopback listener, when there is one.</summary>
    public LoopbackListener? Listener { get; private set; }

    /// <inheritdoc/>
    public CallbackResult? Result => Volatile.Read(ref this.result);

    /// <summary>Gets a task that completes with the callback, or fails when the flow ends first.</summary>
#pragma warning disable VSTHRD003 // A completion signal (TaskCompletionSource), not work started elsewhere.
    public Task<CallbackResult> Callback => this.callback.Task;
#pragma warning restore VSTHRD003

    /// <inheritdoc/>
    public bool TryComplete(CallbackResult result)
    {
        if (!this.Deliver(result))
        {
            return false;
        }

        this.events.CallbackReceived(this.FlowId, result);
        return true;
    }

    /// <inheritdoc/>
    public async Task ReleaseAsync(Exception reason, bool lingerListener)
    {
        this.callback.TrySetException(reason);
        _ = this.callback.Task.Exception; // observed
        if (this.Listener is { } listener && this.hub is { } hub)
        {
            await hub.DetachAsync(listener, this, immediately: !lingerListener).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records the authorization response (from the listener, or given by the caller): the flow moves from
    /// <see cref="FlowState.Pending"/> to <see cref="FlowState.CallbackReceived"/>. Only the first response counts.
    /// </summary>
    /// <param name="result">The response.</param>
    /// <returns><see langword="true"/> when this completed the wait.</returns>
    internal bool Deliver(CallbackResult result)
    {
        if (!this.Machine.TryMove(FlowState.Pending, FlowState.CallbackReceived))
        {
            return false;
        }

        Volatile.Write(ref this.result, result);
        return this.callback.TrySetResult(result);
    }

    /// <summary>Brings the expiry forward (never back), before the flow is registered.</summary>
    /// <param name="at">The new expiry.</param>
    internal void ExpireNoLaterThan(DateTimeOffset at)
    {
        if (at < this.ExpiresAt)
        {
            this.ExpiresAt = at;
        }
    }

    internal void SetListener(LoopbackHub hub, LoopbackListener listener)
    {
        this.hub = hub;
        this.Listener = listener;
    }
}

/// <summary>
/// An authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252): its secrets (state, nonce, code verifier —
/// which never leaves the sidecar), its redirect URI with the real port, and the wait for the callback.
/// </summary>
public sealed class AuthCodeFlow : CallbackFlow
{
    private readonly string state;

    internal AuthCodeFlow(string flowId, OAuthClient client, string state, string? nonce, string codeVerifier, IReadOnlyList<string> scopes, DateTimeOffset expiresAt, string path, CallbackPages pages, ISidecarEvents events, DpopKey? dpopKey = null)
        : base(flowId, path, expiresAt, pages, events)
    {
        this.Client = client;
        this.DpopKey = dpopKey;
        this.state = state;
        this.Nonce = nonce;
        this.CodeVerifier = codeVerifier;
        this.Scopes = scopes;
    }

    /// <summary>Gets the client the flow belongs to.</summary>
    public OAuthClient Client { get; }

    /// <inheritdoc/>
    public override string State => this.state;

    /// <summary>Gets the OpenID Connect nonce, when <c>openid</c> was requested.</summary>
    public string? Nonce { get; }

    /// <summary>Gets the PKCE code verifier.</summary>
    public string CodeVerifier { get; }

    /// <summary>Gets the requested scopes.</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>Gets the resource indicators (RFC 8707) of the request, sent again with the code.</summary>
    public IReadOnlyList<string> Resources { get; internal init; } = [];

    /// <summary>Gets the redirect URI sent in the request, with the real port.</summary>
    public string RedirectUri { get; internal set; } = string.Empty;

    /// <summary>Gets the authorization request URI to open in the browser.</summary>
    public string AuthUri { get; internal set; } = string.Empty;

    /// <summary>Gets the flow's DPoP key (RFC 9449 §10: its thumbprint is the request's <c>dpop_jkt</c>), or <see langword="null"/>.</summary>
    public DpopKey? DpopKey { get; }

    /// <summary>Gets the pushed authorization request the browser's URL refers to (RFC 9126), or <see langword="null"/>.</summary>
    public PushedAuthorization? Pushed { get; internal set; }

    /// <summary>Gets a value indicating whether the flow ends when its <c>request_uri</c> expires (its lifetime was cut to it).</summary>
    public bool EndsWithRequestUri { get; internal set; }
}

/// <summary>A device authorization grant in progress (RFC 8628).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer; a poll loop may still read its token after the flow ends.")]
public sealed class DeviceFlow : IFlow
{
    private readonly CancellationTokenSource ended = new();
    private Exception? endReason;

    internal DeviceFlow(string flowId, OAuthClient client, DeviceAuthorization authorization, IReadOnlyList<string> scopes, int intervalSeconds, int expiresInSeconds, DateTimeOffset expiresAt, DpopKey? dpopKey = null)
    {
        this.DpopKey = dpopKey;
        this.FlowId = flowId;
        this.Client = client;
        this.Authorization = authorization;
        this.Scopes = scopes;
        this.IntervalSeconds = intervalSeconds;
        this.ExpiresInSeconds = expiresInSeconds;
        this.ExpiresAt = expiresAt;
    }

    /// <inheritdoc/>
    public string FlowId { get; }

    /// <inheritdoc/>
    public FlowStateMachine Machine { get; } = new();

    /// <summary>Gets the client the flow belongs to.</summary>
    public OAuthClient Client { get; }

    /// <summary>Gets the flow's DPoP key, which signs its token requests (RFC 9449 §5), or <see langword="null"/>.</summary>
    public DpopKey? DpopKey { get; }

    /// <summary>Gets the server's device authorization response.</summary>
    public DeviceAuthorization Authorization { get; }

    /// <summary>Gets the requested scopes.</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>Gets the resource indicators (RFC 8707) of the device authorization request, sent with every poll.</summary>
    public IReadOnlyList<string> Resources { get; internal init; } = [];

    /// <summary>Gets the polling interval in seconds (5 when the server gave none).</summary>
    public int IntervalSeconds { get; }

    /// <summary>Gets the device code lifetime in seconds (1800 when the server gave none).</summary>
    public int ExpiresInSeconds { get; }

    /// <inheritdoc/>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Gets the message to show the user.</summary>
    public string Message => $"To sign in, open {this.Authorization.VerificationUri} and enter the code {this.Authorization.UserCode}.";

    /// <summary>Gets a token cancelled when the flow ends.</summary>
    public CancellationToken EndedToken => this.ended.Token;

    /// <summary>Gets why the flow ended, once it has.</summary>
    public Exception? EndReason => Volatile.Read(ref this.endReason);

    /// <summary>Gets the gate that lets one poll loop run at a time.</summary>
    internal Microsoft.VisualStudio.Threading.AsyncSemaphore PollGate { get; } = new(1);

    /// <inheritdoc/>
    public async Task ReleaseAsync(Exception reason, bool lingerListener)
    {
        if (Interlocked.CompareExchange(ref this.endReason, reason, null) is null)
        {
            await this.ended.CancelAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// A standalone callback server (callback.py): one listener path that completes on the first callback carrying a
/// code, tokens or an error, whatever its <c>state</c> (checking it is the caller's business here).
/// </summary>
public sealed class CallbackServerFlow : CallbackFlow
{
    internal CallbackServerFlow(string flowId, string path, DateTimeOffset expiresAt, CallbackPages pages, ISidecarEvents events)
        : base(flowId, path, expiresAt, pages, events)
    {
    }

    /// <inheritdoc/>
    public override string? State => null;

    /// <summary>Gets the URL the server answers on, with the real port.</summary>
    public string Url { get; internal set; } = string.Empty;
}
