using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace OAuthSidecar.Core.Browser;

/// <summary>The outcome of trying to open the system browser.</summary>
/// <param name="Launched">Whether a browser process was started.</param>
/// <param name="Advice">When nothing was launched: why, and what the user can do (open the URL by hand, publish the port).</param>
/// <param name="Reason">When nothing was launched: why, as a clause ("there is no desktop session …"), for a sign-in chain's log of skipped steps.</param>
public readonly record struct BrowserLaunch(bool Launched, string? Advice, string? Reason = null);

/// <summary>
/// Opens a URL in the user's browser: <c>$BROWSER</c> (VS Code remote sets it), <c>xdg-open</c> / <c>gnome-open</c> /
/// <c>kfmclient</c> on Linux, <c>wslview</c> or <c>powershell.exe Start-Process</c> on WSL, <c>open</c> on macOS and
/// the shell on Windows. The child's stdin, stdout and stderr are redirected and drained: a browser that writes to
/// stdout would corrupt the JSON-RPC stream. Without a desktop session nothing is launched.
/// </summary>
/// <remarks>
/// No launcher ever gets the authorization URL on its command line (other local users can read command lines):
/// it gets the path of a private page that forwards to the URL (<see cref="LaunchPages"/>).
/// </remarks>
public sealed class SystemBrowser : IDisposable
{
    private readonly Func<string, string?> getEnvironment;
    private readonly LaunchPages pages;

    /// <summary>Initializes a new instance of the <see cref="SystemBrowser"/> class that reads the real environment.</summary>
    public SystemBrowser()
        : this(HostEnvironment.Current, System.Environment.GetEnvironmentVariable)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SystemBrowser"/> class with a given environment (tests).</summary>
    /// <param name="getEnvironment">Reads an environment variable.</param>
    /// <param name="fileExists">Tells whether a file exists.</param>
    /// <param name="readFile">Reads a small file, or <see langword="null"/>.</param>
    /// <param name="pages">Where the forwarding pages are written; a new <see cref="LaunchPages"/> when <see langword="null"/>.</param>
    public SystemBrowser(Func<string, string?> getEnvironment, Func<string, bool> fileExists, Func<string, string?> readFile, LaunchPages? pages = null)
        : this(new HostEnvironment(EnvironmentProbe.Real with { GetVariable = getEnvironment, FileExists = fileExists, ReadFile = readFile }), getEnvironment, pages)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="SystemBrowser"/> class for a detected environment.</summary>
    /// <param name="environment">Where this runs.</param>
    /// <param name="getEnvironment">Reads an environment variable (<c>BROWSER</c>).</param>
    /// <param name="pages">Where the forwarding pages are written; a new <see cref="LaunchPages"/> when <see langword="null"/>.</param>
    public SystemBrowser(HostEnvironment environment, Func<string, string?> getEnvironment, LaunchPages? pages = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(getEnvironment);
        this.Environment = environment;
        this.getEnvironment = getEnvironment;
        this.pages = pages ?? new LaunchPages();
    }

    /// <summary>Gets where this runs (remote, WSL, container, display).</summary>
    public HostEnvironment Environment { get; }

    /// <summary>Gets where the forwarding pages are written.</summary>
    public LaunchPages Pages => this.pages;

    /// <summary>Gets a value indicating whether this runs inside a container (<c>/.dockerenv</c> or <c>/proc/1/cgroup</c>), where 127.0.0.1 is not the host's.</summary>
    public bool InContainer => this.Environment.Container;

    /// <summary>Gets a value indicating whether this runs under WSL.</summary>
    public bool InWsl => this.Environment.Wsl;

    /// <summary>
    /// Gets the reason no browser can be shown, or <see langword="null"/> when a desktop session is available:
    /// on Linux neither <c>DISPLAY</c> nor <c>WAYLAND_DISPLAY</c> (an SSH session without X forwarding has neither).
    /// </summary>
    public string? NoDisplayReason => this.Environment.NoDisplayReason;

    /// <summary>Tries to open <paramref name="url"/>.</summary>
    /// <param name="url">The authorization request URI.</param>
    /// <param name="logger">Where the child's failures are reported.</param>
    /// <returns>Whether a browser was launched, or advice for the user.</returns>
    public BrowserLaunch Open(string url, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(logger);
        string containerHint = this.InContainer
            ? " This runs inside a container: 127.0.0.1 here is not the host's, so publish the callback port on the host's 127.0.0.1 (docker run -p 127.0.0.1:PORT:PORT) and use allowNonLoopback with host 0.0.0.0."
            : string.Empty;
        if (this.NoDisplayReason is { } reason)
        {
            return new BrowserLaunch(false, $"No browser was opened because {reason}. Open this URL in a browser on a machine that can reach this one's loopback address: {url}{containerHint}", reason);
        }

        string page;
        try
        {
            page = this.pages.Create(url);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new BrowserLaunch(false, $"No browser was opened: the private sign-in page could not be written in {this.pages.Parent} ({ex.Message}). Open this URL in a browser yourself: {url}", $"the private sign-in page could not be written in {this.pages.Parent}");
        }

        foreach ((string file, string[] arguments) in this.Candidates(page))
        {
            if (TryStart(file, arguments, logger))
            {
                return new BrowserLaunch(true, null);
            }
        }

        return new BrowserLaunch(false, $"No browser could be launched (tried $BROWSER, xdg-open, gnome-open, kfmclient, wslview, open). Open this URL yourself: {url}{containerHint}", "no browser could be launched (tried $BROWSER, xdg-open, gnome-open, kfmclient, wslview, open)");
    }

    /// <summary>Deletes the forwarding pages.</summary>
    public void Dispose() => this.pages.Dispose();

    // Every candidate opens the forwarding page (a local path), never the authorization URL itself.
    private IEnumerable<(string File, string[] Arguments)> Candidates(string url)
    {
        if (this.getEnvironment("BROWSER") is { Length: > 0 } browser)
        {
            foreach (string command in browser.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                bool placeholder = parts.Any(p => p.Contains("%s", StringComparison.Ordinal));
                string[] args = [.. parts.Skip(1).Select(p => p.Replace("%s", url, StringComparison.Ordinal)), .. placeholder ? Array.Empty<string>() : [url]];
                yield return (parts[0], args);
            }
        }

        if (OperatingSystem.IsMacOS())
        {
            yield return ("open", [url]);
        }
        else if (OperatingSystem.IsWindows())
        {
            yield return ("cmd.exe", ["/c", "start", "\"\"", url.Replace("&", "^&", StringComparison.Ordinal)]);
        }
        else
        {
            if (this.InWsl)
            {
                yield return ("wslview", [url]);
                if (WindowsPathOf(url) is { } windowsPath)
                {
                    yield return ("powershell.exe", ["-NoProfile", "-Command", "Start-Process", $"'{windowsPath.Replace("'", "''", StringComparison.Ordinal)}'"]);
                }
            }

            yield return ("xdg-open", [url]);
            yield return ("gnome-open", [url]);
            yield return ("kfmclient", ["exec", url]);
            yield return ("wslview", [url]);
        }
    }

    // The page's path as Windows sees it (\\wsl.localhost\…), from wslpath; null when that is not possible.
    private static string? WindowsPathOf(string path)
    {
        try
        {
            var info = new ProcessStartInfo("wslpath") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-w");
            info.ArgumentList.Add(path);
            using Process? process = Process.Start(info);
            if (process is null)
            {
                return null;
            }

            string output = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(2000) && process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    private static bool TryStart(string file, string[] arguments, ILogger logger)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            Process? process = Process.Start(info);
            if (process is null)
            {
                return false;
            }

            process.StandardInput.Close();
            _ = DrainAsync(process, logger);
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
        catch (Exception ex) when (ex is InvalidOperationException or PlatformNotSupportedException or IOException)
        {
            logger.LogDebug("Launching {File} failed: {Reason}", file, ex.Message);
            return false;
        }
    }

    // Reads the child's output to its end and throws it away; it never reaches our stdout.
    private static async Task DrainAsync(Process process, ILogger logger)
    {
        using (process)
        {
            try
            {
                Task<string> stdout = process.StandardOutput.ReadToEndAsync();
                Task<string> stderr = process.StandardError.ReadToEndAsync();
                await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
                await process.WaitForExitAsync().ConfigureAwait(false);
                if (process.ExitCode != 0)
                {
                    logger.LogWarning("The browser launcher exited with code {Code}.", process.ExitCode);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                logger.LogDebug("The browser launcher's output could not be read: {Reason}", ex.Message);
            }
        }
    }

    /// <summary>Gets a description of the platform, for diagnostics.</summary>
    /// <returns>The OS description.</returns>
    public static string Platform() => RuntimeInformation.OSDescription;
}
