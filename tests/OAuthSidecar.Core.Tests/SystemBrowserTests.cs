using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Browser;

namespace OAuthSidecar.Core.Tests;

public sealed class SystemBrowserTests : IDisposable
{
    private const string Url = "http://127.0.0.1:5000/authorize?client_id=app&state=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb";

    private readonly string dir = TestTemp.CreateDirectory("oauth-sidecar-browser-").FullName;

    public void Dispose() => Directory.Delete(this.dir, recursive: true);

    [Fact]
    public void Without_a_display_on_Linux_nothing_is_launched()
    {
        SkipUnlessLinux();

        var browser = Browser(new Dictionary<string, string>());

        BrowserLaunch launch = browser.Open(Url, NullLogger.Instance);

        Assert.False(launch.Launched);
        Assert.NotNull(launch.Advice);
        Assert.Contains(Url, launch.Advice, StringComparison.Ordinal);
        Assert.Contains("DISPLAY", launch.Advice, StringComparison.Ordinal);
        Assert.DoesNotContain("container", launch.Advice, StringComparison.Ordinal);
        Assert.NotNull(browser.NoDisplayReason);
    }

    [Fact]
    public void Over_SSH_the_advice_mentions_SSH()
    {
        SkipUnlessLinux();

        var browser = Browser(new Dictionary<string, string> { ["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22" });

        BrowserLaunch launch = browser.Open(Url, NullLogger.Instance);

        Assert.False(launch.Launched);
        Assert.Contains("SSH", launch.Advice, StringComparison.Ordinal);
        Assert.Contains(Url, launch.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void In_a_container_the_advice_mentions_publishing_the_port()
    {
        SkipUnlessLinux();

        var browser = Browser(new Dictionary<string, string>(), files: new Dictionary<string, string> { ["/.dockerenv"] = string.Empty });

        BrowserLaunch launch = browser.Open(Url, NullLogger.Instance);

        Assert.True(browser.InContainer);
        Assert.False(launch.Launched);
        Assert.Contains("publish the callback port", launch.Advice, StringComparison.Ordinal);
        Assert.Contains(Url, launch.Advice, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12:memory:/docker/abcdef", true)]
    [InlineData("0::/kubepods/besteffort/pod1", true)]
    [InlineData("0::/init.scope", false)]
    public void InContainer_reads_the_cgroup_of_process_1(string cgroup, bool expected)
    {
        var browser = Browser(new Dictionary<string, string>(), files: new Dictionary<string, string> { ["/proc/1/cgroup"] = cgroup });

        Assert.Equal(expected, browser.InContainer);
    }

    [Fact]
    public void A_display_or_WSL_means_a_browser_can_be_shown()
    {
        SkipUnlessLinux();

        Assert.Null(Browser(new Dictionary<string, string> { ["DISPLAY"] = ":0" }).NoDisplayReason);
        Assert.Null(Browser(new Dictionary<string, string> { ["WAYLAND_DISPLAY"] = "wayland-0" }).NoDisplayReason);
        Assert.Null(Browser(new Dictionary<string, string> { ["WSL_DISTRO_NAME"] = "Ubuntu" }).NoDisplayReason);
        Assert.True(Browser(new Dictionary<string, string>(), files: new Dictionary<string, string> { ["/proc/version"] = "Linux version 5.15 (microsoft-standard-WSL2)" }).InWsl);
    }

    [Fact]
    public async Task BROWSER_is_launched_with_the_url_and_its_output_is_swallowed()
    {
        SkipUnlessUnix();

        string record = Path.Combine(this.dir, "argument.txt");
        string script = this.WriteScript(record);
        Task<string> recorded = WhenWrittenAsync(record);
        var browser = Browser(new Dictionary<string, string> { ["BROWSER"] = script });

        BrowserLaunch launch = browser.Open(Url, NullLogger.Instance);

        Assert.True(launch.Launched);
        Assert.Null(launch.Advice);
        AssertForwardsToUrl(await recorded);
    }

    [Fact]
    public async Task BROWSER_with_a_placeholder_gets_the_url_in_its_place()
    {
        SkipUnlessUnix();

        string record = Path.Combine(this.dir, "argument.txt");
        string script = this.WriteScript(record);
        Task<string> recorded = WhenWrittenAsync(record);
        var browser = Browser(new Dictionary<string, string> { ["BROWSER"] = script + " --new-tab=%s" });

        BrowserLaunch launch = browser.Open(Url, NullLogger.Instance);

        Assert.True(launch.Launched);
        string argument = await recorded;
        Assert.StartsWith("--new-tab=", argument, StringComparison.Ordinal);
        AssertForwardsToUrl(argument["--new-tab=".Length..]);
    }

    [Fact]
    public async Task A_missing_BROWSER_command_falls_through_to_the_next_one()
    {
        SkipUnlessUnix();

        string record = Path.Combine(this.dir, "argument.txt");
        string script = this.WriteScript(record);
        Task<string> recorded = WhenWrittenAsync(record);
        string missing = Path.Combine(this.dir, "no-such-browser");
        var browser = Browser(new Dictionary<string, string> { ["BROWSER"] = missing + Path.PathSeparator + script });

        BrowserLaunch launch = browser.Open(Url, NullLogger.Instance);

        Assert.True(launch.Launched);
        AssertForwardsToUrl(await recorded);
    }

    private static SystemBrowser Browser(Dictionary<string, string> environment, Dictionary<string, string>? files = null)
    {
        files ??= [];
        return new SystemBrowser(
            name => environment.TryGetValue(name, out string? value) ? value : null,
            path => files.ContainsKey(path),
            path => files.TryGetValue(path, out string? content) ? content : null);
    }

    // A fake browser: prints garbage on stdout and stderr, and records its first argument (atomically) to a file.
    private string WriteScript(string record)
    {
        string script = Path.Combine(this.dir, "fake-browser.sh");
        File.WriteAllText(script, $"""
            #!/bin/sh
            echo GARBAGE
            echo GARBAGE >&2
            printf '%s' "$1" > '{record}.tmp'
            mv '{record}.tmp' '{record}'

            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return script;
    }

    // The launcher gets the path of a private page that forwards to the URL, never the URL (other users read command lines).
    private static void AssertForwardsToUrl(string argument)
    {
        Assert.DoesNotContain("state=", argument, StringComparison.Ordinal);
        Assert.True(File.Exists(argument), $"the launcher got '{argument}', not a page");
        Assert.Contains(System.Net.WebUtility.HtmlEncode(Url), File.ReadAllText(argument), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(argument));
    }

    private static void SkipUnlessLinux() =>
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The DISPLAY / SSH / container checks apply to Linux (and FreeBSD) only.");

    private static void SkipUnlessUnix() =>
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "The fake browser is a POSIX shell script.");

    // The fake browser renames its record into place; a FileSystemWatcher (inotify, FSEvents) reports the rename.
    // Started before the browser is launched, so the event cannot be missed.
    private static Task<string> WhenWrittenAsync(string path)
    {
        var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path)) { NotifyFilter = NotifyFilters.FileName };
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Renamed += (_, _) => written.TrySetResult();
        watcher.Created += (_, _) => written.TrySetResult();
        watcher.EnableRaisingEvents = true;
        return ReadAsync();

        async Task<string> ReadAsync()
        {
            using (watcher)
            {
                Task done = await Task.WhenAny(written.Task, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
                Assert.True(done == written.Task, "the fake browser did not record its argument (a hang guard of 30 s)");
            }

            return await File.ReadAllTextAsync(path).ConfigureAwait(false);
        }
    }
}

/// <summary>The forwarding pages: private, escaped, deleted after their lifetime and at dispose.</summary>
public sealed class LaunchPagesTests
{
    [Fact]
    public void A_page_forwards_to_the_url_escaped_and_is_private()
    {
        string parent = TestTemp.CreateDirectory("pages").FullName;
        using var pages = new LaunchPages(parent: parent);
        const string Url = "https://idp.example/auth?a=1&state=\"><script>alert(1)</script>&x='";
        string path = pages.Create(Url);

        string html = File.ReadAllText(path);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(Url), html, StringComparison.Ordinal);
        Assert.Contains("location.replace(\"https://idp.example/auth?a=1\\u0026state=\\u0022\\u003E\\u003Cscript\\u003E", html, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(pages.Folder!));
        }
    }

    [Fact]
    public void Pages_are_deleted_after_their_lifetime_and_the_folder_at_dispose()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var pages = new LaunchPages(clock, TestTemp.CreateDirectory("pages").FullName);
        string first = pages.Create("https://idp.example/auth?x=1");
        clock.Advance(LaunchPages.Lifetime);
        Assert.False(File.Exists(first));

        string second = pages.Create("https://idp.example/auth?x=2");
        pages.Dispose();
        Assert.False(File.Exists(second));
        Assert.False(Directory.Exists(pages.Folder));
    }
}
