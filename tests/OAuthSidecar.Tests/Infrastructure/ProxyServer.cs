using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>
/// The forward proxy of tests/idp (forward-proxy.mjs, what proxy.mjs runs): counts what passes through, injects faults
/// on request. Each is fresh, started by the run's <see cref="TestServerPool"/>.
/// </summary>
public sealed class ProxyServer : IAsyncDisposable
{
    private readonly TestServerPool pool;
    private readonly int id;

    private ProxyServer(TestServerPool pool, int id, string url)
    {
        this.pool = pool;
        this.id = id;
        this.Url = url;
    }

    public string Url { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<ProxyServer> StartAsync()
    {
        TestServerPool pool = await TestServerPool.Shared;
        (int id, JsonObject ready) = await pool.StartAsync("proxy", []);
        return new ProxyServer(pool, id, ready["proxy"]!.GetValue<string>());
    }

    public async Task<JsonObject> StatsAsync() => (await this.Http.GetFromJsonAsync<JsonObject>(this.Url + "/__proxy/stats"))!;

    public async Task FaultAsync(JsonObject fault)
    {
        using HttpResponseMessage response = await this.Http.PostAsync(this.Url + "/__proxy/faults", new StringContent(fault.ToJsonString(), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        this.Http.Dispose();
        await this.pool.StopAsync(this.id);
    }
}
