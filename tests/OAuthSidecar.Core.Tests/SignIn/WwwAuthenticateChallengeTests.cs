using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests.SignIn;

/// <summary>
/// <c>WWW-Authenticate</c> headers as resources really send them, and malformed ones. Sources: RFC 6750 §3 and §3.1,
/// RFC 9470 §3 (step-up), RFC 9728 §5.1 (resource_metadata), RFC 9449 §7.1 (DPoP), the Entra claims challenge
/// (learn.microsoft.com/entra/identity-platform/claims-challenge), GitHub's MCP server (github/github-mcp-server#1804).
/// </summary>
public sealed class WwwAuthenticateChallengeTests
{
    [Fact]
    public void RFC_6750_an_expired_token()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"");

        Assert.Equal("Bearer", c.Scheme);
        Assert.Equal("example", c.Realm);
        Assert.Equal("invalid_token", c.Error);
        Assert.Equal("The access token expired", c.ErrorDescription);
        Assert.Null(c.AcrValues);
        Assert.Null(c.MaxAge);
        Assert.Null(c.Claims);
    }

    [Fact]
    public void RFC_6750_insufficient_scope_lists_the_scopes()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer realm=\"example\", error=\"insufficient_scope\", scope=\"api:read  api:write\"");

        Assert.Equal("insufficient_scope", c.Error);
        Assert.Equal(["api:read", "api:write"], c.Scope);
    }

    [Fact]
    public void RFC_9470_acr_values()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", acr_values=\"myACR\"");

        Assert.Equal("insufficient_user_authentication", c.Error);
        Assert.Equal(["myACR"], c.AcrValues);
    }

    [Fact]
    public void RFC_9470_max_age()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer error=\"insufficient_user_authentication\", error_description=\"More recent authentication is required\", max_age=\"5\"");

        Assert.Equal(5, c.MaxAge);
        Assert.Equal("More recent authentication is required", c.ErrorDescription);
    }

    [Fact]
    public void Entra_claims_challenge_is_decoded_from_base64()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19fQ==\"");

        Assert.Equal("insufficient_claims", c.Error);
        Assert.Equal("""{"access_token":{"acrs":{"essential":true,"value":"cp1"}}}""", c.Claims);
        Assert.Equal(string.Empty, c.Realm);
        Assert.Equal("https://login.microsoftonline.com/common/oauth2/authorize", c.Parameters["authorization_uri"]);
    }

    [Fact]
    public void Entra_continuous_access_evaluation_challenge()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=\"");

        Assert.Equal("""{"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}""", c.Claims);
    }

    [Fact]
    public void A_claims_request_already_in_JSON_is_kept()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer error=\"insufficient_claims\", claims=\"{\\\"id_token\\\":{\\\"acr\\\":{\\\"essential\\\":true}}}\"");

        Assert.Equal("""{"id_token":{"acr":{"essential":true}}}""", c.Claims);
    }

    [Fact]
    public void GitHub_MCP_server_points_at_its_resource_metadata()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Bearer error=\"invalid_request\", error_description=\"No access token was provided in this request\", resource_metadata=\"https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp\"");

        Assert.Equal("invalid_request", c.Error);
        Assert.Equal("https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp", c.ResourceMetadata);
    }

    [Fact]
    public void RFC_9728_resource_metadata_alone()
    {
        Assert.Equal("https://resource.example.com/.well-known/oauth-protected-resource", WwwAuthenticateChallenge.Parse("Bearer resource_metadata=\"https://resource.example.com/.well-known/oauth-protected-resource\"").ResourceMetadata);
    }

    [Fact]
    public void The_OAuth_challenge_is_chosen_among_several_and_a_DPoP_one_is_read()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("Basic realm=\"simple\", DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\", algs=\"ES256 PS256\"");

        Assert.Equal("DPoP", c.Scheme);
        Assert.Equal("use_dpop_nonce", c.Error);
        Assert.Equal("ES256 PS256", c.Parameters["algs"]);
        Assert.Equal(2, WwwAuthenticateChallenge.ParseAll("Basic realm=\"simple\", DPoP algs=\"ES256 PS256\"").Count);
    }

    [Fact]
    public void Quoted_strings_keep_commas_and_escaped_quotes_and_names_are_case_insensitive()
    {
        ResourceChallenge c = WwwAuthenticateChallenge.Parse("bearer Error=invalid_token, ERROR_DESCRIPTION=\"say \\\"hi\\\", then go\", realm = \"a b\"");

        Assert.Equal("bearer", c.Scheme);
        Assert.Equal("invalid_token", c.Error);
        Assert.Equal("say \"hi\", then go", c.ErrorDescription);
        Assert.Equal("a b", c.Realm);
    }

    [Fact]
    public void A_token68_challenge_and_a_bare_scheme_are_read()
    {
        AuthenticationChallenge negotiate = Assert.Single(WwwAuthenticateChallenge.ParseAll("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg=="));
        Assert.Equal("YIIBhwYGKwYBBQUCoIIBezCCAXeg==", negotiate.Token68);
        Assert.Empty(negotiate.Parameters);

        ResourceChallenge bare = WwwAuthenticateChallenge.Parse("Bearer");
        Assert.Equal("Bearer", bare.Scheme);
        Assert.Empty(bare.Parameters);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    [InlineData("Bearer error=\"unterminated", "is not a WWW-Authenticate value")]
    [InlineData("=foo", "is not a WWW-Authenticate value")]
    [InlineData("Bearer ,, realm=x", "is not a WWW-Authenticate value")]
    [InlineData("Bearer realm=x y", "not name=value pairs")]
    [InlineData("Bearer error=a, error=b", "twice")]
    [InlineData("Bearer max_age=\"soon\"", "max_age")]
    [InlineData("Bearer max_age=\"-5\"", "max_age")]
    [InlineData("Bearer error=\"insufficient_claims\", claims=\"not base64 at all!\"", "claims")]
    [InlineData("Bearer claims=\"WzEsMl0=\"", "not a JSON object")]
    public void A_malformed_header_is_an_invalid_option_naming_the_field(string header, string problem)
    {
        InvalidOptionException error = Assert.Throws<InvalidOptionException>(() => WwwAuthenticateChallenge.Parse(header));

        Assert.Equal(CoreOption.WwwAuthenticate, error.Option);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
    }
}
