using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Benchmarks;

/// <summary>One measured figure beside its goal and its peer.</summary>
public sealed record Figure(string Name, double Value, string Unit, string Goal, string? Peer = null, double? PeerValue = null, bool LowerIsBetter = true, bool? Met = null)
{
    public double? Ratio => this.PeerValue is { } p && this.Value > 0 ? (this.LowerIsBetter ? p / this.Value : this.Value / p) : null;
}

/// <summary>
/// The process-level harness: the real sidecar (NativeAOT, and the JIT build for reference) spawned over real pipes,
/// beside its peers in the same run — a Node vscode-jsonrpc server and MSAL's oauth2cli — against the bundled provider.
/// </summary>
public sealed class Harness
{
    private readonly string root;
    private readonly bool quick;
    private readonly List<Figure> figures = [];
    private readonly List<string> scaling = [];
    private readonly List<string> callScaling = [];

    private readonly HashSet<string>? only;

    /// <param name="root">The repository root.</param>
    /// <param name="quick">Fewer runs (a smoke run, not a measurement).</param>
    /// <param name="only">The sections to run (cold-start, round-trip, memory, loopback, end-to-end, scale, shared-sign-in); all when null.</param>
    public Harness(string root, bool quick, IEnumerable<string>? only = null)
    {
        this.root = root;
        this.quick = quick;
        this.only = only?.ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private bool Runs(string section) => this.only is null || this.only.Contains(section);

    private string AotPath => Environment.GetEnvironmentVariable("OAUTH_SIDECAR_PATH") is { Length: > 0 } p ? p : Path.Combine(this.root, "artifacts", "aot", "oauth-sidecar");

    private string JitDll => Path.Combine(this.root, "src", "OAuthSidecar", "bin", "Release", "net10.0", "oauth-sidecar.dll");

    private string NodePeer => Path.Combine(this.root, "tests", "OAuthSidecar.Benchmarks", "peers", "echo-server.mjs");

    public async Task<string> RunAsync()
    {
        if (!File.Exists(this.AotPath))
        {
            throw new FileNotFoundException($"The NativeAOT sidecar is not at {this.AotPath}: run `npm run build` (it publishes NativeAOT) first.");
        }

        Console.Error.WriteLine($"Sidecar: {this.AotPath}");
        if (this.Runs("cold-start"))
        {
            await this.ColdStartAsync();
        }

        if (this.Runs("round-trip"))
        {
            await this.RoundTripAsync();
        }

        if (this.Runs("memory"))
        {
            await this.MemoryAsync();
        }

        if (new[] { "loopback", "end-to-end", "scale", "shared-sign-in" }.Any(this.Runs))
        {
            await using Idp idp = await Idp.StartAsync(this.root);
            if (this.Runs("loopback"))
            {
                await this.LoopbackAsync(idp);
            }

            if (this.Runs("end-to-end"))
            {
                await this.EndToEndAsync(idp);
            }

            if (this.Runs("scale"))
            {
                await this.ScaleAsync(idp);
            }

            if (this.Runs("shared-sign-in"))
            {
                await this.SharedSignInAsync(idp);
            }
        }

        return this.Report();
    }

    private static double Median(List<double> values) => Quantile(values, 0.5);

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * sorted.Count))];
    }

    private static double ResidentMegabytes(int pid) =>
        double.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;

    private (string File, string[] Args) Aot() => (this.AotPath, []);

    private (string File, string[] Args) Jit() => ("dotnet", [this.JitDll]);

    private (string File, string[] Args) Node() => ("node", [this.NodePeer]);

    private async Task<double> SpawnToInitializeAsync((string File, string[] Args) command)
    {
        var clock = Stopwatch.StartNew();
        await using RawRpc rpc = RawRpc.Start(command.File, command.Args);
        await rpc.CallAsync("initialize", new JsonObject { ["clientInfo"] = new JsonObject { ["name"] = "bench" } });
        return clock.Elapsed.TotalMilliseconds;
    }

    private async Task ColdStartAsync()
    {
        // Interleaved rounds (NativeAOT, JIT, Node, NativeAOT, ...), so that drift in the machine's speed during the
        // run falls on every contender alike.
        int runs = this.quick ? 10 : 40;
        var contenders = new List<(string Name, (string File, string[] Args) Command)> { ("aot", this.Aot()), ("node", this.Node()) };
        if (File.Exists(this.JitDll))
        {
            contenders.Insert(1, ("jit", this.Jit()));
        }

        var times = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        foreach ((string _, (string File, string[] Args) command) in contenders)
        {
            await this.SpawnToInitializeAsync(command); // warm the file cache
        }

        for (int i = 0; i < runs; i++)
        {
            foreach ((string name, (string File, string[] Args) command) in contenders)
            {
                times[name].Add(await this.SpawnToInitializeAsync(command));
            }
        }

        var results = times.ToDictionary(t => t.Key, t => Median(t.Value));
        foreach ((string name, double median) in results)
        {
            Console.Error.WriteLine($"cold start {name}: median {median:0.0} ms, p10 {Quantile(times[name], 0.1):0.0} ms, p90 {Quantile(times[name], 0.9):0.0} ms");
        }

        double aot = results["aot"];
        this.figures.Add(new Figure("Cold start, spawn → initialize reply (NativeAOT)", aot, "ms", "≤ 10 ms, ≥ 5× Node", "Node vscode-jsonrpc", results["node"], Met: aot <= 10 && results["node"] / aot >= 5));
        if (results.TryGetValue("jit", out double jit))
        {
            this.figures.Add(new Figure("Cold start, spawn → initialize reply (JIT, for reference)", jit, "ms", "—", "Node vscode-jsonrpc", results["node"]));
        }
    }

    private async Task<(double Median, double P99, double Throughput)> RoundTripsAsync((string File, string[] Args) command)
    {
        await using RawRpc rpc = RawRpc.Start(command.File, command.Args);
        await rpc.CallAsync("initialize", new JsonObject());
        const string Call = "\"method\":\"parseAuthResponse\",\"params\":{\"params\":{\"code\":\"abc\",\"state\":\"xyz\"}}";
        int sequential = this.quick ? 3000 : 20000;
        for (int i = 0; i < 2000; i++)
        {
            await rpc.RequestRawAsync(Call);
        }

        var times = new List<double>(sequential);
        for (int i = 0; i < sequential; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await rpc.RequestRawAsync(Call);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        // 64 in flight for a fixed time.
        TimeSpan window = TimeSpan.FromSeconds(this.quick ? 1 : 3);
        long completed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            while (clock.Elapsed < window)
            {
                await rpc.RequestRawAsync(Call);
                Interlocked.Increment(ref completed);
            }
        }));
        double throughput = completed / clock.Elapsed.TotalSeconds;
        if (command.File == this.AotPath)
        {
            await this.CallScalingAsync(rpc, Call);
        }

        return (Median(times), Quantile(times, 0.99), throughput);
    }

    /// <summary>How throughput and latency grow with the number of calls in flight (10, 100, 1,000, 10,000).</summary>
    private async Task CallScalingAsync(RawRpc rpc, string call)
    {
        this.callScaling.Add("| calls in flight | calls/s | latency, median | latency, p99 |");
        this.callScaling.Add("| ---: | ---: | ---: | ---: |");
        TimeSpan window = TimeSpan.FromSeconds(this.quick ? 0.5 : 2);
        foreach (int inFlight in new[] { 1, 10, 100, 1000, 10_000 })
        {
            var latencies = new List<double>();
            long completed = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
            {
                var mine = new List<double>();
                while (clock.Elapsed < window)
                {
                    long start = Stopwatch.GetTimestamp();
                    await rpc.RequestRawAsync(call);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    Interlocked.Increment(ref completed);
                }

                lock (latencies)
                {
                    latencies.AddRange(mine);
                }
            }));
            double rate = completed / clock.Elapsed.TotalSeconds;
            this.callScaling.Add($"| {inFlight:N0} | {rate:N0} | {Median(latencies) / 1000:0.000} ms | {Quantile(latencies, 0.99) / 1000:0.000} ms |");
            Console.Error.WriteLine($"calls in flight {inFlight}: {rate:0} calls/s");
        }
    }

    private async Task RoundTripAsync()
    {
        (double aotMedian, double aotP99, double aotRate) = await this.RoundTripsAsync(this.Aot());
        (double nodeMedian, double nodeP99, double nodeRate) = await this.RoundTripsAsync(this.Node());
        Console.Error.WriteLine($"round trip: aot {aotMedian:0.0}/{aotP99:0.0} µs {aotRate:0} calls/s; node {nodeMedian:0.0}/{nodeP99:0.0} µs {nodeRate:0} calls/s");
        this.figures.Add(new Figure("Sequential round trip, median (parseAuthResponse)", aotMedian, "µs", "≤ 40 µs, ≥ 1.3× Node", "Node vscode-jsonrpc", nodeMedian, Met: aotMedian <= 40 && nodeMedian / aotMedian >= 1.3));
        this.figures.Add(new Figure("Sequential round trip, p99", aotP99, "µs", "≤ 80 µs", "Node vscode-jsonrpc", nodeP99, Met: aotP99 <= 80));
        this.figures.Add(new Figure("Throughput, 64 calls in flight", aotRate, "calls/s", "≥ 120,000, ≥ 1.3× Node", "Node vscode-jsonrpc", nodeRate, LowerIsBetter: false, Met: aotRate >= 120_000 && aotRate / nodeRate >= 1.3));
    }

    private async Task MemoryAsync()
    {
        var values = new Dictionary<string, double>();
        foreach ((string name, (string File, string[] Args) command) in new[] { ("aot", this.Aot()), ("jit", this.Jit()), ("node", this.Node()) })
        {
            if (name == "jit" && !File.Exists(this.JitDll))
            {
                continue;
            }

            await using RawRpc rpc = RawRpc.Start(command.File, command.Args);
            await rpc.CallAsync("initialize", new JsonObject());
            await Task.Delay(1000);
            values[name] = ResidentMegabytes(rpc.ProcessId);
            if (name == "aot")
            {
                // Kestrel is started by the first listener only: the RSS it adds shows up here, not at idle.
                string client = (await rpc.CallAsync("createClient", ExplicitClient("http://127.0.0.1:9")))!["clientHandle"]!.GetValue<string>();
                await rpc.CallAsync("initiateAuthCodeFlow", new JsonObject { ["clientHandle"] = client, ["openBrowser"] = false });
                await Task.Delay(1000);
                values["aot-listening"] = ResidentMegabytes(rpc.ProcessId);
            }
        }

        this.figures.Add(new Figure("Idle memory after initialize, RSS (NativeAOT)", values["aot"], "MB", "≤ 15 MB", "Node vscode-jsonrpc", values["node"], Met: values["aot"] <= 15));
        this.figures.Add(new Figure("RSS once the first listener runs (Kestrel started lazily, NativeAOT)", values["aot-listening"], "MB", "—"));
        if (values.TryGetValue("jit", out double jit))
        {
            this.figures.Add(new Figure("Idle memory after initialize, RSS (JIT, for reference)", jit, "MB", "—", "Node vscode-jsonrpc", values["node"]));
        }
    }

    private static JsonObject ExplicitClient(string issuer) => new()
    {
        ["serverConfiguration"] = new JsonObject { ["issuer"] = issuer, ["authorizationEndpoint"] = issuer + "/auth", ["tokenEndpoint"] = issuer + "/token", ["jwksUri"] = issuer + "/jwks", ["authorizationResponseIssParameterSupported"] = true },
        ["clientId"] = "native-app",
        ["scopes"] = new JsonArray("openid", "offline_access", "profile"),
    };

    private async Task LoopbackAsync(Idp idp)
    {
        await using RawRpc rpc = RawRpc.Start(this.AotPath, []);
        var received = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        rpc.Notification += (method, p) =>
        {
            if (method == "callbackReceived")
            {
                received[p!["flowId"]!.GetValue<string>()] = Stopwatch.GetTimestamp();
            }
        };
        string client = (await rpc.CallAsync("createClient", ExplicitClient(idp.Issuer)))!["clientHandle"]!.GetValue<string>();
        int runs = this.quick ? 10 : 40;
        var http = new List<double>();
        var https = new List<double>();
        var callback = new List<double>();
        using var httpClient = new HttpClient();
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            JsonNode flow = (await rpc.CallAsync("initiateAuthCodeFlow", new JsonObject { ["clientHandle"] = client, ["openBrowser"] = false }))!;
            http.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            string flowId = flow["flowId"]!.GetValue<string>();
            string url = $"{flow["redirectUri"]}?code=bench-code-{i}&state={flow["state"]}&iss={Uri.EscapeDataString(idp.Issuer)}";
            long sent = Stopwatch.GetTimestamp();
            using HttpResponseMessage answer = await httpClient.GetAsync(url);
            for (int w = 0; w < 1000 && !received.ContainsKey(flowId); w++)
            {
                await Task.Delay(1);
            }

            callback.Add(Stopwatch.GetElapsedTime(sent, received[flowId]).TotalMilliseconds);
            await rpc.CallAsync("cancelFlow", new JsonObject { ["flowId"] = flowId });

            start = Stopwatch.GetTimestamp();
            JsonNode secure = (await rpc.CallAsync("initiateAuthCodeFlow", new JsonObject { ["clientHandle"] = client, ["openBrowser"] = false, ["redirectUri"] = "https://127.0.0.1:0/callback" }))!;
            https.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            await rpc.CallAsync("cancelFlow", new JsonObject { ["flowId"] = secure["flowId"]!.GetValue<string>() });
        }

        this.figures.Add(new Figure("initiateAuthCodeFlow → listener ready (http), median", Median(http), "ms", "≤ 15 ms", Met: Median(http) <= 15));
        this.figures.Add(new Figure("initiateAuthCodeFlow → listener ready (https, ad-hoc ECDSA), median", Median(https), "ms", "≤ 70 ms", Met: Median(https) <= 70));
        this.figures.Add(new Figure("Redirect received → callbackReceived written, median", Median(callback), "ms", "≤ 2 ms", Met: Median(callback) <= 2));
        this.figures.Add(new Figure("initiateAuthCodeFlow (http), first call in a fresh process", http[0], "ms", "—"));
    }

    private async Task EndToEndAsync(Idp idp)
    {
        await using RawRpc rpc = RawRpc.Start(this.AotPath, []);
        string client = (await rpc.CallAsync("createClient", new JsonObject { ["issuer"] = idp.Issuer, ["clientId"] = "native-app", ["scopes"] = new JsonArray("openid", "offline_access", "profile") }))!["clientHandle"]!.GetValue<string>();
        int runs = this.quick ? 5 : 20;
        var times = new List<double>();
        using var httpClient = new HttpClient();
        for (int i = 0; i < runs + 1; i++)
        {
            JsonNode flow = (await rpc.CallAsync("initiateAuthCodeFlow", new JsonObject { ["clientHandle"] = client, ["openBrowser"] = false }))!;
            string callbackUrl = (await idp.ControlAsync("/authorize", new JsonObject { ["url"] = flow["authUri"]!.GetValue<string>(), ["deliver"] = false }))["callbackUrl"]!.GetValue<string>();
            Task<JsonObject> obtaining = rpc.RequestAsync("obtainTokenByAuthCodeFlow", new JsonObject { ["flowId"] = flow["flowId"]!.GetValue<string>() });
            await Task.Delay(20);
            long start = Stopwatch.GetTimestamp();
            using HttpResponseMessage delivered = await httpClient.GetAsync(callbackUrl);
            JsonObject tokens = await obtaining;
            if (tokens["result"] is null)
            {
                throw new InvalidOperationException(tokens.ToJsonString());
            }

            if (i > 0)
            {
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds); // the first run warms the id_token validation
            }
        }

        double msal = await this.MsalPeerAsync(idp);
        this.figures.Add(new Figure("Redirect delivered → token in hand (bundled provider), median", Median(times), "ms", "≤ 50 ms (MSAL ≥ 1 s)", "MSAL oauth2cli", msal, Met: Median(times) <= 50));
    }

    private async Task<double> MsalPeerAsync(Idp idp)
    {
        string script = Path.Combine(this.root, "tests", "OAuthSidecar.Benchmarks", "peers", "msal_peer.py");
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var conf = new JsonObject { ["authorization_endpoint"] = idp.Issuer + "/auth", ["token_endpoint"] = idp.Issuer + "/token", ["issuer"] = idp.Issuer };
        var runs = new List<double>();
        for (int i = 0; i < (this.quick ? 1 : 3); i++)
        {
            var info = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { script, idp.Issuer, conf.ToJsonString() })
            {
                info.ArgumentList.Add(a);
            }

            using Process p = Process.Start(info)!;
            p.ErrorDataReceived += (_, _) => { };
            p.BeginErrorReadLine();
            string? first = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (first is null)
            {
                return double.NaN; // python3-msal missing
            }

            string authUri = JsonNode.Parse(first)!["authUri"]!.GetValue<string>();
            string callbackUrl = (await idp.ControlAsync("/authorize", new JsonObject { ["url"] = authUri, ["deliver"] = false }))["callbackUrl"]!.GetValue<string>();
            double sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            using (var httpClient = new HttpClient())
            {
                using HttpResponseMessage delivered = await httpClient.GetAsync(callbackUrl);
            }

            await p.StandardInput.WriteLineAsync(sent.ToString("0.000", CultureInfo.InvariantCulture));
            await p.StandardInput.FlushAsync();
            string? last = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            runs.Add(JsonNode.Parse(last!)!["seconds"]!.GetValue<double>() * 1000);
            await p.WaitForExitAsync();
        }

        return Median(runs);
    }

    private async Task ScaleAsync(Idp idp)
    {
        await using RawRpc rpc = RawRpc.Start(this.AotPath, []);
        string client = (await rpc.CallAsync("createClient", ExplicitClient(idp.Issuer)))!["clientHandle"]!.GetValue<string>();
        int port = FreePort();
        var flows = new List<JsonNode>();
        using var httpClient = new HttpClient();
        int[] steps = this.quick ? [10, 100, 1000] : [10, 100, 1000, 10_000];
        this.scaling.Add("| pending flows on one listener | RSS | initiateAuthCodeFlow latency, median (64 in flight) | time per flow added | callback answered, median / p99 |");
        this.scaling.Add("| ---: | ---: | ---: | ---: | ---: |");
        double lastP99 = 0;
        double lastRss = 0;
        foreach (int target in steps)
        {
            var initiate = new List<double>();
            int added = target - flows.Count;
            long stepStart = Stopwatch.GetTimestamp();
            while (flows.Count < target)
            {
                int batch = Math.Min(64, target - flows.Count);
                JsonNode?[] started = await Task.WhenAll(Enumerable.Range(0, batch).Select(async _ =>
                {
                    long t = Stopwatch.GetTimestamp();
                    JsonNode? f = await rpc.CallAsync("initiateAuthCodeFlow", new JsonObject { ["clientHandle"] = client, ["openBrowser"] = false, ["redirectUri"] = $"http://127.0.0.1:{port}/callback", ["callback"] = new JsonObject { ["timeoutSeconds"] = 3600 } });
                    lock (initiate)
                    {
                        initiate.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    }

                    return f;
                }));
                flows.AddRange(started!);
            }

            double perFlow = Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds / Math.Max(1, added);
            double rss = ResidentMegabytes(rpc.ProcessId);
            // Callbacks with a wrong state walk the same routing as a real one but leave the flows pending.
            var latencies = new List<double>();
            var random = new Random(target);
            for (int i = 0; i < (this.quick ? 200 : 1000); i++)
            {
                long t = Stopwatch.GetTimestamp();
                using HttpResponseMessage answer = await httpClient.GetAsync($"http://127.0.0.1:{port}/callback?code=c&state=not-{random.Next()}");
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            lastP99 = Quantile(latencies, 0.99);
            lastRss = rss;
            this.scaling.Add($"| {target:N0} | {rss:0.0} MB | {Median(initiate):0.00} ms | {perFlow:0.000} ms | {Median(latencies):0.00} / {lastP99:0.00} ms |");
            Console.Error.WriteLine($"scale {target}: rss {rss:0.0} MB, callback p99 {lastP99:0.00} ms");
        }

        // And the real thing at full scale: each of a sample of flows gets its own callback.
        var real = new List<double>();
        foreach (JsonNode flow in flows.Where((_, i) => i % (flows.Count / 200) == 0))
        {
            long t = Stopwatch.GetTimestamp();
            using HttpResponseMessage answer = await httpClient.GetAsync($"{flow["redirectUri"]}?code=c&state={flow["state"]}&iss={Uri.EscapeDataString(idp.Issuer)}");
            real.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        int n = flows.Count;
        this.figures.Add(new Figure($"{n:N0} pending flows on one listener: RSS", lastRss, "MB", "≤ 100 MB", Met: lastRss <= 100));
        this.figures.Add(new Figure($"{n:N0} pending flows: callback answered, p99 (wrong state / own flow)", Math.Max(lastP99, Quantile(real, 0.99)), "ms", "≤ 5 ms", Met: Math.Max(lastP99, Quantile(real, 0.99)) <= 5));
    }

    private async Task SharedSignInAsync(Idp idp)
    {
        string browser = Path.Combine(Path.GetTempPath(), $"bench-browser-{Environment.ProcessId}.sh");
        // The sidecar hands browsers a private page that forwards to the authorization URL: read the URL from it.
        const string FollowPage = "const html = require(\"fs\").readFileSync(process.argv[2], \"utf8\"); const url = html.match(/url=([^\"]+)\"/)[1].replace(/&amp;/g, \"&\"); fetch(process.argv[1] + \"/authorize\", { method: \"POST\", headers: { \"content-type\": \"application/json\" }, body: JSON.stringify({ url }) }).then(r => r.text())";
        await File.WriteAllTextAsync(browser, $"#!/bin/sh\nexec node -e '{FollowPage}' '{idp.Control}' \"$1\" >/dev/null 2>&1\n");
        File.SetUnixFileMode(browser, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using RawRpc rpc = RawRpc.Start(this.AotPath, ["--storage", "memory"], new Dictionary<string, string?> { ["BROWSER"] = browser });
        string client = (await rpc.CallAsync("createClient", new JsonObject { ["issuer"] = idp.Issuer, ["clientId"] = "native-app", ["scopes"] = new JsonArray("openid", "offline_access", "profile") }))!["clientHandle"]!.GetValue<string>();
        int before = await idp.TokenRequestsAsync();
        var clock = Stopwatch.StartNew();
        JsonObject[] answers = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => rpc.RequestAsync("getCredentials", new JsonObject { ["clientHandle"] = client })));
        clock.Stop();
        int requests = await idp.TokenRequestsAsync() - before;
        bool allOk = answers.All(a => a["result"] is not null);
        this.figures.Add(new Figure("1,000 concurrent getCredentials for one account: token requests", requests, "", "1", Met: allOk && requests == 1));
        this.figures.Add(new Figure("1,000 concurrent getCredentials, sign-in included, wall time", clock.Elapsed.TotalMilliseconds, "ms", "—"));
        File.Delete(browser);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string Report()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| figure | sidecar | goal | peer | peer's | ratio | met |");
        sb.AppendLine("| --- | ---: | --- | --- | ---: | ---: | :---: |");
        foreach (Figure f in this.figures)
        {
            string value = f.Unit switch
            {
                "µs" or "ms" or "MB" => $"{f.Value:0.0} {f.Unit}",
                "calls/s" => $"{f.Value:N0} {f.Unit}",
                _ => $"{f.Value:0.##} {f.Unit}".Trim(),
            };
            string peer = f.PeerValue is { } pv ? (double.IsNaN(pv) ? "n/a" : f.Unit == "calls/s" ? $"{pv:N0}" : $"{pv:0.0} {f.Unit}") : "—";
            string ratio = f.Ratio is { } r && !double.IsNaN(r) ? $"{r:0.0}×" : "—";
            string met = f.Met switch { true => "yes", false => "**no**", null => "" };
            sb.AppendLine($"| {f.Name} | {value} | {f.Goal} | {f.Peer ?? "—"} | {peer} | {ratio} | {met} |");
        }

        sb.AppendLine();
        if (this.callScaling.Count > 0)
        {
            sb.AppendLine("How cost grows with the number of calls in flight (parseAuthResponse, NativeAOT):");
            sb.AppendLine();
            foreach (string line in this.callScaling)
            {
                sb.AppendLine(line);
            }

            sb.AppendLine();
        }

        sb.AppendLine("How cost grows with the number of pending flows sharing one listener:");
        sb.AppendLine();
        foreach (string line in this.scaling)
        {
            sb.AppendLine(line);
        }

        return sb.ToString();
    }
}

/// <summary>The bundled provider (tests/idp), for the harness.</summary>
public sealed class Idp : IAsyncDisposable
{
    private readonly Process process;
    private readonly HttpClient http = new();

    private Idp(Process process, string issuer, string control)
    {
        this.process = process;
        this.Issuer = issuer;
        this.Control = control;
    }

    public string Issuer { get; }

    public string Control { get; }

    public static async Task<Idp> StartAsync(string root)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(root, "tests", "idp", "server.mjs"));
        Process p = Process.Start(info)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        JsonNode line = JsonNode.Parse((await p.StandardOutput.ReadLineAsync())!)!;
        return new Idp(p, line["issuer"]!.GetValue<string>(), line["control"]!.GetValue<string>());
    }

    public async Task<JsonObject> ControlAsync(string path, JsonObject body)
    {
        using HttpResponseMessage response = await this.http.PostAsync(this.Control + path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public async Task<int> TokenRequestsAsync() =>
        JsonNode.Parse(await this.http.GetStringAsync(this.Control + "/stats"))!["token"]!["total"]!.GetValue<int>();

    public async ValueTask DisposeAsync()
    {
        this.process.StandardInput.Close();
        await this.process.WaitForExitAsync();
        this.process.Dispose();
        this.http.Dispose();
    }
}
