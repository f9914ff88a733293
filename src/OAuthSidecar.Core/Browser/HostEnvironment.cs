namespace OAuthSidecar.Core.Browser;

/// <summary>What the environment can be asked: environment variables, small files, programs on <c>PATH</c> (a fake in tests).</summary>
/// <param name="GetVariable">Reads an environment variable, or <see langword="null"/> when it is not set.</param>
/// <param name="FileExists">Tells whether a file exists.</param>
/// <param name="ReadFile">Reads a small text file, or <see langword="null"/> when it cannot be read.</param>
/// <param name="OnPath">Tells whether a program of that name is on <c>PATH</c>.</param>
/// <param name="Platform">The operating system: <c>linux</c>, <c>macos</c>, <c>windows</c> or <c>freebsd</c>.</param>
public sealed record EnvironmentProbe(Func<string, string?> GetVariable, Func<string, bool> FileExists, Func<string, string?> ReadFile, Func<string, bool> OnPath, string Platform)
{
    /// <summary>Gets the probe of this process: its environment variables, its file system and its <c>PATH</c>.</summary>
    public static EnvironmentProbe Real { get; } = new(
        Environment.GetEnvironmentVariable,
        File.Exists,
        static path =>
        {
            try
            {
                return File.Exists(path) ? File.ReadAllText(path) : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        },
        static name => IsOnPath(name, Environment.GetEnvironmentVariable("PATH")),
        OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "macos" : OperatingSystem.IsFreeBSD() ? "freebsd" : "linux");

    /// <summary>Tells whether an executable file named <paramref name="name"/> is in one of the folders of <paramref name="path"/>.</summary>
    /// <param name="name">The program's name.</param>
    /// <param name="path">The <c>PATH</c> value, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when it is found.</returns>
    public static bool IsOnPath(string name, string? path)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        string[] suffixes = OperatingSystem.IsWindows() ? ["", ".exe", ".cmd", ".bat"] : [""];
        foreach (string folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string suffix in suffixes)
            {
                try
                {
                    string candidate = Path.Combine(folder, name + suffix);
                    if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
                    {
                        return true;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    // An unreadable or malformed PATH entry: skip it.
                }
            }
        }

        return false;
    }
}

/// <summary>
/// Where the sidecar runs, detected once, when first asked (not at start-up: a process that never needs it reads no
/// file and searches no <c>PATH</c>): a remote session (SSH, Codespaces, a VS Code remote, Gitpod, Cloud Shell),
/// WSL, a container, a desktop session; and from that, whether a browser that reaches this machine's loopback address
/// can be opened here (<see cref="CanOpenBrowser"/>) and why not (<see cref="BrowserUnavailableReason"/>). The
/// <c>initialize</c> result reports it, and <c>getCredentials</c>' <c>auto</c> chain decides by it.
/// </summary>
/// <remarks>
/// Signals: <c>SSH_CONNECTION</c>, <c>SSH_CLIENT</c>, <c>SSH_TTY</c> (OpenSSH); <c>CODESPACES=true</c> (GitHub
/// Codespaces); <c>REMOTE_CONTAINERS=true</c>, <c>VSCODE_REMOTE_CONTAINERS_SESSION</c> and a <c>BROWSER</c> helper under
/// <c>.vscode-server</c> (VS Code remotes); <c>GITPOD_WORKSPACE_ID</c>; <c>CLOUD_SHELL=true</c> (Google Cloud Shell);
/// <c>WSL_DISTRO_NAME</c>, <c>WSL_INTEROP</c> and "microsoft" in <c>/proc/sys/kernel/osrelease</c> or
/// <c>/proc/version</c> (WSL); <c>/.dockerenv</c>, <c>/run/.containerenv</c>, <c>KUBERNETES_SERVICE_HOST</c> and the
/// cgroup of process 1 (containers); <c>DISPLAY</c> and <c>WAYLAND_DISPLAY</c> (a desktop, or X forwarding over SSH);
/// <c>wslview</c>, <c>powershell.exe</c>, <c>cmd.exe</c>, <c>xdg-open</c>, <c>gnome-open</c>, <c>kfmclient</c> on
/// <c>PATH</c> (launchers).
/// </remarks>
public sealed class HostEnvironment
{
    private static readonly string[] LinuxLaunchers = ["xdg-open", "gnome-open", "kfmclient", "wslview"];

    private readonly EnvironmentProbe probe;
    private readonly Lazy<Detection> detection;

    /// <summary>Initializes a new instance of the <see cref="HostEnvironment"/> class; the environment is detected when a property is first read.</summary>
    /// <param name="probe">What to ask; <see cref="EnvironmentProbe.Real"/> when <see langword="null"/>.</param>
    public HostEnvironment(EnvironmentProbe? probe = null)
    {
        this.probe = probe ?? EnvironmentProbe.Real;
        this.detection = new Lazy<Detection>(this.Detect);
    }

    /// <summary>Gets the environment of this process, detected on first use.</summary>
    public static HostEnvironment Current => field ??= new HostEnvironment();

    /// <summary>Gets a value indicating whether this is a remote session: the user's browser is on another machine.</summary>
    public bool Remote => this.RemoteKind is not null;

    /// <summary>Gets what kind of remote session this is (<c>an SSH session</c>, <c>a GitHub Codespace</c>, …), or <see langword="null"/>.</summary>
    public string? RemoteKind => this.detection.Value.RemoteKind;

    /// <summary>Gets a value indicating whether this runs under WSL (Windows Subsystem for Linux).</summary>
    public bool Wsl => this.detection.Value.Wsl;

    /// <summary>Gets a value indicating whether this runs inside a container, where 127.0.0.1 is not the host's.</summary>
    public bool Container => this.detection.Value.Container;

    /// <summary>Gets a value indicating whether a display can show a browser (macOS, Windows, a Linux desktop, WSL's bridge).</summary>
    public bool HasDisplay => this.NoDisplayReason is null;

    /// <summary>
    /// Gets the reason no browser can be launched at all, or <see langword="null"/> when one can: on Linux neither
    /// <c>DISPLAY</c>, <c>WAYLAND_DISPLAY</c> nor <c>BROWSER</c> is set outside WSL (an SSH session without X forwarding
    /// has none of them).
    /// </summary>
    public string? NoDisplayReason => this.detection.Value.NoDisplayReason;

    /// <summary>Gets a value indicating whether a browser that reaches this machine's loopback address can be opened here.</summary>
    public bool CanOpenBrowser => this.BrowserUnavailableReason is null;

    /// <summary>Gets why <see cref="CanOpenBrowser"/> is <see langword="false"/> (a clause: "this is an SSH session …"), or <see langword="null"/>.</summary>
    public string? BrowserUnavailableReason => this.detection.Value.BrowserUnavailableReason;

    private bool IsLinuxLike => this.probe.Platform is "linux" or "freebsd";

    private string? Variable(string name) => this.probe.GetVariable(name) is { Length: > 0 } value ? value : null;

    private bool Contains(string file, params string[] words) =>
        this.probe.ReadFile(file) is { } text && words.Any(w => text.Contains(w, StringComparison.OrdinalIgnoreCase));

    private Detection Detect()
    {
        bool wsl = this.DetectWsl();
        bool container = !wsl && this.DetectContainer();
        string? remote = this.DetectRemote();
        string? noDisplay = this.DetectNoDisplay(wsl, remote);
        return new Detection(wsl, container, remote, noDisplay, this.DetectBrowserUnavailable(wsl, container, remote, noDisplay));
    }

    private bool DetectWsl() =>
        this.probe.Platform == "linux"
        && (this.Variable("WSL_DISTRO_NAME") is not null
            || this.Variable("WSL_INTEROP") is not null
            || this.Contains("/proc/sys/kernel/osrelease", "microsoft", "wsl")
            || this.Contains("/proc/version", "microsoft"));

    private bool DetectContainer() =>
        this.IsLinuxLike
        && (this.probe.FileExists("/.dockerenv")
            || this.probe.FileExists("/run/.containerenv")
            || this.Variable("KUBERNETES_SERVICE_HOST") is not null
            || (this.probe.ReadFile("/proc/1/cgroup") is { } cgroup
                && (cgroup.Contains("docker", StringComparison.Ordinal) || cgroup.Contains("kubepods", StringComparison.Ordinal) || cgroup.Contains("containerd", StringComparison.Ordinal) || cgroup.Contains("libpod", StringComparison.Ordinal))));

    private string? DetectRemote()
    {
        if (string.Equals(this.Variable("CODESPACES"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return "a GitHub Codespace";
        }

        if (string.Equals(this.Variable("REMOTE_CONTAINERS"), "true", StringComparison.OrdinalIgnoreCase) || this.Variable("VSCODE_REMOTE_CONTAINERS_SESSION") is not null)
        {
            return "a VS Code dev container";
        }

        if (this.Variable("BROWSER") is { } browser && (browser.Contains(".vscode-server", StringComparison.Ordinal) || browser.Contains(".vscode-remote", StringComparison.Ordinal)))
        {
            return "a VS Code remote session";
        }

        if (this.Variable("GITPOD_WORKSPACE_ID") is not null)
        {
            return "a Gitpod workspace";
        }

        if (string.Equals(this.Variable("CLOUD_SHELL"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return "Google Cloud Shell";
        }

        return this.Variable("SSH_CONNECTION") is not null || this.Variable("SSH_CLIENT") is not null || this.Variable("SSH_TTY") is not null
            ? "an SSH session"
            : null;
    }

    private string? DetectNoDisplay(bool wsl, string? remoteKind)
    {
        if (this.Variable("BROWSER") is not null || !this.IsLinuxLike || wsl)
        {
            return null;
        }

        if (this.Variable("DISPLAY") is not null || this.Variable("WAYLAND_DISPLAY") is not null)
        {
            return null;
        }

        return remoteKind == "an SSH session"
            ? "this is an SSH session without a forwarded display"
            : "there is no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set)";
    }

    private string? DetectBrowserUnavailable(bool wsl, bool container, string? remoteKind, string? noDisplayReason)
    {
        bool display = this.Variable("DISPLAY") is not null || this.Variable("WAYLAND_DISPLAY") is not null;
        if (remoteKind is { } remote && !(remote == "an SSH session" && display))
        {
            // With X forwarding the browser runs here and reaches the loopback address; otherwise it opens (if at all)
            // on the user's own machine, whose 127.0.0.1 is not this one's.
            return $"this is {remote}: a browser on your own machine cannot reach this machine's loopback address";
        }

        if (wsl)
        {
            return this.Variable("BROWSER") is not null || display || this.probe.OnPath("wslview") || this.probe.OnPath("powershell.exe") || this.probe.OnPath("cmd.exe")
                ? null
                : "this is WSL without a browser bridge (neither wslview, powershell.exe nor cmd.exe is on PATH, and there is no display)";
        }

        if (container && !display && this.Variable("BROWSER") is null)
        {
            return "this runs inside a container: its 127.0.0.1 is not the host's, and there is no display";
        }

        if (noDisplayReason is { } noDisplay)
        {
            return noDisplay;
        }

        if (this.IsLinuxLike && this.Variable("BROWSER") is null && !LinuxLaunchers.Any(this.probe.OnPath))
        {
            return "no browser launcher is installed (none of xdg-open, gnome-open, kfmclient, wslview is on PATH, and BROWSER is not set)";
        }

        return null;
    }

    private sealed record Detection(bool Wsl, bool Container, string? RemoteKind, string? NoDisplayReason, string? BrowserUnavailableReason);
}
