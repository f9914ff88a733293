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
public sealed class FileItemStorage : IItemStorage
{
    private readonly string directory;

    /// <summary>Initializes a new instance of the <see cref="FileItemStorage"/> class.</summary>
    /// <param name="directory">The directory (created 0700 when missing).</param>
    public FileItemStorage(string directory)
    {
        this.directory = directory;
    }

    /// <inheritdoc/>
    public StorageBackend Backend => StorageBackend.File;

    /// <summary>Gets the directory.</summary>
    public string Directory => this.directory;

    /// <inheritdoc/>
    public byte[]? Read(string name)
    {
        string path = this.PathOf(name);
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
