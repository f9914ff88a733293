using System.Diagnostics;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>
/// A private D-Bus session with a real Secret Service (gnome-keyring-daemon), unlocked or locked, in temporary
/// HOME and XDG directories: sidecars started with <see cref="Environment"/> use it through libsecret.
/// </summary>
public sealed class KeyringSession : IAsyncDisposable
{
    private readonly Process bus;
    private readonly Process keyring;

    private KeyringSession(Process bus, Process keyring, string root, string address)
    {
        this.bus = bus;
        this.keyring = keyring;
        this.Root = root;
        this.Environment = new Dictionary<string, string?>
        {
            ["DBUS_SESSION_BUS_ADDRESS"] = address,
            ["HOME"] = Path.Combine(root, "home"),
            ["XDG_DATA_HOME"] = Path.Combine(root, "data"),
            ["XDG_RUNTIME_DIR"] = Path.Combine(root, "run"),
            ["OAUTH_SIDECAR_DATA_DIR"] = Path.Combine(root, "sidecar"),
        };
    }

    public string Root { get; }

    /// <summary>The variables a process needs to use this session's keyring.</summary>
    public Dictionary<string, string?> Environment { get; }

    /// <summary>Starts a bus and a keyring daemon; <paramref name="unlocked"/> creates and unlocks the login keyring.</summary>
    /// <param name="unlocked">Unlock (and create) the login keyring with a password.</param>
    /// <param name="root">Reuse the directories of an earlier session (its keyring file), or <see langword="null"/> for new ones.</param>
    /// <returns>The running session. Skips the test when the tools are missing (fails it in CI, which installs them).</returns>
    public static async Task<KeyringSession> StartAsync(bool unlocked = true, string? root = null)
    {
        Requires.Tools("a real Secret Service on a private D-Bus session", "dbus-daemon", "dbus-monitor", "gnome-keyring-daemon", "secret-tool");
        root ??= TestTemp.CreateDirectory("keyring-session").FullName;
        foreach (string sub in new[] { "home", "data", "run", "sidecar" })
        {
            Directory.CreateDirectory(Path.Combine(root, sub));
        }

        File.SetUnixFileMode(Path.Combine(root, "run"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string socket = Path.Combine(root, "run", "bus");
        File.Delete(socket);
        Process bus = Start("dbus-daemon", ["--session", "--nofork", "--print-address=1", "--address=unix:path=" + socket], null);
        bus.ErrorDataReceived += (_, _) => { };
        bus.BeginErrorReadLine();
        string address = await bus.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)) ?? throw new InvalidOperationException("dbus-daemon did not start.");

        // The daemon is ready when it owns the Secret Service name: dbus-monitor reports the NameOwnerChanged signal
        // (an event; no polling of NameHasOwner). The monitor watches before the daemon starts, so it cannot miss it.
        using Process monitor = Start("dbus-monitor", ["--session", "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.freedesktop.secrets'"], new() { ["DBUS_SESSION_BUS_ADDRESS"] = address });
        monitor.ErrorDataReceived += (_, _) => { };
        monitor.BeginErrorReadLine();
        try
        {
            // dbus-monitor prints its own NameLost once it has become a monitor (BecomeMonitor).
            await ReadUntilAsync(monitor, line => line.Contains("member=NameLost", StringComparison.Ordinal), "dbus-monitor did not start monitoring.");

            Process keyring = Start("gnome-keyring-daemon", ["--foreground", .. unlocked ? new[] { "--unlock" } : [], "--components=secrets"], new()
            {
                ["DBUS_SESSION_BUS_ADDRESS"] = address,
                ["HOME"] = Path.Combine(root, "home"),
                ["XDG_DATA_HOME"] = Path.Combine(root, "data"),
                ["XDG_RUNTIME_DIR"] = Path.Combine(root, "run"),
                ["DISPLAY"] = null,
            });
            keyring.OutputDataReceived += (_, _) => { };
            keyring.ErrorDataReceived += (_, _) => { };
            keyring.BeginOutputReadLine();
            keyring.BeginErrorReadLine();
            if (unlocked)
            {
                await keyring.StandardInput.WriteAsync("test-keyring-password");
            }

            keyring.StandardInput.Close();

            // NameOwnerChanged("org.freedesktop.secrets", old owner "", new owner ":1.N").
            await ReadUntilAsync(monitor, line => line.Trim() == "string \"org.freedesktop.secrets\"", "gnome-keyring-daemon did not register the Secret Service.");
            await ReadUntilAsync(monitor, line => line.Trim() == "string \"\"", "an unexpected NameOwnerChanged signal");
            await ReadUntilAsync(monitor, line => line.Trim().StartsWith("string \":", StringComparison.Ordinal), "an unexpected NameOwnerChanged signal");
            return new KeyringSession(bus, keyring, root, address);
        }
        finally
        {
            monitor.Kill();
            await monitor.WaitForExitAsync();
        }
    }

    /// <summary>Runs <c>secret-tool search</c> for the sidecar's items and counts them.</summary>
    public async Task<int> CountItemsAsync() =>
        (await this.SearchAsync()).Split('\n').Count(l => l.StartsWith("[/", StringComparison.Ordinal));

    /// <summary>Runs <c>secret-tool search --all</c> for the sidecar's items: their attributes and secrets, as text.</summary>
    public async Task<string> SearchAsync()
    {
        var info = new ProcessStartInfo("secret-tool") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "search", "--all", "service", "oauth-sidecar" })
        {
            info.ArgumentList.Add(a);
        }

        foreach ((string key, string? value) in this.Environment)
        {
            info.Environment[key] = value;
        }

        using Process process = Process.Start(info)!;
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    private static Process Start(string file, string[] arguments, Dictionary<string, string?>? environment)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        foreach ((string key, string? value) in environment ?? [])
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        return Process.Start(info) ?? throw new InvalidOperationException(file + " could not be started.");
    }

    // Reads the process's stdout line by line until one matches; 20 s is a hang guard.
    private static async Task ReadUntilAsync(Process process, Func<string, bool> match, string failure)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await process.StandardOutput.ReadLineAsync(bound.Token) is { } line)
        {
            if (match(line))
            {
                return;
            }
        }

        throw new InvalidOperationException(failure);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Process p in new[] { this.keyring, this.bus })
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }
    }
}
