using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>
/// One <c>node tests/idp/pool.mjs</c> per test run, started on first use, that starts the test providers, emulators
/// and forward proxies the tests ask for: each is a fresh instance on its own port, exactly what its own
/// <c>server.mjs</c> / <c>proxy.mjs</c> process would be, without a Node start-up (about 0.7 s of CPU) per test.
/// It dies with the test process (its stdin closes).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per test run; it lives as long as the test process.")]
internal sealed class TestServerPool
{
    private static readonly Lazy<Task<TestServerPool>> Instance = new(StartAsync);
    private readonly StringBuilder stderr;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly string url;

    // Held for the whole run: the pool exits when its stdin closes, which a collected Process would do.
    private readonly Process process;

    private TestServerPool(Process process, string url, StringBuilder stderr)
    {
        this.process = process;
        this.url = url;
        this.stderr = stderr;
    }

    /// <summary>Gets the pool of this test run.</summary>
    public static Task<TestServerPool> Shared => Instance.Value;

    /// <summary>Gets what the pool and every instance in it wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (this.stderr)
            {
                return this.stderr.ToString();
            }
        }
    }

    /// <summary>Starts an instance: <paramref name="kind"/> <c>idp</c> (server.mjs's options) or <c>proxy</c> (proxy.mjs's); returns its id and the line its own process would print.</summary>
    public async Task<(int Id, JsonObject Ready)> StartAsync(string kind, IEnumerable<string> arguments)
    {
        var body = new JsonObject { ["args"] = new JsonArray(arguments.Select(a => (JsonNode)JsonValue.Create(a)).ToArray()) };
        using HttpResponseMessage response = await this.http.PostAsync($"{this.url}/{kind}", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The test server pool could not start {kind} {string.Join(' ', arguments)}: HTTP {(int)response.StatusCode} {text}\n{this.Stderr}");
        }

        JsonObject ready = JsonNode.Parse(text)!.AsObject();
        int id = ready["id"]!.GetValue<int>();
        ready.Remove("id");
        return (id, ready);
    }

    /// <summary>Closes instance <paramref name="id"/> (its server and connections).</summary>
    public async Task StopAsync(int id)
    {
        using HttpResponseMessage response = await this.http.DeleteAsync($"{this.url}/instances/{id}");
        response.EnsureSuccessStatusCode();
    }

    private static async Task<TestServerPool> StartAsync()
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        info.ArgumentList.Add(Path.Combine(RepoPaths.Root, "tests", "idp", "pool.mjs"));
        Process process = Process.Start(info) ?? throw new InvalidOperationException("node could not be started.");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        string? line = null;
        try
        {
            line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
        }

        if (line is null)
        {
            process.Kill(entireProcessTree: true);
            lock (stderr)
            {
                throw new InvalidOperationException("The test server pool (tests/idp/pool.mjs) did not start: " + stderr);
            }
        }

        // The process lives as long as the test run: its stdin is closed when this process exits.
        var pool = new TestServerPool(process, JsonNode.Parse(line)!["pool"]!.GetValue<string>(), stderr);
        return pool;
    }
}
