using Microsoft.Extensions.Logging;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The device authorization grant (RFC 8628): asks for a device code, then polls for the tokens at the server's
/// interval (see <see cref="DevicePoller"/>) until the user approves or refuses, or the device code expires. Every
/// step is a transition of the flow's <see cref="FlowStateMachine"/>.
/// </summary>
public sealed class DeviceFlowService
{
    private readonly FlowRegistry flows;
    private readonly SessionOptions options;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="DeviceFlowService"/> class.</summary>
    /// <param name="flows">Where flows are kept.</param>
    /// <param name="options">The engine's settings.</param>
    public DeviceFlowService(FlowRegistry flows, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(flows);
        ArgumentNullException.ThrowIfNull(options);
        this.flows = flows;
        this.options = options;
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
    }

    /// <summary>Starts a device authorization grant (RFC 8628 §3.1).</summary>
    /// <param name="client">The client.</param>
    /// <param name="scopes">The scopes; empty uses the client's default scopes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The flow, or the server's refusal.</returns>
    /// <exception cref="InvalidOptionException">The server has no device authorization endpoint.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public Task<(DeviceFlow? Flow, OAuthError? Error)> InitiateAsync(OAuthClient client, IReadOnlyList<string>? scopes, CancellationToken cancellationToken) =>
        this.InitiateAsync(client, scopes, null, cancellationToken);

    /// <summary>Starts a device authorization grant (RFC 8628 §3.1) for resource indicators (RFC 8707), sent again with every poll.</summary>
    /// <param name="client">The client.</param>
    /// <param name="scopes">The scopes; empty uses the client's default scopes.</param>
    /// <param name="resources">The resource indicators; <see langword="null"/>: the client's defaults.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The flow, or the server's refusal.</returns>
    /// <exception cref="InvalidOptionException">The server has no device authorization endpoint.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    public async Task<(DeviceFlow? Flow, OAuthError? Error)> InitiateAsync(OAuthClient client, IReadOnlyList<string>? scopes, IReadOnlyList<string>? resources, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        IReadOnlyList<string> effective = client.EffectiveScopes(scopes);
        IReadOnlyList<string> sentResources = resources ?? client.Registration.Resources;
        DeviceAuthorizationOutcome outcome = await client.RequestDeviceAuthorizationAsync(effective, sentResources, cancellationToken).ConfigureAwait(false);
        if (outcome.Authorization is not { } authorization)
        {
            return (null, outcome.Error);
        }

        int expiresIn = authorization.ExpiresIn is > 0 and { } e ? e : DevicePoller.DefaultExpiresInSeconds;
        int interval = authorization.Interval is > 0 and { } i ? i : DevicePoller.DefaultIntervalSeconds;
        var flow = new DeviceFlow("f_" + ProtocolRandom.Create(12), client, authorization, effective, interval, expiresIn, this.options.TimeProvider.GetUtcNow().AddSeconds(expiresIn), client.DpopKeys.CreateKey())
        {
            Resources = sentResources,
        };
        this.flows.Add(flow);
        this.logger.LogInformation("Device flow {FlowId} started: user code {UserCode}, interval {Interval} s, expires in {ExpiresIn} s.", flow.FlowId, authorization.UserCode, interval, expiresIn);
        return (flow, null);
    }

    /// <summary>
    /// Polls for the device flow's tokens until the user approves or refuses, or the device code expires
    /// (RFC 8628 §3.4–3.5). One poll loop runs per flow at a time; a second caller waits for the first.
    /// </summary>
    /// <param name="flowId">The flow.</param>
    /// <param name="cancellationToken">Cancels the polling (the flow stays open).</param>
    /// <returns>The tokens or the server's terminal error.</returns>
    /// <exception cref="UnknownHandleException">No such flow (or already redeemed).</exception>
    /// <exception cref="FlowTimeoutException">The device code expired.</exception>
    /// <exception cref="FlowCancelledException">The flow was cancelled.</exception>
    /// <exception cref="ServerUnreachableException">The server could not be used after the retries (the flow stays open).</exception>
    public async Task<TokenOutcome> ObtainTokenAsync(string flowId, CancellationToken cancellationToken)
    {
        DeviceFlow flow = this.flows.Get<DeviceFlow>(flowId);
        using (await flow.PollGate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            if (flow.EndReason is { } ended)
            {
                throw ended is FlowCancelledException ? FlowRegistry.UnknownFlow(flowId) : ended;
            }

            if (!flow.Machine.TryMove(FlowState.Pending, FlowState.Redeeming))
            {
                throw FlowRegistry.UnknownFlow(flowId);
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, flow.EndedToken);
            TokenOutcome outcome;
            try
            {
                outcome = await DevicePoller.PollAsync(
                    flowId,
                    ct => flow.Client.RequestDeviceTokenAsync(flow.Authorization.DeviceCode, flow.Scopes, flow.Resources, flowId, flow.DpopKey, ct),
                    flow.IntervalSeconds,
                    flow.ExpiresAt,
                    (attempt, error, next) => this.options.Events.DeviceFlowPending(flowId, attempt, error, next),
                    this.options.TimeProvider,
                    linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && flow.EndReason is { } reason)
            {
                throw reason;
            }
            catch (FlowTimeoutException ex)
            {
                await this.flows.EndAsync(flow, FlowState.Expired, ex, lingerListener: false).ConfigureAwait(false);
                throw;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ServerUnreachableException)
            {
                flow.Machine.TryMove(FlowState.Redeeming, FlowState.Pending); // the caller may poll again
                throw;
            }

            FlowState end = outcome.Tokens is null ? FlowState.Failed : FlowState.Completed;
            await this.flows.EndAsync(flow, end, FlowRegistry.UnknownFlow(flowId), lingerListener: false).ConfigureAwait(false);
            return outcome;
        }
    }
}
