using System.Text.Json;
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

    /// <summary>Initializes a new instance of the <see cref="CredentialStore"/> class.</summary>
    /// <param name="items">The backend.</param>
    /// <param name="lockDirectory">Where the cross-process lock file lives; <see langword="null"/> for an in-process store.</param>
    public CredentialStore(IItemStorage items, string? lockDirectory)
    {
        ArgumentNullException.ThrowIfNull(items);
        this.items = items;
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
        byte[]? data = this.items.Read(key.ItemName);
        return data is null ? null : Deserialize(data, CredentialJsonContext.Default.StoredAccount);
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

    private static T? Deserialize<T>(byte[] data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(data, info);
        }
        catch (JsonException)
        {
            return null; // unreadable (another version, or damaged): treated as absent and replaced on the next write
        }
    }

    private AccountIndex ReadIndex() =>
        this.items.Read(IndexItem) is { } data ? Deserialize(data, CredentialJsonContext.Default.AccountIndex) ?? new AccountIndex() : new AccountIndex();

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
