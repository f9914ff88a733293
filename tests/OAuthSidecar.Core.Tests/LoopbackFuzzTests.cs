using System.Net;
using System.Net.Sockets;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Loopback;

namespace OAuthSidecar.Core.Tests;

/// <summary>
/// Property-based hostile HTTP (FsCheck) against a real Kestrel loopback listener: whatever arrives on the socket,
/// the listener answers or closes within a bound, completes no flow, and afterwards the honest callback completes.
/// A longer run: LOOPBACK_FUZZ_CASES=5000.
/// </summary>
public sealed class LoopbackFuzzTests
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("LOOPBACK_FUZZ_CASES"), out int n) ? n : 150;

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PATCH", "G\u0000T", "", "GET GET"];
    private static readonly string[] Paths = ["/callback", "/callback/", "/../../etc/passwd", "/callback/..%2f..%2fetc", "//callback", "/health", "/%00", "/callback?code=x&state=wrong", "/callback?%ff%fe=%c0", "*", "http://evil.example/callback", "/" + new string('a', 20_000)];
    private static readonly string[] Hosts = ["127.0.0.1:{port}", "localhost:{port}", "evil.example", "127.0.0.1:1", "", "[::1]:{port}", "127.0.0.1:{port}\r\nHost: evil.example"];
    private static readonly string[] ContentTypes = ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/json; charset=utf-16", ""];

    [Fact]
    public async Task Arbitrary_requests_are_answered_or_closed_and_never_complete_the_flow()
    {
        await using LoopbackListener listener = await LoopbackListener.StartAsync(new LoopbackEndpoint("http", "127.0.0.1", 0), NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
        var target = new TestTarget("/callback", "the-honest-state-7f3a");
        listener.Attach(target);
        int port = listener.Port;

        Gen<byte[]> requests =
            from method in Gen.Elements(Methods)
            from path in Gen.Elements(Paths)
            from host in Gen.Elements(Hosts)
            from contentType in Gen.Elements(ContentTypes)
            from bodyLength in Gen.Choose(0, 70_000)
            from declaredDelta in Gen.Choose(-5, 5)
            from junk in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>())
            from chunked in ArbMap.Default.GeneratorFor<bool>()
            select Build(method, path, host.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), contentType, bodyLength, declaredDelta, junk, chunked);

        Property property = Prop.ForAll(requests.ToArbitrary(), request =>
        {
            string answer = SendRaw(port, request);
            bool answered = answer.Length == 0 || answer.StartsWith("HTTP/1.1 ", StringComparison.Ordinal);
            return answered && target.Result is null;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases), property);

        // The honest callback still completes.
        using var http = new HttpClient();
        HttpResponseMessage honest = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/callback?code=real-code&state=the-honest-state-7f3a"));
        Assert.Equal(HttpStatusCode.OK, honest.StatusCode);
        Assert.Equal("real-code", target.Result!.Params["code"]);
    }

    private static byte[] Build(string method, string path, string host, string contentType, int bodyLength, int declaredDelta, byte[] junk, bool chunked)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n");
        if (host.Length > 0)
        {
            head.Append("Host: ").Append(host).Append("\r\n");
        }

        byte[] body = new byte[Math.Min(bodyLength, 70_000)];
        Random.Shared.NextBytes(body);
        if (contentType.Length > 0)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        if (chunked)
        {
            head.Append("Transfer-Encoding: chunked\r\n");
        }
        else
        {
            head.Append("Content-Length: ").Append(Math.Max(0, body.Length + declaredDelta)).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        byte[] headBytes = Encoding.Latin1.GetBytes(head.ToString());
        return [.. headBytes, .. junk, .. body];
    }

    // Sends the bytes, half-closes, and reads whatever comes back within 5 s.
    private static string SendRaw(int port, byte[] request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000, SendTimeout = 5000 };
        socket.Connect(IPAddress.Loopback, port);
        try
        {
            socket.Send(request);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The server may close early (a body too large); what it answered is read below.
        }

        var received = new MemoryStream();
        byte[] buffer = new byte[8192];
        try
        {
            int read;
            while ((read = socket.Receive(buffer)) > 0 && received.Length < 1_000_000)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }
}
