using OAuthSidecar.Core.Browser;

namespace OAuthSidecar.Core.Tests.SignIn;

/// <summary>Where the sidecar runs, from a played environment: variables, files and programs on PATH.</summary>
public sealed class HostEnvironmentTests
{
    [Fact]
    public void A_Linux_desktop_with_xdg_open_can_open_a_browser()
    {
        HostEnvironment env = Detect(new() { ["DISPLAY"] = ":0" }, programs: ["xdg-open"]);

        Assert.True(env.CanOpenBrowser);
        Assert.Null(env.BrowserUnavailableReason);
        Assert.False(env.Remote);
        Assert.False(env.Wsl);
        Assert.False(env.Container);
    }

    [Fact]
    public void A_desktop_without_any_launcher_cannot()
    {
        HostEnvironment env = Detect(new() { ["WAYLAND_DISPLAY"] = "wayland-0" });

        Assert.False(env.CanOpenBrowser);
        Assert.Contains("xdg-open", env.BrowserUnavailableReason, StringComparison.Ordinal);
        Assert.True(env.HasDisplay);
    }

    [Fact]
    public void No_desktop_session_cannot()
    {
        HostEnvironment env = Detect([], programs: ["xdg-open"]);

        Assert.False(env.CanOpenBrowser);
        Assert.Contains("DISPLAY", env.BrowserUnavailableReason, StringComparison.Ordinal);
        Assert.False(env.HasDisplay);
    }

    [Theory]
    [InlineData("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")]
    [InlineData("SSH_CLIENT", "10.0.0.1 50000 22")]
    [InlineData("SSH_TTY", "/dev/pts/3")]
    public void An_SSH_session_is_remote_and_cannot_open_a_browser_even_with_BROWSER_set(string variable, string value)
    {
        HostEnvironment env = Detect(new() { [variable] = value, ["BROWSER"] = "w3m" }, programs: ["xdg-open"]);

        Assert.True(env.Remote);
        Assert.Equal("an SSH session", env.RemoteKind);
        Assert.False(env.CanOpenBrowser);
        Assert.Contains("SSH session", env.BrowserUnavailableReason, StringComparison.Ordinal);
        Assert.Contains("loopback", env.BrowserUnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public void SSH_with_X_forwarding_runs_the_browser_here_so_it_reaches_the_loopback_server()
    {
        HostEnvironment env = Detect(new() { ["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22", ["DISPLAY"] = "localhost:10.0" }, programs: ["xdg-open"]);

        Assert.True(env.Remote);
        Assert.True(env.CanOpenBrowser);
    }

    [Fact]
    public void SSH_without_a_display_says_so_when_a_launch_is_refused()
    {
        HostEnvironment env = Detect(new() { ["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22" });

        Assert.Equal("this is an SSH session without a forwarded display", env.NoDisplayReason);
    }

    [Theory]
    [InlineData("CODESPACES", "true", "a GitHub Codespace")]
    [InlineData("REMOTE_CONTAINERS", "true", "a VS Code dev container")]
    [InlineData("VSCODE_REMOTE_CONTAINERS_SESSION", "7a1d", "a VS Code dev container")]
    [InlineData("BROWSER", "/home/u/.vscode-server/bin/abc/bin/helpers/browser.sh", "a VS Code remote session")]
    [InlineData("GITPOD_WORKSPACE_ID", "ws-1", "a Gitpod workspace")]
    [InlineData("CLOUD_SHELL", "true", "Google Cloud Shell")]
    public void Cloud_and_editor_remotes_are_remote(string variable, string value, string kind)
    {
        HostEnvironment env = Detect(new() { [variable] = value, ["DISPLAY"] = ":0" }, programs: ["xdg-open"]);

        Assert.True(env.Remote);
        Assert.Equal(kind, env.RemoteKind);
        Assert.False(env.CanOpenBrowser);
        Assert.Contains(kind, env.BrowserUnavailableReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/proc/sys/kernel/osrelease", "5.15.153.1-microsoft-standard-WSL2")]
    [InlineData("/proc/version", "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)")]
    public void WSL_is_read_from_the_kernel_release_and_opens_the_Windows_browser_through_wslview(string file, string content)
    {
        HostEnvironment env = Detect([], files: new() { [file] = content }, programs: ["wslview"]);

        Assert.True(env.Wsl);
        Assert.False(env.Container);
        Assert.True(env.CanOpenBrowser);
    }

    [Fact]
    public void WSL_with_cmd_exe_on_PATH_can_open_a_browser()
    {
        Assert.True(Detect(new() { ["WSL_DISTRO_NAME"] = "Ubuntu" }, programs: ["cmd.exe"]).CanOpenBrowser);
    }

    [Fact]
    public void WSL_without_a_browser_bridge_cannot()
    {
        HostEnvironment env = Detect(new() { ["WSL_INTEROP"] = "/run/WSL/1_interop" });

        Assert.True(env.Wsl);
        Assert.False(env.CanOpenBrowser);
        Assert.Contains("wslview", env.BrowserUnavailableReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/.dockerenv", "")]
    [InlineData("/run/.containerenv", "")]
    [InlineData("/proc/1/cgroup", "12:memory:/docker/abcdef")]
    [InlineData("/proc/1/cgroup", "0::/kubepods/besteffort/pod1")]
    public void A_container_without_a_display_cannot_open_a_browser(string file, string content)
    {
        HostEnvironment env = Detect([], files: new() { [file] = content }, programs: ["xdg-open"]);

        Assert.True(env.Container);
        Assert.False(env.Remote);
        Assert.False(env.CanOpenBrowser);
        Assert.Contains("container", env.BrowserUnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubernetes_is_a_container_and_an_ordinary_cgroup_is_not()
    {
        Assert.True(Detect(new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" }).Container);
        Assert.False(Detect([], files: new() { ["/proc/1/cgroup"] = "0::/init.scope" }).Container);
    }

    [Fact]
    public void A_container_with_a_display_and_a_launcher_runs_the_browser_inside_and_can()
    {
        HostEnvironment env = Detect(new() { ["DISPLAY"] = ":1" }, files: new() { ["/.dockerenv"] = string.Empty }, programs: ["xdg-open"]);

        Assert.True(env.Container);
        Assert.True(env.CanOpenBrowser);
    }

    [Fact]
    public void MacOS_and_Windows_can_open_a_browser_unless_remote()
    {
        Assert.True(Detect([], platform: "macos").CanOpenBrowser);
        Assert.True(Detect([], platform: "windows").CanOpenBrowser);
        Assert.False(Detect(new() { ["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22" }, platform: "macos").CanOpenBrowser);
        Assert.False(Detect([], files: new() { ["/.dockerenv"] = string.Empty }, platform: "macos").Container);
    }

    [Fact]
    public void IsOnPath_finds_executables_only()
    {
        string dir = TestTemp.CreateDirectory("path-").FullName;
        try
        {
            string tool = Path.Combine(dir, "tool");
            File.WriteAllText(tool, "#!/bin/sh\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                Assert.False(EnvironmentProbe.IsOnPath("tool", dir));
                File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Assert.True(EnvironmentProbe.IsOnPath("tool", "/nonexistent" + Path.PathSeparator + dir));
            Assert.False(EnvironmentProbe.IsOnPath("other", dir));
            Assert.False(EnvironmentProbe.IsOnPath("tool", null));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static HostEnvironment Detect(Dictionary<string, string> variables, Dictionary<string, string>? files = null, string[]? programs = null, string platform = "linux")
    {
        files ??= [];
        programs ??= [];
        return new HostEnvironment(new EnvironmentProbe(
            name => variables.TryGetValue(name, out string? value) ? value : null,
            files.ContainsKey,
            path => files.TryGetValue(path, out string? content) ? content : null,
            programs.Contains,
            platform));
    }
}
