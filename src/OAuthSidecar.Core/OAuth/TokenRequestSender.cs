using Duende.IdentityModel.Client;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// Sends the token requests of one client (RFC 6749 §3.2) and sorts their answers: each goes through the
/// <see cref="AuthorizationServerChannel"/> with a DPoP proof when a key is given (RFC 9449 §5, one
/// <c>use_dpop_nonce</c> retry); a refusal comes back as <see cref="TokenOutcome.Error"/>, marked with what it says
/// about DPoP; tokens are read by the <see cref="TokenResponseProcessor"/>, bound to the key when the server answered
/// <c>token_type</c> <c>DPoP</c> (and remembered in the client's <see cref="DpopKeyRing"/>), and announced by
/// <see cref="ISidecarEvents.TokensObtained"/>.
/// </summary>
public sealed class TokenRequestSender
{
    private readonly string handle;
    private readonly AuthorizationServerChannel channel;
    private readonly TokenResponseProcessor responses;
    private readonly DpopKeyRing keys;
    private readonly ISidecarEvents events;

    /// <summary>Initializes a new instance of the <see cref="TokenRequestSender"/> class.</summary>
    /// <param name="handle">The client's handle, for the events.</param>
    /// <param name="channel">Sends the requests.</param>
    /// <param name="responses">Reads the token responses.</param>
    /// <param name="keys">The client's DPoP keys, which learn what each token is bound to.</param>
    /// <param name="events">Receives <c>tokensObtained</c>.</param>
    public TokenRequestSender(string handle, AuthorizationServerChannel channel, TokenResponseProcessor responses, DpopKeyRing keys, ISidecarEvents events)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(responses);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(events);
        this.handle = handle;
        this.channel = channel;
        this.responses = responses;
        this.keys = keys;
        this.events = events;
    }

    /// <summary>Sends one token request and reads its answer.</summary>
    /// <typeparam name="TRequest">The Duende request type.</typeparam>
    /// <param name="request">The request, with its address and the client's authentication.</param>
    /// <param name="grantType">The grant type, for the event; <c>authorization_code</c> and the device code grant name the account (a sign-in).</param>
    /// <param name="scopes">The scopes to report when the answer names none (RFC 6749 §5.1).</param>
    /// <param name="send">The Duende extension method that sends it.</param>
    /// <param name="nonce">The nonce of the authorization request, checked in the id_token, or <see langword="null"/>.</param>
    /// <param name="flowId">The flow, for the event, or <see langword="null"/>.</param>
    /// <param name="dpopKey">The key that signs the DPoP proofs, or <see langword="null"/> for a bearer request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens or the server's error.</returns>
    /// <exception cref="ServerUnreachableException">The server could not be used.</exception>
    /// <exception cref="InvalidIdTokenException">The id_token failed validation.</exception>
    public async Task<TokenOutcome> SendAsync<TRequest>(TRequest request, string grantType, IReadOnlyList<string> scopes, Func<HttpClient, TRequest, CancellationToken, Task<TokenResponse>> send, string? nonce, string? flowId, DpopKey? dpopKey, CancellationToken cancellationToken)
        where TRequest : ProtocolRequest
    {
        ArgumentNullException.ThrowIfNull(request);
        string endpoint = request.Address!;
        using TokenResponse response = await this.channel.SendAsync(endpoint, request, send, dpopKey, cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            OAuthError error = this.channel.ToOAuthError(response, endpoint);
            return TokenOutcome.Failure(error with { Dpop = DpopRefusalOf(error, dpopKey) });
        }

        bool signIn = grantType is "authorization_code" or OAuthClient.DeviceCodeGrantType;
        TokenSet tokens = await this.responses.ReadAsync(response, endpoint, scopes, nonce, signIn, cancellationToken).ConfigureAwait(false);
        if (UnusableTokenType(tokens.TokenType, dpopKey) is { } refusal)
        {
            return TokenOutcome.Failure(refusal);
        }

        if (dpopKey is not null && string.Equals(tokens.TokenType, "DPoP", StringComparison.OrdinalIgnoreCase))
        {
            tokens = tokens.BoundTo(dpopKey); // RFC 9449 §5: token_type DPoP says the server bound the tokens to the key
            this.keys.Remember(tokens);
        }

        this.events.TokensObtained(this.handle, flowId, grantType, tokens.Scopes, tokens.ExpiresAt);
        return TokenOutcome.Success(tokens);
    }

    // RFC 6749 §5.1, §7.1: token_type is required and says how to use the token. Only Bearer (RFC 6750) is usable, and
    // DPoP (RFC 9449 §5) when a proof was sent; anything else (or nothing) would be used wrongly by the caller.
    private static OAuthError? UnusableTokenType(string tokenType, DpopKey? dpopKey)
    {
        if (tokenType is TokenResponseProcessor.Bearer || (dpopKey is not null && tokenType is TokenResponseProcessor.Dpop))
        {
            return null;
        }

        string said = tokenType is { Length: > 0 } ? $"token_type '{tokenType}'" : "no token_type";
        string allowed = dpopKey is null ? "Bearer" : "Bearer or DPoP";
        return new OAuthError("unsupported_token_type", $"The token endpoint answered with {said}; only {allowed} can be used (RFC 6749 §5.1, §7.1). The tokens were not used.") { FromClient = true };
    }

    // RFC 9449 §7.1, §12.2: refusals that concern DPoP, by code or by description.
    private static DpopRefusal DpopRefusalOf(OAuthError error, DpopKey? key) =>
        error.Error is "invalid_dpop_proof" or "use_dpop_nonce" || error.ErrorDescription?.Contains("DPoP", StringComparison.OrdinalIgnoreCase) == true
            ? (key is null ? DpopRefusal.Required : DpopRefusal.ProofRefused)
            : DpopRefusal.None;
}
