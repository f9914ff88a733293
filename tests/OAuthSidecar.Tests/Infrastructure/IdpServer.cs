using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Tests.Infrastructure;

/// <summary>
/// A real OpenID provider of tests/idp (oidc-provider 8) on 127.0.0.1 port 0, fresh for the test that starts it (or
/// an emulator, with <see cref="StartProviderAsync"/>), started by the run's <see cref="TestServerPool"/>: the same
/// instance <c>node tests/idp/server.mjs</c> with these options would be, in the pool's one Node process.
/// Its control API plays the user's browser: it fills the login and consent forms and delivers the provider's
/// redirect to the sidecar's loopback server.
/// </summary>
public sealed class IdpServer : IAsyncDisposable
{
    private static readonly Lazy<Task<IdpServer>> SharedInstance = new(() => StartAsync(["--device-interval", "1"]));
    private readonly TestServerPool pool;
    private readonly int id;

    private IdpServer(TestServerPool pool, int id, JsonObject ready)
    {
        this.pool = pool;
        this.id = id;
        this.Ready = ready;
        this.Issuer = ready["issuer"]!.GetValue<string>();
        this.Control = ready["control"]!.GetValue<string>();
        string? caFile = ready["caFile"]?.GetValue<string>();
        this.CaFile = caFile;
        var handler = new HttpClientHandler();
        if (caFile is not null)
        {
            // The TLS mode's certificate is signed by the test CA: trust exactly that CA for the control API.
            var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(caFile);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) =>
            {
                if (certificate is null || chain is null)
                {
                    return false;
                }

                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            };
        }

        this.Http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Gets the test CA's certificate file, in TLS mode.</summary>
    public string? CaFile { get; }

    /// <summary>Gets the startup line as printed (with <c>--provider</c>: <c>authority</c>, <c>clientId</c>, <c>clientSecret</c>, <c>redirectUri</c>).</summary>
    public JsonObject Ready { get; }

    /// <summary>Gets what a client gives as its preset's authority (with <c>--provider</c>).</summary>
    public string Authority => this.Ready["authority"]?.GetValue<string>() ?? this.Issuer;

    /// <summary>Gets the client id registered at the provider (with <c>--provider</c>).</summary>
    public string? ClientId => this.Ready["clientId"]?.GetValue<string>();

    /// <summary>Gets the client secret registered at the provider, if it has one (with <c>--provider</c>).</summary>
    public string? ClientSecret => this.Ready["clientSecret"]?.GetValue<string>();

    /// <summary>Gets the exact redirect URI registered at a provider that pins ports (with <c>--provider</c>).</summary>
    public string? RedirectUri => this.Ready["redirectUri"]?.GetValue<string>();

    /// <summary>Starts <c>tests/idp/server.mjs --provider NAME</c>: an emulator (github, google, entra) or the test provider configured that provider's way (okta, auth0, keycloak, gitlab).</summary>
    public static Task<IdpServer> StartProviderAsync(string provider, params string[] arguments) =>
        StartAsync(["--provider", provider, "--device-interval", "1", .. arguments]);

    /// <summary>Lists the requests an emulator received (method, path, accept, authorization scheme, parameter names).</summary>
    public async Task<JsonArray> RequestsAsync() =>
        (await this.Http.GetFromJsonAsync<JsonObject>(this.Control + "/requests"))!["requests"]!.AsArray();

    /// <summary>Gets the provider shared by every test that does not change its settings (it lives as long as the test run).</summary>
    public static Task<IdpServer> Shared => SharedInstance.Value;

    public string Issuer { get; }

    public string Control { get; }

    public HttpClient Http { get; }

    /// <summary>Starts a fresh provider with <c>server.mjs</c>'s options (e.g. <c>--dpop</c>, <c>--access-token-ttl 1</c>).</summary>
    public static async Task<IdpServer> StartAsync(string[] arguments)
    {
        TestServerPool pool = await TestServerPool.Shared;
        (int id, JsonObject ready) = await pool.StartAsync("idp", arguments);
        return new IdpServer(pool, id, ready);
    }

    /// <summary>Plays the user for an authorization request URI; the provider redirects to the sidecar.</summary>
    public async Task<JsonObject> AuthorizeAsync(string authUri, bool deny = false, string login = "alice", bool deliver = true)
    {
        return await this.PostAsync("/authorize", new JsonObject { ["url"] = authUri, ["deny"] = deny, ["login"] = login, ["deliver"] = deliver });
    }

    /// <summary>Plays the user on the device verification page.</summary>
    public Task<JsonObject> ApproveDeviceAsync(string userCode, bool deny = false) =>
        this.PostAsync("/device", new JsonObject { ["userCode"] = userCode, ["deny"] = deny });

    public Task<JsonObject> ConfigAsync(JsonObject settings) => this.PostAsync("/config", settings);

    public Task<JsonObject> IntrospectAsync(string token) => this.PostAsync("/introspect", new JsonObject { ["token"] = token });

    public async Task<JsonObject> StatsAsync() =>
        (await this.Http.GetFromJsonAsync<JsonObject>(this.Control + "/stats"))!;

    /// <summary>Closes this provider (its port and connections); the pool lives on.</summary>
    public async ValueTask DisposeAsync()
    {
        this.Http.Dispose();
        await this.pool.StopAsync(this.id);
    }

    /// <summary>Posts to the control API (e.g. <c>/jwt-assertion</c>, <c>/rotate-keys</c>).</summary>
    public async Task<JsonObject> PostAsync(string path, JsonObject body)
    {
        using HttpResponseMessage response = await this.Http.PostAsync(this.Control + path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} failed with {(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text)!.AsObject();
    }
}
