using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>Opening the browser: window/showDocument, the system launcher (a fake browser that prints), no display.</summary>
public sealed class BrowserTests
{
    [Fact]
    public async Task Obtain_token_by_browser_with_a_launcher_that_writes_to_stdout_leaves_the_protocol_unharmed()
    {
        IdpServer idp = await IdpServer.Shared;
        string dir = TestTemp.CreateDirectory("fake-browser").FullName;
        string script = Path.Combine(dir, "browser.sh");
        // A "browser" that floods stdout and stderr (as real ones do), then plays the user through the provider: it is
        // given a private page that forwards to the authorization URL (never the URL itself), as a real browser would be.
        File.WriteAllText(script, $$"""
            #!/bin/sh
            echo 'Content-Length: 40'
            echo ''
            echo '{"jsonrpc":"2.0","id":1,"result":"oops"}'
            echo "GARBAGE FROM THE BROWSER $1" >&2
            exec node -e '{{FakeBrowser.FollowPage}}' '{{idp.Control}}' "$1"
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["BROWSER"] = script });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByBrowser", new { clientHandle = client }))!;
        Assert.Equal("alice", tokens.Str("account"));

        // Nothing the browser printed reached the protocol stream: no stray message, and the process still serves.
        Assert.Empty(sidecar.Unmatched);
        Assert.Equal("1.1", (await sidecar.CallAsync("initialize", new { }))!.Str("protocolVersion"));
        Assert.DoesNotContain(sidecar.Notifications, n => n.ToJsonString().Contains("oops", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_caller_that_declares_show_document_is_asked_to_open_the_uri()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        var shown = new List<JsonNode?>();
        sidecar.RequestHandler = (method, parameters) =>
        {
            Assert.Equal("window/showDocument", method);
            shown.Add(parameters);
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);

        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByBrowser", new { clientHandle = client }))!;
        Assert.Equal("alice", tokens.Str("account"));
        JsonNode request = Assert.Single(shown)!;
        Assert.True(request["external"]!.GetValue<bool>());
        Assert.StartsWith(idp.Issuer + "/auth?", request.Str("uri"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_caller_cannot_show_the_document_the_url_is_logged_and_the_flow_keeps_waiting()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        sidecar.RequestHandler = (_, _) => new JsonObject { ["success"] = false };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client }))!.AsObject();

        JsonObject log = await sidecar.WaitForNotificationAsync("window/logMessage", n => n.Str("message").Contains(flow.Str("authUri"), StringComparison.Ordinal));
        Assert.Equal(2, log["type"]!.GetValue<int>());
        await idp.AuthorizeAsync(flow.Str("authUri"));
        Assert.Equal("alice", (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!.Str("account"));
    }

    [Fact]
    public async Task The_launcher_gets_a_private_page_never_the_authorization_url()
    {
        IdpServer idp = await IdpServer.Shared;
        string dir = TestTemp.CreateDirectory("fake-browser").FullName;
        string runtime = TestTemp.CreateDirectory("runtime").FullName;
        string seen = Path.Combine(dir, "seen");
        string script = Path.Combine(dir, "browser.sh");
        // Records what another local user could read (the command line) and the page's permissions, then signs in.
        File.WriteAllText(script, $$"""
            #!/bin/sh
            echo "ARGS $*" > '{{seen}}'
            echo "PAGE $(stat -c %a "$1") DIR $(stat -c %a "$(dirname "$1")")" >> '{{seen}}'
            cat "$1" >> '{{seen}}'
            exec node -e '{{FakeBrowser.FollowPage}}' '{{idp.Control}}' "$1"
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        string? folder;
        await using (SidecarProcess sidecar = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["BROWSER"] = script, ["XDG_RUNTIME_DIR"] = runtime }))
        {
            string client = await Sign.CreateNativeClientAsync(sidecar, idp);
            JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client }))!.AsObject();
            Assert.Equal("alice", (await sidecar.CallAsync("obtainTokenByAuthCodeFlow", new { flowId = flow.Str("flowId") }))!.Str("account"));

            string[] lines = File.ReadAllLines(seen);
            string args = lines[0];
            Assert.DoesNotContain(flow.Str("state"), args, StringComparison.Ordinal);
            Assert.DoesNotContain("code_challenge", args, StringComparison.Ordinal);
            Assert.DoesNotContain(idp.Issuer, args, StringComparison.Ordinal);
            Assert.StartsWith($"ARGS {runtime}/oauth-sidecar-launch-", args, StringComparison.Ordinal);
            Assert.Equal("PAGE 600 DIR 700", lines[1]);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(flow.Str("authUri")), string.Join('\n', lines[2..]), StringComparison.Ordinal);
            folder = Path.GetDirectoryName(args["ARGS ".Length..].Trim());
            Assert.True(Directory.Exists(folder));
        }

        Assert.False(Directory.Exists(folder), "the page folder outlived the process");
    }

    [Fact]
    public async Task Without_a_display_nothing_is_launched_and_the_url_is_logged_with_advice()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync([], new Dictionary<string, string?> { ["SSH_CONNECTION"] = "10.0.0.1 5000 10.0.0.2 22" });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = client }))!.AsObject();
        JsonObject log = await sidecar.WaitForNotificationAsync("window/logMessage", n => n.Str("message").Contains("No browser was opened", StringComparison.Ordinal));
        Assert.Contains(flow.Str("authUri"), log.Str("message"), StringComparison.Ordinal);
        Assert.Contains("SSH", log.Str("message"), StringComparison.Ordinal);
        await sidecar.WaitForStderrAsync(flow.Str("authUri")); // stderr is a separate pipe: its line may come after the notification
    }
}

/// <summary>A fake browser's logic: read the forwarding page it was given and play the user at its URL.</summary>
internal static class FakeBrowser
{
    /// <summary>Node code: argv[1] is the provider's control URL, argv[2] the page; prints the provider's answer.</summary>
    public const string FollowPage =
        "const fs = require(\"fs\"); const html = fs.readFileSync(process.argv[2], \"utf8\"); " +
        "const url = html.match(/url=([^\"]+)\"/)[1].replace(/&amp;/g, \"&\").replace(/&#39;/g, \"\\x27\").replace(/&quot;/g, \"\\x22\"); " +
        "fetch(process.argv[1] + \"/authorize\", { method: \"POST\", headers: { \"content-type\": \"application/json\" }, body: JSON.stringify({ url }) }).then(r => r.text()).then(t => console.log(t))";
}
