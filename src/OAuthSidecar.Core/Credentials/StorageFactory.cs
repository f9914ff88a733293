using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace OAuthSidecar.Core.Credentials;

/// <summary>Where credentials are kept.</summary>
public enum StorageBackend
{
    /// <summary>The OS keyring: Secret Service (libsecret) on Linux, Keychain on macOS, DPAPI on Windows.</summary>
    Keyring,

    /// <summary>Files readable by the user only (0600) in the data directory.</summary>
    File,

    /// <summary>The process's memory: gone when it exits.</summary>
    Memory,
}

/// <summary>
/// Makes the credential store of each backend, once per engine, in the data directory (the file store's folder and
/// the cross-process lock files), and tells which backends can be used on this machine.
/// </summary>
public sealed class StorageFactory : IDisposable
{
    private static readonly Lazy<StorageBackend[]> AvailableBackends = new(() =>
    {
        bool keyring = !OperatingSystem.IsLinux()
            || (Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS") is { Length: > 0 }
                && NativeLibrary.TryLoad("libsecret-1.so.0", out IntPtr handle) && handle != IntPtr.Zero);
        return keyring ? [StorageBackend.Keyring, StorageBackend.File, StorageBackend.Memory] : [StorageBackend.File, StorageBackend.Memory];
    });

    private readonly ConcurrentDictionary<StorageBackend, CredentialStore> stores = new();
    private readonly string dataDirectory;
    private readonly ILogger logger;

    /// <summary>Initializes a new instance of the <see cref="StorageFactory"/> class.</summary>
    /// <param name="dataDirectory">The folder of the file store and the lock files.</param>
    /// <param name="logger">Diagnostics.</param>
    public StorageFactory(string dataDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(dataDirectory);
        ArgumentNullException.ThrowIfNull(logger);
        this.dataDirectory = dataDirectory;
        this.logger = logger;
    }

    /// <summary>
    /// Gets the backends usable here: <see cref="StorageBackend.Memory"/> and <see cref="StorageBackend.File"/> always;
    /// <see cref="StorageBackend.Keyring"/> where the OS keyring can be reached (on Linux: libsecret is installed and a
    /// D-Bus session bus is set). A keyring that turns out to be locked is reported by the call that needs it (-32009).
    /// </summary>
    public static IReadOnlyList<StorageBackend> Available => AvailableBackends.Value;

    /// <summary>Returns the lower-case name of a backend (<c>keyring</c>, <c>file</c>, <c>memory</c>), as used in file names.</summary>
    /// <param name="backend">The backend.</param>
    /// <returns>Its name.</returns>
    public static string NameOf(StorageBackend backend) => backend switch
    {
        StorageBackend.Keyring => "keyring",
        StorageBackend.File => "file",
        StorageBackend.Memory => "memory",
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown storage backend."),
    };

    /// <summary>Returns the store of <paramref name="backend"/> (one per backend and engine).</summary>
    /// <param name="backend">The backend.</param>
    /// <returns>The store.</returns>
    public CredentialStore Get(StorageBackend backend) => this.stores.GetOrAdd(backend, this.Create);

    /// <summary>Disposes every store.</summary>
    public void Dispose()
    {
        foreach (CredentialStore store in this.stores.Values)
        {
            store.Dispose();
        }
    }

    private CredentialStore Create(StorageBackend backend)
    {
        switch (backend)
        {
            case StorageBackend.Memory:
                return new CredentialStore(new MemoryItemStorage(), null, this.logger);
            case StorageBackend.File:
                string files = Path.Combine(this.dataDirectory, "credentials");
                this.logger.LogWarning("Credentials are kept in files readable by your user only (0600) in {Directory}: anyone who can read your files can read them. The OS keyring backend is safer.", files);
                return new CredentialStore(new FileItemStorage(files, this.dataDirectory), this.dataDirectory, this.logger);
            case StorageBackend.Keyring:
                return new CredentialStore(new KeyringItemStorage(Path.Combine(this.dataDirectory, "keyring")), this.dataDirectory, this.logger);
            default:
                throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown storage backend.");
        }
    }
}
