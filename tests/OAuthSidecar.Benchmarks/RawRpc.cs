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
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonObject>> pending = new();
    private readonly SemaphoreSlim writeGate = new(1);
    private readonly Task reader;
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
        var tcs = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        this.pending[id] = tcs;
        string json = parameters is null
            ? $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{method}\"}}"
            : $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{method}\",\"params\":{parameters.ToJsonString()}}}";
        await this.WriteAsync(json);
        return await tcs.Task.WaitAsync(TimeSpan.FromSeconds(120));
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

    /// <summary>Sends a pre-serialised request body (the hot loop of the round-trip benchmarks).</summary>
    public async Task<JsonObject> RequestRawAsync(string methodAndParams)
    {
        long id = Interlocked.Increment(ref this.nextId);
        var tcs = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        this.pending[id] = tcs;
        await this.WriteAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{id},{methodAndParams}}}");
        return await tcs.Task;
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

    private async Task WriteAsync(string json)
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        byte[] frame = new byte[body.Length + 32];
        int headerLength = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n", frame);
        body.CopyTo(frame, headerLength);
        await this.writeGate.WaitAsync();
        try
        {
            await this.input.WriteAsync(frame.AsMemory(0, headerLength + body.Length));
            await this.input.FlushAsync();
        }
        finally
        {
            this.writeGate.Release();
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

                    this.Dispatch(JsonNode.Parse(buffer.AsSpan(bodyStart, length))!.AsObject());
                    start = bodyStart + length;
                }

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

    private void Dispatch(JsonObject message)
    {
        if (message["method"] is JsonValue method)
        {
            if (message["id"] is null)
            {
                this.Notification?.Invoke(method.GetValue<string>(), message["params"]);
            }

            return;
        }

        if (message["id"] is JsonValue id && id.TryGetValue(out long value) && this.pending.TryRemove(value, out TaskCompletionSource<JsonObject>? tcs))
        {
            tcs.TrySetResult(message);
        }
    }
}
