using OAuthSidecar.Core.Diagnostics;

namespace OAuthSidecar.Core.Tests;

public class SecretRedactorTests
{
    [Fact]
    public void A_registered_secret_is_masked_wherever_it_appears()
    {
        var redactor = new SecretRedactor();
        redactor.Register("s3cr3t-value");

        string result = redactor.Redact("before s3cr3t-value middle Xs3cr3t-valueX and at the end s3cr3t-value");

        Assert.Equal("before [redacted] middle X[redacted]X and at the end [redacted]", result);
        Assert.DoesNotContain("s3cr3t-value", result, StringComparison.Ordinal);
        Assert.Equal(1, redactor.Count);
    }

    [Fact]
    public void Several_registered_secrets_are_all_masked()
    {
        var redactor = new SecretRedactor();
        redactor.Register("first-secret");
        redactor.Register("second-secret");

        string result = redactor.Redact("a first-secret b second-secret c");

        Assert.Equal("a [redacted] b [redacted] c", result);
        Assert.Equal(2, redactor.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("abcde")]
    public void Values_shorter_than_six_characters_are_not_registered(string? value)
    {
        var redactor = new SecretRedactor();
        redactor.Register(value);

        Assert.Equal(0, redactor.Count);
        if (value is { Length: > 0 })
        {
            Assert.Equal($"the {value} stays", redactor.Redact($"the {value} stays"));
        }
    }

    [Fact]
    public void A_six_character_value_is_registered()
    {
        var redactor = new SecretRedactor();
        redactor.Register("abcdef");

        Assert.Equal(1, redactor.Count);
        Assert.Equal("x [redacted] y", redactor.Redact("x abcdef y"));
    }

    [Fact]
    public void Registering_the_same_value_twice_counts_once()
    {
        var redactor = new SecretRedactor();
        redactor.Register("repeated-secret");
        redactor.Register("repeated-secret");

        Assert.Equal(1, redactor.Count);
    }

    [Fact]
    public void A_code_parameter_is_masked_even_if_never_registered()
    {
        var redactor = new SecretRedactor();

        Assert.Equal("code=[redacted]&state=s", redactor.Redact("code=abc123xyz&state=s"));
    }

    [Theory]
    [InlineData("GET /callback?code=abc123xyz&state=s HTTP/1.1", "GET /callback?code=[redacted]&state=s HTTP/1.1")]
    [InlineData("grant_type=refresh_token&refresh_token=rt-1234567&client_id=c", "grant_type=refresh_token&refresh_token=[redacted]&client_id=c")]
    [InlineData("client_secret=hunter2 and password=pw", "client_secret=[redacted] and password=[redacted]")]
    [InlineData("https://x/cb#access_token=eyJ.abc.def&token_type=Bearer", "https://x/cb#access_token=[redacted]&token_type=Bearer")]
    [InlineData("CODE=UPPER", "CODE=[redacted]")]
    [InlineData("device_code=dc&code_verifier=v", "device_code=[redacted]&code_verifier=[redacted]")]
    public void Secret_bearing_query_parameters_are_masked(string input, string expected)
    {
        Assert.Equal(expected, new SecretRedactor().Redact(input));
    }

    [Fact]
    public void A_parameter_whose_name_only_ends_in_code_is_not_masked()
    {
        var redactor = new SecretRedactor();

        Assert.Equal("error_code=42&user_code=ABCD-EFGH", redactor.Redact("error_code=42&user_code=ABCD-EFGH"));
    }

    [Fact]
    public void Json_secret_properties_are_masked()
    {
        var redactor = new SecretRedactor();
        string json = """{"access_token":"xyz.abc.def","token_type":"Bearer","refreshToken": "rt-\"quoted\"-value","expires_in":3600}""";

        string result = redactor.Redact(json);

        Assert.Equal("""{"access_token":"[redacted]","token_type":"Bearer","refreshToken": "[redacted]","expires_in":3600}""", result);
    }

    [Fact]
    public void Json_id_token_and_client_secret_are_masked()
    {
        string result = new SecretRedactor().Redact("""{ "id_token" : "eyJhbGciOi", "clientSecret":"cs" }""");

        Assert.DoesNotContain("eyJhbGciOi", result, StringComparison.Ordinal);
        Assert.DoesNotContain("\"cs\"", result, StringComparison.Ordinal);
        Assert.Contains("\"id_token\" : \"[redacted]\"", result, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_dpop_proofs_and_stored_private_keys_are_masked()
    {
        string result = new SecretRedactor().Redact("""{"proof":"eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.sig","dpopKey":{"algorithm":"ES256","pkcs8":"MIGHAgEAMBMGByqGSM49"}}""");

        Assert.Equal("""{"proof":"[redacted]","dpopKey":{"algorithm":"ES256","pkcs8":"[redacted]"}}""", result);
    }

    [Fact]
    public void Text_without_secrets_is_returned_unchanged()
    {
        var redactor = new SecretRedactor();
        redactor.Register("never-appears");
        const string text = "Token endpoint answered 400 invalid_grant for client my-app; state=abc, scope=openid";

        string result = redactor.Redact(text);

        Assert.Equal(text, result);
    }

    [Fact]
    public void Redact_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => new SecretRedactor().Redact(null!));
    }

    [Fact]
    public void The_oldest_secrets_are_forgotten_beyond_20000()
    {
        var redactor = new SecretRedactor();
        for (int i = 0; i < 20_005; i++)
        {
            redactor.Register($"secret-{i:D6}");
        }

        Assert.Equal(20_000, redactor.Count);
        Assert.Equal("secret-000000", redactor.Redact("secret-000000"));
        Assert.Equal("[redacted]", redactor.Redact("secret-020004"));
    }
}

/// <summary>URL user information and control characters (issue 14, point 8).</summary>
public sealed class RedactionEdgeTests
{
    [Theory]
    [InlineData("http://user:pass@host/x", "http://[redacted]@host/x")]
    [InlineData("discovery at https://token-as-user@idp.example failed", "discovery at https://[redacted]@idp.example failed")]
    [InlineData("mail me at alice@example.test", "mail me at alice@example.test")]
    [InlineData("https://idp.example/a@b", "https://idp.example/a@b")]
    public void User_information_in_urls_is_masked(string text, string expected) =>
        Assert.Equal(expected, new OAuthSidecar.Core.Diagnostics.SecretRedactor().Redact(text));

    [Fact]
    public void Control_characters_are_escaped_and_plain_text_is_kept()
    {
        Assert.Equal("AB\\u000ainfo\\u001b]0;x\\u0007CD", OAuthSidecar.Core.Diagnostics.SecretRedactor.EscapeControl("AB\ninfo\u001b]0;x\u0007CD"));
        const string Plain = "ABCD-EFGH é ✓";
        Assert.Same(Plain, OAuthSidecar.Core.Diagnostics.SecretRedactor.EscapeControl(Plain));
    }
}
