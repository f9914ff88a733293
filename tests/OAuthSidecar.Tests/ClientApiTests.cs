using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>MSAL's low-level client methods and createClient options, through the real process against the real provider.</summary>
public sealed class ClientApiTests
{
    [Fact]
    public async Task Build_auth_request_uri_adds_no_pkce_and_never_overrides_standard_parameters()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new
        {
            issuer = idp.Issuer,
            clientId = "native-app",
            scopes = new[] { "openid" },
            audience = "urn:sidecar:api",
            extraAuthParams = new Dictionary<string, string> { ["ui_locales"] = "fr" },
        }))!.Str("clientHandle");

        string uri = (await sidecar.CallAsync("buildAuthRequestUri", new { clientHandle = client, responseType = "code", redirectUri = "http://127.0.0.1/callback", state = "s1", extraParams = new Dictionary<string, string> { ["prompt"] = "login" } }))!.Str("uri");
        var query = HttpUtility.ParseQueryString(new Uri(uri).Query);
        Assert.StartsWith(idp.Issuer + "/auth?", uri, StringComparison.Ordinal);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("native-app", query["client_id"]);
        Assert.Equal("http://127.0.0.1/callback", query["redirect_uri"]);
        Assert.Equal("openid", query["scope"]);
        Assert.Equal("s1", query["state"]);
        Assert.Equal("urn:sidecar:api", query["audience"]);
        Assert.Equal("fr", query["ui_locales"]);
        Assert.Equal("login", query["prompt"]);
        Assert.Null(query["code_challenge"]);

        RpcError overriding = await sidecar.CallExpectingErrorAsync("buildAuthRequestUri", new { clientHandle = client, responseType = "code", state = "s1", extraParams = new Dictionary<string, string> { ["state"] = "evil" } });
        Assert.Equal(-32602, overriding.Code);
        Assert.Equal("extraParams.state", overriding.DataString("field"));

        RpcError atCreation = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", extraAuthParams = new Dictionary<string, string> { ["redirect_uri"] = "http://evil.example/cb" } });
        Assert.Equal(-32602, atCreation.Code);
        Assert.Equal("extraAuthParams.redirect_uri", atCreation.DataString("field"));
        RpcError tokenOverride = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", extraTokenParams = new Dictionary<string, string> { ["grant_type"] = "password" } });
        Assert.Equal("extraTokenParams.grant_type", tokenOverride.DataString("field"));
        RpcError refreshOverride = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = idp.Issuer, clientId = "native-app", extraRefreshParams = new Dictionary<string, string> { ["refresh_token"] = "x" } });
        Assert.Equal("extraRefreshParams.refresh_token", refreshOverride.DataString("field"));
    }

    [Fact]
    public async Task Parse_auth_response_reads_urls_queries_and_objects_and_checks_state_when_given()
    {
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        JsonNode fromUrl = (await sidecar.CallAsync("parseAuthResponse", new { url = "http://127.0.0.1:5000/callback?code=abc%2Fdef&state=s1&iss=https%3A%2F%2Fidp.example" }))!;
        Assert.Equal("abc/def", fromUrl.Str("code"));
        Assert.Equal("s1", fromUrl.Str("state"));
        Assert.Equal("https://idp.example", fromUrl.Str("iss"));

        JsonNode fromFragment = (await sidecar.CallAsync("parseAuthResponse", new { url = "myapp:/cb#access_token=tok&token_type=Bearer&state=s2" }))!;
        Assert.Equal("tok", fromFragment["params"].Str("access_token"));
        Assert.Equal("s2", fromFragment.Str("state"));

        JsonNode fromQuery = (await sidecar.CallAsync("parseAuthResponse", new { query = "?error=access_denied&error_description=The+user+said+no&state=s3", state = "s3" }))!;
        Assert.Equal("access_denied", fromQuery.Str("error"));
        Assert.Equal("The user said no", fromQuery.Str("errorDescription"));

        JsonNode fromParams = (await sidecar.CallAsync("parseAuthResponse", new { @params = new Dictionary<string, string> { ["code"] = "c", ["state"] = "s4" } }))!;
        Assert.Equal("c", fromParams.Str("code"));

        RpcError mismatch = await sidecar.CallExpectingErrorAsync("parseAuthResponse", new { query = "code=c&state=other", state = "expected" });
        Assert.Equal(-32002, mismatch.Code);
        Assert.Contains("state", mismatch.DataString("reason"), StringComparison.Ordinal);

        RpcError none = await sidecar.CallExpectingErrorAsync("parseAuthResponse", new { state = "x" });
        Assert.Equal(-32602, none.Code);
    }

    [Fact]
    public async Task Obtain_token_by_authorization_code_with_caller_managed_pkce()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = await Sign.CreateNativeClientAsync(sidecar, idp);
        string verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        string challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        const string redirect = "http://127.0.0.1:1/callback"; // nothing listens: the headless user does not deliver
        string uri = (await sidecar.CallAsync("buildAuthRequestUri", new
        {
            clientHandle = client,
            responseType = "code",
            redirectUri = redirect,
            state = "st",
            extraParams = new Dictionary<string, string> { ["code_challenge"] = challenge, ["code_challenge_method"] = "S256", ["nonce"] = "n-123" },
        }))!.Str("uri");

        JsonObject user = await idp.AuthorizeAsync(uri, deliver: false);
        JsonNode parsed = (await sidecar.CallAsync("parseAuthResponse", new { url = user.Str("callbackUrl"), state = "st" }))!;

        RpcError wrongVerifier = await sidecar.CallExpectingErrorAsync("obtainTokenByAuthorizationCode", new { clientHandle = client, code = parsed.Str("code"), redirectUri = redirect, codeVerifier = Base64Url(RandomNumberGenerator.GetBytes(32)) });
        Assert.Equal(-32003, wrongVerifier.Code);
        Assert.Equal("invalid_grant", wrongVerifier.DataString("error"));

        // A fresh code, with the right verifier and nonce.
        user = await idp.AuthorizeAsync(uri, deliver: false);
        parsed = (await sidecar.CallAsync("parseAuthResponse", new { url = user.Str("callbackUrl") }))!;
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenByAuthorizationCode", new { clientHandle = client, code = parsed.Str("code"), redirectUri = redirect, codeVerifier = verifier, nonce = "n-123" }))!;
        Assert.Equal("alice", tokens.Str("account"));
        Assert.Equal("n-123", tokens["idTokenClaims"].Str("nonce"));
        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained");
        Assert.Equal("authorization_code", obtained.Str("grantType"));
    }

    [Fact]
    public async Task Client_credentials_with_basic_and_post_secrets_and_a_resource()
    {
        IdpServer idp = await IdpServer.Shared;
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string basic = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "confidential-secret" }))!.Str("clientHandle");
        JsonNode tokens = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = basic, scopes = new[] { "api:read" }, resource = "urn:sidecar:api" }))!;
        Assert.Equal(["api:read"], tokens["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        JsonObject claims = JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlDecode(tokens.Str("accessToken").Split('.')[1])))!.AsObject();
        Assert.Equal("urn:sidecar:api", claims.Str("aud"));
        Assert.Equal("confidential-app", claims.Str("client_id"));
        JsonObject obtained = await sidecar.WaitForNotificationAsync("tokensObtained");
        Assert.Equal("client_credentials", obtained.Str("grantType"));

        string post = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "post-app", clientSecret = "post-secret", tokenEndpointAuthMethod = "client_secret_post", scopes = new[] { "api:write" } }))!.Str("clientHandle");
        JsonNode postTokens = (await sidecar.CallAsync("obtainTokenForClient", new { clientHandle = post }))!;
        Assert.Equal(["api:write"], postTokens["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));

        // A wrong secret: invalid_client.
        string wrongSecret = (await sidecar.CallAsync("createClient", new { issuer = idp.Issuer, clientId = "confidential-app", clientSecret = "not-the-secret" }))!.Str("clientHandle");
        RpcError secret = await sidecar.CallExpectingErrorAsync("obtainTokenForClient", new { clientHandle = wrongSecret });
        Assert.Equal(-32003, secret.Code);
        Assert.Equal("invalid_client", secret.DataString("error"));
        Assert.Equal(401, secret.Data!["status"]!.GetValue<int>());
        Assert.DoesNotContain("not-the-secret", sidecar.AllDiagnostics(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_slower_than_timeout_seconds_is_unreachable_with_a_reason()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    held.Add(await silent.AcceptSocketAsync());
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });

        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        RpcError discovery = await sidecar.CallExpectingErrorAsync("createClient", new { issuer = $"http://127.0.0.1:{port}", clientId = "x", timeoutSeconds = 1 });
        Assert.Equal(-32006, discovery.Code);
        Assert.Contains("in time", discovery.Message, StringComparison.Ordinal);

        string client = (await sidecar.CallAsync("createClient", new { serverConfiguration = new { tokenEndpoint = $"http://127.0.0.1:{port}/token" }, clientId = "x", timeoutSeconds = 1 }))!.Str("clientHandle");
        RpcError token = await sidecar.CallExpectingErrorAsync("obtainTokenForClient", new { clientHandle = client });
        Assert.Equal(-32006, token.Code);
        Assert.Contains("1 s", token.DataString("reason"), StringComparison.Ordinal);
        foreach (Socket socket in held)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task Custom_pages_from_create_client_are_shown_and_a_missing_file_falls_back()
    {
        IdpServer idp = await IdpServer.Shared;
        string dir = TestTemp.CreateDirectory("pages").FullName;
        string success = Path.Combine(dir, "ok.html");
        File.WriteAllText(success, "<html><body><h1>Welcome back to Acme</h1></body></html>");
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        string client = (await sidecar.CallAsync("createClient", new
        {
            issuer = idp.Issuer,
            clientId = "native-app",
            scopes = Sign.OpenIdScopes,
            pages = new { successHtmlPath = success, errorHtmlPath = Path.Combine(dir, "missing.html") },
        }))!.Str("clientHandle");
        await sidecar.WaitForStderrAsync("missing.html"); // logged (stderr and window/logMessage)

        JsonObject flow = await Sign.InitiateAsync(sidecar, client);
        JsonObject delivered = await idp.AuthorizeAsync(flow.Str("authUri"));
        Assert.Contains("Welcome back to Acme", delivered.Str("body"), StringComparison.Ordinal);

        JsonObject denied = await Sign.InitiateAsync(sidecar, client);
        JsonObject refused = await idp.AuthorizeAsync(denied.Str("authUri"), deny: true);
        Assert.Contains("Authentication could not be completed", refused.Str("body"), StringComparison.Ordinal);
        Assert.Contains("access_denied", refused.Str("body"), StringComparison.Ordinal);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        string s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
