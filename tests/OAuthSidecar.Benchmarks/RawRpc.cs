using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OAuthSidecar.Benchmarks;

/// <summary>
/// A lean JSON-RPC client over a child process's pipes (LSP framing), so the harness measures the server, not itself.
/// </summary>
public sealed class RawRpc : IAsyncDisposable
{
    private readonly Process process;
    private readonly Stream input;
    private readonly Stream output;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonObject?>> pending = new();
    private readonly ConcurrentQueue<byte[]> outgoing = new();
    private readonly ArrayBufferWriter<byte> batch = new(1 << 16);
    private readonly Task reader;
    private int writing;

    /// <summary>Set while the reader thread completes requests: what their continuations send is flushed once, after the read.</summary>
    [ThreadStatic]
    private static bool dispatching;
    private long nextId;

    private RawRpc(Process process)
    {
        this.process = process;
        this.input = process.StandardInput.BaseStream;
        this.output = process.StandardOutput.BaseStream;
        this.reader = Task.Run(this.ReadAsync);
    }

    public event Action<string, JsonNode?>? Notification;

    public int ProcessId => this.process.Id;

    public static RawRpc Start(string file, IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach ((string k, string? v) in environment)
            {
                info.Environment[k] = v;
            }
        }

        Process p = Process.Start(info)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return new RawRpc(p);
    }

    public async Task<JsonObject> RequestAsync(string method, JsonNode? parameters)
    {
        long id = Interlocked.Increment(ref this.nextId);
        var tcs = new TaskCompletionSource<JsonObject?>(TaskCreationOptions.RunContinuationsAsynchronously);
        this.pending[id] = tcs;
        string json = parameters is null
            ? $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{method}\"}}"
            : $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{method}\",\"params\":{parameters.ToJsonString()}}}";
        this.Send(json);
        return (await tcs.Task.WaitAsync(TimeSpan.FromSeconds(120)))!;
    }

    public async Task<JsonNode?> CallAsync(string method, JsonNode? parameters)
    {
        JsonObject answer = await this.RequestAsync(method, parameters);
        if (answer["error"] is { } error)
        {
            throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        }

        return answer["result"];
    }

    /// <summary>
    /// Sends a pre-serialised request body and completes when its response arrives, without parsing the response
    /// (the hot loop of the round-trip benchmarks): the driver must cost far less than the server it measures.
    /// The continuation runs on the reader thread, as a client library's would.
    /// </summary>
    public Task RequestRawAsync(string methodAndParams)
    {
        long id = Interlocked.Increment(ref this.nextId);
        var tcs = new TaskCompletionSource<JsonObject?>(TaskCreationOptions.None);
        this.pending[id] = tcs;
        this.Send($"{{\"jsonrpc\":\"2.0\",\"id\":{id},{methodAndParams}}}");
        return tcs.Task;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            this.input.Close();
            await this.process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        }
        catch (Exception)
        {
            try
            {
                this.process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }

        await Task.WhenAny(this.reader, Task.Delay(1000));
        this.process.Dispose();
    }

    private void Send(string json)
    {
        int bodyLength = Encoding.UTF8.GetByteCount(json);
        byte[] frame = new byte[bodyLength + 32];
        int headerLength = Encoding.ASCII.GetBytes($"Content-Length: {bodyLength}\r\n\r\n", frame);
        Encoding.UTF8.GetBytes(json, frame.AsSpan(headerLength));
        Array.Resize(ref frame, headerLength + bodyLength);
        this.outgoing.Enqueue(frame);
        if (!dispatching)
        {
            this.Flush();
        }
    }

    /// <summary>
    /// Writes what is queued: the caller that finds no write in progress writes every queued frame in one
    /// synchronous write (with one call in flight that is the caller's own frame, at once; with many, one
    /// syscall carries many frames).
    /// </summary>
    private void Flush()
    {
        while (!this.outgoing.IsEmpty && Interlocked.CompareExchange(ref this.writing, 1, 0) == 0)
        {
            try
            {
                this.batch.Clear();
                while (this.batch.WrittenCount < (1 << 16) && this.outgoing.TryDequeue(out byte[]? frame))
                {
                    this.batch.Write(frame);
                }

                this.input.Write(this.batch.WrittenSpan);
                this.input.Flush();
            }
            catch (IOException)
            {
            }
            finally
            {
                Volatile.Write(ref this.writing, 0);
            }
        }
    }

    private async Task ReadAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        int count = 0;
        try
        {
            while (true)
            {
                int read = await this.output.ReadAsync(buffer.AsMemory(count));
                if (read == 0)
                {
                    return;
                }

                count += read;
                int start = 0;
                dispatching = true;
                while (true)
                {
                    int end = buffer.AsSpan(start, count - start).IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        break;
                    }

                    ReadOnlySpan<byte> header = buffer.AsSpan(start, end);
                    int length = int.Parse(Encoding.ASCII.GetString(header)["Content-Length: ".Length..]);
                    int bodyStart = start + end + 4;
                    if (count - bodyStart < length)
                    {
                        break;
                    }

                    this.Dispatch(buffer.AsSpan(bodyStart, length));
                    start = bodyStart + length;
                }

                dispatching = false;
                this.Flush();
                Buffer.BlockCopy(buffer, start, buffer, 0, count - start);
                count -= start;
                if (count == buffer.Length)
                {
                    throw new InvalidOperationException("A message larger than 1 MiB.");
                }
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Dispatch(ReadOnlySpan<byte> body)
    {
        // A response to a raw request completes without building a DOM: only its id is read.
        if (body.IndexOf("\"method\""u8) < 0 && TryReadId(body, out long rawId) && this.pending.TryGetValue(rawId, out TaskCompletionSource<JsonObject?>? raw)
            && !raw.Task.CreationOptions.HasFlag(TaskCreationOptions.RunContinuationsAsynchronously))
        {
            this.pending.TryRemove(rawId, out _);
            raw.TrySetResult(null);
            return;
        }

        JsonObject message = JsonNode.Parse(body)!.AsObject();
        if (message["method"] is JsonValue method)
        {
            if (message["id"] is null)
            {
                this.Notification?.Invoke(method.GetValue<string>(), message["params"]);
            }

            return;
        }

        if (message["id"] is JsonValue id && id.TryGetValue(out long value) && this.pending.TryRemove(value, out TaskCompletionSource<JsonObject?>? tcs))
        {
            tcs.TrySetResult(message);
        }
    }

    private static bool TryReadId(ReadOnlySpan<byte> body, out long id)
    {
        var reader = new Utf8JsonReader(body);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId && reader.TokenType == JsonTokenType.Number)
            {
                return reader.TryGetInt64(out id);
            }

            reader.Skip();
        }

        id = 0;
        return false;
    }
}
