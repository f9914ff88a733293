using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Identity.Client.Extensions.Msal;
using AsyncSemaphore = Microsoft.VisualStudio.Threading.AsyncSemaphore;

namespace OAuthSidecar.Core.Credentials;

/// <summary>
/// The accounts kept in one backend: an item per account (its refresh token and access tokens) and an index item
/// (who is signed in; no secrets). A file lock (MSAL's <c>CrossPlatLock</c>) serialises read-modify-write between
/// sidecar processes that share the store, so a rotated refresh token is never redeemed twice.
/// </summary>
public sealed class CredentialStore : IDisposable
{
    private const string IndexItem = "index";
    private readonly IItemStorage items;
    private readonly string? lockFile;
    private readonly AsyncSemaphore gate = new(1);
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="CredentialStore"/> class.</summary>
    /// <param name="items">The backend.</param>
    /// <param name="lockDirectory">Where the cross-process lock file lives; <see langword="null"/> for an in-process store.</param>
    /// <param name="logger">Where a damaged item is reported, or <see langword="null"/>.</param>
    public CredentialStore(IItemStorage items, string? lockDirectory, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        this.items = items;
        this.logger = logger ?? NullLogger.Instance;
        this.lockFile = lockDirectory is null ? null : Path.Combine(lockDirectory, $"{StorageFactory.NameOf(items.Backend)}.lock");
    }

    /// <summary>Gets the backend.</summary>
    public StorageBackend Backend => this.items.Backend;

    /// <summary>
    /// Takes the store's lock: in-process, then across processes (a lock file, waited for up to 60 s).
    /// Hold it around a read-refresh-write sequence.
    /// </summary>
    /// <param name="cancellationToken">Cancels the in-process wait.</param>
    /// <returns>The lock; dispose to release.</returns>
    /// <exception cref="StorageUnavailableException">The lock file cannot be created or stays held.</exception>
    public async Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken)
    {
        AsyncSemaphore.Releaser inProcess = await this.gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        if (this.lockFile is null)
        {
            return new Held(inProcess, null);
        }

        try
        {
            string path = this.lockFile;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // CrossPlatLock spins synchronously (100 ms × 600): keep it off the caller's thread.
            CrossPlatLock crossProcess = await Task.Run(() => new CrossPlatLock(path, 100, 600), cancellationToken).ConfigureAwait(false);
            return new Held(inProcess, crossProcess);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            inProcess.Dispose();
            throw new StorageUnavailableException(this.Backend, $"The credential lock file {this.lockFile} cannot be taken: {ex.Message}", ex);
        }
    }

    /// <summary>Checks once that the backend works (a locked or absent keyring fails here, before any sign-in).</summary>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    public void EnsureUsable()
    {
        if (this.verified)
        {
            return;
        }

        this.items.Verify();
        this.verified = true;
    }

    private bool verified;

    /// <summary>Reads an account.</summary>
    /// <param name="key">The account.</param>
    /// <returns>It, or <see langword="null"/>.</returns>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    public StoredAccount? Read(AccountKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return this.ReadItem(key.ItemName, CredentialJsonContext.Default.StoredAccount, IsWhole);
    }

    /// <summary>Lists accounts, optionally of one issuer and client.</summary>
    /// <param name="issuer">The issuer, or <see langword="null"/> for all.</param>
    /// <param name="clientId">The client id, or <see langword="null"/> for all.</param>
    /// <returns>The accounts, most recently used first.</returns>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    public IReadOnlyList<AccountSummary> List(string? issuer, string? clientId) =>
        this.ReadIndex().Accounts
            .Where(a => (issuer is null || a.Issuer == issuer) && (clientId is null || a.ClientId == clientId))
            .OrderByDescending(a => a.UpdatedAt)
            .ToList();

    /// <summary>Writes an account, then the index (so a crash between the two leaves a readable store).</summary>
    /// <param name="account">The account.</param>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    public void Write(StoredAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        this.items.Write(account.Key.ItemName, JsonSerializer.SerializeToUtf8Bytes(account, CredentialJsonContext.Default.StoredAccount));
        AccountIndex index = this.ReadIndex();
        index.Accounts.RemoveAll(a => a.Issuer == account.Issuer && a.ClientId == account.ClientId && a.Account == account.Account);
        index.Accounts.Add(new AccountSummary
        {
            Account = account.Account,
            ClientId = account.ClientId,
            Issuer = account.Issuer,
            Username = account.Username,
            Scopes = account.Tokens.SelectMany(t => t.GrantedScopes.Count > 0 ? t.GrantedScopes : t.Scopes).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            ExpiresAt = account.Tokens.Max(t => t.ExpiresAt),
            UpdatedAt = account.UpdatedAt,
        });
        this.items.Write(IndexItem, JsonSerializer.SerializeToUtf8Bytes(index, CredentialJsonContext.Default.AccountIndex));
    }

    /// <summary>Removes an account and its index entry.</summary>
    /// <param name="key">The account.</param>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    public void Remove(AccountKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        AccountIndex index = this.ReadIndex();
        if (index.Accounts.RemoveAll(a => a.Issuer == key.Issuer && a.ClientId == key.ClientId && a.Account == key.Account) > 0)
        {
            this.items.Write(IndexItem, JsonSerializer.SerializeToUtf8Bytes(index, CredentialJsonContext.Default.AccountIndex));
        }

        this.items.Delete(key.ItemName);
    }

    /// <summary>Releases the in-process lock.</summary>
    public void Dispose() => this.gate.Dispose();

    // JSON that parses but lacks members (nulls where the store always writes values) is damaged too.
    private static bool IsWhole(StoredAccount a) =>
        a.Issuer is not null && a.ClientId is not null && a.Account is not null && a.Tokens is not null
        && a.Tokens.All(t => t is not null && t.Scopes is not null && t.Scopes.All(x => x is not null) && t.AccessToken is not null
            && t.GrantedScopes is not null && t.GrantedScopes.All(x => x is not null) && t.TokenType is not null)
        && (a.DpopKey is null || (a.DpopKey.Algorithm is not null && a.DpopKey.Pkcs8 is not null && a.DpopKey.Thumbprint is not null));

    private static bool IsWhole(AccountIndex index) =>
        index.Accounts is not null
        && index.Accounts.All(a => a is not null && a.Account is not null && a.ClientId is not null && a.Issuer is not null && a.Scopes is not null && a.Scopes.All(x => x is not null));

    // Reads an item; one that is damaged (not JSON, missing members, not a regular file) is moved aside, reported,
    // and read as absent, so the account starts empty instead of failing every call.
    private T? ReadItem<T>(string name, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, Func<T, bool> isWhole)
        where T : class
    {
        string reason;
        try
        {
            byte[]? data = this.items.Read(name);
            if (data is null)
            {
                return null;
            }

            T? value = JsonSerializer.Deserialize(data, info);
            if (value is not null && isWhole(value))
            {
                return value;
            }

            reason = "it lacks members the store always writes";
        }
        catch (JsonException ex)
        {
            reason = $"it is not the JSON the store writes ({ex.Message.Split(" Path:")[0]})";
        }
        catch (DamagedItemException ex)
        {
            reason = ex.Message;
        }

        string? aside = this.items.Quarantine(name);
        this.logger.LogWarning(
            "A damaged credential item ({Backend}, {Item}) was {Where} because {Reason}; the accounts it held must sign in again.",
            StorageFactory.NameOf(this.Backend),
            name,
            aside is null ? "removed" : $"moved aside to {aside}",
            reason);
        return null;
    }

    private AccountIndex ReadIndex() =>
        this.ReadItem(IndexItem, CredentialJsonContext.Default.AccountIndex, IsWhole) ?? new AccountIndex();

    private sealed class Held(AsyncSemaphore.Releaser inProcess, CrossPlatLock? crossProcess) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            crossProcess?.Dispose();
            inProcess.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
