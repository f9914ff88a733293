using System.Text;
using System.Text.Json;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Browser;

/// <summary>
/// Keeps authorization URLs off browser command lines. A process's arguments are world-readable on most Linux hosts
/// (<c>/proc/PID/cmdline</c>), and an authorization URL there lets another local user complete the victim's own
/// request as himself (login CSRF that state, PKCE and nonce cannot stop). So the browser gets the path of a small
/// local HTML page instead — 0600, in a fresh 0700 folder of this process — that forwards to the URL; the page is
/// deleted once the browser had time to read it (<see cref="Lifetime"/>), and the folder when the process ends.
/// </summary>
public sealed class LaunchPages : IDisposable
{
    /// <summary>The prefix of the folders this class creates.</summary>
    public const string FolderPrefix = "oauth-sidecar-launch-";

    private readonly TimeProvider timeProvider;
    private readonly Lock gate = new();
    private readonly List<ITimer> timers = [];
    private string? folder;
    private bool disposed;

    /// <summary>Initializes a new instance of the <see cref="LaunchPages"/> class.</summary>
    /// <param name="timeProvider">The clock of the deletions.</param>
    /// <param name="parent">Where the folder goes: <c>$XDG_RUNTIME_DIR</c> when set (a per-user 0700 folder), else the temporary folder.</param>
    public LaunchPages(TimeProvider? timeProvider = null, string? parent = null)
    {
        this.timeProvider = timeProvider ?? TimeProvider.System;
        this.Parent = parent
            ?? (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Directory.Exists(runtime) ? runtime : Path.GetTempPath());
    }

    /// <summary>Gets how long a page stays on disk after it was written: 60 s.</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets the folder the page folders go in.</summary>
    public string Parent { get; }

    /// <summary>Gets this process's page folder, once a page was written.</summary>
    public string? Folder => this.folder;

    /// <summary>Writes a page that forwards to <paramref name="url"/> and returns its path.</summary>
    /// <param name="url">The authorization URL.</param>
    /// <returns>The absolute path of the page (0600).</returns>
    /// <exception cref="IOException">The page could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder could not be created.</exception>
    public string Create(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        string dir = this.EnsureFolder();
        string path = Path.Combine(dir, $"sign-in-{ProtocolRandom.Create(9)}.html");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(Render(url)));
        }

        lock (this.gate)
        {
            if (!this.disposed)
            {
                this.timers.Add(this.timeProvider.CreateTimer(static p => TryDelete((string)p!), path, Lifetime, Timeout.InfiniteTimeSpan));
            }
        }

        return path;
    }

    /// <summary>Returns the HTML of a page that forwards to <paramref name="url"/> (meta refresh and script, with a link as a last resort).</summary>
    /// <param name="url">The URL.</param>
    /// <returns>The HTML.</returns>
    public static string Render(string url)
    {
        string attribute = System.Net.WebUtility.HtmlEncode(url);
        string script = JsonSerializer.Serialize(url, LaunchPageJson.Default.String);
        return $"""
            <!doctype html>
            <html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
            <meta http-equiv="refresh" content="0;url={attribute}">
            <title>Signing in…</title>
            <script>location.replace({script});</script></head>
            <body><p>Continue to <a href="{attribute}" rel="noreferrer">the sign-in page</a>.</p></body></html>
            """;
    }

    /// <summary>Deletes every page and the folder.</summary>
    public void Dispose()
    {
        lock (this.gate)
        {
            this.disposed = true;
            foreach (ITimer timer in this.timers)
            {
                timer.Dispose();
            }

            this.timers.Clear();
        }

        if (this.folder is { } dir)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone already, or being read right now: the pages inside hold nothing that outlives the flows.
            }
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
            // Deleted with the folder at exit.
        }
    }

    private string EnsureFolder()
    {
        lock (this.gate)
        {
            ObjectDisposedException.ThrowIf(this.disposed, this);
            if (this.folder is null)
            {
                RemoveStale(this.Parent);
                // A fresh folder (0700, ours alone): no other user can have planted or opened it.
                this.folder = CreateFreshFolder(this.Parent);
            }

            return this.folder;
        }
    }

    private static string CreateFreshFolder(string parent)
    {
        for (int attempt = 0; ; attempt++)
        {
            string candidate = Path.Combine(parent, FolderPrefix + ProtocolRandom.Create(9));
            try
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(candidate);
                }
                else
                {
                    if (Directory.Exists(candidate))
                    {
                        continue;
                    }

                    Directory.CreateDirectory(candidate, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                    if (File.GetUnixFileMode(candidate) != (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute))
                    {
                        throw new IOException($"The folder {candidate} did not get mode 0700.");
                    }
                }

                return candidate;
            }
            catch (IOException) when (attempt < 3)
            {
            }
        }
    }

    // Folders left by a process that was killed: removed when an hour old (only this user's can be removed at all).
    private static void RemoveStale(string parent)
    {
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(parent, FolderPrefix + "*"))
            {
                try
                {
                    if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) > TimeSpan.FromHours(1))
                    {
                        Directory.Delete(dir, recursive: true);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another user's, or in use.
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>Source-generated JSON for <see cref="LaunchPages"/> (a string literal in a script, escaped for HTML).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class LaunchPageJson : System.Text.Json.Serialization.JsonSerializerContext;
