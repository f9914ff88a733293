using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>The loopback callback server of the real process, with real clients: HttpClient, curl, headless Chromium.</summary>
public sealed class LoopbackServerTests
{
    private static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "idp", "fixtures", name);

    [Fact]
    public async Task Https_redirect_with_an_ad_hoc_certificate_signs_in_and_reports_its_fingerprint()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = await Sign.InitiateAsync(sidecar, client, new { redirectUri = "https://127.0.0.1:0/callback" });
        string fingerprint = flow.Str("certificateSha256");
        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        var redirect = new Uri(flow.Str("redirectUri"));
        Assert.Equal("https", redirect.Scheme);

        // A client that pins the reported fingerprint reaches it; the certificate is ECDSA P-256.
        string? seen = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                seen = Convert.ToHexStringLower(SHA256.HashData(certificate!.RawData));
                Assert.NotNull(certificate.GetECDsaPublicKey());
                return seen == fingerprint;
            },
        };
        using var http = new HttpClient(handler);
        Assert.Equal("OK", await http.GetStringAsync($"https://127.0.0.1:{redirect.Port}/health"));
        Assert.Equal(fingerprint, seen);
        (int code, string body, _) = await Tools.CurlAsync("--insecure", $"https://127.0.0.1:{redirect.Port}/health");
        Assert.Equal(0, code);
        Assert.Equal("OK", body);

        await idp.AuthorizeAsync(flow.Str("authUri"));
        Assert.Equal("alice", (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!.Str("account"));
    }

    [Fact]
    public async Task Https_with_a_pem_pair_is_verifiable_with_its_ca_and_missing_files_fail_naming_the_path()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode server = (await sidecar.CallAsync("startCallbackServer", new { port = 0, tls = new { certFile = Fixture("server.cert.pem"), keyFile = Fixture("server.key.pem") } }))!;
        var url = new Uri(server.Str("url"));
        Assert.Equal("https", url.Scheme);
        using X509Certificate2 pem = X509CertificateLoader.LoadCertificateFromFile(Fixture("server.cert.pem"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pem.RawData)), server.Str("certificateSha256"));

        (int code, string body, string stderr) = await Tools.CurlAsync("--cacert", Fixture("ca.cert.pem"), $"{url}?code=c1&state=s1&format=json");
        Assert.True(code == 0, stderr);
        Assert.True(JsonNode.Parse(body)!["ok"]!.GetValue<bool>());
        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = server.Str("flowId") }))!;
        Assert.Equal("c1", callback["params"].Str("code"));
        Assert.False(callback["params"]!.AsObject().ContainsKey("format"));

        RpcError missing = await sidecar.CallExpectingErrorAsync("startCallbackServer", new { port = 0, tls = new { certFile = "/no/such/cert.pem", keyFile = Fixture("server.key.pem") } });
        Assert.Equal(-32005, missing.Code);
        Assert.Contains("/no/such/cert.pem", missing.DataString("reason"), StringComparison.Ordinal);
        RpcError garbage = await sidecar.CallExpectingErrorAsync("initiateAuthCodeFlow", new { clientHandle = "c_x", openBrowser = false });
        Assert.Equal(-32004, garbage.Code);
        string notPem = Path.Combine(TestTemp.CreateDirectory("pem").FullName, "bad.pem");
        File.WriteAllText(notPem, "not a certificate");
        RpcError unreadable = await sidecar.CallExpectingErrorAsync("startCallbackServer", new { port = 0, tls = new { certFile = notPem, keyFile = notPem } });
        Assert.Equal(-32005, unreadable.Code);
        Assert.Contains("bad.pem", unreadable.DataString("reason"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Standalone_server_captures_query_form_json_and_answers_json_and_health()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode server = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http", path = "callback" }))!;
        var url = new Uri(server.Str("url"));
        Assert.Equal("/callback", url.AbsolutePath);
        Assert.Equal("127.0.0.1", url.Host);
        using var http = new HttpClient();

        HttpResponseMessage health = await http.GetAsync($"http://127.0.0.1:{url.Port}/health");
        Assert.Equal("OK", await health.Content.ReadAsStringAsync());
        Assert.Equal("no-store", health.Headers.CacheControl!.ToString());
        Assert.Equal("no-referrer", health.Headers.GetValues("Referrer-Policy").Single());

        // A form POST (response_mode=form_post) with a JSON answer by Accept.
        using var form = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["code"] = "f1", ["state"] = "s" }) };
        form.Headers.Accept.ParseAdd("application/json");
        HttpResponseMessage posted = await http.SendAsync(form);
        Assert.Equal("application/json", posted.Content.Headers.ContentType!.MediaType);
        Assert.True(JsonNode.Parse(await posted.Content.ReadAsStringAsync())!["ok"]!.GetValue<bool>());
        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = server.Str("flowId") }))!;
        Assert.Equal("POST", callback.Str("method"));
        Assert.Equal("f1", callback["params"].Str("code"));
        JsonObject note = await sidecar.WaitForNotificationAsync("callbackReceived");
        Assert.Equal(server.Str("flowId"), note.Str("flowId"));

        // Later requests get the final page; the wait may be repeated.
        HttpResponseMessage later = await http.GetAsync($"{url}?code=other");
        Assert.Contains("Credentials received", await later.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("f1", (await sidecar.CallAsync("waitForCallback", new { flowId = server.Str("flowId") }))!["params"].Str("code"));

        // A JSON body on a second server.
        JsonNode second = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http" }))!;
        HttpResponseMessage json = await http.PostAsync(second.Str("url"), new StringContent("""{"code":"j1","extra":{"a":1}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        JsonNode jsonCallback = (await sidecar.CallAsync("waitForCallback", new { flowId = second.Str("flowId") }))!;
        Assert.Equal("j1", jsonCallback["params"].Str("code"));
        Assert.Equal("""{"a":1}""", jsonCallback["params"].Str("extra"));

        await sidecar.CallAsync("stopCallbackServer", new { flowId = second.Str("flowId") });
        await AuthCodeFlowTests.AssertPortClosedAsync(new Uri(second.Str("url")).Port);
        RpcError stopped = await sidecar.CallExpectingErrorAsync("waitForCallback", new { flowId = second.Str("flowId") });
        Assert.Equal(-32004, stopped.Code);
    }

    [Fact]
    public async Task Fragment_bridge_works_in_a_real_headless_browser()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode server = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http" }))!;
        string dom = await Tools.ChromiumDumpDomAsync(server.Str("url") + "#access_token=frag-token-123&token_type=Bearer&state=st1");

        Assert.Contains("Credentials received successfully", dom, StringComparison.Ordinal);
        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = server.Str("flowId"), timeoutSeconds = 10 }))!;
        Assert.Equal("POST", callback.Str("method"));
        Assert.Equal("frag-token-123", callback["params"].Str("access_token"));
        Assert.Equal("st1", callback["params"].Str("state"));

        // A GET with nothing at all gets the bridge page and completes nothing.
        JsonNode idle = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http" }))!;
        (int code, string body, _) = await Tools.CurlAsync(idle.Str("url"));
        Assert.Equal(0, code);
        Assert.Contains("fragment_params", body, StringComparison.Ordinal);
        Assert.Equal(-32001, (await sidecar.CallExpectingErrorAsync("waitForCallback", new { flowId = idle.Str("flowId"), timeoutSeconds = 0.3 })).Code);
    }

    [Fact]
    public async Task Flows_asking_for_the_same_fixed_port_share_one_listener_routed_by_state()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        int port = Tools.FreePort();
        string redirect = $"http://localhost:{port}/callback";
        JsonObject first = await Sign.InitiateAsync(sidecar, client, new { redirectUri = redirect });
        JsonObject second = await Sign.InitiateAsync(sidecar, client, new { redirectUri = redirect });
        Assert.Equal(redirect, first.Str("redirectUri"));
        Assert.Equal(redirect, second.Str("redirectUri"));

        // localhost listens on both loopback addresses.
        (int v6, string v6Body, string v6Error) = await Tools.CurlAsync("-g", $"http://[::1]:{port}/health");
        Assert.True(v6 == 0 && v6Body == "OK", v6Error);

        // Completed in the opposite order: each callback reaches its own flow.
        await idp.AuthorizeAsync(second.Str("authUri"), login: "bob");
        await idp.AuthorizeAsync(first.Str("authUri"));
        Assert.Equal("alice", (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = first.Str("flowId") }))!.Str("account"));
        Assert.Equal("bob", (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = second.Str("flowId") }))!.Str("account"));

        // A few seconds after the last flow completed, the port is released.
        await AuthCodeFlowTests.AssertPortClosedAsync(port);
    }

    [Fact]
    public async Task Non_loopback_hosts_need_allow_non_loopback()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError refused = await sidecar.CallExpectingErrorAsync("startCallbackServer", new { host = "0.0.0.0", port = 0, scheme = "http" });
        Assert.Equal(-32005, refused.Code);
        Assert.Contains("allowNonLoopback", refused.Message, StringComparison.Ordinal);

        JsonNode server = (await sidecar.CallAsync("startCallbackServer", new { host = "0.0.0.0", port = 0, scheme = "http", allowNonLoopback = true }))!;
        int port = new Uri(server.Str("url")).Port;
        (int code, string body, _) = await Tools.CurlAsync($"http://127.0.0.1:{port}/health");
        Assert.Equal((0, "OK"), (code, body));
        await sidecar.WaitForStderrAsync("non-loopback");
    }

    [Fact]
    public async Task Hostile_requests_are_refused_and_the_honest_callback_still_completes()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode server = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http" }))!;
        var url = new Uri(server.Str("url"));
        int port = url.Port;

        // A slow client that never finishes its headers holds a connection open meanwhile.
        using var slow = new TcpClient();
        await slow.ConnectAsync(IPAddress.Loopback, port);
        await slow.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET /callback?code=slow HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: "));

        using var http = new HttpClient();
        HttpResponseMessage huge = await http.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["code"] = new string('a', 70_000) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);

        using var foreign = new HttpRequestMessage(HttpMethod.Get, $"{url}?code=x");
        foreign.Headers.Host = "attacker.example";
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await http.SendAsync(foreign)).StatusCode);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Put, $"{url}?code=x"))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, url))).StatusCode);

        (int code, string body, _) = await Tools.CurlAsync("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}/../../etc/passwd");
        Assert.Equal((0, "404"), (code, body));
        (code, body, _) = await Tools.CurlAsync("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{port}/callback/../../etc/passwd?code=x");
        Assert.Equal("404", body);

        // Bytes that are not UTF-8, raw on the socket: refused without harm.
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(IPAddress.Loopback, port);
            byte[] request = [.. Encoding.ASCII.GetBytes("GET /callback?code="), 0xff, 0xfe, 0xc0, .. Encoding.ASCII.GetBytes($" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")];
            await raw.GetStream().WriteAsync(request);
            string answer = await new StreamReader(raw.GetStream(), Encoding.Latin1).ReadToEndAsync();
            Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        }

        // The XSS attempt in an error description is shown encoded.
        JsonNode xss = (await sidecar.CallAsync("startCallbackServer", new { port = 0, scheme = "http" }))!;
        string page = await http.GetStringAsync($"{xss.Str("url")}?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        Assert.DoesNotContain("<script>alert(1)</script>", page, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", page, StringComparison.Ordinal);

        // None of this completed the wait; the honest callback does.
        Assert.Equal(-32001, (await sidecar.CallExpectingErrorAsync("waitForCallback", new { flowId = server.Str("flowId"), timeoutSeconds = 0.2 })).Code);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{url}?code=honest&state=s")).StatusCode);
        JsonNode callback = (await sidecar.CallAsync("waitForCallback", new { flowId = server.Str("flowId") }))!;
        Assert.Equal("honest", callback["params"].Str("code"));
        Assert.False(sidecar.HasExited);
    }
}
