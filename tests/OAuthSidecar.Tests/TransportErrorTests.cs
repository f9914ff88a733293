using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Tests;

/// <summary>
/// In process, on in-memory pipes: the errors StreamJsonRpc writes by itself leave in the protocol's words. The
/// -32601 answer names the method, which the message handler remembers by request id (StreamJsonRpc's own answer
/// does not carry it).
/// </summary>
public sealed class TransportErrorTests
{
    [Fact]
    public async Task An_unknown_method_is_named_in_its_answer_and_results_are_untouched()
    {
        var input = new Pipe();
        var output = new Pipe();
        var handler = new StdioMessageHandler(input.Reader, output.Writer, StdioHost.CreateFormatter(), Framing.Newline, 64 * 1024);
        using var rpc = new SidecarJsonRpc(handler, new SecretRedactor(), NullLogger.Instance);
        rpc.AddLocalRpcMethod("echo", new Func<string, string>(text => text));
        rpc.StartListening();

        await WriteLineAsync(input.Writer, """{"jsonrpc":"2.0","id":1,"method":"signInPlease","params":{}}""");
        await WriteLineAsync(input.Writer, """{"jsonrpc":"2.0","id":"two","method":"echo","params":["hi"]}""");
        await WriteLineAsync(input.Writer, """{"jsonrpc":"2.0","id":3,"method":"alsoMissing"}""");

        // Answers may come in any order: take them by id.
        var answers = new Dictionary<string, JsonObject>();
        for (int i = 0; i < 3; i++)
        {
            JsonObject answer = await ReadLineAsync(output.Reader);
            answers[answer["id"]!.ToJsonString().Trim('"')] = answer;
        }

        Assert.Equal(-32601, answers["1"]["error"]!["code"]!.GetValue<int>());
        Assert.StartsWith("The method 'signInPlease' does not exist.", answers["1"]["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("hi", answers["two"]["result"]!.GetValue<string>());
        Assert.StartsWith("The method 'alsoMissing' does not exist.", answers["3"]["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await input.Writer.CompleteAsync();
    }

    private static async Task WriteLineAsync(PipeWriter writer, string json)
    {
        await writer.WriteAsync(Encoding.UTF8.GetBytes(json + "\n"));
    }

    // Reads one newline-framed message; the read completes when the sidecar has written it (no polling).
    private static async Task<JsonObject> ReadLineAsync(PipeReader reader)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang guard
        while (true)
        {
            ReadResult read = await reader.ReadAsync(bound.Token);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } end)
            {
                string line = Encoding.UTF8.GetString(buffer.Slice(0, end));
                reader.AdvanceTo(buffer.GetPosition(1, end));
                return JsonNode.Parse(line)!.AsObject();
            }

            Assert.False(read.IsCompleted, "the output ended without a message");
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
