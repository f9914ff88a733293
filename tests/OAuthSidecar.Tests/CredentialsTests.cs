using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// getCredentials, listAccounts and signOut against the real provider, with the file store, the memory store and a
/// real Secret Service (gnome-keyring in a private D-Bus session). Each test has a provider of its own (its
/// counters are asserted).
/// </summary>
public sealed class CredentialsTests
{
    private static readonly string[] Scopes = ["openid", "offline_access", "profile"];

    [Fact]
    public async Task Interactive_none_with_nothing_stored_is_interaction_required()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        RpcError error = await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = client, interactive = "none" });
        Assert.Equal(-32008, error.Code);
        Assert.Contains("interactive", error.Message, StringComparison.Ordinal);
        Assert.Empty((await sidecar.CallAsync("listAccounts", new { clientHandle = client }))!.AsArray());
    }

    [Fact]
    public async Task File_store_survives_a_restart_and_is_private_to_the_user()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        string data = TestTemp.CreateDirectory("creds").FullName;
        var environment = new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data };
        string accessToken;
        await using (SidecarProcess first = await SidecarProcess.StartAsync(["--storage", "file"], environment))
        {
            (string client, Counter shown) = await PrepareAsync(first, idp);
            JsonNode tokens = (await first.CallAsync("getCredentials", new { clientHandle = client }))!;
            Assert.Equal("alice", tokens.Str("account"));
            Assert.Equal(1, shown.Value);
            accessToken = tokens.Str("accessToken");
            await first.WaitForStderrAsync("0600"); // the opt-in file store says what it is
        }

        foreach (string file in Directory.GetFiles(Path.Combine(data, "credentials")))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.DoesNotContain(".tmp", file, StringComparison.Ordinal);
        }

        int tokenRequests = await TokenRequestsAsync(idp);
        await using SidecarProcess second = await SidecarProcess.StartAsync(["--storage", "file"], environment);
        string again = await Sign.CreateNativeClientAsync(second, idp, Scopes);
        JsonNode stored = (await second.CallAsync("getCredentials", new { clientHandle = again, interactive = "none" }))!;
        Assert.Equal(accessToken, stored.Str("accessToken"));
        Assert.Equal(tokenRequests, await TokenRequestsAsync(idp));

        JsonArray accounts = (await second.CallAsync("listAccounts", new { clientHandle = again }))!.AsArray();
        JsonNode account = Assert.Single(accounts)!;
        Assert.Equal("alice", account.Str("account"));
        Assert.Equal("alice", account.Str("username"));
        Assert.Equal("native-app", account.Str("clientId"));
        Assert.Equal(idp.Issuer, account.Str("issuer"));
        Assert.Contains("openid", account["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.DoesNotContain(accessToken, account.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fifty_concurrent_calls_share_one_sign_in_and_one_token_request()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        (string client, Counter shown) = await PrepareAsync(sidecar, idp);
        int before = await TokenRequestsAsync(idp);

        Task<JsonObject>[] calls = Enumerable.Range(0, 50).Select(_ => sidecar.Start("getCredentials", new { clientHandle = client, scopes = Scopes }).Response).ToArray();
        JsonObject[] answers = await Task.WhenAll(calls);
        string[] tokens = answers.Select(a => a["result"].Str("accessToken")).Distinct().ToArray();
        Assert.Single(tokens);
        Assert.Equal(1, shown.Value);
        Assert.Equal(before + 1, await TokenRequestsAsync(idp));

        // Within 60 s the result is reused: no further request.
        Assert.Equal(tokens[0], (await sidecar.CallAsync("getCredentials", new { clientHandle = client, scopes = Scopes }))!.Str("accessToken"));
        Assert.Equal(before + 1, await TokenRequestsAsync(idp));
    }

    [Fact]
    public async Task An_expiring_access_token_is_refreshed_once_silently_and_a_revoked_grant_signs_in_again()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--access-token-ttl", "1"]);
        string data = TestTemp.CreateDirectory("creds").FullName;
        var environment = new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data };
        string refreshToken;
        long expiresAt;
        await using (SidecarProcess first = await SidecarProcess.StartAsync(["--storage", "file"], environment))
        {
            (string client, _) = await PrepareAsync(first, idp);
            JsonNode signedIn = (await first.CallAsync("getCredentials", new { clientHandle = client }))!;
            refreshToken = signedIn.Str("refreshToken");
            expiresAt = signedIn["expiresAt"]!.GetValue<long>();
        }

        // An expired token (a stored token is handed out while it has min(5 min, half its lifetime) left): the next
        // process refreshes it, once.
        await Sign.WaitUntilPastAsync(expiresAt);
        await using (SidecarProcess second = await SidecarProcess.StartAsync(["--storage", "file"], environment))
        {
            (string client, Counter shown) = await PrepareAsync(second, idp);
            int refreshes = await RefreshRequestsAsync(idp);
            JsonNode refreshed = (await second.CallAsync("getCredentials", new { clientHandle = client, interactive = "none" }))!;
            Assert.Equal(refreshes + 1, await RefreshRequestsAsync(idp));
            Assert.Equal(0, shown.Value);
            Assert.NotEqual(refreshToken, refreshed.Str("refreshToken"));
            JsonObject rotated = await second.WaitForNotificationAsync("refreshTokenUpdated");
            Assert.Equal(refreshed.Str("refreshToken"), rotated.Str("refreshToken"));
            refreshToken = refreshed.Str("refreshToken");
            expiresAt = refreshed["expiresAt"]!.GetValue<long>();
        }

        // The grant is revoked at the provider: no silent way left (the refreshed 1 s token has expired too: a fast
        // start could otherwise still be handed it); interactive 'none' says so, 'browser' signs in.
        await Sign.WaitUntilPastAsync(expiresAt);
        using (HttpResponseMessage revoked = await idp.Http.PostAsync(idp.Issuer + "/token/revocation", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = refreshToken, ["client_id"] = "native-app" })))
        {
            revoked.EnsureSuccessStatusCode();
        }

        await using SidecarProcess third = await SidecarProcess.StartAsync(["--storage", "file"], environment);
        (string again, Counter signIns) = await PrepareAsync(third, idp);
        RpcError required = await third.CallExpectingErrorAsync("getCredentials", new { clientHandle = again, interactive = "none" });
        Assert.Equal(-32008, required.Code);
        Assert.Contains("invalid_grant", required.Message, StringComparison.Ordinal);
        JsonNode fresh = (await third.CallAsync("getCredentials", new { clientHandle = again }))!;
        Assert.Equal(1, signIns.Value);
        Assert.Equal("alice", fresh.Str("account"));
    }

    [Fact]
    public async Task Two_processes_sharing_a_store_never_redeem_a_rotated_refresh_token_twice()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--access-token-ttl", "1"]);
        string data = TestTemp.CreateDirectory("creds").FullName;
        var environment = new Dictionary<string, string?> { ["OAUTH_SIDECAR_DATA_DIR"] = data };
        long expiresAt;
        await using (SidecarProcess signer = await SidecarProcess.StartAsync(["--storage", "file"], environment))
        {
            (string client, _) = await PrepareAsync(signer, idp);
            expiresAt = (await signer.CallAsync("getCredentials", new { clientHandle = client }))!["expiresAt"]!.GetValue<long>();
        }

        // The stored token needs a refresh once it has expired; the refreshed one will be long-lived.
        await idp.ConfigAsync(new JsonObject { ["accessTokenTtl"] = 3600 });
        await Sign.WaitUntilPastAsync(expiresAt);
        await using SidecarProcess a = await SidecarProcess.StartAsync(["--storage", "file"], environment);
        await using SidecarProcess b = await SidecarProcess.StartAsync(["--storage", "file"], environment);
        string clientA = await Sign.CreateNativeClientAsync(a, idp, Scopes);
        string clientB = await Sign.CreateNativeClientAsync(b, idp, Scopes);
        int before = await RefreshRequestsAsync(idp);

        Task<JsonObject> fromA = a.Start("getCredentials", new { clientHandle = clientA, interactive = "none" }).Response;
        Task<JsonObject> fromB = b.Start("getCredentials", new { clientHandle = clientB, interactive = "none" }).Response;
        JsonObject[] both = await Task.WhenAll(fromA, fromB);
        Assert.All(both, r => Assert.Null(r["error"]));
        Assert.Equal(both[0]["result"].Str("accessToken"), both[1]["result"].Str("accessToken"));
        Assert.Equal(before + 1, await RefreshRequestsAsync(idp));

        // The grant is intact: had the old refresh token been redeemed twice, the provider would have revoked it.
        JsonObject introspection = await idp.IntrospectAsync(both[0]["result"].Str("refreshToken"));
        Assert.True(introspection["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Device_interaction_sends_the_device_code_notification()
    {
        await using IdpServer idp = await IdpServer.StartAsync(["--device-interval", "1"]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        string client = await Sign.CreateNativeClientAsync(sidecar, idp, Scopes);
        Task<JsonObject> call = sidecar.Start("getCredentials", new { clientHandle = client, interactive = "device" }).Response;
        JsonObject code = await sidecar.WaitForNotificationAsync("deviceCode");
        Assert.Contains(code.Str("userCode"), code.Str("message"), StringComparison.Ordinal);
        Assert.Equal(idp.Issuer + "/device", code.Str("verificationUri"));
        await idp.ApproveDeviceAsync(code.Str("userCode"));
        JsonObject answer = await call;
        Assert.Equal("alice", answer["result"].Str("account"));
        Assert.Equal("alice", (await sidecar.CallAsync("getCredentials", new { clientHandle = client, interactive = "none" }))!.Str("account"));
    }

    [Fact]
    public async Task Sign_out_revokes_the_refresh_token_at_the_provider_and_forgets_the_account()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--storage", "memory");
        (string client, _) = await PrepareAsync(sidecar, idp);
        string refreshToken = (await sidecar.CallAsync("getCredentials", new { clientHandle = client }))!.Str("refreshToken");
        Assert.True((await idp.IntrospectAsync(refreshToken))["active"]!.GetValue<bool>());

        Assert.Null(await sidecar.CallAsync("signOut", new { clientHandle = client }));
        Assert.False((await idp.IntrospectAsync(refreshToken))["active"]!.GetValue<bool>());
        Assert.Equal(1, (await idp.StatsAsync())["revocation"]!.GetValue<int>());
        Assert.Empty((await sidecar.CallAsync("listAccounts", new { clientHandle = client }))!.AsArray());
        Assert.Equal(-32008, (await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = client, interactive = "none" })).Code);
    }

    [Fact]
    public async Task Keyring_store_keeps_one_item_per_account_and_survives_a_restart()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        await using KeyringSession keyring = await KeyringSession.StartAsync();
        string accessToken;
        await using (SidecarProcess first = await SidecarProcess.StartAsync(["--storage", "keyring"], keyring.Environment))
        {
            JsonNode init = (await first.CallAsync("initialize", new { capabilities = new { showDocument = true } }))!;
            Assert.Contains("keyring", init["capabilities"]!["storage"]!.AsArray().Select(s => s!.GetValue<string>()));
            (string client, _) = await PrepareAsync(first, idp);
            accessToken = (await first.CallAsync("getCredentials", new { clientHandle = client }))!.Str("accessToken");
            // A second scope set of the same account: still one item for the account (plus the index).
            await first.CallAsync("getCredentials", new { clientHandle = client, scopes = new[] { "openid", "offline_access", "email" } });
        }

        Assert.Equal(2, await keyring.CountItemsAsync());
        Assert.False(Directory.Exists(Path.Combine(keyring.Root, "sidecar", "credentials"))); // nothing in files

        await using SidecarProcess second = await SidecarProcess.StartAsync(["--storage", "keyring"], keyring.Environment);
        string again = await Sign.CreateNativeClientAsync(second, idp, Scopes);
        Assert.Equal(accessToken, (await second.CallAsync("getCredentials", new { clientHandle = again, interactive = "none" }))!.Str("accessToken"));
        Assert.Single((await second.CallAsync("listAccounts", new { clientHandle = again }))!.AsArray());
    }

    [Fact]
    public async Task A_locked_or_missing_keyring_is_storage_unavailable_with_advice()
    {
        await using IdpServer idp = await IdpServer.StartAsync([]);
        string root;
        await using (KeyringSession create = await KeyringSession.StartAsync(unlocked: true))
        {
            root = create.Root; // creates the login keyring, then the session ends
        }

        await using KeyringSession locked = await KeyringSession.StartAsync(unlocked: false, root: root);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync(["--storage", "keyring"], locked.Environment);
        (string client, Counter shown) = await PrepareAsync(sidecar, idp);
        RpcError error = await sidecar.CallExpectingErrorAsync("getCredentials", new { clientHandle = client });
        Assert.Equal(-32009, error.Code);
        Assert.Equal("keyring", error.DataString("backend"));
        Assert.Contains("unlock", error.Message, StringComparison.Ordinal);
        Assert.Contains("'file'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, shown.Value); // refused before any sign-in

        // No Secret Service at all (no D-Bus session).
        await using SidecarProcess noBus = await SidecarProcess.StartAsync(["--storage", "keyring"], new Dictionary<string, string?> { ["DBUS_SESSION_BUS_ADDRESS"] = null, ["OAUTH_SIDECAR_DATA_DIR"] = TestTemp.CreateDirectory("nobus").FullName });
        string other = await Sign.CreateNativeClientAsync(noBus, idp, Scopes);
        Assert.Equal(-32009, (await noBus.CallExpectingErrorAsync("getCredentials", new { clientHandle = other })).Code);
        JsonNode init = (await noBus.CallAsync("initialize", new { }))!;
        Assert.DoesNotContain("keyring", init["capabilities"]!["storage"]!.AsArray().Select(s => s!.GetValue<string>()));

        // The caller may choose another backend per client.
        string inMemory = (await noBus.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", scopes = Scopes, storage = "memory" }))!.Str("clientHandle");
        Assert.Equal(-32008, (await noBus.CallExpectingErrorAsync("getCredentials", new { clientHandle = inMemory, interactive = "none" })).Code);
        RpcError unknown = await noBus.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", storage = "cloud" });
        Assert.Equal("storage", unknown.DataString("field"));
    }

    private static async Task<(string Client, Counter Shown)> PrepareAsync(SidecarProcess sidecar, IdpServer idp)
    {
        var shown = new Counter();
        sidecar.RequestHandler = (method, parameters) =>
        {
            Assert.Equal("window/showDocument", method);
            Interlocked.Increment(ref shown.Value);
            _ = idp.AuthorizeAsync(parameters.Str("uri"));
            return new JsonObject { ["success"] = true };
        };
        await sidecar.CallAsync("initialize", new { capabilities = new { showDocument = true } });
        return (await Sign.CreateNativeClientAsync(sidecar, idp, Scopes), shown);
    }

    private static async Task<int> TokenRequestsAsync(IdpServer idp) => (await idp.StatsAsync())["token"]!["total"]!.GetValue<int>();

    private static async Task<int> RefreshRequestsAsync(IdpServer idp) =>
        (await idp.StatsAsync())["token"]!["byGrantType"]!["refresh_token"]?.GetValue<int>() ?? 0;

    private sealed class Counter
    {
        public int Value;
    }
}
