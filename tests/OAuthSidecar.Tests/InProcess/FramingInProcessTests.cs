using System.Text.Json.Nodes;
using OAuthSidecar.Rpc;

namespace OAuthSidecar.Tests.InProcess;

/// <summary>The framing handler and the error mapping in process: every bad frame gets its error and the server serves on.</summary>
public sealed class FramingInProcessTests
{
    [Theory]
    [InlineData(Framing.Lsp)]
    [InlineData(Framing.Newline)]
    public async Task A_frame_that_is_not_json_gets_parse_error_and_the_next_request_is_served(Framing framing)
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync(framing);
        await sidecar.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
        JsonObject parseError = await sidecar.ReadAsync();
        Assert.Equal(-32700, parseError["error"]!["code"]!.GetValue<int>());

        JsonObject answer = await sidecar.CallAsync("initialize", new { });
        Assert.Equal("oauth-sidecar", answer["result"]!["serverInfo"]!["name"]!.GetValue<string>());
        Assert.Equal(1, sidecar.Server.Handler.RejectedFrames);
    }

    [Fact]
    public async Task An_oversized_frame_is_refused_without_reading_it_whole()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync(Framing.Lsp, maxMessageBytes: 1024);
        await sidecar.SendAsync($"{{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\",\"params\":{{\"pad\":\"{new string('x', 4096)}\"}}}}");
        JsonObject refused = await sidecar.ReadAsync();
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        Assert.Contains("1024", refused["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        JsonObject answer = await sidecar.CallAsync("initialize");
        Assert.NotNull(answer["result"]);
    }

    [Theory]
    [InlineData("content-length: {0}\r\n\r\n")]
    [InlineData("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {0}\r\n\r\n")]
    [InlineData("Content-Length:\t{0}\r\n\r\n")]
    public async Task Header_variants_are_read(string header)
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        const string Body = """{"jsonrpc":"2.0","id":3,"method":"initialize","params":{}}""";
        await sidecar.SendRawAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, header, Body.Length) + Body);
        JsonObject answer = await sidecar.ResponseAsync(3);
        Assert.NotNull(answer["result"]);
    }

    [Fact]
    public async Task A_message_that_is_not_a_request_gets_invalid_request()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync(Framing.Newline);
        await sidecar.SendAsync("[1,2,3]");
        JsonObject refused = await sidecar.ReadAsync();
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        Assert.NotNull((await sidecar.CallAsync("initialize"))["result"]);
    }
}
