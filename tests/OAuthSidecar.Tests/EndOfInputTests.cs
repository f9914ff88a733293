using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// The end of stdin: every request read before it gets its answer before the process exits (a shell pipe such as
/// <c>printf '…' | oauth-sidecar --framing newline</c> prints the answer); one still waiting is cancelled (-32800).
/// </summary>
public sealed class EndOfInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_request_piped_in_newline_framing_is_answered_before_the_process_exits()
    {
        string version = (await RunToEndAsync([], "--version")).Stdout.Trim();

        (int code, string stdout) = await RunToEndAsync(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}\n"u8.ToArray(), "--framing", "newline");

        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        JsonObject answer = JsonNode.Parse(Assert.Single(lines))!.AsObject();
        Assert.Equal(1, answer["id"]!.GetValue<int>());
        Assert.Equal("oauth-sidecar", answer["result"]!["serverInfo"]!["name"]!.GetValue<string>());
        Assert.Equal(version, answer["result"]!["serverInfo"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task At_end_of_input_every_request_is_answered_and_one_still_waiting_is_cancelled()
    {
        (string file, string[] arguments) = RepoPaths.SidecarCommand();
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments.Append("--storage").Append("memory"))
        {
            info.ArgumentList.Add(argument);
        }

        using Process sidecar = Process.Start(info)!;
        Task<string> stderr = sidecar.StandardError.ReadToEndAsync();
        Stream stdin = sidecar.StandardInput.BaseStream;
        var stdout = new LspReader(sidecar.StandardOutput.BaseStream);

        // A callback server whose wait can only end by a redirect that never comes.
        await stdin.WriteAsync(Frame("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"startCallbackServer\",\"params\":{\"port\":0,\"scheme\":\"http\"}}"));
        await stdin.FlushAsync();
        JsonObject server = await stdout.ReadAnswerAsync(1).WaitAsync(Timeout);
        string flowId = server["result"]!["flowId"]!.GetValue<string>();
        int port = new Uri(server["result"]!["url"]!.GetValue<string>()).Port;

        // Three requests and the end of input, in one write: none of them has been answered yet.
        byte[] requests =
        [
            .. Frame($"{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"waitForCallback\",\"params\":{{\"flowId\":\"{flowId}\"}}}}"),
            .. Frame("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{}}"),
            .. Frame("{\"jsonrpc\":\"2.0\",\"id\":\"last\",\"method\":\"noSuchMethod\",\"params\":{}}"),
        ];
        await stdin.WriteAsync(requests);
        stdin.Close();

        List<JsonObject> answers = [];
        while (await stdout.ReadAsync().WaitAsync(Timeout) is { } message)
        {
            if (message["method"] is null)
            {
                answers.Add(message);
            }
        }

        await sidecar.WaitForExitAsync(new CancellationTokenSource(Timeout).Token);
        Assert.True(sidecar.ExitCode == 0, $"exit code {sidecar.ExitCode}; stderr:\n{await stderr}");
        JsonObject Answer(string id) => Assert.Single(answers, a => a["id"]!.ToJsonString().Trim('"') == id);
        Assert.Equal(-32800, Answer("2")["error"]!["code"]!.GetValue<int>());
        Assert.Equal("oauth-sidecar", Answer("3")["result"]!["serverInfo"]!["name"]!.GetValue<string>());
        Assert.Equal(-32601, Answer("last")["error"]!["code"]!.GetValue<int>());
        Assert.Equal(3, answers.Count);
        await AuthCodeFlowTests.AssertPortClosedAsync(port);
    }

    private static byte[] Frame(string json)
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        return [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n"), .. body];
    }

    private static async Task<(int Code, string Stdout)> RunToEndAsync(byte[] input, params string[] extra)
    {
        (string file, string[] arguments) = RepoPaths.SidecarCommand();
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments.Concat(extra))
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync(new CancellationTokenSource(Timeout).Token);
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stderr:\n{await stderr}");
        return (process.ExitCode, await stdout);
    }

    /// <summary>Reads LSP-framed messages from the sidecar's stdout until its end.</summary>
    private sealed class LspReader(Stream stream)
    {
        private readonly List<byte> buffer = [];
        private readonly byte[] chunk = new byte[16 * 1024];

        public async Task<JsonObject> ReadAnswerAsync(int id)
        {
            while (await this.ReadAsync() is { } message)
            {
                if (message["method"] is null && message["id"]?.GetValue<int>() == id)
                {
                    return message;
                }
            }

            throw new EndOfStreamException($"The sidecar closed stdout before answering request {id}.");
        }

        public async Task<JsonObject?> ReadAsync()
        {
            while (true)
            {
                int end = IndexOf(this.buffer, "\r\n\r\n"u8);
                if (end >= 0)
                {
                    string header = Encoding.ASCII.GetString([.. this.buffer[..end]]);
                    int length = int.Parse(header["Content-Length: ".Length..], CultureInfo.InvariantCulture);
                    if (this.buffer.Count >= end + 4 + length)
                    {
                        string json = Encoding.UTF8.GetString([.. this.buffer.GetRange(end + 4, length)]);
                        this.buffer.RemoveRange(0, end + 4 + length);
                        return JsonNode.Parse(json)!.AsObject();
                    }
                }

                int read = await stream.ReadAsync(this.chunk);
                if (read == 0)
                {
                    Assert.Empty(this.buffer);
                    return null;
                }

                this.buffer.AddRange(this.chunk.AsSpan(0, read));
            }
        }

        private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Count; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                {
                    j++;
                }

                if (j == needle.Length)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
