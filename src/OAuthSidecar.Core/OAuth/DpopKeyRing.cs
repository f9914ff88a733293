using System.Collections.Concurrent;
using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.OAuth;

/// <summary>
/// The DPoP keys one client holds in memory: its own key (<see cref="ClientKey"/>), which binds the tokens of the
/// grants that belong to no stored account (client credentials, password, assertions, flows the caller drives
/// itself), and which key each token obtained in this process is bound to, so a refresh token is redeemed and a
/// proof for an access token is made with exactly its key (RFC 9449 §5, §7). Tokens are remembered by their SHA-256,
/// never in clear; the oldest are forgotten beyond 1,000. Thread-safe.
/// </summary>
public sealed class DpopKeyRing
{
    private const int MaximumRemembered = 1000;
    private readonly ConcurrentDictionary<string, DpopKey> byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> order = new();
    private readonly Lazy<DpopKey>? clientKey;

    /// <summary>Initializes a new instance of the <see cref="DpopKeyRing"/> class.</summary>
    /// <param name="algorithm">The algorithm of the client's keys; <see langword="null"/> when the client does not use DPoP.</param>
    /// <param name="redactor">Learns every private key made.</param>
    public DpopKeyRing(string? algorithm, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(redactor);
        this.Algorithm = algorithm;
        this.Redactor = redactor;
        this.clientKey = algorithm is null ? null : new Lazy<DpopKey>(() => DpopKey.Create(algorithm, redactor), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the algorithm of new keys, or <see langword="null"/> when the client does not use DPoP.</summary>
    public string? Algorithm { get; }

    /// <summary>Gets a value indicating whether the client uses DPoP.</summary>
    public bool Enabled => this.Algorithm is not null;

    /// <summary>Gets the client's own key (made on first use), or <see langword="null"/> when the client does not use DPoP.</summary>
    public DpopKey? ClientKey => this.clientKey?.Value;

    /// <summary>Gets the redactor that learns every private key.</summary>
    public SecretRedactor Redactor { get; }

    /// <summary>Makes a new key for a sign-in (its account is not known yet), or returns <see langword="null"/> when the client does not use DPoP.</summary>
    /// <returns>The key.</returns>
    public DpopKey? CreateKey() => this.Algorithm is { } algorithm ? DpopKey.Create(algorithm, this.Redactor) : null;

    /// <summary>Remembers which key the tokens are bound to (nothing when they are not DPoP-bound).</summary>
    /// <param name="tokens">Tokens just obtained or read from the store.</param>
    public void Remember(TokenSet tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.DpopKey is not { } key)
        {
            return;
        }

        this.Add(tokens.AccessToken, key);
        if (tokens.RefreshToken is { } refreshToken)
        {
            this.Add(refreshToken, key);
        }
    }

    /// <summary>Returns the key a token obtained in this process is bound to, or <see langword="null"/>.</summary>
    /// <param name="token">An access or refresh token.</param>
    /// <returns>The key.</returns>
    public DpopKey? ForToken(string token) =>
        token is not null && this.byToken.TryGetValue(DpopKey.AccessTokenHash(token), out DpopKey? key) ? key : null;

    private void Add(string token, DpopKey key)
    {
        string hash = DpopKey.AccessTokenHash(token);
        if (this.byToken.TryAdd(hash, key))
        {
            this.order.Enqueue(hash);
            while (this.byToken.Count > MaximumRemembered && this.order.TryDequeue(out string? oldest))
            {
                this.byToken.TryRemove(oldest, out _);
            }
        }
    }
}
