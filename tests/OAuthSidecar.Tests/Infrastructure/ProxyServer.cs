using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>The forward proxy of tests/idp (proxy.mjs): counts what passes through, injects faults on request.</summary>
public sealed class ProxyServer : IAsyncDisposable
{
    private readonly Process process;

    private ProxyServer(Process process, string url)
    {
        this.process = process;
        this.Url = url;
    }

    public string Url { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<ProxyServer> StartAsync()
    {
        var info = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(RepoPaths.Root, "tests", "idp", "proxy.mjs"));
        Process process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        string line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("The proxy did not start.");
        return new ProxyServer(process, JsonNode.Parse(line)!["proxy"]!.GetValue<string>());
    }

    public async Task<JsonObject> StatsAsync() => (await this.Http.GetFromJsonAsync<JsonObject>(this.Url + "/__proxy/stats"))!;

    public async Task FaultAsync(JsonObject fault)
    {
        using HttpResponseMessage response = await this.Http.PostAsync(this.Url + "/__proxy/faults", new StringContent(fault.ToJsonString(), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        this.process.StandardInput.Close();
        try
        {
            await this.process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        }
        catch (OperationCanceledException)
        {
            this.process.Kill(entireProcessTree: true);
        }

        this.process.Dispose();
        this.Http.Dispose();
    }
}
