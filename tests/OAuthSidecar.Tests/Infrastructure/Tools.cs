using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>Real clients the loopback server is tested with: curl and headless Chromium.</summary>
public static class Tools
{
    /// <summary>Runs a program to its end and returns its exit code and output.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in time.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>curl with the given arguments; returns (exit code, body, stderr). Skips the test without curl (fails it in CI).</summary>
    public static Task<(int Code, string Stdout, string Stderr)> CurlAsync(params string[] arguments) =>
        RunAsync(Requires.Tool("a real HTTP client of the loopback server", "curl"), ["--silent", "--show-error", "--max-time", "20", .. arguments]);

    /// <summary>
    /// Headless Chromium (Debian's) loads a URL, runs its scripts for up to 5 s of virtual time, and returns the DOM.
    /// Skips the test when Chromium is not installed (fails it in CI, which installs it).
    /// </summary>
    public static async Task<string> ChromiumDumpDomAsync(string url)
    {
        string chromium = Requires.Tool("a real browser that runs the fragment bridge page's script", "chromium", "chromium-browser");
        string profile = TestTemp.CreateDirectory("chromium-profile").FullName;
        try
        {
            (int code, string stdout, string stderr) = await RunAsync(chromium, [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom", url,
            ], TimeSpan.FromSeconds(90));
            Assert.True(code == 0, $"chromium exited with {code}: {stderr}");
            return stdout;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>A port that was free a moment ago (tests of fixed ports only; the product never probes).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
