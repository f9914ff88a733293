using System.Diagnostics;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// The file store trusts nothing that is not the user's own (issue 14, point 7), through the real process: a folder
/// or file of another user or writable by others is refused with -32009 and advice; damaged items (null members, a
/// FIFO) are moved aside and reported, and the account starts empty; temporary files of killed writes are removed.
/// </summary>
public sealed class FileStoreHardeningTests
{
    [Fact]
    public async Task A_credentials_folder_others_can_write_is_refused_with_advice()
    {
        string data = TestTemp.CreateDirectory("planted").FullName;
        string credentials = Path.Combine(data, "credentials");
        Directory.CreateDirectory(credentials);
        File.SetUnixFileMode(credentials, (UnixFileMode)0b111_111_111); // 0777
        File.WriteAllText(Path.Combine(credentials, "index.json"), """{"version":1,"accounts":[{"account":"mallory","clientId":"native-app","issuer":"http://x","scopes":[],"updatedAt":1}]}""");

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        RpcError refused = await sidecar.CallExpectingErrorAsync("listAccounts", new { });
        Assert.Equal(-32009, refused.Code);
        Assert.Equal("file", refused.DataString("backend"));
        Assert.Contains("can be written by other users (mode 777)", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"chmod 700 {credentials}", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("mallory", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_folder_of_another_user_is_refused()
    {
        // Planting files as another user needs root (chown); CI runs as root.
        if (Environment.UserName != "root")
        {
            Assert.False(Requires.InCI, "CI must run as root: planting files of another user needs chown.");
            Assert.Skip("Planting files of another user needs root (chown); run as root to check ownership.");
        }

        string data = TestTemp.CreateDirectory("planted").FullName;
        string credentials = Path.Combine(data, "credentials");
        Directory.CreateDirectory(credentials);
        File.WriteAllText(Path.Combine(credentials, "index.json"), """{"version":1,"accounts":[]}""");
        File.SetUnixFileMode(Path.Combine(credentials, "index.json"), (UnixFileMode)0b110_100_100); // 0644
        Run("chown", "-R", "65534:65534", data);

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        RpcError refused = await sidecar.CallExpectingErrorAsync("listAccounts", new { });
        Assert.Equal(-32009, refused.Code);
        Assert.Contains("belongs to another user (uid 65534", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"version":1,"accounts":null}""")]
    [InlineData("""{"version":1,"accounts":[null]}""")]
    [InlineData("""{"version":1,"accounts":[{"account":"a","clientId":"c","issuer":"i","scopes":null,"updatedAt":1}]}""")]
    [InlineData("""not json""")]
    public async Task A_damaged_index_is_moved_aside_reported_and_the_store_starts_empty(string index)
    {
        string data = TestTemp.CreateDirectory("damaged").FullName;
        string credentials = Path.Combine(data, "credentials");
        Directory.CreateDirectory(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(credentials, "index.json"), index);
        File.SetUnixFileMode(Path.Combine(credentials, "index.json"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        JsonArray accounts = (await sidecar.CallAsync("listAccounts", new { }))!.AsArray();
        Assert.Empty(accounts);
        await sidecar.WaitForNotificationAsync("window/logMessage", n => n.Str("message").Contains("damaged credential item", StringComparison.Ordinal));
        string aside = Assert.Single(Directory.GetFiles(credentials, "index.json.damaged-*"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(aside));
        Assert.Equal(index, File.ReadAllText(aside));
        Assert.Empty((await sidecar.CallAsync("listAccounts", new { }))!.AsArray()); // and it keeps working
    }

    [Fact]
    public async Task A_fifo_at_the_index_path_does_not_hang_the_store()
    {
        string data = TestTemp.CreateDirectory("fifo").FullName;
        string credentials = Path.Combine(data, "credentials");
        Directory.CreateDirectory(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Run("mkfifo", "-m", "600", Path.Combine(credentials, "index.json"));

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        Assert.Empty((await sidecar.CallAsync("listAccounts", new { }, TimeSpan.FromSeconds(20)))!.AsArray());
        Assert.Single(Directory.GetFiles(credentials, "index.json.damaged-*"));
    }

    [Fact]
    public async Task A_damaged_account_needs_a_new_sign_in_instead_of_failing_every_call()
    {
        IdpServer idp = await IdpServer.Shared;
        string data = TestTemp.CreateDirectory("damaged-account").FullName;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        sidecar.RequestHandler = (method, parameters) =>
        {
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        Assert.Equal("alice", (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!.Str("account"));

        string item = Assert.Single(Directory.GetFiles(Path.Combine(data, "credentials"), "acct-*.json"));
        JsonObject account = JsonNode.Parse(File.ReadAllText(item))!.AsObject();
        account["tokens"] = new JsonArray((JsonNode?)null);
        File.WriteAllText(item, account.ToJsonString());

        // A fresh process (the reuse window of the first would answer from memory).
        await using SidecarProcess second = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        string again = await Sign.CreateNativeClientAsync(second, idp);
        RpcError required = await second.CallExpectingErrorAsync("getCredentials", new { clientHandle = again, interactive = "none" });
        Assert.Equal(-32008, required.Code);
        Assert.Single(Directory.GetFiles(Path.Combine(data, "credentials"), "acct-*.json.damaged-*"));
    }

    [Fact]
    public async Task Temporary_files_of_killed_writes_are_removed_at_start_and_at_sign_out()
    {
        IdpServer idp = await IdpServer.Shared;
        string data = TestTemp.CreateDirectory("leftovers").FullName;
        string credentials = Path.Combine(data, "credentials");
        Directory.CreateDirectory(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string dead = Path.Combine(credentials, "index.json.999999999.0a1b2c3d.tmp"); // no such process
        string running = Path.Combine(credentials, $"index.json.{Environment.ProcessId}.0a1b2c3d.tmp"); // a live writer's
        File.WriteAllText(dead, """{"refreshToken":"left-behind"}""");
        File.WriteAllText(running, "{}");

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "file"], new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data });
        await sidecar.CallAsync("listAccounts", new { });
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(running));

        sidecar.RequestHandler = (method, parameters) =>
        {
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        await sidecar.CallAsync("getCredentials", new { clientHandle = client });
        string item = Assert.Single(Directory.GetFiles(credentials, "acct-*.json"));
        string orphan = $"{item}.{Environment.ProcessId}.99887766.tmp";
        File.WriteAllText(orphan, """{"refreshToken":"left-behind"}""");

        await sidecar.CallAsync("signOut", new { clientHandle = client });
        Assert.False(File.Exists(orphan));
        Assert.Empty(Directory.GetFiles(credentials, "acct-*"));
    }

    private static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {process.StandardError.ReadToEnd()}");
    }
}
