using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.OAuth;

/// <summary>The engine's settings, shared by its parts.</summary>
public sealed class SessionOptions
{
    /// <summary>Gets the clock (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Gets the logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Gets the redactor that learns every secret handled.</summary>
    public SecretRedactor Redactor { get; init; } = new();

    /// <summary>Gets where events go.</summary>
    public ISidecarEvents Events { get; init; } = NullSidecarEvents.Instance;

    /// <summary>Gets the default time allowed for any interactive wait: 300 s.</summary>
    public TimeSpan InteractiveTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// Gets the HTTP handler of each client registration (a stub in tests); by default
    /// <see cref="HttpClients.CreateHandler"/>: sockets, with the registration's TLS options.
    /// </summary>
    public Func<ClientRegistration, HttpMessageHandler> HttpHandlerFactory { get; init; } = HttpClients.CreateHandler;

    /// <summary>
    /// Gets the directory of the file store and of the cross-process lock: <c>OAUTH_SIDECAR_DATA_DIR</c>, else
    /// <c>oauth-sidecar</c> in the user's local application data (<c>$XDG_DATA_HOME</c> or <c>~/.local/share</c> on Linux).
    /// </summary>
    public string DataDirectory { get; init; } =
        Environment.GetEnvironmentVariable("OAUTH_SIDECAR_DATA_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "oauth-sidecar");
}

/// <summary>
/// The OAuth engine of one sidecar process, put together from its parts: the client registry, the flow registry,
/// the authorization code, device and callback server services over the shared loopback listeners, the storage
/// factory and the credential broker. A thin facade: the host calls the parts directly; this class builds them,
/// disposes a client with its flows, and ends everything at exit.
/// </summary>
public sealed class OAuthSession : IAsyncDisposable
{
    private int disposed;

    /// <summary>Initializes a new instance of the <see cref="OAuthSession"/> class.</summary>
    /// <param name="options">The settings.</param>
    public OAuthSession(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.Options = options;
        this.Clients = new ClientRegistry(options, new IdTokenValidator(options.TimeProvider));
        this.Flows = new FlowRegistry(options.TimeProvider);
        this.Listeners = new CallbackListeners(options.LoggerFactory, options.TimeProvider);
        this.AuthCode = new AuthCodeFlowService(this.Flows, this.Listeners, options);
        this.Device = new DeviceFlowService(this.Flows, options);
        this.CallbackServers = new CallbackServerService(this.Flows, this.Listeners, options);
        this.Storage = new StorageFactory(options.DataDirectory, options.LoggerFactory.CreateLogger("OAuthSidecar"));
        this.Credentials = new CredentialBroker(this.AuthCode, this.Device, options);
        this.DpopProofs = new DpopProofService(options.TimeProvider);
    }

    /// <summary>Gets the settings.</summary>
    public SessionOptions Options { get; }

    /// <summary>Gets the client registrations (createClient, disposeClient).</summary>
    public ClientRegistry Clients { get; }

    /// <summary>Gets the flows in progress (cancelFlow; expiry).</summary>
    public FlowRegistry Flows { get; }

    /// <summary>Gets the loopback listeners the flows wait on.</summary>
    public CallbackListeners Listeners { get; }

    /// <summary>Gets the authorization code flow (initiate, wait, redeem, browser sign-in).</summary>
    public AuthCodeFlowService AuthCode { get; }

    /// <summary>Gets the device authorization grant.</summary>
    public DeviceFlowService Device { get; }

    /// <summary>Gets the standalone callback server.</summary>
    public CallbackServerService CallbackServers { get; }

    /// <summary>Gets the credential stores.</summary>
    public StorageFactory Storage { get; }

    /// <summary>Gets the credential broker (getCredentials, listAccounts, signOut).</summary>
    public CredentialBroker Credentials { get; }

    /// <summary>Gets the maker of DPoP proofs for the caller's own requests (RFC 9449 §7).</summary>
    public DpopProofService DpopProofs { get; }

    /// <summary>Forgets a client and cancels its flows.</summary>
    /// <param name="clientHandle">The handle.</param>
    /// <returns>A task that completes when its flows are ended.</returns>
    /// <exception cref="UnknownHandleException">No such client.</exception>
    public async Task DisposeClientAsync(string clientHandle)
    {
        OAuthClient client = this.Clients.Get(clientHandle);
        await this.Flows.CancelAllAsync(f => f is AuthCodeFlow a && a.Client == client || f is DeviceFlow d && d.Client == client).ConfigureAwait(false);
        this.Clients.Remove(clientHandle);
    }

    /// <summary>Ends a flow of any kind: its waiters fail with -32800 and its listener closes when no other flow uses it.</summary>
    /// <param name="flowId">The flow.</param>
    /// <returns>A task that completes when the flow is ended.</returns>
    /// <exception cref="UnknownHandleException">No such flow.</exception>
    public async Task CancelFlowAsync(string flowId)
    {
        IFlow flow = this.Flows.Get<IFlow>(flowId);
        if (!await this.Flows.EndAsync(flow, FlowState.Cancelled, new FlowCancelledException(flowId), lingerListener: false).ConfigureAwait(false))
        {
            throw FlowRegistry.UnknownFlow(flowId);
        }
    }

    /// <summary>Ends every flow and closes every listener, client and store (process exit, <c>shutdown</c>).</summary>
    /// <returns>A task that completes when every socket is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref this.disposed, 1) != 0)
        {
            return;
        }

        await this.Flows.DisposeAsync().ConfigureAwait(false);
        await this.Listeners.DisposeAsync().ConfigureAwait(false);
        this.Clients.Dispose();
        this.Storage.Dispose();
    }
}
