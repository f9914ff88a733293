using System.Collections.Concurrent;
using Microsoft.Identity.Client.Extensions.Msal;

namespace OAuthSidecar.Core.Credentials;

/// <summary>Named secret items: the unit a backend stores (a keyring entry, a file, a dictionary slot).</summary>
public interface IItemStorage
{
    /// <summary>Gets the backend name: <c>keyring</c>, <c>file</c> or <c>memory</c>.</summary>
    StorageBackend Backend { get; }

    /// <summary>Reads an item.</summary>
    /// <param name="name">The item name.</param>
    /// <returns>Its bytes, or <see langword="null"/> when absent.</returns>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    byte[]? Read(string name);

    /// <summary>Writes an item atomically: a reader sees the old or the new bytes, never a mix.</summary>
    /// <param name="name">The item name.</param>
    /// <param name="data">The bytes.</param>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    void Write(string name, byte[] data);

    /// <summary>Deletes an item (absent is fine).</summary>
    /// <param name="name">The item name.</param>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    void Delete(string name);

    /// <summary>Checks that items can be written and read back (a locked keyring fails here, before any sign-in).</summary>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    void Verify()
    {
    }

    /// <summary>
    /// Takes a damaged item out of the way so the account starts empty: a file is renamed aside (kept, 0600, for the
    /// user to inspect); other backends delete it.
    /// </summary>
    /// <param name="name">The item name.</param>
    /// <returns>Where the damaged copy is now, or <see langword="null"/> when it was deleted.</returns>
    /// <exception cref="StorageUnavailableException">The backend cannot be used.</exception>
    string? Quarantine(string name)
    {
        this.Delete(name);
        return null;
    }
}

/// <summary>An item that is not what the store wrote: unreadable JSON, missing members, or not a regular file.</summary>
/// <param name="name">The item name.</param>
/// <param name="reason">What is wrong, in a sentence.</param>
public sealed class DamagedItemException(string name, string reason) : Exception(reason)
{
    /// <summary>Gets the item name.</summary>
    public string Name { get; } = name;
}

/// <summary>In-process storage: for tests and callers that persist through <c>refreshTokenUpdated</c> themselves.</summary>
public sealed class MemoryItemStorage : IItemStorage
{
    private readonly ConcurrentDictionary<string, byte[]> items = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public StorageBackend Backend => StorageBackend.Memory;

    /// <inheritdoc/>
    public byte[]? Read(string name) => this.items.TryGetValue(name, out byte[]? data) ? data : null;

    /// <inheritdoc/>
    public void Write(string name, byte[] data) => this.items[name] = data;

    /// <inheritdoc/>
    public void Delete(string name) => this.items.TryRemove(name, out _);
}

/// <summary>
/// A directory of files readable by the user only (0600, in a 0700 directory). Opt-in: the OS keyring is safer.
/// Writes go to a temporary file that is then renamed over the item, so a crash never leaves a torn item.
/// </summary>
/// <remarks>
/// Nothing here is trusted unless it is the user's own: the data folder, the credentials folder and every item must
/// be owned by this process's user and not writable by others (otherwise -32009 says which and what to do); an item
/// that is not a regular file (a FIFO would hang the reader while it holds the store's lock) is damaged. Temporary
/// files of writes that were killed are removed when the store is first used (those of processes still running are
/// left alone) and, under the store's lock, when their account is removed.
/// </remarks>
public sealed class FileItemStorage : IItemStorage
{
    private readonly string directory;
    private readonly string? dataDirectory;

    /// <summary>Initializes a new instance of the <see cref="FileItemStorage"/> class.</summary>
    /// <param name="directory">The directory (created 0700 when missing).</param>
    /// <param name="dataDirectory">The folder that holds it (and the lock files), checked too, or <see langword="null"/>.</param>
    public FileItemStorage(string directory, string? dataDirectory = null)
    {
        this.directory = directory;
        this.dataDirectory = dataDirectory;
    }

    /// <inheritdoc/>
    public StorageBackend Backend => StorageBackend.File;

    /// <summary>Gets the directory.</summary>
    public string Directory => this.directory;

    /// <inheritdoc/>
    public void Verify()
    {
        CheckPrivate(this.dataDirectory, FileKind.Directory);
        CheckPrivate(this.directory, FileKind.Directory);
        this.RemoveLeftovers(null, onlyOfDeadProcesses: true);
    }

    /// <inheritdoc/>
    public byte[]? Read(string name)
    {
        string path = this.PathOf(name);
        if (FileStatus.Of(path) is { Kind: FileKind.Other or FileKind.Directory })
        {
            throw new DamagedItemException(name, $"{path} is not a regular file.");
        }

        CheckPrivate(path, FileKind.Regular);
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(StorageBackend.File, $"The credential file {path} cannot be read: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public void Write(string name, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        string path = this.PathOf(name);
        string temporary = path + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            this.EnsureDirectory();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new StorageUnavailableException(StorageBackend.File, $"The credential file {path} cannot be written: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public void Delete(string name)
    {
        try
        {
            File.Delete(this.PathOf(name));
            this.RemoveLeftovers(name, onlyOfDeadProcesses: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(StorageBackend.File, $"The credential file {this.PathOf(name)} cannot be deleted: {ex.Message}", ex);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: ignored on read, replaced on the next write.
        }
    }

    /// <inheritdoc/>
    public string? Quarantine(string name)
    {
        string path = this.PathOf(name);
        string aside = $"{path}.damaged-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid().ToString("N")[..6]}";
        try
        {
            File.Move(path, aside);
            if (!OperatingSystem.IsWindows() && FileStatus.Of(aside) is { Kind: FileKind.Regular })
            {
                File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return aside;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(StorageBackend.File, $"The damaged credential file {path} could not be moved aside: {ex.Message}. Move or delete it yourself.", ex);
        }
    }

    // Refuses a folder or file that is not the user's own or that others may write (-32009 with what to do).
    private static void CheckPrivate(string? path, FileKind expected)
    {
        if (path is null || FileStatus.CurrentUserId is not { } me || FileStatus.Of(path) is not { } status || status.Kind == FileKind.Missing)
        {
            return;
        }

        string what = expected == FileKind.Directory ? "folder" : "file";
        if (status.Kind != expected)
        {
            throw new StorageUnavailableException(StorageBackend.File, $"The credential {what} {path} is not a {what}. Remove it, or point OAUTH_SIDECAR_DATA_DIR at a folder of your own.");
        }

        if (status.OwnerId != me)
        {
            throw new StorageUnavailableException(StorageBackend.File, $"The credential {what} {path} belongs to another user (uid {status.OwnerId}, you are {me}), so its contents cannot be trusted. Remove it (or point OAUTH_SIDECAR_DATA_DIR at a folder of your own) and sign in again.");
        }

        if (status.WritableByOthers)
        {
            string mode = Convert.ToString(status.Mode, 8);
            throw new StorageUnavailableException(StorageBackend.File, $"The credential {what} {path} can be written by other users (mode {mode}), so its contents cannot be trusted. Run 'chmod {(expected == FileKind.Directory ? "700" : "600")} {path}' (or remove it) and try again.");
        }
    }

    // Temporary files are NAME.json.PID.RANDOM.tmp: those of killed writes still hold tokens.
    private void RemoveLeftovers(string? name, bool onlyOfDeadProcesses)
    {
        if (!System.IO.Directory.Exists(this.directory))
        {
            return;
        }

        try
        {
            foreach (string file in System.IO.Directory.EnumerateFiles(this.directory, (name is null ? "*" : name + ".json") + ".*.tmp"))
            {
                string[] parts = Path.GetFileName(file).Split('.');
                bool dead = parts.Length >= 4 && int.TryParse(parts[^3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) && !IsRunning(pid);
                if (!onlyOfDeadProcesses || dead)
                {
                    TryDelete(file);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Listing failed: the next start tries again.
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private string PathOf(string name) => Path.Combine(this.directory, name + ".json");

    private void EnsureDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(this.directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(this.directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

/// <summary>
/// The OS keyring through Microsoft.Identity.Client.Extensions.Msal's <c>Storage</c>: the Secret Service (libsecret)
/// on Linux, the Keychain on macOS, a DPAPI-protected file on Windows. One keyring entry per item.
/// </summary>
public sealed class KeyringItemStorage : IItemStorage
{
    /// <summary>The Secret Service schema name of the sidecar's entries.</summary>
    public const string SchemaName = "dev.oauth-sidecar.credentials";

    private readonly string directory;
    private readonly ConcurrentDictionary<string, Storage> storages = new(StringComparer.Ordinal);

    /// <summary>Initializes a new instance of the <see cref="KeyringItemStorage"/> class.</summary>
    /// <param name="directory">Where the DPAPI files go on Windows.</param>
    public KeyringItemStorage(string directory)
    {
        this.directory = directory;
    }

    /// <inheritdoc/>
    public StorageBackend Backend => StorageBackend.Keyring;

    /// <summary>Explains how to make the keyring usable on this platform.</summary>
    public static string Advice =>
        OperatingSystem.IsLinux()
            ? "The OS keyring (Secret Service) is not usable: install libsecret-1-0 and a keyring daemon (gnome-keyring), make sure a D-Bus session is running (DBUS_SESSION_BUS_ADDRESS), and unlock the keyring (over SSH: run 'gnome-keyring-daemon --unlock' in that session). Or choose the 'file' backend (a 0600 file) or 'memory'."
            : "The OS keyring is not usable; unlock it, or choose the 'file' or 'memory' backend.";

    /// <inheritdoc/>
    public byte[]? Read(string name)
    {
        byte[] data = this.Run(name, s => s.ReadData());
        return data.Length == 0 ? null : data;
    }

    /// <inheritdoc/>
    public void Write(string name, byte[] data) => this.Run(name, s =>
    {
        s.WriteData(data);
        return Array.Empty<byte>();
    });

    /// <inheritdoc/>
    public void Delete(string name) => this.Run(name, s =>
    {
        s.Clear(ignoreExceptions: false);
        return Array.Empty<byte>();
    });

    /// <inheritdoc/>
    public void Verify() => this.Run("verify", s =>
    {
        s.VerifyPersistence();
        return Array.Empty<byte>();
    });

    private byte[] Run(string name, Func<Storage, byte[]> action)
    {
        try
        {
            Storage storage = this.storages.GetOrAdd(name, n => Storage.Create(
                new StorageCreationPropertiesBuilder(n + ".bin", this.directory)
                    .WithLinuxKeyring(SchemaName, MsalCacheHelper.LinuxKeyRingDefaultCollection, $"OAuth Sidecar credentials ({n})", new KeyValuePair<string, string>("service", "oauth-sidecar"), new KeyValuePair<string, string>("item", n))
                    .WithMacKeyChain("oauth-sidecar", n)
                    .Build()));
            return action(storage);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // libsecret, D-Bus, the Keychain and DPAPI fail in many ways (MSAL's InteropException is internal):
            // each means the same to the caller — this store cannot be used now.
            throw new StorageUnavailableException(StorageBackend.Keyring, Advice + $" (The keyring said: {ex.Message})", ex);
        }
    }
}
