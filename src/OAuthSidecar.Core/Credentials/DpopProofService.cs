using System.Text.RegularExpressions;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Credentials;

/// <summary>What <see cref="DpopProofService.Create"/> is asked for: a proof for one of the caller's own requests.</summary>
public sealed class DpopProofRequest
{
    /// <summary>Gets the account whose key signs the proof; see <see cref="DpopProofService.Create"/> for the default.</summary>
    public string? Account { get; init; }

    /// <summary>Gets the request's HTTP method, e.g. <c>GET</c> (the proof's <c>htm</c>).</summary>
    public required string Htm { get; init; }

    /// <summary>Gets the request's URL; the proof's <c>htu</c> is it without query and fragment.</summary>
    public required string Htu { get; init; }

    /// <summary>Gets the access token the request carries (the proof then has <c>ath</c>), or <see langword="null"/>.</summary>
    public string? AccessToken { get; init; }

    /// <summary>Gets the resource server's <c>DPoP-Nonce</c> (RFC 9449 §9), or <see langword="null"/>.</summary>
    public string? Nonce { get; init; }
}

/// <summary>A DPoP proof for the caller's request.</summary>
/// <param name="Proof">The proof JWT: the value of the request's <c>DPoP</c> header.</param>
/// <param name="Jkt">The thumbprint of the key that signed it (RFC 7638).</param>
/// <param name="ExpiresAt">Until when to use it, in Unix seconds (<c>iat</c> + <see cref="DpopKey.ProofLifetimeSeconds"/>); use it once.</param>
public sealed record DpopProof(string Proof, string Jkt, long ExpiresAt);

/// <summary>
/// Makes DPoP proofs (RFC 9449 §4, §7) for the caller's requests to resource servers, with the key the caller's
/// tokens are bound to: the caller gets proofs, never the key. A resource server's <c>use_dpop_nonce</c> (§9) is the
/// caller's to answer, by asking again with its nonce.
/// </summary>
public sealed partial class DpopProofService
{
    private readonly TimeProvider time;

    /// <summary>Initializes a new instance of the <see cref="DpopProofService"/> class.</summary>
    /// <param name="time">The clock of the proofs' <c>iat</c>.</param>
    public DpopProofService(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        this.time = time;
    }

    /// <summary>
    /// Creates a proof. The key: the named account's; else the key <see cref="DpopProofRequest.AccessToken"/> is bound
    /// to (obtained in this process or stored); else the most recently used account's of the client; else the
    /// client's own key (that of its client credentials, password and assertion grants).
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="store">Where its accounts are kept.</param>
    /// <param name="request">The request to prove.</param>
    /// <returns>The proof, its key's thumbprint and until when to use it.</returns>
    /// <exception cref="InvalidOptionException">A bad method or URL, an account without a DPoP key, or a client that does not use DPoP.</exception>
    /// <exception cref="StorageUnavailableException">The store of a named account cannot be used.</exception>
    public DpopProof Create(OAuthClient client, CredentialStore store, DpopProofRequest request)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);
        if (!MethodToken().IsMatch(request.Htm ?? string.Empty))
        {
            throw new InvalidOptionException(CoreOption.DpopHtm, $"{{{CoreOption.DpopHtm}}} '{request.Htm}' is not an HTTP method (e.g. GET or POST).");
        }

        client.Redactor.Register(request.AccessToken);
        string htu = DpopKey.TargetUri(request.Htu);
        DpopKey key = KeyFor(client, store, request);
        DateTimeOffset now = this.time.GetUtcNow();
        string proof = key.CreateProof(request.Htm!, htu, request.AccessToken, request.Nonce, now);
        client.Redactor.Register(proof);
        return new DpopProof(proof, key.Thumbprint, now.ToUnixTimeSeconds() + DpopKey.ProofLifetimeSeconds);
    }

    /// <summary>
    /// Returns the key a token is bound to: the one this process bound it to, else the key of the stored account that
    /// holds it as its refresh token or one of its access tokens.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="store">Where its accounts are kept (not read when it cannot be used).</param>
    /// <param name="token">An access or refresh token.</param>
    /// <returns>The key, or <see langword="null"/>.</returns>
    public static DpopKey? KeyOfToken(OAuthClient client, CredentialStore store, string token)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(store);
        if (client.DpopKeys.ForToken(token) is { } bound)
        {
            return bound;
        }

        try
        {
            string issuer = client.StoreIssuer;
            string clientId = client.Registration.ClientId;
            return store.List(issuer, clientId)
                .Select(a => store.Read(new AccountKey(issuer, clientId, a.Account)))
                .FirstOrDefault(a => a is not null && (a.RefreshToken == token || a.Tokens.Any(t => t.AccessToken == token)))?.DpopKey?.Load(client.Redactor);
        }
        catch (StorageUnavailableException)
        {
            return null;
        }
    }

    private static DpopKey KeyFor(OAuthClient client, CredentialStore store, DpopProofRequest request)
    {
        string issuer = client.StoreIssuer;
        string clientId = client.Registration.ClientId;
        if (request.Account is { } account)
        {
            StoredAccount stored = store.Read(new AccountKey(issuer, clientId, account))
                ?? throw new InvalidOptionException(CoreOption.DpopAccount, $"{{{CoreOption.DpopAccount}}} '{account}' is not signed in with this client.");
            return stored.DpopKey?.Load(client.Redactor)
                ?? throw new InvalidOptionException(CoreOption.DpopAccount, $"{{{CoreOption.DpopAccount}}} '{account}' has no DPoP key: its tokens are bearer tokens.");
        }

        if (request.AccessToken is { } accessToken && client.DpopKeys.ForToken(accessToken) is { } bound)
        {
            return bound;
        }

        IReadOnlyList<StoredAccount> accounts;
        try
        {
            accounts = store.List(issuer, clientId).Select(a => store.Read(new AccountKey(issuer, clientId, a.Account))).OfType<StoredAccount>().ToList();
        }
        catch (StorageUnavailableException)
        {
            accounts = []; // no account was named: the client's own key still serves
        }

        StoredAccount? chosen = (request.AccessToken is { } token ? accounts.FirstOrDefault(a => a.Tokens.Any(t => t.AccessToken == token)) : null)
            ?? accounts.FirstOrDefault(a => a.DpopKey is not null);
        return chosen?.DpopKey?.Load(client.Redactor)
            ?? client.DpopKeys.ClientKey
            ?? throw new InvalidOptionException(CoreOption.Dpop, $"This client does not use DPoP and has no account with a DPoP key: create it with {{{CoreOption.Dpop}}} on.");
    }

    // RFC 9110 §9.1: a method is a token.
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex MethodToken();
}
