using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>What an interactive sign-in is asked for.</summary>
/// <param name="Scopes">The scopes.</param>
/// <param name="Mode">How the user may be reached.</param>
/// <param name="Host">What can reach the user.</param>
/// <param name="StepUp">What the user's authentication must satisfy (RFC 9470), or <see langword="null"/>.</param>
public sealed record SignInRequest(IReadOnlyList<string> Scopes, InteractionMode Mode, ISignInHost Host, StepUpRequirement? StepUp)
{
    /// <summary>Gets the resource indicators (RFC 8707) the authorization and device requests carry (empty: none).</summary>
    public IReadOnlyList<string> Resources { get; init; } = [];
}

/// <summary>
/// Signs the user in wherever they are: the browser when one that reaches the loopback server can be opened here (or
/// the caller opens it), else the device flow when the server offers it, else the user pastes the address the browser
/// ended on (<see cref="InteractionMode.Auto"/>), or one of them as asked. Each step that is skipped or fails is logged
/// with its reason; the outcome says which method signed the user in.
/// </summary>
/// <remarks>
/// The paste path keeps the flow's loopback listener open while the user is asked, so whichever arrives first — the
/// browser's redirect on this machine or the pasted address — completes the sign-in. A pasted address is checked
/// like a real callback (<c>state</c>, RFC 9207 <c>iss</c>); a wrong one leaves the flow open and the user is asked
/// again (at most <see cref="MaxPasteAttempts"/> times).
/// </remarks>
public sealed class InteractiveSignIn
{
    /// <summary>How many addresses the user may paste before the sign-in fails with the last problem.</summary>
    public const int MaxPasteAttempts = 3;

    private readonly AuthCodeFlowService authCode;
    private readonly DeviceFlowService device;
    private readonly ISidecarEvents events;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="InteractiveSignIn"/> class.</summary>
    /// <param name="authCode">The authorization code flow.</param>
    /// <param name="device">The device flow.</param>
    /// <param name="options">The engine's events and logging.</param>
    public InteractiveSignIn(AuthCodeFlowService authCode, DeviceFlowService device, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(authCode);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        this.authCode = authCode;
        this.device = device;
        this.events = options.Events;
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
    }

    /// <summary>Signs the user in.</summary>
    /// <param name="client">The client.</param>
    /// <param name="request">Scopes, mode, host and step-up.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>The tokens with <see cref="TokenOutcome.Method"/>, or the server's error.</returns>
    /// <exception cref="InteractionRequiredException">No way to reach the user is left (paste impossible, or declined).</exception>
    /// <exception cref="InvalidOptionException">A step-up with the device flow, whose request cannot carry it.</exception>
    /// <exception cref="FlowTimeoutException">The user did not finish in time.</exception>
    /// <exception cref="StateMismatchException">Every pasted address belonged to another sign-in.</exception>
    public async Task<TokenOutcome> SignInAsync(OAuthClient client, SignInRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        switch (request.Mode)
        {
            case InteractionMode.Browser:
                return (await this.BrowserAsync(client, request, fallThrough: false, cancellationToken).ConfigureAwait(false)).Outcome ?? throw new InvalidOperationException("A browser sign-in always completes.");
            case InteractionMode.Device:
                if (request.StepUp is not null)
                {
                    throw new InvalidOptionException(CoreOption.Interaction, $"A step-up ({{{CoreOption.AcrValues}}}, {{{CoreOption.MaxAge}}}, {{{CoreOption.Claims}}}) needs the authorization code flow, whose request carries it (the device authorization request of RFC 8628 §3.1 does not): use {{{CoreOption.Interaction}}} auto, browser or paste.");
                }

                return await this.DeviceAsync(client, request, cancellationToken).ConfigureAwait(false);
            case InteractionMode.Paste:
                return await this.PasteAsync(client, request, cancellationToken).ConfigureAwait(false);
            case InteractionMode.Auto:
                return await this.AutoAsync(client, request, cancellationToken).ConfigureAwait(false);
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Mode, "No interactive sign-in for this mode.");
        }
    }

    private async Task<TokenOutcome> AutoAsync(OAuthClient client, SignInRequest request, CancellationToken cancellationToken)
    {
        var skipped = new List<string>();
        if (request.Host.BrowserUnavailableReason is { } noBrowser)
        {
            this.Skip(skipped, "the browser", noBrowser);
        }
        else
        {
            (TokenOutcome? signedIn, string? notOpened) = await this.BrowserAsync(client, request, fallThrough: true, cancellationToken).ConfigureAwait(false);
            if (signedIn is { } outcome)
            {
                return outcome;
            }

            this.Skip(skipped, "the browser", notOpened ?? "it could not be opened");
        }

        string? noDevice = request.StepUp is not null
            ? "a step-up (acr_values, max_age, claims) is asked for, which the device authorization request does not carry (RFC 8628 §3.1)"
            : client.Server.DeviceAuthorizationEndpoint is null ? "the authorization server offers no device authorization endpoint (RFC 8628)" : null;
        if (noDevice is not null)
        {
            this.Skip(skipped, "the device flow", noDevice);
        }
        else
        {
            (DeviceFlow? flow, OAuthError? refused, string? unreachable) = await this.TryStartDeviceAsync(client, request, cancellationToken).ConfigureAwait(false);
            if (flow is not null)
            {
                return await this.PollAsync(flow, cancellationToken).ConfigureAwait(false);
            }

            this.Skip(skipped, "the device flow", refused is not null ? $"the server refused it ({refused.Describe()})" : $"the server could not be used ({unreachable})");
        }

        if (request.Host.PromptUnavailableReason is { } noPrompt)
        {
            this.Skip(skipped, "pasting the redirect address", noPrompt);
            throw new InteractionRequiredException($"No way to sign in was left: {string.Join("; ", skipped)}.", InteractionRequiredKind.NoWayLeft);
        }

        return await this.PasteAsync(client, request, cancellationToken).ConfigureAwait(false);
    }

    // The authorization code flow in a browser. With fallThrough, a browser that cannot be opened ends the flow and
    // answers null (the next step follows); without it, the URL is logged and the flow waits (the user may open it).
    private async Task<(TokenOutcome? Outcome, string? NotOpened)> BrowserAsync(OAuthClient client, SignInRequest request, bool fallThrough, CancellationToken cancellationToken)
    {
        AuthCodeFlow flow = await this.authCode.InitiateAsync(client, FlowOptions(request), cancellationToken).ConfigureAwait(false);
        try
        {
            BrowserOpening opening = await request.Host.OpenBrowserAsync(flow).ConfigureAwait(false);
            if (!opening.Opened && fallThrough)
            {
                return (null, opening.Reason ?? "it could not be opened");
            }

            if (!opening.Opened)
            {
                this.logger.LogWarning("The browser could not be opened ({Reason}). Open this URL in a browser: {Uri}", opening.Reason ?? "no reason given", flow.AuthUri);
            }

            this.events.AuthorizationUrl(flow.FlowId, flow.AuthUri, $"Sign in in your browser. If no browser opened, open this address: {flow.AuthUri}");
            TokenOutcome outcome = await this.authCode.ObtainTokenAsync(flow.FlowId, null, cancellationToken).ConfigureAwait(false);
            return (outcome with { Method = SignInMethod.Browser }, null);
        }
        finally
        {
            await this.authCode.EndAsync(flow).ConfigureAwait(false);
        }
    }

    private async Task<TokenOutcome> DeviceAsync(OAuthClient client, SignInRequest request, CancellationToken cancellationToken)
    {
        (DeviceFlow? flow, OAuthError? error) = await this.device.InitiateAsync(client, request.Scopes, request.Resources, cancellationToken).ConfigureAwait(false);
        return flow is null ? TokenOutcome.Failure(error!) : await this.PollAsync(flow, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(DeviceFlow? Flow, OAuthError? Refused, string? Unreachable)> TryStartDeviceAsync(OAuthClient client, SignInRequest request, CancellationToken cancellationToken)
    {
        try
        {
            (DeviceFlow? flow, OAuthError? error) = await this.device.InitiateAsync(client, request.Scopes, request.Resources, cancellationToken).ConfigureAwait(false);
            return (flow, error, null);
        }
        catch (ServerUnreachableException ex)
        {
            return (null, null, ex.Reason);
        }
    }

    private async Task<TokenOutcome> PollAsync(DeviceFlow flow, CancellationToken cancellationToken)
    {
        this.events.DeviceCode(flow);
        this.events.AuthorizationUrl(flow.FlowId, flow.Authorization.VerificationUriComplete ?? flow.Authorization.VerificationUri, flow.Message);
        TokenOutcome outcome = await this.device.ObtainTokenAsync(flow.FlowId, cancellationToken).ConfigureAwait(false);
        return outcome with { Method = SignInMethod.Device };
    }

    private async Task<TokenOutcome> PasteAsync(OAuthClient client, SignInRequest request, CancellationToken cancellationToken)
    {
        if (request.Host.PromptUnavailableReason is { } noPrompt)
        {
            throw new InteractionRequiredException($"The user cannot be asked to paste the redirect address: {noPrompt}.", InteractionRequiredKind.PasteUnavailable);
        }

        AuthCodeFlow flow = await this.authCode.InitiateAsync(client, FlowOptions(request), cancellationToken).ConfigureAwait(false);
        try
        {
            string message = $"Open this address in a browser on any machine and sign in: {flow.AuthUri} — the browser then ends on an address starting with {flow.RedirectUri} that does not load; copy that whole address and paste it here.";
            this.events.AuthorizationUrl(flow.FlowId, flow.AuthUri, message);
            RedirectProblem? problem = null;
            for (int attempt = 1; ; attempt++)
            {
                using var withdraw = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Task<RedirectAnswer> asked = request.Host.PromptRedirectAsync(new RedirectPrompt(flow.FlowId, flow.AuthUri, flow.RedirectUri, message, problem), withdraw.Token);
#pragma warning disable VSTHRD003 // The flow's completion signal (a TaskCompletionSource), not work started elsewhere.
                Task first = await Task.WhenAny(asked, flow.Callback).ConfigureAwait(false);
                if (first == flow.Callback)
                {
                    // The browser reached the loopback server first: withdraw the question and redeem what arrived.
                    await withdraw.CancelAsync().ConfigureAwait(false);
                    _ = asked.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                    await flow.Callback.ConfigureAwait(false); // rethrows when the flow expired or was cancelled
#pragma warning restore VSTHRD003
                    this.logger.LogInformation("Sign-in {FlowId}: the loopback server received the response before an address was pasted.", flow.FlowId);
                    TokenOutcome received = await this.authCode.ObtainTokenAsync(flow.FlowId, null, cancellationToken).ConfigureAwait(false);
                    return received with { Method = SignInMethod.Browser };
                }

                RedirectAnswer answer;
                try
                {
                    answer = await asked.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    answer = new RedirectAnswer(null, "the question was cancelled");
                }

                if (answer.Url is not { } url)
                {
                    throw new InteractionRequiredException($"The sign-in was not completed: no address was pasted ({answer.DeclinedBecause ?? "the user declined"}).", InteractionRequiredKind.Declined);
                }

                Dictionary<string, string> response = AuthorizationResponse.Parse(url);
                try
                {
                    if (!response.ContainsKey("code") && !response.ContainsKey("error") && !response.ContainsKey("state"))
                    {
                        throw new InvalidOptionException(CoreOption.AuthResponse, "The text pasted is not the address the browser ended on: it has no code, state or error. Copy the whole address from the browser's address bar.");
                    }

                    TokenOutcome pasted = await this.authCode.ObtainTokenAsync(flow.FlowId, response, cancellationToken).ConfigureAwait(false);
                    return pasted with { Method = SignInMethod.Paste };
                }
                catch (StateMismatchException ex) when (attempt < MaxPasteAttempts)
                {
                    this.logger.LogWarning("Sign-in {FlowId}: the pasted address was refused ({Reason}); asking again.", flow.FlowId, ex.Reason);
                    problem = new RedirectProblem(RedirectProblemKind.StateMismatch, $"That address belongs to another sign-in: {ex.Reason} Paste the address the browser ended on after signing in at the address above.");
                }
                catch (InvalidOptionException ex) when (attempt < MaxPasteAttempts)
                {
                    this.logger.LogWarning("Sign-in {FlowId}: the pasted text was not a redirect address; asking again.", flow.FlowId);
                    problem = new RedirectProblem(RedirectProblemKind.NotARedirect, ex.Problem);
                }
            }
        }
        finally
        {
            await this.authCode.EndAsync(flow).ConfigureAwait(false);
        }
    }

    private static AuthCodeFlowOptions FlowOptions(SignInRequest request) => new()
    {
        Scopes = request.Scopes,
        Resources = request.Resources,
        ExtraParams = request.StepUp?.AuthorizationParameters,
    };

    private void Skip(List<string> skipped, string what, string reason)
    {
        this.logger.LogInformation("Sign-in: not by {What}, because {Reason}.", what, reason);
        skipped.Add($"not by {what}, because {reason}");
    }
}
