using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Benchmarks;

/// <summary>
/// Live managed bytes per pending authorization code flow, in process (no RPC, no driver): what the RSS of the
/// scale figures is made of. <c>dotnet run -c Release --project tests/OAuthSidecar.Benchmarks -- flow-memory</c>.
/// </summary>
public static class FlowMemory
{
    public static async Task<string> RunAsync(int flows)
    {
        await using var session = new OAuthSession(new SessionOptions());
        OAuthClient client = await session.Clients.CreateAsync(
            null,
            new ServerConfiguration("https://idp.example", "https://idp.example/auth", "https://idp.example/token"),
            new ClientRegistration { ClientId = "native-app", Scopes = ["openid", "offline_access", "profile"] },
            CancellationToken.None);
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var options = new AuthCodeFlowOptions { RedirectUri = $"http://127.0.0.1:{port}/callback", TimeoutSeconds = 3600 };
        var kept = new List<AuthCodeFlow> { await session.AuthCode.InitiateAsync(client, options, CancellationToken.None) };
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < flows; i++)
        {
            kept.Add(await session.AuthCode.InitiateAsync(client, options, CancellationToken.None));
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(kept);
        return $"{flows:N0} pending flows on one listener: {(after - before) / 1024.0 / 1024.0:0.0} MB live, {(after - before) / (double)flows:N0} bytes per flow";
    }
}
