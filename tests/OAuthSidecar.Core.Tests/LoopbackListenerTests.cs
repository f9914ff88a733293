using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.Tests;

public sealed class LoopbackListenerTests : IAsyncLifetime
{

    // Shared: requests carry no client state (a Host header is set per request).
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private LoopbackListener listener = null!;

    private string Base => $"http://127.0.0.1:{this.listener.Port}";

    public async ValueTask InitializeAsync()
    {
        this.listener = await StartAsync(new LoopbackEndpoint("http", "127.0.0.1", 0));
    }

    public async ValueTask DisposeAsync()
    {
        await this.listener.DisposeAsync();
    }

    [Fact]
    public void Port_zero_gets_a_real_port()
    {
        Assert.InRange(this.listener.Port, 1, 65535);
        Assert.Equal(0, this.listener.Endpoint.Port);
        Assert.Null(this.listener.CertificateSha256);
    }

    [Fact]
    public async Task Health_answers_OK()
    {
        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_path_gets_404_and_leaves_the_target_waiting()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/other?code=c&state=s1"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(target.Result);
        Assert.Equal(0, target.Offers);
    }

    [Fact]
    public async Task A_GET_with_the_right_state_completes_the_target()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=the-code&state=s1&iss=https%3A%2F%2Fidp.example"));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(CallbackPages.SuccessFallbackText, body, StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));

        CallbackResult result = Assert.IsType<CallbackResult>(target.Result);
        Assert.Equal("GET", result.Method);
        Assert.Equal("/callback", result.Path);
        Assert.Equal("the-code", result.Params["code"]);
        Assert.Equal("s1", result.Params["state"]);
        Assert.Equal("https://idp.example", result.Params["iss"]);
        Assert.True(result.IsComplete);
        Assert.False(result.IsError);
        Assert.InRange(result.ReceivedAt, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_custom_success_page_is_served()
    {
        var target = this.Attach("/cb", null, new CallbackPages("<html><body>custom ok page</body></html>", null));

        string body = await Http.GetStringAsync(new Uri($"{this.Base}/cb?code=c"));

        Assert.Equal("<html><body>custom ok page</body></html>", body);
        Assert.NotNull(target.Result);
    }

    [Fact]
    public async Task A_wrong_state_gets_400_and_leaves_the_target_waiting()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c&state=forged"));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("state_mismatch", body, StringComparison.Ordinal);
        Assert.Null(target.Result);
        Assert.Equal(0, target.Offers);
    }

    [Fact]
    public async Task A_missing_state_gets_400_when_the_target_expects_one()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task Callbacks_are_routed_by_state()
    {
        var first = this.Attach("/callback", "state-a");
        var second = this.Attach("/callback", "state-b");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=for-b&state=state-b"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(first.Result);
        Assert.Equal("for-b", second.Result?.Params["code"]);
    }

    [Fact]
    public async Task Routing_by_path_and_state_among_many_targets()
    {
        // Many flows on one path, one on another path, a standalone callback server (no state) on a third.
        var flows = Enumerable.Range(0, 2000).Select(i => this.Attach("/callback", "state-" + i)).ToList();
        var elsewhere = this.Attach("/other", "state-7");
        var server = this.Attach("/server", null);
        Assert.Equal(2002, this.listener.TargetCount);

        using (HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c1234&state=state-1234")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("c1234", flows[1234].Result?.Params["code"]);
        Assert.Single(flows, f => f.Result is not null);
        Assert.Null(elsewhere.Result);

        // The same state on another path does not reach this one; an unknown state on a server's path reaches the server.
        using (HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/other?code=o&state=state-8")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/server?code=s&state=anything")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Null(elsewhere.Result);
        Assert.Equal("s", server.Result?.Params["code"]);

        // Detached targets are no longer reached, and a path with none left is not served.
        Assert.True(this.listener.Detach(elsewhere, out int remaining));
        Assert.Equal(2001, remaining);
        Assert.False(this.listener.Detach(elsewhere, out _));
        using (HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/other?code=o&state=state-7")))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task Two_targets_with_the_same_state_are_served_first_attached_first()
    {
        var first = this.Attach("/callback", "same");
        var second = this.Attach("/callback", "same");
        Assert.True(this.listener.Detach(first, out int remaining));
        Assert.Equal(1, remaining);

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c&state=same"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(first.Result);
        Assert.Equal("c", second.Result?.Params["code"]);
    }

    [Fact]
    public async Task A_form_POST_completes_the_target()
    {
        var target = this.Attach("/callback", "s1");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["code"] = "posted code", ["state"] = "s1" });

        using HttpResponseMessage response = await Http.PostAsync(new Uri($"{this.Base}/callback"), form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        CallbackResult result = Assert.IsType<CallbackResult>(target.Result);
        Assert.Equal("POST", result.Method);
        Assert.Equal("posted code", result.Params["code"]);
    }

    [Fact]
    public async Task A_JSON_POST_with_fragment_params_merges_them()
    {
        var target = this.Attach("/callback", "s");
        using var content = new StringContent("""{"fragment_params":{"access_token":"x","state":"s","expires_in":3600},"extra":"e"}""", Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await Http.PostAsync(new Uri($"{this.Base}/callback?from_query=q"), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        CallbackResult result = Assert.IsType<CallbackResult>(target.Result);
        Assert.Equal("POST", result.Method);
        Assert.Equal("x", result.Params["access_token"]);
        Assert.Equal("s", result.Params["state"]);
        Assert.Equal("3600", result.Params["expires_in"]);
        Assert.Equal("e", result.Params["extra"]);
        Assert.Equal("q", result.Params["from_query"]);
    }

    [Fact]
    public async Task A_JSON_body_that_is_not_an_object_gets_400()
    {
        var target = this.Attach("/callback", null);
        using var content = new StringContent("[1,2]", Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await Http.PostAsync(new Uri($"{this.Base}/callback"), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task An_unsupported_body_type_gets_415()
    {
        var target = this.Attach("/callback", null);
        using var content = new StringContent("code=c", Encoding.UTF8, "text/plain");

        using HttpResponseMessage response = await Http.PostAsync(new Uri($"{this.Base}/callback"), content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task Other_methods_get_405()
    {
        var target = this.Attach("/callback", null);
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri($"{this.Base}/callback?code=c"));

        using HttpResponseMessage response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("GET", response.Content.Headers.Allow);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task A_foreign_Host_header_gets_421()
    {
        var target = this.Attach("/callback", "s1");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{this.Base}/callback?code=c&state=s1"));
        request.Headers.Host = $"evil.example:{this.listener.Port}";

        using HttpResponseMessage response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("LOCALHOST")]
    public async Task Loopback_Host_headers_are_accepted(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{this.Base}/health"));
        request.Headers.Host = $"{host}:{this.listener.Port}";

        using HttpResponseMessage response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_Host_header_without_the_default_port_is_accepted()
    {
        LoopbackListener? own = null;
        try
        {
            own = await StartAsync(new LoopbackEndpoint("http", "127.0.0.1", 80));
        }
        catch (ListenFailedException ex)
        {
            // Port 80 is taken, or binding it needs privileges this user lacks: the default-port rule cannot be
            // exercised here (CI runs as root).
            Assert.Skip($"127.0.0.1:80 could not be bound: {ex.Message}");
        }

        await using (own)
        {
            var target = new TestTarget("/callback", "s1");
            own.Attach(target);

            // HttpClient, like browsers, leaves the default port out of the Host header.
            using HttpResponseMessage response = await Http.GetAsync(new Uri("http://127.0.0.1:80/callback?code=c&state=s1"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.NotNull(target.Result);
        }
    }

    [Fact]
    public async Task A_body_over_64_KiB_gets_413()
    {
        var target = this.Attach("/callback", null);
        string big = "code=" + new string('a', LoopbackListener.MaxBodyBytes + 1024);
        using var content = new StringContent(big, Encoding.ASCII, "application/x-www-form-urlencoded");

        using HttpResponseMessage response = await Http.PostAsync(new Uri($"{this.Base}/callback"), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task A_GET_without_parameters_gets_the_fragment_bridge()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback"));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("fragment_params", body, StringComparison.Ordinal);
        Assert.Null(target.Result);
        Assert.Equal(0, target.Offers);
    }

    [Fact]
    public async Task A_POST_without_a_response_gets_400()
    {
        var target = this.Attach("/callback", null);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["state"] = "s" });

        using HttpResponseMessage response = await Http.PostAsync(new Uri($"{this.Base}/callback"), form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task Format_json_gets_a_JSON_reply()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c&state=s1&format=json"));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("GET", json.RootElement.GetProperty("method").GetString());
        Assert.Equal("/callback", json.RootElement.GetProperty("path").GetString());
        Assert.True(json.RootElement.GetProperty("received_at").GetInt64() > 0);
        Assert.False(json.RootElement.TryGetProperty("code", out _)); // the code is not echoed

        CallbackResult result = Assert.IsType<CallbackResult>(target.Result);
        Assert.False(result.Params.ContainsKey("format"));
    }

    [Fact]
    public async Task Format_json_errors_are_JSON_too()
    {
        this.Attach("/callback", "s1");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c&state=wrong&format=json"));
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("state_mismatch", json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_Accept_json_header_gets_a_JSON_reply()
    {
        this.Attach("/callback", null);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{this.Base}/callback?code=c"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using HttpResponseMessage response = await Http.SendAsync(request);
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task An_error_callback_shows_the_error_HTML_encoded()
    {
        var target = this.Attach("/callback", "s1");
        string description = Uri.EscapeDataString("<script>alert(1)</script>");

        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?error=access_denied&error_description={description}&state=s1"));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("access_denied", body, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", body, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(CallbackPages.SuccessFallbackText, body, StringComparison.Ordinal);
        CallbackResult result = Assert.IsType<CallbackResult>(target.Result);
        Assert.True(result.IsError);
        Assert.Equal("<script>alert(1)</script>", result.Params["error_description"]);
    }

    [Fact]
    public async Task A_custom_error_page_gets_the_encoded_error_before_its_body_end()
    {
        this.Attach("/callback", null, new CallbackPages(null, "<html><body><h1>Oops</h1></body></html>"));

        string body = await (await Http.GetAsync(new Uri($"{this.Base}/callback?error=%3Cb%3E"))).Content.ReadAsStringAsync();

        Assert.StartsWith("<html><body><h1>Oops</h1><p><code>&lt;b&gt;</code>", body, StringComparison.Ordinal);
        Assert.EndsWith("</body></html>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_callback_after_completion_gets_the_final_page()
    {
        var target = this.Attach("/callback", "s1");

        using HttpResponseMessage first = await Http.GetAsync(new Uri($"{this.Base}/callback?code=first&state=s1"));
        using HttpResponseMessage second = await Http.GetAsync(new Uri($"{this.Base}/callback?error=access_denied&state=s1"));
        string body = await second.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains(CallbackPages.SuccessFallbackText, body, StringComparison.Ordinal);
        Assert.DoesNotContain("access_denied", body, StringComparison.Ordinal);
        Assert.Equal(2, target.Offers);
        Assert.Equal("first", target.Result?.Params["code"]);
        Assert.False(target.Result?.IsError);
    }

    [Fact]
    public async Task A_detached_target_no_longer_receives_callbacks()
    {
        var target = this.Attach("/callback", "s1");
        Assert.Equal(1, this.listener.TargetCount);

        Assert.True(this.listener.Detach(target, out int remaining));
        Assert.Equal(0, remaining);
        Assert.False(this.listener.Detach(target, out _));
        using HttpResponseMessage response = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c&state=s1"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(target.Result);
    }

    [Fact]
    public async Task A_non_loopback_host_is_refused_without_binding()
    {
        var ex = await Assert.ThrowsAsync<ListenFailedException>(() => StartAsync(new LoopbackEndpoint("http", "10.1.2.3", 0, AllowNonLoopback: false)));

        Assert.Equal("10.1.2.3", ex.Host);
        Assert.Contains("not a loopback address", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("")]
    public async Task A_host_name_other_than_localhost_is_refused(string host)
    {
        await Assert.ThrowsAsync<ListenFailedException>(() => StartAsync(new LoopbackEndpoint("http", host, 0)));
    }

    [Fact]
    public void Non_loopback_addresses_resolve_only_when_allowed()
    {
        Assert.Equal([IPAddress.Parse("10.1.2.3")], new LoopbackEndpoint("http", "10.1.2.3", 0, AllowNonLoopback: true).ResolveAddresses());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], new LoopbackEndpoint("http", "LocalHost", 0).ResolveAddresses());
        Assert.Equal([IPAddress.IPv6Loopback], new LoopbackEndpoint("http", "[::1]", 0).ResolveAddresses());
    }

    [Fact]
    public async Task A_port_in_use_gives_ListenFailedException_naming_the_port()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var ex = await Assert.ThrowsAsync<ListenFailedException>(() => StartAsync(new LoopbackEndpoint("http", "127.0.0.1", port)));

        Assert.Equal(port, ex.Port);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hundreds_of_idle_connections_do_not_lock_out_the_redirect()
    {
        var target = new TestTarget("/callback", "s1");
        this.listener.Attach(target);
        var idle = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, this.listener.Port);
                idle.Add(client); // connected, never sends a byte
            }

            using HttpResponseMessage health = await Http.GetAsync(new Uri($"{this.Base}/health"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using HttpResponseMessage redirect = await Http.GetAsync(new Uri($"{this.Base}/callback?code=c&state=s1"));
            Assert.Equal(HttpStatusCode.OK, redirect.StatusCode);
            Assert.Equal("c", target.Result?.Params["code"]);
            Assert.True(this.listener.Connections.Evicted >= 300 - ConnectionGuard.MaxConnections, $"only {this.listener.Connections.Evicted} idle connections were closed");
            Assert.InRange(this.listener.Connections.Count, 0, ConnectionGuard.MaxConnections);
        }
        finally
        {
            foreach (TcpClient client in idle)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task Localhost_with_its_IPv6_port_taken_fails_naming_it()
    {
        using var holder = new TcpListener(IPAddress.IPv6Loopback, 0);
        try
        {
            holder.Start();
        }
        catch (SocketException ex)
        {
            Assert.Skip($"This machine has no IPv6 loopback ({ex.Message}).");
        }

        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        ListenFailedException taken = await Assert.ThrowsAsync<ListenFailedException>(() => StartAsync(new LoopbackEndpoint("http", "localhost", port)));
        Assert.Contains("[::1]", taken.Message, StringComparison.Ordinal);
        Assert.Contains("both 127.0.0.1 and [::1]", taken.Message, StringComparison.Ordinal);

        // Nothing stays bound on 127.0.0.1 either.
        using var probe = new TcpListener(IPAddress.Loopback, port);
        probe.Start();
    }

    [Fact]
    public async Task Localhost_listens_on_both_loopback_addresses()
    {
        await using LoopbackListener both = await StartAsync(new LoopbackEndpoint("http", "localhost", 0));
        using (HttpResponseMessage v4 = await Http.GetAsync(new Uri($"http://127.0.0.1:{both.Port}/health")))
        {
            Assert.Equal(HttpStatusCode.OK, v4.StatusCode);
        }

        using var v6 = new TcpClient(AddressFamily.InterNetworkV6);
        try
        {
            await v6.ConnectAsync(IPAddress.IPv6Loopback, both.Port);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable or SocketError.NetworkUnreachable)
        {
            Assert.Skip($"This machine has no IPv6 loopback ({ex.Message}).");
        }

        Assert.True(v6.Connected);
    }

    [Fact]
    public async Task DisposeAsync_closes_the_port()
    {
        LoopbackListener own = await StartAsync(new LoopbackEndpoint("http", "127.0.0.1", 0));
        int port = own.Port;
        using (HttpResponseMessage ok = await Http.GetAsync(new Uri($"http://127.0.0.1:{port}/health")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        await own.DisposeAsync();
        await own.DisposeAsync(); // idempotent

        using var client = new TcpClient();
        var ex = await Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, ex.SocketErrorCode);
    }

    [Fact]
    public async Task A_localhost_listener_answers_on_127_0_0_1()
    {
        await using LoopbackListener own = await StartAsync(new LoopbackEndpoint("http", "localhost", 0));
        var target = new TestTarget("/cb", null);
        own.Attach(target);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{own.Port}/cb?code=c"));
        request.Headers.Host = $"localhost:{own.Port}";

        using HttpResponseMessage response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(target.Result);
    }

    [Fact]
    public async Task An_https_listener_serves_its_certificate()
    {
        using var certificate = Certificates.CreateAdHoc();
        await using LoopbackListener own = await StartAsync(new LoopbackEndpoint("https", "127.0.0.1", 0, certificate));
        string? expected = own.CertificateSha256;
        Assert.NotNull(expected);
        Assert.Matches("^[0-9a-f]{64}$", expected);
        string? seen = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                seen = cert is null ? null : Convert.ToHexStringLower(SHA256.HashData(cert.RawData));
                return seen == expected;
            },
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };

        using HttpResponseMessage response = await client.GetAsync(new Uri($"https://127.0.0.1:{own.Port}/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK", await response.Content.ReadAsStringAsync());
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task An_https_listener_is_refused_by_a_client_pinning_another_certificate()
    {
        using var certificate = Certificates.CreateAdHoc();
        using var other = Certificates.CreateAdHoc();
        await using LoopbackListener own = await StartAsync(new LoopbackEndpoint("https", "127.0.0.1", 0, certificate));
        string pinned = Convert.ToHexStringLower(SHA256.HashData(other.RawData));
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && Convert.ToHexStringLower(SHA256.HashData(cert.RawData)) == pinned,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri($"https://127.0.0.1:{own.Port}/health")));
    }

    private static Task<LoopbackListener> StartAsync(LoopbackEndpoint endpoint) =>
        LoopbackListener.StartAsync(endpoint, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);

    private TestTarget Attach(string path, string? state, CallbackPages? pages = null)
    {
        var target = new TestTarget(path, state, pages);
        this.listener.Attach(target);
        return target;
    }
}
