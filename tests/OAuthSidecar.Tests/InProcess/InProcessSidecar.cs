using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Core.Tests.Engine;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Tests.InProcess;

/// <summary>
/// The sidecar's JSON-RPC server in this process, on in-memory <see cref="Pipe"/>s (vs-streamjsonrpc style): the real
/// framing handler, connection, error mapping, RPC target and engine, with the engine's HTTP going to a stub
/// authorization server. Raw frames in, parsed messages out.
/// </summary>
internal sealed class InProcessSidecar : IAsyncDisposable
{
    private readonly Pipe input = new();
    private readonly Pipe output = new();
    private readonly Framing framing;
    private SidecarServer? server;
    private long nextId;

    private InProcessSidecar(Framing framing, StubAuthorizationServer stub)
    {
        this.framing = framing;
        this.Stub = stub;
    }

    public StubAuthorizationServer Stub { get; }

    public StringWriter Diagnostics { get; } = new();

    public List<JsonObject> Notifications { get; } = [];

    public SidecarServer Server => this.server!;

    public static async Task<InProcessSidecar> StartAsync(Framing framing = Framing.Lsp, long maxMessageBytes = 4 * 1024 * 1024)
    {
        var sidecar = new InProcessSidecar(framing, new StubAuthorizationServer());
        var options = new HostOptions { Framing = framing, Storage = "memory", MaxMessageBytes = maxMessageBytes };
        sidecar.server = await SidecarServer.StartAsync(sidecar.input.Reader, sidecar.output.Writer, options, sidecar.Diagnostics, new SessionOptions { HttpHandlerFactory = _ => sidecar.Stub });
        return sidecar;
    }

    /// <summary>Frames and writes one message body.</summary>
    public Task SendAsync(string json) => this.SendRawAsync(this.framing == Framing.Lsp ? $"Content-Length: {Encoding.UTF8.GetByteCount(json)}\r\n\r\n{json}" : json + "\n");

    /// <summary>Writes bytes as they are (a broken frame, a partial header).</summary>
    public async Task SendRawAsync(string raw)
    {
        await this.input.Writer.WriteAsync(Encoding.UTF8.GetBytes(raw));
    }

    /// <summary>Sends a request and returns its response (notifications that come first are kept in <see cref="Notifications"/>).</summary>
    public async Task<JsonObject> CallAsync(string method, object? parameters = null)
    {
        long id = Interlocked.Increment(ref this.nextId);
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method };
        if (parameters is not null)
        {
            request["params"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(parameters));
        }

        await this.SendAsync(request.ToJsonString());
        return await this.ResponseAsync(id);
    }

    /// <summary>Reads messages until the response with <paramref name="id"/>.</summary>
    public async Task<JsonObject> ResponseAsync(long id)
    {
        while (true)
        {
            JsonObject message = await this.ReadAsync();
            if (message["id"] is JsonValue v && v.TryGetValue(out long got) && got == id)
            {
                return message;
            }

            this.Notifications.Add(message);
        }
    }

    /// <summary>Reads the next message the server writes.</summary>
    public async Task<JsonObject> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            ReadResult read = await this.output.Reader.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (this.TryTake(ref buffer, out string? body))
            {
                this.output.Reader.AdvanceTo(buffer.Start);
                return JsonNode.Parse(body!)!.AsObject();
            }

            Assert.False(read.IsCompleted, "the server closed its output");
            this.output.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await this.input.Writer.CompleteAsync();
        if (this.server is { } s)
        {
            await s.DisposeAsync();
        }
    }

    private bool TryTake(ref ReadOnlySequence<byte> buffer, out string? body)
    {
        body = null;
        string text = Encoding.UTF8.GetString(buffer.ToArray());
        if (this.framing == Framing.Newline)
        {
            int newline = text.IndexOf('\n', StringComparison.Ordinal);
            if (newline < 0)
            {
                return false;
            }

            body = text[..newline];
            buffer = buffer.Slice(Encoding.UTF8.GetByteCount(text[..(newline + 1)]));
            return true;
        }

        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        int length = int.Parse(text[..end].Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        int headerBytes = Encoding.UTF8.GetByteCount(text[..(end + 4)]);
        if (buffer.Length < headerBytes + length)
        {
            return false;
        }

        body = Encoding.UTF8.GetString(buffer.Slice(headerBytes, length).ToArray());
        buffer = buffer.Slice(headerBytes + length);
        return true;
    }
}
