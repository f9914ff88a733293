using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests;

/// <summary>
/// What the token client puts on the wire (unit tests with a recording HTTP handler; the end-to-end tests prove the
/// same requests against the real provider): client authentication, extra parameters, assertions, errors.
/// </summary>
public sealed class TokenRequestTests
{
    private static readonly ServerConfiguration Server = new("https://idp.example", "https://idp.example/auth", "https://idp.example/token", JwksUri: "https://idp.example/jwks");

    [Fact]
    public async Task Client_secret_basic_form_urlencodes_id_and_secret_before_base64()
    {
        var recorder = new Recorder();
        using OAuthClient client = Create(recorder, new ClientRegistration { ClientId = "my client:1", ClientSecret = "s3cr+t/=&%" });
        await client.ClientCredentialsAsync(["api"], null, CancellationToken.None);

        AuthenticationHeaderValue auth = recorder.Requests.Single().Authorization!;
        Assert.Equal("Basic", auth.Scheme);
        string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Parameter!));
        Assert.Equal("my+client%3A1:s3cr%2Bt%2F%3D%26%25", decoded);
        Assert.DoesNotContain("client_secret", recorder.Requests.Single().Body, StringComparison.Ordinal);
        Assert.Equal("application/json", recorder.Requests.Single().Accept);
    }

    [Fact]
    public async Task Client_secret_post_sends_the_secret_in_the_body_and_no_header()
    {
        var recorder = new Recorder();
        using OAuthClient client = Create(recorder, new ClientRegistration { ClientId = "app", ClientSecret = "pw", AuthMethod = TokenEndpointAuthMethod.ClientSecretPost });
        await client.ClientCredentialsAsync([], null, CancellationToken.None);
        Recorded request = recorder.Requests.Single();
        Assert.Null(request.Authorization);
        Assert.Equal("app", request.Form["client_id"]);
        Assert.Equal("pw", request.Form["client_secret"]);
        Assert.Equal("client_credentials", request.Form["grant_type"]);
    }

    [Fact]
    public async Task Extra_token_refresh_and_auth_parameters_headers_and_audience_are_sent()
    {
        var recorder = new Recorder();
        using OAuthClient client = Create(recorder, new ClientRegistration
        {
            ClientId = "app",
            Audience = "https://api.example",
            ExtraAuthParams = new Dictionary<string, string> { ["connection"] = "github" },
            ExtraTokenParams = new Dictionary<string, string> { ["token_extra"] = "1" },
            ExtraRefreshParams = new Dictionary<string, string> { ["refresh_extra"] = "2" },
            AddAuthParamsToTokenRequest = true,
            Headers = new Dictionary<string, string> { ["X-Tenant"] = "blue" },
        });
        await client.RedeemCodeAsync("the-code", "http://127.0.0.1:1/cb", "v".PadRight(43, 'v'), [], [], null, null, CancellationToken.None);
        await client.RefreshAsync("rt-123456", ["openid"], null, CancellationToken.None);

        Recorded code = recorder.Requests[0];
        Assert.Equal("authorization_code", code.Form["grant_type"]);
        Assert.Equal("the-code", code.Form["code"]);
        Assert.Equal("http://127.0.0.1:1/cb", code.Form["redirect_uri"]);
        Assert.Equal("1", code.Form["token_extra"]);
        Assert.Equal("github", code.Form["connection"]);
        Assert.Equal("https://api.example", code.Form["audience"]);
        Assert.Equal("blue", code.Headers["X-Tenant"]);
        Assert.False(code.Form.ContainsKey("refresh_extra"));

        Recorded refresh = recorder.Requests[1];
        Assert.Equal("refresh_token", refresh.Form["grant_type"]);
        Assert.Equal("2", refresh.Form["refresh_extra"]);
        Assert.Equal("openid", refresh.Form["scope"]);
        Assert.False(refresh.Form.ContainsKey("token_extra"));
        Assert.False(refresh.Form.ContainsKey("connection"));
    }

    [Fact]
    public async Task Saml_assertions_are_base64url_encoded_as_msal_does_and_jwt_assertions_are_sent_as_is()
    {
        var recorder = new Recorder();
        using OAuthClient client = Create(recorder, new ClientRegistration { ClientId = "app", ClientSecret = "pw" });
        const string Xml = "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">ä?</saml:Assertion>";
        await client.AssertionAsync(Xml, OAuthClient.Saml2BearerGrantType, [], CancellationToken.None);
        await client.AssertionAsync("eyJ.a.b", OAuthClient.JwtBearerGrantType, ["x"], CancellationToken.None);

        string encoded = recorder.Requests[0].Form["assertion"];
        Assert.DoesNotContain('=', encoded);
        Assert.DoesNotContain('+', encoded);
        Assert.Equal(Xml, Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(encoded)));
        Assert.Equal(OAuthClient.Saml2BearerGrantType, recorder.Requests[0].Form["grant_type"]);
        Assert.Equal("eyJ.a.b", recorder.Requests[1].Form["assertion"]);
        Assert.Equal("x", recorder.Requests[1].Form["scope"]);
    }

    [Fact]
    public async Task Private_key_jwt_signs_a_fresh_assertion_for_the_token_endpoint_each_time()
    {
        using var rsa = RSA.Create(2048);
        ClientAssertionKey key = ClientAssertionKey.FromPem(rsa.ExportPkcs8PrivateKeyPem(), "k1", null, CoreOption.PrivateKey);
        Assert.Equal("RS256", key.Algorithm);
        var recorder = new Recorder();
        using OAuthClient client = Create(recorder, new ClientRegistration { ClientId = "jwt-app", AssertionKey = key });
        await client.ClientCredentialsAsync([], null, CancellationToken.None);
        await client.ClientCredentialsAsync([], null, CancellationToken.None);

        string first = recorder.Requests[0].Form["client_assertion"];
        Assert.Equal("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", recorder.Requests[0].Form["client_assertion_type"]);
        Assert.NotEqual(first, recorder.Requests[1].Form["client_assertion"]);
        TokenValidationResult result = await new JsonWebTokenHandler().ValidateTokenAsync(first, new TokenValidationParameters
        {
            ValidIssuer = "jwt-app",
            ValidAudience = "https://idp.example/token",
            IssuerSigningKey = new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "k1" },
            ValidateLifetime = false,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var token = (JsonWebToken)result.SecurityToken;
        Assert.Equal("jwt-app", token.Subject);
        Assert.Equal("k1", token.Kid);
        Assert.False(string.IsNullOrEmpty(token.Id));
        Assert.Equal(TimeSpan.FromMinutes(5), token.ValidTo - token.IssuedAt);

        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Equal("ES256", ClientAssertionKey.FromPem(ec.ExportPkcs8PrivateKeyPem(), null, null, CoreOption.PrivateKey).Algorithm);
        InvalidOptionException wrongAlg = Assert.Throws<InvalidOptionException>(() => ClientAssertionKey.FromPem(ec.ExportPkcs8PrivateKeyPem(), null, "RS256", CoreOption.PrivateKey));
        Assert.Equal(CoreOption.PrivateKey, wrongAlg.Option);
        Assert.Throws<InvalidOptionException>(() => ClientAssertionKey.FromPem("not a pem", null, null, CoreOption.PrivateKey));
    }

    [Fact]
    public async Task Oauth_errors_are_results_and_5xx_or_garbage_are_unreachable()
    {
        var recorder = new Recorder { Status = HttpStatusCode.BadRequest, Body = """{"error":"invalid_grant","error_description":"expired","error_uri":"https://idp.example/e"}""" };
        // The real clock: a refresh that meets 5xx is retried with backoff (Polly waits on the TimeProvider).
        using OAuthClient client = Create(recorder, new ClientRegistration { ClientId = "app" }, TimeProvider.System);
        TokenOutcome outcome = await client.RefreshAsync("rt-123456", [], null, CancellationToken.None);
        Assert.Equal(new OAuthError("invalid_grant", "expired", "https://idp.example/e", 400), outcome.Error);

        recorder.Status = HttpStatusCode.ServiceUnavailable;
        recorder.Body = """{"error":"temporarily_unavailable"}""";
        int before = recorder.Requests.Count;
        ServerUnreachableException fivexx = await Assert.ThrowsAsync<ServerUnreachableException>(() => client.RefreshAsync("rt-123456", [], null, CancellationToken.None));
        Assert.Equal(503, fivexx.Status);
        Assert.Equal(UnreachableKind.ServerBusy, fivexx.Kind);
        Assert.Equal(before + 1 + OAuthClient.MaxRetries, recorder.Requests.Count); // retried, then given up

        recorder.Status = HttpStatusCode.OK;
        recorder.Body = "<html>maintenance</html>";
        recorder.ContentType = "text/html";
        before = recorder.Requests.Count;
        ServerUnreachableException garbage = await Assert.ThrowsAsync<ServerUnreachableException>(() => client.RefreshAsync("rt-123456", [], null, CancellationToken.None));
        Assert.Equal("https://idp.example/token", garbage.Url);
        Assert.Equal(UnreachableKind.BrokenResponse, garbage.Kind);
        Assert.Equal(before + 1, recorder.Requests.Count); // a broken answer may hide a rotated token: no retry

        recorder.Body = """{"token_type":"Bearer"}""";
        recorder.ContentType = "application/json";
        ServerUnreachableException noToken = await Assert.ThrowsAsync<ServerUnreachableException>(() => client.RefreshAsync("rt-123456", [], null, CancellationToken.None));
        Assert.Contains("access_token", noToken.Reason, StringComparison.Ordinal);
    }

    private static OAuthClient Create(Recorder recorder, ClientRegistration registration, TimeProvider? time = null) =>
        new("c_test", registration, Server, new HttpClient(recorder), new SessionOptions { TimeProvider = time ?? new FakeTimeProvider(DateTimeOffset.UtcNow) }, new IdTokenValidator(TimeProvider.System));

    internal sealed record Recorded(string Body, Dictionary<string, string> Form, AuthenticationHeaderValue? Authorization, string? Accept, Dictionary<string, string> Headers);

    internal sealed class Recorder : HttpMessageHandler
    {
        public List<Recorded> Requests { get; } = [];

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        public string Body { get; set; } = """{"access_token":"at-123456","token_type":"Bearer","expires_in":60}""";

        public string ContentType { get; set; } = "application/json";

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
            Dictionary<string, string> form = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : string.Empty));
            this.Requests.Add(new Recorded(body, form, request.Headers.Authorization, request.Headers.Accept.ToString(), request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value))));
            return new HttpResponseMessage(this.Status) { Content = new StringContent(this.Body, Encoding.UTF8, this.ContentType), RequestMessage = request };
        }
    }
}
