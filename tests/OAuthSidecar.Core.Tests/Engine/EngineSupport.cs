using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.Engine;

/// <summary>One request the stub authorization server received: its path, form and headers (names in lower case).</summary>
internal sealed record StubRequest(string Path, IReadOnlyDictionary<string, string> Form, IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>Gets the Accept header, as sent.</summary>
    public string? Accept { get; init; }

    /// <summary>Gets the Authorization header, as sent.</summary>
    public string? Authorization { get; init; }

    /// <summary>Gets the host the request went to.</summary>
    public string? Host { get; init; }

    /// <summary>Gets a header's value, or <see langword="null"/>.</summary>
    public string? Header(string name) => this.Headers?.GetValueOrDefault(name.ToLowerInvariant());
}

/// <summary>
/// An authorization server answering from code, in process (no socket): token, device authorization and revocation
/// endpoints. By default every token request succeeds with a new access token and a rotated refresh token; a test
/// replaces <see cref="Token"/> or <see cref="Device"/> to script refusals. Every request is recorded and signalled.
/// </summary>
internal sealed class StubAuthorizationServer : HttpMessageHandler
{
    public const string Issuer = "https://idp.test";

    private readonly Channel<StubRequest> arrivals = Channel.CreateUnbounded<StubRequest>();
    private int issued;

    public static ServerConfiguration Server { get; } = new(Issuer, Issuer + "/authorize", Issuer + "/token", Issuer + "/device", Issuer + "/revoke");

    public ConcurrentQueue<StubRequest> Requests { get; } = new();

    /// <summary>Gets or sets the answer of the token endpoint: status and JSON body for a request's form.</summary>
    public Func<IReadOnlyDictionary<string, string>, (HttpStatusCode Status, string Json)> Token { get; set; }

    /// <summary>Gets or sets a whole answer that takes precedence over the others (headers too), or returns <see langword="null"/> for the usual one.</summary>
    public Func<StubRequest, HttpResponseMessage?>? Answer { get; set; }

    /// <summary>Gets or sets the answer of the device authorization endpoint.</summary>
    public Func<IReadOnlyDictionary<string, string>, (HttpStatusCode Status, string Json)> Device { get; set; } =
        _ => (HttpStatusCode.OK, """{"device_code":"dc-1","user_code":"ABCD-EFGH","verification_uri":"https://idp.test/device","expires_in":600,"interval":5}""");

    /// <summary>Gets or sets the answer of any other path (discovery, a user endpoint), or <see langword="null"/> for 404. A body not starting with <c>{</c> is sent form-encoded.</summary>
    public Func<StubRequest, (HttpStatusCode Status, string Json)?>? Other { get; set; }

    public StubAuthorizationServer()
    {
        this.Token = this.Grant;
    }

    public int TokenRequests => this.Requests.Count(r => r.Path == "/token");

    /// <summary>Returns the next number of the access and refresh tokens the stub issues (<c>at-N</c>, <c>rt-N</c>).</summary>
    public int NextNumber() => Interlocked.Increment(ref this.issued);

    /// <summary>A successful token answer with fresh values (access token <c>at-N</c>, refresh token <c>rt-N</c>).</summary>
    public (HttpStatusCode Status, string Json) Grant(IReadOnlyDictionary<string, string> form)
    {
        int n = this.NextNumber();
        string scope = form.TryGetValue("scope", out string? s) ? $",\"scope\":\"{s}\"" : string.Empty;
        return (HttpStatusCode.OK, $$"""{"access_token":"at-{{n}}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-{{n}}"{{scope}}}""");
    }

    /// <summary>An OAuth error answer (RFC 6749 §5.2).</summary>
    public static (HttpStatusCode Status, string Json) Error(string error, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        (status, $$"""{"error":"{{error}}","error_description":"stub says {{error}}"}""");

    /// <summary>Waits for the next request the server receives.</summary>
    public async Task<StubRequest> NextRequestAsync() =>
        await this.arrivals.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    // Shared by every client of a test engine: disposing one client must not stop the others.
#pragma warning disable CA2215 // Deliberately not disposed with a client; it holds nothing to release.
    protected override void Dispose(bool disposing)
    {
    }
#pragma warning restore CA2215

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        Dictionary<string, string> form = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : string.Empty));
        Dictionary<string, string> headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(", ", h.Value));
        var recorded = new StubRequest(request.RequestUri!.AbsolutePath, form, headers) { Accept = request.Headers.Accept.ToString(), Authorization = request.Headers.Authorization?.ToString(), Host = request.RequestUri.Host };
        this.Requests.Enqueue(recorded);
        this.arrivals.Writer.TryWrite(recorded);
        if (this.Answer?.Invoke(recorded) is { } whole)
        {
            whole.RequestMessage = request;
            return whole;
        }

        (HttpStatusCode status, string json) = recorded.Path switch
        {
            "/token" => this.Token(form),
            "/device" => this.Device(form),
            "/revoke" => (HttpStatusCode.OK, "{}"),
            _ when this.Other is { } other && other(recorded) is { } answer => answer,
            _ => (HttpStatusCode.NotFound, """{"error":"not_found"}"""),
        };
        string type = json.StartsWith('{') ? "application/json" : json.StartsWith('<') ? "text/html" : "application/x-www-form-urlencoded";
        return new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, type), RequestMessage = request };
    }
}

/// <summary>Every event the engine raised, in order.</summary>
internal sealed class RecordingEvents : ISidecarEvents
{
    public ConcurrentQueue<string> All { get; } = new();

    public ConcurrentQueue<(string ClientHandle, string? FlowId, string GrantType)> Tokens { get; } = new();

    public ConcurrentQueue<(string? Account, string RefreshToken)> Rotated { get; } = new();

    public ConcurrentQueue<(string? Account, string Reason)> Removed { get; } = new();

    public ConcurrentQueue<(string FlowId, int Attempt, string Error)> Pending { get; } = new();

    public void CallbackReceived(string flowId, CallbackResult result) => this.All.Enqueue($"callbackReceived {flowId}");

    public void DeviceFlowPending(string flowId, int attempt, string errorCode, int nextPollSeconds)
    {
        this.Pending.Enqueue((flowId, attempt, errorCode));
        this.All.Enqueue($"deviceFlowPending {flowId} {attempt} {errorCode}");
    }

    public void DeviceCode(DeviceFlow flow) => this.All.Enqueue($"deviceCode {flow.FlowId}");

    public ConcurrentQueue<(string FlowId, string AuthUri, string Message)> AuthorizationUrls { get; } = new();

    public void AuthorizationUrl(string flowId, string authUri, string message)
    {
        this.AuthorizationUrls.Enqueue((flowId, authUri, message));
        this.All.Enqueue($"authorizationUrl {flowId}");
    }

    public void TokensObtained(string clientHandle, string? flowId, string grantType, IReadOnlyList<string> scopes, long? expiresAt)
    {
        this.Tokens.Enqueue((clientHandle, flowId, grantType));
        this.All.Enqueue($"tokensObtained {grantType}");
    }

    public void RefreshTokenUpdated(string clientHandle, string? account, string refreshToken)
    {
        this.Rotated.Enqueue((account, refreshToken));
        this.All.Enqueue("refreshTokenUpdated");
    }

    public void RefreshTokenRemoved(string clientHandle, string? account, string reason)
    {
        this.Removed.Enqueue((account, reason));
        this.All.Enqueue("refreshTokenRemoved");
    }
}

/// <summary>A fake clock that signals each timer created on it, so a test advances time once something waits on it.</summary>
internal sealed class SteppingClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> created = Channel.CreateUnbounded<TimeSpan>();

    public static DateTimeOffset Epoch { get; } = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        this.created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits until a timer with <paramref name="dueTime"/> is created (skipping others).</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await this.created.Reader.ReadAsync(timeout.Token) != dueTime)
        {
        }
    }
}

/// <summary>An engine on the stub server and a stepping clock, with one public client.</summary>
internal sealed class TestEngine : IAsyncDisposable
{
    private TestEngine(OAuthSession session, OAuthClient client, StubAuthorizationServer server, RecordingEvents events, SteppingClock clock)
    {
        this.Session = session;
        this.Client = client;
        this.Server = server;
        this.Events = events;
        this.Clock = clock;
    }

    public OAuthSession Session { get; }

    public OAuthClient Client { get; }

    public StubAuthorizationServer Server { get; }

    public RecordingEvents Events { get; }

    public SteppingClock Clock { get; }

    public static Task<TestEngine> CreateAsync(IReadOnlyList<string>? scopes = null) =>
        CreateAsync(new ClientRegistration { ClientId = "native-app", Scopes = scopes ?? ["api"] });

    /// <summary>An engine whose one client is <paramref name="registration"/> at <paramref name="target"/> (the stub's endpoints by default).</summary>
    public static async Task<TestEngine> CreateAsync(ClientRegistration registration, Core.OAuth.Providers.ClientTarget? target = null, StubAuthorizationServer? stub = null)
    {
        var server = stub ?? new StubAuthorizationServer();
        var events = new RecordingEvents();
        var clock = new SteppingClock(SteppingClock.Epoch);
        var session = new OAuthSession(new SessionOptions
        {
            TimeProvider = clock,
            Events = events,
            HttpHandlerFactory = _ => server,
            DataDirectory = Path.Combine(Path.GetTempPath(), "oauth-sidecar-engine-tests"),
        });
        OAuthClient client = await session.Clients.CreateAsync(target ?? new Core.OAuth.Providers.ClientTarget(null, StubAuthorizationServer.Server), registration, CancellationToken.None);
        return new TestEngine(session, client, server, events, clock);
    }

    /// <summary>Starts an authorization code flow whose redirect a listener does not serve (a custom scheme): the test delivers the response.</summary>
    public Task<AuthCodeFlow> InitiateAsync() =>
        this.Session.AuthCode.InitiateAsync(this.Client, new AuthCodeFlowOptions { RedirectUri = "dev.example.app:/callback" }, CancellationToken.None);

    public static Dictionary<string, string> Response(AuthCodeFlow flow, string code = "the-code") =>
        new() { ["code"] = code, ["state"] = flow.State };

    public ValueTask DisposeAsync() => this.Session.DisposeAsync();
}
