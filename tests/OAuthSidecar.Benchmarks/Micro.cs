using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Benchmarks;

/// <summary>In-process parts: PKCE, parsing an authorization response, routing a callback to its flow among many.</summary>
[MemoryDiagnoser]
public class Micro
{
    private const string Url = "http://127.0.0.1:53593/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fidp.example%2F";
    private LoopbackListener listener = null!;
    private HttpClient http = null!;
    private string wrongStateUrl = string.Empty;

    [Params(10, 10_000)]
    public int Flows { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        this.listener = await LoopbackListener.StartAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
        for (int i = 0; i < this.Flows; i++)
        {
            this.listener.Attach(new Target("/callback", "state-" + i));
        }

        this.http = new HttpClient();
        this.wrongStateUrl = $"http://127.0.0.1:{this.listener.Port}/callback?code=c&state=no-such-state";
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        this.http.Dispose();
        await this.listener.DisposeAsync();
    }

    [Benchmark]
    public string PkceVerifierAndChallenge() => Pkce.CreateCodeChallenge(Pkce.CreateCodeVerifier());

    [Benchmark]
    public int ParseRedirectUrl() => AuthorizationResponse.Parse(Url).Count;

    [Benchmark]
    public async Task<HttpStatusCode> RouteACallbackAmongFlows()
    {
        using HttpResponseMessage response = await this.http.GetAsync(this.wrongStateUrl);
        return response.StatusCode;
    }

    private sealed class Target(string path, string state) : ICallbackTarget
    {
        public string Path { get; } = path;

        public string? State { get; } = state;

        public CallbackPages Pages => CallbackPages.Default;

        public CallbackResult? Result => null;

        public bool TryComplete(CallbackResult result) => false;
    }
}
