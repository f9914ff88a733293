using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests;

public class AuthorizationResponseTests
{
    private const string Issuer = "https://idp.example";

    [Fact]
    public void Parse_reads_the_query_of_a_whole_redirect_url()
    {
        var p = AuthorizationResponse.Parse("http://127.0.0.1:5000/callback?code=abc&state=xyz&iss=https%3A%2F%2Fidp.example");

        Assert.Equal("abc", p["code"]);
        Assert.Equal("xyz", p["state"]);
        Assert.Equal(Issuer, p["iss"]);
        Assert.Equal(3, p.Count);
    }

    [Fact]
    public void Parse_merges_the_fragment_and_fragment_values_win()
    {
        var p = AuthorizationResponse.Parse("http://127.0.0.1/cb?state=fromquery&code=q#state=fromfragment&access_token=tok");

        Assert.Equal("fromfragment", p["state"]);
        Assert.Equal("q", p["code"]);
        Assert.Equal("tok", p["access_token"]);
    }

    [Fact]
    public void Parse_reads_a_url_with_only_a_fragment()
    {
        var p = AuthorizationResponse.Parse("http://127.0.0.1/cb#access_token=tok&state=s");

        Assert.Equal(2, p.Count);
        Assert.Equal("tok", p["access_token"]);
        Assert.Equal("s", p["state"]);
    }

    [Theory]
    [InlineData("code=abc&state=xyz")]
    [InlineData("?code=abc&state=xyz")]
    [InlineData("  ?code=abc&state=xyz\n")]
    [InlineData("#code=abc&state=xyz")]
    public void Parse_reads_bare_queries_and_fragments(string text)
    {
        var p = AuthorizationResponse.Parse(text);

        Assert.Equal(2, p.Count);
        Assert.Equal("abc", p["code"]);
        Assert.Equal("xyz", p["state"]);
    }

    [Fact]
    public void Parse_decodes_percent_encoding()
    {
        var p = AuthorizationResponse.Parse("?code=a%2Fb%20c%3D&error_description=Access%20denied%21&state=%E2%9C%93");

        Assert.Equal("a/b c=", p["code"]);
        Assert.Equal("Access denied!", p["error_description"]);
        Assert.Equal("\u2713", p["state"]);
    }

    [Fact]
    public void Parse_keeps_the_first_value_of_a_repeated_parameter()
    {
        var p = AuthorizationResponse.Parse("?code=first&code=second");

        Assert.Equal("first", p["code"]);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/callback")]
    [InlineData("https://app.example/cb")]
    [InlineData("")]
    [InlineData("   ")]
    public void Parse_returns_empty_when_there_are_no_parameters(string text)
    {
        Assert.Empty(AuthorizationResponse.Parse(text));
    }

    [Fact]
    public void Parse_reads_a_private_use_scheme_redirect_with_a_query()
    {
        var p = AuthorizationResponse.Parse("com.example.app:/oauth2redirect?code=abc&state=s");

        Assert.Equal("abc", p["code"]);
        Assert.Equal("s", p["state"]);
    }

    [Fact]
    public void Parse_returns_empty_for_a_private_use_scheme_url_without_query()
    {
        Assert.Empty(AuthorizationResponse.Parse("com.example.app:/oauth2redirect"));
    }

    [Fact]
    public void Parse_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => AuthorizationResponse.Parse(null!));
    }

    [Fact]
    public void Validate_passes_when_state_and_iss_match()
    {
        var p = Params(("code", "c"), ("state", "s1"), ("iss", Issuer));

        AuthorizationResponse.Validate(p, "s1", Issuer, issRequired: true, flowId: "f1");
    }

    [Fact]
    public void Validate_throws_on_a_wrong_state()
    {
        var p = Params(("code", "c"), ("state", "other"), ("iss", Issuer));

        var ex = Assert.Throws<StateMismatchException>(() => AuthorizationResponse.Validate(p, "s1", Issuer, issRequired: true, flowId: "f1"));

        Assert.Contains("state", ex.Reason, StringComparison.Ordinal);
        Assert.Equal("f1", ex.FlowId);
        Assert.Equal(ex.Reason, ex.Message);
    }

    [Fact]
    public void Validate_throws_on_a_state_that_is_a_prefix_of_the_expected_one()
    {
        var p = Params(("code", "c"), ("state", "s"));

        Assert.Throws<StateMismatchException>(() => AuthorizationResponse.Validate(p, "s1", null, issRequired: false, flowId: null));
    }

    [Fact]
    public void Validate_throws_on_a_missing_state()
    {
        var p = Params(("code", "c"));

        var ex = Assert.Throws<StateMismatchException>(() => AuthorizationResponse.Validate(p, "s1", null, issRequired: false, flowId: "f2"));

        Assert.Contains("state", ex.Reason, StringComparison.Ordinal);
        Assert.Equal("f2", ex.FlowId);
    }

    [Fact]
    public void Validate_skips_the_state_check_when_no_state_is_expected()
    {
        AuthorizationResponse.Validate(Params(("code", "c")), null, null, issRequired: false, flowId: null);
        AuthorizationResponse.Validate(Params(("code", "c"), ("state", "anything")), null, null, issRequired: false, flowId: null);
    }

    [Fact]
    public void Validate_throws_when_iss_is_required_but_missing()
    {
        var p = Params(("code", "c"), ("state", "s1"));

        var ex = Assert.Throws<StateMismatchException>(() => AuthorizationResponse.Validate(p, "s1", Issuer, issRequired: true, flowId: "f1"));

        Assert.Contains("iss", ex.Reason, StringComparison.Ordinal);
        Assert.Contains(Issuer, ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_passes_when_iss_is_missing_and_not_required()
    {
        AuthorizationResponse.Validate(Params(("code", "c"), ("state", "s1")), "s1", Issuer, issRequired: false, flowId: "f1");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_throws_when_iss_differs_even_if_not_required(bool issRequired)
    {
        var p = Params(("code", "c"), ("state", "s1"), ("iss", "https://evil.example"));

        var ex = Assert.Throws<StateMismatchException>(() => AuthorizationResponse.Validate(p, "s1", Issuer, issRequired, flowId: "f1"));

        Assert.Contains("iss", ex.Reason, StringComparison.Ordinal);
        Assert.Contains("https://evil.example", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_compares_iss_exactly()
    {
        var p = Params(("state", "s1"), ("iss", Issuer + "/"));

        Assert.Throws<StateMismatchException>(() => AuthorizationResponse.Validate(p, "s1", Issuer, issRequired: false, flowId: null));
    }

    [Fact]
    public void Validate_skips_the_iss_check_when_no_issuer_is_known()
    {
        AuthorizationResponse.Validate(Params(("state", "s1"), ("iss", "https://whatever.example")), "s1", null, issRequired: true, flowId: null);
    }

    [Fact]
    public void Parse_then_Validate_round_trip()
    {
        var p = AuthorizationResponse.Parse("http://127.0.0.1:1234/cb?code=c&state=st%2B1&iss=https%3A%2F%2Fidp.example");

        AuthorizationResponse.Validate(p, "st+1", Issuer, issRequired: true, flowId: null);
    }

    private static Dictionary<string, string> Params(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
