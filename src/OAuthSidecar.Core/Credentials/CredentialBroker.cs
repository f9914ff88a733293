using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>
/// flytekit's <c>get_creds_from_remote</c>, done across threads, callers and processes: a stored access token with at
/// least min(5 minutes, half its lifetime) left; else a silent refresh that asks only for what the grant holds; else
/// an interactive sign-in. Stored tokens match by scopes without the reserved OpenID Connect ones and by resource
/// indicators (<see cref="GrantRules"/>). Concurrent calls for the same key (issuer, client id, account, scope set,
/// resources) share one flow or one refresh, and a result is reused for 60 s (monotonic clock). Refreshes happen under
/// the store's cross-process lock.
/// </summary>
public sealed class CredentialBroker
{
    /// <summary>How long a stored access token must still be valid to be returned, at most: 300 s (less for short-lived tokens: <see cref="GrantRules.IsFresh"/>).</summary>
    public static readonly TimeSpan MinimumValidity = GrantRules.MaximumMargin;

    /// <summary>How long a result is reused for the same key: 60 s (flytekit's window).</summary>
    public static readonly TimeSpan ReuseWindow = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, Shared> shared = new(StringComparer.Ordinal);
    private readonly InteractiveSignIn interactive;
    private readonly ILogger logger;
    private readonly TimeProvider time;

    /// <summary>Initializes a new instance of the <see cref="CredentialBroker"/> class.</summary>
    /// <param name="authCode">Signs in with the browser.</param>
    /// <param name="device">Signs in with the device flow.</param>
    /// <param name="options">The engine's clock, events and logging.</param>
    public CredentialBroker(AuthCodeFlowService authCode, DeviceFlowService device, SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(authCode);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        this.interactive = new InteractiveSignIn(authCode, device, options);
        this.logger = options.LoggerFactory.CreateLogger("OAuthSidecar");
        this.time = options.TimeProvider;
    }

    /// <summary>Returns usable tokens for the client, signing in only if it must.</summary>
    /// <param name="client">The client.</param>
    /// <param name="store">Where its accounts are kept.</param>
    /// <param name="request">Scopes, interaction and account.</param>
    /// <param name="cancellationToken">Cancels this caller's wait (a shared sign-in goes on for the others).</param>
    /// <returns>The tokens (with <see cref="TokenSet.Account"/>), or the server's error.</returns>
    /// <exception cref="InteractionRequiredException">Nothing usable and <see cref="InteractionMode.None"/>.</exception>
    /// <exception cref="StorageUnavailableException">The store cannot be used.</exception>
    public async Task<TokenOutcome> GetCredentialsAsync(OAuthClient client, CredentialStore store, CredentialRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);
        List<string> scopes = client.EffectiveScopes(request.Scopes).SelectMany(Scopes.Parse).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        List<string> resources = GrantRules.ResourceKey(request.Resources ?? client.Registration.Resources);
        foreach (string resource in resources)
        {
            ClientRegistry.CheckResource(resource, CoreOption.RequestResource);
        }

        store.EnsureUsable();
        string issuer = IssuerOf(client);
        StepUpRequirement? stepUp = StepUpRequirement.Create(request.Claims, request.AcrValues, request.MaxAge);
        string key = string.Join('\n', store.Backend, issuer, client.Registration.ClientId, request.Account ?? "*", string.Join(' ', scopes), string.Join(' ', resources), request.Interactive, stepUp?.Key);

        while (true)
        {
            var candidate = new Shared();
            Shared entry = this.shared.GetOrAdd(key, candidate);
            if (ReferenceEquals(entry, candidate))
            {
                entry.Task = this.AcquireAsync(client, store, request, new Wanted(scopes, resources), issuer, stepUp);
                _ = this.ForgetWhenDoneAsync(key, entry);
            }
            else if (entry.CompletedAt is { } done && this.time.GetElapsedTime(done) > ReuseWindow)
            {
                this.shared.TryRemove(new KeyValuePair<string, Shared>(key, entry));
                continue;
            }

            TokenOutcome outcome = await entry.Task!.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (outcome.Tokens is { } tokens)
            {
                client.DpopKeys.Remember(tokens); // so a proof for this access token uses its key
            }

            return outcome;
        }
    }

    /// <summary>Lists the signed-in accounts.</summary>
    /// <param name="client">The client whose accounts to list, or <see langword="null"/> for all of the store.</param>
    /// <param name="store">The store.</param>
    /// <returns>The accounts, most recently used first.</returns>
    public static IReadOnlyList<AccountSummary> ListAccounts(OAuthClient? client, CredentialStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        store.EnsureUsable();
        return client is null ? store.List(null, null) : store.List(IssuerOf(client), client.Registration.ClientId);
    }

    /// <summary>
    /// Signs out: revokes each account's refresh token where the server offers revocation (RFC 7009), then removes the
    /// account from the store. Without <paramref name="account"/>, every account of the client.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="store">The store.</param>
    /// <param name="account">The account, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels the revocation requests.</param>
    /// <returns>The number of accounts removed.</returns>
    public async Task<int> SignOutAsync(OAuthClient client, CredentialStore store, string? account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        string issuer = IssuerOf(client);
        store.EnsureUsable();
        int removed = 0;
        await using (await store.LockAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (AccountSummary summary in store.List(issuer, client.Registration.ClientId).Where(a => account is null || a.Account == account).ToList())
            {
                var key = new AccountKey(issuer, client.Registration.ClientId, summary.Account);
                if (store.Read(key) is { RefreshToken: { } refreshToken })
                {
                    try
                    {
                        if (!await client.RevokeAsync(refreshToken, "refresh_token", cancellationToken).ConfigureAwait(false))
                        {
                            this.logger.LogInformation("The server offers no revocation endpoint; account {Account} is removed from the store only.", summary.Account);
                        }
                    }
                    catch (ServerUnreachableException ex)
                    {
                        this.logger.LogWarning("The refresh token of {Account} could not be revoked ({Reason}); the account is removed from the store anyway.", summary.Account, ex.Reason);
                    }
                }

                store.Remove(key);
                removed++;
            }
        }

        this.shared.Clear();
        return removed;
    }

    private static string IssuerOf(OAuthClient client) => client.StoreIssuer;

    private static string? Claim(TokenSet tokens, string name) =>
        tokens.IdTokenClaims is { } claims && claims.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private async Task ForgetWhenDoneAsync(string key, Shared entry)
    {
        try
        {
#pragma warning disable VSTHRD003 // The shared task was started by this class (AcquireAsync).
            TokenOutcome outcome = await entry.Task!.ConfigureAwait(false);
#pragma warning restore VSTHRD003
            if (outcome.Tokens is null)
            {
                this.shared.TryRemove(new KeyValuePair<string, Shared>(key, entry));
            }
            else
            {
                entry.CompletedAt = this.time.GetTimestamp();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            this.shared.TryRemove(new KeyValuePair<string, Shared>(key, entry)); // failures are not reused
        }
    }

    private async Task<TokenOutcome> AcquireAsync(OAuthClient client, CredentialStore store, CredentialRequest request, Wanted wanted, string issuer, StepUpRequirement? stepUp)
    {
        await Task.Yield();
        string? refusal = null;
        string? stepUpRefusal = null;
        List<string> interactiveScopes = wanted.Scopes;
        string? signingInFor = null;
        await using (await store.LockAsync(CancellationToken.None).ConfigureAwait(false))
        {
            IReadOnlyList<AccountSummary> known = store.List(issuer, client.Registration.ClientId);
            string? account = request.Account ?? (known.Count > 0 ? known[0].Account : null);
            if (account is not null && store.Read(new AccountKey(issuer, client.Registration.ClientId, account)) is { } stored)
            {
                signingInFor = account;
                long now = this.time.GetUtcNow().ToUnixTimeSeconds();
                DpopKey? accountKey = stored.DpopKey?.Load(client.Redactor);
                StoredToken? token = GrantRules.Find(stored, wanted.Scopes, wanted.Resources);
                string? unsatisfied = token is null ? null : StepUpCheck.OfToken(stepUp, token, now);
                if (token is not null && unsatisfied is null && GrantRules.IsFresh(token, this.time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0))
                {
                    this.logger.LogDebug("Credentials: a stored access token of {Account} is valid until {ExpiresAt}.", account, token.ExpiresAt);
                    return TokenOutcome.Success(FromStore(stored, token, now, accountKey)) with { Method = SignInMethod.Stored };
                }

                if (unsatisfied is not null)
                {
                    this.logger.LogInformation("Credentials: the stored access token of {Account} does not satisfy the step-up: {Reason}.", account, unsatisfied);
                }

                // An interactive sign-in asks for every scope this account's grant already has too (incremental consent),
                // so the new refresh token keeps serving the other scope sets.
                interactiveScopes = Scopes.Union(wanted.Scopes, GrantRules.RequestedOf(stored));
                if (StepUpCheck.OfGrant(stepUp, stored, now) is { } grantUnsatisfied)
                {
                    // A refresh keeps the grant's authentication: only a new sign-in can satisfy the step-up.
                    stepUpRefusal = grantUnsatisfied;
                    this.logger.LogInformation("Credentials: no refresh for {Account}, because the sign-in behind its refresh token does not satisfy the step-up ({Reason}).", account, grantUnsatisfied);
                }
                else if (stored.RefreshToken is { } refreshToken)
                {
                    RefreshPlan plan = GrantRules.Plan(stored, wanted.Scopes);
                    IReadOnlyList<string> send = plan.Send.Count == 0 && client.Registration.RefreshNamesScopes ? wanted.Scopes : plan.Send;

                    // RFC 9449 §5: a refresh token bound to the account's key is redeemed only with it; an account without
                    // one gets its own key when the client uses DPoP.
                    var options = new RefreshOptions { Scopes = send, ReportScopes = plan.Report, Resources = wanted.Resources, Account = account, DpopKey = accountKey ?? client.DpopKeys.CreateKey() };
                    TokenOutcome refreshed = await client.RefreshAsync(refreshToken, options, CancellationToken.None).ConfigureAwait(false);
                    if (refreshed.Tokens is { } tokens)
                    {
                        this.logger.LogInformation("Credentials: refreshed the access token of {Account} silently.", account);
                        if (plan.Extends)
                        {
                            stored.GrantRequestedScopes = Scopes.Union(GrantRules.RequestedOf(stored), wanted.Scopes);
                            stored.GrantGrantedScopes = Scopes.Union(GrantRules.GrantedOf(stored), tokens.Scopes);
                        }

                        return TokenOutcome.Success(this.Save(store, stored, wanted, tokens, account, StepUpCheck.AfterRefresh(stored, tokens))) with { Method = SignInMethod.Refresh };
                    }

                    refusal = refreshed.Error!.Describe();
                    if (refreshed.Error.Error == "invalid_grant")
                    {
                        // The refresh token is dead (revoked, expired, reused): forget it and everything it covered.
                        stored.RefreshToken = null;
                        stored.GrantRequestedScopes = null;
                        stored.GrantGrantedScopes = null;
                        stored.Tokens.Clear();
                        stored.UpdatedAt = now;
                        store.Write(stored);
                    }

                    // Otherwise (invalid_scope: scopes the grant does not cover) the refresh token stays, and an
                    // interactive sign-in asks for the missing scopes.
                    this.logger.LogInformation("Credentials: the refresh for {Account} was refused ({Error}); a new sign-in is needed.", account, refreshed.Error.Error);
                }
            }
        }

        if (request.Interactive == InteractionMode.None)
        {
            throw new InteractionRequiredException(stepUpRefusal is not null
                ? $"The stored credentials do not satisfy the step-up ({stepUpRefusal}): the user must sign in again, and no interaction with the user was allowed."
                : refusal is null
                ? $"No usable credentials are stored for this client and scopes, and no interaction with the user was allowed."
                : $"The stored credentials can no longer be refreshed ({refusal}), and no interaction with the user was allowed.");
        }

        ISignInHost host = request.Host ?? new DelegateSignInHost(request.OpenBrowser ?? (_ => Task.CompletedTask));
        TokenOutcome outcome = await this.interactive.SignInAsync(client, new SignInRequest(interactiveScopes, request.Interactive, host, stepUp) { Resources = wanted.Resources }, CancellationToken.None).ConfigureAwait(false);
        if (outcome.Tokens is not { } signedIn)
        {
            return outcome;
        }

        AuthenticationContext? signedInWith = AuthenticationContext.FromIdToken(signedIn, stepUp?.Claims);
        if (StepUpCheck.OfContext(stepUp, signedInWith, this.time.GetUtcNow().ToUnixTimeSeconds()) is { } stillUnsatisfied)
        {
            this.logger.LogWarning("Credentials: the new sign-in does not satisfy the step-up either ({Reason}); the authorization server did not honour it. The tokens are returned; the resource may refuse them again.", stillUnsatisfied);
        }

        // A sign-in that names nobody (no id_token) renews the account it was made for.
        string who = signedIn.Account ?? request.Account ?? signingInFor ?? "default";
        await using (await store.LockAsync(CancellationToken.None).ConfigureAwait(false))
        {
            StoredAccount existing = store.Read(new AccountKey(issuer, client.Registration.ClientId, who))
                ?? new StoredAccount { Issuer = issuer, ClientId = client.Registration.ClientId, Account = who };
            if (signedIn.RefreshToken is not null)
            {
                // A new grant: what it was asked for and what the server granted.
                existing.GrantRequestedScopes = client.Registration.AuthorizationScopes(interactiveScopes).ToList();
                existing.GrantGrantedScopes = [.. signedIn.Scopes];
            }

            StepUpCheck.RecordGrant(existing, signedIn, signedInWith);
            return TokenOutcome.Success(this.Save(store, existing, wanted, signedIn, who, signedInWith)) with { Method = outcome.Method };
        }
    }

    private TokenSet Save(CredentialStore store, StoredAccount stored, Wanted wanted, TokenSet tokens, string account, AuthenticationContext? authentication)
    {
        if (tokens.DpopKey is { } key && stored.DpopKey?.Thumbprint != key.Thumbprint)
        {
            // One key per account: a sign-in with a new key replaces the old key and what was bound to it (with the old
            // grant's scopes, unless the sign-in brought a new grant, whose scopes the caller has just recorded).
            if (stored.DpopKey is not null)
            {
                stored.Tokens.Clear();
                stored.RefreshToken = null;
                if (tokens.RefreshToken is null)
                {
                    stored.GrantRequestedScopes = null;
                    stored.GrantGrantedScopes = null;
                }
            }

            stored.DpopKey = StoredDpopKey.From(key);
        }

        stored.RefreshToken = tokens.RefreshToken ?? stored.RefreshToken;
        stored.Username = tokens.Username ?? Claim(tokens, "preferred_username") ?? Claim(tokens, "email") ?? stored.Username;
        GrantRules.Remove(stored, wanted.Scopes, wanted.Resources);
        stored.Tokens.Add(new StoredToken
        {
            Scopes = wanted.Scopes,
            Resources = wanted.Resources,
            GrantedScopes = [.. tokens.Scopes],
            AccessToken = tokens.AccessToken,
            TokenType = tokens.TokenType,
            ExpiresAt = tokens.ExpiresAt,
            Lifetime = tokens.ExpiresIn,
            IdToken = tokens.IdToken,
            Acr = authentication?.Acr,
            AuthTime = authentication?.AuthTime,
            Claims = authentication?.Claims,
        });
        stored.UpdatedAt = this.time.GetUtcNow().ToUnixTimeSeconds();
        store.Write(stored);
        return tokens.WithAccount(account);
    }

    private static TokenSet FromStore(StoredAccount stored, StoredToken token, long now, DpopKey? accountKey)
    {
        JsonElement? claims = token.IdToken is { } idToken ? TokenResponseProcessor.DecodePayload(idToken) : null;
        using JsonDocument raw = JsonDocument.Parse("{}");
        return new TokenSet
        {
            AccessToken = token.AccessToken,
            TokenType = token.TokenType,
            ExpiresAt = token.ExpiresAt,
            ExpiresIn = token.ExpiresAt is { } at ? at - now : null,
            RefreshToken = stored.RefreshToken,
            IdToken = token.IdToken,
            IdTokenClaims = claims,
            Scopes = token.GrantedScopes.Count > 0 ? token.GrantedScopes : token.Scopes,
            Raw = raw.RootElement.Clone(),
            Account = stored.Account,
            Username = stored.Username,
            DpopKey = string.Equals(token.TokenType, "DPoP", StringComparison.OrdinalIgnoreCase) ? accountKey : null,
        };
    }

    /// <summary>What a request asks for: its scopes (sorted) and resource indicators (key form).</summary>
    private sealed record Wanted(List<string> Scopes, List<string> Resources);

    private sealed class Shared
    {
        public Task<TokenOutcome>? Task { get; set; }

        public long? CompletedAt { get; set; }
    }
}
