using System.Diagnostics;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>Process faults: the parent goes away mid-flow, a kill -9 during store writes, a soak with flat memory.</summary>
public sealed class ProcessFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task When_the_parent_goes_away_mid_flow_the_process_exits_at_once_with_listeners_closed()
    {
        IdpServer idp = await IdpServer.Shared;
        await using ProxyServer proxy = await ProxyServer.StartAsync();
        SidecarProcess sidecar = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["HTTP_PROXY"] = proxy.Url, ["NO_PROXY"] = null, ["no_proxy"] = null });
        await using (sidecar)
        {
            string client = await Sign.CreateNativeClientAsync(sidecar, idp);
            JsonObject flow = await Sign.InitiateAsync(sidecar, client);
            JsonObject server = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http" }))!.AsObject();
            JsonNode device = (await sidecar.CallAsync("initiateDeviceFlow", new { clientHandle = client }))!;
            _ = sidecar.Start("waitForCallback", new { flowId = flow.Str("flowId") });
            _ = sidecar.Start("obtainTokenByDeviceFlow", new { flowId = device.Str("flowId") });
            // And a request stuck on a server that does not answer.
            await proxy.FaultAsync(new JsonObject { ["mode"] = "delay", ["ms"] = 60_000, ["path"] = "/token" });
            _ = sidecar.Start("refresh", new { clientHandle = client, refreshToken = "refresh-token-in-flight" });
            await sidecar.BarrierAsync(); // every request above is in progress

            // The stuck request would hold the process for 60 s; it must exit without waiting for it (10 s: a hang guard).
            sidecar.CloseStdin();
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            await AuthCodeFlowTests.AssertPortClosedAsync(new Uri(flow.Str("redirectUri")).Port);
            await AuthCodeFlowTests.AssertPortClosedAsync(new Uri(server.Str("url")).Port);
        }
    }

    [Fact]
    public async Task A_kill_9_during_store_writes_leaves_a_store_the_next_start_reads()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--access-token-ttl", "60"]);
        string data = TestTemp.CreateDirectory("kill9").FullName;
        var environment = new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data };
        await using (SidecarProcess signer = await SidecarProcess.StartAsync(["--storage", "file"], environment))
        {
            signer.RequestHandler = (method, p) =>
            {
                _ = idp.AuthorizeAsync(p.Str("uri"));
                return new JsonObject { ["success"] = true };
            };
            await signer.CallAsync("initialize", new { capabilities = new { showDocument = true } });
            string client = await Sign.CreateNativeClientAsync(signer, idp, ["openid", "offline_access", "profile", "email"]);
            await signer.CallAsync("getCredentials", new { clientHandle = client });
        }

        string[][] scopeSets = [["openid"], ["openid", "profile"], ["openid", "email"], ["openid", "offline_access"], ["openid", "profile", "email"]];
        var random = new Random(9);
        for (int round = 0; round < 8; round++)
        {
            // Each getCredentials with a new scope set refreshes (the token lives 60 s) and rewrites the account.
            SidecarProcess writer = await SidecarProcess.StartAsync(["--storage", "file"], environment);
            writer.CheckSecretsOnDispose = false;
            string client = await Sign.CreateNativeClientAsync(writer, idp, ["openid"]);
            foreach (string[] scopes in scopeSets)
            {
                _ = writer.Start("getCredentials", new { clientHandle = client, scopes, interactive = "none" });
            }

            await Task.Delay(random.Next(20, 400));
            Process.GetProcessById(writer.ProcessId).Kill(); // SIGKILL
            await writer.DisposeAsync();

            await using SidecarProcess reader = await SidecarProcess.StartAsync(["--storage", "file"], environment);
            reader.CheckSecretsOnDispose = false;
            string again = await Sign.CreateNativeClientAsync(reader, idp, ["openid"]);
            JsonNode accounts = (await reader.CallAsync("listAccounts", new { clientHandle = again }))!;
            Assert.Equal("alice", Assert.Single(accounts.AsArray())!.Str("account"));
            JsonObject answer = await reader.SendAsync("getCredentials", new { clientHandle = again, interactive = "none" });
            // Either tokens, or (when the kill caught a refresh whose rotated token never reached the store) a clean
            // "sign in again" — never a store that cannot be read.
            Assert.True(answer["result"] is not null || answer["error"]!["code"]!.GetValue<int>() == -32008, answer.ToJsonString());
        }

        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(data, "credentials"), "*.json"), f => new FileInfo(f).Length == 0);
    }

    [Fact]
    public async Task A_soak_of_many_flows_and_calls_keeps_memory_flat()
    {
        // Six rounds by default (every run); SOAK_SECONDS=300 keeps going for that long (docs/THREAT-MODEL.md).
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("SOAK_SECONDS"), out int s) ? s : 0;
        const int MinimumRounds = 6;
        var setup = Stopwatch.StartNew();
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        int port = Tools.FreePort();
        var samples = new List<double>();
        output.WriteLine($"set up in {setup.Elapsed.TotalSeconds:0.0} s");
        var clock = Stopwatch.StartNew();
        int calls = 0;
        int rounds = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds) || rounds < MinimumRounds)
        {
            // 1,000 concurrent flows on one shared listener, then 10,000 calls, then every flow cancelled.
            var flows = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client, openBrowser = false, redirectUri = $"http://127.0.0.1:{port}/callback" })));
            var work = new List<Task>();
            for (int i = 0; i < 10_000; i++)
            {
                work.Add(i % 2 == 0
                    ? sidecar.CallAsync("parseAuthResponse", new { query = $"code=c{i}&state=s{i}" })
                    : sidecar.SendAsync("waitForCallback", new { flowId = flows[i % 1000].Str("flowId"), timeoutSeconds = 0.01 }));
                if (work.Count == 256)
                {
                    await Task.WhenAll(work);
                    work.Clear();
                }
            }

            await Task.WhenAll(work);
            calls += 10_000;
            await Task.WhenAll(flows.Select(f => sidecar.CallAsync("cancelFlow", new { flowId = f.Str("flowId") })));
            rounds++;
            samples.Add(ResidentMegabytes(sidecar.ProcessId));
        }

        output.WriteLine($"{rounds} rounds, {calls} calls, {rounds * 1000} flows in {clock.Elapsed.TotalSeconds:0} s; RSS after each round (MB): {string.Join(", ", samples.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");

        // Memory does not grow with the work done: the highest RSS of the last third of the rounds is within 25 MB of
        // the highest of the first third (the first rounds include the warm-up; the GC's budget settles after them).
        int third = Math.Max(1, samples.Count / 3);
        double early = samples.Take(third).Max();
        double late = samples.Skip(samples.Count - third).Max();
        Assert.True(late - early < 25, $"RSS grew from {early:0} MB (first third of the rounds) to {late:0} MB (last third) over {rounds} rounds ({calls} calls): {string.Join(", ", samples.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    private static double ResidentMegabytes(int pid)
    {
        string line = File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }
}
