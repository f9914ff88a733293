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

    public static bool Available => File.Exists("/usr/bin/gnome-keyring-daemon") && File.Exists("/usr/bin/dbus-daemon");

    /// <summary>Starts a bus and a keyring daemon; <paramref name="unlocked"/> creates and unlocks the login keyring.</summary>
    /// <param name="unlocked">Unlock (and create) the login keyring with a password.</param>
    /// <param name="root">Reuse the directories of an earlier session (its keyring file), or <see langword="null"/> for new ones.</param>
    public static async Task<KeyringSession> StartAsync(bool unlocked = true, string? root = null)
    {
        root ??= Directory.CreateTempSubdirectory("keyring-session").FullName;
        foreach (string sub in new[] { "home", "data", "run", "sidecar" })
        {
            Directory.CreateDirectory(Path.Combine(root, sub));
        }

        File.SetUnixFileMode(Path.Combine(root, "run"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string socket = Path.Combine(root, "run", "bus");
        File.Delete(socket);
        var busInfo = new ProcessStartInfo("dbus-daemon") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "--session", "--nofork", "--print-address=1", "--address=unix:path=" + socket })
        {
            busInfo.ArgumentList.Add(a);
        }

        Process bus = Process.Start(busInfo)!;
        bus.ErrorDataReceived += (_, _) => { };
        bus.BeginErrorReadLine();
        string address = await bus.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)) ?? throw new InvalidOperationException("dbus-daemon did not start.");

        var keyringInfo = new ProcessStartInfo("gnome-keyring-daemon") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        keyringInfo.ArgumentList.Add("--foreground");
        if (unlocked)
        {
            keyringInfo.ArgumentList.Add("--unlock");
        }

        keyringInfo.ArgumentList.Add("--components=secrets");
        keyringInfo.Environment["DBUS_SESSION_BUS_ADDRESS"] = address;
        keyringInfo.Environment["HOME"] = Path.Combine(root, "home");
        keyringInfo.Environment["XDG_DATA_HOME"] = Path.Combine(root, "data");
        keyringInfo.Environment["XDG_RUNTIME_DIR"] = Path.Combine(root, "run");
        keyringInfo.Environment.Remove("DISPLAY");
        Process keyring = Process.Start(keyringInfo)!;
        keyring.OutputDataReceived += (_, _) => { };
        keyring.ErrorDataReceived += (_, _) => { };
        keyring.BeginOutputReadLine();
        keyring.BeginErrorReadLine();
        if (unlocked)
        {
            await keyring.StandardInput.WriteAsync("test-keyring-password");
        }

        keyring.StandardInput.Close();

        // Wait until the daemon owns the Secret Service name on the bus.
        for (int i = 0; i < 100; i++)
        {
            var check = new ProcessStartInfo("dbus-send") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets" })
            {
                check.ArgumentList.Add(a);
            }

            check.Environment["DBUS_SESSION_BUS_ADDRESS"] = address;
            using Process probe = Process.Start(check)!;
            string reply = await probe.StandardOutput.ReadToEndAsync();
            await probe.WaitForExitAsync();
            if (reply.Contains("boolean true", StringComparison.Ordinal))
            {
                await Task.Delay(200);
                return new KeyringSession(bus, keyring, root, address);
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("gnome-keyring-daemon did not register the Secret Service.");
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
